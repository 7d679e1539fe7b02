// The cluster's records in etcd: where they live (keys) and what they hold (JSON values).
//
// Below one prefix (plugin_opt_cluster_prefix, default "/c8y/"):
//   nodes/<node>      a node's record, written with the node's lease: present while it lives
//   casubjects/<hex>  which tenant a trusted CA's subject belongs to (unique in the cluster)
//   secrets/token     the key of device tokens, the same on every node (the first node to start
//                     writes its own; tokens then work on any node, and after a move)
//   tenants/<tenant>  the tenant's placement: which node owns it, and the placement's epoch
//                     (raised by every move; a node serves a tenant only while the placement
//                     names it, so an old owner is fenced by the new epoch). While a change is
//                     under way it also names the change (creating, deleting, moving to a node)
//                     and carries a ticket: a random secret that only etcd and the nodes taking
//                     part know, which authorizes their calls to one another for that change.
// The message path reads none of this: nodes keep what they need in memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace c8y::cluster {

struct Placement {
  std::string node;
  int64_t epoch = 0;
  // A change under way: "create" (the node is making the tenant), "delete" (the node is
  // dropping it), "move" (the node hands it over to `move_to`); empty when settled.
  std::string change = {};
  std::string move_to = {};
  std::string ticket = {};
  // Settled and served by `node` (a tenant being moved is served by nobody).
  bool served() const { return change.empty() || change == "delete"; }
  bool operator==(const Placement&) const = default;
};

// What a node tells the cluster about itself (the router and the other nodes read it).
struct NodeRecord {
  std::string name;
  std::string rest;  // host:port of its REST API, for requests another node forwards
  int64_t started_ms = 0;
  int64_t devices = 0;  // connected devices, refreshed while the node lives (placement hint)
  bool operator==(const NodeRecord&) const = default;
};

class Keys {
 public:
  explicit Keys(std::string prefix = "/c8y/");
  const std::string& prefix() const { return prefix_; }
  std::string nodes() const { return prefix_ + "nodes/"; }
  std::string node(std::string_view name) const { return nodes() + std::string(name); }
  std::string tenants() const { return prefix_ + "tenants/"; }
  std::string tenant(std::string_view id) const { return tenants() + std::string(id); }
  // A trusted CA subject's claim ({"tenant", "subject"}); the subject hex-encoded.
  std::string ca_subjects() const { return prefix_ + "casubjects/"; }
  std::string ca_subject(std::string_view subject) const;
  // The HS256 key of device tokens that every node of the cluster uses.
  std::string token_secret() const { return prefix_ + "secrets/token"; }
  // The name below nodes() / tenants(), or empty when key is not such a key.
  std::string_view node_of(std::string_view key) const;
  std::string_view tenant_of(std::string_view key) const;

 private:
  std::string prefix_;
};

std::string encode(const Placement& p);
std::optional<Placement> decode_placement(std::string_view json);
std::string encode(const NodeRecord& n);
std::optional<NodeRecord> decode_node(std::string_view json);

// A valid node name: 1-32 of [a-z0-9_-] (it becomes part of HAProxy backend names).
bool valid_node_name(std::string_view name);

}  // namespace c8y::cluster
