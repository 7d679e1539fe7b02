// The application REST API (Cumulocity-shaped JSON), served on its own threads.
//
// Contract: never calls Mosquitto. Reads and writes storage directly (thread-safe); anything that
// must reach a device or the broker log goes through the Outbox, drained on the broker thread.
// Every request needs HTTP Basic authentication as "<tenant>/<user>" with the admin role; data
// of another tenant is never visible (it answers 404, as for a missing object).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "plugin/app/broker_port.h"
#include "plugin/domain/audit.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/authenticator.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/trusted_cas.h"
#include "storage/store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace c8y::rest {

struct Caller;
struct HttpError;

class RestServer {
 public:
  RestServer(storage::Store& store, identity::Directory& directory,
             identity::Authenticator& authenticator, domain::TenantSpaces& spaces,
             identity::Registrations& registrations, identity::TrustedCas& trusted_cas,
             const std::string& token_secret, app::Outbox& outbox);
  ~RestServer();
  // Binds and starts serving (HTTPS when a certificate and key are given); false with an error
  // naming the address when the port is taken or the TLS material is unusable.
  bool start(const std::string& bind, unsigned port, const std::string& tls_cert,
             const std::string& tls_key, std::string* error);
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
  std::optional<Caller> authenticate(const httplib::Request& req, httplib::Response& res);
  std::optional<Caller> authenticate_token(const httplib::Request& req, httplib::Response& res,
                                           std::string_view token);
  // What a device token may do: read and write its own device's data. nullopt: allowed.
  std::optional<HttpError> device_scope(const Caller& c, const httplib::Request& req);
  // Publishes a change on the tenant's real-time streams (through the outbox, decision D15).
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
  app::Outbox& outbox_;
  std::unique_ptr<httplib::Server> server_;
  std::string scheme_ = "http";
  std::thread thread_;
};

}  // namespace c8y::rest
