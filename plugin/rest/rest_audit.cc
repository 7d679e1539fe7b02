// /audit/auditRecords: the audit log (Cumulocity's audit API, read only: records are written by
// the changes they describe, see domain/audit.h and RestContext::audit).
#include "plugin/domain/audit.h"
#include "plugin/rest/rest_docs.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::audit_records {

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  if (refuse_unsupported(req, {"application"}, &err)) return send_error(res, err);
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  domain::AuditQuery q;
  q.type = req.get_param_value("type");
  q.user = req.get_param_value("user");
  std::optional<bool> revert;
  if (!param_source_window(req, &q, &revert, &err)) return send_error(res, err);
  q.revert = revert.value_or(false);
  send_doc_list<domain::AuditLog>(kAuditDocs, ctx, c, req, res, *paging, q);
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  send_doc<domain::AuditLog>(kAuditDocs, ctx, c, req, res);
}

}  // namespace c8y::rest::audit_records
