// /devicecontrol/newDeviceRequests: bootstrap registration of non-personalized devices.
// A tenant admin creates a request for a serial, the device's first poll moves it to
// PENDING_ACCEPTANCE, the admin accepts it, and the device's next poll gets its credentials.
// In a cluster every request is also recorded cluster-wide (ctx.bootstrap): a serial is unique
// across the tenants of all nodes, and whichever node the bootstrap user lands on can answer.
#include "plugin/identity/registrations.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::registrations {
namespace {

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
  const std::string& message = ch.status.message;
  if (ch.status.not_found()) return {404, "devicecontrol/Not Found", message};
  if (ch.status.invalid()) return {422, "validationError", message};
  if (ch.status.conflict()) return {409, "devicecontrol/Conflict", message};
  if (ch.status.unavailable()) return {503, "cluster/unavailable", message};
  return {500, "general/internalError", message};
}

}  // namespace

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  auto all = ctx.registrations.list(c.tenant);
  send_json(res, 200,
            list_page(c, "/devicecontrol/newDeviceRequests", req, "newDeviceRequests", all, *paging,
                      [&](auto& r) { return request_out(c, r); }));
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  const std::string serial = req.matches[1];
  auto r = ctx.registrations.get(c.tenant, serial);
  if (!r)
    return send_error(res, {404, "devicecontrol/Not Found", "No request for device " + serial});
  send_json(res, 200, request_out(c, *r));
}

// {"id": "<serial>"}; a status other than WAITING_FOR_CONNECTION cannot be chosen here. A serial
// that already has a request (in any tenant) is a 409.
void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
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
  auto ch = ctx.registrations.create(c.tenant, id.get<std::string>(), c.user, wall_ms());
  if (!ch.value) return send_error(res, change_error(ch));
  if (ctx.bootstrap) {
    // Here first (this node's uniqueness and validation), then across the cluster; a serial
    // another tenant holds anywhere takes the local request back.
    if (auto st = ctx.bootstrap->claim(ch.value->serial, c.tenant); !st.ok()) {
      (void)ctx.registrations.remove(c.tenant, ch.value->serial);  // it was just made here
      return send_error(res, change_error({st, std::nullopt}));
    }
  }
  send_json(res, 201, request_out(c, *ch.value));
}

void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
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
  const std::string serial = req.matches[1];
  if (ctx.bootstrap && *to == identity::RegistrationStatus::kAccepted) {
    // The cluster's record first: a poller on another node hands out credentials only once it
    // reads ACCEPTED there.
    auto now = ctx.registrations.get(c.tenant, serial);
    if (now && now->status != identity::RegistrationStatus::kWaitingForConnection)
      if (auto st = ctx.bootstrap->set_status(serial, c.tenant, identity::to_string(*to)); !st.ok())
        return send_error(res, change_error({st, std::nullopt}));
  }
  auto ch = ctx.registrations.set_status(c.tenant, serial, *to, wall_ms());
  if (!ch.value) return send_error(res, change_error(ch));
  if (*to == identity::RegistrationStatus::kAccepted)
    ctx.outbox.log(common::LogLevel::kNotice, "c8y: device " + ch.value->serial + " of tenant " +
                                                  c.tenant + " accepted by " + c.user);
  send_json(res, 200, request_out(c, *ch.value));
}

void remove(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  const std::string serial = req.matches[1];
  if (ctx.bootstrap && ctx.registrations.get(c.tenant, serial))
    if (auto st = ctx.bootstrap->release(serial, c.tenant); !st.ok())
      return send_error(res, change_error({st, std::nullopt}));
  auto ch = ctx.registrations.remove(c.tenant, serial);
  if (!ch.value) return send_error(res, change_error(ch));
  res.status = 204;
}

}  // namespace c8y::rest::registrations
