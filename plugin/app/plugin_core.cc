#include "plugin/app/plugin_core.h"

#include <fstream>
#include <sstream>
#include <variant>

#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "plugin/identity/device_token.h"
#include "plugin/identity/names.h"
#include "plugin/identity/password_hash.h"
#include "plugin/identity/provisioning.h"
#include "plugin/policy/streams.h"
#include "plugin/policy/topic_match.h"
#include "plugin/smartrest/static_templates.h"

namespace c8y::app {

namespace {

constexpr std::string_view kBootstrapTenant = "management";
constexpr std::string_view kBootstrapUser = "devicebootstrap";
// Polls faster than bootstrap_poll_interval tolerated before the poller is disconnected.
constexpr int kMaxExcessPolls = 20;

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

PluginCore::PluginCore(const Options& options, BrokerPort& port)
    : options_(options), port_(port), auth_log_limit_(identity::steady_now, 5, 20) {}

PluginCore::~PluginCore() {
  stop();
}

std::unique_ptr<PluginCore> PluginCore::create(const Options& options, BrokerPort& port,
                                               std::string* error) {
  std::unique_ptr<PluginCore> core(new PluginCore(options, port));
  if (!core->start(error)) return nullptr;
  return core;
}

bool PluginCore::start(std::string* error) {
  storage::StoreOptions so;
  so.path = options_.data_dir;
  so.durability = options_.durability;
  store_ = storage::Store::open(so, error);
  if (!store_) return false;
  presence_ = std::make_unique<PresenceTracker>(
      *store_, [this](LogLevel level, const std::string& m) { log(level, m); });
  if (store_->recovered_records() > 0)
    log(LogLevel::kNotice,
        "c8y: replayed " + std::to_string(store_->recovered_records()) +
            " records of the ingest log into RocksDB (the last stop was a crash)");
  directory_ = std::make_unique<identity::Directory>(*store_);
  if (auto st = directory_->load(); !st.ok()) {
    *error = "cannot load tenants and users: " + st.message;
    return false;
  }
  registrations_ = std::make_unique<identity::Registrations>(*store_);
  if (auto st = registrations_->load(); !st.ok()) {
    *error = "cannot load the new-device requests: " + st.message;
    return false;
  }
  trusted_cas_ = std::make_unique<identity::TrustedCas>(*store_, options_.trust_dir);
  {
    std::vector<std::string> warnings;
    if (auto st = trusted_cas_->load(&warnings); !st.ok()) {
      *error = "cannot load the trusted certificates: " + st.message;
      return false;
    }
    for (auto& w : warnings) log(LogLevel::kWarning, "c8y: " + w);
  }
  if (auto st = identity::load_token_secret(*store_, &token_secret_); !st.ok()) {
    *error = st.message;
    return false;
  }
  if (!options_.provisioning_file.empty()) {
    std::string text;
    if (!read_file(options_.provisioning_file, &text)) {
      *error = "plugin_opt_provisioning_file: cannot read " + options_.provisioning_file;
      return false;
    }
    identity::ProvisioningReport report;
    auto err = identity::apply_provisioning(*directory_, text, &report);
    if (!err.empty()) {
      *error = "plugin_opt_provisioning_file " + options_.provisioning_file + ": " + err;
      return false;
    }
    log(LogLevel::kInfo, "c8y: provisioning applied: " + std::to_string(report.tenants_created) +
                             " tenants created, " + std::to_string(report.users_written) +
                             " users written, " + std::to_string(report.users_unchanged) +
                             " unchanged");
  }
  if (!options_.bootstrap_secret_file.empty()) {
    std::string secret;
    if (!read_file(options_.bootstrap_secret_file, &secret)) {
      *error = "plugin_opt_bootstrap_secret_file: cannot read " + options_.bootstrap_secret_file;
      return false;
    }
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.size() < 16) {
      *error = "plugin_opt_bootstrap_secret_file: the secret must be at least 16 characters";
      return false;
    }
    if (!directory_->has_tenant(kBootstrapTenant)) {
      identity::TenantRecord t;
      t.id = std::string(kBootstrapTenant);
      directory_->put_tenant(t);
    }
    identity::UserRecord u;
    u.tenant = std::string(kBootstrapTenant);
    u.name = std::string(kBootstrapUser);
    u.role = policy::Role::kBootstrap;
    u.password_hash = identity::hash_password(secret);
    u.persisted = false;
    directory_->put_user(u);
  }
  authenticator_ =
      std::make_unique<identity::Authenticator>(*directory_, options_.credential_cache);
  client_ids_ = std::make_unique<identity::ClientIdDirectory>(*store_, options_.session_expiry_s);
  if (auto st = client_ids_->load(wall_seconds()); !st.ok()) {
    *error = "cannot load the client-id directory: " + st.message;
    return false;
  }
  spaces_ = std::make_unique<domain::TenantSpaces>(*store_, options_.node_id);
  if (size_t n = presence_->mark_all_disconnected(*spaces_))
    log(LogLevel::kInfo, "c8y: marked " + std::to_string(n) + " devices disconnected");
  if (size_t n = watch_monitored_devices())
    log(LogLevel::kInfo, "c8y: watching the availability of " + std::to_string(n) + " devices");
  return true;
}

PluginCore::Services PluginCore::services() {
  return {*store_,         *directory_,   *authenticator_, *spaces_,
          *registrations_, *trusted_cas_, token_secret_,   outbox_};
}

void PluginCore::log_ready() {
  log(LogLevel::kNotice,
      "c8y: ready, data in " + options_.data_dir + ", " +
          std::to_string(directory_->tenant_ids().size()) + " tenants, " +
          std::to_string(directory_->user_count()) + " users, durability " +
          (options_.durability == storage::Durability::kWal ? "wal" : "batched"));
}

void PluginCore::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (store_) {
    if (presence_) presence_->flush();
    if (auto st = store_->settle(); !st.ok()) log(LogLevel::kError, "c8y: at stop: " + st.message);
  }
  for (auto& item : outbox_.take())
    if (auto* l = std::get_if<common::outbox::Log>(&item)) port_.log(l->level, l->message);
  spaces_.reset();
  client_ids_.reset();
  authenticator_.reset();
  registrations_.reset();
  trusted_cas_.reset();
  directory_.reset();
  presence_.reset();
  store_.reset();  // closes RocksDB
}

