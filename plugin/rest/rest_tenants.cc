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

// In a cluster, a tenant of another node is answered with what the cluster knows of it (its
// c8y_Placement), as in the list.
void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  const std::string tid = req.matches[1];
  std::optional<common::PlacedTenant> placed;
  if (ctx.placement)
    for (auto& p : ctx.placement->tenants())
      if (p.tenant == tid) placed = p;
  auto t = ctx.directory.tenant(tid);
  if (!t && !placed)
    return send_error(res, {404, "tenant/Not Found", "Tenant " + tid + " not found"});
  json out = t ? tenant_out(c, *t)
               : json{{"id", tid}, {"name", tid}, {"self", c.base + "/tenant/tenants/" + tid}};
  if (placed) out["c8y_Placement"] = {{"node", placed->node}, {"available", placed->available}};
  send_json(res, 200, out);
}

namespace {

json change_out(const Caller& c, const std::string& tid, const common::TenantChange& ch) {
  json out = {{"id", tid},
              {"name", tid},
              {"self", c.base + "/tenant/tenants/" + tid},
              {"c8y_Placement", {{"node", ch.node}, {"epoch", ch.epoch}, {"available", true}}}};
  return out;
}

HttpError change_error(const common::Status& st) {
  switch (st.code) {
    case common::Status::kNotFound:
      return {404, "tenant/Not Found", st.message};
    case common::Status::kConflict:
      return {409, "tenant/Conflict", st.message};
    case common::Status::kInvalid:
      return {422, "validationError", st.message};
    case common::Status::kUnavailable:
      return {503, "cluster/unavailable", st.message};
    default:
      return {500, "general/internalError", st.message};
  }
}

}  // namespace

common::Status make_local(RestContext& ctx, const std::string& tid, const json& spec) {
  if (ctx.directory.has_tenant(tid))
    return common::Status::Conflict("Tenant " + tid + " exists already");
  identity::TenantRecord t;
  t.id = tid;
  if (auto it = spec.find("options"); it != spec.end() && it->is_object()) t.options = *it;
  std::optional<identity::UserRecord> admin;
  if (auto it = spec.find("admin"); it != spec.end() && it->is_object()) {
    auto name = it->value("name", json());
    auto hash = it->value("passwordHash", json());
    if (!name.is_string() || !identity::is_valid_user_name(name.get<std::string>()) ||
        !hash.is_string() || hash.get<std::string>().empty())
      return common::Status::Invalid("the admin needs a valid name and a password hash");
    admin = identity::UserRecord{};
    admin->tenant = tid;
    admin->name = name.get<std::string>();
    admin->role = policy::Role::kAdmin;
    admin->password_hash = hash.get<std::string>();
  }
  if (auto st = ctx.directory.put_tenant(t); !st.ok()) return st;
  if (admin)
    if (auto st = ctx.directory.put_user(*admin); !st.ok()) return st;
  return {};
}

common::Status drop_local(RestContext& ctx, const std::string& tid) {
  if (auto st = ctx.directory.delete_tenant(tid); !st.ok()) return st;
  ctx.spaces.remove(tid);
  ctx.registrations.forget_tenant(tid);
  ctx.trusted_cas.forget_tenant(tid);
  ctx.kick_users(tid, "");
  return {};
}

