// Changes to where tenants live in a cluster: creating a tenant on a node, deleting it, moving it
// to another node. Neutral ground, like placement.h:
//   - TenantHost is what this node can do with one of its own tenants (plugin/rest implements
//     it: it has the store, the directory and the REST requests in flight);
//   - ClusterControl is the cluster's side (plugin/cluster implements it: etcd and the calls
//     between nodes); the REST API's management routes and the calls of other nodes ask it.
// Everything here may block (etcd, files, other nodes): REST threads and the cluster's own
// threads only, never the broker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "plugin/common/status.h"

namespace c8y::common {

class TenantHost {
 public:
  virtual ~TenantHost() = default;
  // Makes the tenant on this node. `spec` is JSON text:
  // {"options": {...}, "admin": {"name": "...", "passwordHash": "..."}} (both optional).
  // kConflict when the tenant exists here.
  virtual Status create(const std::string& tenant, const std::string& spec) = 0;
  // Drops the tenant from this node: its data, users, trusted CAs and registrations; its clients
  // are disconnected. kNotFound when it is not here.
  virtual Status remove(const std::string& tenant) = 0;
  // For a tenant this node no longer serves (placement.h says so already): disconnects its
  // clients and waits until the broker thread has done so and no REST request for the tenant is
  // still running, so that nothing is written for it any more. kUnavailable after `timeout`.
  virtual Status quiesce(const std::string& tenant, std::chrono::milliseconds timeout) = 0;
  // Writes the tenant into `dir` (which must not exist): its family's export and its records of
  // the system family. `files` gets the paths of what was written, relative to `dir`.
  virtual Status export_tenant(const std::string& tenant, const std::string& dir,
                               std::vector<std::string>* files, uint64_t* bytes) = 0;
  // Makes the tenant here from such a directory. kConflict when the tenant exists here.
  virtual Status import_tenant(const std::string& tenant, const std::string& dir) = 0;
  // A directory on this node's disk for transfers (exports handed over, imports received).
  virtual std::string staging_dir() const = 0;
};

// The outcome of a change: the status, and where the tenant lives afterwards.
struct TenantChange {
  Status status;
  std::string node;    // the tenant's node after the change
  std::string from;    // a move: the node it left
  int64_t epoch = 0;   // the placement's epoch after the change
  uint64_t bytes = 0;  // a move: bytes handed over
  double seconds = 0;  // how long the tenant was not served (a move), or the change took
};

class ClusterControl {
 public:
  virtual ~ClusterControl() = default;

  // The management API, on the node that got the request. A tenant id is unique in the cluster
  // (kConflict); `node` empty places a new tenant on the live node with the fewest connected
  // devices. kInvalid: no such live node. kUnavailable: etcd or a node that must take part is
  // not reachable (nothing changed). kNotFound: no such tenant.
  virtual TenantChange create_tenant(const std::string& tenant, const std::string& node,
                                     const std::string& spec) = 0;
  virtual TenantChange delete_tenant(const std::string& tenant) = 0;
  virtual TenantChange move_tenant(const std::string& tenant, const std::string& node) = 0;

  // Calls of another node (the REST API's /cluster/ routes), each authorized by the ticket that
  // the tenant's placement in etcd carries for the change under way (kInvalid otherwise).
  virtual Status peer_create(const std::string& tenant, const std::string& ticket,
                             const std::string& spec) = 0;
  virtual Status peer_delete(const std::string& tenant, const std::string& ticket) = 0;
  // On the tenant's node: hand it over to the placement's move_to.
  virtual TenantChange peer_move(const std::string& tenant, const std::string& ticket) = 0;
  // On the receiving node: fetch the export from `from` (host:port of its REST API) and import.
  virtual Status peer_import(const std::string& tenant, const std::string& ticket,
                             const std::string& from, const std::vector<std::string>& files) = 0;
  // A trusted CA's subject belongs to one tenant in the whole cluster (a device certificate's
  // issuer names its tenant on whichever node it lands): claimed when the CA is added (kConflict
  // when another tenant holds it; kUnavailable without etcd), released when it is removed.
  virtual Status claim_ca_subject(const std::string& subject, const std::string& tenant) = 0;
  virtual void release_ca_subject(const std::string& subject, const std::string& tenant) = 0;

  // On the handing-over node: the path of one file of the export under way ("" when the ticket
  // or the file is not that of a move under way).
  virtual std::string export_file(const std::string& tenant, const std::string& ticket,
                                  const std::string& file) = 0;
};

}  // namespace c8y::common