void PluginCore::log(LogLevel level, const std::string& message) {
  port_.log(level, message);
}

int64_t PluginCore::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------------------------
// Connections

bool PluginCore::on_connect(const ConnectInfo& info) {
  closing_.erase(info.conn);  // a new connection that reuses the address of a closed one
  // SIGHUP re-authenticates every session: a connection we already accepted stays accepted
  // unless its user was disabled or changed its password meanwhile (the check below is cached).
  auto refuse = [&](const std::string& why) {
    if (auth_log_limit_.allow()) {
      auto suppressed = auth_log_limit_.take_suppressed();
      log(LogLevel::kNotice,
          "c8y: refused client '" + std::string(info.client_id) + "' user '" +
              std::string(info.username) + "' from " + std::string(info.address) + ": " + why +
              (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
    }
    return false;
  };
  if (info.client_id.empty()) return refuse("empty client id");
  // MQTT 3.1 allows client ids of 1..23 characters; Cumulocity answers a longer one with
  // "not authorized" (CONNACK 5), and so do we.
  if (info.protocol_version == 3 && info.client_id.size() > 23)
    return refuse("MQTT 3.1 client id longer than 23 characters");
  auto cid = identity::parse_client_id(info.client_id);
  if (!cid) return refuse("invalid client id");
  identity::AuthResult auth;
  std::string ca_fingerprint, cert_serial;
  if (info.certificate) {
    // The certificate listener: the certificate decides (CA -> tenant, CN -> serial); a password
    // is not checked.
    if (auto why = certificate_login(info, cid->serial, &auth, &ca_fingerprint, &cert_serial))
      return refuse(*why);
  } else {
    if (info.username.empty()) return refuse("anonymous clients are not allowed");
    auth = authenticator_->authenticate(info.username, info.password, info.address);
    if (!auth.ok()) return refuse(auth.reason());
  }

  const bool bootstrap = auth.role == policy::Role::kBootstrap;
  if (bootstrap) {
    // The bootstrap user polls for one registered device; a serial no tenant
    // registered gets nothing, and nothing is created for it.
    if (!cid->default_xid.empty() || info.client_id != cid->serial)
      return refuse("a bootstrap connection's client id must be the bare device serial");
    if (!registrations_->exists(cid->serial))
      return refuse("no tenant registered device " + std::string(cid->serial));
  }
  if (!auth.device_serial.empty() && auth.device_serial != cid->serial)
    return refuse("user " + auth.user + " belongs to device " + auth.device_serial);

  const int64_t now_s = wall_seconds();
  if (!client_ids_->may_claim(info.client_id, auth.tenant, auth.user, now_s))
    return refuse("client id is held by another identity");

  auto existing = sessions_.find(info.conn);
  if (existing != sessions_.end()) {
    Session& s = *existing->second;
    if (s.tenant == auth.tenant && s.user == auth.user && s.client_id == info.client_id)
      return true;  // re-authentication of a live session (SIGHUP)
    on_disconnect(info.conn);
  }

  auto s = std::make_unique<Session>();
  s->conn = info.conn;
  s->client_id = std::string(info.client_id);
  s->tenant = auth.tenant;
  s->user = auth.user;
  s->role = auth.role;
  s->serial = std::string(cid->serial);
  s->default_xid = std::string(cid->default_xid);
  s->persistent = !info.clean_session;
  s->ca_fingerprint = std::move(ca_fingerprint);
  s->cert_serial = std::move(cert_serial);
  s->space = spaces_->get(auth.tenant);
  if (!s->space) return refuse("tenant has no storage");

  // A bootstrap connection does not hold its client id: the device reconnects with the same id
  // under its new credentials right after.
  if (!bootstrap)
    if (auto st = client_ids_->claim(info.client_id, auth.tenant, auth.user, s->persistent);
        !st.ok())
      log(LogLevel::kWarning, "c8y: cannot persist client id " + s->client_id + ": " + st.message);
  // The first login with credentials from bootstrap finishes the registration.
  if (!auth.device_serial.empty() && registrations_->complete(auth.tenant, auth.device_serial))
    log(LogLevel::kNotice, "c8y: device " + auth.device_serial + " of tenant " + auth.tenant +
                               " logged in with its bootstrap credentials; registration complete");

  if (s->role == policy::Role::kDevice) {
    // The same device under another client-id spelling (1234, d:1234) replaces the old
    // connection: Mosquitto sees two ids, so the plugin kicks the old one itself.
    std::string key = s->tenant + '\0' + s->serial;
    auto it = live_serials_.find(key);
    if (it != live_serials_.end() && it->second != s->client_id) {
      outbox_.push(common::outbox::Kick{it->second});
    }
    live_serials_[key] = s->client_id;
    domain::Inventory inv(*store_, *s->space);
    if (auto id = inv.find_external(domain::kSerialType, s->serial)) {
      s->device_id = *id;
      presence_->set(s->space, *id, true);
    } else if (!s->ca_fingerprint.empty()) {
      // A certificate device's first connection creates the device.
      storage::StoreStatus st;
      own_device(*s, "", "", &st);
      if (!st.ok())
        log(LogLevel::kWarning, "c8y: cannot create device " + s->serial + ": " + st.message);
    }
  }
  resume_subscriptions(*s);
  ++connections_by_client_id_[s->client_id];
  sessions_[info.conn] = std::move(s);
  return true;
}

void PluginCore::resume_subscriptions(Session& s) {
  auto saved = saved_subscriptions_.find(s.client_id);
  if (!s.persistent) {
    // A clean session: Mosquitto dropped the old session and its subscriptions.
    if (saved != saved_subscriptions_.end()) saved_subscriptions_.erase(saved);
    return;
  }
  if (saved != saved_subscriptions_.end()) {
    // The client id directory lets only the same identity resume; an expired entry belongs
    // to a session Mosquitto has dropped too (persistent_client_expiration).
    const SavedSubscriptions& sub = saved->second;
    if (sub.tenant == s.tenant && sub.user == s.user &&
        wall_seconds() - sub.saved_s < static_cast<int64_t>(options_.session_expiry_s))
      for (auto& [filter, qos] : sub.subscriptions) add_subscription(s, filter, qos);
    saved_subscriptions_.erase(saved);
    return;
  }
  // A live connection holds the id: its subscriptions come with its DISCONNECT (on_disconnect).
  auto live = connections_by_client_id_.find(s.client_id);
  if (live != connections_by_client_id_.end() && live->second > 0) resuming_[s.client_id] = s.conn;
}

void PluginCore::on_disconnect(ConnId conn) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  // Only the connection that holds the client id releases it (on a takeover Mosquitto reports the
  // old connection gone after it authenticated the new one).
  auto refs = connections_by_client_id_.find(s.client_id);
  const bool holder = refs == connections_by_client_id_.end() || --refs->second <= 0;
  if (holder) {
    if (refs != connections_by_client_id_.end()) connections_by_client_id_.erase(refs);
    client_ids_->release(s.client_id, wall_seconds());
    auto live = live_serials_.find(s.tenant + '\0' + s.serial);
    if (live != live_serials_.end() && live->second == s.client_id) live_serials_.erase(live);
  }
  if (s.device_id) presence_->set(s.space, s.device_id, false);
  if (s.role == policy::Role::kAdmin) streams_.unsubscribed(s.tenant, s.subscriptions.size());
  if (auto r = resuming_.find(s.client_id); r != resuming_.end()) {
    // A persistent connection took this one's session over: it gets the subscriptions.
    if (r->second == conn) {
      resuming_.erase(r);
    } else if (auto next = sessions_.find(r->second); next != sessions_.end()) {
      Session& n = *next->second;
      resuming_.erase(r);
      if (s.persistent && n.tenant == s.tenant && n.user == s.user)
        for (auto& [filter, qos] : s.subscriptions) add_subscription(n, filter, qos);
    }
  } else if (holder && s.persistent && !s.subscriptions.empty()) {
    saved_subscriptions_[s.client_id] = {s.tenant, s.user, s.subscriptions, wall_seconds()};
  }
  closing_[conn] = Closing{std::move(it->second), std::chrono::steady_clock::now()};
  sessions_.erase(it);
}

void PluginCore::on_will(Session& s, std::string_view topic, std::string_view payload) {
  if (s.role != policy::Role::kDevice) return;
  if (!policy::allowed(policy::Caller{s.role, s.tenant}, policy::Access::kWrite, topic)) return;
  const bool had_device = s.device_id != 0;
  // The message cap counts the whole PUBLISH packet; a will has no packet of its own: topic,
  // payload and the fixed header approximate it.
  process_upstream(s, topic, payload, topic.size() + payload.size() + 4);
  if (!had_device && s.device_id) presence_->set(s.space, s.device_id, false);
  log(LogLevel::kInfo,
      "c8y: last will of " + s.client_id + " on " + std::string(topic) + " processed");
}

// ---------------------------------------------------------------------------------------------
// Authorisation

bool PluginCore::on_acl(ConnId conn, policy::Access access, std::string_view topic, int qos,
                        std::string_view payload) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) {
    // A last will comes as a WRITE check of a connection that is already closed. It is handled
    // as an upstream publish of that device and never delivered.
    if (access == policy::Access::kWrite)
      if (auto c = closing_.find(conn); c != closing_.end())
        on_will(*c->second.session, topic, payload);
    return false;
  }
  Session& s = *it->second;
  if (access == policy::Access::kWrite && s.role == policy::Role::kDevice) {
    // While a new connection with this client id takes this one over (it authenticated,
    // this one is not yet reported gone), this connection cannot publish: a WRITE check now is
    // its will, which Mosquitto sends before it reports the DISCONNECT.
    if (auto r = connections_by_client_id_.find(s.client_id);
        r != connections_by_client_id_.end() && r->second > 1) {
      on_will(s, topic, payload);
      return false;
    }
  }
  policy::Caller caller{s.role, s.tenant};
  if (!policy::allowed(caller, access, topic)) return false;
  if (access == policy::Access::kSubscribe) {
    add_subscription(s, topic, qos);
  } else if (access == policy::Access::kUnsubscribe) {
    const size_t n = std::erase_if(s.subscriptions, [&](auto& p) { return p.first == topic; });
    if (n && s.role == policy::Role::kAdmin) streams_.unsubscribed(s.tenant, n);
  }
  return true;
}

