// JSON via MQTT: `[t/|q/|c/]<api>/<resource>/<action>[/<id>]` with the REST API's JSON, for the
// connected device or a child named in `externalSource`; a rejected message is answered on
// `error`. One job (the endpoints are listed in json_topic_handler.cc). Broker thread only.
// Depends on: domain (inventory, measurements, events, alarms, JSON input), the DeviceReplies,
// DeviceResolver, DeviceAvailability, MeasurementWriter and StreamPublisher, a log function.
#pragma once

#include <string_view>

#include "plugin/app/broker_port.h"
#include "plugin/app/device_availability.h"
#include "plugin/app/devices.h"
#include "plugin/app/measurement_writer.h"
#include "plugin/app/replies.h"
#include "plugin/app/session.h"
#include "plugin/app/stream_publisher.h"
#include "plugin/domain/measurement.h"
#include "plugin/policy/topic_route.h"
#include "storage/store.h"

namespace c8y::app {

class JsonTopicHandler {
 public:
  JsonTopicHandler(storage::Store& store, DeviceReplies& replies, DeviceResolver& devices,
                   DeviceAvailability& availability, MeasurementWriter& writer,
                   StreamPublisher& streams)
      : store_(store),
        replies_(replies),
        devices_(devices),
        availability_(availability),
        writer_(writer),
        streams_(streams) {}

  // One publish on a JSON topic (`route`).
  void handle(Session& s, const policy::TopicRoute& route, std::string_view payload,
              MessageDecision* decision);

 private:
  storage::Store& store_;
  DeviceReplies& replies_;
  DeviceResolver& devices_;
  DeviceAvailability& availability_;
  MeasurementWriter& writer_;
  StreamPublisher& streams_;
  domain::Measurement measurement_;
};

}  // namespace c8y::app
