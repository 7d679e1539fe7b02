#include "plugin/identity/provisioning.h"

#include <nlohmann/json.hpp>

#include "plugin/identity/limits.h"
#include "plugin/identity/names.h"
#include "plugin/identity/password_hash.h"

namespace c8y::identity {

using nlohmann::json;

namespace {

std::string validate(const json& doc) {
  if (!doc.is_object() || !doc.contains("tenants") || !doc["tenants"].is_array())
    return "top level must be an object with a \"tenants\" array";
  for (size_t i = 0; i < doc["tenants"].size(); ++i) {
    const json& t = doc["tenants"][i];
    std::string where = "tenants[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("id") || !t["id"].is_string() ||
        !is_valid_tenant_id(t["id"].get<std::string>()))
      return where + ".id must be [a-z0-9]{1,32}";
    if (t.contains("options") && !t["options"].is_object())
      return where + ".options must be an object";
    if (t.contains("options"))
      if (auto bad = check_limits(t["options"])) return where + "." + *bad;
    if (!t.contains("users")) continue;
    if (!t["users"].is_array()) return where + ".users must be an array";
    for (size_t k = 0; k < t["users"].size(); ++k) {
      const json& u = t["users"][k];
      std::string uw = where + ".users[" + std::to_string(k) + "]";
      if (!u.is_object() || !u.contains("name") || !u["name"].is_string() ||
          !is_valid_user_name(u["name"].get<std::string>()))
        return uw + ".name is missing or invalid";
      bool has_pw = u.contains("password") && u["password"].is_string() &&
                    !u["password"].get<std::string>().empty();
      bool has_hash = u.contains("password_hash") && u["password_hash"].is_string();
      if (has_pw == has_hash) return uw + ": exactly one of password and password_hash";
      if (has_hash && !is_valid_password_hash(u["password_hash"].get<std::string>()))
        return uw + ".password_hash is not a $7$ or $6$ hash";
      if (!u.contains("roles") || !u["roles"].is_array() || u["roles"].empty())
        return uw + ".roles must be a non-empty array";
      for (auto& r : u["roles"]) {
        policy::Role role;
        if (!r.is_string() || !parse_role(r.get<std::string>(), &role))
          return uw + ".roles: unknown role (device, admin)";
      }
      if (u.contains("enabled") && !u["enabled"].is_boolean())
        return uw + ".enabled must be a boolean";
    }
  }
  return "";
}

}  // namespace

common::Status apply_provisioning(Directory& directory, const std::string& text,
                                  ProvisioningReport* report) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return common::Status::Invalid("not valid JSON");
  if (auto err = validate(doc); !err.empty()) return common::Status::Invalid(err);
  ProvisioningReport r;
  for (const json& t : doc["tenants"]) {
    TenantRecord tr;
    tr.id = t["id"].get<std::string>();
    auto existing = directory.tenant(tr.id);
    if (existing) tr.options = existing->options;
    if (t.contains("options"))
      for (auto& [k, v] : t["options"].items()) tr.options[k] = v;
    if (!existing) ++r.tenants_created;
    if (!existing || (t.contains("options") && existing->options != tr.options)) {
      auto st = directory.put_tenant(tr);
      if (!st.ok()) return {st.code, "tenant " + tr.id + ": " + st.message};
    }
    if (!t.contains("users")) continue;
    for (const json& u : t["users"]) {
      UserRecord ur;
      ur.tenant = tr.id;
      ur.name = u["name"].get<std::string>();
      // The highest role wins: admin > device > bootstrap.
      ur.role = policy::Role::kBootstrap;
      for (auto& rname : u["roles"]) {
        policy::Role role;
        parse_role(rname.get<std::string>(), &role);
        if (role == policy::Role::kAdmin || ur.role == policy::Role::kBootstrap) ur.role = role;
      }
      ur.enabled = u.value("enabled", true);
      auto old = directory.user(ur.tenant, ur.name);
      if (u.contains("password_hash")) {
        ur.password_hash = u["password_hash"].get<std::string>();
      } else {
        const std::string pw = u["password"].get<std::string>();
        if (old && verify_password(old->password_hash, pw)) {
          ur.password_hash = old->password_hash;
        } else if (auto hash = hash_password(pw)) {
          ur.password_hash = std::move(*hash);
        } else {
          return common::Status::Io("user " + ur.key() + ": the password could not be hashed");
        }
      }
      if (old && old->password_hash == ur.password_hash && old->role == ur.role &&
          old->enabled == ur.enabled) {
        ++r.users_unchanged;
        continue;
      }
      auto st = directory.put_user(ur);
      if (!st.ok()) return {st.code, "user " + ur.key() + ": " + st.message};
      ++r.users_written;
    }
  }
  if (report) *report = r;
  return {};
}

}  // namespace c8y::identity
