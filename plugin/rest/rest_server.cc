#include "plugin/rest/rest_server.h"

#include "plugin/common/base64.h"

#include <charconv>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/inventory_query.h"
#include "plugin/domain/measurement.h"
#include "plugin/domain/operations.h"
#include "plugin/identity/device_token.h"
#include "plugin/rest/http_server.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {

using nlohmann::json;

namespace {

// query= / q= of GET /inventory/managedObjects(/count): Cumulocity's inventory query language
// (the subset in domain/inventory_query.h). q= is a device query: it adds has(c8y_IsDevice), as
// Cumulocity does. nullopt without either; *err filled (400) when the text is refused.
std::optional<domain::InventoryQuery> inventory_query(const Request& req, bool* bad,
                                                      HttpError* err) {
  *bad = false;
  const bool query = req.has_param("query"), q = req.has_param("q");
  if (!query && !q) return std::nullopt;
  *bad = true;
  if (query && q) {
    *err = {400, "general/badRequest", "Use either query or q, not both"};
    return std::nullopt;
  }
  const char* name = query ? "query" : "q";
  const std::string text = req.get_param_value(name);
  // An empty query is no filter: @c8y/client sends query= for an empty query object.
  if (text.find_first_not_of(" \t") == std::string::npos) {
    *bad = false;
    domain::InventoryQuery all;
    if (q) all.require_fragment("c8y_IsDevice");
    return all;
  }
  std::string why;
  auto parsed = domain::InventoryQuery::parse(text, &why);
  if (!parsed) {
    *err = {400, "general/badRequest", std::string("Invalid query parameter ") + name + ": " + why};
    return std::nullopt;
  }
  if (q) parsed->require_fragment("c8y_IsDevice");
  *bad = false;
  return parsed;
}

}  // namespace

RestServer::RestServer(storage::Store& store, identity::Directory& directory,
                       identity::Authenticator& authenticator, domain::TenantSpaces& spaces,
                       identity::Registrations& registrations, identity::TrustedCas& trusted_cas,
                       const std::string& token_secret, common::Outbox& outbox)
    : store_(store),
      directory_(directory),
      authenticator_(authenticator),
      spaces_(spaces),
      registrations_(registrations),
      trusted_cas_(trusted_cas),
      token_secret_(token_secret),
      outbox_(outbox) {}

RestServer::~RestServer() {
  stop();
}

namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

bool RestServer::start(const std::string& bind, unsigned port, const std::string& tls_cert,
                       const std::string& tls_key, const HttpLimits& limits, std::string* error) {
  std::string cert_pem, key_pem;
  if (!tls_cert.empty() || !tls_key.empty()) {
    if (tls_cert.empty() || tls_key.empty()) {
      *error = "plugin_opt_rest_tls_cert_file and plugin_opt_rest_tls_key_file go together";
      return false;
    }
    const std::string unusable = "plugin_opt_rest_tls_cert_file/_key_file: cannot load " +
                                 tls_cert + " and " + tls_key +
                                 " (readable by user mosquitto? a matching PEM pair?)";
    if (!read_file(tls_cert, &cert_pem) || !read_file(tls_key, &key_pem) || cert_pem.empty() ||
        key_pem.empty()) {
      *error = unusable;
      return false;
    }
    scheme_ = "https";
  }
  routes();
  server_ = std::make_unique<HttpServer>(
      router_, [this](Request& req, Response& res) { return admit(req, res); },
      [this](const std::string& line) {
        if (!server_log_limit_.allow()) return;
        auto suppressed = server_log_limit_.take_suppressed();
        outbox_.log(
            common::LogLevel::kNotice,
            line + (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)"
                               : ""));
      },
      limits);
  std::string why;
  if (!server_->start(bind, port, cert_pem, key_pem, &why)) {
    server_.reset();
    if (why.starts_with("plugin_opt_"))  // the address
      *error = why;
    else if (scheme_ == "https")  // the library refused the certificate or key
      *error = "plugin_opt_rest_tls_cert_file/_key_file: cannot load " + tls_cert + " and " +
               tls_key + " (a matching PEM pair?): " + why;
    else
      *error = "plugin_opt_rest_port: " + why;
    return false;
  }
  outbox_.log(common::LogLevel::kNotice,
              "c8y: REST API listening on " + scheme_ + "://" + bind + ":" + std::to_string(port));
  return true;
}

void RestServer::stop() {
  if (server_) server_->stop();
}

// A request with a body is judged on its head: the credentials must be valid before a byte of
// the body is read. The identity found is kept for the route's own authenticate().
bool RestServer::admit(Request& req, Response& res) {
  if (req.path == "/health") return true;  // the one open route
  auto c = identify(req, res);
  if (!c) return false;
  req.admitted = std::make_shared<const Caller>(std::move(*c));
  return true;
}

