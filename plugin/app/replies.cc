#include "plugin/app/replies.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "plugin/policy/topic_match.h"
#include "plugin/smartrest/csv.h"

namespace c8y::app {

const SessionExtra Session::kNoExtra{};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool DeviceReplies::subscribed(const Session& s, std::string_view topic) {
  for (auto& [f, q] : s.subscriptions)
    if (policy::topic_matches(f, topic)) return true;
  return false;
}

void DeviceReplies::reply(const Session& s, std::string_view topic, const std::string& payload) {
  int qos = -1;
  for (auto& [f, q] : s.subscriptions)
    if (policy::topic_matches(f, topic)) qos = std::max(qos, q);
  if (qos < 0) return;
  if (s.space) s.space->metrics.sent_bytes.add(payload.size());
  port_.publish(s.client_id, std::string(topic), payload, qos);
}

void DeviceReplies::error_line(const Session& s, int code, std::string_view msg_id,
                               std::string_view text) {
  if (s.space) s.space->metrics.errors_sent.add();
  std::string line = std::to_string(code);
  line.push_back(',');
  smartrest::append_csv_field(line, msg_id);
  line.push_back(',');
  smartrest::append_csv_field(line, text);
  reply(s, "s/e", line);
}

void DeviceReplies::reply_lines(const Session& s, std::string_view topic,
                                const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  std::string out;
  for (auto& l : lines) {
    if (!out.empty()) out.push_back('\n');
    out += l;
  }
  reply(s, topic, out);
}

void DeviceReplies::json_error(const Session& s, const std::string& error,
                               const std::string& message) {
  if (s.space) s.space->metrics.errors_sent.add();
  reply(s, "error",
        nlohmann::json{{"error", error}, {"message", message}, {"messageId", s.json_messages}}
            .dump());
}

void DeviceReplies::finish_lines(const Session& s, const storage::StoreStatus& st, size_t errors,
                                 MessageDecision* decision) {
  if (!st.ok()) {
    log(LogLevel::kError, "c8y: storage failure for " + s.client_id + ": " + st.message);
    *decision = MessageDecision::kRefuse;
    return;
  }
  if (errors > kMaxErrorsPerPublish)
    error_line(
        s, 45, "",
        std::to_string(errors - kMaxErrorsPerPublish) + " more lines of this message rejected");
}

}  // namespace c8y::app