void PluginCore::add_subscription(Session& s, std::string_view topic, int qos) {
  for (auto& [f, q] : s.subscriptions)
    if (f == topic) {
      q = qos;
      return;
    }
  s.subscriptions.emplace_back(std::string(topic), qos);
  if (s.role == policy::Role::kAdmin) streams_.subscribed(s.tenant);
  if (s.role == policy::Role::kDevice) {
    if (topic == "s/ds") pending_deliveries_.emplace_back(s.conn, kOpsSmartRest);
    if (topic == "devicecontrol/notifications" || topic == "notification/operations")
      pending_deliveries_.emplace_back(s.conn, kOpsJson);
    if (topic == "s/dd" || topic.starts_with("s/dc/"))
      pending_deliveries_.emplace_back(s.conn, kOpsTemplates);
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

void PluginCore::reply(const Session& s, std::string_view topic, const std::string& payload) {
  int qos = -1;
  for (auto& [f, q] : s.subscriptions)
    if (policy::topic_matches(f, topic)) qos = std::max(qos, q);
  if (qos < 0) return;
  port_.publish(s.client_id, std::string(topic), payload, qos);
}

void PluginCore::error_line(const Session& s, int code, std::string_view msg_id,
                            std::string_view text) {
  std::string line = std::to_string(code);
  line.push_back(',');
  smartrest::append_csv_field(line, msg_id);
  line.push_back(',');
  smartrest::append_csv_field(line, text);
  reply(s, "s/e", line);
}

MessageDecision PluginCore::on_message(ConnId conn, std::string_view topic,
                                       std::string_view payload, size_t packet_size, bool* retain) {
  *retain = false;  // upstream retained publishes are accepted and never retained
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return MessageDecision::kDrop;
  return process_upstream(*it->second, topic, payload, packet_size);
}

MessageDecision PluginCore::process_upstream(Session& s, std::string_view topic,
                                             std::string_view payload, size_t packet_size) {
  auto route = policy::route_upstream(topic);
  const bool json = route && route->channel == policy::Channel::kJson;
  if (packet_size > options_.message_size_limit) {
    std::string text = "Message too large: " + std::to_string(packet_size) +
                       " bytes exceeds the limit of " +
                       std::to_string(options_.message_size_limit) + " bytes";
    if (json) {
      nlohmann::json e = {{"error", "general/messageTooLarge"}, {"message", text}};
      reply(s, "error", e.dump());
    } else {
      error_line(s, 45, "", text);
    }
    return MessageDecision::kDrop;
  }
  if (!route) {
    error_line(s, 40, "", "Unsupported topic: " + common::echo_value(topic));
    return MessageDecision::kDrop;
  }
  MessageDecision decision = MessageDecision::kAccept;
  switch (route->channel) {
    case policy::Channel::kStatic:
      handle_static(s, *route, payload, &decision);
      break;
    case policy::Channel::kBootstrap:
      if (s.role == policy::Role::kBootstrap) handle_bootstrap_poll(s);
      break;
    case policy::Channel::kToken:
      if (s.role == policy::Role::kDevice) handle_token_request(s);
      break;
    case policy::Channel::kSmartRest1:
      error_line(s, 40, "", "SmartREST 1.0 is not supported (decision D20)");
      break;
    case policy::Channel::kJson:
      handle_json(s, *route, payload, &decision);
      break;
    case policy::Channel::kTemplates:
      if (s.role == policy::Role::kDevice) handle_template_definition(s, route->xid, payload);
      break;
    case policy::Channel::kCustom:
    case policy::Channel::kDefault:
      if (s.role == policy::Role::kDevice) handle_template_usage(s, *route, payload, &decision);
      break;
  }
  return decision;
}

// A client certificate on the certificate listener. Its issuing CA names the tenant;
// the device user is device_<CN>, created on first use when the CA allows auto-registration and
// otherwise registered beforehand (a user of that name, for example over /user/{t}/users).
std::optional<std::string> PluginCore::certificate_login(const ConnectInfo& info,
                                                         std::string_view serial,
                                                         identity::AuthResult* auth,
                                                         std::string* ca_fingerprint,
                                                         std::string* cert_serial) {
  auto check = trusted_cas_->check(info.certificate, serial, wall_seconds());
  if (!check.ok) return "certificate refused: " + check.error;
  if (!info.username.empty()) {
    auto q = identity::parse_username(info.username);
    if (!q || q->tenant != check.tenant)
      return "the certificate belongs to tenant " + check.tenant + ", the username does not";
  }
  const std::string user = "device_" + check.common_name;
  if (!identity::is_valid_user_name(user)) return "the certificate's CN is not a valid user name";
  auto rec = directory_->user(check.tenant, user);
  if (rec) {
    if (!rec->enabled) return "user " + check.tenant + "/" + user + " is disabled";
    if (rec->role != policy::Role::kDevice) return "user " + user + " is not a device user";
    if (!rec->device_serial.empty() && rec->device_serial != serial)
      return "user " + user + " belongs to device " + rec->device_serial;
  } else if (check.auto_registration) {
    identity::UserRecord u;
    u.tenant = check.tenant;
    u.name = user;
    u.role = policy::Role::kDevice;
    u.device_serial = std::string(serial);  // no password: it can only log in by certificate
    if (auto st = directory_->put_user(u); !st.ok())
      return "cannot register the device user: " + st.message;
    log(LogLevel::kNotice, "c8y: device " + std::string(serial) + " of tenant " + check.tenant +
                               " registered by its certificate (CA " + check.fingerprint + ")");
  } else {
    return "device " + std::string(serial) + " is not registered in tenant " + check.tenant +
           " and CA " + check.fingerprint + " does not allow auto-registration";
  }
  auth->outcome = identity::AuthResult::kOk;
  auth->tenant = check.tenant;
  auth->user = user;
  auth->role = policy::Role::kDevice;
  auth->device_serial = std::string(serial);
  *ca_fingerprint = check.fingerprint;
  *cert_serial = check.serial_number;
  return std::nullopt;
}

// A certificate device asks for a token with an empty publish on s/uat and gets
// `71,<JWT>` on s/dat. At most one token per half lifetime per connection (the platform hands
// out a new token once half of the current one's lifetime has passed).
void PluginCore::handle_token_request(Session& s) {
  if (s.ca_fingerprint.empty()) {
    error_line(s, 41, "", "Device tokens are only issued to certificate-authenticated devices");
    return;
  }
  const int64_t now = wall_seconds();
  if (s.last_token_s != 0 && now - s.last_token_s < options_.device_token_lifetime_s / 2 &&
      now >= s.last_token_s) {
    reply(s, "s/dat", "71," + s.last_token);  // the same token again (a lost reply)
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
    error_line(s, 50, "", "Internal error: no token could be issued");
    return;
  }
  s.last_token_s = now;
  s.last_token = token;
  reply(s, "s/dat", "71," + token);
}

// An (empty) publish on s/ucr by the bootstrap user. Nothing before acceptance; after
// it, fresh credentials on s/dcr for every poll until the device logs in with them. Polls faster
// than the configured interval are ignored, and a connection that keeps it up is disconnected:
// the broker thread never sleeps for a poller.
void PluginCore::handle_bootstrap_poll(Session& s) {
  const int64_t now = now_ms();
  if (s.last_poll_ms != 0 && now - s.last_poll_ms < options_.bootstrap_poll_interval_ms &&
      now >= s.last_poll_ms) {
    if (++s.excess_polls == kMaxExcessPolls) {
      if (poll_log_limit_.allow()) {  // a flood of pollers must not fill the log
        auto suppressed = poll_log_limit_.take_suppressed();
        log(LogLevel::kNotice,
            "c8y: bootstrap device " + s.serial + " polls faster than every " +
                std::to_string(options_.bootstrap_poll_interval_ms) + " ms; disconnecting it" +
                (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)"
                            : ""));
      }
      outbox_.push(common::outbox::Kick{s.client_id});
    }
    return;
  }
  s.last_poll_ms = now;
  s.excess_polls = 0;
  storage::StoreStatus st;
  auto r = registrations_->poll(s.serial, now, &st);
  if (!r || r->status != identity::RegistrationStatus::kAccepted) return;
  // Accepted: a device user bound to this serial with a fresh random password. Only the hash is
  // kept, and each poll replaces the previous password, so a lost 70 line strands nobody.
  identity::UserRecord u;
  if (auto existing = directory_->user(r->tenant, "device_" + r->serial)) u = *existing;
  u.tenant = r->tenant;
  u.name = "device_" + r->serial;
  u.role = policy::Role::kDevice;
  u.enabled = true;
  u.device_serial = r->serial;
  std::string password;
  try {
    password = identity::random_secret();
    u.password_hash = identity::hash_secret(password);
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("c8y: bootstrap: cannot make a password: ") + e.what());
    return;
  }
  if (auto put = directory_->put_user(u); !put.ok()) {
    log(LogLevel::kError, "c8y: bootstrap: cannot store the device user: " + put.message);
    return;
  }
  registrations_->mark_issued(r->serial);
  std::string line = "70,";
  smartrest::append_csv_field(line, r->tenant);
  line.push_back(',');
  smartrest::append_csv_field(line, u.name);
  line.push_back(',');
  smartrest::append_csv_field(line, password);
  reply(s, "s/dcr", line);
}

