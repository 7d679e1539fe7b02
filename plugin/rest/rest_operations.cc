// /devicecontrol/operations: operations for devices (Cumulocity's device control API). A new or
// again PENDING operation goes to the broker thread for delivery to its device.
#include <algorithm>

#include "plugin/domain/operations.h"
#include "plugin/rest/rest_docs.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::operations {
namespace {

constexpr size_t kMaxOperationBytes = 16184;  // default message cap: larger ones can't be sent

}  // namespace

void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
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
  domain::Inventory inv(ctx.store, *c.space);
  if (!device || !inv.get(*device))
    return send_error(res, {422, "validationError",
                            "deviceId is mandatory and must be the id of a managed object"});
  domain::Operations ops(ctx.store, *c.space);
  ops.actor = c.user;
  json op;
  if (auto st = ops.create(*device, *body, wall_ms(), &op); !st.ok())
    return send_error(res, storage_error(st));
  ctx.deliver_operation(c, op);
  ctx.notify(c, "operations", *device, "CREATE", op);
  send_json(res, 201, doc_out(kOperationDocs, c, std::move(op)));
}

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  domain::OperationQuery q;
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
    domain::Inventory inv(ctx.store, *c.space);
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
  send_doc_list<domain::Operations>(kOperationDocs, ctx, c, req, res, *paging, q);
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  send_doc<domain::Operations>(kOperationDocs, ctx, c, req, res);
}

void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  domain::Operations ops(ctx.store, *c.space);
  ops.actor = c.user;
  auto r = update_doc<domain::OperationChange>(
      kOperationDocs, req, res,
      [&](uint64_t id, const json& body) { return ops.update(id, body); });
  if (!r) return;
  if (r->operation.value("status", "") == "PENDING") ctx.deliver_operation(c, r->operation);
  ctx.notify(c, "operations", domain::parse_id(r->operation.value("deviceId", "")).value_or(0),
             "UPDATE", r->operation);
  send_json(res, 200, doc_out(kOperationDocs, c, std::move(r->operation)));
}

}  // namespace c8y::rest::operations
