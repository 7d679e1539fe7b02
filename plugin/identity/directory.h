// Tenants and users: the in-memory directory, persisted in the system column family.
//
// Contract: thread-safe (a shared mutex); reads return copies. Every change to a user (password,
// role, enabled) bumps its generation, which invalidates cached verified credentials at once.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plugin/policy/topic_policy.h"
#include "storage/store.h"

namespace c8y::identity {

struct TenantRecord {
  std::string id;
  nlohmann::json options = nlohmann::json::object();
};

struct UserRecord {
  std::string tenant;
  std::string name;
  std::string password_hash;  // $7$ (PBKDF2-SHA512) or $6$
  policy::Role role = policy::Role::kDevice;
  bool enabled = true;
  uint64_t generation = 0;
  bool persisted = true;  // false for built-in users (the bootstrap user) that live only in memory
  // A device user made by bootstrap registration or certificate auto-registration belongs to one
  // device: only a client id with this serial may log in as it. Empty: any serial.
  std::string device_serial;

  std::string key() const { return tenant + "/" + name; }
};

bool parse_role(std::string_view name, policy::Role* out);
const char* role_name(policy::Role role);

class Directory {
 public:
  explicit Directory(storage::Store& store) : store_(store) {}

  // Reads every tenant and user from the system family.
  storage::StoreStatus load();

  bool has_tenant(std::string_view id) const;
  std::optional<TenantRecord> tenant(std::string_view id) const;
  std::vector<std::string> tenant_ids() const;
  // Creates or replaces a tenant record and makes sure its column family exists.
  storage::StoreStatus put_tenant(const TenantRecord& t);

  // Deletes a tenant: its users, its record and its column family (all its data).
  storage::StoreStatus delete_tenant(std::string_view id);
  std::optional<UserRecord> user(std::string_view tenant, std::string_view name) const;
  // The tenant's users, by name.
  std::vector<UserRecord> users(std::string_view tenant) const;
  storage::StoreStatus delete_user(std::string_view tenant, std::string_view name);
  // Creates or replaces a user; the generation is bumped past the previous one.
  storage::StoreStatus put_user(UserRecord u);
  size_t user_count() const;

 private:
  storage::Store& store_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, TenantRecord> tenants_;
  std::unordered_map<std::string, UserRecord> users_;  // by "tenant/name"
  uint64_t next_generation_ = 1;
};

}  // namespace c8y::identity