// A device created implicitly (100, first data, first-level child) is a CREATE on the
// tenant's inventory streams like one created over REST or by 101.
void PluginCore::device_created(Session& s, uint64_t id) {
  if (!streams_.wanted(s.tenant)) return;
  domain::Inventory inv(*store_, *s.space);
  if (auto mo = inv.get(id))
    streams_.publish(s.tenant, policy::Mode::kPersistent, "inventory", id, "CREATE", *mo);
}

uint64_t PluginCore::own_device(Session& s, const std::string& name, const std::string& type,
                                storage::StoreStatus* st) {
  if (s.device_id) return s.device_id;
  domain::Inventory inv(*store_, *s.space);
  domain::DeviceSpec spec;
  spec.serial = s.serial;
  spec.name = name;
  spec.type = type;
  spec.owner = s.user;
  auto r = inv.ensure_device(spec);
  *st = r.status;
  if (!r.status.ok()) return 0;
  s.device_id = r.id;
  presence_->set(s.space, r.id, true);
  if (r.created) device_created(s, r.id);
  return r.id;
}

uint64_t PluginCore::child_device(Session& s, std::string_view child, storage::StoreStatus* st,
                                  std::string* error) {
  if (auto it = s.children.find(std::string(child)); it != s.children.end()) return it->second;
  uint64_t root = own_device(s, "", "", st);
  if (!root) return 0;
  domain::Inventory inv(*store_, *s.space);
  uint64_t id = 0;
  if (auto existing = inv.find_external(domain::kSerialType, child)) {
    // The child must be below the publishing device (not the device itself).
    if (*existing == root || !in_hierarchy(s, *existing)) {
      *error = "Device " + std::string(child) + " is not a child of this device";
      return 0;
    }
    id = *existing;
  } else {
    domain::DeviceSpec spec;
    spec.serial = std::string(child);
    spec.type = "c8y_MQTTChildDevice";
    spec.parent = root;
    spec.agent_marker = false;
    spec.owner = s.user;
    auto r = inv.ensure_device(spec);
    *st = r.status;
    if (!r.status.ok()) return 0;
    id = r.id;
    if (r.created) device_created(s, id);
  }
  if (s.children.size() < 1024) s.children.emplace(std::string(child), id);
  return id;
}

