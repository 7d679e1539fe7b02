// Custom templates on the broker (SmartREST 2.0): collections defined on s/ut/<X-ID>, used on
// s/uc/<X-ID>[/<child>] and s/ud[/<child>], and the response templates that render operations
// and request results on s/dc/<X-ID> and s/dd. One job; the pure work (parsing, JSONPath,
// applying, rendering) is plugin/smartrest/custom_templates.h. Collections are parsed and their
// paths compiled once, then cached per tenant (forget() on a REST change of one).
// Broker thread only. Depends on: domain (inventory, measurements, events, alarms, operations),
// smartrest, the DeviceReplies, DeviceResolver, DeviceAvailability, MeasurementWriter and
// StreamPublisher, a log function.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/app/device_availability.h"
#include "plugin/app/devices.h"
#include "plugin/app/measurement_writer.h"
#include "plugin/app/options.h"
#include "plugin/app/replies.h"
#include "plugin/app/session.h"
#include "plugin/app/stream_publisher.h"
#include "plugin/domain/measurement.h"
#include "plugin/policy/topic_route.h"
#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/custom_templates.h"
#include "storage/store.h"

namespace c8y::app {

class CustomTemplateHandler {
 public:
  CustomTemplateHandler(const Options& options, storage::Store& store, DeviceReplies& replies,
                        DeviceResolver& devices, DeviceAvailability& availability,
                        MeasurementWriter& writer, StreamPublisher& streams, Log log)
      : options_(options),
        store_(store),
        replies_(replies),
        devices_(devices),
        availability_(availability),
        writer_(writer),
        streams_(streams),
        log_(std::move(log)) {}

  // s/ut/<X-ID>: an empty publish asks whether the collection exists (20,<X-ID>,<id> or
  // 41,<X-ID> on s/dt); template lines create it (answered 20 on s/dt; definition errors are 41
  // lines on s/e and create nothing).
  void define(Session& s, std::string_view xid, std::string_view payload);
  // s/uc/<X-ID>[/<child>] and s/ud[/<child>]: each line applies a request template to the
  // topic's device; with response=true the response templates answer on s/dc/<X-ID> (s/dd).
  void use(Session& s, const policy::TopicRoute& route, std::string_view payload,
           MessageDecision* decision);
  // An operation for the session's device, rendered by the response templates of every
  // collection it listens to (s/dc/<X-ID> subscriptions, and s/dd with the default X-ID).
  void send_operation(Session& s, const nlohmann::json& op, const std::string& serial);
  // Forgets the tenant's cached collections (a REST change may have touched one).
  void forget(const std::string& tenant);

 private:
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
  std::optional<nlohmann::json> run_request(Session& s, const policy::TopicRoute& route,
                                            const smartrest::RequestAction& a, uint64_t target,
                                            storage::StoreStatus* st,
                                            smartrest::CustomTemplateError* err);
  size_t max_response_bytes() const;

  const Options& options_;
  storage::Store& store_;
  DeviceReplies& replies_;
  DeviceResolver& devices_;
  DeviceAvailability& availability_;
  MeasurementWriter& writer_;
  StreamPublisher& streams_;
  Log log_;
  // Parsed template collections by tenant '\0' X-ID, with their managed-object id.
  std::unordered_map<std::string, std::pair<std::shared_ptr<const CachedCollection>, uint64_t>>
      collections_;
  smartrest::CsvRecord record_;  // reused per message
  domain::Measurement measurement_;
};

}  // namespace c8y::app
