#include "plugin/app/device_credentials.h"

#include "plugin/identity/device_token.h"
#include "plugin/identity/names.h"
#include "plugin/identity/password_hash.h"
#include "plugin/identity/registration_owner.h"
#include "plugin/smartrest/csv.h"

namespace c8y::app {

namespace {
// Polls faster than bootstrap_poll_interval tolerated before the poller is disconnected.
constexpr int kMaxExcessPolls = 20;
}  // namespace

// A client certificate on the certificate listener. Its issuing CA names the tenant;
// the device user is device_<CN>, created on first use when the CA allows auto-registration and
// otherwise registered beforehand (a user of that name, for example over /user/{t}/users).
std::optional<DeviceCredentials::CertificateLogin> DeviceCredentials::certificate_login(
    const ConnectInfo& info, std::string_view serial, std::string* why) {
  auto refuse = [&](std::string reason) -> std::optional<CertificateLogin> {
    *why = std::move(reason);
    return std::nullopt;
  };
  auto check = trusted_cas_.check(info.certificate, serial, wall_seconds());
  if (!check.ok) return refuse("certificate refused: " + check.error);
  if (!info.username.empty()) {
    auto q = identity::parse_username(info.username);
    if (!q || q->tenant != check.tenant)
      return refuse("the certificate belongs to tenant " + check.tenant +
                    ", the username does not");
  }
  const std::string user = "device_" + check.common_name;
  if (!identity::is_valid_user_name(user))
    return refuse("the certificate's CN is not a valid user name");
  auto rec = directory_.user(check.tenant, user);
  if (rec) {
    if (!rec->enabled) return refuse("user " + check.tenant + "/" + user + " is disabled");
    if (rec->role != policy::Role::kDevice) return refuse("user " + user + " is not a device user");
    if (!rec->device_serial.empty() && rec->device_serial != serial)
      return refuse("user " + user + " belongs to device " + rec->device_serial);
  } else if (check.auto_registration) {
    identity::UserRecord u;
    u.tenant = check.tenant;
    u.name = user;
    u.role = policy::Role::kDevice;
    u.device_serial = std::string(serial);  // no password: it can only log in by certificate
    if (auto st = directory_.put_user(u); !st.ok())
      return refuse("cannot register the device user: " + st.message);
    log_(LogLevel::kNotice, "c8y: device " + std::string(serial) + " of tenant " + check.tenant +
                                " registered by its certificate (CA " + check.fingerprint + ")");
  } else {
    return refuse("device " + std::string(serial) + " is not registered in tenant " + check.tenant +
                  " and CA " + check.fingerprint + " does not allow auto-registration");
  }
  CertificateLogin login;
  login.auth.outcome = identity::AuthResult::kOk;
  login.auth.tenant = check.tenant;
  login.auth.user = user;
  login.auth.role = policy::Role::kDevice;
  login.auth.device_serial = std::string(serial);
  login.ca_fingerprint = check.fingerprint;
  login.cert_serial = check.serial_number;
  return login;
}

// A certificate device asks for a token with an empty publish on s/uat and gets
// `71,<JWT>` on s/dat. At most one token per half lifetime per connection (the platform hands
// out a new token once half of the current one's lifetime has passed).
void DeviceCredentials::token_request(Session& s) {
  if (s.extra().ca_fingerprint.empty()) {
    replies_.error_line(s, 41, "",
                        "Device tokens are only issued to certificate-authenticated devices");
    return;
  }
  const int64_t now = wall_seconds();
  SessionExtra& x = s.extra_mut();
  if (x.last_token_s != 0 && now - x.last_token_s < options_.device_token_lifetime_s / 2 &&
      now >= x.last_token_s) {
    replies_.reply(s, "s/dat", "71," + x.last_token);  // the same token again (a lost reply)
    return;
  }
  identity::DeviceTokenClaims c;
  c.tenant = s.tenant;
  c.user = s.user;
  c.serial = s.serial;
  c.issued_at = now;
  c.expires_at = now + options_.device_token_lifetime_s;
  std::string token = identity::issue_device_token(c, token_secret_);
  if (token.empty()) {
    replies_.error_line(s, 50, "", "Internal error: no token could be issued");
    return;
  }
  x.last_token_s = now;
  x.last_token = token;
  replies_.reply(s, "s/dat", "71," + token);
}

// An (empty) publish on s/ucr by the bootstrap user. Nothing before acceptance; after
// it, fresh credentials on s/dcr for every poll until the device logs in with them. Polls faster
// than the configured interval are ignored, and a connection that keeps it up is disconnected:
// the broker thread never sleeps for a poller.
void DeviceCredentials::bootstrap_poll(Session& s) {
  metrics_.bootstrap_polls.add();
  const int64_t now = now_ms();
  SessionExtra& x = s.extra_mut();
  if (x.last_poll_ms != 0 && now - x.last_poll_ms < options_.bootstrap_poll_interval_ms &&
      now >= x.last_poll_ms) {
    if (++x.excess_polls == kMaxExcessPolls) {
      if (poll_log_limit_.allow()) {  // a flood of pollers must not fill the log
        auto suppressed = poll_log_limit_.take_suppressed();
        log_(LogLevel::kNotice,
             "c8y: bootstrap device " + s.serial + " polls faster than every " +
                 std::to_string(options_.bootstrap_poll_interval_ms) + " ms; disconnecting it" +
                 (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)"
                             : ""));
      }
      outbox_.push(common::outbox::Kick{s.client_id});
    }
    return;
  }
  x.last_poll_ms = now;
  x.excess_polls = 0;
  storage::StoreStatus st;
  auto r = registrations_.poll(s.serial, now, &st);
  if (!r) {
    // Not registered here: in a cluster, another node's request (the bootstrap user lands on the
    // node holding the management tenant, not the device's).
    if (registry_)
      if (auto remote = registry_->find(s.serial)) remote_poll(s, *remote);
    return;
  }
  if (registry_ && r->status == identity::RegistrationStatus::kPendingAcceptance)
    if (auto rec = registry_->find(s.serial); rec && rec->status == common::kBootstrapWaiting)
      registry_->contacted(s.serial);  // the other nodes see the contact too
  if (r->status != identity::RegistrationStatus::kAccepted) return;
  // Accepted: a device user bound to this serial with a fresh random password. Only the hash is
  // kept, and each poll replaces the previous password, so a lost 70 line strands nobody.
  auto password = identity::random_secret();
  auto hash = password ? identity::hash_secret(*password) : std::nullopt;
  if (!hash) {
    log_(LogLevel::kError, "c8y: bootstrap: cannot make a password (the random generator failed)");
    return;
  }
  auto u = identity::bootstrap_device_user(directory_, r->tenant, r->serial, std::move(*hash));
  if (auto put = directory_.put_user(u); !put.ok()) {
    log_(LogLevel::kError, "c8y: bootstrap: cannot store the device user: " + put.message);
    return;
  }
  registrations_.mark_issued(r->serial);
  replies_.reply(s, "s/dcr", credentials_line(r->tenant, u.name, *password));
}

