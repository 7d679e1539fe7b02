// Upstream topic grammar: which channel a device PUBLISH (or last will) belongs to.
//
// Pure and allocation-free: every string_view in a TopicRoute points into the topic passed to
// route_upstream(), so the route is valid only as long as that topic is.
//
// Accepted topics (m = s|t|q|c; X = X-ID; C = child external id):
//
//   m/us            m/us/C            static templates (own device / child)
//   m/uc/X          m/uc/X/C          custom templates of collection X
//   m/ud            m/ud/C            custom templates of the default X-ID (from the client id)
//   m/ul/X                            SmartREST 1.0: routed only so the caller can answer with an
//                                     s/e error (SmartREST 1.0 is not supported)
//   s/ut/X                            template collection creation/query (s only)
//   s/ucr                             bootstrap poll (s only)
//   s/uat                             JWT request (s only)
//   [t/|q/|c/][/]A/R/Act[/Id]         JSON via MQTT, A in {event, alarm, measurement,
//                                     inventory}; no prefix = persistent ("s/" is never JSON);
//                                     an optional empty level before A is a leading '/'
//   [t/|q/|c/][/]inventory/managedObjects/P/childDevices/Act
//                                     JSON child-device reference: json_resource is
//                                     "childDevices", json_parent_id is P, json_id is empty
//
// R, Act, Id and P are any non-empty level: the domain layer answers unsupported combinations
// (e.g. "alarm/alarms/delete") with a JSON error, so they are not rejected here. The thin-edge
// forms "inventory/managedObjects/update[/<externalId>]" are ordinary A/R/Act[/Id] routes; what
// Id means (internal or external id) is the domain layer's call.
//
// Every level an id lives in (X, C, Id, P) is non-empty and contains no '/', '+', '#' or NUL.
// Anything else is rejected: downstream topics, empty levels, extra levels, wildcards anywhere,
// NUL bytes, topics starting with '$', and topics longer than an MQTT topic can be (65535 bytes).
//
// The mode is the prefix as written. Which modes apply to which data (t for measurements,
// events and alarms; q and c for measurements and events; everything else persistent) is decided
// by the domain layer, which knows what the payload creates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace c8y::policy {

// Longest topic MQTT can carry (a two-byte length prefix).
inline constexpr size_t kMaxTopicLength = 65535;

enum class Mode : uint8_t { kPersistent, kTransient, kQuiescent, kCep };  // s t q c

enum class Channel : uint8_t {
  kStatic,      // {m}/us[/<child>]
  kCustom,      // {m}/uc/<xid>[/<child>]
  kDefault,     // {m}/ud[/<child>]  (default X-ID from the client id)
  kTemplates,   // s/ut/<xid>
  kBootstrap,   // s/ucr
  kToken,       // s/uat
  kSmartRest1,  // {m}/ul/<xid>  (not supported: the caller answers with an s/e error)
  kJson,        // [t/|q/|c/][/]<api>/<resource>/<action>[/<id>]  (optional leading '/')
};

struct TopicRoute {
  Mode mode = Mode::kPersistent;
  Channel channel = Channel::kStatic;
  std::string_view xid;    // kCustom, kTemplates, kSmartRest1
  std::string_view child;  // child external id (kStatic, kCustom, kDefault); empty when none
  // kJson only. json_api is one of event, alarm, measurement, inventory.
  std::string_view json_api;
  std::string_view json_resource;   // "events", "managedObjects", ...; "childDevices" (see top)
  std::string_view json_action;     // "create", "createBulk", "update", "delete", ...
  std::string_view json_id;         // the trailing /<id>; empty when absent
  std::string_view json_parent_id;  // P of inventory/managedObjects/P/childDevices/<action>

  friend bool operator==(const TopicRoute&, const TopicRoute&) = default;
};

// The route of an upstream (device -> platform) topic, or nullopt for anything that is not one
// (see the grammar above). Never allocates, never throws.
std::optional<TopicRoute> route_upstream(std::string_view topic) noexcept;

// "PERSISTENT", "TRANSIENT", "QUIESCENT", "CEP" (the platform's processing-mode names).
const char* mode_name(Mode mode) noexcept;
// "static", "custom", "default", "templates", "bootstrap", "token", "smartrest1", "json".
const char* channel_name(Channel channel) noexcept;

// True when `level` can be one id level of a topic: non-empty, no '/', '+', '#' or NUL.
bool is_id_level(std::string_view level) noexcept;

}  // namespace c8y::policy
