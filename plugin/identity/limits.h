// A tenant's limits as its record carries them: `options.limits` of the tenant (REST, the
// provisioning file), each one over the node's default (plugin_opt_limit_*).
//
//   "options": {"limits": {"devices": 100, "deviceMessagesPerSecond": 10,
//                          "tenantMessagesPerSecond": 500, "storedBytes": 1073741824,
//                          "restRequestsPerSecond": 20}}
//
// A key that is absent takes the node's default; 0 means no limit (also over a default).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "plugin/common/limits.h"

namespace c8y::identity {

// An error text when `options.limits` is present and not as above (unknown key, not a
// non-negative number, devices or storedBytes not an integer).
std::optional<std::string> check_limits(const nlohmann::json& options);
// The tenant's effective limits; an invalid entry is ignored (the default applies).
common::Limits effective_limits(const nlohmann::json& options, const common::Limits& defaults);

}  // namespace c8y::identity
