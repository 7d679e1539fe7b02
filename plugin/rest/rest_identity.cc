// /identity: external ids of managed objects (Cumulocity's identity API).
#include "plugin/common/values.h"
#include "plugin/domain/inventory.h"
#include "plugin/rest/rest_handlers.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest::external_ids {
// GET /identity/externalIds/{type}/{value}: the object that carries the external id.
void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  std::string type = req.matches[1], value = req.matches[2];
  domain::Inventory inv(ctx.store, *c.space);
  auto id = inv.find_external(type, value);
  if (!id)
    return send_error(
        res, {404, "identity/Not Found",
              "External id not found; external id = ID [type=" + type + ", value=" + value + "]"});
  std::string ids = domain::format_id(*id);
  send_json(
      res, 200,
      {{"externalId", value},
       {"type", type},
       {"self", c.base + "/identity/externalIds/" + type + "/" + value},
       {"managedObject", {{"id", ids}, {"self", c.base + "/inventory/managedObjects/" + ids}}}});
}

// GET /identity/globalIds/{id}/externalIds: the object's external ids.
void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  std::string raw = req.matches[1];
  auto id = domain::parse_id(raw);
  domain::Inventory inv(ctx.store, *c.space);
  if (!id || !inv.get(*id)) return send_error(res, object_not_found(raw));
  json list = json::array();
  for (auto& [type, value] : inv.external_ids_of(*id))
    list.push_back({{"type", type},
                    {"externalId", value},
                    {"self", c.base + "/identity/externalIds/" + type + "/" + value},
                    {"managedObject", {{"id", raw}}}});
  send_json(
      res, 200,
      {{"externalIds", list}, {"self", c.base + "/identity/globalIds/" + raw + "/externalIds"}});
}

// POST /identity/globalIds/{id}/externalIds {"type", "externalId"}: 409 when another object
// has it.
void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  std::string raw = req.matches[1];
  auto id = domain::parse_id(raw);
  auto type = body->value("type", json()), value = body->value("externalId", json());
  if (!type.is_string() || !value.is_string() || type.get<std::string>().empty() ||
      value.get<std::string>().empty() || type.get<std::string>().size() > 127 ||
      value.get<std::string>().size() > 255 ||
      type.get<std::string>().find('\0') != std::string::npos ||
      !common::is_valid_utf8(type.get<std::string>()) ||
      !common::is_valid_utf8(value.get<std::string>()))
    return send_error(
        res, {422, "validationError", "type and externalId are mandatory non-empty strings"});
  domain::Inventory inv(ctx.store, *c.space);
  auto st = id ? inv.add_external_id(*id, type.get<std::string>(), value.get<std::string>())
               : storage::StoreStatus{storage::StoreStatus::kNotFound, "not found"};
  if (st.not_found()) return send_error(res, object_not_found(raw));
  if (st.conflict())
    return send_error(res, {409, "identity/Conflict",
                            "External id " + value.get<std::string>() + " of type " +
                                type.get<std::string>() + " belongs to another object"});
  if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
  send_json(
      res, 201,
      {{"type", type},
       {"externalId", value},
       {"self", c.base + "/identity/externalIds/" + type.get<std::string>() + "/" +
                    value.get<std::string>()},
       {"managedObject", {{"id", raw}, {"self", c.base + "/inventory/managedObjects/" + raw}}}});
}

}  // namespace c8y::rest::external_ids
