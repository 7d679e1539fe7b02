// Static templates on the broker (s/us, t/us, q/us, c/us and their /<child> topics): each line of
// a publish decoded (plugin/smartrest) and applied to the topic's device — 100 creates the
// device, measurements (200-210), inventory (101-150), alarms (301-307), events (400-408),
// operation status (500-507) and platform capabilities (600, 602). One job; a storage failure
// refuses the whole message (the device resends), a bad line gets an s/e line and the others
// go on. Broker thread only. Depends on: domain, smartrest, the DeviceReplies, DeviceResolver,
// DeviceAvailability, MeasurementWriter, StreamPublisher and OperationDelivery (500: the
// PENDING operations again).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "plugin/app/device_availability.h"
#include "plugin/app/devices.h"
#include "plugin/app/measurement_writer.h"
#include "plugin/app/operation_delivery.h"
#include "plugin/app/replies.h"
#include "plugin/app/session.h"
#include "plugin/app/stream_publisher.h"
#include "plugin/domain/measurement.h"
#include "plugin/policy/topic_route.h"
#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/static_templates.h"
#include "storage/store.h"

namespace c8y::app {

class StaticTemplateHandler {
 public:
  StaticTemplateHandler(storage::Store& store, DeviceReplies& replies, DeviceResolver& devices,
                        DeviceAvailability& availability, MeasurementWriter& writer,
                        StreamPublisher& streams, OperationDelivery& operations)
      : store_(store),
        replies_(replies),
        devices_(devices),
        availability_(availability),
        writer_(writer),
        streams_(streams),
        operations_(operations) {}

  // The lines of one publish on a static-template topic (`route`).
  void handle(Session& s, const policy::TopicRoute& route, std::string_view payload,
              MessageDecision* decision);

 private:
  // One line: a storage failure (refuse the message) or an s/e line for the device.
  struct LineOutcome {
    storage::StoreStatus status;
    std::optional<smartrest::TemplateError> error;
  };
  // 100: the connecting device, with a name and type. False on a storage failure (`st`).
  bool create_device(Session& s, const policy::TopicRoute& route, storage::StoreStatus* st,
                     std::optional<smartrest::TemplateError>* error);
  LineOutcome inventory(Session& s, uint64_t target, int64_t now);  // static_device_lines.cc
  LineOutcome alarm(Session& s, const policy::TopicRoute& route, uint64_t target, int64_t now);
  LineOutcome event(Session& s, const policy::TopicRoute& route, uint64_t target, int64_t now);
  LineOutcome capability(Session& s, std::string_view id);
  LineOutcome operation(Session& s, uint64_t target);  // static_operation_lines.cc
  [[nodiscard]] storage::StoreStatus device_results(Session& s, uint64_t device,
                                                    const nlohmann::json& op);

  storage::Store& store_;
  DeviceReplies& replies_;
  DeviceResolver& devices_;
  DeviceAvailability& availability_;
  MeasurementWriter& writer_;
  StreamPublisher& streams_;
  OperationDelivery& operations_;
  smartrest::CsvRecord record_;  // the line being handled (reused per message)
  domain::Measurement measurement_;
};

}  // namespace c8y::app
