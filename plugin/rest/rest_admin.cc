// REST routes for tenants and users (Cumulocity's /tenant and /user APIs).
//
// Tenants: only the admin of the `management` tenant lists, creates and deletes them.
// Deleting a tenant drops its column family (all its data) and disconnects its clients.
// Users: a tenant's admin manages its own tenant's users (the management admin any tenant's).
// Disabling a user, changing its password or deleting it disconnects its sessions.
#include "plugin/domain/json_input.h"
#include "plugin/identity/names.h"
#include "plugin/identity/password_hash.h"
#include "plugin/rest/rest_server.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {
namespace {

constexpr std::string_view kManagement = "management";

json tenant_out(const Caller& c, const identity::TenantRecord& t) {
  return {{"id", t.id},
          {"name", t.id},
          {"status", "ACTIVE"},
          {"options", t.options},
          {"self", c.base + "/tenant/tenants/" + t.id}};
}

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

domain::AuditEntry tenant_audit(const Caller& c, const char* activity, const std::string& tid) {
  domain::AuditEntry e;
  e.type = "Tenant";
  e.activity = activity;
  e.text = std::string(activity) + ": tenant '" + tid + "'";
  e.user = c.user;
  return e;
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

}  // namespace

void RestServer::kick_users(const std::string& tenant, const std::string& user) {
  outbox_.push(common::outbox::KickUsers{tenant, user});
}

void RestServer::routes_admin() {
  auto& srv = router_;

  auto management = [this](const Request& req, Response& res) -> std::optional<Caller> {
    auto c = authenticate(req, res);
    if (!c) return std::nullopt;
    if (c->tenant != kManagement) {
      send_error(res,
                 {403, "security/Forbidden", "Only the management tenant's admin manages tenants"});
      return std::nullopt;
    }
    return c;
  };

  srv.Get("/tenant/tenants", [this, management](const Request& req, Response& res) {
    auto c = management(req, res);
    if (!c) return;
    HttpError err;
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    auto ids = directory_.tenant_ids();
    std::sort(ids.begin(), ids.end());
    json items = json::array();
    const size_t begin = (paging->page - 1) * paging->page_size;
    for (size_t i = begin; i < ids.size() && i < begin + paging->page_size; ++i)
      if (auto t = directory_.tenant(ids[i])) items.push_back(tenant_out(*c, *t));
    send_json(res, 200,
              paged(*c, "/tenant/tenants", req, "tenants", std::move(items), *paging,
                    ids.size() > begin + paging->page_size, ids.size()));
  });

  srv.Get(R"(/tenant/tenants/([^/]+))", [this, management](const Request& req, Response& res) {
    auto c = management(req, res);
    if (!c) return;
    auto t = directory_.tenant(std::string(req.matches[1]));
    if (!t)
      return send_error(
          res, {404, "tenant/Not Found", "Tenant " + std::string(req.matches[1]) + " not found"});
    send_json(res, 200, tenant_out(*c, *t));
  });

  // {"id": "<tenant id>", "adminName": "...", "adminPass": "..."} (admin optional).
  srv.Post("/tenant/tenants", [this, management](const Request& req, Response& res) {
    auto c = management(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    auto id = body->value("id", json());
    if (!id.is_string() || !identity::is_valid_tenant_id(id.get<std::string>()))
      return send_error(res, {422, "validationError", "id must match [a-z0-9]{1,32}"});
    const std::string tid = id.get<std::string>();
    if (directory_.has_tenant(tid))
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
      admin->password_hash = identity::hash_password(pass.get<std::string>());
    }
    identity::TenantRecord t;
    t.id = tid;
    if (auto st = directory_.put_tenant(t); !st.ok())
      return send_error(res, {500, "general/internalError", st.message});
    if (admin)
      if (auto st = directory_.put_user(*admin); !st.ok())
        return send_error(res, {500, "general/internalError", st.message});
    outbox_.log(common::LogLevel::kNotice, "c8y: tenant " + tid + " created by " + c->user);
    audit(c->tenant, tenant_audit(*c, "Tenant created", tid));
    send_json(res, 201, tenant_out(*c, t));
  });

  srv.Delete(R"(/tenant/tenants/([^/]+))", [this, management](const Request& req, Response& res) {
    auto c = management(req, res);
    if (!c) return;
    const std::string tid = req.matches[1];
    if (tid == kManagement)
      return send_error(res, {422, "validationError", "The management tenant cannot be deleted"});
    auto st = directory_.delete_tenant(tid);
    if (st.not_found())
      return send_error(res, {404, "tenant/Not Found", "Tenant " + tid + " not found"});
    if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
    spaces_.remove(tid);
    registrations_.forget_tenant(tid);
    trusted_cas_.forget_tenant(tid);
    kick_users(tid, "");
    outbox_.log(common::LogLevel::kNotice, "c8y: tenant " + tid + " deleted by " + c->user);
    audit(c->tenant, tenant_audit(*c, "Tenant deleted", tid));
    res.status = 204;
  });

  // ---- users -------------------------------------------------------------------------------
  srv.Get("/user/currentUser", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    auto u = directory_.user(c->tenant, c->user);
    if (!u) return send_error(res, {404, "user/Not Found", "User not found"});
    json out = user_out(*c, *u);
    out["self"] = c->base + "/user/currentUser";
    out["effectiveRoles"] =
        json::array({{{"id", "ROLE_TENANT_ADMIN"}, {"name", "ROLE_TENANT_ADMIN"}}});
    send_json(res, 200, out);
  });

