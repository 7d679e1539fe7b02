#include "plugin/app/sessions.h"

#include <algorithm>

namespace c8y::app {

namespace {
// How long a closed session is kept for its will.
constexpr auto kClosingKept = std::chrono::seconds(2);
}  // namespace

Session* SessionTable::find(ConnId conn) {
  // The ACL check of a PUBLISH and the message itself come one after the other.
  if (conn == last_conn_ && conn) return last_session_;
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return nullptr;
  last_conn_ = conn;
  last_session_ = it->second.get();
  return last_session_;
}

Session* SessionTable::closing(ConnId conn) {
  auto it = closing_.find(conn);
  return it == closing_.end() ? nullptr : it->second.session.get();
}

bool SessionTable::device_live(std::string_view tenant, std::string_view serial) const {
  std::string key(tenant);
  key.push_back('\0');
  key.append(serial);
  return live_serials_.count(key) != 0;
}

bool SessionTable::taken_over(const Session& s) const {
  if (takeovers_ == 0) return false;  // the common case, without a lookup
  auto r = connections_by_client_id_.find(s.client_id);
  return r != connections_by_client_id_.end() && r->second > 1;
}

Session& SessionTable::open(std::unique_ptr<Session> s) {
  if (s->role == policy::Role::kDevice) {
    // The same device under another client-id spelling (1234, d:1234) replaces the old
    // connection: Mosquitto sees two ids, so the plugin kicks the old one itself.
    std::string key = s->tenant + '\0' + s->serial;
    auto it = live_serials_.find(key);
    if (it != live_serials_.end() && it->second != s->client_id)
      outbox_.push(common::outbox::Kick{it->second});
    live_serials_[key] = s->client_id;
  }
  resume_subscriptions(*s);
  if (s->space) {
    s->space->metrics.connections_accepted.add();
    if (s->role == policy::Role::kDevice) s->space->metrics.devices_connected.add(1);
  }
  if (++connections_by_client_id_[s->client_id] == 2) ++takeovers_;
  Session& ref = *s;
  if (last_conn_ == s->conn) last_conn_ = nullptr;
  sessions_[s->conn] = std::move(s);
  return ref;
}

void SessionTable::resume_subscriptions(Session& s) {
  auto saved = saved_subscriptions_.find(s.client_id);
  if (!s.persistent) {
    // A clean session: Mosquitto dropped the old session and its subscriptions.
    if (saved != saved_subscriptions_.end()) saved_subscriptions_.erase(saved);
    return;
  }
  if (saved != saved_subscriptions_.end()) {
    // The client id directory lets only the same identity resume; an expired entry belongs
    // to a session Mosquitto has dropped too (persistent_client_expiration).
    const SavedSubscriptions& sub = saved->second;
    if (sub.tenant == s.tenant && sub.user == s.user &&
        wall_seconds() - sub.saved_s < static_cast<int64_t>(session_expiry_s_))
      for (auto& [filter, qos] : sub.subscriptions) add_subscription(s, filter, qos);
    saved_subscriptions_.erase(saved);
    return;
  }
  // A live connection holds the id: its subscriptions come with its DISCONNECT (close).
  auto live = connections_by_client_id_.find(s.client_id);
  if (live != connections_by_client_id_.end() && live->second > 0) resuming_[s.client_id] = s.conn;
}

void SessionTable::close(ConnId conn) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  // Only the connection that holds the client id releases it (on a takeover Mosquitto reports the
  // old connection gone after it authenticated the new one).
  auto refs = connections_by_client_id_.find(s.client_id);
  if (refs != connections_by_client_id_.end() && refs->second == 2) --takeovers_;
  const bool holder = refs == connections_by_client_id_.end() || --refs->second <= 0;
  if (holder) {
    if (refs != connections_by_client_id_.end()) connections_by_client_id_.erase(refs);
    if (auto st = client_ids_.release(s.client_id, wall_seconds()); !st.ok())
      outbox_.log(common::LogLevel::kWarning,
                  "c8y: cannot release client id " + s.client_id + ": " + st.message);
    auto live = live_serials_.find(s.tenant + '\0' + s.serial);
    if (live != live_serials_.end() && live->second == s.client_id) live_serials_.erase(live);
  }
  if (s.device_id) presence_.set(s.space, s.device_id, false);
  if (s.space && s.role == policy::Role::kDevice) s.space->metrics.devices_connected.add(-1);
  if (!s.subscriptions.empty()) hooks_.unsubscribed(s, s.subscriptions.size());
  if (auto r = resuming_.find(s.client_id); r != resuming_.end()) {
    // A persistent connection took this one's session over: it gets the subscriptions.
    if (r->second == conn) {
      resuming_.erase(r);
    } else if (auto next = sessions_.find(r->second); next != sessions_.end()) {
      Session& n = *next->second;
      resuming_.erase(r);
      if (s.persistent && n.tenant == s.tenant && n.user == s.user)
        for (auto& [filter, qos] : s.subscriptions) add_subscription(n, filter, qos);
    }
  } else if (holder && s.persistent && !s.subscriptions.empty()) {
    saved_subscriptions_[s.client_id] = {s.tenant, s.user, s.subscriptions, wall_seconds()};
  }
  if (last_conn_ == conn) last_conn_ = nullptr;
  closing_[conn] = Closing{std::move(it->second), std::chrono::steady_clock::now()};
  sessions_.erase(it);
}

void SessionTable::add_subscription(Session& s, std::string_view filter, int qos) {
  for (auto& [f, q] : s.subscriptions)
    if (f == filter) {
      q = qos;
      return;
    }
  s.subscriptions.emplace_back(std::string(filter), qos);
  hooks_.subscribed(s, filter);
}

void SessionTable::remove_subscription(Session& s, std::string_view filter) {
  const size_t n = std::erase_if(s.subscriptions, [&](auto& p) { return p.first == filter; });
  if (n) hooks_.unsubscribed(s, n);
}

void SessionTable::tick(std::chrono::steady_clock::time_point now) {
  if (!closing_.empty())
    std::erase_if(closing_, [&](auto& c) { return now - c.second.since > kClosingKept; });
  if (!saved_subscriptions_.empty() && now - last_saved_sweep_ > std::chrono::minutes(1)) {
    // Sessions Mosquitto expired (persistent_client_expiration) without their client returning.
    last_saved_sweep_ = now;
    const int64_t oldest = wall_seconds() - static_cast<int64_t>(session_expiry_s_);
    std::erase_if(saved_subscriptions_, [&](auto& e) { return e.second.saved_s <= oldest; });
  }
}

}  // namespace c8y::app
