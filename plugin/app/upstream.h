// Upstream routing: one job, a device's publish (or its will) to the handler of its topic — the
// message cap first (an s/e line or a JSON error, and the message dropped), the tenant's limits
// (quotas.h) for what a device sends to be processed, then static
// templates, custom templates, JSON via MQTT, bootstrap polls and token requests by the route
// policy/topic_route.h finds; an unknown topic gets an s/e line. Broker thread only. Depends on:
// policy (routes, ACL for wills), the handlers it routes to, the DeviceReplies and the
// PresenceTracker (a will's device is not left connected).
#pragma once

#include <cstddef>
#include <string_view>

#include "plugin/app/custom_template_handler.h"
#include "plugin/app/device_credentials.h"
#include "plugin/app/json_topic_handler.h"
#include "plugin/app/options.h"
#include "plugin/app/presence.h"
#include "plugin/app/quotas.h"
#include "plugin/app/replies.h"
#include "plugin/app/session.h"
#include "plugin/app/static_template_handler.h"

namespace c8y::app {

class UpstreamRouter {
 public:
  UpstreamRouter(const Options& options, DeviceReplies& replies,
                 StaticTemplateHandler& static_templates, CustomTemplateHandler& custom_templates,
                 JsonTopicHandler& json, DeviceCredentials& credentials, PresenceTracker& presence,
                 Quotas& quotas)
      : options_(options),
        replies_(replies),
        static_templates_(static_templates),
        custom_templates_(custom_templates),
        json_(json),
        credentials_(credentials),
        presence_(presence),
        quotas_(quotas) {}

  // A PUBLISH of the session's client; `packet_size`: the whole packet, for the message cap.
  MessageDecision publish(Session& s, std::string_view topic, std::string_view payload,
                          size_t packet_size);
  // The last will of a device's connection, handled like a publish of it (never delivered).
  void will(Session& s, std::string_view topic, std::string_view payload);

 private:
  const Options& options_;
  DeviceReplies& replies_;
  StaticTemplateHandler& static_templates_;
  CustomTemplateHandler& custom_templates_;
  JsonTopicHandler& json_;
  DeviceCredentials& credentials_;
  PresenceTracker& presence_;
  Quotas& quotas_;
};

}  // namespace c8y::app