void PluginCore::handle_static(Session& s, const policy::TopicRoute& route,
                               std::string_view payload, MessageDecision* decision) {
  if (s.role != policy::Role::kDevice) return;
  smartrest::CsvReader reader(payload);
  size_t errors = 0;
  auto fail = [&](int code, std::string_view id, std::string_view text) {
    if (++errors <= kMaxErrorsPerPublish) error_line(s, code, id, text);
  };
  const int64_t now = now_ms();
  storage::StoreStatus st;
  uint64_t noted = 0;
  while (reader.next(record_)) {
    const std::string_view id =
        record_.fields.empty() ? std::string_view() : std::string_view(record_.fields[0]);
    if (record_.malformed) {
      fail(42, id, "Malformed line " + std::to_string(record_.line) + ": " + record_.error);
      continue;
    }
    auto kind = smartrest::template_kind(id);
    if (kind == smartrest::TemplateKind::kUnknown) {
      fail(40, id, "No static template for this message id");
      continue;
    }
    if (kind == smartrest::TemplateKind::kCreateDevice) {
      smartrest::CreateDevice cd;
      if (auto e = smartrest::decode_create_device(record_, cd)) {
        fail(e->code, id, e->text);
        continue;
      }
      if (!route.child.empty()) {
        fail(45, id, "100 creates the connecting device; use 101 for child devices");
        continue;
      }
      if (s.device_id) {
        fail(41, id, "Device already existing");
        continue;
      }
      domain::Inventory inv(*store_, *s.space);
      if (auto existing = inv.find_external(domain::kSerialType, s.serial)) {
        s.device_id = *existing;
        presence_->set(s.space, *existing, true);
        fail(41, id, "Device already existing");
        continue;
      }
      if (!own_device(s, cd.name, cd.type, &st)) break;
      continue;
    }
    // Everything else targets the topic's device.
    std::string target_error;
    uint64_t target = route.child.empty() ? own_device(s, "", "", &st)
                                          : child_device(s, route.child, &st, &target_error);
    if (!st.ok()) break;
    if (!target) {
      fail(45, id, target_error);
      continue;
    }
    if (target != noted) {  // availability: any data counts; once per device and publish
      note_data(s, target, now);
      noted = target;
    }
    if (kind != smartrest::TemplateKind::kMeasurement) {
      auto run = [&](uint64_t t) {
        switch (kind) {
          case smartrest::TemplateKind::kInventory:
            return handle_inventory(s, t, now);
          case smartrest::TemplateKind::kAlarm:
            return handle_alarm(s, route, t, now);
          case smartrest::TemplateKind::kEvent:
            return handle_event(s, route, t, now);
          case smartrest::TemplateKind::kOperation:
            return handle_operation(s, t);
          default:
            return handle_capability(s, id);
        }
      };
      LineOutcome r = run(target);
      if (r.status.not_found()) {
        // The device object was deleted (REST) after this session cached it: forget the cache
        // and run the line once more on the device as it resolves now (created again).
        if (target == s.device_id) s.device_id = 0;
        std::erase_if(s.children, [&](auto& c) { return c.second == target; });
        std::string again_error;
        storage::StoreStatus again_st;
        uint64_t again = route.child.empty()
                             ? own_device(s, "", "", &again_st)
                             : child_device(s, route.child, &again_st, &again_error);
        if (!again_st.ok())
          r.status = again_st;
        else if (!again)
          r = LineOutcome{{}, smartrest::TemplateError{45, again_error}};
        else
          r = run(again);
      }
      st = r.status;
      if (!st.ok()) break;
      if (r.error) fail(r.error->code, id, r.error->text);
      continue;
    }
    // Measurements.
    if (auto e = smartrest::decode_measurement(record_, now, measurement_)) {
      fail(e->code, id, e->text);
      continue;
    }
    st = store_measurement(s, route.mode, target);
    if (!st.ok()) break;
  }
  finish_lines(s, st, errors, decision);
}

