#include "plugin/rest/rest_server.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <optional>

#include "plugin/common/base64.h"
#include "plugin/domain/inventory.h"
#include "plugin/identity/device_token.h"
#include "plugin/rest/http_server.h"
#include "plugin/rest/rest_routes.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {

RestServer::RestServer(storage::Store& store, identity::Directory& directory,
                       identity::Authenticator& authenticator, domain::TenantSpaces& spaces,
                       identity::Registrations& registrations, identity::TrustedCas& trusted_cas,
                       const std::string& token_secret, common::Outbox& outbox,
                       common::NodeMetrics& metrics)
    : ctx_{store,         directory, spaces, registrations, trusted_cas, outbox,
           authenticator, metrics,   {}},
      authenticator_(authenticator),
      token_secret_(token_secret) {
  add_routes();
}

RestServer::~RestServer() {
  stop();
}

void RestServer::add_routes() {
  const auto& table = route_table();
  for (size_t i = 0; i < table.size(); ++i) {
    const RouteRow& row = table[i];
    router_.add(
        row.method, row.pattern,
        [this, &row](const Request& req, Response& res) { run(row, req, res); },
        static_cast<int>(i));
  }
  router_.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    send_error(res, {500, "general/internalError", "internal error"});
  });
  router_.set_error_handler([this](const Request&, Response& res) {
    if (res.status == 404 && res.body.empty()) count(404);  // no route matched
    if (res.body.empty())
      send_error(res, {res.status, "general/" + std::to_string(res.status),
                       res.status == 404 ? "No such resource" : "Request failed"});
  });
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
  server_ = std::make_unique<HttpServer>(
      router_, [this](Request& req, Response& res) { return admit(req, res); },
      [this](const std::string& line) {
        if (!server_log_limit_.allow()) return;
        auto suppressed = server_log_limit_.take_suppressed();
        ctx_.outbox.log(
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
  ctx_.outbox.log(common::LogLevel::kNotice, "c8y: REST API listening on " + scheme_ + "://" +
                                                 bind + ":" + std::to_string(port));
  return true;
}

void RestServer::stop() {
  if (server_) server_->stop();
}

// A request with a body is judged on its head: the credentials must be valid before a byte of
// the body is read. The identity found is kept for the authentication before the handler.
bool RestServer::admit(Request& req, Response& res) {
  const Router::Route* route = router_.find(req);
  if (route && route_table()[route->id].access == Access::kOpen) return true;
  auto c = identify(req, res);
  if (!c) {
    count(res.status);
    return false;
  }
  req.admitted = std::make_shared<const Caller>(std::move(*c));
  return true;
}

void RestServer::run(const RouteRow& route, const Request& req, Response& res) {
  const auto start = std::chrono::steady_clock::now();
  if (route.access == Access::kOpen) {
    route.handler(ctx_, Caller{}, req, res);
  } else if (auto c = authenticate(route, req, res)) {
    // Counted while it runs; then asked again whether the tenant is still served here: a tenant
    // fenced meanwhile (handed over to another node) waits for the requests counted before the
    // fence, and refuses those after it.
    struct Running {
      TenantRequests& r;
      const std::string& tenant;
      ~Running() { r.leave(tenant); }
    } running{requests_, c->tenant};
    requests_.enter(c->tenant);
    if (served_here(c->tenant, req, res)) route.handler(ctx_, *c, req, res);
  }
  ctx_.metrics.rest_duration.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  count(res.status < 0 ? 200 : res.status);
}

common::TenantHost& RestServer::tenant_host(const std::string& staging) {
  if (!local_tenants_) local_tenants_ = std::make_unique<LocalTenants>(ctx_, requests_, staging);
  return *local_tenants_;
}

void RestServer::count(int status) {
  const int cls = status / 100;
  if (cls >= 1 && cls <= 5) ctx_.metrics.rest_requests[static_cast<size_t>(cls - 1)].add();
}

std::optional<Caller> RestServer::authenticate(const RouteRow& route, const Request& req,
                                               Response& res) {
  auto c = req.admitted ? std::optional<Caller>(*req.admitted) : identify(req, res);
  if (!c) return std::nullopt;
  if (c->device && !device_scope_allows(route.device, route.method, *c, req, ctx_.store)) {
    send_error(res,
               {403, "security/Forbidden", "A device token reaches only its own device's data"});
    return std::nullopt;
  }
  if (route.access == Access::kManagement && c->tenant != kManagementTenant) {
    send_error(res,
               {403, "security/Forbidden", "Only the management tenant's admin manages tenants"});
    return std::nullopt;
  }
  if (!within_limits(*c, req, res)) return std::nullopt;
  return c;
}

bool RestServer::within_limits(const Caller& c, const Request& req, Response& res) {
  if (!c.space) return true;
  const common::TenantLimits& limits = c.space->limits;
  if (const double rate = limits.rest_rate(); rate > 0) {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    double wait = 0;
    {
      std::lock_guard lock(rate_mutex_);
      auto& bucket = rate_buckets_[c.tenant + "/" + c.user];
      if (!bucket.take(rate, rate * burst_s_, now))
        wait = std::max(bucket.wait_seconds(rate), 1e-3);
    }
    if (wait > 0) {
      c.space->metrics.limit_hit(common::LimitKind::kRestRate);
      res.set_header("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(wait))));
      send_error(res,
                 {429, "limits/tooManyRequests",
                  "Too many requests: user " + c.user + " may make " + common::format_rate(rate) +
                      " requests per second; retry after the time in Retry-After"});
      return false;
    }
  }
  // What adds data is refused while the tenant is over its stored bytes; reading, changing a
  // status and deleting (which frees space) go on.
  if (limits.over_storage() && req.method == "POST") {
    static constexpr std::string_view kData[] = {"/measurement/", "/event/", "/alarm/",
                                                 "/inventory/", "/devicecontrol/operations"};
    for (auto prefix : kData)
      if (std::string_view(req.path).starts_with(prefix)) {
        c.space->metrics.limit_hit(common::LimitKind::kStoredBytes);
        send_error(res, {507, "limits/storageExceeded",
                         "Storage limit reached: tenant " + c.tenant + " stores more than " +
                             std::to_string(limits.stored_bytes()) + " bytes"});
        return false;
      }
  }
  return true;
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
  if (auto slash = cred.find('/'); slash != std::string::npos && slash < colon &&
                                   !served_here(std::string_view(cred).substr(0, slash), req, res))
    return std::nullopt;
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
  c.space = ctx_.spaces.get(r.tenant);
  if (!c.space) {
    send_error(res, {500, "general/internalError", "tenant has no storage"});
    return std::nullopt;
  }
  std::string host = req.get_header_value("Host");
  c.base = scheme_ + "://" + (host.empty() ? std::string("localhost") : host);
  return c;
}

bool RestServer::served_here(std::string_view tenant, const Request& req, Response& res) const {
  if (!placement_) return true;
  common::TenantHome home = placement_->home(tenant);
  if (home.here) return true;
  if (home.rest.empty()) {
    res.set_header("Retry-After", "5");
    send_error(res, {503, "cluster/tenantUnavailable",
                     "Tenant " + std::string(tenant) + " is served by node " + home.node +
                         ", which is not reachable now"});
    return false;
  }
  res.set_header("Location", scheme_ + "://" + home.rest + req.target);
  send_error(res, {307, "cluster/tenantElsewhere",
                   "Tenant " + std::string(tenant) + " is served by node " + home.node});
  return false;
}

std::optional<Caller> RestServer::authenticate_token(const Request& req, Response& res,
                                                     std::string_view token) {
  auto refuse = [&](const std::string& why) -> std::optional<Caller> {
    if (token_log_limit_.allow()) {
      auto suppressed = token_log_limit_.take_suppressed();
      ctx_.outbox.log(
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
  if (!served_here(claims->tenant, req, res)) return std::nullopt;
  // The token outlives nothing it was issued for: a disabled or deleted device user (or tenant)
  // ends it at once.
  auto u = ctx_.directory.user(claims->tenant, claims->user);
  if (!u || !u->enabled || u->role != policy::Role::kDevice ||
      (!u->device_serial.empty() && u->device_serial != claims->serial))
    return refuse("the device user " + claims->tenant + "/" + claims->user +
                  " is disabled, deleted or bound to another device");
  Caller c;
  c.tenant = claims->tenant;
  c.user = claims->user;
  c.space = ctx_.spaces.get(c.tenant);
  if (!c.space) return refuse("tenant " + c.tenant + " is gone");
  c.device = true;
  c.serial = claims->serial;
  domain::Inventory inv(ctx_.store, *c.space);
  if (auto id = inv.find_external(domain::kSerialType, c.serial)) c.device_id = *id;
  std::string host = req.get_header_value("Host");
  c.base = scheme_ + "://" + (host.empty() ? std::string("localhost") : host);
  return c;
}

}  // namespace c8y::rest
