// The plugin without Mosquitto: every broker event as a plain method over plain values.
//
// plugin/broker translates Mosquitto callbacks into these calls and the results back into
// Mosquitto return codes. All methods run on the broker thread; other threads (the REST server)
// talk to it only through the Outbox, drained on TICK.
// No method throws: the adapter still catches everything as a last line of defence. The REST
// server is not part of the core: broker/plugin.cc starts it on services() and stops it first.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plugin/app/availability.h"
#include "plugin/app/broker_port.h"
#include "plugin/app/options.h"
#include "plugin/app/presence.h"
#include "plugin/app/stream_publisher.h"
#include "plugin/domain/measurement.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/authenticator.h"
#include "plugin/identity/client_id_directory.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/token_key.h"
#include "plugin/identity/trusted_cas.h"
#include "plugin/policy/topic_policy.h"
#include "plugin/policy/topic_route.h"
#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/custom_templates.h"
#include "plugin/smartrest/static_templates.h"
#include "storage/store.h"

namespace c8y::app {

using ConnId = const void*;

struct ConnectInfo {
  ConnId conn = nullptr;
  std::string_view client_id;
  std::string_view username;
  std::string_view password;
  std::string_view address;
  bool clean_session = true;
  int protocol_version = 4;  // 3: MQTT 3.1, 4: 3.1.1, 5: 5
  // The client certificate of a listener with require_certificate (borrowed for the call).
  X509* certificate = nullptr;
};

enum class MessageDecision {
  kAccept,  // handled: acknowledge (and let the broker route it; nobody may read device topics)
  kDrop,    // acknowledge but do not route (over the cap, or not for the broker to deliver)
  kRefuse,  // storage failure: no acknowledgement, the client resends (the connection closes)
};

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
  };
  Services services();
  // Logs the "ready" line (once everything, the REST server included, is up).
  void log_ready();

 private:
  struct Session {
    ConnId conn = nullptr;
    std::string client_id;
    std::string tenant;
    std::string user;
    policy::Role role = policy::Role::kDevice;
    std::string serial;
    std::string default_xid;
    bool persistent = false;
    domain::TenantSpace* space = nullptr;
    uint64_t device_id = 0;
    std::vector<std::pair<std::string, int>> subscriptions;  // filter, granted qos
    std::unordered_map<std::string, uint64_t> children;      // child serial -> id
    uint64_t noted_device = 0;  // availability: the device and time last noted (note_data)
    int64_t noted_ms = 0;
    int64_t last_poll_ms = 0;    // bootstrap: the last s/ucr poll that was answered
    int excess_polls = 0;        // bootstrap: polls faster than allowed since then
    std::string ca_fingerprint;  // certificate login: the issuing CA and the certificate serial
    std::string cert_serial;
    int64_t last_token_s = 0;  // s/uat: when the last token was issued, and the token
    std::string last_token;
    uint64_t json_messages = 0;  // messageId of JSON errors: the n-th publish on a JSON topic
  };

  PluginCore(const Options& options, BrokerPort& port);
  bool start(std::string* error);
  void log(LogLevel level, const std::string& message);
  int64_t now_ms() const;
  // Records a granted subscription of `s` (bookkeeping of streams and operation delivery).
  void add_subscription(Session& s, std::string_view filter, int qos);
  // A persistent session resumed by a new connection: its subscriptions come back (on_connect).
  void resume_subscriptions(Session& s);

  MessageDecision process_upstream(Session& s, std::string_view topic, std::string_view payload,
                                   size_t packet_size);
  // One item of the outbox, on the broker thread (on_tick).
  void drain(common::outbox::Publish& p);
  void drain(common::outbox::Kick& k);
  void drain(common::outbox::Log& l);
  void drain(common::outbox::DeliverOperation& d);
  void drain(common::outbox::ObjectChanged& o);
  void drain(common::outbox::CaChanged& c);
  void drain(common::outbox::KickUsers& k);
  void on_will(Session& s, std::string_view topic, std::string_view payload);
  // Availability: data from `device` (lastMessage, clears an unavailability alarm).
  void note_data(Session& s, uint64_t device, int64_t now_ms);
  void check_availability();
  // A REST change of a managed object: refresh the availability interval, or forget a deleted
  // object in the sessions' caches.
  void object_changed(const std::string& tenant, const std::string& id, bool deleted);
  void handle_static(Session& s, const policy::TopicRoute& route, std::string_view payload,
                     MessageDecision* decision);
  // One line of a static template (device_handlers.cc): a storage failure (refuse the message)
  // or an s/e line for the device.
  struct LineOutcome {
    storage::StoreStatus status;
    std::optional<smartrest::TemplateError> error;
  };
  LineOutcome handle_inventory(Session& s, uint64_t target, int64_t now);
  LineOutcome handle_alarm(Session& s, const policy::TopicRoute& route, uint64_t target,
                           int64_t now);
  LineOutcome handle_event(Session& s, const policy::TopicRoute& route, uint64_t target,
                           int64_t now);
  LineOutcome handle_capability(Session& s, std::string_view id);
  LineOutcome handle_operation(Session& s, uint64_t target);
  void handle_bootstrap_poll(Session& s);
  // At most this many s/e error lines per publish, then one summary line (the other lines are
  // still processed; finish_lines).
  static constexpr size_t kMaxErrorsPerPublish = 10;
  void finish_lines(Session& s, const storage::StoreStatus& st, size_t errors,
                    MessageDecision* decision);
  void reply_lines(const Session& s, std::string_view topic, const std::vector<std::string>& lines);
  storage::StoreStatus store_measurement(Session& s, policy::Mode mode, uint64_t target,
                                         nlohmann::json* out = nullptr);
  void handle_token_request(Session& s);
  // Certificate login: the tenant and device user of a client certificate, or a
  // reason to refuse.
  std::optional<std::string> certificate_login(const ConnectInfo& info, std::string_view serial,
                                               identity::AuthResult* auth,
                                               std::string* ca_fingerprint,
                                               std::string* cert_serial);
  storage::StoreStatus device_results(Session& s, uint64_t device, const nlohmann::json& op);
  // Operations (operation_handlers.cc): delivery of one new operation, and of every PENDING one
  // of a device and its children (on subscribing to s/ds and on 500).
  void deliver_operation(const std::string& tenant, const std::string& op_id);
  // Operation channels of a device: SmartREST lines on s/ds, JSON on
  // devicecontrol/notifications (or notification/operations), and response templates on
  // s/dc/<X-ID> and s/dd.
  static constexpr unsigned kOpsSmartRest = 1, kOpsJson = 2, kOpsTemplates = 4;
  static constexpr unsigned kOpsAll = kOpsSmartRest | kOpsJson | kOpsTemplates;
  void send_pending(Session& s, unsigned channels = kOpsAll);
  void send_operation(Session& s, const nlohmann::json& op, unsigned channels = kOpsAll);
  // Custom templates (template_handlers.cc).
  // A parsed collection and, for its plain measurement templates (POST MEASUREMENT, fixed type,
  // NUMBER values at <fragment>.<series>.value, fixed units), the plan that turns a usage line
  // into a measurement without building JSON (the hot path of custom-template ingest).
  struct FastMeasurement {
    std::string type;
    struct Series {
      std::string fragment, series, unit;
    };
    std::vector<Series> series;  // the usage line's values after the time, in order
  };
  struct CachedCollection {
    smartrest::Collection c;
    std::map<std::string, FastMeasurement, std::less<>> fast;
  };
  static std::optional<FastMeasurement> plan_of(const smartrest::RequestTemplate& t);
  std::shared_ptr<const CachedCollection> collection(Session& s, std::string_view xid,
                                                     uint64_t* mo_id = nullptr);
  // The measurement of a usage line by a fast plan; false: use the general path (which also
  // reports any error of the line).
  bool fast_measurement(const FastMeasurement& plan, const smartrest::RequestTemplate& t,
                        const smartrest::CsvRecord& rec, int64_t now_ms);
  void forget_collections(const std::string& tenant);
  void handle_template_definition(Session& s, std::string_view xid, std::string_view payload);
  void handle_template_usage(Session& s, const policy::TopicRoute& route, std::string_view payload,
                             MessageDecision* decision);
  std::optional<nlohmann::json> run_request(Session& s, const policy::TopicRoute& route,
                                            const smartrest::RequestAction& a, uint64_t target,
                                            storage::StoreStatus* st,
                                            smartrest::CustomTemplateError* err);
  void send_operation_templates(Session& s, const nlohmann::json& op, const std::string& serial);
  bool subscribed(const Session& s, std::string_view topic) const;
  // JSON via MQTT (json_handlers.cc).
  void handle_json(Session& s, const policy::TopicRoute& route, std::string_view payload,
                   MessageDecision* decision);
  void json_error(Session& s, const std::string& error, const std::string& message);
  // The device or one below it (any depth), by walking parents from `id`.
  bool in_hierarchy(Session& s, uint64_t id);
  void inventory_changed(Session& s, uint64_t id);
  void device_created(Session& s, uint64_t id);
  void watch_availability(domain::TenantSpace* space, uint64_t id, const nlohmann::json& mo,
                          int64_t now);
  size_t watch_monitored_devices();
  // Sends `payload` on `topic` to the session's client if it subscribed to it (nothing otherwise).
  void reply(const Session& s, std::string_view topic, const std::string& payload);
  void error_line(const Session& s, int code, std::string_view msg_id, std::string_view text);
  // The device the session publishes for; created on demand with the defaults of 100.
  uint64_t own_device(Session& s, const std::string& name, const std::string& type,
                      storage::StoreStatus* st);
  uint64_t child_device(Session& s, std::string_view child, storage::StoreStatus* st,
                        std::string* error);

  Options options_;
  BrokerPort& port_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<identity::Directory> directory_;
  std::unique_ptr<identity::Registrations> registrations_;
  std::unique_ptr<identity::TrustedCas> trusted_cas_;
  std::string token_secret_;  // HS256 key of device tokens (system family "Sjwt")
  std::unique_ptr<identity::Authenticator> authenticator_;
  std::unique_ptr<identity::ClientIdDirectory> client_ids_;
  std::unique_ptr<domain::TenantSpaces> spaces_;
  common::Outbox outbox_;

  std::unordered_map<ConnId, std::unique_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::string> live_serials_;  // tenant '\0' serial -> client id
  // Live connections per client id: more than one only during a takeover, when Mosquitto
  // authenticates the new connection before it reports the old one gone.
  std::unordered_map<std::string, int> connections_by_client_id_;
  // Subscribed to an operation channel since the last tick, and to which (kOps* bits).
  std::vector<std::pair<ConnId, unsigned>> pending_deliveries_;
  // Subscriptions of persistent sessions. Mosquitto resumes a session (clean session off) with
  // its subscriptions and the client sends no SUBSCRIBE, so the plugin never sees them again:
  // it keeps them per client id while the session is offline (Mosquitto's persistence is off,
  // so they live as long as Mosquitto's in-memory session), and hands them to the connection
  // that resumes it. `resuming_`: a persistent connection that took over a live one, waiting
  // for the old one's DISCONNECT to take its subscriptions.
  struct SavedSubscriptions {
    std::string tenant, user;
    std::vector<std::pair<std::string, int>> subscriptions;
    int64_t saved_s = 0;
  };
  std::unordered_map<std::string, SavedSubscriptions> saved_subscriptions_;
  std::unordered_map<std::string, ConnId> resuming_;
  std::chrono::steady_clock::time_point last_saved_sweep_{};
  // Parsed template collections by tenant '\0' X-ID, with their managed-object id.
  std::unordered_map<std::string, std::pair<std::shared_ptr<const CachedCollection>, uint64_t>>
      collections_;
  // Sessions of connections that just closed, kept briefly because Mosquitto sends a will
  // through an ACL WRITE check after it reported the DISCONNECT.
  struct Closing {
    std::unique_ptr<Session> session;
    std::chrono::steady_clock::time_point since;
  };
  std::unordered_map<ConnId, Closing> closing_;
  AvailabilityMonitor availability_;
  StreamPublisher streams_{port_};
  std::unique_ptr<PresenceTracker> presence_;  // made when the store opens
  std::chrono::steady_clock::time_point last_availability_check_{};
  identity::LogRateLimiter auth_log_limit_;
  identity::LogRateLimiter poll_log_limit_{identity::steady_now, 1, 10};

  smartrest::CsvRecord record_;  // reused per message
  domain::Measurement measurement_;
  bool stopped_ = false;
};

}  // namespace c8y::app
