#include "plugin/app/static_template_handler.h"

#include "plugin/domain/inventory.h"

namespace c8y::app {

namespace {
common::MessageKind message_kind(smartrest::TemplateKind kind) {
  switch (kind) {
    case smartrest::TemplateKind::kMeasurement:
      return common::MessageKind::kMeasurement;
    case smartrest::TemplateKind::kEvent:
      return common::MessageKind::kEvent;
    case smartrest::TemplateKind::kAlarm:
      return common::MessageKind::kAlarm;
    case smartrest::TemplateKind::kCreateDevice:
    case smartrest::TemplateKind::kInventory:
      return common::MessageKind::kInventory;
    case smartrest::TemplateKind::kOperation:
      return common::MessageKind::kOperation;
    case smartrest::TemplateKind::kCapability:
    case smartrest::TemplateKind::kUnknown:
      break;
  }
  return common::MessageKind::kOther;
}
}  // namespace

void StaticTemplateHandler::handle(Session& s, const policy::TopicRoute& route,
                                   std::string_view payload, MessageDecision* decision) {
  if (s.role != policy::Role::kDevice) return;
  smartrest::CsvReader reader(payload);
  size_t errors = 0;
  auto fail = [&](int code, std::string_view id, std::string_view text) {
    if (++errors <= DeviceReplies::kMaxErrorsPerPublish) replies_.error_line(s, code, id, text);
  };
  const int64_t now = now_ms();
  storage::StoreStatus st;
  uint64_t noted = 0;
  while (reader.next(record_)) {
    const std::string_view id =
        record_.fields.empty() ? std::string_view() : std::string_view(record_.fields[0]);
    // Every line counts, by what it asks for (a line nobody understands is "other").
    const auto kind =
        record_.malformed ? smartrest::TemplateKind::kUnknown : smartrest::template_kind(id);
    if (s.space) s.space->metrics.receive(message_kind(kind));
    if (record_.malformed) {
      fail(42, id, "Malformed line " + std::to_string(record_.line) + ": " + record_.error);
      continue;
    }
    if (kind == smartrest::TemplateKind::kUnknown) {
      fail(40, id, "No static template for this message id");
      continue;
    }
    if (kind == smartrest::TemplateKind::kCreateDevice) {
      std::optional<smartrest::TemplateError> error;
      if (!create_device(s, route, &st, &error)) break;
      if (error) fail(error->code, id, error->text);
      continue;
    }
    // Everything else targets the topic's device.
    std::string target_error;
    uint64_t target = devices_.target(s, route.child, &st, &target_error);
    if (!st.ok()) break;
    if (!target) {
      fail(45, id, target_error);
      continue;
    }
    if (target != noted) {  // availability: any data counts; once per device and publish
      availability_.note_data(s, target, now);
      noted = target;
    }
    if (kind != smartrest::TemplateKind::kMeasurement) {
      auto run = [&](uint64_t t) {
        switch (kind) {
          case smartrest::TemplateKind::kInventory:
            return inventory(s, t, now);
          case smartrest::TemplateKind::kAlarm:
            return alarm(s, route, t, now);
          case smartrest::TemplateKind::kEvent:
            return event(s, route, t, now);
          case smartrest::TemplateKind::kOperation:
            return operation(s, t);
          default:
            return capability(s, id);
        }
      };
      LineOutcome r = run(target);
      if (r.status.not_found()) {
        // The device object was deleted (REST) after this session cached it: forget the cache
        // and run the line once more on the device as it resolves now (created again).
        DeviceResolver::forget(s, target);
        std::string again_error;
        storage::StoreStatus again_st;
        uint64_t again = devices_.target(s, route.child, &again_st, &again_error);
        if (!again_st.ok())
          r.status = again_st;
        else if (!again)
          r = LineOutcome{{}, smartrest::TemplateError{45, again_error}};
        else
          r = run(again);
      }
      st = r.status;
      if (!st.ok()) break;
      if (r.error) fail(r.error->code, id, r.error->text);
      continue;
    }
    // Measurements.
    if (auto e = smartrest::decode_measurement(record_, now, measurement_)) {
      fail(e->code, id, e->text);
      continue;
    }
    st = writer_.write(s, route.mode, target, measurement_);
    if (!st.ok()) break;
  }
  replies_.finish_lines(s, st, errors, decision);
}

bool StaticTemplateHandler::create_device(Session& s, const policy::TopicRoute& route,
                                          storage::StoreStatus* st,
                                          std::optional<smartrest::TemplateError>* error) {
  smartrest::CreateDevice cd;
  if (auto e = smartrest::decode_create_device(record_, cd)) {
    *error = std::move(e);
    return true;
  }
  if (!route.child.empty()) {
    *error = smartrest::TemplateError{
        45, "100 creates the connecting device; use 101 for child devices"};
    return true;
  }
  if (s.device_id || devices_.find_own_device(s)) {
    *error = smartrest::TemplateError{41, "Device already existing"};
    return true;
  }
  return devices_.own_device(s, cd.name, cd.type, st) != 0;
}

}  // namespace c8y::app
