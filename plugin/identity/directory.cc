#include "plugin/identity/directory.h"
#include <algorithm>

#include <mutex>

#include "storage/keys.h"

namespace c8y::identity {

using nlohmann::json;

bool parse_role(std::string_view name, policy::Role* out) {
  if (name == "device")
    *out = policy::Role::kDevice;
  else if (name == "admin")
    *out = policy::Role::kAdmin;
  else if (name == "bootstrap")
    *out = policy::Role::kBootstrap;
  else
    return false;
  return true;
}

const char* role_name(policy::Role role) {
  switch (role) {
    case policy::Role::kDevice:
      return "device";
    case policy::Role::kAdmin:
      return "admin";
    case policy::Role::kBootstrap:
      return "bootstrap";
  }
  return "?";
}

storage::StoreStatus Directory::load() {
  std::unique_lock lock(mutex_);
  auto st = store_.scan(store_.system(), "T", "", false, [&](auto k, auto v) {
    TenantRecord t;
    t.id = std::string(k.substr(1));
    auto j = json::parse(v, nullptr, false);
    if (j.is_object() && j.contains("options") && j["options"].is_object())
      t.options = j["options"];
    tenants_[t.id] = std::move(t);
    return true;
  });
  if (!st.ok()) return st;
  return store_.scan(store_.system(), "U", "", false, [&](auto k, auto v) {
    auto j = json::parse(v, nullptr, false);
    if (!j.is_object()) return true;
    UserRecord u;
    auto id = k.substr(1);
    auto slash = id.find('/');
    if (slash == std::string_view::npos) return true;
    u.tenant = std::string(id.substr(0, slash));
    u.name = std::string(id.substr(slash + 1));
    u.password_hash = j.value("hash", "");
    parse_role(j.value("role", "device"), &u.role);
    u.enabled = j.value("enabled", true);
    u.device_serial = j.value("serial", "");
    u.generation = next_generation_++;
    users_[u.key()] = std::move(u);
    return true;
  });
}

bool Directory::has_tenant(std::string_view id) const {
  std::shared_lock lock(mutex_);
  return tenants_.count(std::string(id)) > 0;
}

std::optional<TenantRecord> Directory::tenant(std::string_view id) const {
  std::shared_lock lock(mutex_);
  auto it = tenants_.find(std::string(id));
  if (it == tenants_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Directory::tenant_ids() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (auto& [id, t] : tenants_) out.push_back(id);
  return out;
}

storage::StoreStatus Directory::put_tenant(const TenantRecord& t) {
  std::unique_lock lock(mutex_);
  auto st = store_.create_tenant(t.id, nullptr);
  if (!st.ok()) return st;
  json j = {{"options", t.options}};
  st =
      store_.put(store_.system(), storage::key::tenant(t.id), j.dump(), storage::Store::When::kNow);
  if (!st.ok()) return st;
  tenants_[t.id] = t;
  return {};
}

storage::StoreStatus Directory::delete_tenant(std::string_view id) {
  std::unique_lock lock(mutex_);
  if (!tenants_.count(std::string(id))) return {storage::StoreStatus::kNotFound, "no such tenant"};
  storage::Batch b;
  std::vector<std::string> gone;
  for (auto& [k, u] : users_)
    if (u.tenant == id) {
      if (u.persisted) b.del(store_.system(), storage::key::user(u.tenant, u.name));
      gone.push_back(k);
    }
  b.del(store_.system(), storage::key::tenant(id));
  if (auto st = store_.write(b); !st.ok()) return st;
  for (auto& k : gone) users_.erase(k);
  tenants_.erase(std::string(id));
  auto st = store_.drop_tenant(id);
  return st.not_found() ? storage::StoreStatus{} : st;
}

std::vector<UserRecord> Directory::users(std::string_view tenant) const {
  std::shared_lock lock(mutex_);
  std::vector<UserRecord> out;
  for (auto& [k, u] : users_)
    if (u.tenant == tenant && u.persisted) out.push_back(u);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

storage::StoreStatus Directory::delete_user(std::string_view tenant, std::string_view name) {
  std::unique_lock lock(mutex_);
  auto it = users_.find(std::string(tenant) + "/" + std::string(name));
  if (it == users_.end() || !it->second.persisted)
    return {storage::StoreStatus::kNotFound, "no such user"};
  storage::Batch b;
  b.del(store_.system(), storage::key::user(tenant, name));
  if (auto st = store_.write(b); !st.ok()) return st;
  users_.erase(it);
  return {};
}

std::optional<UserRecord> Directory::user(std::string_view tenant, std::string_view name) const {
  std::string k;
  k.reserve(tenant.size() + name.size() + 1);
  k.append(tenant).append("/").append(name);
  std::shared_lock lock(mutex_);
  auto it = users_.find(k);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

storage::StoreStatus Directory::put_user(UserRecord u) {
  std::unique_lock lock(mutex_);
  u.generation = next_generation_++;
  if (u.persisted) {
    json j = {{"hash", u.password_hash}, {"role", role_name(u.role)}, {"enabled", u.enabled}};
    if (!u.device_serial.empty()) j["serial"] = u.device_serial;
    auto st = store_.put(store_.system(), storage::key::user(u.tenant, u.name), j.dump(),
                         storage::Store::When::kNow);
    if (!st.ok()) return st;
  }
  users_[u.key()] = std::move(u);
  return {};
}

size_t Directory::user_count() const {
  std::shared_lock lock(mutex_);
  return users_.size();
}

}  // namespace c8y::identity
