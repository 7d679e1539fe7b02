#include "plugin/rest/rest_routes.h"

#include <cstring>

#include "plugin/domain/inventory.h"
#include "plugin/domain/operations.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest {

const std::vector<RouteRow>& route_table() {
  using enum Access;
  using enum DeviceScope;
  static const std::string kObject = R"(/inventory/managedObjects/([^/]+))";
  static const std::string kTenant = R"(/tenant/tenants/([^/]+))";
  static const std::string kCertificates = kTenant + "/trusted-certificates";
  static const std::string kCertificate = kCertificates + "/([0-9a-fA-F]+)";
  static const std::vector<RouteRow> table = {
      {"GET", "/health", kOpen, kNone, platform::health},
      {"GET", "/metrics", kOpen, kNone, metrics::render},
      {"GET", "/tenant/currentTenant", kAdmin, kAlways, platform::current_tenant},
      // Applications are not hosted here: an empty collection, so that clients listing them work.
      {"GET", "/application/applications", kAdmin, kNone, platform::applications},

      {"GET", "/inventory/managedObjects", kAdmin, kNone, inventory::list},
      {"GET", "/inventory/managedObjects/count", kAdmin, kNone, inventory::count},
      {"GET", kObject, kAdmin, kOwnObject, inventory::get},
      {"POST", "/inventory/managedObjects", kAdmin, kNone, inventory::create},
      {"PUT", kObject, kAdmin, kNone, inventory::update},
      {"DELETE", kObject, kAdmin, kNone, inventory::remove},
      {"GET", kObject + "/(childDevices|childAdditions|childAssets)", kAdmin, kOwnObject,
       inventory::children},
      {"POST", kObject + "/(childDevices|childAdditions|childAssets)", kAdmin, kNone,
       inventory::add_child},
      {"DELETE", kObject + "/(childDevices|childAdditions|childAssets)/([^/]+)", kAdmin, kNone,
       inventory::remove_child},
      {"GET", kObject + "/(supportedMeasurements|supportedSeries)", kAdmin, kOwnObject,
       inventory::supported},

      {"GET", R"(/identity/externalIds/([^/]+)/(.+))", kAdmin, kOwnSerial, external_ids::get},
      {"GET", R"(/identity/globalIds/([^/]+)/externalIds)", kAdmin, kNone, external_ids::list},
      {"POST", R"(/identity/globalIds/([^/]+)/externalIds)", kAdmin, kNone, external_ids::create},

      {"GET", "/measurement/measurements", kAdmin, kSourceParam, measurements::list},
      {"GET", "/measurement/measurements/series", kAdmin, kSourceParam, measurements::series},
      {"POST", "/measurement/measurements", kAdmin, kBodySource, measurements::create},

      {"GET", "/event/events", kAdmin, kSourceParam, events::list},
      {"GET", R"(/event/events/([^/]+))", kAdmin, kNone, events::get},
      {"POST", "/event/events", kAdmin, kBodySource, events::create},
      {"PUT", R"(/event/events/([^/]+))", kAdmin, kNone, events::update},
      {"DELETE", R"(/event/events/([^/]+))", kAdmin, kNone, events::remove},

      {"GET", "/alarm/alarms", kAdmin, kSourceParam, alarms::list},
      {"GET", "/alarm/alarms/count", kAdmin, kNone, alarms::count},
      {"GET", R"(/alarm/alarms/([^/]+))", kAdmin, kNone, alarms::get},
      {"POST", "/alarm/alarms", kAdmin, kBodySource, alarms::create},
      {"PUT", R"(/alarm/alarms/([^/]+))", kAdmin, kNone, alarms::update},
      {"PUT", "/alarm/alarms", kAdmin, kNone, alarms::update_all},

      {"GET", "/devicecontrol/operations", kAdmin, kDeviceIdParam, operations::list},
      {"GET", R"(/devicecontrol/operations/([^/]+))", kAdmin, kNone, operations::get},
      {"POST", "/devicecontrol/operations", kAdmin, kNone, operations::create},
      {"PUT", R"(/devicecontrol/operations/([^/]+))", kAdmin, kOwnOperation, operations::update},

      {"GET", "/tenant/tenants", kManagement, kNone, tenants::list},
      {"POST", "/admin/backups", kManagement, kNone, backups::create},
      {"GET", "/admin/backups", kManagement, kNone, backups::list},
      {"POST", R"(/admin/backups/([^/]+)/restore)", kManagement, kNone, backups::restore},
      {"POST", "/admin/retention", kManagement, kNone, retention::run},
      {"GET", kTenant, kManagement, kNone, tenants::get},
      {"POST", "/tenant/tenants", kManagement, kNone, tenants::create},
      {"PUT", kTenant, kManagement, kNone, tenants::update},
      {"DELETE", kTenant, kManagement, kNone, tenants::remove},
      {"POST", R"(/tenant/tenants/([^/]+)/move)", kManagement, kNone, tenants::move},

      {"POST", R"(/cluster/tenants/([^/]+))", kOpen, kNone, cluster::create_tenant},
      {"DELETE", R"(/cluster/tenants/([^/]+))", kOpen, kNone, cluster::delete_tenant},
      {"POST", R"(/cluster/moves/([^/]+))", kOpen, kNone, cluster::move_tenant},
      {"POST", R"(/cluster/imports/([^/]+))", kOpen, kNone, cluster::import_tenant},
      {"GET", R"(/cluster/exports/([^/]+)/(.+))", kOpen, kNone, cluster::export_file},

      {"GET", "/user/currentUser", kAdmin, kNone, users::current},
      {"GET", R"(/user/([^/]+)/users)", kAdmin, kNone, users::list},
      {"GET", R"(/user/([^/]+)/users/([^/]+))", kAdmin, kNone, users::get},
      {"POST", R"(/user/([^/]+)/users)", kAdmin, kNone, users::create},
      {"PUT", R"(/user/([^/]+)/users/([^/]+))", kAdmin, kNone, users::update},
      {"DELETE", R"(/user/([^/]+)/users/([^/]+))", kAdmin, kNone, users::remove},

      {"GET", "/devicecontrol/newDeviceRequests", kAdmin, kNone, registrations::list},
      {"GET", R"(/devicecontrol/newDeviceRequests/([^/]+))", kAdmin, kNone, registrations::get},
      {"POST", "/devicecontrol/newDeviceRequests", kAdmin, kNone, registrations::create},
      {"PUT", R"(/devicecontrol/newDeviceRequests/([^/]+))", kAdmin, kNone, registrations::update},
      {"DELETE", R"(/devicecontrol/newDeviceRequests/([^/]+))", kAdmin, kNone,
       registrations::remove},

      {"GET", kCertificates, kAdmin, kNone, certificates::list},
      {"GET", kCertificate, kAdmin, kNone, certificates::get},
      {"POST", kCertificates, kAdmin, kNone, certificates::create},
      {"PUT", kCertificate, kAdmin, kNone, certificates::update},
      {"DELETE", kCertificate, kAdmin, kNone, certificates::remove},
      {"PUT", kCertificate + "/crl", kAdmin, kNone, certificates::set_crl},

      {"GET", "/retention/retentions", kAdmin, kNone, retention::list},
      {"GET", R"(/retention/retentions/([^/]+))", kAdmin, kNone, retention::get},
      {"POST", "/retention/retentions", kAdmin, kNone, retention::create},
      {"PUT", R"(/retention/retentions/([^/]+))", kAdmin, kNone, retention::update},
      {"DELETE", R"(/retention/retentions/([^/]+))", kAdmin, kNone, retention::remove},

      {"GET", "/audit/auditRecords", kAdmin, kNone, audit_records::list},
      {"GET", R"(/audit/auditRecords/([^/]+))", kAdmin, kNone, audit_records::get},
  };
  return table;
}