// The end of a publish of SmartREST lines: a storage failure refuses the whole message (no
// PUBACK, the device resends); more than kMaxErrorsPerPublish rejected lines get one summary.
void PluginCore::finish_lines(Session& s, const storage::StoreStatus& st, size_t errors,
                              MessageDecision* decision) {
  if (!st.ok()) {
    log(LogLevel::kError, "c8y: storage failure for " + s.client_id + ": " + st.message);
    *decision = MessageDecision::kRefuse;
    return;
  }
  if (errors > kMaxErrorsPerPublish)
    error_line(
        s, 45, "",
        std::to_string(errors - kMaxErrorsPerPublish) + " more lines of this message rejected");
}

// measurement_ for `target`: stored in the modes that store (s/, q/) and published on the streams
// that want it; `out` (optional) receives its JSON, as the streams see it.
storage::StoreStatus PluginCore::store_measurement(Session& s, policy::Mode mode, uint64_t target,
                                                   nlohmann::json* out) {
  measurement_.source = target;
  measurement_.id = 0;
  if (mode == policy::Mode::kPersistent || mode == policy::Mode::kQuiescent) {
    domain::Measurements ms(*store_, *s.space);
    if (auto st = ms.store(measurement_); !st.ok()) return st;
  }
  if (!out && !streams_.wanted(s.tenant)) return {};
  auto j = domain::measurement_json(measurement_);
  if (!measurement_.id) j.erase("id");  // not stored (t/, c/): no id on the streams
  streams_.publish(s.tenant, mode, "measurements", target, "CREATE", j);
  if (out) *out = std::move(j);
  return {};
}

