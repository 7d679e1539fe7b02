#include "plugin/app/plugin_core.h"

#include <sys/resource.h>

#include <fstream>
#include <sstream>
#include <variant>

#include "plugin/app/components.h"

#include "plugin/domain/inventory.h"
#include "plugin/identity/names.h"
#include "plugin/identity/password_hash.h"
#include "plugin/identity/provisioning.h"
#include "plugin/identity/token_key.h"

namespace c8y::app {

namespace {

constexpr std::string_view kBootstrapTenant = "management";
constexpr std::string_view kBootstrapUser = "devicebootstrap";

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
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
  so.family_write_buffer = size_t{options_.memtable_mb} << 20;
  so.write_buffer_bytes = size_t{options_.memtable_budget_mb} << 20;
  so.block_cache_bytes = size_t{options_.block_cache_mb} << 20;
  store_ = storage::Store::open(so, error);
  if (!store_) return false;
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
    if (auto st = identity::apply_provisioning(*directory_, text, &report); !st.ok()) {
      *error = "plugin_opt_provisioning_file " + options_.provisioning_file + ": " + st.message;
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
      if (auto st = directory_->put_tenant(t); !st.ok()) {
        *error = "cannot create the bootstrap tenant: " + st.message;
        return false;
      }
    }
    identity::UserRecord u;
    u.tenant = std::string(kBootstrapTenant);
    u.name = std::string(kBootstrapUser);
    u.role = policy::Role::kBootstrap;
    auto hash = identity::hash_password(secret);
    if (!hash) {
      *error = "plugin_opt_bootstrap_secret_file: the secret could not be hashed";
      return false;
    }
    u.password_hash = std::move(*hash);
    u.persisted = false;  // in memory only: nothing is written
    if (auto st = directory_->put_user(u); !st.ok()) {
      *error = "cannot add the bootstrap user: " + st.message;
      return false;
    }
  }
  authenticator_ =
      std::make_unique<identity::Authenticator>(*directory_, options_.credential_cache);
  client_ids_ = std::make_unique<identity::ClientIdDirectory>(*store_, options_.session_expiry_s);
  if (auto st = client_ids_->load(wall_seconds()); !st.ok()) {
    *error = "cannot load the client-id directory: " + st.message;
    return false;
  }
  spaces_ = std::make_unique<domain::TenantSpaces>(*store_, options_.node_id);
  parts_ = std::make_unique<Components>(
      Components::Deps{options_, port_, *store_, *spaces_, *directory_, *registrations_,
                       *trusted_cas_, token_secret_, *client_ids_, outbox_, metrics_});
  parts_->quotas.refresh(std::chrono::steady_clock::now(), true);
  if (size_t n = parts_->presence.mark_all_disconnected(*spaces_))
    log(LogLevel::kInfo, "c8y: marked " + std::to_string(n) + " devices disconnected");
  if (size_t n = parts_->availability.watch_monitored_devices(*spaces_))
    log(LogLevel::kInfo, "c8y: watching the availability of " + std::to_string(n) + " devices");
  return true;
}

void PluginCore::set_bootstrap_registry(common::BootstrapRegistry* registry) {
  bootstrap_registry_ = registry;
  if (parts_) parts_->credentials.set_registry(registry);
}

PluginCore::Services PluginCore::services() {
  return {*store_,       *directory_,   *authenticator_, *spaces_, *registrations_,
          *trusted_cas_, token_secret_, outbox_,         metrics_};
}

// Mosquitto takes one descriptor per connection; RocksDB keeps up to kMaxOpenFiles open; the
// listeners, epoll, the ingest log, the REST server's connections and libraries take the rest
// (about 100 are kept aside for them).
std::string PluginCore::descriptor_budget(uint64_t limit) {
  constexpr uint64_t kOthers = 100;
  const uint64_t taken = storage::kMaxOpenFiles + kOthers;
  const uint64_t room = limit > taken ? limit - taken : 0;
  return "c8y: file descriptors: limit " + std::to_string(limit) + " (ulimit -n); RocksDB keeps " +
         "up to " + std::to_string(storage::kMaxOpenFiles) + " open, which leaves room for about " +
         std::to_string(room) + " MQTT connections (one each); raise the limit (LimitNOFILE) " +
         "for more";
}

