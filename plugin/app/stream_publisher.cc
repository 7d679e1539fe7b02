#include "plugin/app/stream_publisher.h"

#include "plugin/policy/streams.h"

namespace c8y::app {

void StreamPublisher::subscribed(std::string_view tenant, size_t n) {
  auto it = listeners_.find(tenant);
  if (it == listeners_.end())
    listeners_.emplace(std::string(tenant), n);
  else
    it->second += n;
}

void StreamPublisher::unsubscribed(std::string_view tenant, size_t n) {
  auto it = listeners_.find(tenant);
  if (it == listeners_.end()) return;
  if (it->second <= n)
    listeners_.erase(it);
  else
    it->second -= n;
}

bool StreamPublisher::wanted(std::string_view tenant) const {
  return !listeners_.empty() && listeners_.find(tenant) != listeners_.end();
}

void StreamPublisher::publish(std::string_view tenant, policy::Mode mode, std::string_view api,
                              uint64_t device, std::string_view action,
                              const nlohmann::json& data) {
  if (!wanted(tenant)) return;  // nobody listens: render nothing
  const auto targets = policy::stream_targets(mode);
  const std::string payload = policy::stream_payload(action, data);
  if (targets.notification)
    port_.publish("", policy::stream_topic(tenant, false, api, device), payload, 0);
  if (targets.processing)
    port_.publish("", policy::stream_topic(tenant, true, api, device), payload, 0);
}

void StreamPublisher::forward(const std::string& topic, std::string_view payload) {
  std::string_view t(topic);
  if (t.starts_with("tenants/")) t.remove_prefix(8);
  if (!wanted(t.substr(0, t.find('/')))) return;
  port_.publish("", topic, payload, 0);
}

}  // namespace c8y::app
