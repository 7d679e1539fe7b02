// Bootstrap registrations across nodes. A single node keeps its new-device requests in its own
// store (identity::Registrations) and needs nothing of this. In a cluster the bootstrap user
// (management/devicebootstrap, tenant unknown at CONNECT) lands on whichever node holds the
// management tenant, not on the node that holds the device's tenant; so every request is also
// recorded cluster-wide (serial -> tenant, status, credential hash), which keeps a serial unique
// across all tenants and lets any node answer s/ucr.
//
// Neutral ground: the cluster layer implements BootstrapRegistry (cluster::RegistrationMirror,
// over etcd), the REST API and the MQTT side (app) use it, and identity implements
// BootstrapOwner (what the node holding a request does with what other nodes wrote).
//
// The credentials hand-over between a poller node P and the owner node O of the tenant:
//   P: accepted serial polls -> P makes the password, writes only its hash into the record
//      (a compare-and-put: of two pollers one wins), keeps the 70 line in memory
//   O: sees the hash -> creates the device user with it -> marks the record `installed`
//   P: sees `installed` with its hash -> sends the 70 line to the poller (through the outbox)
// So a device gets credentials only once they open its tenant's node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/common/status.h"

namespace c8y::common {

// One request as the cluster records it. `status` is identity's name for it
// (WAITING_FOR_CONNECTION, PENDING_ACCEPTANCE, ACCEPTED).
struct BootstrapRequest {
  std::string serial;
  std::string tenant;
  std::string status;
  std::string node;        // the node that recorded it (information only)
  std::string hash;        // a poller's password hash for the owner to install (ACCEPTED only)
  bool installed = false;  // the owner made the device user with `hash`
  int64_t revision = 0;    // the record's version (etcd mod revision)
  bool operator==(const BootstrapRequest&) const = default;
};

inline constexpr std::string_view kBootstrapWaiting = "WAITING_FOR_CONNECTION";
inline constexpr std::string_view kBootstrapPending = "PENDING_ACCEPTANCE";
inline constexpr std::string_view kBootstrapAccepted = "ACCEPTED";

class BootstrapRegistry {
 public:
  virtual ~BootstrapRegistry() = default;

  // REST threads (may wait for the cluster store; never the broker thread).
  // Records a new request of `tenant`: kConflict when another tenant's request holds the serial,
  // kUnavailable when the cluster store cannot be reached.
  virtual Status claim(std::string_view serial, std::string_view tenant) = 0;
  // The tenant's request changes status (ACCEPTED by its admin). kConflict: not this tenant's.
  virtual Status set_status(std::string_view serial, std::string_view tenant,
                            std::string_view status) = 0;
  // The tenant's request is gone (deleted over REST). Ok when there was none.
  virtual Status release(std::string_view serial, std::string_view tenant) = 0;
  // Every request of a deleted tenant is gone (its serials are free for other tenants).
  virtual Status release_tenant(std::string_view tenant) = 0;

  // Any thread, no network: the request as last seen (nullopt: none).
  virtual std::optional<BootstrapRequest> find(std::string_view serial) const = 0;

  // Broker thread: queued, done on the registry's own thread; nothing waits for them.
  // The device made contact (WAITING_FOR_CONNECTION -> PENDING_ACCEPTANCE).
  virtual void contacted(std::string_view serial) = 0;
  // An accepted device polled on a node that does not hold its request: writes `hash`, and once
  // the owner installed it, publishes `reply` on s/dcr to `client_id`.
  virtual void issue(std::string_view serial, std::string client_id, std::string hash,
                     std::string reply) = 0;
  // Whether an issue for the serial is still under way (a poll meanwhile makes no new password).
  virtual bool issuing(std::string_view serial) const = 0;
  // The request was completed here (the device logged in): the record goes.
  virtual void finished(std::string_view serial, std::string_view tenant) = 0;
};

// What the node holding a request does with changes other nodes made to its record. Called on
// the registry's thread; implementations are thread-safe.
class BootstrapOwner {
 public:
  virtual ~BootstrapOwner() = default;
  // The requests this node holds (to record those the cluster does not know yet).
  virtual std::vector<BootstrapRequest> requests() const = 0;
  // Whether this node holds the request of `tenant` for `serial`.
  virtual bool holds(std::string_view serial, std::string_view tenant) const = 0;
  // The device made contact on another node.
  virtual void contacted(std::string_view serial, std::string_view tenant) = 0;
  // Another node issued credentials: the device user gets this password hash. False when the
  // request is not (or no longer) accepted here, or storing failed (*why says which).
  virtual bool install(std::string_view serial, std::string_view tenant, std::string_view hash,
                       std::string* why) = 0;
};

}  // namespace c8y::common
