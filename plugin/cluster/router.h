// Router: keeps HAProxy's tenant map (tenant -> node) equal to the placements in etcd.
//
// HAProxy picks a tenant's backend through a map file (see conf/cluster/haproxy.cfg). The
// router lists the placements, writes the map file (atomically: a restarted HAProxy starts
// right) and changes the running HAProxy through its runtime API (`add map` / `set map` /
// `del map` on the stats socket), which takes effect without a reload. Then it watches etcd from
// the revision it read and applies each change the same way. When the watch breaks (a member
// gone, a compacted revision) it lists again: a restarted router, or one that missed changes,
// converges on the first list. Several routers (one per HAProxy) may run side by side.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "plugin/cluster/etcd_client.h"
#include "plugin/cluster/registry.h"
#include "plugin/common/status.h"

namespace c8y::cluster {

using TenantMap = std::map<std::string, std::string>;  // tenant -> node

// The runtime API commands that turn `current` into `desired` for the map file `map`.
std::vector<std::string> map_commands(const std::string& map, const TenantMap& current,
                                      const TenantMap& desired);
// The map as `show map <file>` prints it ("0x55d0... key value" per line).
TenantMap parse_show_map(const std::string& reply);
// The map file's text ("key value" per line, sorted).
std::string render_map(const TenantMap& map);

// One command on a HAProxy stats socket (a UNIX socket), its answer in *reply.
common::Status haproxy_command(const std::string& socket_path, const std::string& command,
                               std::string* reply);

struct RouterOptions {
  Keys keys;
  std::string map_file;              // the path HAProxy's configuration names
  std::vector<std::string> sockets;  // HAProxy stats sockets (level admin)
};

class Router {
 public:
  using LogFn = std::function<void(const std::string&)>;
  Router(EtcdClient& etcd, RouterOptions options, LogFn log);

  // Lists the placements and brings the file and every HAProxy to them; *revision is the read's.
  common::Status sync(int64_t* revision = nullptr);
  // sync, then watch and apply, again and again, until stop. Returns when stop is set.
  void run(const std::atomic<bool>& stop);

  const TenantMap& map() const { return map_; }

 private:
  common::Status apply(const TenantMap& desired);
  common::Status write_file(const TenantMap& map);

  EtcdClient& etcd_;
  RouterOptions options_;
  LogFn log_;
  TenantMap map_;  // what the file and the HAProxys hold
};

}  // namespace c8y::cluster
