// The broker adapter: the only code that includes Mosquitto's headers.
//
// Entry points, option parsing, callback trampolines into app::PluginCore, and the BrokerPort
// that the core uses to publish, kick and log. Every trampoline catches every exception: nothing
// ever propagates into Mosquitto. Every callback runs on the broker thread.
//
// mosquitto_broker.h must come before mosquitto_plugin.h on 2.0.11: mosquitto_plugin.h uses its
// types without including it (fixed in 2.0.13).
// clang-format off
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mosquitto.h>
// clang-format on

#include <openssl/x509.h>
#include <pthread.h>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>

#include "plugin/app/plugin_core.h"
#include "plugin/cluster/client_claims.h"
#include "plugin/cluster/etcd_client.h"
#include "plugin/cluster/node_agent.h"
#include "plugin/cluster/registration_mirror.h"
#include "plugin/cluster/tenant_control.h"
#include "plugin/domain/retention.h"
#include "plugin/identity/registration_owner.h"
#include "plugin/rest/rest_server.h"

#define C8Y_EXPORT extern "C" __attribute__((visibility("default")))

namespace c8y::broker {
namespace {

class MosquittoPort : public app::BrokerPort {
 public:
  void publish(const std::string& client_id, const std::string& topic, std::string_view payload,
               int qos) override {
    // _copy: the broker allocates and frees its own copy of the payload.
    // An empty client id publishes to every subscriber (the streams; the ACL decides who reads).
    int rc = mosquitto_broker_publish_copy(client_id.empty() ? nullptr : client_id.c_str(),
                                           topic.c_str(), static_cast<int>(payload.size()),
                                           payload.data(), qos, false, nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
      mosquitto_log_printf(MOSQ_LOG_WARNING, "c8y: publish to %s failed (%d)", client_id.c_str(),
                           rc);
  }
  void kick(const std::string& client_id) override {
    mosquitto_kick_client_by_clientid(client_id.c_str(), false);
  }
  void log(common::LogLevel level, const std::string& message) override {
    int l = MOSQ_LOG_INFO;
    switch (level) {
      case common::LogLevel::kDebug:
        l = MOSQ_LOG_DEBUG;
        break;
      case common::LogLevel::kInfo:
        l = MOSQ_LOG_INFO;
        break;
      case common::LogLevel::kNotice:
        l = MOSQ_LOG_NOTICE;
        break;
      case common::LogLevel::kWarning:
        l = MOSQ_LOG_WARNING;
        break;
      case common::LogLevel::kError:
        l = MOSQ_LOG_ERR;
        break;
    }
    mosquitto_log_printf(l, "%s", message.c_str());
  }
};

struct Instance {
  mosquitto_plugin_id_t* id = nullptr;
  MosquittoPort port;
  std::unique_ptr<app::PluginCore> core;
  std::unique_ptr<rest::RestServer> rest;  // started after the core, stopped before it
  // Retention passes on their own thread (and for POST /admin/retention); stopped after the
  // REST server, before the core (whose store they use).
  std::unique_ptr<domain::Retention> retention;
  std::unique_ptr<domain::RetentionRunner> retention_runner;
  std::unique_ptr<cluster::EtcdClient> etcd;  // cluster mode only (plugin_opt_cluster_etcd)
  std::unique_ptr<cluster::NodeAgent> agent;
  // D5 across nodes: client-id claims; their own etcd client with short timeouts, since a first
  // claim asks etcd on the broker thread.
  std::unique_ptr<cluster::EtcdClient> claims_etcd;
  std::unique_ptr<cluster::ClusterClientClaims> claims;
  // Bootstrap registrations of every node (cluster mode): this node's side of them, and the
  // mirror of all of them in etcd.
  std::unique_ptr<identity::RegistrationOwner> bootstrap_owner;
  std::unique_ptr<cluster::RegistrationMirror> registrations;
  std::unique_ptr<cluster::TenantControl> control;  // cluster mode with REST
};

// Cluster mode: client ids are claimed cluster-wide (plugin/cluster/client_claims.h).
void start_claims(Instance& inst, const app::Options& o) {
  auto s = inst.core->services();
  cluster::EtcdOptions eo;
  eo.endpoints = o.cluster_etcd;
  eo.request_timeout_ms = static_cast<int>(o.cluster_claim_timeout_ms);
  eo.connect_timeout_ms = std::min(eo.connect_timeout_ms, eo.request_timeout_ms);
  inst.claims_etcd = std::make_unique<cluster::EtcdClient>(eo);
  cluster::ClientClaimsOptions co{cluster::Keys(o.cluster_prefix), o.cluster_node};
  co.wait_budget = std::chrono::milliseconds(o.cluster_claim_budget_ms);
  identity::Directory* directory = &s.directory;
  inst.claims = std::make_unique<cluster::ClusterClientClaims>(
      *inst.claims_etcd, *inst.etcd, std::move(co), [directory] { return directory->tenant_ids(); },
      &s.outbox);
  inst.core->set_client_claims(inst.claims.get());
  inst.claims->start();
}

// Cluster mode: the node agent registers this node in etcd and places its tenants there, on its
// own thread (nothing on the message path talks to etcd).
void start_cluster(Instance& inst, const app::Options& o) {
  if (o.cluster_etcd.empty()) return;
  auto s = inst.core->services();
  cluster::EtcdOptions eo;
  eo.endpoints = o.cluster_etcd;
  inst.etcd = std::make_unique<cluster::EtcdClient>(eo);
  cluster::NodeAgentOptions ao{cluster::Keys(o.cluster_prefix),
                               {},
                               static_cast<int>(o.cluster_lease_ttl_s),
                               std::chrono::milliseconds(1000)};
  ao.record.name = o.cluster_node;
  ao.record.rest =
      !o.cluster_rest_advertise.empty()
          ? o.cluster_rest_advertise
          : (o.rest_bind.empty() ? "127.0.0.1" : o.rest_bind) + ":" + std::to_string(o.rest_port);
  ao.record.started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  domain::TenantSpaces* spaces = &s.spaces;
  ao.devices = [spaces] {
    int64_t n = 0;
    for (auto* space : spaces->all()) n += space->metrics.devices_connected.get();
    return n;
  };
  // One key of device tokens for the whole cluster: the first node's, kept in etcd. Asked once,
  // here at init (before REST and before any connection); without etcd the node's own key stays
  // and its tokens work on this node only.
  {
    cluster::KeyValue existing;
    const cluster::Keys keys(o.cluster_prefix);
    common::Status st = inst.etcd->create(keys.token_secret(), s.token_secret, 0, &existing);
    if (st.conflict() && !existing.value.empty()) {
      inst.core->set_token_secret(existing.value);
    } else if (!st.ok()) {
      mosquitto_log_printf(MOSQ_LOG_WARNING,
                           "c8y: cluster: the cluster's device-token key could not be read (%s); "
                           "this node's own key is used, its tokens work here only",
                           st.message.c_str());
    }
  }
  identity::Directory* directory = &s.directory;
  inst.agent = std::make_unique<cluster::NodeAgent>(
      *inst.etcd, std::move(ao), [directory] { return directory->tenant_ids(); }, &s.outbox);
  inst.core->set_placement(inst.agent.get());
  // The first round before anything is served, so the node starts knowing where every tenant
  // lives (a redirect, not a 401, for a tenant of another node). Bounded by etcd's timeouts;
  // without etcd the node starts on its own tenants and the agent's thread keeps trying.
  if (auto st = inst.agent->round(); !st.ok())
    mosquitto_log_printf(MOSQ_LOG_WARNING, "c8y: cluster: %s (starting without it)",
                         st.message.c_str());
  inst.agent->start();
  start_claims(inst, o);
  // Bootstrap registrations across nodes: the bootstrap user lands on the management tenant's
  // node, whichever node holds the device's tenant.
  inst.bootstrap_owner = std::make_unique<identity::RegistrationOwner>(
      s.directory, s.registrations, +[]() -> int64_t { return app::now_ms(); });
  inst.registrations = std::make_unique<cluster::RegistrationMirror>(
      *inst.etcd,
      cluster::RegistrationMirrorOptions{cluster::Keys(o.cluster_prefix), o.cluster_node},
      inst.agent.get(), inst.bootstrap_owner.get(), &s.outbox);
  inst.core->set_bootstrap_registry(inst.registrations.get());
  inst.registrations->start();
}

void start_retention(Instance& inst, const app::Options& o) {
  auto s = inst.core->services();
  inst.retention = std::make_unique<domain::Retention>(s.store, s.spaces, o.retention_days);
  inst.retention_runner = std::make_unique<domain::RetentionRunner>(
      *inst.retention, std::chrono::seconds(o.retention_interval_s), s.outbox);
  inst.retention_runner->start();
}

// The REST server on the core's services, when plugin_opt_rest_port is set.
bool start_rest(Instance& inst, const app::Options& o, std::string* error) {
  if (o.rest_port == 0) return true;
  auto s = inst.core->services();
  inst.rest = std::make_unique<rest::RestServer>(s.store, s.directory, s.authenticator, s.spaces,
                                                 s.registrations, s.trusted_cas, s.token_secret,
                                                 s.outbox, s.metrics);
  inst.rest->set_backup_dir(o.backup_dir);
  inst.rest->set_limit_burst(o.limit_burst_s);
  inst.rest->set_retention(inst.retention.get());
  inst.rest->set_placement(inst.agent.get());
  inst.rest->set_bootstrap_registry(inst.registrations.get());
  if (inst.agent) {  // creating, deleting and moving tenants across the cluster
    cluster::TenantControlOptions co{cluster::Keys(o.cluster_prefix)};
    co.scheme = o.rest_tls_cert_file.empty() ? "http" : "https";
    inst.control = std::make_unique<cluster::TenantControl>(
        *inst.etcd, *inst.agent, inst.rest->tenant_host(o.data_dir + "/transfers"), &s.outbox, co);
    inst.rest->set_cluster(inst.control.get());
    cluster::TenantControl* control = inst.control.get();
    inst.agent->set_changing([control](const std::string& t) { return control->changing(t); });
  }
  const bool tls = !o.rest_tls_cert_file.empty();
  const std::string bind = !o.rest_bind.empty() ? o.rest_bind : (tls ? "0.0.0.0" : "127.0.0.1");
  rest::HttpLimits limits;
  limits.max_connections_per_address = o.rest_max_connections_per_address;
  limits.request_timeout_s = o.rest_request_timeout_s;
  return inst.rest->start(bind, o.rest_port, o.rest_tls_cert_file, o.rest_tls_key_file, limits,
                          error);
}

void stop_all(Instance& inst) {
  if (inst.rest) inst.rest->stop();  // joins the REST threads: no request runs any more
  if (inst.agent) inst.agent->set_changing(nullptr);
  inst.control.reset();
  inst.rest.reset();
  if (inst.retention_runner) inst.retention_runner->stop();  // wakes it; a pass stops early
  inst.retention_runner.reset();
  inst.retention.reset();
  // The claims' thread, before the etcd client it uses.
  if (inst.claims) inst.claims->stop();
  if (inst.core) inst.core->set_client_claims(nullptr);
  inst.claims.reset();
  inst.claims_etcd.reset();
  if (inst.core) inst.core->set_bootstrap_registry(nullptr);
  if (inst.registrations) inst.registrations->stop();
  inst.registrations.reset();
  inst.bootstrap_owner.reset();
  // After the REST threads (they ask it where tenants live); revokes the lease, so the cluster
  // sees the node go at once.
  if (inst.agent) inst.agent->stop();
  if (inst.core) inst.core->set_placement(nullptr);
  inst.agent.reset();
  inst.etcd.reset();
  if (inst.core) inst.core->stop();
}

// One instance per process: with per_listener_settings true Mosquitto would initialise the plugin
// once per listener and never deliver TICK (2.0.11), so it must be false and a second init is
// refused.
std::atomic<bool> g_initialised{false};

size_t varint_size(size_t n) {
  size_t s = 1;
  while (n >= 128) {
    n /= 128;
    ++s;
  }
  return s;
}

// Size of the PUBLISH packet as the client sent it: the message cap counts the whole packet (fixed
// header, topic, packet id, properties, payload). Mosquitto does not expose the
// v5 property length; forwardable properties are counted approximately (their keys and values).
size_t publish_packet_size(const mosquitto_evt_message* ed) {
  size_t remaining = 2 + std::strlen(ed->topic) + (ed->qos > 0 ? 2 : 0) + ed->payloadlen;
  if (mosquitto_client_protocol_version(ed->client) == 5) {
    size_t props = 0;
    for (const mosquitto_property* p = ed->properties; p; p = mosquitto_property_next(p))
      props += 8;
    remaining += varint_size(props) + props;
  }
  return 1 + varint_size(remaining) + remaining;
}

int on_basic_auth(int, void* event_data, void* userdata) {
  auto* inst = static_cast<Instance*>(userdata);
  auto* ed = static_cast<mosquitto_evt_basic_auth*>(event_data);
  try {
    app::ConnectInfo info;
    info.conn = ed->client;
    const char* id = mosquitto_client_id(ed->client);
    const char* addr = mosquitto_client_address(ed->client);
    info.client_id = id ? id : "";
    info.username = ed->username ? ed->username : "";
    info.password = ed->password ? ed->password : "";
    info.address = addr ? addr : "";
    info.clean_session = mosquitto_client_clean_session(ed->client);
    info.protocol_version = mosquitto_client_protocol_version(ed->client);
    // A new reference (non-null only on a listener with require_certificate); freed here.
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        static_cast<X509*>(mosquitto_client_certificate(ed->client)), &X509_free);
    info.certificate = cert.get();
    return inst->core->on_connect(info) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_AUTH;
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: authentication failed with an exception: %s",
                         e.what());
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: authentication failed with an exception");
  }
  return MOSQ_ERR_AUTH;
}

// Waking the event loop from another thread. Mosquitto offers no way to add a file descriptor
// to its loop, and it sleeps in epoll_wait for up to 100 ms between TICKs when idle. A signal
// interrupts that wait (EINTR, which the loop treats as a normal wake-up), so the REST thread
// sends SIGURG to the broker thread after it queued work for it. The handler does nothing;
// Mosquitto does not use SIGURG (it only reports out-of-band TCP data on sockets that ask for
// it with F_SETOWN, which none do).
void on_wake_signal(int) {}

void install_waker(app::PluginCore& core) {
  struct sigaction sa {};
  sa.sa_handler = on_wake_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: epoll_wait returns EINTR either way
  if (sigaction(SIGURG, &sa, nullptr) != 0) {
    mosquitto_log_printf(MOSQ_LOG_WARNING,
                         "c8y: cannot install the wake-up signal; REST changes reach devices "
                         "within 100 ms instead of at once");
    return;
  }
  const pthread_t broker_thread = pthread_self();  // plugin init runs on the broker thread
  core.set_waker([broker_thread] { pthread_kill(broker_thread, SIGURG); });
}

int on_acl_check(int, void* event_data, void* userdata) {
  auto* inst = static_cast<Instance*>(userdata);
  auto* ed = static_cast<mosquitto_evt_acl_check*>(event_data);
  try {
    policy::Access access;
    switch (ed->access) {
      case MOSQ_ACL_READ:
        access = policy::Access::kRead;
        break;
      case MOSQ_ACL_WRITE:
        access = policy::Access::kWrite;
        break;
      case MOSQ_ACL_SUBSCRIBE:
        access = policy::Access::kSubscribe;
        break;
      case MOSQ_ACL_UNSUBSCRIBE:
        access = policy::Access::kUnsubscribe;
        break;
      default:
        return MOSQ_ERR_ACL_DENIED;
    }
    if (!ed->topic) return MOSQ_ERR_ACL_DENIED;
    std::string_view payload;
    if (ed->payload && ed->payloadlen > 0)
      payload = std::string_view(static_cast<const char*>(ed->payload), ed->payloadlen);
    return inst->core->on_acl(ed->client, access, ed->topic, ed->qos, payload)
               ? MOSQ_ERR_SUCCESS
               : MOSQ_ERR_ACL_DENIED;
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: ACL check failed with an exception");
  }
  return MOSQ_ERR_ACL_DENIED;  // never an error code: that would disconnect the publisher
}

int on_message(int, void* event_data, void* userdata) {
  auto* inst = static_cast<Instance*>(userdata);
  auto* ed = static_cast<mosquitto_evt_message*>(event_data);
  try {
    bool retain = ed->retain;
    auto decision = inst->core->on_message(
        ed->client, ed->topic ? ed->topic : "",
        std::string_view(static_cast<const char*>(ed->payload), ed->payloadlen),
        publish_packet_size(ed), &retain);
    ed->retain = retain;
    switch (decision) {
      case app::MessageDecision::kAccept:
        return MOSQ_ERR_SUCCESS;
      case app::MessageDecision::kDrop:
        return MOSQ_ERR_ACL_DENIED;
      case app::MessageDecision::kRefuse:
        return MOSQ_ERR_UNKNOWN;
    }
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: message handling failed: %s", e.what());
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: message handling failed");
  }
  ed->retain = false;
  return MOSQ_ERR_ACL_DENIED;  // acknowledged, not routed
}

int on_disconnect(int, void* event_data, void* userdata) {
  auto* inst = static_cast<Instance*>(userdata);
  auto* ed = static_cast<mosquitto_evt_disconnect*>(event_data);
  try {
    inst->core->on_disconnect(ed->client);
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: disconnect handling failed");
  }
  return MOSQ_ERR_SUCCESS;
}

int on_tick(int, void*, void* userdata) {
  auto* inst = static_cast<Instance*>(userdata);
  try {
    inst->core->on_tick();
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: tick failed");
  }
  return MOSQ_ERR_SUCCESS;
}

int on_reload(int, void*, void*) {
  return MOSQ_ERR_PLUGIN_DEFER;
}

struct Registration {
  int event;
  MOSQ_FUNC_generic_callback cb;
};
const Registration kCallbacks[] = {
    {MOSQ_EVT_BASIC_AUTH, on_basic_auth},
    {MOSQ_EVT_ACL_CHECK, on_acl_check},
    {MOSQ_EVT_MESSAGE, on_message},
    {MOSQ_EVT_DISCONNECT, on_disconnect},
    {MOSQ_EVT_TICK, on_tick},
    {MOSQ_EVT_RELOAD, on_reload},
};

}  // namespace
}  // namespace c8y::broker

