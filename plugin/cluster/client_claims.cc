#include "plugin/cluster/client_claims.h"

#include <exception>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace c8y::cluster {

using common::ClaimVerdict;
using common::Status;

namespace {

bool same_owner(const std::string& tenant, const std::string& identity, std::string_view t,
                std::string_view i) {
  return tenant == t && identity == i;
}

std::string string_field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string encode(const ClaimRecord& c) {
  // Names are validated before they get here; replace keeps dump() from throwing all the same.
  return nlohmann::json{{"tenant", c.tenant}, {"identity", c.identity}, {"node", c.node}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<ClaimRecord> decode_claim(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  ClaimRecord c{string_field(j, "tenant"), string_field(j, "identity"), string_field(j, "node")};
  if (c.tenant.empty() || c.identity.empty()) return std::nullopt;
  return c;
}

std::string claims_dir(const Keys& keys) {
  return keys.prefix() + "clients/";
}

std::string claim_key(const Keys& keys, std::string_view client_id) {
  return claims_dir(keys) + std::string(client_id);
}

ClusterClientClaims::ClusterClientClaims(EtcdClient& quick, EtcdClient& slow,
                                         ClientClaimsOptions options, TenantsFn local_tenants,
                                         common::Outbox* outbox)
    : quick_(quick),
      slow_(slow),
      options_(std::move(options)),
      local_tenants_(std::move(local_tenants)),
      outbox_(outbox) {}

ClusterClientClaims::~ClusterClientClaims() {
  stop();
}

void ClusterClientClaims::start() {
  // Idle rounds ask etcd nothing; work waiting (a provisional claim, a release) wakes a round.
  rounds_.start([this] {
    try {
      (void)round();  // what failed waits for the next round; round() logs nothing per failure
    } catch (const std::exception& e) {
      log(common::LogLevel::kError, std::string("c8y: cluster: client-id claims: ") + e.what());
    }
    return options_.round;
  });  // the first round at once (it loads this node's tenants' claims)
}

void ClusterClientClaims::stop() {
  rounds_.stop();
}

void ClusterClientClaims::log(common::LogLevel level, std::string message) {
  if (outbox_) outbox_->log(level, std::move(message));
}

ClaimVerdict ClusterClientClaims::claim(std::string_view client_id, std::string_view tenant,
                                        std::string_view identity) {
  ClaimVerdict v;
  std::string id(client_id);
  {
    std::lock_guard lock(mutex_);
    if (auto it = owned_.find(id); it != owned_.end()) {
      const Owner& o = it->second;
      if (same_owner(o.tenant, o.identity, tenant, identity)) {
        ++stats_.cached;
        v.outcome = o.confirmed ? ClaimVerdict::kOurs : ClaimVerdict::kProvisional;
        return v;
      }
      // Another identity of this node holds it (in etcd, or provisionally: first come).
      ++stats_.refused;
      v.outcome = ClaimVerdict::kHeld;
      v.holder_tenant = o.tenant;
      return v;
    }
    if (auto it = refused_.find(id); it != refused_.end()) {
      const Refusal& r = it->second;
      if (std::chrono::steady_clock::now() < r.until &&
          !same_owner(r.tenant, r.identity, tenant, identity)) {
        ++stats_.refused;
        v.outcome = ClaimVerdict::kHeld;
        v.holder_tenant = r.tenant;
        return v;
      }
      refused_.erase(it);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - budget_second_ >= std::chrono::seconds(1)) {
      budget_second_ = now;
      budget_spent_ = {};
    }
    const bool over_budget =
        options_.wait_budget.count() > 0 && budget_spent_ >= options_.wait_budget;
    if (!healthy_ || over_budget) {
      // etcd is known to be away, or this second's wait is spent: no wait on the broker thread,
      // the thread claims it later.
      owned_[id] = Owner{std::string(tenant), std::string(identity), false};
      ++stats_.provisional;
      if (healthy_) ++stats_.over_budget;
      v.outcome = ClaimVerdict::kProvisional;
      rounds_.wake();
      return v;
    }
  }

  const auto t0 = std::chrono::steady_clock::now();
  KeyValue existing;
  Status st = quick_.create(
      claim_key(options_.keys, id),
      encode(ClaimRecord{std::string(tenant), std::string(identity), options_.node}), 0, &existing);
  const int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  v.asked = true;

  std::optional<ClaimRecord> holder;
  if (st.conflict()) holder = decode_claim(existing.value);
  std::lock_guard lock(mutex_);
  ++stats_.asked;
  budget_spent_ += std::chrono::microseconds(us);
  stats_.ask_us_last = us;
  stats_.ask_us_total += us;
  if (us > stats_.ask_us_max) stats_.ask_us_max = us;
  if (st.ok() || (holder && same_owner(holder->tenant, holder->identity, tenant, identity))) {
    // Created now, or this identity claimed it before (another node of its tenant, an earlier
    // run of this node): ours from now on.
    owned_[id] = Owner{std::string(tenant), std::string(identity), true};
    v.outcome = ClaimVerdict::kOurs;
    return v;
  }
  if (st.conflict()) {
    // A value that is not a claim is kept by nobody we know: refused all the same (its key is
    // taken), under an empty holder.
    Refusal r{holder ? holder->tenant : std::string(), holder ? holder->identity : std::string(),
              std::chrono::steady_clock::now() + options_.refusal_memory};
    refused_[id] = std::move(r);
    ++stats_.refused;
    v.outcome = ClaimVerdict::kHeld;
    v.holder_tenant = holder ? holder->tenant : std::string();
    return v;
  }
  // No answer in time (or an answer that is not one): accepted now, claimed by the thread.
  if (healthy_)
    log(common::LogLevel::kWarning,
        "c8y: cluster: etcd did not answer a client-id claim (" + st.message +
            "); new client ids are accepted provisionally until it does");
  healthy_ = false;
  owned_[id] = Owner{std::string(tenant), std::string(identity), false};
  ++stats_.provisional;
  v.outcome = ClaimVerdict::kProvisional;
  rounds_.wake();
  return v;
}

void ClusterClientClaims::release(std::string_view tenant, std::string_view identity) {
  {
    std::lock_guard lock(mutex_);
    releases_.emplace_back(std::string(tenant), std::string(identity));
  }
  rounds_.wake();
}

void ClusterClientClaims::forget(std::string_view tenant) {
  std::lock_guard lock(mutex_);
  for (auto it = owned_.begin(); it != owned_.end();)
    it = it->second.tenant == tenant ? owned_.erase(it) : std::next(it);
}

Status ClusterClientClaims::round() {
  bool answered = false;
  Status first;
  auto note = [&](Status st) {
    if (st.ok())
      answered = true;
    else if (first.ok())
      first = std::move(st);
  };
  {
    // Refusals remembered past their time are answered by etcd again: drop them.
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(refused_, [&](const auto& r) { return r.second.until <= now; });
  }
  if (!preloaded()) note(preload());
  note(confirm_waiting());
  note(release_waiting());
  bool healthy;
  {
    std::lock_guard lock(mutex_);
    healthy = healthy_;
  }
  if (!healthy && first.ok() && !answered) {
    // Known away and nothing to do: one read tells whether it is back.
    KeyValue kv;
    Status st = slow_.get(claims_dir(options_.keys), &kv);
    if (st.not_found()) st = {};
    note(std::move(st));
  }
  {
    // Away until a round's requests all get answers; the broker thread then asks again.
    std::lock_guard lock(mutex_);
    if (first.ok() && !healthy_)
      log(common::LogLevel::kNotice,
          "c8y: cluster: etcd answers client-id claims again; the provisional ones are made");
    if (first.ok())
      healthy_ = true;
    else if (first.unavailable())
      healthy_ = false;
  }
  return first;
}

Status ClusterClientClaims::preload() {
  std::vector<KeyValue> kvs;
  if (Status st = slow_.list(claims_dir(options_.keys), &kvs); !st.ok()) return st;
  std::unordered_set<std::string> local;
  if (local_tenants_)
    for (auto& t : local_tenants_()) local.insert(std::move(t));
  const std::string dir = claims_dir(options_.keys);
  std::lock_guard lock(mutex_);
  for (auto& kv : kvs) {
    auto c = decode_claim(kv.value);
    if (!c || !local.count(c->tenant) || kv.key.size() <= dir.size()) continue;
    // A claim made meanwhile by a connection wins over the list (it is as new or newer).
    owned_.try_emplace(kv.key.substr(dir.size()), Owner{c->tenant, c->identity, true});
  }
  preloaded_ = true;
  return {};
}

Status ClusterClientClaims::confirm_waiting() {
  std::vector<Unclaim> waiting;  // (client id, tenant, identity) of provisional claims
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, o] : owned_)
      if (!o.confirmed) waiting.push_back({id, o.tenant, o.identity});
  }
  for (auto& w : waiting) {
    KeyValue existing;
    Status st =
        slow_.create(claim_key(options_.keys, w.client_id),
                     encode(ClaimRecord{w.tenant, w.identity, options_.node}), 0, &existing);
    if (st.unavailable()) return st;  // the rest waits for the next round
    std::optional<ClaimRecord> holder;
    if (st.conflict()) holder = decode_claim(existing.value);
    const bool ours =
        st.ok() || (holder && same_owner(holder->tenant, holder->identity, w.tenant, w.identity));
    std::lock_guard lock(mutex_);
    auto it = owned_.find(w.client_id);
    if (it == owned_.end() || it->second.confirmed ||
        !same_owner(it->second.tenant, it->second.identity, w.tenant, w.identity))
      continue;  // released meanwhile (a release deletes what this claim wrote, if it did)
    if (ours) {
      it->second.confirmed = true;
      continue;
    }
    owned_.erase(it);
    if (!st.conflict()) {
      // etcd refused the request itself: the id stays unchecked, the next CONNECT asks again.
      log(common::LogLevel::kWarning,
          "c8y: cannot claim client id '" + w.client_id + "' in etcd: " + st.message);
      continue;
    }
    refused_[w.client_id] =
        Refusal{holder ? holder->tenant : std::string(), holder ? holder->identity : std::string(),
                std::chrono::steady_clock::now() + options_.refusal_memory};
    ++stats_.kicked;
    if (outbox_) outbox_->push(common::outbox::Kick{w.client_id});
    log(common::LogLevel::kWarning,
        "c8y: client id '" + w.client_id + "' is held by tenant " +
            (holder ? holder->tenant + " (" + holder->identity + ")" : std::string("?")) +
            " in the cluster: disconnected " + w.tenant + "/" + w.identity +
            ", accepted while etcd did not answer");
  }
  return {};
}

