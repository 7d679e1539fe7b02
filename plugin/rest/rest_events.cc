// /event/events: a device's events (Cumulocity's event API).
#include "plugin/domain/events.h"
#include "plugin/domain/json_input.h"
#include "plugin/rest/rest_docs.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::events {

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  domain::EventQuery q;
  q.type = req.get_param_value("type");
  q.fragment = req.get_param_value("fragmentType");
  std::optional<bool> revert;
  if (!param_source_window(req, &q, &revert, &err)) return send_error(res, err);
  q.oldest_first = revert.value_or(false);  // Cumulocity: newest first unless revert=true
  send_doc_list<domain::Events>(kEventDocs, ctx, c, req, res, *paging, q);
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  send_doc<domain::Events>(kEventDocs, ctx, c, req, res);
}

void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  domain::EventInput in;
  uint64_t source = 0;
  auto body = new_data_body(ctx, c, req, res, domain::event_input, &in, &source);
  if (!body) return;
  domain::Events ev(ctx.store, *c.space);
  json e;
  if (auto st = ev.create(source, in.time_ms, in.type, in.text, *body, &e); !st.ok())
    return send_error(res, storage_error(st));
  ctx.notify(c, "events", source, "CREATE", e);
  send_json(res, 201, doc_out(kEventDocs, c, std::move(e)));
}

void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  if (body->contains("text") && !(*body)["text"].is_string())
    return send_error(res, {422, "validationError", "text must be a string"});
  auto id = path_id(req);
  domain::Events ev(ctx.store, *c.space);
  json e;
  auto st = id ? ev.update(*id, *body, &e)
               : storage::StoreStatus{storage::StoreStatus::kNotFound, "not found"};
  if (st.not_found()) return send_error(res, doc_not_found(kEventDocs, req.matches[1]));
  if (!st.ok()) return send_error(res, storage_error(st));
  ctx.notify(c, "events", source_of(e), "UPDATE", e);
  send_json(res, 200, doc_out(kEventDocs, c, std::move(e)));
}

void remove(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto id = path_id(req);
  domain::Events ev(ctx.store, *c.space);
  auto e = id ? ev.get(*id) : std::nullopt;
  if (!e) return send_error(res, doc_not_found(kEventDocs, req.matches[1]));
  if (auto st = ev.remove(*id); !st.ok() && !st.not_found())
    return send_error(res, storage_error(st));
  ctx.notify(c, "events", source_of(*e), "DELETE", {{"id", (*e)["id"]}});
  res.status = 204;
}

}  // namespace c8y::rest::events
