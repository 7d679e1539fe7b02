#include "plugin/cluster/node_agent.h"

#include <algorithm>
#include <set>

namespace c8y::cluster {

NodeAgent::NodeAgent(EtcdClient& etcd, NodeAgentOptions options, TenantsFn local_tenants,
                     common::Outbox* outbox)
    : etcd_(etcd),
      options_(std::move(options)),
      local_tenants_(std::move(local_tenants)),
      outbox_(outbox) {}

NodeAgent::~NodeAgent() {
  stop();
}

void NodeAgent::start() {
  agent_thread_.start([this] { return run_round(); }, options_.round);
}

void NodeAgent::stop() {
  agent_thread_.stop();
  int64_t lease = 0;
  {
    std::lock_guard lock(mutex_);
    lease = view_.lease;
    view_.lease = 0;
    view_.registered = false;
  }
  // Best effort: when etcd is gone the lease expires by itself within its TTL.
  if (lease != 0) (void)etcd_.revoke_lease(lease);
}

std::chrono::milliseconds NodeAgent::run_round() {
  common::Status s = round();
  if (!s.ok() && s.message != last_error_) {
    last_error_ = s.message;
    log(common::LogLevel::kWarning, "c8y: cluster: " + s.message + " (retrying each second)");
  } else if (s.ok() && !last_error_.empty()) {
    last_error_.clear();
    log(common::LogLevel::kNotice, "c8y: cluster: etcd reachable again");
  }
  std::lock_guard lock(mutex_);
  if (std::chrono::steady_clock::now() < hurry_until_)
    return std::min<std::chrono::milliseconds>(options_.round, std::chrono::milliseconds(100));
  return options_.round;
}

common::Status NodeAgent::round() {
  if (auto s = hold_lease(); !s.ok()) return s;
  if (auto s = refresh_record(); !s.ok()) return s;
  return place_tenants();
}

common::Status NodeAgent::refresh_record() {
  const int64_t devices = options_.devices ? options_.devices() : 0;
  int64_t lease = 0;
  {
    std::lock_guard lock(mutex_);
    if (devices == written_devices_) return {};
    lease = view_.lease;
  }
  NodeRecord r = options_.record;
  r.devices = devices;
  if (auto s = etcd_.put(options_.keys.node(node()), encode(r), lease); !s.ok())
    return common::Status::Unavailable("node record: " + s.message);
  std::lock_guard lock(mutex_);
  written_devices_ = devices;
  return {};
}

common::Status NodeAgent::hold_lease() {
  int64_t lease = 0;
  {
    std::lock_guard lock(mutex_);
    lease = view_.lease;
  }
  if (lease != 0) {
    common::Status s = etcd_.keep_alive(lease);
    if (s.ok()) return s;
    if (!s.not_found()) return common::Status::Unavailable("lease keep-alive: " + s.message);
    log(common::LogLevel::kWarning,
        "c8y: cluster: node " + node() + "'s lease expired; registering again");
    std::lock_guard lock(mutex_);
    view_.lease = 0;
    view_.registered = false;
  }
  if (auto s = etcd_.grant_lease(options_.lease_ttl_s, &lease); !s.ok())
    return common::Status::Unavailable("lease grant: " + s.message);
  NodeRecord record = options_.record;
  record.devices = options_.devices ? options_.devices() : 0;
  if (auto s = etcd_.put(options_.keys.node(node()), encode(record), lease); !s.ok()) {
    (void)etcd_.revoke_lease(lease);  // best effort; it expires anyway
    return common::Status::Unavailable("node record: " + s.message);
  }
  {
    std::lock_guard lock(mutex_);
    view_.lease = lease;
    view_.registered = true;
    written_devices_ = record.devices;
  }
  log(common::LogLevel::kNotice, "c8y: cluster: node " + node() + " registered");
  return {};
}

common::Status NodeAgent::place_tenants() {
  std::vector<KeyValue> kvs;
  int64_t revision = 0;
  if (auto s = etcd_.list(options_.keys.nodes(), &kvs, &revision); !s.ok())
    return common::Status::Unavailable("reading nodes: " + s.message);
  std::map<std::string, NodeRecord> nodes;
  for (const auto& kv : kvs)
    if (auto n = decode_node(kv.value); n && n->name == options_.keys.node_of(kv.key))
      nodes.emplace(n->name, *n);
  kvs.clear();
  if (auto s = etcd_.list(options_.keys.tenants(), &kvs, &revision); !s.ok())
    return common::Status::Unavailable("reading placements: " + s.message);
  std::map<std::string, Placement> placements;
  std::map<std::string, int64_t> changing;  // this node's tenants under change: mod revisions
  for (const auto& kv : kvs) {
    std::string_view tenant = options_.keys.tenant_of(kv.key);
    auto p = decode_placement(kv.value);
    if (tenant.empty() || !p) continue;
    if (!p->change.empty() && p->node == node()) changing[std::string(tenant)] = kv.mod_revision;
    placements.emplace(std::string(tenant), *p);
  }
  std::function<bool(const std::string&)> carrying;
  {
    std::lock_guard lock(mutex_);
    carrying = changing_;
  }
  const auto now = std::chrono::steady_clock::now();
  std::set<std::string> still_unowned;
  std::set<std::string> foreign_before;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [t, p] : view_.placements)
      if (p.node != node()) foreign_before.insert(t);
  }
  common::Status result;
  for (const std::string& tenant : local_tenants_()) {
    auto it = placements.find(tenant);
    if (it == placements.end()) {
      Placement mine{node(), 1};
      KeyValue existing;
      common::Status s = etcd_.create(options_.keys.tenant(tenant), encode(mine), 0, &existing);
      if (s.ok()) {
        placements.emplace(tenant, mine);
        log(common::LogLevel::kNotice, "c8y: cluster: tenant " + tenant + " placed on " + node());
        continue;
      }
      if (!s.conflict()) {
        result = common::Status::Unavailable("placing tenant " + tenant + ": " + s.message);
        continue;
      }
      auto p = decode_placement(existing.value);
      if (!p) continue;
      it = placements.emplace(tenant, *p).first;
    }
    if (auto c = changing.find(tenant); c != changing.end()) {
      const Placement& p = it->second;
      Placement settled{node(), p.epoch};
      if (p.change == "create") {
        // Made here, but the node that asked for it did not settle its placement (it died, or
        // lost etcd): the tenant exists, so it is settled here.
        if (etcd_.compare_and_put(options_.keys.tenant(tenant), encode(settled), c->second).ok())
          it->second = settled;
      } else if (!carrying || !carrying(tenant)) {
        // A move or delete that this node is not carrying out: abandoned after a while.
        still_unowned.insert(tenant);
        bool expired = false;
        {
          std::lock_guard lock(mutex_);  // never held across an etcd request (home() waits)
          auto& seen = unowned_[tenant];
          if (seen.first != p.ticket) seen = {p.ticket, now};
          expired = now - seen.second >= options_.abandoned_after;
        }
        if (expired &&
            etcd_.compare_and_put(options_.keys.tenant(tenant), encode(settled), c->second).ok()) {
          log(common::LogLevel::kWarning, "c8y: cluster: the " + p.change + " of tenant " + tenant +
                                              " was abandoned (nobody carried it out); it is "
                                              "served here again");
          it->second = settled;
          still_unowned.erase(tenant);
        }
      }
    }
    if (it->second.node != node() && !foreign_before.count(tenant))
      log(common::LogLevel::kWarning,
          "c8y: cluster: tenant " + tenant + " is placed on " + it->second.node + " (epoch " +
              std::to_string(it->second.epoch) + "): its copy on this node is not served");
  }
  std::lock_guard lock(mutex_);
  std::erase_if(unowned_, [&](const auto& e) { return !still_unowned.count(e.first); });
  view_.placements = std::move(placements);
  view_.nodes = std::move(nodes);
  view_.revision = revision;
  return result;
}

