// The client-id directory: which identity (tenant, user or device) holds an MQTT client id.
//
// Mosquitto's client-id space is global and it resumes an offline persistent session by client
// id alone, so a client id held by a live or offline persistent session of one identity must
// never be taken by another (another tenant's device, another user). Entries are persisted in the
// system family so that the rule holds across restarts for persistent sessions.
//
// Contract: broker thread only (not thread-safe). Pure decision in `may_claim`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/store.h"

namespace c8y::identity {

struct ClientIdEntry {
  std::string tenant;
  std::string user;
  bool persistent = false;  // the session outlives the connection (clean session off)
  bool online = false;
  int64_t last_seen_s = 0;  // when it went offline
};

// True when `tenant/user` may use a client id whose current entry is `e` at time `now_s`.
bool may_claim(const ClientIdEntry* e, std::string_view tenant, std::string_view user,
               int64_t now_s, int64_t expiry_s);

class ClientIdDirectory {
 public:
  ClientIdDirectory(storage::Store& store, int64_t expiry_s) : store_(store), expiry_s_(expiry_s) {}
  // Loads persisted entries; every entry starts offline (the broker was restarted).
  storage::StoreStatus load(int64_t now_s);
  const ClientIdEntry* find(std::string_view client_id) const;
  bool may_claim(std::string_view client_id, std::string_view tenant, std::string_view user,
                 int64_t now_s) const;
  storage::StoreStatus claim(std::string_view client_id, std::string_view tenant,
                             std::string_view user, bool persistent);
  // The connection holding the id went away: a clean session frees the id, a persistent one keeps
  // it (offline) until it expires.
  storage::StoreStatus release(std::string_view client_id, int64_t now_s);
  size_t size() const { return entries_.size(); }

 private:
  storage::StoreStatus persist(std::string_view client_id, const ClientIdEntry& e);
  storage::Store& store_;
  int64_t expiry_s_;
  std::unordered_map<std::string, ClientIdEntry> entries_;
};

}  // namespace c8y::identity
