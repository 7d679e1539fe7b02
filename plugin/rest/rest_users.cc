// /user: the users of a tenant (Cumulocity's user API). A tenant's admin manages its own tenant's
// users (the management admin any tenant's); another tenant's users look absent. Disabling a
// user, changing its password or deleting it disconnects its sessions.
#include "plugin/domain/json_input.h"
#include "plugin/identity/names.h"
#include "plugin/identity/password_hash.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::users {
namespace {

json user_out(const Caller& c, const identity::UserRecord& u) {
  return {{"id", u.name},
          {"userName", u.name},
          {"enabled", u.enabled},
          {"roles", json::array({identity::role_name(u.role)})},
          {"self", c.base + "/user/" + u.tenant + "/users/" + u.name}};
}

bool parse_roles(const json& body, policy::Role* role, HttpError* err) {
  auto it = body.find("roles");
  if (it == body.end()) return true;
  if (!it->is_array() || it->size() != 1 || !(*it)[0].is_string() ||
      !identity::parse_role((*it)[0].get<std::string>(), role) ||
      *role == policy::Role::kBootstrap) {
    *err = {422, "validationError", "roles must be [\"device\"] or [\"admin\"]"};
    return false;
  }
  return true;
}

bool parse_password(const json& body, bool mandatory, std::optional<std::string>* out,
                    HttpError* err) {
  auto it = body.find("password");
  if (it == body.end()) {
    if (mandatory) *err = {422, "validationError", "password is mandatory"};
    return !mandatory;
  }
  if (!it->is_string() || it->get<std::string>().size() < 8 ||
      it->get<std::string>().size() > 256) {
    *err = {422, "validationError", "password must be a string of 8 to 256 characters"};
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

domain::AuditEntry user_audit(const Caller& c, const std::string& tenant, const char* activity,
                              const std::string& name) {
  domain::AuditEntry e;
  e.type = "User";
  e.activity = activity;
  e.text = std::string(activity) + ": user '" + name + "'";
  e.user = actor_in(c, tenant);
  return e;
}

HttpError user_not_found(const std::string& name) {
  return {404, "user/Not Found", "User " + name + " not found"};
}

}  // namespace

void current(RestContext& ctx, const Caller& c, const Request&, Response& res) {
  auto u = ctx.directory.user(c.tenant, c.user);
  if (!u) return send_error(res, {404, "user/Not Found", "User not found"});
  json out = user_out(c, *u);
  out["self"] = c.base + "/user/currentUser";
  out["effectiveRoles"] =
      json::array({{{"id", "ROLE_TENANT_ADMIN"}, {"name", "ROLE_TENANT_ADMIN"}}});
  send_json(res, 200, out);
}

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "user/Not Found");
  if (!tenant) return;
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  auto all = ctx.directory.users(*tenant);
  send_json(res, 200,
            list_page(c, "/user/" + *tenant + "/users", req, "users", all, *paging,
                      [&](auto& u) { return user_out(c, u); }));
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "user/Not Found");
  if (!tenant) return;
  auto u = ctx.directory.user(*tenant, std::string(req.matches[2]));
  if (!u || !u->persisted) return send_error(res, user_not_found(req.matches[2]));
  send_json(res, 200, user_out(c, *u));
}

// {"userName", "password", "roles": ["device"|"admin"] (default device), "enabled"}
void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "user/Not Found");
  if (!tenant) return;
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto name = body->value("userName", json());
  if (!name.is_string() || !identity::is_valid_user_name(name.get<std::string>()))
    return send_error(res, {422, "validationError", "userName is not a valid user name"});
  if (ctx.directory.user(*tenant, name.get<std::string>()))
    return send_error(
        res, {409, "user/Conflict", "User " + name.get<std::string>() + " exists already"});
  identity::UserRecord u;
  u.tenant = *tenant;
  u.name = name.get<std::string>();
  std::optional<std::string> password;
  if (!parse_roles(*body, &u.role, &err) || !parse_password(*body, true, &password, &err))
    return send_error(res, err);
  std::optional<bool> enabled;  // true/false, or "true"/"false" as Cumulocity takes them
  if (std::string why; !domain::json_bool(*body, "enabled", &enabled, &why))
    return send_error(res, {422, "validationError", why});
  u.enabled = enabled.value_or(u.enabled);
  auto hash = identity::hash_password(*password);
  if (!hash)
    return send_error(res, {500, "general/internalError", "the password could not be hashed"});
  u.password_hash = std::move(*hash);
  if (auto st = ctx.directory.put_user(u); !st.ok())
    return send_error(res, {500, "general/internalError", st.message});
  auto e = user_audit(c, *tenant, "User created", u.name);
  e.text +=
      " with role " + std::string(identity::role_name(u.role)) + (u.enabled ? "" : " (disabled)");
  ctx.audit(*tenant, e);
  send_json(res, 201, user_out(c, *ctx.directory.user(*tenant, u.name)));
}

void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "user/Not Found");
  if (!tenant) return;
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto u = ctx.directory.user(*tenant, std::string(req.matches[2]));
  if (!u || !u->persisted) return send_error(res, user_not_found(req.matches[2]));
  std::optional<std::string> password;
  policy::Role role = u->role;
  if (!parse_roles(*body, &role, &err) || !parse_password(*body, false, &password, &err))
    return send_error(res, err);
  auto e = user_audit(c, *tenant, "User updated", u->name);
  if (role != u->role)
    e.changes.push_back(domain::audit_change("roles", "java.util.Set", identity::role_name(u->role),
                                             identity::role_name(role)));
  bool kick = role != u->role;
  u->role = role;
  std::optional<bool> enabled;  // true/false, or "true"/"false" as Cumulocity takes them
  if (std::string why; !domain::json_bool(*body, "enabled", &enabled, &why))
    return send_error(res, {422, "validationError", why});
  if (enabled) {
    if (*enabled != u->enabled)
      e.changes.push_back(
          domain::audit_change("enabled", "java.lang.Boolean", u->enabled, *enabled));
    kick |= u->enabled && !*enabled;
    u->enabled = *enabled;
  }
  if (password) {
    auto hash = identity::hash_password(*password);
    if (!hash)
      return send_error(res, {500, "general/internalError", "the password could not be hashed"});
    u->password_hash = std::move(*hash);
    kick = true;
    // Never the hash, old or new.
    e.changes.push_back(domain::audit_change("password", "java.lang.String", nullptr, nullptr));
  }
  if (auto st = ctx.directory.put_user(*u); !st.ok())
    return send_error(res, {500, "general/internalError", st.message});
  if (!e.changes.empty()) {
    for (auto& ch : e.changes)
      e.text += (&ch == &e.changes.front() ? ": " : ", ") + ch["attribute"].get<std::string>() +
                " changed";
    ctx.audit(*tenant, e);
  }
  if (kick) ctx.kick_users(*tenant, u->name);
  send_json(res, 200, user_out(c, *ctx.directory.user(*tenant, u->name)));
}

void remove(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "user/Not Found");
  if (!tenant) return;
  const std::string name = req.matches[2];
  if (*tenant == c.tenant && name == c.user)
    return send_error(res, {422, "validationError", "A user cannot delete itself"});
  auto st = ctx.directory.delete_user(*tenant, name);
  if (st.not_found()) return send_error(res, user_not_found(name));
  if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
  ctx.audit(*tenant, user_audit(c, *tenant, "User deleted", name));
  ctx.kick_users(*tenant, name);
  res.status = 204;
}

}  // namespace c8y::rest::users