namespace {

// The own device's id as the path and query carry it. A device whose object does not exist yet
// has none: "-", which no handler takes for an id (the request then answers as for a bad id).
std::string own_id(const Caller& c) {
  return c.device_id ? domain::format_id(c.device_id) : std::string("-");
}

bool body_source_is(const Request& req, const std::string& own) {
  auto body = json::parse(req.body, nullptr, false);
  return body.is_object() && body.contains("source") && body["source"].is_object() &&
         body["source"].contains("id") && body["source"]["id"].is_string() &&
         body["source"]["id"].get<std::string>() == own;
}

bool own_operation(const Caller& c, const Request& req, storage::Store& store) {
  auto id = domain::parse_id(std::string(req.matches[1]));
  if (!id || !c.device_id) return false;
  domain::Operations ops(store, *c.space);
  auto op = ops.get(*id);
  return op && op->value("deviceId", "") == own_id(c);
}

}  // namespace

bool device_scope_allows(DeviceScope scope, const char* method, const Caller& c, const Request& req,
                         storage::Store& store) {
  if (req.method != method) return false;  // HEAD on a GET route
  switch (scope) {
    case DeviceScope::kNone:
      return false;
    case DeviceScope::kAlways:
      return true;
    case DeviceScope::kOwnSerial:
      return req.matches[1].str() == domain::kSerialType && req.matches[2] == c.serial;
    case DeviceScope::kOwnObject:
      return req.matches[1] == own_id(c);
    case DeviceScope::kSourceParam:
      return req.get_param_value("source") == own_id(c);
    case DeviceScope::kDeviceIdParam:
      return req.get_param_value("deviceId") == own_id(c);
    case DeviceScope::kBodySource:
      return body_source_is(req, own_id(c));
    case DeviceScope::kOwnOperation:
      return own_operation(c, req, store);
  }
  return false;
}

}  // namespace c8y::rest
