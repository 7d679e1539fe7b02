#include "plugin/identity/limits.h"

#include <cmath>
#include <string_view>

namespace c8y::identity {
namespace {

using nlohmann::json;

struct Field {
  const char* key;
  bool integer;
};
constexpr Field kFields[] = {{"devices", true},
                             {"deviceMessagesPerSecond", false},
                             {"tenantMessagesPerSecond", false},
                             {"storedBytes", true},
                             {"restRequestsPerSecond", false}};

bool valid(const json& v, bool integer) {
  if (integer) return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= 0 &&
         v.get<double>() <= 1e9;
}

const json* limits_of(const json& options) {
  if (!options.is_object()) return nullptr;
  auto it = options.find("limits");
  return it == options.end() ? nullptr : &*it;
}

}  // namespace

std::optional<std::string> check_limits(const json& options) {
  const json* l = limits_of(options);
  if (!l) return std::nullopt;
  if (!l->is_object()) return "options.limits must be an object";
  for (auto& [key, value] : l->items()) {
    const Field* f = nullptr;
    for (auto& candidate : kFields)
      if (key == candidate.key) f = &candidate;
    if (!f)
      return "options.limits." + key +
             " is not a limit (devices, deviceMessagesPerSecond, tenantMessagesPerSecond, "
             "storedBytes, restRequestsPerSecond)";
    if (!valid(value, f->integer))
      return "options.limits." + key +
             (f->integer ? " must be a non-negative integer" : " must be a number 0..1000000000") +
             " (0: no limit)";
  }
  return std::nullopt;
}

common::Limits effective_limits(const json& options, const common::Limits& defaults) {
  common::Limits out = defaults;
  const json* l = limits_of(options);
  if (!l || !l->is_object()) return out;
  auto take_int = [&](const char* key, uint64_t* into) {
    auto it = l->find(key);
    if (it != l->end() && valid(*it, true)) *into = it->get<uint64_t>();
  };
  auto take_rate = [&](const char* key, double* into) {
    auto it = l->find(key);
    if (it != l->end() && valid(*it, false)) *into = it->get<double>();
  };
  take_int("devices", &out.devices);
  take_rate("deviceMessagesPerSecond", &out.device_messages_per_s);
  take_rate("tenantMessagesPerSecond", &out.tenant_messages_per_s);
  take_int("storedBytes", &out.stored_bytes);
  take_rate("restRequestsPerSecond", &out.rest_requests_per_s);
  return out;
}

}  // namespace c8y::identity
