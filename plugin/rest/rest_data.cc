// REST routes for events and alarms (Cumulocity's /event and /alarm APIs).
#include <algorithm>
#include <chrono>

#include "plugin/domain/alarms.h"
#include "plugin/domain/events.h"
#include "plugin/domain/json_input.h"
#include "plugin/domain/operations.h"
#include "plugin/policy/streams.h"
#include "plugin/rest/rest_server.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {
namespace {

json event_out(const Caller& c, json e) {
  e["self"] = c.base + "/event/events/" + e.value("id", "");
  if (e.contains("source")) e["source"]["self"] = source_self(c, e);
  return e;
}

json operation_out(const Caller& c, json o) {
  o["self"] = c.base + "/devicecontrol/operations/" + o.value("id", "");
  return o;
}

constexpr size_t kMaxOperationBytes = 16184;  // default message cap: larger ones can't be sent

json alarm_out(const Caller& c, json a) {
  a["self"] = c.base + "/alarm/alarms/" + a.value("id", "");
  if (a.contains("source")) a["source"]["self"] = source_self(c, a);
  return a;
}

HttpError storage_error(const storage::StoreStatus& st) {
  return {500, "general/internalError", st.message};
}

// The source of a new event or alarm: {"source": {"id": "<existing managed object>"}}.
std::optional<uint64_t> body_source(const json& body, domain::Inventory& inv, HttpError* err) {
  auto src = body.find("source");
  if (src == body.end() || !src->is_object() || !src->contains("id")) {
    *err = {422, "validationError", "source.id is mandatory"};
    return std::nullopt;
  }
  const json& idj = (*src)["id"];
  auto id = idj.is_string()            ? domain::parse_id(idj.get<std::string>())
            : idj.is_number_unsigned() ? std::optional<uint64_t>(idj.get<uint64_t>())
                                       : std::nullopt;
  if (!id || !inv.get(*id)) {
    *err = {422, "validationError", "source.id is not the id of a managed object"};
    return std::nullopt;
  }
  return id;
}

std::optional<uint64_t> path_id(const Request& req) {
  return domain::parse_id(std::string(req.matches[1]));
}

uint64_t source_of(const json& doc) {
  return domain::parse_id(doc["source"].value("id", "")).value_or(0);
}

}  // namespace

void RestServer::notify(const Caller& c, std::string_view api, uint64_t device,
                        std::string_view action, const nlohmann::json& data) {
  const std::string payload = policy::stream_payload(action, data);
  for (bool processing : {false, true}) {
    outbox_.push(common::outbox::Publish{
        "", policy::stream_topic(c.tenant, processing, api, device), payload, 0});
  }
}

