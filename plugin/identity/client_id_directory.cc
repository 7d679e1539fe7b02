#include "plugin/identity/client_id_directory.h"

#include <nlohmann/json.hpp>

#include "storage/keys.h"

namespace c8y::identity {

using nlohmann::json;

bool may_claim(const ClientIdEntry* e, std::string_view tenant, std::string_view user,
               int64_t now_s, int64_t expiry_s) {
  if (!e) return true;
  if (e->tenant == tenant && e->user == user) return true;
  if (e->online) return false;
  if (e->persistent && now_s - e->last_seen_s < expiry_s) return false;
  return true;
}

storage::StoreStatus ClientIdDirectory::load(int64_t now_s) {
  return store_.scan(store_.system(), "C", "", false, [&](auto k, auto v) {
    auto j = json::parse(v, nullptr, false);
    if (!j.is_object()) return true;
    ClientIdEntry e;
    e.tenant = j.value("tenant", "");
    e.user = j.value("user", "");
    e.persistent = j.value("persistent", false);
    e.last_seen_s = j.value("last_seen", now_s);
    if (j.value("online", false)) e.last_seen_s = now_s;  // was online when the broker stopped
    e.online = false;
    entries_[std::string(k.substr(1))] = std::move(e);
    return true;
  });
}

const ClientIdEntry* ClientIdDirectory::find(std::string_view client_id) const {
  auto it = entries_.find(std::string(client_id));
  return it == entries_.end() ? nullptr : &it->second;
}

bool ClientIdDirectory::may_claim(std::string_view client_id, std::string_view tenant,
                                  std::string_view user, int64_t now_s) const {
  return identity::may_claim(find(client_id), tenant, user, now_s, expiry_s_);
}

storage::StoreStatus ClientIdDirectory::persist(std::string_view client_id,
                                                const ClientIdEntry& e) {
  json j = {{"tenant", e.tenant},
            {"user", e.user},
            {"persistent", e.persistent},
            {"online", e.online},
            {"last_seen", e.last_seen_s}};
  return store_.put(store_.system(), storage::key::client(client_id), j.dump(),
                    storage::Store::When::kNow);
}

storage::StoreStatus ClientIdDirectory::claim(std::string_view client_id, std::string_view tenant,
                                              std::string_view user, bool persistent) {
  auto& e = entries_[std::string(client_id)];
  bool changed = e.tenant != tenant || e.user != user || e.persistent != persistent || !e.online;
  const bool was_persistent = e.persistent;  // a record of the previous session is stored
  e.tenant = std::string(tenant);
  e.user = std::string(user);
  e.persistent = persistent;
  e.online = true;
  // A clean session's entry needs no persistence: after a restart it is free anyway. Persistent
  // ones are written so that the rule survives a restart.
  if (changed && persistent) return persist(client_id, e);
  if (was_persistent && !persistent) {
    // The clean session replaces a persistent one: its stored record would otherwise come back
    // at the next start as an offline persistent session and hold the id until it expires.
    storage::Batch b;
    b.del(store_.system(), storage::key::client(client_id));
    return store_.write(b);
  }
  return {};
}

storage::StoreStatus ClientIdDirectory::release(std::string_view client_id, int64_t now_s) {
  auto it = entries_.find(std::string(client_id));
  if (it == entries_.end()) return {};
  if (!it->second.persistent) {
    // A clean session has no stored record: claim() deletes the record of a persistent session
    // it replaces, so there is nothing to read or delete here on the broker thread.
    entries_.erase(it);
    return {};
  }
  it->second.online = false;
  it->second.last_seen_s = now_s;
  return persist(client_id, it->second);
}

}  // namespace c8y::identity
