// EtcdClient: the cluster's one door to etcd (3.4), through etcd's v3 JSON gateway
// (POST /v3/kv/range, /v3/kv/put, /v3/kv/txn, /v3/kv/deleterange, /v3/lease/grant,
// /v3/lease/keepalive, /v3/lease/revoke, streaming /v3/watch; keys and values base64) over
// libcurl. No hand-written HTTP: libcurl speaks it, nlohmann::json reads and writes the bodies.
//
// Endpoints: the members' client URLs ("http://127.0.0.1:2379"). A request goes to the member
// that answered last; when it cannot be reached (connect refused, timeout) the next one is tried,
// each at most once per request. A member that answers with an error (no leader, request timed
// out: quorum lost) is an answer: kUnavailable, no retry on another member.
//
// Results: kOk; kNotFound (a key or lease that does not exist, a watch revision compacted
// away); kConflict (a compare failed: create of an existing key, a stale mod revision);
// kUnavailable (no member reachable, quorum lost, timeout); kInvalid (etcd refused the request
// as malformed). Nothing throws.
//
// Threads: every method may be called from any thread; calls are independent (each takes its
// own curl handle from a small pool). Never called on the broker thread on the message path.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/common/status.h"

namespace c8y::cluster {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // client URLs, e.g. "http://127.0.0.1:2379"
  int connect_timeout_ms = 500;
  int request_timeout_ms = 3000;  // whole request (not watch streams)
  int list_page = 1000;           // keys per range request of list() (all pages at one revision)
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct WatchEvent {
  enum Type { kPut, kDelete } type = kPut;
  KeyValue kv;  // for kDelete only key and mod_revision are meaningful
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // One key. kNotFound when absent. *revision (optional) is the store's revision of the read.
  common::Status get(std::string_view key, KeyValue* out, int64_t* revision = nullptr);
  // Every key starting with prefix, in key order; *revision is the store's revision of the read
  // (the place a watch continues from: revision + 1).
  common::Status list(std::string_view prefix, std::vector<KeyValue>* out,
                      int64_t* revision = nullptr);
  common::Status put(std::string_view key, std::string_view value, int64_t lease = 0);
  // Writes key only when it does not exist (txn: CREATE revision == 0). kConflict when it does,
  // and *existing (optional) is then the stored key.
  common::Status create(std::string_view key, std::string_view value, int64_t lease = 0,
                        KeyValue* existing = nullptr);
  // Writes key only when its mod revision is still expected_mod_revision (0: must be absent).
  // kConflict otherwise, *current (optional) is then the stored key (empty key when absent).
  common::Status compare_and_put(std::string_view key, std::string_view value,
                                 int64_t expected_mod_revision, int64_t lease = 0,
                                 KeyValue* current = nullptr);
  // Deletes key only when its mod revision is still expected_mod_revision. kConflict otherwise,
  // kNotFound when absent.
  common::Status compare_and_delete(std::string_view key, int64_t expected_mod_revision);
  // Deletes key (ok also when it was absent).
  common::Status remove(std::string_view key);

  // Leases: node liveness. keep_alive refreshes once; kNotFound when the lease has expired.
  common::Status grant_lease(int ttl_seconds, int64_t* lease_id);
  common::Status keep_alive(int64_t lease_id, int64_t* ttl_left = nullptr);
  common::Status revoke_lease(int64_t lease_id);

  // Streams the changes of every key below prefix, from from_revision on, calling on_events
  // for each batch with the batch's revision, until on_events returns false or stop becomes
  // true (checked at least every 500 ms), then returns kOk. kUnavailable when the stream
  // broke (member gone), kNotFound when from_revision was compacted away (list again).
  // The batch's revision is its last event's mod revision (etcd's own header revision can run
  // ahead of a catch-up batch). An exception thrown by on_events ends the watch and reaches the
  // caller unchanged (it is the caller's; nothing else throws).
  common::Status watch(
      std::string_view prefix, int64_t from_revision,
      const std::function<bool(const std::vector<WatchEvent>&, int64_t)>& on_events,
      const std::atomic<bool>& stop);

  // Requests sent so far (for the metrics and the "etcd requests per CONNECT" figure); each
  // member tried counts, one that refused the connection too. A watch is one request.
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> requests_{0};
};

}  // namespace c8y::cluster
