// What the REST handlers work with (internal to plugin/rest): the stores and registries of the
// plugin, and the ways a change reaches the broker thread (the outbox). One per RestServer,
// shared by its threads: everything here is thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/common/bootstrap_registry.h"
#include "plugin/common/cluster_control.h"
#include "plugin/common/metrics.h"
#include "plugin/common/outbox.h"
#include "plugin/common/placement.h"
#include "plugin/domain/audit.h"
#include "plugin/domain/retention.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/authenticator.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/failure_throttle.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/trusted_cas.h"
#include "plugin/rest/http.h"
#include "storage/store.h"

namespace c8y::rest {

struct Caller;

struct RestContext {
  storage::Store& store;
  identity::Directory& directory;
  domain::TenantSpaces& spaces;
  identity::Registrations& registrations;
  identity::TrustedCas& trusted_cas;
  common::Outbox& outbox;
  identity::Authenticator& authenticator;
  common::NodeMetrics& metrics;
  // plugin_opt_backup_dir; empty: backups are off.
  std::string backup_dir;
  // What POST /admin/retention runs; nullptr: not set up (409).
  domain::Retention* retention = nullptr;
  // In a cluster: where tenants are served; nullptr: a single node.
  const common::TenantPlacement* placement = nullptr;
  // In a cluster: the bootstrap registrations of every node; nullptr: a single node.
  common::BootstrapRegistry* bootstrap = nullptr;
  // In a cluster: creating, deleting and moving tenants; nullptr: a single node.
  common::ClusterControl* cluster = nullptr;
  // Refused trusted-certificate uploads: garbage uploads in a loop must not fill the log.
  identity::LogRateLimiter upload_log_limit{identity::steady_now, 1, 10};

  // The path's tenant (the route's first capture) if the caller administers it: its own tenant,
  // or any for the management admin. nullopt after answering 404 with `error` ("Tenant <id> not
  // found"): another tenant looks absent, as its data does.
  std::optional<std::string> administered_tenant(const Caller& c, const Request& req, Response& res,
                                                 const char* error);
  // Publishes a change on the tenant's notification and processing streams.
  void notify(const Caller& c, std::string_view api, uint64_t device, std::string_view action,
              const nlohmann::json& data);
  // Records a change made through the REST API in `tenant`'s audit log, right after the change
  // (changes stored in the system family cannot share its WriteBatch). A failure is logged, never
  // answered: the change itself is done.
  void audit(const std::string& tenant, const domain::AuditEntry& e);
  // Disconnects the sessions of a user (or, with user "", of every user of the tenant).
  void kick_users(const std::string& tenant, const std::string& user);
  // Tells the broker thread that an object changed or went away (availability, caches).
  void object_changed(const Caller& c, uint64_t id, bool deleted);
  // Hands a PENDING operation to the broker thread for delivery to its device.
  void deliver_operation(const Caller& c, const nlohmann::json& op);
  // Tells the broker thread that a trusted CA changed (its devices' sessions are checked again).
  void ca_changed(const std::string& fingerprint);
};

}  // namespace c8y::rest
