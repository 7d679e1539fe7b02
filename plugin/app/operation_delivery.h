// Operation delivery: operations reach the agent that handles their device on the operation
// topics its connection subscribed to — SmartREST lines on s/ds, JSON on
// devicecontrol/notifications (or notification/operations), and response templates on
// s/dc/<X-ID> and s/dd. One job: a new operation goes to the live sessions of its agent at once,
// and every PENDING operation of a device and the devices below it goes to a connection that
// subscribes to an operation topic (after its SUBACK, on the next tick) or sends 500. Operations
// live in storage, not in Mosquitto's queues. Broker thread only. Depends on: domain (inventory,
// operations), smartrest (rendering), the SessionTable, DeviceReplies and the
// CustomTemplateHandler (response templates).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/app/custom_template_handler.h"
#include "plugin/app/options.h"
#include "plugin/app/replies.h"
#include "plugin/app/session.h"
#include "plugin/app/sessions.h"
#include "plugin/domain/tenant_space.h"
#include "storage/store.h"

namespace c8y::app {

class OperationDelivery {
 public:
  // Operation channels of a connection.
  static constexpr unsigned kSmartRest = 1, kJson = 2, kTemplates = 4;
  static constexpr unsigned kAll = kSmartRest | kJson | kTemplates;
  // The channel a subscription filter opens (0: none).
  static unsigned channel_of(std::string_view filter);

  OperationDelivery(const Options& options, storage::Store& store, domain::TenantSpaces& spaces,
                    SessionTable& sessions, DeviceReplies& replies,
                    CustomTemplateHandler& templates)
      : options_(options),
        store_(store),
        spaces_(spaces),
        sessions_(sessions),
        replies_(replies),
        templates_(templates) {}

  // A device's connection subscribed to `filter`: its PENDING operations follow on the next
  // flush() if that opens an operation channel.
  void subscribed(const Session& s, std::string_view filter);
  // On a tick: the PENDING operations of connections that subscribed since the last one.
  void flush();
  // A new operation (created over REST): to the live sessions of its device's agent.
  void deliver(const std::string& tenant, const std::string& operation_id);
  // Every PENDING operation of the session's device and the devices below it without an agent
  // of their own (500, and a new subscription).
  void send_pending(Session& s, unsigned channels = kAll);

 private:
  void send(Session& s, const nlohmann::json& op, unsigned channels);

  const Options& options_;
  storage::Store& store_;
  domain::TenantSpaces& spaces_;
  SessionTable& sessions_;
  DeviceReplies& replies_;
  CustomTemplateHandler& templates_;
  // Subscribed to an operation channel since the last tick, and to which (channel bits).
  std::vector<std::pair<ConnId, unsigned>> pending_;
};

}  // namespace c8y::app