Status ClusterClientClaims::release_waiting() {
  std::vector<Unclaim> todo;
  {
    std::lock_guard lock(mutex_);
    for (auto& [tenant, identity] : releases_) {
      for (auto it = owned_.begin(); it != owned_.end();) {
        if (it->second.tenant == tenant && (identity.empty() || it->second.identity == identity)) {
          unclaims_.push_back({it->first, it->second.tenant, it->second.identity});
          it = owned_.erase(it);
        } else {
          ++it;
        }
      }
    }
    releases_.clear();
    todo.swap(unclaims_);
  }
  Status result;
  std::vector<Unclaim> kept;
  for (auto& u : todo) {
    if (!result.ok()) {
      kept.push_back(std::move(u));
      continue;
    }
    const std::string key = claim_key(options_.keys, u.client_id);
    KeyValue kv;
    Status st = slow_.get(key, &kv);
    if (st.ok()) {
      auto c = decode_claim(kv.value);
      if (!c || !same_owner(c->tenant, c->identity, u.tenant, u.identity))
        continue;  // no longer this identity's: not ours to delete
      st = slow_.compare_and_delete(key, kv.mod_revision);
      if (st.ok()) {
        std::lock_guard lock(mutex_);
        ++stats_.released;
      }
    }
    if (st.unavailable()) {
      result = std::move(st);
      kept.push_back(std::move(u));
    }
    // kNotFound: gone already; kConflict: changed meanwhile, so no longer the claim we knew.
  }
  std::lock_guard lock(mutex_);
  for (auto& u : kept) unclaims_.push_back(std::move(u));
  return result;
}

ClusterClientClaims::Stats ClusterClientClaims::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool ClusterClientClaims::healthy() const {
  std::lock_guard lock(mutex_);
  return healthy_;
}

size_t ClusterClientClaims::cache_size() const {
  std::lock_guard lock(mutex_);
  return owned_.size();
}

size_t ClusterClientClaims::waiting() const {
  std::lock_guard lock(mutex_);
  size_t n = unclaims_.size() + releases_.size();
  for (auto& [id, o] : owned_)
    if (!o.confirmed) ++n;
  return n;
}

bool ClusterClientClaims::preloaded() const {
  std::lock_guard lock(mutex_);
  return preloaded_;
}

}  // namespace c8y::cluster