void PluginCore::log_ready() {
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    const uint64_t limit = nofile.rlim_cur;
    log(limit < storage::kMaxOpenFiles + 100 + 1000 ? LogLevel::kWarning : LogLevel::kInfo,
        descriptor_budget(limit));
  }
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
    if (parts_) parts_->presence.flush();
    if (auto st = store_->settle(); !st.ok()) log(LogLevel::kError, "c8y: at stop: " + st.message);
  }
  for (auto& item : outbox_.take())
    if (auto* l = std::get_if<common::outbox::Log>(&item)) port_.log(l->level, l->message);
  parts_.reset();
  spaces_.reset();
  client_ids_.reset();
  authenticator_.reset();
  registrations_.reset();
  trusted_cas_.reset();
  directory_.reset();
  store_.reset();  // closes RocksDB
}

void PluginCore::log(LogLevel level, const std::string& message) {
  port_.log(level, message);
}

// ---------------------------------------------------------------------------------------------
// Connections

namespace {
common::RefusalReason refusal_reason(identity::AuthResult::Outcome outcome) {
  switch (outcome) {
    case identity::AuthResult::kUnknownTenant:
      return common::RefusalReason::kUnknownTenant;
    case identity::AuthResult::kDisabled:
      return common::RefusalReason::kDisabled;
    case identity::AuthResult::kThrottled:
      return common::RefusalReason::kBackoff;
    case identity::AuthResult::kOk:
    case identity::AuthResult::kBadUsername:
    case identity::AuthResult::kUnknownUser:
    case identity::AuthResult::kNoPassword:
    case identity::AuthResult::kBadPassword:
      break;
  }
  return common::RefusalReason::kBadCredentials;
}
}  // namespace

