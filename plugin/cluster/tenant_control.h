// TenantControl: creating, deleting and moving tenants across the cluster (ClusterControl).
//
// Every change starts with a compare-and-set on the tenant's placement in etcd that names the
// change and carries a fresh ticket (128 random bits); the nodes that take part call one another
// over their REST APIs' /cluster/ routes with that ticket, and each checks it against etcd
// before acting. etcd is the only root of trust: no shared secret to configure.
//
//   create  the node that got the request writes the placement {node, epoch 1, change create}
//           (create-if-absent: a tenant id is unique in the cluster), the chosen node makes the
//           tenant, the placement is settled.
//   delete  {change delete} on the placement, the owner drops the tenant, the placement goes.
//   move    {epoch + 1, change move, moveTo}: from then on no node serves the tenant (the new
//           epoch fences the owner: what it held before no longer counts). The owner
//           fences it (refuses its CONNECTs and REST requests), disconnects its clients, waits
//           until nothing is written for it any more, exports it (family and system records),
//           and asks the target to import it; the target fetches the files from the owner and
//           imports them. Then the owner flips the placement to {target, same epoch}, which the
//           router turns into HAProxy's map and the target starts serving; the owner drops its
//           copy. A failure before the flip puts the tenant back on the owner, served.
//
// Threads: REST threads (blocking: etcd, files, other nodes); never the broker thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "plugin/cluster/etcd_client.h"
#include "plugin/cluster/node_agent.h"
#include "plugin/cluster/registry.h"
#include "plugin/common/cluster_control.h"
#include "plugin/common/outbox.h"

namespace c8y::cluster {

struct TenantControlOptions {
  Keys keys;
  std::string scheme = "http";  // how nodes reach one another's REST APIs
  std::chrono::milliseconds quiesce_timeout{10000};
  std::chrono::milliseconds peer_timeout{600000};  // a call to another node (an import)
};

class TenantControl : public common::ClusterControl {
 public:
  // All outlive the control; outbox may be null (no log lines).
  TenantControl(EtcdClient& etcd, NodeAgent& agent, common::TenantHost& host,
                common::Outbox* outbox, TenantControlOptions options);

  common::TenantChange create_tenant(const std::string& tenant, const std::string& node,
                                     const std::string& spec) override;
  common::TenantChange delete_tenant(const std::string& tenant) override;
  common::TenantChange move_tenant(const std::string& tenant, const std::string& node) override;

  common::Status peer_create(const std::string& tenant, const std::string& ticket,
                             const std::string& spec) override;
  common::Status peer_delete(const std::string& tenant, const std::string& ticket) override;
  common::TenantChange peer_move(const std::string& tenant, const std::string& ticket) override;
  common::Status peer_import(const std::string& tenant, const std::string& ticket,
                             const std::string& from,
                             const std::vector<std::string>& files) override;
  std::string export_file(const std::string& tenant, const std::string& ticket,
                          const std::string& file) override;
  // Whether this node is carrying out a change of the tenant now (NodeAgent::set_changing).
  bool changing(const std::string& tenant) const;

  common::Status claim_ca_subject(const std::string& subject, const std::string& tenant) override;
  void release_ca_subject(const std::string& subject, const std::string& tenant) override;

 private:
  // The placement in etcd now, with its mod revision (kNotFound: none).
  common::Status read(const std::string& tenant, Placement* p, int64_t* mod_revision);
  // Checks that the stored placement carries `ticket` for `change` and names this node in
  // `role` ("node" or "moveTo"); kInvalid otherwise.
  common::Status check_ticket(const std::string& tenant, const std::string& ticket,
                              const std::string& change, bool as_target, Placement* p,
                              int64_t* mod_revision);
  // Replaces the placement if it still carries `ticket`.
  common::Status settle(const std::string& tenant, const std::string& ticket,
                        const std::optional<Placement>& next);
  common::TenantChange undo_move(const std::string& tenant, const std::string& ticket,
                                 const Placement& moving, common::Status why);
  // The agent's view with the live nodes read from etcd now (a management change is rare; a
  // node that joined a moment ago counts).
  NodeAgent::View fresh_view();
  std::string rest_of(const NodeAgent::View& view, const std::string& node) const;
  void log(common::LogLevel level, std::string message);

  EtcdClient& etcd_;
  NodeAgent& agent_;
  common::TenantHost& host_;
  common::Outbox* outbox_;
  TenantControlOptions options_;

  struct Export {
    std::string ticket;
    std::string dir;
    std::vector<std::string> files;
  };
  // Tenants whose change this node is carrying out now.
  class Carrying;
  mutable std::mutex active_mutex_;
  std::set<std::string> active_;
  std::mutex exports_mutex_;
  std::map<std::string, Export> exports_;  // by tenant: moves under way from this node
};

// A fresh ticket: 32 hex digits from the system's randomness ("" when there is none).
std::string new_ticket();
// A relative path of an export's file: no "..", not absolute, [A-Za-z0-9._/-] only.
bool safe_relative_path(const std::string& path);

}  // namespace c8y::cluster
