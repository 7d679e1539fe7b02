// The application REST API (Cumulocity-shaped JSON), served on its own threads (http_server.h).
//
// Contract: never calls Mosquitto. Reads and writes storage directly (thread-safe); anything that
// must reach a device or the broker log goes through the Outbox, drained on the broker thread.
// Every request needs HTTP Basic authentication as "<tenant>/<user>" with the admin role (or a
// device token, limited to the device's data); data of another tenant is never visible (it
// answers 404, as for a missing object). Only GET /health is open. A request with a body has its
// credentials checked on its head, before any of the body is read (admit); the route's own
// authenticate() then reuses that identity.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/common/outbox.h"
#include "plugin/domain/audit.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/authenticator.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/trusted_cas.h"
#include "plugin/rest/http.h"
#include "plugin/rest/http_server.h"
#include "storage/store.h"

namespace c8y::rest {

struct Caller;
struct HttpError;

class RestServer {
 public:
  RestServer(storage::Store& store, identity::Directory& directory,
             identity::Authenticator& authenticator, domain::TenantSpaces& spaces,
             identity::Registrations& registrations, identity::TrustedCas& trusted_cas,
             const std::string& token_secret, common::Outbox& outbox);
  ~RestServer();
  // Binds and starts serving (HTTPS when a certificate and key file are given) within `limits`
  // (connections per address, request deadline; see http_server.h). False with an error naming
  // the option when the port is taken or the TLS material is unusable.
  bool start(const std::string& bind, unsigned port, const std::string& tls_cert,
             const std::string& tls_key, const HttpLimits& limits, std::string* error);
  void stop();

 private:
  void routes();
  void routes_data();          // events, alarms, operations (rest_data.cc)
  void routes_inventory();     // inventory, identity and measurement writes (rest_inventory.cc)
  void routes_admin();         // tenants and users (rest_admin.cc)
  void routes_registration();  // new-device requests (rest_registration.cc)
  void routes_certificates();  // trusted CA certificates (rest_certificates.cc)
  void routes_audit();         // audit records (rest_audit.cc)
  // Records a change made through the REST API in `tenant`'s audit log, right after the change
  // (changes stored in the system family cannot share its WriteBatch). A failure is logged, never
  // answered: the change itself is done.
  void audit(const std::string& tenant, const domain::AuditEntry& e);
  // Disconnects the sessions of a user (or, with user "", of every user of the tenant).
  void kick_users(const std::string& tenant, const std::string& user);
  // Tells the broker thread that an object changed or went away (availability, caches).
  void object_changed(const Caller& c, uint64_t id, bool deleted);
  // Authenticates the request as an admin (Basic) or as a device (Bearer device token, limited to
  // the device's own data); on failure fills the response and returns nullopt.
  std::optional<Caller> authenticate(const Request& req, Response& res);
  // The credentials alone (no device scope, which may need the body): who is calling.
  std::optional<Caller> identify(const Request& req, Response& res);
  std::optional<Caller> authenticate_token(const Request& req, Response& res,
                                           std::string_view token);
  // The head of a request with a body, before the body is read: its credentials must be valid
  // (the open /health aside). False after filling the 401/403 answer.
  bool admit(Request& req, Response& res);
  // What a device token may do: read and write its own device's data. nullopt: allowed.
  std::optional<HttpError> device_scope(const Caller& c, const Request& req);
  // Publishes a change on the tenant's notification and processing streams (through the outbox).
  void notify(const Caller& c, std::string_view api, uint64_t device, std::string_view action,
              const nlohmann::json& data);
  storage::Store& store_;
  identity::Directory& directory_;
  identity::Authenticator& authenticator_;
  domain::TenantSpaces& spaces_;
  identity::Registrations& registrations_;
  identity::TrustedCas& trusted_cas_;
  const std::string& token_secret_;
  identity::LogRateLimiter token_log_limit_{identity::steady_now, 1, 10};
  identity::LogRateLimiter upload_log_limit_{identity::steady_now, 1, 10};
  identity::LogRateLimiter server_log_limit_{identity::steady_now, 1, 10};
  common::Outbox& outbox_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::string scheme_ = "http";
};

}  // namespace c8y::rest