std::string DeviceCredentials::credentials_line(std::string_view tenant, std::string_view user,
                                                std::string_view password) {
  std::string line = "70,";
  smartrest::append_csv_field(line, tenant);
  line.push_back(',');
  smartrest::append_csv_field(line, user);
  line.push_back(',');
  smartrest::append_csv_field(line, password);
  return line;
}

// The request lives on the node that holds its tenant. The first poll records the contact there;
// once accepted, this node makes the password and hands only its hash over (the registry writes
// it, the owner makes the device user with it); the 70 line goes out when the owner confirms, so
// the credentials work by the time the device has them. Nothing here waits for the network.
void DeviceCredentials::remote_poll(Session& s, const common::BootstrapRequest& r) {
  if (r.status == common::kBootstrapWaiting) {
    registry_->contacted(s.serial);
    return;
  }
  // Only a device that listens on s/dcr is given credentials (as on one node: the reply goes to
  // subscribers only), and one issue at a time.
  if (r.status != common::kBootstrapAccepted || !DeviceReplies::subscribed(s, "s/dcr") ||
      registry_->issuing(s.serial))
    return;
  auto password = identity::random_secret();
  auto hash = password ? identity::hash_secret(*password) : std::nullopt;
  if (!hash) {
    log_(LogLevel::kError, "c8y: bootstrap: cannot make a password (the random generator failed)");
    return;
  }
  registry_->issue(s.serial, s.client_id, std::move(*hash),
                   credentials_line(r.tenant, "device_" + r.serial, *password));
}

}  // namespace c8y::app