NodeAgent::View NodeAgent::view() const {
  std::lock_guard lock(mutex_);
  return view_;
}

std::optional<Placement> NodeAgent::placement(const std::string& tenant) const {
  std::lock_guard lock(mutex_);
  auto it = view_.placements.find(tenant);
  if (it == view_.placements.end()) return std::nullopt;
  return it->second;
}

void NodeAgent::note(const std::string& tenant, const std::optional<Placement>& p) {
  std::lock_guard lock(mutex_);
  if (p)
    view_.placements[tenant] = *p;
  else
    view_.placements.erase(tenant);
}

void NodeAgent::set_changing(std::function<bool(const std::string&)> changing) {
  std::lock_guard lock(mutex_);
  changing_ = std::move(changing);
}

void NodeAgent::hurry(std::chrono::milliseconds how_long) {
  std::lock_guard lock(mutex_);
  hurry_until_ = std::chrono::steady_clock::now() + how_long;
}

void NodeAgent::fence(const std::string& tenant, bool on) {
  std::lock_guard lock(mutex_);
  if (on)
    fenced_.insert(tenant);
  else
    fenced_.erase(tenant);
}

common::TenantHome NodeAgent::home(std::string_view tenant) const {
  std::lock_guard lock(mutex_);
  auto it = view_.placements.find(std::string(tenant));
  if (!fenced_.empty() && fenced_.count(std::string(tenant))) {
    common::TenantHome h;
    h.here = false;
    h.node = it == view_.placements.end() ? node() : it->second.node;
    return h;
  }
  if (it == view_.placements.end() || (it->second.node == node() && it->second.served())) return {};
  common::TenantHome h;
  h.here = false;
  h.node = it->second.node;
  // A tenant being moved or created is served by nobody: no address to send a client to.
  if (auto n = view_.nodes.find(h.node); n != view_.nodes.end() && it->second.served())
    h.rest = n->second.rest;
  return h;
}

std::vector<common::PlacedTenant> NodeAgent::tenants() const {
  std::lock_guard lock(mutex_);
  std::vector<common::PlacedTenant> out;
  out.reserve(view_.placements.size());
  for (const auto& [tenant, p] : view_.placements)
    out.push_back(
        {tenant, p.node, p.served() && (p.node == node() || view_.nodes.count(p.node) > 0)});
  return out;
}

void NodeAgent::log(common::LogLevel level, std::string message) {
  if (outbox_) outbox_->push(common::outbox::Log{level, std::move(message)});
}

}  // namespace c8y::cluster
