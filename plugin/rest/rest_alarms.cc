// /alarm/alarms: a device's alarms (Cumulocity's alarm API).
#include "plugin/domain/alarms.h"
#include "plugin/domain/json_input.h"
#include "plugin/rest/rest_docs.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::alarms {
namespace {

// The filters of a list, count or bulk update: status, severity and type (comma-separated
// lists), source, dateFrom, dateTo, revert, resolved.
bool alarm_query(const Request& req, domain::AlarmQuery* q, HttpError* err) {
  q->status = param_list(req, "status");
  q->severity = param_list(req, "severity");
  q->type = param_list(req, "type");
  for (auto& s : q->status)
    if (!domain::is_alarm_status(s)) {
      *err = {400, "general/badRequest", "Invalid value of query parameter status: '" + s + "'"};
      return false;
    }
  for (auto& s : q->severity)
    if (!domain::is_alarm_severity(s)) {
      *err = {400, "general/badRequest", "Invalid value of query parameter severity: '" + s + "'"};
      return false;
    }
  std::optional<bool> revert;
  if (!param_source_window(req, q, &revert, err) || !param_bool(req, "resolved", &q->resolved, err))
    return false;
  q->oldest_first = revert.value_or(false);  // Cumulocity: newest first unless revert=true
  return true;
}

}  // namespace

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  domain::AlarmQuery q;
  if (!alarm_query(req, &q, &err)) return send_error(res, err);
  send_doc_list<domain::Alarms>(kAlarmDocs, ctx, c, req, res, *paging, q);
}

void count(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  domain::AlarmQuery q;
  if (!alarm_query(req, &q, &err)) return send_error(res, err);
  q.count_total = true;
  q.page_size = 1;
  domain::Alarms al(ctx.store, *c.space);
  domain::DocPage page;
  if (auto st = al.query(q, &page); !st.ok()) return send_error(res, storage_error(st));
  res.status = 200;
  res.set_content(std::to_string(page.total.value_or(0)), "application/json");
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  send_doc<domain::Alarms>(kAlarmDocs, ctx, c, req, res);
}

void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  domain::AlarmInput in;
  uint64_t source = 0;
  auto body = new_data_body(ctx, c, req, res, domain::alarm_input, &in, &source);
  if (!body) return;
  domain::Alarms al(ctx.store, *c.space);
  al.actor = c.user;
  auto r = al.raise(source, in.time_ms, in.type, in.severity, in.text, *body);
  if (!r.status.ok()) return send_error(res, storage_error(r.status));
  ctx.notify(c, "alarms", source, r.created ? "CREATE" : "UPDATE", r.alarm);
  send_json(res, 201, doc_out(kAlarmDocs, c, std::move(r.alarm)));
}

void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  domain::Alarms al(ctx.store, *c.space);
  al.actor = c.user;
  auto r = update_doc<domain::AlarmChange>(
      kAlarmDocs, req, res, [&](uint64_t id, const json& body) { return al.update(id, body); });
  if (!r) return;
  ctx.notify(c, "alarms", source_of(r->alarm), "UPDATE", r->alarm);
  send_json(res, 200, doc_out(kAlarmDocs, c, std::move(r->alarm)));
}

// Bulk update: every alarm the query selects (for example status=ACTIVE&source=...) gets the
// body's changes; at most 10,000 per request (repeat for more).
void update_all(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  domain::AlarmQuery q;
  if (!alarm_query(req, &q, &err)) return send_error(res, err);
  if (auto s = body->find("status");
      s != body->end() && (!s->is_string() || !domain::is_alarm_status(s->get<std::string>())))
    return send_error(res,
                      {422, "validationError", "status must be ACTIVE, ACKNOWLEDGED or CLEARED"});
  domain::Alarms al(ctx.store, *c.space);
  al.actor = c.user;
  std::vector<json> changed;
  if (auto st = al.update_all(q, *body, 10000, &changed); !st.ok())
    return send_error(
        res, st.invalid() ? HttpError{422, "validationError", st.message} : storage_error(st));
  for (auto& a : changed) ctx.notify(c, "alarms", source_of(a), "UPDATE", a);
  send_json(res, 200, {{"updated", changed.size()}});
}

}  // namespace c8y::rest::alarms
