// The plugin without Mosquitto: every broker event as a plain method over plain values.
//
// plugin/broker translates Mosquitto callbacks into these calls and the results back into
// Mosquitto return codes. All methods run on the broker thread; other threads (the REST server)
// talk to it only through the Outbox, drained on TICK.
//
// PluginCore is the composition root: it opens storage and identity, makes the components
// (sessions.h, upstream.h and the handlers it routes to, operation_delivery.h,
// device_availability.h, ...), wires them, and turns broker events into calls on them. It holds
// no protocol logic of its own beyond authentication at CONNECT and the outbox drain.
// No method throws: the adapter still catches everything as a last line of defence. The REST
// server is not part of the core: broker/plugin.cc starts it on services() and stops it first.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/app/broker_port.h"
#include "plugin/app/options.h"
#include "plugin/app/session.h"
#include "plugin/common/bootstrap_registry.h"
#include "plugin/common/client_claims.h"
#include "plugin/common/metrics.h"
#include "plugin/common/outbox.h"
#include "plugin/common/placement.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/authenticator.h"
#include "plugin/identity/client_id_directory.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/failure_throttle.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/trusted_cas.h"
#include "plugin/policy/topic_policy.h"
#include "storage/store.h"

namespace c8y::app {

struct Components;  // components.h

class PluginCore {
 public:
  static std::unique_ptr<PluginCore> create(const Options& options, BrokerPort& port,
                                            std::string* error);
  ~PluginCore();

  bool on_connect(const ConnectInfo& info);
  // `payload`: the message of a WRITE check (a will's, when the connection is closing).
  bool on_acl(ConnId conn, policy::Access access, std::string_view topic, int qos,
              std::string_view payload = {});
  MessageDecision on_message(ConnId conn, std::string_view topic, std::string_view payload,
                             size_t packet_size, bool* retain);
  void on_disconnect(ConnId conn);
  void on_tick();
  // Joins threads and closes storage. Safe to call twice.
  void stop();

  // How other threads wake the broker's event loop after handing it work (see Outbox).
  void set_waker(std::function<void()> waker) { outbox_.set_waker(std::move(waker)); }
  // In a cluster: where each tenant is served (outlives the core). A device of a tenant placed
  // on another node is refused at CONNECT (it reached this node through a stale route).
  void set_placement(const common::TenantPlacement* placement) { placement_ = placement; }
  // In a cluster: the cluster-wide client-id claims (D5 across nodes; outlives the core). A
  // CONNECT whose client id another identity claimed on any node is refused.
  void set_client_claims(common::ClientIdClaims* claims) { claims_ = claims; }
  // In a cluster: every node's bootstrap registrations (outlives the core; nullptr: none). A
  // bootstrap connection for a serial another node registered is let in and its polls answered
  // through it; a finished registration is removed from it.
  void set_bootstrap_registry(common::BootstrapRegistry* registry);
  // In a cluster: the key of device tokens that every node shares (so a token outlives a move of
  // its tenant). At init only, before the REST server starts and before any connection.
  void set_token_secret(std::string secret) { token_secret_ = std::move(secret); }

  // What the core shares with the REST server, which broker/plugin.cc starts next to the core
  // (and stops before it): the REST layer and this one do not know each other.
  struct Services {
    storage::Store& store;
    identity::Directory& directory;
    identity::Authenticator& authenticator;
    domain::TenantSpaces& spaces;
    identity::Registrations& registrations;
    identity::TrustedCas& trusted_cas;
    const std::string& token_secret;
    common::Outbox& outbox;
    common::NodeMetrics& metrics;
  };
  Services services();
  // Logs the "ready" line (once everything, the REST server included, is up), and how many MQTT
  // connections the process's file-descriptor limit leaves room for.
  void log_ready();
  // That line for a limit of `limit` file descriptors (RLIMIT_NOFILE's soft limit).
  static std::string descriptor_budget(uint64_t limit);

 private:
  PluginCore(const Options& options, BrokerPort& port);
  bool start(std::string* error);
  bool open_identity(std::string* error);
  void log(LogLevel level, const std::string& message);
  void count_refusal(std::string_view username, common::RefusalReason reason);
  // One item of the outbox, on the broker thread (on_tick).
  void drain(common::outbox::Publish& p);
  void drain(common::outbox::Kick& k);
  void drain(common::outbox::Log& l);
  void drain(common::outbox::DeliverOperation& d);
  void drain(common::outbox::ObjectChanged& o);
  void drain(common::outbox::CaChanged& c);
  void drain(common::outbox::KickUsers& k);
  void drain(common::outbox::Barrier& b);

  Options options_;
  BrokerPort& port_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<identity::Directory> directory_;
  std::unique_ptr<identity::Registrations> registrations_;
  std::unique_ptr<identity::TrustedCas> trusted_cas_;
  std::string token_secret_;  // HS256 key of device tokens
  std::unique_ptr<identity::Authenticator> authenticator_;
  std::unique_ptr<identity::ClientIdDirectory> client_ids_;
  std::unique_ptr<domain::TenantSpaces> spaces_;
  common::Outbox outbox_;
  common::NodeMetrics metrics_;
  std::unique_ptr<Components> parts_;  // made once storage and identity are open
  std::chrono::steady_clock::time_point last_availability_check_{};
  identity::LogRateLimiter auth_log_limit_;
  const common::TenantPlacement* placement_ = nullptr;
  common::ClientIdClaims* claims_ = nullptr;
  common::BootstrapRegistry* bootstrap_registry_ = nullptr;
  bool stopped_ = false;
};

}  // namespace c8y::app
