// MeasurementWriter: one job, a measurement of a device in a processing mode: stored in the
// modes that store (s/, q/) and published on the streams that want it. Shared by static
// templates, custom templates and JSON via MQTT. Broker thread only. Depends on: domain
// (measurements), the StreamPublisher.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "plugin/app/session.h"
#include "plugin/app/stream_publisher.h"
#include "plugin/domain/measurement.h"
#include "plugin/policy/topic_route.h"
#include "storage/store.h"

namespace c8y::app {

class MeasurementWriter {
 public:
  MeasurementWriter(storage::Store& store, StreamPublisher& streams)
      : store_(store), streams_(streams) {}
  // `m` for `target` (its source and id are set here); `out` (optional) receives its JSON as the
  // streams see it.
  [[nodiscard]] storage::StoreStatus write(const Session& s, policy::Mode mode, uint64_t target,
                                           domain::Measurement& m, nlohmann::json* out = nullptr);

 private:
  storage::Store& store_;
  StreamPublisher& streams_;
};

}  // namespace c8y::app
