// /tenant/tenants: the tenants (Cumulocity's tenant API). Only the admin of the management tenant
// lists, creates and deletes them (the route table's access). Deleting a tenant drops its column
// family (all its data) and disconnects its clients.
#include <algorithm>
#include <map>

#include "plugin/identity/limits.h"
#include "plugin/identity/names.h"
#include "plugin/identity/password_hash.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::tenants {
namespace {

json tenant_out(const Caller& c, const identity::TenantRecord& t) {
  return {{"id", t.id},
          {"name", t.id},
          {"status", "ACTIVE"},
          {"options", t.options},
          {"self", c.base + "/tenant/tenants/" + t.id}};
}

domain::AuditEntry tenant_audit(const Caller& c, const char* activity, const std::string& tid) {
  domain::AuditEntry e;
  e.type = "Tenant";
  e.activity = activity;
  e.text = std::string(activity) + ": tenant '" + tid + "'";
  e.user = c.user;
  return e;
}

// The tenant's options (its limits among them, identity/limits.h) as a request body gives them.
bool options_of(const json& body, json* out, HttpError* err) {
  auto it = body.find("options");
  if (it == body.end()) return true;
  if (!it->is_object()) {
    *err = {422, "validationError", "options must be an object"};
    return false;
  }
  if (auto bad = identity::check_limits(*it)) {
    *err = {422, "validationError", *bad};
    return false;
  }
  *out = *it;
  return true;
}

}  // namespace

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  auto ids = ctx.directory.tenant_ids();
  // In a cluster, every placed tenant, with its node and whether that node is alive
  // (c8y_Placement); tenants of other nodes carry what the cluster knows of them.
  std::map<std::string, common::PlacedTenant> placed;
  if (ctx.placement)
    for (auto& p : ctx.placement->tenants()) placed.emplace(p.tenant, p);
  for (const auto& [id, p] : placed)
    if (!ctx.directory.has_tenant(id)) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  send_json(
      res, 200, list_page(c, "/tenant/tenants", req, "tenants", ids, *paging, [&](auto& id) {
        auto t = ctx.directory.tenant(id);
        json out = t ? tenant_out(c, *t)
                     : json{{"id", id}, {"name", id}, {"self", c.base + "/tenant/tenants/" + id}};
        if (auto it = placed.find(id); it != placed.end())
          out["c8y_Placement"] = {{"node", it->second.node}, {"available", it->second.available}};
        return out;
      }));
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto t = ctx.directory.tenant(std::string(req.matches[1]));
  if (!t)
    return send_error(
        res, {404, "tenant/Not Found", "Tenant " + std::string(req.matches[1]) + " not found"});
  send_json(res, 200, tenant_out(c, *t));
}

// {"id": "<tenant id>", "adminName": "...", "adminPass": "...", "options": {...}} (admin and
// options optional).
void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto id = body->value("id", json());
  if (!id.is_string() || !identity::is_valid_tenant_id(id.get<std::string>()))
    return send_error(res, {422, "validationError", "id must match [a-z0-9]{1,32}"});
  const std::string tid = id.get<std::string>();
  if (ctx.directory.has_tenant(tid))
    return send_error(res, {409, "tenant/Conflict", "Tenant " + tid + " exists already"});
  std::optional<identity::UserRecord> admin;
  if (body->contains("adminName")) {
    auto name = (*body)["adminName"];
    auto pass = body->value("adminPass", json());
    if (!name.is_string() || !identity::is_valid_user_name(name.get<std::string>()) ||
        !pass.is_string() || pass.get<std::string>().size() < 8)
      return send_error(res, {422, "validationError",
                              "adminName must be a valid user name and adminPass at least 8 "
                              "characters"});
    admin = identity::UserRecord{};
    admin->tenant = tid;
    admin->name = name.get<std::string>();
    admin->role = policy::Role::kAdmin;
    auto hash = identity::hash_password(pass.get<std::string>());
    if (!hash)
      return send_error(res, {500, "general/internalError", "the password could not be hashed"});
    admin->password_hash = std::move(*hash);
  }
  identity::TenantRecord t;
  t.id = tid;
  if (!options_of(*body, &t.options, &err)) return send_error(res, err);
  if (auto st = ctx.directory.put_tenant(t); !st.ok())
    return send_error(res, {500, "general/internalError", st.message});
  if (admin)
    if (auto st = ctx.directory.put_user(*admin); !st.ok())
      return send_error(res, {500, "general/internalError", st.message});
  ctx.outbox.log(common::LogLevel::kNotice, "c8y: tenant " + tid + " created by " + c.user);
  ctx.audit(c.tenant, tenant_audit(c, "Tenant created", tid));
  send_json(res, 201, tenant_out(c, t));
}

// {"options": {...}}: replaces the tenant's options (limits apply within a second).
void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  const std::string tid = req.matches[1];
  auto t = ctx.directory.tenant(tid);
  if (!t) return send_error(res, {404, "tenant/Not Found", "Tenant " + tid + " not found"});
  if (!options_of(*body, &t->options, &err)) return send_error(res, err);
  if (auto st = ctx.directory.put_tenant(*t); !st.ok())
    return send_error(res, {500, "general/internalError", st.message});
  ctx.outbox.log(common::LogLevel::kNotice, "c8y: tenant " + tid + " updated by " + c.user);
  ctx.audit(c.tenant, tenant_audit(c, "Tenant updated", tid));
  send_json(res, 200, tenant_out(c, *t));
}

void remove(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  const std::string tid = req.matches[1];
  if (tid == kManagementTenant)
    return send_error(res, {422, "validationError", "The management tenant cannot be deleted"});
  auto st = ctx.directory.delete_tenant(tid);
  if (st.not_found())
    return send_error(res, {404, "tenant/Not Found", "Tenant " + tid + " not found"});
  if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
  ctx.spaces.remove(tid);
  ctx.registrations.forget_tenant(tid);
  ctx.trusted_cas.forget_tenant(tid);
  ctx.kick_users(tid, "");
  ctx.outbox.log(common::LogLevel::kNotice, "c8y: tenant " + tid + " deleted by " + c.user);
  ctx.audit(c.tenant, tenant_audit(c, "Tenant deleted", tid));
  res.status = 204;
}

}  // namespace c8y::rest::tenants
