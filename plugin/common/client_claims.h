// Cluster-wide client-id claims (decision D5 across nodes).
//
// A single node keeps its own client-id directory (plugin/identity/client_id_directory.h). In a
// cluster the nodes share one rule on top of it: a client id belongs to the first identity
// (tenant and user) that connected with it anywhere in the cluster, until that identity is
// deleted; another identity is refused at CONNECT on every node. The cluster layer implements
// it (plugin/cluster/client_claims.h), the MQTT side (app) asks it; neither includes the other.
#pragma once

#include <string>
#include <string_view>

namespace c8y::common {

struct ClaimVerdict {
  enum Outcome {
    kOurs,         // the caller's identity holds the client id (known, or claimed just now)
    kProvisional,  // the cluster could not be asked in time: accepted, checked in the background
                   // (a connection found to use another identity's client id is disconnected)
    kHeld,         // another identity holds it: refuse
  } outcome = kOurs;
  std::string holder_tenant;  // kHeld: the tenant that holds it
  bool asked = false;         // the cluster store was asked (false: answered from the cache)
};

class ClientIdClaims {
 public:
  virtual ~ClientIdClaims() = default;
  // Broker thread, on CONNECT. Answers from the node's cache when it knows the client id
  // (a reconnect costs no request); a first claim asks the cluster once, with a short timeout.
  virtual ClaimVerdict claim(std::string_view client_id, std::string_view tenant,
                             std::string_view identity) = 0;
  // The identity is gone (a deleted user; `identity` empty: every identity of a deleted tenant):
  // its claims are released in the background, each only while it is still its own. Any thread;
  // never waits for the network.
  virtual void release(std::string_view tenant, std::string_view identity) = 0;
  // The tenant now lives on another node: its claims stay in the cluster (they go with it), this
  // node stops answering for them from its cache. Any thread; never waits for the network.
  virtual void forget(std::string_view tenant) = 0;
};

}  // namespace c8y::common
