// Operation status lines (500-507): the state table of domain/operation_state.h applied to the
// device's operations, and what a successful operation changes on the device object.
#include <nlohmann/json.hpp>

#include "plugin/app/static_template_handler.h"
#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/operations.h"

namespace c8y::app {

using nlohmann::json;

// What a successful operation changes on the device object: c8y_RelayArray (the 503/506
// parameters, field 2 on), c8y_CommunicationMode (the operation's mode) and, for
// c8y_DownloadConfigFile, c8y_ConfigurationDump (its id; the time from field 2, else now).
storage::StoreStatus StaticTemplateHandler::device_results(Session& s, uint64_t device,
                                                           const json& op) {
  json fragments = json::object();
  if (op.contains("c8y_RelayArray")) {
    json states = json::array();
    for (size_t i = 2; i < record_.fields.size(); ++i) states.push_back(record_.fields[i]);
    if (!states.empty()) fragments["c8y_RelayArray"] = std::move(states);
  }
  if (auto m = op.find("c8y_CommunicationMode");
      m != op.end() && m->is_object() && m->contains("mode"))
    fragments["c8y_CommunicationMode"] = {{"mode", (*m)["mode"]}};
  if (auto d = op.find("c8y_DownloadConfigFile"); d != op.end() && d->is_object()) {
    json dump = json::object();
    if (auto id = d->find("c8y_ConfigurationDump");
        id != d->end() && id->is_object() && id->contains("id"))
      dump["id"] = (*id)["id"];
    std::string when = record_.fields.size() > 2 ? record_.fields[2] : std::string();
    auto t = when.empty() ? std::nullopt : common::parse_iso8601_ms(when);
    dump["time"] = common::format_iso8601_ms(t ? *t : app::now_ms());
    fragments["c8y_ConfigurationDump"] = std::move(dump);
  }
  if (fragments.empty()) return {};
  domain::Inventory inv(store_, *s.space);
  auto st = inv.merge(device, fragments);
  if (st.ok()) devices_.inventory_changed(s, device);
  return st.not_found() ? storage::StoreStatus{} : st;
}

StaticTemplateHandler::LineOutcome StaticTemplateHandler::operation(Session& s, uint64_t target) {
  LineOutcome out;
  const auto& f = record_.fields;
  auto field = [&](size_t i) -> std::string { return i < f.size() ? f[i] : std::string(); };
  const std::string id = field(0);
  if (id == "500") {
    operations_.send_pending(s);
    return out;
  }
  auto t = domain::parse_status_template(id);
  if (!t) {
    out.error = smartrest::TemplateError{40, "No static template for this message id"};
    return out;
  }
  std::string fragment;
  uint64_t op_id = 0;
  json extra = json::object();
  const bool by_id = *t == domain::StatusTemplate::k504 || *t == domain::StatusTemplate::k505 ||
                     *t == domain::StatusTemplate::k506;
  if (by_id) {
    auto parsed = domain::parse_id(field(1));
    if (!parsed) {
      out.error = smartrest::TemplateError{
          45, "missing or invalid operation id: " + common::echo_value(field(1))};
      return out;
    }
    op_id = *parsed;
  } else {
    fragment = field(1);
    if (fragment.empty() && *t != domain::StatusTemplate::k507) {
      out.error = smartrest::TemplateError{45, "missing operation fragment"};
      return out;
    }
    if (fragment.size() > 127 || !common::is_valid_utf8(fragment)) {
      out.error = smartrest::TemplateError{45, "invalid operation fragment"};
      return out;
    }
  }
  // A failure reason or a result (c8y_Command output) has no limit below the message cap.
  const std::string reason = field(2);
  if (!common::is_valid_utf8(reason)) {
    out.error = smartrest::TemplateError{45, "parameter is not valid UTF-8"};
    return out;
  }
  switch (*t) {
    case domain::StatusTemplate::k502:
    case domain::StatusTemplate::k505:
    case domain::StatusTemplate::k507:
      if (!reason.empty()) extra["failureReason"] = reason;
      break;
    case domain::StatusTemplate::k503:
    case domain::StatusTemplate::k506: {
      // A result parameter of c8y_Command (.result) and c8y_LogfileRequest (.file) is kept in
      // the operation; the device updates of a successful operation are device_results'.
      std::string frag = fragment;
      if (by_id) {
        domain::Operations ops(store_, *s.space);
        if (auto op = ops.get(op_id))
          for (const char* known : {"c8y_Command", "c8y_LogfileRequest"})
            if (op->contains(known)) frag = known;
      }
      if (!reason.empty()) {
        if (frag == "c8y_Command") extra["c8y_Command"] = {{"result", reason}};
        if (frag == "c8y_LogfileRequest") extra["c8y_LogfileRequest"] = {{"file", reason}};
      }
      break;
    }
    default:
      break;
  }
  domain::Operations ops(store_, *s.space);
  ops.actor = s.user;
  for (auto& r : ops.apply(*t, target, fragment, op_id, extra)) {
    if (r.status.not_found()) {
      out.error = smartrest::TemplateError{
          45, by_id ? "No operation " + common::echo_value(field(1)) + " for this device"
                    : "No " + std::string(domain::to_string(*domain::selects(*t))) + " operation" +
                          (fragment.empty() ? "" : " with " + fragment)};
      continue;
    }
    if (r.status.invalid()) {
      out.error = smartrest::TemplateError{domain::kTransitionErrorCode, r.status.message};
      continue;
    }
    if (!r.status.ok()) {
      out.status = r.status;
      return out;
    }
    streams_.publish(s.tenant, policy::Mode::kPersistent, "operations", target, "UPDATE",
                     r.operation);
    if (r.operation.value("status", "") == "SUCCESSFUL") {
      out.status = device_results(s, target, r.operation);
      if (!out.status.ok()) return out;
    }
  }
  return out;
}

}  // namespace c8y::app
