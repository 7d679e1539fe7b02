// /retention/retentions: the tenant's retention rules (its admin; Cumulocity's retention API),
// and POST /admin/retention: a retention pass over every tenant now (the management admin).
// Rules and the pass: domain/retention.h.
#include "plugin/domain/retention.h"

#include "plugin/rest/rest_docs.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::retention {

namespace {

constexpr const char* kPath = "/retention/retentions";

json rule_out(const Caller& c, const domain::RetentionRule& r) {
  json j = domain::retention_rule_json(r);
  j["self"] = c.base + kPath + "/" + j["id"].get<std::string>();
  return j;
}

HttpError rule_not_found(const std::string& raw_id) {
  return {404, "retention/Not Found", "Retention rule with id '" + raw_id + "' not found"};
}

// kInvalid is the caller's fault (422, as for the other documents); the rest is ours.
HttpError change_error(const common::Status& st, const std::string& raw_id) {
  if (st.not_found()) return rule_not_found(raw_id);
  if (st.invalid()) return {422, "validationError", st.message};
  return storage_error(st);
}

}  // namespace

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  std::vector<domain::RetentionRule> all;
  if (auto st = domain::RetentionRules(ctx.store, *c.space).list(&all); !st.ok())
    return send_error(res, storage_error(st));
  send_json(res, 200, list_page(c, kPath, req, "retentionRules", all, *paging, [&](auto& r) {
              return rule_out(c, r);
            }));
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto id = path_id(req);
  auto r = id ? domain::RetentionRules(ctx.store, *c.space).get(*id) : std::nullopt;
  if (!r) return send_error(res, rule_not_found(req.matches[1]));
  send_json(res, 200, rule_out(c, *r));
}

void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  domain::RetentionRule r;
  if (auto st = domain::RetentionRules(ctx.store, *c.space).create(*body, &r); !st.ok())
    return send_error(res, change_error(st, ""));
  send_json(res, 201, rule_out(c, r));
}

void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto id = path_id(req);
  if (!id) return send_error(res, rule_not_found(req.matches[1]));
  domain::RetentionRule r;
  if (auto st = domain::RetentionRules(ctx.store, *c.space).update(*id, *body, &r); !st.ok())
    return send_error(res, change_error(st, req.matches[1]));
  send_json(res, 200, rule_out(c, r));
}

void remove(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto id = path_id(req);
  if (!id) return send_error(res, rule_not_found(req.matches[1]));
  if (auto st = domain::RetentionRules(ctx.store, *c.space).remove(*id); !st.ok())
    return send_error(res, change_error(st, req.matches[1]));
  res.status = 204;
}

void run(RestContext& ctx, const Caller& c, const Request&, Response& res) {
  if (!ctx.retention) {
    return send_error(res,
                      {409, "retention/notConfigured", "Retention is not set up on this node"});
  }
  domain::RetentionReport report;
  auto st = ctx.retention->run(wall_ms(), &report);
  if (!st.ok()) {
    ctx.outbox.log(common::LogLevel::kError, "c8y: retention pass failed: " + st.message);
    return send_error(res, {500, "retention/failed", "Retention pass failed: " + st.message});
  }
  ctx.outbox.log(common::LogLevel::kNotice,
                 "c8y: retention pass run by " + c.tenant + "/" + c.user + " removed " +
                     std::to_string(report.removed.total()) + " records in " +
                     std::to_string(report.seconds) + " s");
  send_json(res, 200, domain::retention_report_json(report));
}

}  // namespace c8y::rest::retention