void RestServer::routes_data() {
  auto& srv = router_;

  // ---- events ------------------------------------------------------------------------------
  srv.Get("/event/events", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    domain::EventQuery q;
    q.page_size = paging->page_size;
    q.page = paging->page;
    q.type = req.get_param_value("type");
    q.fragment = req.get_param_value("fragmentType");
    std::optional<bool> revert;
    if (!param_id(req, "source", &q.source, &err) ||
        !param_time(req, "dateFrom", &q.date_from, &err) ||
        !param_time(req, "dateTo", &q.date_to, &err) || !param_bool(req, "revert", &revert, &err))
      return send_error(res, err);
    q.oldest_first = revert.value_or(false);  // Cumulocity: newest first unless revert=true
    q.count_total = paging->count_total();
    domain::Events ev(store_, *c->space);
    domain::DocPage page;
    if (auto st = ev.query(q, &page); !st.ok()) return send_error(res, storage_error(st));
    send_json(res, 200, doc_page(*c, "/event/events", req, "events", page, *paging, event_out));
  });

  srv.Get(R"(/event/events/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    auto id = path_id(req);
    domain::Events ev(store_, *c->space);
    auto e = id ? ev.get(*id) : std::nullopt;
    if (!e)
      return send_error(res, {404, "event/Not Found",
                              "Event with id '" + std::string(req.matches[1]) + "' not found"});
    send_json(res, 200, event_out(*c, std::move(*e)));
  });

  srv.Post("/event/events", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    // Every missing field in one answer (source.id among them) before the source is looked up.
    domain::EventInput in;
    std::string why;
    if (!domain::event_input(*body, &in, &why, domain::SourceField::kMandatory))
      return send_error(res, {422, "validationError", why});
    domain::Inventory inv(store_, *c->space);
    auto source = body_source(*body, inv, &err);
    if (!source) return send_error(res, err);
    domain::Events ev(store_, *c->space);
    json e;
    if (auto st = ev.create(*source, in.time_ms, in.type, in.text, *body, &e); !st.ok())
      return send_error(res, storage_error(st));
    notify(*c, "events", *source, "CREATE", e);
    send_json(res, 201, event_out(*c, std::move(e)));
  });

  srv.Put(R"(/event/events/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    if (body->contains("text") && !(*body)["text"].is_string())
      return send_error(res, {422, "validationError", "text must be a string"});
    auto id = path_id(req);
    domain::Events ev(store_, *c->space);
    json e;
    auto st = id ? ev.update(*id, *body, &e)
                 : storage::StoreStatus{storage::StoreStatus::kNotFound, "not found"};
    if (st.not_found())
      return send_error(res, {404, "event/Not Found",
                              "Event with id '" + std::string(req.matches[1]) + "' not found"});
    if (!st.ok()) return send_error(res, storage_error(st));
    notify(*c, "events", source_of(e), "UPDATE", e);
    send_json(res, 200, event_out(*c, std::move(e)));
  });

  srv.Delete(R"(/event/events/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    auto id = path_id(req);
    domain::Events ev(store_, *c->space);
    auto e = id ? ev.get(*id) : std::nullopt;
    if (!e)
      return send_error(res, {404, "event/Not Found",
                              "Event with id '" + std::string(req.matches[1]) + "' not found"});
    if (auto st = ev.remove(*id); !st.ok() && !st.not_found())
      return send_error(res, storage_error(st));
    notify(*c, "events", source_of(*e), "DELETE", {{"id", (*e)["id"]}});
    res.status = 204;
  });

  // ---- alarms ------------------------------------------------------------------------------
  auto alarm_query = [](const Request& req, domain::AlarmQuery* q, HttpError* err) {
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
        *err = {400, "general/badRequest",
                "Invalid value of query parameter severity: '" + s + "'"};
        return false;
      }
    std::optional<bool> revert;
    if (!param_id(req, "source", &q->source, err) ||
        !param_time(req, "dateFrom", &q->date_from, err) ||
        !param_time(req, "dateTo", &q->date_to, err) || !param_bool(req, "revert", &revert, err) ||
        !param_bool(req, "resolved", &q->resolved, err))
      return false;
    q->oldest_first = revert.value_or(false);  // Cumulocity: newest first unless revert=true
    return true;
  };

  srv.Get("/alarm/alarms", [this, alarm_query](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    domain::AlarmQuery q;
    q.page_size = paging->page_size;
    q.page = paging->page;
    if (!alarm_query(req, &q, &err)) return send_error(res, err);
    q.count_total = paging->count_total();
    domain::Alarms al(store_, *c->space);
    domain::DocPage page;
    if (auto st = al.query(q, &page); !st.ok()) return send_error(res, storage_error(st));
    send_json(res, 200, doc_page(*c, "/alarm/alarms", req, "alarms", page, *paging, alarm_out));
  });

  srv.Get("/alarm/alarms/count", [this, alarm_query](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    domain::AlarmQuery q;
    if (!alarm_query(req, &q, &err)) return send_error(res, err);
    q.count_total = true;
    q.page_size = 1;
    domain::Alarms al(store_, *c->space);
    domain::DocPage page;
    if (auto st = al.query(q, &page); !st.ok()) return send_error(res, storage_error(st));
    res.status = 200;
    res.set_content(std::to_string(page.total.value_or(0)), "application/json");
  });

  srv.Get(R"(/alarm/alarms/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    auto id = path_id(req);
    domain::Alarms al(store_, *c->space);
    auto a = id ? al.get(*id) : std::nullopt;
    if (!a)
      return send_error(res, {404, "alarm/Not Found",
                              "Alarm with id '" + std::string(req.matches[1]) + "' not found"});
    send_json(res, 200, alarm_out(*c, std::move(*a)));
  });

  srv.Post("/alarm/alarms", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    // Every missing field in one answer (source.id among them) before the source is looked up.
    domain::AlarmInput in;
    std::string why;
    if (!domain::alarm_input(*body, &in, &why, domain::SourceField::kMandatory))
      return send_error(res, {422, "validationError", why});
    domain::Inventory inv(store_, *c->space);
    auto source = body_source(*body, inv, &err);
    if (!source) return send_error(res, err);
    domain::Alarms al(store_, *c->space);
    al.actor = c->user;
    auto r = al.raise(*source, in.time_ms, in.type, in.severity, in.text, *body);
    if (!r.status.ok()) return send_error(res, storage_error(r.status));
    notify(*c, "alarms", *source, r.created ? "CREATE" : "UPDATE", r.alarm);
    send_json(res, 201, alarm_out(*c, std::move(r.alarm)));
  });

  srv.Put(R"(/alarm/alarms/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    auto id = path_id(req);
    domain::Alarms al(store_, *c->space);
    al.actor = c->user;
    domain::AlarmChange r;
    if (id) r = al.update(*id, *body);
    if (!id || r.status.not_found())
      return send_error(res, {404, "alarm/Not Found",
                              "Alarm with id '" + std::string(req.matches[1]) + "' not found"});
    if (!r.status.ok()) return send_error(res, {422, "validationError", r.status.message});
    notify(*c, "alarms", source_of(r.alarm), "UPDATE", r.alarm);
    send_json(res, 200, alarm_out(*c, std::move(r.alarm)));
  });

  // Bulk update: every alarm the query selects (for example status=ACTIVE&source=...) gets the
  // body's changes; at most 10,000 per request (repeat for more).
  srv.Put("/alarm/alarms", [this, alarm_query](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    domain::AlarmQuery q;
    if (!alarm_query(req, &q, &err)) return send_error(res, err);
    if (auto s = body->find("status");
        s != body->end() && (!s->is_string() || !domain::is_alarm_status(s->get<std::string>())))
      return send_error(res,
                        {422, "validationError", "status must be ACTIVE, ACKNOWLEDGED or CLEARED"});
    domain::Alarms al(store_, *c->space);
    al.actor = c->user;
    std::vector<json> changed;
    if (auto st = al.update_all(q, *body, 10000, &changed); !st.ok())
      return send_error(res, {422, "validationError", st.message});
    for (auto& a : changed) notify(*c, "alarms", source_of(a), "UPDATE", a);
    res.status = 200;
    send_json(res, 200, {{"updated", changed.size()}});
  });

  // ---- operations --------------------------------------------------------------------------
  auto deliver = [this](const Caller& c, const json& op) {
    outbox_.push(common::outbox::DeliverOperation{c.tenant, op.value("id", "")});
  };

  srv.Post("/devicecontrol/operations", [this, deliver](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    if (req.body.size() > kMaxOperationBytes)
      return send_error(res, {422, "validationError",
                              "operation larger than " + std::to_string(kMaxOperationBytes) +
                                  " bytes: it could not be sent to the device"});
    auto dev = body->find("deviceId");
    std::optional<uint64_t> device;
    if (dev != body->end())
      device = dev->is_string()            ? domain::parse_id(dev->get<std::string>())
               : dev->is_number_unsigned() ? std::optional<uint64_t>(dev->get<uint64_t>())
                                           : std::nullopt;
    domain::Inventory inv(store_, *c->space);
    if (!device || !inv.get(*device))
      return send_error(res, {422, "validationError",
                              "deviceId is mandatory and must be the id of a managed object"});
    domain::Operations ops(store_, *c->space);
    ops.actor = c->user;
    json op;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    if (auto st = ops.create(*device, *body, now, &op); !st.ok())
      return send_error(res, storage_error(st));
    deliver(*c, op);
    notify(*c, "operations", *device, "CREATE", op);
    send_json(res, 201, operation_out(*c, std::move(op)));
  });

  srv.Get("/devicecontrol/operations", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    domain::OperationQuery q;
    q.page_size = paging->page_size;
    q.page = paging->page;
    q.status = req.get_param_value("status");
    q.fragment = req.get_param_value("fragmentType");
    if (!q.status.empty() && !domain::parse_op_status(q.status))
      return send_error(res, {400, "general/badRequest",
                              "Invalid value of query parameter status: '" + q.status + "'"});
    uint64_t device = 0, agent = 0;
    std::optional<bool> revert;
    if (!param_id(req, "deviceId", &device, &err) || !param_id(req, "agentId", &agent, &err) ||
        !param_time(req, "dateFrom", &q.date_from, &err) ||
        !param_time(req, "dateTo", &q.date_to, &err) || !param_bool(req, "revert", &revert, &err))
      return send_error(res, err);
    q.revert = revert.value_or(false);
    if (device) q.devices.push_back(device);
    if (agent) {
      // The agent's own operations and those of the devices below it.
      domain::Inventory inv(store_, *c->space);
      std::vector<uint64_t> below{agent};
      for (size_t i = 0; i < below.size() && below.size() < 1000; ++i)
        if (auto mo = inv.get(below[i]))
          for (auto& ref : (*mo)["childDevices"]["references"])
            if (auto id = domain::parse_id(ref["managedObject"].value("id", "")))
              below.push_back(*id);
      if (device) {
        bool inside = std::find(below.begin(), below.end(), device) != below.end();
        if (!inside)
          below.clear();
        else
          below = {device};
      }
      q.devices = below;
      if (q.devices.empty()) q.devices.push_back(UINT64_MAX);  // nothing matches
    }
    q.count_total = paging->count_total();
    domain::Operations ops(store_, *c->space);
    domain::DocPage page;
    if (auto st = ops.query(q, &page); !st.ok()) return send_error(res, storage_error(st));
    send_json(
        res, 200,
        doc_page(*c, "/devicecontrol/operations", req, "operations", page, *paging, operation_out));
  });

  srv.Get(R"(/devicecontrol/operations/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    auto id = path_id(req);
    domain::Operations ops(store_, *c->space);
    auto o = id ? ops.get(*id) : std::nullopt;
    if (!o)
      return send_error(res, {404, "devicecontrol/Not Found",
                              "Operation with id '" + std::string(req.matches[1]) + "' not found"});
    send_json(res, 200, operation_out(*c, std::move(*o)));
  });

  srv.Put(R"(/devicecontrol/operations/([^/]+))", [this, deliver](const Request& req,
                                                                  Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    auto id = path_id(req);
    domain::Operations ops(store_, *c->space);
    ops.actor = c->user;
    domain::OperationChange r;
    if (id) r = ops.update(*id, *body);
    if (!id || r.status.not_found())
      return send_error(res, {404, "devicecontrol/Not Found",
                              "Operation with id '" + std::string(req.matches[1]) + "' not found"});
    if (!r.error.empty()) return send_error(res, {422, "validationError", r.error});
    if (!r.status.ok()) return send_error(res, storage_error(r.status));
    if (r.operation.value("status", "") == "PENDING") deliver(*c, r.operation);
    notify(*c, "operations", domain::parse_id(r.operation.value("deviceId", "")).value_or(0),
           "UPDATE", r.operation);
    send_json(res, 200, operation_out(*c, std::move(r.operation)));
  });
}

}  // namespace c8y::rest
