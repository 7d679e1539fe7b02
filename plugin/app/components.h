// The components of the plugin core and how they are wired: the one place that knows them all.
// PluginCore (the composition root) owns one Components next to storage and identity; unit
// tests make one over a fake BrokerPort and a real store in a temporary directory.
//
// Each component has one job and gets references only to what it needs (see each header):
//   PresenceTracker        c8y_Connection.status of devices (connections counted, writes batched)
//   StreamPublisher        real-time streams for applications, only while someone listens
//   DeviceReplies          answers to one device on the topics it subscribed to
//   DeviceResolver         the device (and child) a publish is for, created on demand
//   MeasurementWriter      a measurement stored (by mode) and published on the streams
//   DeviceAvailability     lastMessage, and the unavailability alarm of quiet devices
//   SessionTable           live sessions, client-id takeovers, persistent subscriptions, wills
//   CustomTemplateHandler  s/ut, s/uc, s/ud and response templates
//   OperationDelivery      operations to the agent's operation topics
//   StaticTemplateHandler  the static templates (100-507, 600, 602)
//   JsonTopicHandler       JSON via MQTT
//   DeviceCredentials      certificate login, bootstrap pairing, device tokens
//   Quotas                 per-tenant limits: devices connected, message rates, stored bytes
//   UpstreamRouter         a publish (or will) to the handler of its topic
#pragma once

#include <string>
#include <string_view>

#include "plugin/app/broker_port.h"
#include "plugin/app/custom_template_handler.h"
#include "plugin/app/device_availability.h"
#include "plugin/app/device_credentials.h"
#include "plugin/app/devices.h"
#include "plugin/app/json_topic_handler.h"
#include "plugin/app/measurement_writer.h"
#include "plugin/app/operation_delivery.h"
#include "plugin/app/options.h"
#include "plugin/app/presence.h"
#include "plugin/app/quotas.h"
#include "plugin/app/replies.h"
#include "plugin/app/sessions.h"
#include "plugin/app/static_template_handler.h"
#include "plugin/app/stream_publisher.h"
#include "plugin/app/upstream.h"
#include "plugin/common/outbox.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/client_id_directory.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/trusted_cas.h"
#include "storage/store.h"

namespace c8y::app {

// A log function that writes to the broker's log.
inline Log log_to(BrokerPort& port) {
  return [&port](LogLevel level, const std::string& message) { port.log(level, message); };
}

// Every component, in the order they depend on each other (each gets references to the ones
// above it).
struct Components {
  // What the components share: options, the broker, storage and identity (owned by PluginCore,
  // or by a test).
  struct Deps {
    const Options& options;
    BrokerPort& port;
    storage::Store& store;
    domain::TenantSpaces& spaces;
    identity::Directory& directory;
    identity::Registrations& registrations;
    identity::TrustedCas& trusted_cas;
    const std::string& token_secret;
    identity::ClientIdDirectory& client_ids;
    common::Outbox& outbox;
    common::NodeMetrics& metrics;
  };
  explicit Components(const Deps& d)
      : presence(d.store, log_to(d.port)),
        streams(d.port),
        replies(d.port),
        devices(d.store, presence, streams),
        writer(d.store, streams),
        availability(d.store, devices, streams, log_to(d.port)),
        sessions(d.options.session_expiry_s, d.client_ids, presence, d.outbox,
                 {[this](Session& s, std::string_view filter) { subscribed(s, filter); },
                  [this](Session& s, size_t n) { unsubscribed(s, n); }}),
        custom_templates(d.options, d.store, replies, devices, availability, writer, streams,
                         log_to(d.port)),
        operations(d.options, d.store, d.spaces, sessions, replies, custom_templates),
        static_templates(d.store, replies, devices, availability, writer, streams, operations),
        json(d.store, replies, devices, availability, writer, streams),
        credentials(d.options, d.directory, d.registrations, d.trusted_cas, d.token_secret, replies,
                    d.outbox, d.metrics, log_to(d.port)),
        quotas(d.options, d.directory, d.spaces, d.store, replies),
        upstream(d.options, replies, static_templates, custom_templates, json, credentials,
                 presence, quotas) {}

  Components(const Components&) = delete;
  Components& operator=(const Components&) = delete;

  // A subscription was granted: admins listen to streams; a device's operation topic brings
  // its PENDING operations.
  void subscribed(Session& s, std::string_view filter) {
    if (s.role == policy::Role::kAdmin) streams.subscribed(s.tenant);
    operations.subscribed(s, filter);
  }
  void unsubscribed(Session& s, size_t n) {
    if (s.role == policy::Role::kAdmin) streams.unsubscribed(s.tenant, n);
  }

  PresenceTracker presence;
  StreamPublisher streams;
  DeviceReplies replies;
  DeviceResolver devices;
  MeasurementWriter writer;
  DeviceAvailability availability;
  SessionTable sessions;
  CustomTemplateHandler custom_templates;
  OperationDelivery operations;
  StaticTemplateHandler static_templates;
  JsonTopicHandler json;
  DeviceCredentials credentials;
  Quotas quotas;
  UpstreamRouter upstream;
};

}  // namespace c8y::app
