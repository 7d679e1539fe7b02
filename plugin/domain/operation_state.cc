#include "plugin/domain/operation_state.h"

#include <string>
#include <utility>

namespace c8y::domain {
namespace {

Transition to(OpStatus s) {
  return Transition{s, {}};
}

Transition refuse(std::string text) {
  return Transition{std::nullopt, std::move(text)};
}

// The operation is finished: no template may touch it.
Transition refuse_final(OpStatus from) {
  return refuse("Operation is already " + std::string(to_string(from)) +
                " and cannot change any more");
}

// A fragment-addressed template given an operation it never selects.
Transition refuse_unselected(StatusTemplate t, OpStatus from) {
  return refuse("Template " + std::to_string(template_id(t)) + " acts on " +
                std::string(to_string(*selects(t))) + " operations but the operation is " +
                std::string(to_string(from)));
}

}  // namespace

std::string_view to_string(OpStatus s) {
  switch (s) {
    case OpStatus::kPending:
      return "PENDING";
    case OpStatus::kExecuting:
      return "EXECUTING";
    case OpStatus::kSuccessful:
      return "SUCCESSFUL";
    case OpStatus::kFailed:
      return "FAILED";
  }
  return "";
}

std::optional<OpStatus> parse_op_status(std::string_view s) {
  for (OpStatus st :
       {OpStatus::kPending, OpStatus::kExecuting, OpStatus::kSuccessful, OpStatus::kFailed}) {
    if (s == to_string(st)) return st;
  }
  return std::nullopt;
}

bool is_final(OpStatus s) {
  return s == OpStatus::kSuccessful || s == OpStatus::kFailed;
}

int template_id(StatusTemplate t) {
  switch (t) {
    case StatusTemplate::k501:
      return 501;
    case StatusTemplate::k502:
      return 502;
    case StatusTemplate::k503:
      return 503;
    case StatusTemplate::k504:
      return 504;
    case StatusTemplate::k505:
      return 505;
    case StatusTemplate::k506:
      return 506;
    case StatusTemplate::k507:
      return 507;
  }
  return 0;
}

std::optional<StatusTemplate> parse_status_template(std::string_view msg_id) {
  if (msg_id.size() != 3 || msg_id[0] != '5' || msg_id[1] != '0') return std::nullopt;
  switch (msg_id[2]) {
    case '1':
      return StatusTemplate::k501;
    case '2':
      return StatusTemplate::k502;
    case '3':
      return StatusTemplate::k503;
    case '4':
      return StatusTemplate::k504;
    case '5':
      return StatusTemplate::k505;
    case '6':
      return StatusTemplate::k506;
    case '7':
      return StatusTemplate::k507;
    default:
      return std::nullopt;
  }
}

std::optional<OpStatus> selects(StatusTemplate t) {
  switch (t) {
    case StatusTemplate::k501:
      return OpStatus::kPending;
    case StatusTemplate::k502:
    case StatusTemplate::k503:
    case StatusTemplate::k507:
      return OpStatus::kExecuting;
    case StatusTemplate::k504:
    case StatusTemplate::k505:
    case StatusTemplate::k506:
      return std::nullopt;
  }
  return std::nullopt;
}

Transition apply(StatusTemplate t, OpStatus from) {
  if (is_final(from)) return refuse_final(from);
  switch (t) {
    case StatusTemplate::k501:
      if (from != OpStatus::kPending) return refuse_unselected(t, from);
      return to(OpStatus::kExecuting);
    case StatusTemplate::k502:
    case StatusTemplate::k507:
      if (from != OpStatus::kExecuting) return refuse_unselected(t, from);
      return to(OpStatus::kFailed);
    case StatusTemplate::k503:
      if (from != OpStatus::kExecuting) return refuse_unselected(t, from);
      return to(OpStatus::kSuccessful);
    // By id: any non-final operation (PENDING or EXECUTING).
    case StatusTemplate::k504:
      return to(OpStatus::kExecuting);
    case StatusTemplate::k505:
      return to(OpStatus::kFailed);
    case StatusTemplate::k506:
      return to(OpStatus::kSuccessful);
  }
  return refuse("Unknown status template");
}

bool rest_transition_allowed(OpStatus from, OpStatus to) {
  return !is_final(from) || from == to;
}

}  // namespace c8y::domain
