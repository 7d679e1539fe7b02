// The application REST API (Cumulocity-shaped JSON), served on its own threads (http_server.h).
//
// Contract: never calls Mosquitto. Reads and writes storage directly (thread-safe); anything that
// must reach a device or the broker log goes through the Outbox, drained on the broker thread.
// Every request needs HTTP Basic authentication as "<tenant>/<user>" with the admin role (or a
// device token, limited to the device's data); data of another tenant is never visible (it
// answers 404, as for a missing object). Only GET /health and GET /metrics are open. What each
// route takes is its row in the route table (rest_routes.h). A request with a body has its
// credentials checked on its head, before any of the body is read (admit); the authentication
// before its handler then reuses that identity.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "plugin/common/limits.h"
#include "plugin/common/outbox.h"
#include "plugin/common/placement.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/authenticator.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/trusted_cas.h"
#include "plugin/rest/http.h"
#include "plugin/rest/http_server.h"
#include "plugin/rest/local_tenants.h"
#include "plugin/rest/rest_context.h"
#include "storage/store.h"

namespace c8y::rest {

struct Caller;
struct RouteRow;

class RestServer {
 public:
  RestServer(storage::Store& store, identity::Directory& directory,
             identity::Authenticator& authenticator, domain::TenantSpaces& spaces,
             identity::Registrations& registrations, identity::TrustedCas& trusted_cas,
             const std::string& token_secret, common::Outbox& outbox, common::NodeMetrics& metrics);
  ~RestServer();
  // Binds and starts serving (HTTPS when a certificate and key file are given) within `limits`
  // (connections per address, request deadline; see http_server.h). False with an error naming
  // the option when the port is taken or the TLS material is unusable.
  bool start(const std::string& bind, unsigned port, const std::string& tls_cert,
             const std::string& tls_key, const HttpLimits& limits, std::string* error);
  void stop();
  // Where POST /admin/backups writes (plugin_opt_backup_dir); before start().
  void set_backup_dir(std::string dir) { ctx_.backup_dir = std::move(dir); }
  // What POST /admin/retention runs (it must outlive the server); before start().
  void set_retention(domain::Retention* retention) { ctx_.retention = retention; }

  // What the HTTP server does with a whole request, without a socket (tests): routes it and
  // completes the response (status, error body).
  void dispatch(Request& req, Response& res) const { router_.dispatch(req, res); }
  // The head of a request with a body, before the body is read: its credentials must be valid
  // (an open route aside). False after filling the 401/403 answer.
  bool admit(Request& req, Response& res);
  // Seconds of its rate a REST user's token bucket holds (plugin_opt_limit_burst_seconds).
  void set_limit_burst(unsigned seconds) { burst_s_ = seconds; }
  // In a cluster: where each tenant is served (outlives the server); before start(). A request
  // for a tenant placed on another node is redirected there (307 to that node's REST address,
  // the same path and query), or answered 503 while that node is down: never with a 401 or 404
  // from a node that does not hold the tenant.
  void set_placement(const common::TenantPlacement* placement) {
    placement_ = placement;
    ctx_.placement = placement;
  }
  // In a cluster: every node's bootstrap registrations (outlives the server); before start().
  // A serial is then unique across the cluster's tenants (409 otherwise).
  void set_bootstrap_registry(common::BootstrapRegistry* registry) { ctx_.bootstrap = registry; }
  // In a cluster: what creates, deletes and moves tenants (outlives the server); before start().
  void set_cluster(common::ClusterControl* cluster) { ctx_.cluster = cluster; }
  // What the cluster may do with this node's tenants (made on first call; transfers are staged
  // in `staging`). Lives as long as the server.
  common::TenantHost& tenant_host(const std::string& staging);
  // The scheme of the REST API ("http" or "https"), once started.
  const std::string& scheme() const { return scheme_; }

 private:
  void add_routes();
  // Runs `route`'s handler once the caller is authenticated for it.
  void run(const RouteRow& route, const Request& req, Response& res);
  // One answered request in the metrics, by status class.
  void count(int status);
  // The caller, if its credentials are valid, it has the route's access and (a device token) the
  // request is within the route's device scope; on failure fills the response and returns
  // nullopt.
  std::optional<Caller> authenticate(const RouteRow& route, const Request& req, Response& res);
  // The credentials alone (no route, no device scope): who is calling.
  std::optional<Caller> identify(const Request& req, Response& res);
  std::optional<Caller> authenticate_token(const Request& req, Response& res,
                                           std::string_view token);
  // The caller's tenant limits: its REST request rate (429 with Retry-After) and, for requests
  // that add data, its stored bytes (507). False after filling the answer.
  bool within_limits(const Caller& c, const Request& req, Response& res);
  // False after filling the redirect (or 503) when `tenant` is served by another node.
  bool served_here(std::string_view tenant, const Request& req, Response& res) const;
  RestContext ctx_;
  identity::Authenticator& authenticator_;
  // Token buckets of the REST request rate, by "tenant/user" (restRequestsPerSecond).
  std::mutex rate_mutex_;
  std::unordered_map<std::string, common::TokenBucket> rate_buckets_;
  unsigned burst_s_ = 5;
  const std::string& token_secret_;
  identity::LogRateLimiter token_log_limit_{identity::steady_now, 1, 10};
  identity::LogRateLimiter server_log_limit_{identity::steady_now, 1, 10};
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::string scheme_ = "http";
  const common::TenantPlacement* placement_ = nullptr;
  // REST requests running per caller's tenant (a tenant handed over waits for them).
  TenantRequests requests_;
  std::unique_ptr<LocalTenants> local_tenants_;
};

}  // namespace c8y::rest
