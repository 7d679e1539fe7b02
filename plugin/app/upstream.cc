#include "plugin/app/upstream.h"

#include <nlohmann/json.hpp>
#include <string>

#include "plugin/common/values.h"
#include "plugin/policy/topic_policy.h"
#include "plugin/policy/topic_route.h"

namespace c8y::app {

MessageDecision UpstreamRouter::publish(Session& s, std::string_view topic,
                                        std::string_view payload, size_t packet_size) {
  if (s.space) s.space->metrics.received_bytes.add(payload.size());
  auto route = policy::route_upstream(topic);
  const bool json = route && route->channel == policy::Channel::kJson;
  if (packet_size > options_.message_size_limit) {
    std::string text = "Message too large: " + std::to_string(packet_size) +
                       " bytes exceeds the limit of " +
                       std::to_string(options_.message_size_limit) + " bytes";
    if (json) {
      nlohmann::json e = {{"error", "general/messageTooLarge"}, {"message", text}};
      replies_.reply(s, "error", e.dump());
    } else {
      replies_.error_line(s, 45, "", text);
    }
    return MessageDecision::kDrop;
  }
  if (!route) {
    replies_.error_line(s, 40, "", "Unsupported topic: " + common::echo_value(topic));
    return MessageDecision::kDrop;
  }
  switch (route->channel) {
    case policy::Channel::kStatic:
    case policy::Channel::kJson:
    case policy::Channel::kTemplates:
    case policy::Channel::kCustom:
    case policy::Channel::kDefault:
      if (quotas_.admit_message(s, *route)) return MessageDecision::kDrop;
      break;
    case policy::Channel::kBootstrap:  // rate-limited on their own (bootstrap, token requests)
    case policy::Channel::kToken:
    case policy::Channel::kSmartRest1:
      break;
  }
  MessageDecision decision = MessageDecision::kAccept;
  switch (route->channel) {
    case policy::Channel::kStatic:
      static_templates_.handle(s, *route, payload, &decision);
      break;
    case policy::Channel::kBootstrap:
      if (s.role == policy::Role::kBootstrap) credentials_.bootstrap_poll(s);
      break;
    case policy::Channel::kToken:
      if (s.role == policy::Role::kDevice) credentials_.token_request(s);
      break;
    case policy::Channel::kSmartRest1:
      replies_.error_line(s, 40, "", "SmartREST 1.0 is not supported (decision D20)");
      break;
    case policy::Channel::kJson:
      json_.handle(s, *route, payload, &decision);
      break;
    case policy::Channel::kTemplates:
      if (s.role == policy::Role::kDevice) custom_templates_.define(s, route->xid, payload);
      break;
    case policy::Channel::kCustom:
    case policy::Channel::kDefault:
      if (s.role == policy::Role::kDevice) custom_templates_.use(s, *route, payload, &decision);
      break;
  }
  return decision;
}

void UpstreamRouter::will(Session& s, std::string_view topic, std::string_view payload) {
  if (s.role != policy::Role::kDevice) return;
  if (!policy::allowed(policy::Caller{s.role, s.tenant}, policy::Access::kWrite, topic)) return;
  const bool had_device = s.device_id != 0;
  // The message cap counts the whole PUBLISH packet; a will has no packet of its own: topic,
  // payload and the fixed header approximate it.
  // A will has no PUBACK to give or withhold: what publish decides changes nothing.
  (void)publish(s, topic, payload, topic.size() + payload.size() + 4);
  if (!had_device && s.device_id) presence_.set(s.space, s.device_id, false);
  replies_.log(LogLevel::kInfo,
               "c8y: last will of " + s.client_id + " on " + std::string(topic) + " processed");
}

}  // namespace c8y::app