  auto user_admin = [this](const Request& req, Response& res,
                           std::string* tenant) -> std::optional<Caller> {
    auto c = authenticate(req, res);
    if (!c) return std::nullopt;
    *tenant = req.matches[1];
    if (*tenant != c->tenant && c->tenant != kManagement) {
      // Another tenant's users are invisible, as its data is.
      send_error(res, {404, "user/Not Found", "Tenant " + *tenant + " not found"});
      return std::nullopt;
    }
    if (!directory_.has_tenant(*tenant)) {
      send_error(res, {404, "user/Not Found", "Tenant " + *tenant + " not found"});
      return std::nullopt;
    }
    return c;
  };

  srv.Get(R"(/user/([^/]+)/users)", [this, user_admin](const Request& req, Response& res) {
    std::string tenant;
    auto c = user_admin(req, res, &tenant);
    if (!c) return;
    HttpError err;
    auto paging = param_paging(req, &err);
    if (!paging) return send_error(res, err);
    auto all = directory_.users(tenant);
    json items = json::array();
    const size_t begin = (paging->page - 1) * paging->page_size;
    for (size_t i = begin; i < all.size() && i < begin + paging->page_size; ++i)
      items.push_back(user_out(*c, all[i]));
    send_json(res, 200,
              paged(*c, "/user/" + tenant + "/users", req, "users", std::move(items), *paging,
                    all.size() > begin + paging->page_size, all.size()));
  });

  srv.Get(R"(/user/([^/]+)/users/([^/]+))", [this, user_admin](const Request& req, Response& res) {
    std::string tenant;
    auto c = user_admin(req, res, &tenant);
    if (!c) return;
    auto u = directory_.user(tenant, std::string(req.matches[2]));
    if (!u || !u->persisted)
      return send_error(
          res, {404, "user/Not Found", "User " + std::string(req.matches[2]) + " not found"});
    send_json(res, 200, user_out(*c, *u));
  });

  // {"userName", "password", "roles": ["device"|"admin"] (default device), "enabled"}
  srv.Post(R"(/user/([^/]+)/users)", [this, user_admin](const Request& req, Response& res) {
    std::string tenant;
    auto c = user_admin(req, res, &tenant);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    auto name = body->value("userName", json());
    if (!name.is_string() || !identity::is_valid_user_name(name.get<std::string>()))
      return send_error(res, {422, "validationError", "userName is not a valid user name"});
    if (directory_.user(tenant, name.get<std::string>()))
      return send_error(
          res, {409, "user/Conflict", "User " + name.get<std::string>() + " exists already"});
    identity::UserRecord u;
    u.tenant = tenant;
    u.name = name.get<std::string>();
    std::optional<std::string> password;
    if (!parse_roles(*body, &u.role, &err) || !parse_password(*body, true, &password, &err))
      return send_error(res, err);
    std::optional<bool> enabled;  // true/false, or "true"/"false" as Cumulocity takes them
    if (std::string why; !domain::json_bool(*body, "enabled", &enabled, &why))
      return send_error(res, {422, "validationError", why});
    u.enabled = enabled.value_or(u.enabled);
    u.password_hash = identity::hash_password(*password);
    if (auto st = directory_.put_user(u); !st.ok())
      return send_error(res, {500, "general/internalError", st.message});
    {
      auto e = user_audit(*c, tenant, "User created", u.name);
      e.text += " with role " + std::string(identity::role_name(u.role)) +
                (u.enabled ? "" : " (disabled)");
      audit(tenant, e);
    }
    send_json(res, 201, user_out(*c, *directory_.user(tenant, u.name)));
  });

  srv.Put(R"(/user/([^/]+)/users/([^/]+))", [this, user_admin](const Request& req, Response& res) {
    std::string tenant;
    auto c = user_admin(req, res, &tenant);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    auto u = directory_.user(tenant, std::string(req.matches[2]));
    if (!u || !u->persisted)
      return send_error(
          res, {404, "user/Not Found", "User " + std::string(req.matches[2]) + " not found"});
    std::optional<std::string> password;
    policy::Role role = u->role;
    if (!parse_roles(*body, &role, &err) || !parse_password(*body, false, &password, &err))
      return send_error(res, err);
    auto e = user_audit(*c, tenant, "User updated", u->name);
    if (role != u->role)
      e.changes.push_back(domain::audit_change(
          "roles", "java.util.Set", identity::role_name(u->role), identity::role_name(role)));
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
      u->password_hash = identity::hash_password(*password);
      kick = true;
      // Never the hash, old or new.
      e.changes.push_back(domain::audit_change("password", "java.lang.String", nullptr, nullptr));
    }
    if (auto st = directory_.put_user(*u); !st.ok())
      return send_error(res, {500, "general/internalError", st.message});
    if (!e.changes.empty()) {
      for (auto& ch : e.changes)
        e.text += (&ch == &e.changes.front() ? ": " : ", ") + ch["attribute"].get<std::string>() +
                  " changed";
      audit(tenant, e);
    }
    if (kick) kick_users(tenant, u->name);
    send_json(res, 200, user_out(*c, *directory_.user(tenant, u->name)));
  });

  srv.Delete(R"(/user/([^/]+)/users/([^/]+))",
             [this, user_admin](const Request& req, Response& res) {
               std::string tenant;
               auto c = user_admin(req, res, &tenant);
               if (!c) return;
               const std::string name = req.matches[2];
               if (tenant == c->tenant && name == c->user)
                 return send_error(res, {422, "validationError", "A user cannot delete itself"});
               auto st = directory_.delete_user(tenant, name);
               if (st.not_found())
                 return send_error(res, {404, "user/Not Found", "User " + name + " not found"});
               if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
               audit(tenant, user_audit(*c, tenant, "User deleted", name));
               kick_users(tenant, name);
               res.status = 204;
             });
}

}  // namespace c8y::rest
