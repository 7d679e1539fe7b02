// Per-tenant limits on the MQTT side: one job, deciding whether a tenant's device may connect or
// publish now. The limits themselves (common/limits.h) are a tenant's options.limits over the
// node's defaults (identity/limits.h); refresh() applies them to the tenant spaces, where the
// REST server reads its own (the REST request rate) too.
//
// - Devices: a CONNECT of a device beyond the tenant's limit of connected devices is refused
//   (CONNACK 5 / v5 0x87: Mosquitto 2.0.11 lets a plugin send no other code). A device that is
//   connected already (a reconnect, a takeover) is always let in: it replaces its connection.
// - Messages: a device's PUBLISH packets take a token from the device's bucket and from its
//   tenant's; a bucket holds `limit_burst_seconds` of its rate, so a burst at start or after a
//   quiet spell passes. A refused message is not processed (nothing is stored), is acknowledged
//   (v5: PUBACK 0x87), and the device is told on s/e (or `error` for JSON topics) at most once a
//   second. The connection stays open.
// - Stored bytes: while a tenant's column family is over its limit (checked every 5 seconds),
//   its devices' messages are refused the same way.
// Broker thread only (refresh from TICK). Depends on: identity (tenant options), the tenant
// spaces, storage (family sizes), the DeviceReplies.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "plugin/app/options.h"
#include "plugin/app/replies.h"
#include "plugin/app/session.h"
#include "plugin/common/limits.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/directory.h"
#include "plugin/policy/topic_route.h"
#include "storage/store.h"

namespace c8y::app {

class Quotas {
 public:
  Quotas(const Options& options, identity::Directory& directory, domain::TenantSpaces& spaces,
         storage::Store& store, DeviceReplies& replies)
      : options_(options),
        directory_(directory),
        spaces_(spaces),
        store_(store),
        replies_(replies) {}

  // Applies every tenant's effective limits (once a second) and checks stored bytes (every 5
  // seconds); `force`: both now.
  void refresh(std::chrono::steady_clock::time_point now, bool force = false);
  // A device's CONNECT: false when its tenant has as many devices connected as it may and this
  // one is not among them (`already_live`).
  bool admit_device(domain::TenantSpace& space, bool already_live) const;
  // A device's PUBLISH: the limit that refuses it, if any. A refusal is counted, and reported to
  // the device (at most once a second) on the route's error topic. Reads the clock only when
  // the tenant has a rate limit.
  std::optional<common::LimitKind> admit_message(Session& s, const policy::TopicRoute& route) {
    if (!s.space) return std::nullopt;
    const common::TenantLimits& l = s.space->limits;
    if (!l.over_storage() && l.device_rate() == 0 && l.tenant_rate() == 0) return std::nullopt;
    return admit_message_at(s, route, steady_ns());
  }
  // The same at `now_ns` (steady clock, nanoseconds).
  std::optional<common::LimitKind> admit_message_at(Session& s, const policy::TopicRoute& route,
                                                    int64_t now_ns);
  static int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

 private:
  void report(Session& s, const policy::TopicRoute& route, common::LimitKind kind, int64_t now_ns);

  const Options& options_;
  identity::Directory& directory_;
  domain::TenantSpaces& spaces_;
  storage::Store& store_;
  DeviceReplies& replies_;
  std::chrono::steady_clock::time_point last_limits_{};
  std::chrono::steady_clock::time_point last_storage_{};
};

}  // namespace c8y::app