bool PluginCore::on_connect(const ConnectInfo& info) {
  parts_->sessions.forget_closing(
      info.conn);  // a new connection that reuses the address of a closed one
  // SIGHUP re-authenticates every session: a connection we already accepted stays accepted
  // unless its user was disabled or changed its password meanwhile (the check below is cached).
  identity::AuthResult auth;
  auto refuse = [&](common::RefusalReason reason, const std::string& why,
                    domain::TenantSpace* space = nullptr) {
    if (space)
      space->metrics.refuse(reason);
    else
      count_refusal(info.username, reason);
    if (auth_log_limit_.allow()) {
      auto suppressed = auth_log_limit_.take_suppressed();
      log(LogLevel::kNotice,
          "c8y: refused client '" + std::string(info.client_id) + "' user '" +
              std::string(info.username) + "' from " + std::string(info.address) + ": " + why +
              (suppressed ? " (" + std::to_string(suppressed) + " similar lines suppressed)" : ""));
    }
    return false;
  };
  if (info.client_id.empty()) return refuse(common::RefusalReason::kClientId, "empty client id");
  // MQTT 3.1 allows client ids of 1..23 characters; Cumulocity answers a longer one with
  // "not authorized" (CONNACK 5), and so do we.
  if (info.protocol_version == 3 && info.client_id.size() > 23)
    return refuse(common::RefusalReason::kClientId, "MQTT 3.1 client id longer than 23 characters");
  auto cid = identity::parse_client_id(info.client_id);
  if (!cid) return refuse(common::RefusalReason::kClientId, "invalid client id");
  std::string ca_fingerprint, cert_serial;
  if (info.certificate) {
    // The certificate listener: the certificate decides (CA -> tenant, CN -> serial); a password
    // is not checked.
    std::string why;
    auto login = parts_->credentials.certificate_login(info, cid->serial, &why);
    if (!login) return refuse(common::RefusalReason::kCertificate, why);
    auth = std::move(login->auth);
    ca_fingerprint = std::move(login->ca_fingerprint);
    cert_serial = std::move(login->cert_serial);
  } else {
    if (info.username.empty())
      return refuse(common::RefusalReason::kBadCredentials, "anonymous clients are not allowed");
    auth = authenticator_->authenticate(info.username, info.password, info.address);
    if (!auth.ok()) return refuse(refusal_reason(auth.outcome), auth.reason());
  }

  const bool bootstrap = auth.role == policy::Role::kBootstrap;
  if (placement_ && !bootstrap) {
    if (auto home = placement_->home(auth.tenant); !home.here)
      return refuse(common::RefusalReason::kElsewhere,
                    "tenant " + auth.tenant + " is served by node " + home.node);
  }
  if (bootstrap) {
    // The bootstrap user polls for one registered device; a serial no tenant
    // registered gets nothing, and nothing is created for it.
    if (!cid->default_xid.empty() || info.client_id != cid->serial)
      return refuse(common::RefusalReason::kClientId,
                    "a bootstrap connection's client id must be the bare device serial");
    if (!registrations_->exists(cid->serial) &&
        !(bootstrap_registry_ && bootstrap_registry_->find(cid->serial)))
      return refuse(common::RefusalReason::kOther,
                    "no tenant registered device " + std::string(cid->serial));
  }
  if (!auth.device_serial.empty() && auth.device_serial != cid->serial)
    return refuse(common::RefusalReason::kClientId,
                  "user " + auth.user + " belongs to device " + auth.device_serial);

  const int64_t now_s = wall_seconds();
  if (!client_ids_->may_claim(info.client_id, auth.tenant, auth.user, now_s))
    return refuse(common::RefusalReason::kClientId, "client id is held by another identity");

  if (Session* live = parts_->sessions.find(info.conn)) {
    if (live->tenant == auth.tenant && live->user == auth.user && live->client_id == info.client_id)
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
  if (!ca_fingerprint.empty()) {
    s->extra_mut().ca_fingerprint = std::move(ca_fingerprint);
    s->extra_mut().cert_serial = std::move(cert_serial);
  }
  s->space = spaces_->get(auth.tenant);
  if (!s->space) return refuse(common::RefusalReason::kOther, "tenant has no storage");
  if (s->role == policy::Role::kDevice &&
      !parts_->quotas.admit_device(*s->space,
                                   parts_->sessions.device_live(auth.tenant, cid->serial)))
    return refuse(common::RefusalReason::kQuota,
                  "tenant " + auth.tenant + " has its limit of " +
                      std::to_string(s->space->limits.devices()) + " devices connected",
                  s->space);

  // In a cluster the id is also claimed for this identity on every node (D5 across nodes): a
  // reconnect is answered from the node's cache, a first claim asks etcd once.
  if (claims_ && !bootstrap) {
    auto v = claims_->claim(info.client_id, auth.tenant, auth.user);
    if (v.outcome == common::ClaimVerdict::kHeld)
      return refuse(common::RefusalReason::kClientId,
                    "client id is held by another identity (tenant " + v.holder_tenant +
                        ", claimed in the cluster)");
  }
  // A bootstrap connection does not hold its client id: the device reconnects with the same id
  // under its new credentials right after.
  if (!bootstrap)
    if (auto st = client_ids_->claim(info.client_id, auth.tenant, auth.user, s->persistent);
        !st.ok())
      log(LogLevel::kWarning, "c8y: cannot persist client id " + s->client_id + ": " + st.message);
  // The first login with credentials from bootstrap finishes the registration.
  if (!auth.device_serial.empty() && registrations_->complete(auth.tenant, auth.device_serial)) {
    log(LogLevel::kNotice, "c8y: device " + auth.device_serial + " of tenant " + auth.tenant +
                               " logged in with its bootstrap credentials; registration complete");
    if (bootstrap_registry_) bootstrap_registry_->finished(auth.device_serial, auth.tenant);
  }

  if (s->role == policy::Role::kDevice && !parts_->devices.find_own_device(*s) &&
      !s->extra().ca_fingerprint.empty()) {
    // A certificate device's first connection creates the device.
    storage::StoreStatus st;
    if (!parts_->devices.own_device(*s, "", "", &st))
      log(LogLevel::kWarning, "c8y: cannot create device " + s->serial + ": " + st.message);
  }
  parts_->sessions.open(std::move(s));
  return true;
}

// A refusal counts for the tenant the user name claims when this node has it, otherwise for
// the node: a label taken from what any client sends would let it create series at will.
void PluginCore::count_refusal(std::string_view username, common::RefusalReason reason) {
  const auto slash = username.find('/');
  domain::TenantSpace* space =
      slash == std::string_view::npos ? nullptr : spaces_->get(username.substr(0, slash));
  if (space)
    space->metrics.refuse(reason);
  else
    metrics_.refused_without_tenant[static_cast<size_t>(reason)].add();
}

void PluginCore::on_disconnect(ConnId conn) {
  parts_->sessions.close(conn);
}

bool PluginCore::on_acl(ConnId conn, policy::Access access, std::string_view topic, int qos,
                        std::string_view payload) {
  Session* s = parts_->sessions.find(conn);
  if (!s) {
    // A last will comes as a WRITE check of a connection that is already closed. It is handled
    // as an upstream publish of that device and never delivered.
    if (access == policy::Access::kWrite)
      if (Session* closed = parts_->sessions.closing(conn))
        parts_->upstream.will(*closed, topic, payload);
    return false;
  }
  if (access == policy::Access::kWrite && s->role == policy::Role::kDevice &&
      parts_->sessions.taken_over(*s)) {
    // While a new connection with this client id takes this one over (it authenticated,
    // this one is not yet reported gone), this connection cannot publish: a WRITE check now is
    // its will, which Mosquitto sends before it reports the DISCONNECT.
    parts_->upstream.will(*s, topic, payload);
    return false;
  }
  if (!policy::allowed(policy::Caller{s->role, s->tenant}, access, topic)) return false;
  if (access == policy::Access::kSubscribe)
    parts_->sessions.add_subscription(*s, topic, qos);
  else if (access == policy::Access::kUnsubscribe)
    parts_->sessions.remove_subscription(*s, topic);
  return true;
}

MessageDecision PluginCore::on_message(ConnId conn, std::string_view topic,
                                       std::string_view payload, size_t packet_size, bool* retain) {
  *retain = false;  // upstream retained publishes are accepted and never retained
  Session* s = parts_->sessions.find(conn);
  if (!s) return MessageDecision::kDrop;
  return parts_->upstream.publish(*s, topic, payload, packet_size);
}

// ---------------------------------------------------------------------------------------------
// The outbox and the tick

void PluginCore::drain(common::outbox::Publish& p) {
  if (p.client_id.empty())
    parts_->streams.forward(p.topic, p.payload);  // a stream message from the REST API
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
  parts_->operations.deliver(d.tenant, d.operation_id);
}
// A REST change of a managed object: it may be a template collection (reloaded on demand), a
// device whose availability interval changed, or a deleted device the sessions still cache.
void PluginCore::drain(common::outbox::ObjectChanged& o) {
  auto* space = spaces_->get(o.tenant);
  auto id = domain::parse_id(o.object_id);
  if (!space || !id) return;
  parts_->custom_templates.forget(o.tenant);
  parts_->availability.object_changed(space, *id, o.deleted);
  if (o.deleted)
    parts_->sessions.for_each([&](Session& s) {
      if (s.space == space) DeviceResolver::forget(s, *id);
    });
}
void PluginCore::drain(common::outbox::CaChanged& c) {
  std::vector<std::string> ids;
  parts_->sessions.for_each([&](Session& s) {
    const SessionExtra& x = s.extra();
    if (x.ca_fingerprint == c.fingerprint &&
        !trusted_cas_->still_valid(x.ca_fingerprint, x.cert_serial))
      ids.push_back(s.client_id);
  });
  for (auto& id : ids) port_.kick(id);
}
void PluginCore::drain(common::outbox::KickUsers& k) {
  // Collected first: a kick reports the DISCONNECT at once, which changes sessions_.
  std::vector<std::string> ids;
  parts_->sessions.for_each([&](Session& s) {
    if (s.tenant == k.tenant && (k.user.empty() || s.user == k.user)) ids.push_back(s.client_id);
  });
  for (auto& id : ids) port_.kick(id);
  // A deleted user (or tenant) gives up its cluster-wide client-id claims; a password change or
  // a disabled user keeps them. A tenant now placed on another node moved there with its claims:
  // this node only stops answering for them. (A tenant being deleted here is not served while
  // its placement still names this node: that is a deletion, not a move.)
  if (claims_) {
    const bool gone =
        k.user.empty() ? !directory_->has_tenant(k.tenant) : !directory_->user(k.tenant, k.user);
    const common::TenantHome home = placement_ ? placement_->home(k.tenant) : common::TenantHome{};
    const bool moved = !home.here && !home.node.empty() && home.node != options_.cluster_node;
    if (moved) {
      if (k.user.empty()) claims_->forget(k.tenant);
    } else if (gone) {
      claims_->release(k.tenant, k.user);
    }
  }
}

void PluginCore::drain(common::outbox::Barrier& b) {
  if (b.reached) b.reached->set_value();
}

void PluginCore::on_tick() {
  if (auto e = store_->take_writer_error(); !e.empty()) log(LogLevel::kError, "c8y: " + e);
  for (auto& item : outbox_.take()) std::visit([this](auto& i) { drain(i); }, item);
  // PENDING operations go to a device once it has subscribed to an operation topic (after its
  // SUBACK); operations live in storage, not in Mosquitto's queues.
  parts_->operations.flush();
  auto now = std::chrono::steady_clock::now();
  parts_->sessions.tick(now);
  parts_->quotas.refresh(now);
  if (now - last_availability_check_ > std::chrono::milliseconds(500)) {
    last_availability_check_ = now;
    parts_->availability.check(now_ms());
  }
  parts_->presence.flush_if_due(now);
}

}  // namespace c8y::app
