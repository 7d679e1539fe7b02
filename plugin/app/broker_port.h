// What the plugin core needs from the broker.
//
// BrokerPort is implemented by plugin/broker (the only code that knows Mosquitto) and by test
// fakes. Its methods are called on the broker thread only.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "plugin/common/outbox.h"

namespace c8y::app {

using common::LogLevel;
// Where components write log lines (the broker log, through the port).
using Log = std::function<void(LogLevel, const std::string&)>;

class BrokerPort {
 public:
  virtual ~BrokerPort() = default;
  // Sends a message to one connected client only (no subscription or ACL involved).
  virtual void publish(const std::string& client_id, const std::string& topic,
                       std::string_view payload, int qos) = 0;
  virtual void kick(const std::string& client_id) = 0;
  virtual void log(LogLevel level, const std::string& message) = 0;
};

}  // namespace c8y::app