using c8y::broker::Instance;

C8Y_EXPORT int mosquitto_plugin_version(int supported_version_count,
                                        const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i)
    if (supported_versions[i] == 5) return 5;
  return -1;
}

C8Y_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** user_data,
                                     struct mosquitto_opt* opts, int opt_count) {
  using namespace c8y;
  if (broker::g_initialised.exchange(true)) {
    mosquitto_log_printf(MOSQ_LOG_ERR,
                         "c8y: the plugin was initialised twice; mosquitto-c8y needs "
                         "'per_listener_settings false' and one 'plugin' line");
    return MOSQ_ERR_UNKNOWN;
  }
  try {
    app::Options options;
    for (int i = 0; i < opt_count; ++i) {
      if (auto err = app::apply_option(options, opts[i].key ? opts[i].key : "",
                                       opts[i].value ? opts[i].value : "")) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: %s", err->c_str());
        broker::g_initialised = false;
        return MOSQ_ERR_INVAL;
      }
    }
    if (auto err = app::check_options(options)) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: %s", err->c_str());
      broker::g_initialised = false;
      return MOSQ_ERR_INVAL;
    }
    auto inst = std::make_unique<Instance>();
    inst->id = identifier;
    std::string error;
    inst->core = app::PluginCore::create(options, inst->port, &error);
    if (!inst->core) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: cannot start: %s", error.c_str());
      broker::g_initialised = false;
      return MOSQ_ERR_UNKNOWN;
    }
    broker::start_retention(*inst, options);
    broker::start_cluster(*inst, options);
    if (!broker::start_rest(*inst, options, &error)) {
      broker::stop_all(*inst);
      mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: cannot start: %s", error.c_str());
      broker::g_initialised = false;
      return MOSQ_ERR_UNKNOWN;
    }
    inst->core->log_ready();
    broker::install_waker(*inst->core);
    for (auto& r : broker::kCallbacks) {
      if (mosquitto_callback_register(identifier, r.event, r.cb, nullptr, inst.get()) !=
          MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: cannot register callback %d", r.event);
        return MOSQ_ERR_UNKNOWN;
      }
    }
    *user_data = inst.release();
    return MOSQ_ERR_SUCCESS;
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: cannot start: %s", e.what());
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: cannot start");
  }
  broker::g_initialised = false;
  return MOSQ_ERR_UNKNOWN;
}

C8Y_EXPORT int mosquitto_plugin_cleanup(void* user_data, struct mosquitto_opt*, int) {
  using namespace c8y;
  auto* inst = static_cast<Instance*>(user_data);
  if (!inst) return MOSQ_ERR_SUCCESS;
  try {
    for (auto& r : broker::kCallbacks)
      mosquitto_callback_unregister(inst->id, r.event, r.cb, nullptr);
    broker::stop_all(*inst);  // joins the REST threads: nobody sends the wake-up signal any more
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "c8y: cleanup failed");
  }
  signal(SIGURG, SIG_DFL);  // the handler lives in this library, which may be unloaded
  delete inst;
  broker::g_initialised = false;
  return MOSQ_ERR_SUCCESS;
}
