// Real-time streams for applications (policy/streams.h): a change is rendered and published only
// while an admin of its tenant holds a subscription, counted per tenant. One job: decide whether
// anyone listens and publish on the notification and processing topics the mode reaches.
// Broker thread only. Depends on: the BrokerPort, policy (topics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "plugin/app/broker_port.h"
#include "plugin/policy/topic_route.h"

namespace c8y::app {

class StreamPublisher {
 public:
  explicit StreamPublisher(BrokerPort& port) : port_(port) {}

  // An admin of `tenant` subscribed to n filters, or dropped n of them (unsubscribe, disconnect).
  void subscribed(std::string_view tenant, size_t n = 1);
  void unsubscribed(std::string_view tenant, size_t n);
  // Whether anything published for `tenant` would reach a listener (no allocation).
  bool wanted(std::string_view tenant) const;
  // Publishes a change of `api` (inventory, measurements, events, alarms, operations) of `device`
  // on the streams `mode` reaches; nothing is rendered when nobody listens.
  void publish(std::string_view tenant, policy::Mode mode, std::string_view api, uint64_t device,
               std::string_view action, const nlohmann::json& data);
  // A stream message rendered elsewhere (the REST API, through the outbox), on
  // tenants/<tenant>/...: sent only if that tenant has listeners.
  void forward(const std::string& topic, std::string_view payload);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  BrokerPort& port_;
  std::unordered_map<std::string, size_t, Hash, std::equal_to<>> listeners_;  // tenant -> filters
};

}  // namespace c8y::app
