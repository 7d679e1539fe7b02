// Replies: what the core says back to one device. One job: send on a topic only if the
// connection subscribed to it (at the highest QoS it was granted), and the shapes of the answers
// (an s/e line, several lines in one publish, a JSON error on `error`, the end of a publish of
// SmartREST lines). Broker thread only. Depends on: the BrokerPort, policy (topic matching),
// smartrest (CSV quoting).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/app/broker_port.h"
#include "plugin/app/session.h"
#include "storage/store.h"

namespace c8y::app {

class DeviceReplies {
 public:
  explicit DeviceReplies(BrokerPort& port) : port_(port) {}

  // At most this many s/e error lines per publish, then one summary line (the other lines are
  // still processed; finish_lines).
  static constexpr size_t kMaxErrorsPerPublish = 10;

  // Whether one of the session's filters matches `topic`.
  static bool subscribed(const Session& s, std::string_view topic);
  // Sends `payload` on `topic` to the session's client if it subscribed to it (nothing otherwise).
  void reply(const Session& s, std::string_view topic, const std::string& payload);
  // `code,msg_id,text` on s/e.
  void error_line(const Session& s, int code, std::string_view msg_id, std::string_view text);
  // All lines of one render in one publish (no line end after the last); nothing when empty.
  void reply_lines(const Session& s, std::string_view topic, const std::vector<std::string>& lines);
  // {"error", "message", "messageId"} on `error` (JSON via MQTT).
  void json_error(const Session& s, const std::string& error, const std::string& message);
  // The end of a publish of SmartREST lines: a storage failure refuses the whole message (no
  // PUBACK, the device resends; logged); more than kMaxErrorsPerPublish rejected lines get one
  // summary line.
  void finish_lines(const Session& s, const storage::StoreStatus& st, size_t errors,
                    MessageDecision* decision);
  void log(LogLevel level, const std::string& message) { port_.log(level, message); }

 private:
  BrokerPort& port_;
};

}  // namespace c8y::app