// ---------------------------------------------------------------------------------------------
// Presence and tick

void PluginCore::drain(common::outbox::Publish& p) {
  if (p.client_id.empty())
    streams_.forward(p.topic, p.payload);  // a stream message from the REST API
  else
    port_.publish(p.client_id, p.topic, p.payload, p.qos);
}
void PluginCore::drain(common::outbox::Kick& k) {
  port_.kick(k.client_id);
}
void PluginCore::drain(common::outbox::Log& l) {
  port_.log(l.level, l.message);
}
void PluginCore::drain(common::outbox::DeliverOperation& d) {
  deliver_operation(d.tenant, d.operation_id);
}
void PluginCore::drain(common::outbox::ObjectChanged& o) {
  object_changed(o.tenant, o.object_id, o.deleted);
}
void PluginCore::drain(common::outbox::CaChanged& c) {
  std::vector<std::string> ids;
  for (auto& [conn, sp] : sessions_)
    if (sp->ca_fingerprint == c.fingerprint &&
        !trusted_cas_->still_valid(sp->ca_fingerprint, sp->cert_serial))
      ids.push_back(sp->client_id);
  for (auto& id : ids) port_.kick(id);
}
void PluginCore::drain(common::outbox::KickUsers& k) {
  // Collected first: a kick reports the DISCONNECT at once, which changes sessions_.
  std::vector<std::string> ids;
  for (auto& [conn, sp] : sessions_)
    if (sp->tenant == k.tenant && (k.user.empty() || sp->user == k.user))
      ids.push_back(sp->client_id);
  for (auto& id : ids) port_.kick(id);
}

