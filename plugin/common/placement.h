// Where a tenant is served. A single node serves every tenant it has; in a cluster the node
// agent (plugin/cluster) answers from the placements it last read from etcd. Neutral ground:
// the cluster layer implements it, the MQTT side (app) and the REST API (rest) ask it, and
// neither includes the other.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace c8y::common {

struct TenantHome {
  bool here = true;  // this node serves the tenant (also: nothing is known about it)
  std::string node;  // otherwise the node that does
  std::string rest;  // and its REST API's host:port; empty when that node is down
};

// One tenant as the cluster places it (GET /tenant/tenants).
struct PlacedTenant {
  std::string tenant;
  std::string node;
  bool available = false;  // its node is alive (holds its lease)
};

class TenantPlacement {
 public:
  virtual ~TenantPlacement() = default;
  // Any thread; cheap (a lock and a map lookup), never a network round trip.
  virtual TenantHome home(std::string_view tenant) const = 0;
  // Every placed tenant of the cluster, by tenant id.
  virtual std::vector<PlacedTenant> tenants() const = 0;
};

}  // namespace c8y::common
