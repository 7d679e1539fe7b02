// /devicecontrol/newDeviceRequests: bootstrap registration of non-personalized devices.
// A tenant admin creates a request for a serial, the device's first poll moves it to
// PENDING_ACCEPTANCE, the admin accepts it, and the device's next poll gets its credentials.
#include "plugin/identity/registrations.h"
#include "plugin/rest/rest_server.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json request_out(const Caller& c, const identity::Registration& r) {
  return {{"id", r.serial},
          {"status", identity::to_string(r.status)},
          {"owner", r.owner},
          {"tenantId", r.tenant},
          {"creationTime", common::format_iso8601_ms(r.created_ms)},
          {"lastUpdated", common::format_iso8601_ms(r.updated_ms)},
          {"self", c.base + "/devicecontrol/newDeviceRequests/" + r.serial}};
}

HttpError change_error(const identity::RegistrationChange& ch) {
  switch (ch.outcome) {
    case identity::RegistrationChange::kNotFound:
      return {404, "devicecontrol/Not Found", ch.message};
    case identity::RegistrationChange::kInvalid:
      return {422, "validationError", ch.message};
    default:
      return {500, "general/internalError", ch.message};
  }
}

}  // namespace

void RestServer::routes_registration() {
  auto& srv = router_;
  const char* kItem = R"(/devicecontrol/newDeviceRequests/([^/]+))";

  srv.Get("/devicecontrol/newDeviceRequests", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    auto all = registrations_.list(c->tenant);
    json items = json::array();
    const size_t begin = (paging->page - 1) * paging->page_size;
    for (size_t i = begin; i < all.size() && i < begin + paging->page_size; ++i)
      items.push_back(request_out(*c, all[i]));
    send_json(res, 200,
              paged(*c, "/devicecontrol/newDeviceRequests", req, "newDeviceRequests",
                    std::move(items), *paging, all.size() > begin + paging->page_size, all.size()));
  });

  srv.Get(kItem, [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    const std::string serial = req.matches[1];
    auto r = registrations_.get(c->tenant, serial);
    if (!r)
      return send_error(res, {404, "devicecontrol/Not Found", "No request for device " + serial});
    send_json(res, 200, request_out(*c, *r));
  });

  // {"id": "<serial>"}; a status other than WAITING_FOR_CONNECTION cannot be chosen here.
  srv.Post("/devicecontrol/newDeviceRequests", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    auto id = body->value("id", json());
    if (!id.is_string())
      return send_error(res, {422, "validationError",
                              "id (the device serial) is "
                              "mandatory and must be a string"});
    if (auto st = body->find("status"); st != body->end() && *st != json("WAITING_FOR_CONNECTION"))
      return send_error(res,
                        {422, "validationError", "A new request starts as WAITING_FOR_CONNECTION"});
    auto ch = registrations_.create(c->tenant, id.get<std::string>(), c->user, wall_ms());
    if (ch.serial_taken) return send_error(res, {409, "devicecontrol/Conflict", ch.message});
    if (!ch.value) return send_error(res, change_error(ch));
    send_json(res, 201, request_out(*c, *ch.value));
  });

  srv.Put(kItem, [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    auto status = body->value("status", json());
    auto to = status.is_string() ? identity::parse_registration_status(status.get<std::string>())
                                 : std::nullopt;
    if (!to)
      return send_error(res, {422, "validationError",
                              "status must be WAITING_FOR_CONNECTION, PENDING_ACCEPTANCE or "
                              "ACCEPTED"});
    auto ch = registrations_.set_status(c->tenant, std::string(req.matches[1]), *to, wall_ms());
    if (!ch.value) return send_error(res, change_error(ch));
    if (*to == identity::RegistrationStatus::kAccepted)
      outbox_.log(common::LogLevel::kNotice, "c8y: device " + ch.value->serial + " of tenant " +
                                                 c->tenant + " accepted by " + c->user);
    send_json(res, 200, request_out(*c, *ch.value));
  });

  srv.Delete(kItem, [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    auto ch = registrations_.remove(c->tenant, std::string(req.matches[1]));
    if (!ch.value) return send_error(res, change_error(ch));
    res.status = 204;
  });
}

}  // namespace c8y::rest
