// The operation lifecycle as a pure table: which status a device's status
// template (501-507) or an application's REST update leads to. No I/O, no storage: the caller
// finds the operation(s), calls apply(), writes the new status (plus failureReason or the
// extra parameters of 503/506) and sends the error line on s/e when apply() refuses.
//
// Lifecycle: created PENDING -> EXECUTING -> SUCCESSFUL or FAILED. SUCCESSFUL and FAILED are
// final.
//
// Status templates, apply(template, current status):
//
// | Template                  | PENDING        | EXECUTING        | SUCCESSFUL | FAILED  |
// |---------------------------|----------------|------------------|------------|---------|
// | 501 fragment -> EXECUTING | EXECUTING      | error (selection)| error      | error   |
// | 502 fragment -> FAILED    | error (select.)| FAILED           | error      | error   |
// | 503 fragment -> SUCCESSFUL| error (select.)| SUCCESSFUL       | error      | error   |
// | 504 id -> EXECUTING       | EXECUTING      | EXECUTING (no-op)| error      | error   |
// | 505 id -> FAILED          | FAILED         | FAILED           | error      | error   |
// | 506 id -> SUCCESSFUL      | SUCCESSFUL     | SUCCESSFUL       | error      | error   |
// | 507 all EXECUTING -> FAIL | error (select.)| FAILED           | error      | error   |
//
// "error (selection)": the fragment-addressed templates (501, 502, 503, 507) only ever act on
// operations in selects(template) status, so the caller never passes these; apply() refuses them
// for completeness. What the device sees when no operation matches the selection (for example
// 503 while the operation is still PENDING, because 501 was skipped) is the caller's "no
// operation" error; 507 matching nothing is not an error.
//
// Decisions:
//  * Final states are final: every template refuses an operation that is SUCCESSFUL or FAILED,
//    including the "same" status (505 on FAILED, 506 on SUCCESSFUL), so a device can never
//    rewrite the failureReason or the 503/506 results (c8y_Command.result, ...) of a finished
//    operation. A duplicate delivery (a QoS 1 or 2 resend is processed again) therefore costs one
//    diagnostic s/e line, which is what s/e is for (diagnostics, not a response channel).
//  * The id-addressed templates 504-506 move any non-final operation to their status, as a REST
//    PUT of the status does on the platform (they are its SmartREST form: "set the operation with
//    the given ID to ..."; the docs require only that it exists and belongs to the device):
//      - 505 on PENDING fails it (a device declining an operation it cannot run; the project's
//        issue states the platform does this; the docs name no precondition).
//      - 506 on PENDING completes it directly: allowed, for operations a device finishes at once
//        (the docs state no precondition on the current status for 504-506, unlike 501-503 which
//        name it). 503 cannot do this: it selects EXECUTING operations only.
//      - 504 on EXECUTING is an idempotent no-op success (to == EXECUTING): 504 carries no data,
//        so a repeated 504 (resend, agent restart) loses nothing and deserves no error.
//  * Errors go to s/e as `<kTransitionErrorCode>,<template id>,<error>` like every s/e line. The
//    code is 45, "invalid arguments": the operation the arguments name is in a status the
//    template cannot act on, the same class as a value out of range. Error texts hold no comma.
//
// REST updates by applications (PUT /devicecontrol/operations/{id} with a status),
// rest_transition_allowed(from, to):
//
// | from \ to  | PENDING | EXECUTING | SUCCESSFUL | FAILED |
// |------------|---------|-----------|------------|--------|
// | PENDING    | yes     | yes       | yes        | yes    |
// | EXECUTING  | yes     | yes       | yes        | yes    |
// | SUCCESSFUL | no      | no        | yes        | no     |
// | FAILED     | no      | no        | no         | yes    |
//
//  * The platform's REST API accepts any of the four statuses on an update and applications use
//    that freely: cancelling a PENDING operation is `PUT {"status":"FAILED","failureReason":...}`
//    (e.g. PSc8y's Update-Operation example), and EXECUTING -> PENDING re-queues an operation,
//    which this plugin then re-delivers on subscribe and on 500. So every change out of a
//    non-final status is allowed.
//  * Deliberately stricter than the platform (which, per the project's issue, lets any status
//    be set; not verified here): a finished operation keeps its outcome; leaving
//    SUCCESSFUL or FAILED is refused (retrying means creating a new operation). Setting the same
//    status again is allowed, so a PUT that only edits other fields (failureReason, fragments)
//    of any operation still works.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace c8y::domain {

enum class OpStatus { kPending, kExecuting, kSuccessful, kFailed };

// "PENDING", "EXECUTING", "SUCCESSFUL", "FAILED".
std::string_view to_string(OpStatus s);
// Exactly those four spellings (upper case, as the platform writes them); nothing else.
std::optional<OpStatus> parse_op_status(std::string_view s);
// SUCCESSFUL and FAILED.
bool is_final(OpStatus s);

enum class StatusTemplate { k501, k502, k503, k504, k505, k506, k507 };

// The message id: 501 ... 507.
int template_id(StatusTemplate t);
// "501" ... "507" (the record's first field); nullopt for anything else.
std::optional<StatusTemplate> parse_status_template(std::string_view msg_id);

// The s/e error code for a refused transition (45, invalid arguments).
inline constexpr int kTransitionErrorCode = 45;

// What a status template does to an operation in `from`: exactly one of `to` (the new status,
// possibly equal to `from`) or `error` (a text for the s/e line, no comma) is set.
struct Transition {
  std::optional<OpStatus> to;
  std::string error;
};
Transition apply(StatusTemplate t, OpStatus from);

// Which operations a fragment-addressed template selects: 501 the oldest PENDING operation with
// the fragment, 502/503 the oldest EXECUTING one, 507 all EXECUTING ones (filtered by fragment
// when one is given). nullopt for 504-506, which address one operation by id whatever its status
// (apply() decides).
std::optional<OpStatus> selects(StatusTemplate t);

// Whether an application may change an operation's status from `from` to `to` through the REST
// API (table above).
bool rest_transition_allowed(OpStatus from, OpStatus to);

}  // namespace c8y::domain