std::optional<Caller> RestServer::authenticate(const Request& req, Response& res) {
  auto c = req.admitted ? std::optional<Caller>(*req.admitted) : identify(req, res);
  if (!c) return std::nullopt;
  if (c->device) {
    if (auto e = device_scope(*c, req)) {
      send_error(res, *e);
      return std::nullopt;
    }
  }
  return c;
}

std::optional<Caller> RestServer::identify(const Request& req, Response& res) {
  auto h = req.get_header_value("Authorization");
  if (h.starts_with("Bearer ")) return authenticate_token(req, res, std::string_view(h).substr(7));
  if (!h.starts_with("Basic ")) {
    res.set_header("WWW-Authenticate", "Basic realm=\"c8y\"");
    send_error(res, {401, "security/Unauthorized", "Authentication required"});
    return std::nullopt;
  }
  common::Base64Rules basic;
  basic.padding = common::Base64Rules::Padding::kOptional;
  basic.canonical = false;
  std::string cred =
      common::base64_decode(std::string_view(h).substr(6), basic).value_or(std::string());
  auto colon = cred.find(':');
  if (colon == std::string::npos) {
    send_error(res, {401, "security/Unauthorized", "Malformed Basic credentials"});
    return std::nullopt;
  }
  auto r = authenticator_.authenticate(std::string_view(cred).substr(0, colon),
                                       std::string_view(cred).substr(colon + 1), req.remote_addr);
  if (!r.ok()) {
    res.set_header("WWW-Authenticate", "Basic realm=\"c8y\"");
    send_error(res, {401, "security/Unauthorized", "Invalid credentials"});
    return std::nullopt;
  }
  if (r.role != policy::Role::kAdmin) {
    send_error(res, {403, "security/Forbidden", "The admin role is required"});
    return std::nullopt;
  }
  Caller c;
  c.tenant = r.tenant;
  c.user = r.user;
  c.space = spaces_.get(r.tenant);
  if (!c.space) {
    send_error(res, {500, "general/internalError", "tenant has no storage"});
    return std::nullopt;
  }
  std::string host = req.get_header_value("Host");
  c.base = scheme_ + "://" + (host.empty() ? std::string("localhost") : host);
  return c;
}

