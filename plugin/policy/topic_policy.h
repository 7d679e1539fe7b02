// The topic policy (ACL): one table per role. Everything not in the table is denied.
//
//   Role       WRITE (publish, last will)       SUBSCRIBE / UNSUBSCRIBE            READ
//   ---------  -------------------------------  ---------------------------------  ------------
//   device     every topic route_upstream()     s/ds s/dd s/dt s/e s/dat           never
//              accepts, except s/ucr            s/dc/<X-ID> s/dc/+ s/dc/#
//                                               error devicecontrol/notifications
//                                               notification/operations
//   bootstrap  s/ucr                            s/dcr s/e                          never
//   admin of T never                            stream filters of T (below)        stream topics
//                                                                                  of T (below)
//
// Stream topics: tenants/T/<stream>/<api>/<device id>, stream in {notifications,
// processing}, api in {inventory, measurements, events, alarms, operations}, device id one
// non-empty level. An admin may subscribe to a filter of that shape in which any level after T
// may be '+' and the last level may be '#' (also as a sixth level: ".../<device id>/#" matches
// the device's own topic). The tenant level is compared whole and must be literal, so
// "tenants/+/...", "tenants/#" and "tenants/t1/..." for an admin of t10 are denied. Filters that
// cannot match any stream topic (extra levels, empty levels, unknown literal stream or api) are
// denied. READ is allowed for a concrete stream topic of T only.
//
// Why devices never READ: every downstream message is sent by the plugin to one client id
// (mosquitto_broker_publish with a client id), which Mosquitto delivers without a READ check.
// Denying READ guarantees a device never receives another client's message, even if something
// publishes to a device topic or a subscription matches more than intended. Consequence: QoS 1/2
// messages still queued for an offline persistent session are READ-checked on reconnect and
// dropped; operations survive that because they live in storage and are re-sent on subscribe
// (and on 500).
//
// For every role and access: an empty topic, a topic starting with '$' ($share/, $SYS/,
// $CONTROL/, ...), a topic containing NUL or longer than kMaxTopicLength, and a caller whose
// tenant is not [a-z0-9]{1,32} are denied. The admin of tenant "management" is an admin of that
// tenant like any other (its extra power, creating and deleting tenants, is REST-only).
//
// Filters reach here already validated by Mosquitto (wildcards only as whole levels, '#' last),
// but allowed() does not rely on that: a malformed wildcard is denied.
#pragma once

#include <cstdint>
#include <string_view>

namespace c8y::policy {

// device: its own topics; admin: its tenant's REST API and streams (the management admin also
// creates and deletes tenants); bootstrap: the bootstrap user (s/ucr polls, s/dcr).
enum class Role : uint8_t { kDevice, kAdmin, kBootstrap };
enum class Access : uint8_t { kRead, kWrite, kSubscribe, kUnsubscribe };

struct Caller {
  Role role;
  std::string_view tenant;  // [a-z0-9]{1,32}; the bootstrap user's tenant is "management"
};

// Whether `caller` may perform `access` on `topic_or_filter` (a topic for READ/WRITE, a filter
// for SUBSCRIBE/UNSUBSCRIBE). Never allocates, never throws.
bool allowed(const Caller& caller, Access access, std::string_view topic_or_filter) noexcept;

}  // namespace c8y::policy
