// REST routes for the audit log (Cumulocity's /audit API, read only: records are written by the
// changes they describe, see domain/audit.h).
#include "plugin/domain/audit.h"
#include "plugin/rest/rest_server.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {
namespace {

json audit_out(const Caller& c, json r) {
  r["self"] = c.base + "/audit/auditRecords/" + r.value("id", "");
  if (r.contains("source")) r["source"]["self"] = source_self(c, r);
  return r;
}

}  // namespace

void RestServer::audit(const std::string& tenant, const domain::AuditEntry& e) {
  auto* space = spaces_.get(tenant);
  if (!space) return;  // the tenant is gone (deleted meanwhile): nothing left to audit
  domain::AuditLog log(store_, *space);
  if (auto st = log.record(e); !st.ok())
    outbox_.log(common::LogLevel::kWarning, "c8y: audit record '" + e.activity + "' of tenant " +
                                                tenant + " lost: " + st.message);
}

void RestServer::routes_audit() {
  auto& srv = router_;

  srv.Get("/audit/auditRecords", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    if (refuse_unsupported(req, {"application"}, &err)) return send_error(res, err);
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    domain::AuditQuery q;
    q.page_size = paging->page_size;
    q.page = paging->page;
    q.type = req.get_param_value("type");
    q.user = req.get_param_value("user");
    std::optional<bool> revert;
    if (!param_id(req, "source", &q.source, &err) ||
        !param_time(req, "dateFrom", &q.date_from, &err) ||
        !param_time(req, "dateTo", &q.date_to, &err) || !param_bool(req, "revert", &revert, &err))
      return send_error(res, err);
    q.revert = revert.value_or(false);
    q.count_total = paging->count_total();
    domain::AuditLog log(store_, *c->space);
    domain::DocPage page;
    if (auto st = log.query(q, &page); !st.ok())
      return send_error(res, {500, "general/internalError", st.message});
    send_json(res, 200,
              doc_page(*c, "/audit/auditRecords", req, "auditRecords", page, *paging, audit_out));
  });

  srv.Get(R"(/audit/auditRecords/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    const std::string raw = req.matches[1];
    auto id = domain::parse_id(raw);
    domain::AuditLog log(store_, *c->space);
    auto r = id ? log.get(*id) : std::nullopt;
    if (!r)
      return send_error(res,
                        {404, "audit/Not Found", "Audit record with id '" + raw + "' not found"});
    send_json(res, 200, audit_out(*c, std::move(*r)));
  });
}

}  // namespace c8y::rest
