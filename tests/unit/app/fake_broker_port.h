// A BrokerPort that records what the core asks of the broker, for unit tests of plugin/app
// without Mosquitto. Single-threaded like the real one (the core calls it on its own thread).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/app/broker_port.h"

namespace c8y::testing {

class FakeBrokerPort : public app::BrokerPort {
 public:
  struct Published {
    std::string client_id;  // "" for a message routed by subscription (streams)
    std::string topic;
    std::string payload;
    int qos = 0;
  };

  void publish(const std::string& client_id, const std::string& topic, std::string_view payload,
               int qos) override {
    published.push_back({client_id, topic, std::string(payload), qos});
  }
  void kick(const std::string& client_id) override { kicked.push_back(client_id); }
  void log(app::LogLevel level, const std::string& message) override {
    logs.emplace_back(level, message);
  }

  // The payloads sent to `client_id` on `topic`, in order.
  std::vector<std::string> sent(std::string_view client_id, std::string_view topic) const {
    std::vector<std::string> out;
    for (auto& p : published)
      if (p.client_id == client_id && p.topic == topic) out.push_back(p.payload);
    return out;
  }
  bool logged(std::string_view part) const {
    return std::any_of(logs.begin(), logs.end(),
                       [&](auto& l) { return l.second.find(part) != std::string::npos; });
  }
  void clear() {
    published.clear();
    kicked.clear();
    logs.clear();
  }

  std::vector<Published> published;
  std::vector<std::string> kicked;
  std::vector<std::pair<app::LogLevel, std::string>> logs;
};

}  // namespace c8y::testing