std::optional<Caller> RestServer::authenticate_token(const Request& req, Response& res,
                                                     std::string_view token) {
  auto refuse = [&](const std::string& why) -> std::optional<Caller> {
    if (token_log_limit_.allow()) {
      auto suppressed = token_log_limit_.take_suppressed();
      outbox_.log(
          common::LogLevel::kNotice,
          "c8y: REST refused a device token from " + req.remote_addr + ": " + why +
              (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
    }
    res.set_header("WWW-Authenticate", "Bearer realm=\"c8y\"");
    send_error(res, {401, "security/Unauthorized", "Invalid or expired token"});
    return std::nullopt;
  };
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  std::string why;
  auto claims = identity::verify_device_token(token, token_secret_, now_s, &why);
  if (!claims) return refuse(why);
  // The token outlives nothing it was issued for: a disabled or deleted device user (or tenant)
  // ends it at once.
  auto u = directory_.user(claims->tenant, claims->user);
  if (!u || !u->enabled || u->role != policy::Role::kDevice ||
      (!u->device_serial.empty() && u->device_serial != claims->serial))
    return refuse("the device user " + claims->tenant + "/" + claims->user +
                  " is disabled, deleted or bound to another device");
  Caller c;
  c.tenant = claims->tenant;
  c.user = claims->user;
  c.space = spaces_.get(c.tenant);
  if (!c.space) return refuse("tenant " + c.tenant + " is gone");
  c.device = true;
  c.serial = claims->serial;
  domain::Inventory inv(store_, *c.space);
  if (auto id = inv.find_external(domain::kSerialType, c.serial)) c.device_id = *id;
  std::string host = req.get_header_value("Host");
  c.base = scheme_ + "://" + (host.empty() ? std::string("localhost") : host);
  return c;
}

// A device token reaches its own device: the managed object (and its child lists), its external
// id, its measurements, events, alarms and operations (read with source / deviceId set to it,
// created with source.id = it), and status updates of its own operations. Anything else is 403.
std::optional<HttpError> RestServer::device_scope(const Caller& c, const Request& req) {
  const HttpError forbidden{403, "security/Forbidden",
                            "A device token reaches only its own device's data"};
  const std::string own = c.device_id ? domain::format_id(c.device_id) : std::string("-");
  const std::string& p = req.path;
  const std::string& m = req.method;
  if (m == "GET") {
    if (p == "/tenant/currentTenant") return std::nullopt;
    if (p == "/identity/externalIds/c8y_Serial/" + c.serial) return std::nullopt;
    const std::string mo = "/inventory/managedObjects/" + own;
    if (p == mo || p == mo + "/childDevices" || p == mo + "/childAdditions" ||
        p == mo + "/childAssets" || p == mo + "/supportedMeasurements" ||
        p == mo + "/supportedSeries")
      return std::nullopt;
    for (const char* list : {"/measurement/measurements", "/measurement/measurements/series",
                             "/event/events", "/alarm/alarms"})
      if (p == list && req.get_param_value("source") == own) return std::nullopt;
    if (p == "/devicecontrol/operations" && req.get_param_value("deviceId") == own)
      return std::nullopt;
    return forbidden;
  }
  if (m == "POST") {
    for (const char* list : {"/measurement/measurements", "/event/events", "/alarm/alarms"}) {
      if (p != list) continue;
      auto body = json::parse(req.body, nullptr, false);
      if (body.is_object() && body.contains("source") && body["source"].is_object() &&
          body["source"].contains("id") && body["source"]["id"].is_string() &&
          body["source"]["id"].get<std::string>() == own)
        return std::nullopt;
      return forbidden;
    }
    return forbidden;
  }
  if (m == "PUT" && p.starts_with("/devicecontrol/operations/")) {
    auto id = domain::parse_id(std::string_view(p).substr(26));
    if (!id || !c.device_id) return forbidden;
    domain::Operations ops(store_, *c.space);
    auto op = ops.get(*id);
    if (op && op->value("deviceId", "") == own) return std::nullopt;
    return forbidden;
  }
  return forbidden;
}

void RestServer::routes() {
  auto& srv = router_;
  srv.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    send_error(res, {500, "general/internalError", "internal error"});
  });

  srv.Get("/health", [](const Request&, Response& res) {
    send_json(res, 200, {{"status", "UP"}});
  });

  srv.Get("/tenant/currentTenant", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    send_json(res, 200, {{"name", c->tenant}, {"self", c->base + "/tenant/currentTenant"}});
  });

  // Applications are not hosted here: an empty collection, so that clients listing them work.
  srv.Get("/application/applications", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    send_json(res, 200,
              paged(*c, "/application/applications", req, "applications", json::array(), *paging,
                    false, paging->count_total() ? std::optional<size_t>(0) : std::nullopt));
  });

  srv.Get("/inventory/managedObjects", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    if (refuse_unsupported(req, {"text", "ids", "childAssetId", "childDeviceId"}, &err))
      return send_error(res, err);
    bool bad = false;
    auto query = inventory_query(req, &bad, &err);
    if (bad) return send_error(res, err);
    auto paging = param_paging(req, &err);
    if (!paging || !param_bools_ignored(req, {"withParents", "withChildren"}, &err))
      return send_error(res, err);
    domain::Inventory inv(store_, *c->space);
    domain::Inventory::Page p;
    p.count_total = paging->count_total();
    // A query is evaluated over a scan of the tenant's objects (there is no index): without
    // $orderby the scan stops after the page (unless the total is counted), with it every
    // object is read (domain::Inventory::list).
    auto st = inv.list(req.get_param_value("type"), req.get_param_value("fragmentType"),
                       req.get_param_value("owner"), paging->page_size, paging->page, &p,
                       query ? &*query : nullptr);
    if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
    json items = json::array();
    for (auto& mo : p.objects) {
      add_self_links(*c, mo);
      items.push_back(std::move(mo));
    }
    send_json(
        res, 200,
        paged(*c, "/inventory/managedObjects", req, "managedObjects", std::move(items), *paging,
              p.more, p.count_total ? std::optional<size_t>(p.total) : std::nullopt));
  });

  // Registered before the {id} route, which would take "count" for an id.
  srv.Get("/inventory/managedObjects/count", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    if (refuse_unsupported(req, {"text", "ids", "childAssetId", "childDeviceId"}, &err))
      return send_error(res, err);
    bool bad = false;
    auto query = inventory_query(req, &bad, &err);
    if (bad) return send_error(res, err);
    if (query) query->clear_order();  // a count needs no order
    domain::Inventory inv(store_, *c->space);
    domain::Inventory::Page p;
    p.count_total = true;
    auto st = inv.list(req.get_param_value("type"), req.get_param_value("fragmentType"),
                       req.get_param_value("owner"), 1, 1, &p, query ? &*query : nullptr);
    if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
    res.status = 200;
    res.set_content(std::to_string(p.total), "application/json");
  });

  srv.Get(R"(/inventory/managedObjects/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    if (!param_bools_ignored(req, {"withParents", "withChildren"}, &err))
      return send_error(res, err);
    std::string raw = req.matches[1];
    auto id = domain::parse_id(raw);
    if (!id)
      return send_error(res, {404, "inventory/Not Found",
                              "Finding device data from database failed : No managedObject for "
                              "id '" +
                                  raw + "'!"});
    domain::Inventory inv(store_, *c->space);
    auto mo = inv.get(*id);
    if (!mo)
      return send_error(res, {404, "inventory/Not Found",
                              "Finding device data from database failed : No managedObject for "
                              "id '" +
                                  raw + "'!"});
    add_self_links(*c, *mo);
    send_json(res, 200, *mo);
  });

  srv.Get(R"(/identity/externalIds/([^/]+)/(.+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    std::string type = req.matches[1], value = req.matches[2];
    domain::Inventory inv(store_, *c->space);
    auto id = inv.find_external(type, value);
    if (!id)
      return send_error(res, {404, "identity/Not Found",
                              "External id not found; external id = ID [type=" + type +
                                  ", value=" + value + "]"});
    std::string ids = domain::format_id(*id);
    send_json(
        res, 200,
        {{"externalId", value},
         {"type", type},
         {"self", c->base + "/identity/externalIds/" + type + "/" + value},
         {"managedObject", {{"id", ids}, {"self", c->base + "/inventory/managedObjects/" + ids}}}});
  });

  srv.Get("/measurement/measurements", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    if (refuse_unsupported(req, {"valueFragmentType", "valueFragmentSeries", "fragmentType"}, &err))
      return send_error(res, err);
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    domain::MeasurementQuery q;
    q.page_size = paging->page_size;
    q.page = paging->page;
    q.type = req.get_param_value("type");
    std::optional<bool> revert;
    if (!param_id(req, "source", &q.source, &err) ||
        !param_time(req, "dateFrom", &q.date_from, &err) ||
        !param_time(req, "dateTo", &q.date_to, &err) || !param_bool(req, "revert", &revert, &err))
      return send_error(res, err);
    q.revert = revert.value_or(false);  // measurements: oldest first unless revert=true
    std::vector<domain::Measurement> found;
    bool more = false;
    q.count_total = paging->count_total();
    size_t counted = 0;
    domain::Measurements ms(store_, *c->space);
    auto st = ms.query(q, &found, &more, &counted);
    if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
    json items = json::array();
    for (auto& m : found) items.push_back(measurement_out(*c, m));
    send_json(res, 200,
              paged(*c, "/measurement/measurements", req, "measurements", std::move(items), *paging,
                    more, q.count_total ? std::optional<size_t>(counted) : std::nullopt));
  });

  // Chart data (@c8y/client measurement.listSeries): one range scan of the source's measurements.
  // Another tenant's device id finds nothing in this tenant's family: an empty answer, as for
  // GET /measurement/measurements.
  srv.Get("/measurement/measurements/series", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    domain::SeriesQuery q;
    if (!req.has_param("source"))
      return send_error(res, {400, "general/badRequest", "Query parameter source is mandatory"});
    if (!param_id(req, "source", &q.source, &err) ||
        !param_time(req, "dateFrom", &q.date_from, &err) ||
        !param_time(req, "dateTo", &q.date_to, &err))
      return send_error(res, err);
    if (q.date_from > q.date_to)
      return send_error(res, {400, "general/badRequest", "dateFrom must not be after dateTo"});
    if (req.has_param("aggregationType")) {
      auto v = req.get_param_value("aggregationType");
      auto a = domain::parse_aggregation(v);
      if (!a)
        return send_error(res, {400, "general/badRequest",
                                "Invalid value of query parameter aggregationType: '" + v +
                                    "' (DAILY, HOURLY or MINUTELY)"});
      q.aggregation = *a;
    }
    // Repeated parameter (series=a.x&series=b.y), in request order; read through req.params as
    // paged() does.
    for (auto& [k, v] : req.params) {
      if (k != "series") continue;
      if (q.wanted.size() == 100)
        return send_error(res, {400, "general/badRequest", "At most 100 series per request"});
      auto key = domain::parse_series_key(v);
      if (!key)
        return send_error(res, {400, "general/badRequest",
                                "Invalid value of query parameter series: '" + v +
                                    "' (expected <fragment>.<series>)"});
      q.wanted.push_back(std::move(*key));
    }
    domain::Measurements ms(store_, *c->space);
    domain::SeriesResult r;
    if (auto st = ms.series(q, &r); !st.ok())
      return send_error(res, {500, "general/internalError", st.message});
    send_json(res, 200, domain::series_json(r));
  });

  routes_data();
  routes_inventory();
  routes_admin();
  routes_registration();
  routes_certificates();
  routes_audit();

  srv.set_error_handler([](const Request&, Response& res) {
    if (res.body.empty())
      send_error(res, {res.status, "general/" + std::to_string(res.status),
                       res.status == 404 ? "No such resource" : "Request failed"});
  });
}

}  // namespace c8y::rest
