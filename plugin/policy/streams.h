// The real-time streams for applications: ordinary MQTT topics in a tenant-private namespace.
//
// Topics: tenants/<tenant>/notifications/<api>/<device id>  (stored and transient data)
//         tenants/<tenant>/processing/<api>/<device id>     (every processing mode)
// <api>: inventory, measurements, events, alarms, operations; <device id>: the managed-object id
// the data belongs to (the source device; for inventory the object itself).
// Payload: {"realtimeAction": "CREATE" | "UPDATE" | "DELETE", "data": <Cumulocity JSON>}.
// Only the tenant's admin users may subscribe (policy/topic_policy.h); messages go out with QoS 0
// and retain 0.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "plugin/policy/topic_route.h"

namespace c8y::policy {

inline std::string stream_topic(std::string_view tenant, bool processing, std::string_view api,
                                uint64_t device) {
  std::string t = "tenants/";
  t.append(tenant);
  t.append(processing ? "/processing/" : "/notifications/");
  t.append(api);
  t.push_back('/');
  t.append(std::to_string(device));
  return t;
}

inline std::string stream_payload(std::string_view action, const nlohmann::json& data) {
  nlohmann::json j = {{"realtimeAction", action}, {"data", data}};
  return j.dump();
}

// Which streams a change made in `mode` reaches: persistent and transient
// data are notified; every mode reaches the processing stream.
struct StreamTargets {
  bool notification = false;
  bool processing = false;
};

inline StreamTargets stream_targets(policy::Mode mode) {
  switch (mode) {
    case policy::Mode::kPersistent:
    case policy::Mode::kTransient:
      return {true, true};
    case policy::Mode::kQuiescent:
    case policy::Mode::kCep:
      return {false, true};
  }
  return {true, true};
}

}  // namespace c8y::policy