void PluginCore::on_tick() {
  if (auto e = store_->take_writer_error(); !e.empty()) log(LogLevel::kError, "c8y: " + e);
  for (auto& item : outbox_.take()) std::visit([this](auto& i) { drain(i); }, item);
  // PENDING operations go to a device once it has subscribed to an operation topic (after its
  // SUBACK); operations live in storage, not in Mosquitto's queues.
  if (!pending_deliveries_.empty()) {
    auto pending = std::move(pending_deliveries_);
    pending_deliveries_.clear();
    // One delivery per connection with the channels it subscribed to since the last tick.
    std::unordered_map<ConnId, unsigned> conns;
    for (auto& [c, ch] : pending) conns[c] |= ch;
    for (auto& [c, channels] : conns)
      if (auto it = sessions_.find(c); it != sessions_.end()) send_pending(*it->second, channels);
  }
  auto now = std::chrono::steady_clock::now();
  if (!closing_.empty())
    std::erase_if(closing_,
                  [&](auto& c) { return now - c.second.since > std::chrono::seconds(2); });
  if (!saved_subscriptions_.empty() && now - last_saved_sweep_ > std::chrono::minutes(1)) {
    // Sessions Mosquitto expired (persistent_client_expiration) without their client returning.
    last_saved_sweep_ = now;
    const int64_t oldest = wall_seconds() - static_cast<int64_t>(options_.session_expiry_s);
    std::erase_if(saved_subscriptions_, [&](auto& e) { return e.second.saved_s <= oldest; });
  }
  if (now - last_availability_check_ > std::chrono::milliseconds(500)) {
    last_availability_check_ = now;
    check_availability();
  }
  presence_->flush_if_due(now);
}

}  // namespace c8y::app
