// NodeAgent: this node's membership and its tenants' placements, kept in etcd by one thread.
//
// Each round (every second) the agent
//   - holds a lease (TTL lease_ttl_s) and the node's record under nodes/<node> with it, so the
//     record disappears when the node dies or loses etcd for longer than the TTL;
//   - reads every node record and every placement (two range requests) and places each local
//     tenant that has none on this node (a create-if-absent: of two nodes claiming a tenant, one
//     wins);
//   - publishes what it read as a snapshot the other threads may ask (owner of a tenant).
// When etcd cannot be reached the node goes on serving what it has; the round retries. Nothing
// here runs on the broker thread, and log lines travel through the outbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plugin/cluster/etcd_client.h"
#include "plugin/cluster/registry.h"
#include "plugin/common/outbox.h"
#include "plugin/common/periodic.h"
#include "plugin/common/placement.h"
#include "plugin/common/status.h"

namespace c8y::cluster {

struct NodeAgentOptions {
  Keys keys;
  NodeRecord record;  // record.name is this node's name
  int lease_ttl_s = 5;
  std::chrono::milliseconds round{1000};
  // Connected devices now (written into the node's record when it changes: the placement hint
  // for new tenants); null: 0.
  std::function<int64_t()> devices = {};
  // A move or delete of one of this node's tenants that nobody carries out for this long (the
  // node that began it died before it reached this one, or this node restarted in the middle)
  // is abandoned: the tenant is served here again.
  std::chrono::milliseconds abandoned_after{30000};
};

class NodeAgent : public common::TenantPlacement {
 public:
  using TenantsFn = std::function<std::vector<std::string>()>;

  // etcd and outbox (may be null: no log lines) outlive the agent.
  NodeAgent(EtcdClient& etcd, NodeAgentOptions options, TenantsFn local_tenants,
            common::Outbox* outbox);
  ~NodeAgent() override;
  NodeAgent(const NodeAgent&) = delete;
  NodeAgent& operator=(const NodeAgent&) = delete;

  void start();  // runs rounds on the agent's thread
  // Stops the thread and revokes the lease: the node's record goes at once.
  void stop();

  // One round on the caller's thread (what the agent's thread does each second).
  common::Status round();

  struct View {
    bool registered = false;  // the node holds a lease and its record is written
    int64_t lease = 0;
    std::map<std::string, Placement> placements;  // every tenant's, as last read
    std::map<std::string, NodeRecord> nodes;      // the live nodes' records, as last read
    int64_t revision = 0;                         // etcd revision of that read
  };
  View view() const;
  // The tenant's placement as last read (nullopt: none known).
  std::optional<Placement> placement(const std::string& tenant) const;
  const std::string& node() const { return options_.record.name; }
  // What this node just wrote for a tenant (a change it made: create, move, delete), taken into
  // the view at once rather than at the next round. nullopt: the placement was deleted.
  // (A round that read etcd before that write may still put the older placement back until the
  // next round: a hint, not a guarantee; fence() is the guarantee.)
  void note(const std::string& tenant, const std::optional<Placement>& p);
  // While fenced, this node does not serve the tenant, whatever the placements say (a tenant
  // being handed over from here).
  void fence(const std::string& tenant, bool on);
  // Whether this node is carrying out a change of the tenant now (TenantControl); a change of
  // one of its tenants that it is not carrying out may be abandoned (abandoned_after).
  void set_changing(std::function<bool(const std::string&)> changing);
  // Rounds every 100 ms for `how_long` (a change this node expects another node to finish).
  void hurry(std::chrono::milliseconds how_long);
  // Here unless the last read placed the tenant on another node or the tenant is being moved or
  // created (served by nobody until that ends) (TenantPlacement).
  common::TenantHome home(std::string_view tenant) const override;
  std::vector<common::PlacedTenant> tenants() const override;

 private:
  common::Status hold_lease();
  common::Status refresh_record();
  common::Status place_tenants();
  void log(common::LogLevel level, std::string message);
  // One round on the agent's thread, logged; returns the pause before the next.
  std::chrono::milliseconds run_round();

  EtcdClient& etcd_;
  NodeAgentOptions options_;
  TenantsFn local_tenants_;
  common::Outbox* outbox_;

  mutable std::mutex mutex_;
  View view_;
  std::string last_error_;  // logged once until it changes
  int64_t written_devices_ = 0;
  std::set<std::string> fenced_;
  std::function<bool(const std::string&)> changing_;
  // Changes of this node's tenants not carried out here: by tenant, the ticket and when seen.
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> unowned_;
  std::chrono::steady_clock::time_point
      hurry_until_{};  // the devices count in the record as last written

  common::Periodic agent_thread_;  // last: stopped first, before the members its rounds use
};

}  // namespace c8y::cluster
