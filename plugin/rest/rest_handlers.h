// The REST handlers, one namespace per resource and one file each (internal to plugin/rest). Each
// is a RouteFn: the route table (rest_routes.cc) names it with its method, path, access and device
// scope; the caller is authenticated before it runs.
#pragma once

#include "plugin/rest/rest_routes.h"

namespace c8y::rest {

// rest_platform.cc: /health, /tenant/currentTenant, /application/applications
namespace platform {
RouteFn health, current_tenant, applications;
}
// rest_backups.cc: /admin/backups (online backups of the node)
namespace backups {
RouteFn create, list, restore;
// A tenant on its own into `dir` (which must not exist): its family's export in family/, its
// records of the system family in system.json (tenant backups; a tenant handed over).
common::Status write_tenant(RestContext& ctx, const std::string& tenant, const std::string& dir,
                            uint64_t* bytes);
// Makes `tenant` on this node from such a directory (kConflict when it exists here, kInvalid
// when the directory holds another tenant or none).
common::Status read_tenant(RestContext& ctx, const std::string& tenant, const std::string& dir);
}  // namespace backups
// rest_retention.cc: /retention/retentions (the tenant's rules), /admin/retention (a pass now)
namespace retention {
RouteFn list, get, create, update, remove, run;
}
// rest_metrics.cc: GET /metrics (Prometheus text format, open)
namespace metrics {
RouteFn render;
}
// rest_inventory.cc: /inventory/managedObjects, its reference lists and supported series
namespace inventory {
RouteFn list, count, get, create, update, remove, children, add_child, remove_child, supported;
}
// rest_identity.cc: /identity/externalIds, /identity/globalIds/{id}/externalIds
namespace external_ids {
RouteFn get, list, create;
}
// rest_measurements.cc: /measurement/measurements, /measurement/measurements/series
namespace measurements {
RouteFn list, series, create;
}
// rest_events.cc: /event/events
namespace events {
RouteFn list, get, create, update, remove;
}
// rest_alarms.cc: /alarm/alarms
namespace alarms {
RouteFn list, count, get, create, update, update_all;
}
// rest_operations.cc: /devicecontrol/operations
namespace operations {
RouteFn list, get, create, update;
}
// rest_tenants.cc: /tenant/tenants
namespace tenants {
RouteFn list, get, create, update, remove, move;
// Makes the tenant on this node from a create spec ({"options", "admin": {"name",
// "passwordHash"}}; cluster_control.h); drops it from this node (data, users, CAs,
// registrations; its clients disconnected).
common::Status make_local(RestContext& ctx, const std::string& tenant, const nlohmann::json& spec);
common::Status drop_local(RestContext& ctx, const std::string& tenant);
}  // namespace tenants
// rest_cluster.cc: /cluster/... (calls between the nodes of a cluster, each authorized by the
// ticket of a change under way in the tenant's placement; open routes, 404 on a single node)
namespace cluster {
RouteFn create_tenant, delete_tenant, move_tenant, import_tenant, export_file;
}
// rest_users.cc: /user/currentUser, /user/{tenant}/users
namespace users {
RouteFn current, list, get, create, update, remove;
}
// rest_registrations.cc: /devicecontrol/newDeviceRequests
namespace registrations {
RouteFn list, get, create, update, remove;
}
// rest_certificates.cc: /tenant/tenants/{tenant}/trusted-certificates
namespace certificates {
RouteFn list, get, create, update, remove, set_crl;
}
// rest_audit.cc: /audit/auditRecords
namespace audit_records {
RouteFn list, get;
}

}  // namespace c8y::rest
