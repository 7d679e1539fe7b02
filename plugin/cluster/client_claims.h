// ClusterClientClaims: decision D5 across the nodes of a cluster (common::ClientIdClaims).
//
// A client id belongs to the first identity (tenant, user) that connected with it anywhere in
// the cluster. The claim is one key in etcd, clients/<client id> = {"tenant", "identity",
// "node"}, written by a create-if-absent transaction: of two nodes claiming the same id for
// different identities, one wins and the other refuses its connection. A claim stays until its
// identity is deleted (release), so a device keeps its client id across reconnects and restarts,
// and a tenant that moves to another node keeps its devices' ids (the new node finds the claims
// its tenant holds and adopts them).
//
// Cost. The node caches the claims of its own connections (filled by every claim that succeeds,
// preloaded at start with its tenants' claims), so a reconnect asks etcd nothing. A first claim
// is one transaction on the broker thread through the `quick` client (short timeouts). When etcd
// does not answer in time, or is known to be away (the last request failed and no later one
// succeeded), the connection is accepted provisionally and the claim is made by the claims'
// thread once etcd answers; if another identity turns out to hold the id, the connection is
// disconnected (through the outbox) and the refusal logged. A refusal is remembered for
// `refusal_memory`, so a refused device that retries costs a request at most that often.
// The broker thread waits for etcd at most `wait_budget` per second in all: in a burst of first
// connects the claims past it are provisional too, made by the claims' thread.
//
// Releasing. release(tenant, identity) queues the identity; the claims' thread deletes each of
// its cached claims from etcd only while it still names that identity (read, then delete if the
// mod revision is unchanged).
//
// Threads: claim() on the broker thread; release() anywhere; etcd requests other than the first
// claim run on the claims' own thread. Nothing throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plugin/cluster/etcd_client.h"
#include "plugin/cluster/registry.h"
#include "plugin/common/client_claims.h"
#include "plugin/common/outbox.h"
#include "plugin/common/periodic.h"
#include "plugin/common/status.h"

namespace c8y::cluster {

// The value of clients/<client id>. `node` names the node that made the claim (for people; the
// owner is tenant and identity).
struct ClaimRecord {
  std::string tenant;
  std::string identity;
  std::string node;
  bool operator==(const ClaimRecord&) const = default;
};
std::string encode(const ClaimRecord& c);
// nullopt unless tenant and identity are non-empty strings (node may be absent).
std::optional<ClaimRecord> decode_claim(std::string_view json);
// Below keys.prefix(): clients/ and clients/<client id> (client ids may hold any byte but NUL;
// etcd keys are bytes).
std::string claims_dir(const Keys& keys);
std::string claim_key(const Keys& keys, std::string_view client_id);

struct ClientClaimsOptions {
  Keys keys;
  std::string node;                                 // this node's name, written into its claims
  std::chrono::milliseconds round{1000};            // the thread's pace while work is waiting
  std::chrono::milliseconds refusal_memory{10000};  // a refusal is answered from the cache
  // How long first claims may wait for etcd on the broker thread per second, all together; past
  // it, first claims are provisional for the rest of that second (a burst of new devices does
  // not stall the broker; 0: no limit).
  std::chrono::milliseconds wait_budget{200};
};

class ClusterClientClaims : public common::ClientIdClaims {
 public:
  using TenantsFn = std::function<std::vector<std::string>()>;

  // `quick` is asked on the broker thread (give it short timeouts), `slow` on the claims'
  // thread; both and `outbox` (may be null: no kicks, no log lines) outlive this.
  // `local_tenants` names the tenants whose claims are preloaded into the cache.
  ClusterClientClaims(EtcdClient& quick, EtcdClient& slow, ClientClaimsOptions options,
                      TenantsFn local_tenants, common::Outbox* outbox);
  ~ClusterClientClaims() override;
  ClusterClientClaims(const ClusterClientClaims&) = delete;
  ClusterClientClaims& operator=(const ClusterClientClaims&) = delete;

  void start();  // the claims' thread: preload, provisional claims, releases
  void stop();   // joins it; safe to call twice

  common::ClaimVerdict claim(std::string_view client_id, std::string_view tenant,
                             std::string_view identity) override;
  void release(std::string_view tenant, std::string_view identity) override;
  void forget(std::string_view tenant) override;

  // What the thread does each round, on the caller's thread: preloads the cache once, makes the
  // provisional claims and the releases that wait. kUnavailable when etcd did not answer (the
  // rest waits for the next round).
  common::Status round();

  struct Stats {
    uint64_t asked = 0;        // first claims that asked etcd on the broker thread
    uint64_t cached = 0;       // claims answered from the cache
    uint64_t provisional = 0;  // accepted without an answer from etcd
    uint64_t over_budget = 0;  // of them: provisional because the wait budget was spent
    uint64_t refused = 0;      // refused: another identity holds the id
    uint64_t kicked = 0;       // provisional connections found to use another's id
    uint64_t released = 0;     // claims deleted from etcd
    int64_t ask_us_last = 0;   // duration of the last broker-thread request
    int64_t ask_us_max = 0;
    int64_t ask_us_total = 0;
  };
  Stats stats() const;
  bool healthy() const;       // false while etcd is known to be away
  size_t cache_size() const;  // claims this node knows it holds
  size_t waiting() const;     // provisional claims and releases not yet done in etcd
  bool preloaded() const;

 private:
  struct Owner {
    std::string tenant;
    std::string identity;
    bool confirmed = false;  // etcd holds this claim (false: provisional, waiting)
  };
  struct Refusal {
    std::string tenant;  // the holder
    std::string identity;
    std::chrono::steady_clock::time_point until;
  };
  struct Unclaim {
    std::string client_id;
    std::string tenant;
    std::string identity;
  };

  common::Status preload();
  common::Status confirm_waiting();
  common::Status release_waiting();
  void log(common::LogLevel level, std::string message);

  EtcdClient& quick_;
  EtcdClient& slow_;
  ClientClaimsOptions options_;
  TenantsFn local_tenants_;
  common::Outbox* outbox_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Owner> owned_;              // client id -> the identity here
  std::unordered_map<std::string, Refusal> refused_;          // client id -> its holder elsewhere
  std::deque<std::pair<std::string, std::string>> releases_;  // (tenant, identity)
  std::vector<Unclaim> unclaims_;                             // claims to delete from etcd
  bool healthy_ = true;
  std::chrono::steady_clock::time_point budget_second_{};  // the second the budget counts
  std::chrono::microseconds budget_spent_{0};              // waited for etcd in it
  bool preloaded_ = false;
  Stats stats_;

  common::Periodic rounds_;  // last: stopped first, before the members its rounds use
};

}  // namespace c8y::cluster