// {"id": "<tenant id>", "adminName": "...", "adminPass": "...", "options": {...}} (admin and
// options optional). In a cluster also "node": the node to place it on (default: the live node
// with the fewest connected devices).
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
  json spec = json::object();
  if (body->contains("adminName")) {
    auto name = (*body)["adminName"];
    auto pass = body->value("adminPass", json());
    if (!name.is_string() || !identity::is_valid_user_name(name.get<std::string>()) ||
        !pass.is_string() || pass.get<std::string>().size() < 8)
      return send_error(res, {422, "validationError",
                              "adminName must be a valid user name and adminPass at least 8 "
                              "characters"});
    auto hash = identity::hash_password(pass.get<std::string>());
    if (!hash)
      return send_error(res, {500, "general/internalError", "the password could not be hashed"});
    spec["admin"] = {{"name", name.get<std::string>()}, {"passwordHash", *hash}};
  }
  json options = json::object();
  if (!options_of(*body, &options, &err)) return send_error(res, err);
  spec["options"] = options;
  auto node = body->value("node", json());
  if (!node.is_null() && !node.is_string())
    return send_error(res, {422, "validationError", "node must be a node name"});
  if (ctx.cluster) {
    auto ch = ctx.cluster->create_tenant(tid, node.is_string() ? node.get<std::string>() : "",
                                         spec.dump());
    if (!ch.status.ok()) return send_error(res, change_error(ch.status));
    ctx.outbox.log(common::LogLevel::kNotice,
                   "c8y: tenant " + tid + " created on node " + ch.node + " by " + c.user);
    ctx.audit(c.tenant, tenant_audit(c, "Tenant created", tid));
    json out = change_out(c, tid, ch);
    out["status"] = "ACTIVE";
    out["options"] = options;
    return send_json(res, 201, out);
  }
  if (node.is_string())
    return send_error(res, {422, "validationError", "node: this node is not in a cluster"});
  if (auto st = make_local(ctx, tid, spec); !st.ok())
    return send_error(res, {500, "general/internalError", st.message});
  ctx.outbox.log(common::LogLevel::kNotice, "c8y: tenant " + tid + " created by " + c.user);
  ctx.audit(c.tenant, tenant_audit(c, "Tenant created", tid));
  identity::TenantRecord t;
  t.id = tid;
  t.options = options;
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
  if (ctx.cluster) {
    auto ch = ctx.cluster->delete_tenant(tid);
    if (!ch.status.ok()) return send_error(res, change_error(ch.status));
    // Its bootstrap registrations free their serials in the whole cluster.
    if (ctx.bootstrap)
      if (auto st = ctx.bootstrap->release_tenant(tid); !st.ok())
        ctx.outbox.log(common::LogLevel::kWarning, "c8y: tenant " + tid +
                                                       " deleted; its bootstrap registrations "
                                                       "stay recorded in etcd: " +
                                                       st.message);
  } else {
    auto st = drop_local(ctx, tid);
    if (st.not_found())
      return send_error(res, {404, "tenant/Not Found", "Tenant " + tid + " not found"});
    if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
  }
  ctx.outbox.log(common::LogLevel::kNotice, "c8y: tenant " + tid + " deleted by " + c.user);
  ctx.audit(c.tenant, tenant_audit(c, "Tenant deleted", tid));
  res.status = 204;
}

// POST /tenant/tenants/{id}/move {"node": "<node>"} (a cluster only): hands the tenant over to
// the node. Answers when it is done, with the new placement, how long the tenant was not served
// and how many bytes went over.
void move(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  const std::string tid = req.matches[1];
  if (!ctx.cluster)
    return send_error(res, {409, "cluster/notClustered", "This node is not in a cluster"});
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto node = body->value("node", json());
  if (!node.is_string() || node.get<std::string>().empty())
    return send_error(res, {422, "validationError", "node must be a node name"});
  auto ch = ctx.cluster->move_tenant(tid, node.get<std::string>());
  if (!ch.status.ok()) return send_error(res, change_error(ch.status));
  ctx.outbox.log(common::LogLevel::kNotice,
                 "c8y: tenant " + tid + " moved to node " + ch.node + " by " + c.user);
  domain::AuditEntry e = tenant_audit(c, "Tenant moved", tid);
  e.text = "Tenant moved: tenant '" + tid + "' to node " + ch.node;
  ctx.audit(c.tenant, e);
  json out = change_out(c, tid, ch);
  out["from"] = ch.from;
  out["bytes"] = ch.bytes;
  out["seconds"] = ch.seconds;
  send_json(res, 200, out);
}

}  // namespace c8y::rest::tenants
