// Sessions: the live connections and what outlives one. One job: the table of sessions by
// connection, and the rules of MQTT session identity around it — the same device under another
// client-id spelling replaces the older connection; a takeover (Mosquitto authenticates the new
// connection before it reports the old one gone) keeps the client id with the newer one;
// persistent sessions keep their subscriptions while offline and hand them to the connection
// that resumes them (Mosquitto resumes them without a SUBSCRIBE the plugin could see); a closed
// session is kept for two seconds because Mosquitto sends its will after the DISCONNECT.
// Broker thread only. Depends on: identity (client-id directory), the PresenceTracker, the
// outbox (kicks), and two hooks the composition root wires (a subscription added or dropped).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/app/presence.h"
#include "plugin/app/session.h"
#include "plugin/common/outbox.h"
#include "plugin/identity/client_id_directory.h"

namespace c8y::app {

class SessionTable {
 public:
  struct Hooks {
    // A subscription was granted (or came back with a resumed session).
    std::function<void(Session&, std::string_view filter)> subscribed;
    // `n` subscriptions went away (unsubscribe, or the connection closed).
    std::function<void(Session&, size_t n)> unsubscribed;
  };
  SessionTable(uint64_t session_expiry_s, identity::ClientIdDirectory& client_ids,
               PresenceTracker& presence, common::Outbox& outbox, Hooks hooks)
      : session_expiry_s_(session_expiry_s),
        client_ids_(client_ids),
        presence_(presence),
        outbox_(outbox),
        hooks_(std::move(hooks)) {}

  Session* find(ConnId conn);
  // A session whose connection closed in the last two seconds (its will may still come).
  Session* closing(ConnId conn);
  // A new connection reuses the handle of a closed one.
  void forget_closing(ConnId conn) { closing_.erase(conn); }
  // Adds an authenticated session: replaces the same device's connection under another client
  // id, and resumes the subscriptions of a persistent session.
  Session& open(std::unique_ptr<Session> s);
  // The connection closed: releases its client id (unless a newer connection took it over),
  // hands its subscriptions to a resuming connection or keeps them for one.
  void close(ConnId conn);
  // A device of the tenant with this serial is connected now (a new connection of it replaces
  // that one).
  bool device_live(std::string_view tenant, std::string_view serial) const;
  // While a newer connection with the same client id takes this one over.
  bool taken_over(const Session& s) const;
  void add_subscription(Session& s, std::string_view filter, int qos);
  void remove_subscription(Session& s, std::string_view filter);
  // Drops closed sessions and saved subscriptions that expired.
  void tick(std::chrono::steady_clock::time_point now);

  // Every live session (`fn(Session&)`); fn must not open or close sessions.
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (auto& [conn, s] : sessions_) fn(*s);
  }
  size_t size() const { return sessions_.size(); }

 private:
  void resume_subscriptions(Session& s);

  uint64_t session_expiry_s_;
  identity::ClientIdDirectory& client_ids_;
  PresenceTracker& presence_;
  common::Outbox& outbox_;
  Hooks hooks_;
  std::unordered_map<ConnId, std::unique_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::string> live_serials_;  // tenant '\0' serial -> client id
  // Live connections per client id: more than one only during a takeover; `takeovers_`: how
  // many client ids have two connections now.
  std::unordered_map<std::string, int> connections_by_client_id_;
  size_t takeovers_ = 0;
  // The session found last (find): one lookup for a PUBLISH's ACL check and its message.
  ConnId last_conn_ = nullptr;
  Session* last_session_ = nullptr;
  // Subscriptions of persistent sessions, per client id while the session is offline
  // (Mosquitto's persistence is off, so they live as long as Mosquitto's in-memory session).
  // `resuming_`: a persistent connection that took over a live one, waiting for the old one's
  // DISCONNECT to take its subscriptions.
  struct SavedSubscriptions {
    std::string tenant, user;
    std::vector<std::pair<std::string, int>> subscriptions;
    int64_t saved_s = 0;
  };
  std::unordered_map<std::string, SavedSubscriptions> saved_subscriptions_;
  std::unordered_map<std::string, ConnId> resuming_;
  std::chrono::steady_clock::time_point last_saved_sweep_{};
  struct Closing {
    std::unique_ptr<Session> session;
    std::chrono::steady_clock::time_point since;
  };
  std::unordered_map<ConnId, Closing> closing_;
};

}  // namespace c8y::app
