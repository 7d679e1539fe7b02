// Retention rules (Cumulocity's /retention/retentions) and the pass that applies them.
//
// A rule removes the data of one kind (MEASUREMENT, EVENT, ALARM, OPERATION, or "*" for all
// four) older than maximumAge days, optionally only of one fragmentType, type or source. Rules
// are stored in the tenant's family: "D" <id:8 BE> -> rule JSON (storage/keys.h). Every rule
// applies on its own (data matched by several goes at the shortest age). The node-wide default
// (plugin_opt_retention_days) acts as one more rule {"*", maximumAge: days} for every tenant that
// has no catch-all rule of its own (dataType "*" without fragmentType, type or source).
//
// What a pass keeps whatever its age: alarms that are not CLEARED (ACTIVE, ACKNOWLEDGED) and
// operations that are not final (PENDING, EXECUTING). The time that counts is the one in the key:
// a measurement's, event's or alarm's time, an operation's creation time.
//
// How a pass removes, per tenant (never on the broker thread):
// - measurements without fragmentType/type filter: one range tombstone per source
//   ['m' <src>, 'm' <src> <cutoff>) in one WriteBatch, the sources found by seeking past each
//   one (Store::groups); the hourly rollups 'h' of those hours go the same way and the rollup of
//   the hour the cutoff falls in is voided;
// - everything else: a scan of each source's expired range only; documents are deleted with their
//   id index ('E', 'A', 'O') in one batch, under the tenant's objects_mutex after reading them
//   again (a change made meanwhile is respected); measurements deleted one by one void the
//   rollups of their hours;
// - then, when anything was removed, a manual compaction of the tenant's family reclaims the
//   space (Store::compact).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugin/common/outbox.h"
#include "plugin/common/periodic.h"
#include "plugin/common/status.h"
#include "plugin/domain/tenant_space.h"
#include "storage/store.h"

namespace c8y::domain {

inline constexpr int64_t kDayMs = 86'400'000;
// maximumAge above this (about 2,700 years) is refused: the cutoff must not overflow.
inline constexpr int64_t kMaxRetentionDays = 1'000'000;

struct RetentionRule {
  uint64_t id = 0;
  std::string data_type = "*";  // MEASUREMENT, EVENT, ALARM, OPERATION or "*"
  std::string fragment_type;    // "" = any (written "*")
  std::string type;             // "" = any
  std::string source;           // a managed-object id; "" = any
  int64_t maximum_age = 0;      // days
  bool editable = true;

  // dataType "*" without any other filter: the tenant's own default.
  bool catch_all() const {
    return data_type == "*" && fragment_type.empty() && type.empty() && source.empty();
  }
};

// {"id", "dataType", "fragmentType", "type", "source", "maximumAge", "editable"}; an empty filter
// is written "*" (as Cumulocity does). No "self": the REST layer adds it.
nlohmann::json retention_rule_json(const RetentionRule& r);
// Applies the fields present in `body` (a REST body) to `rule`, then checks the whole rule:
// kInvalid with a message naming the field. "id", "self" and unknown fields are ignored;
// fragmentType, type and source take "*", "" or null for "any".
common::Status apply_retention_json(const nlohmann::json& body, RetentionRule* rule);

// The rules of one tenant. Thread-safe (writes are single RocksDB writes).
class RetentionRules {
 public:
  RetentionRules(storage::Store& store, TenantSpace& space) : store_(store), space_(space) {}
  // Every rule, in id order.
  common::Status list(std::vector<RetentionRule>* out) const;
  std::optional<RetentionRule> get(uint64_t id) const;
  // A new rule from a REST body (kInvalid: the reason).
  common::Status create(const nlohmann::json& body, RetentionRule* out);
  // Changes the fields the body names (kNotFound, kInvalid).
  common::Status update(uint64_t id, const nlohmann::json& body, RetentionRule* out);
  common::Status remove(uint64_t id);

 private:
  storage::Store& store_;
  TenantSpace& space_;
};

// What a pass removed.
struct RetentionCounts {
  uint64_t measurements = 0, events = 0, alarms = 0, operations = 0;
  uint64_t rollups = 0;  // hourly measurement rollups deleted or voided
  uint64_t total() const { return measurements + events + alarms + operations; }
  void add(const RetentionCounts& o) {
    measurements += o.measurements;
    events += o.events;
    alarms += o.alarms;
    operations += o.operations;
    rollups += o.rollups;
  }
};

struct RetentionReport {
  RetentionCounts removed;                                       // all tenants
  std::vector<std::pair<std::string, RetentionCounts>> tenants;  // those with rules, by id
  size_t compacted = 0;                                          // families compacted
  double seconds = 0;
};
nlohmann::json retention_report_json(const RetentionReport& r);

class Retention {
 public:
  // `default_days`: plugin_opt_retention_days (0: no node default).
  Retention(storage::Store& store, TenantSpaces& spaces, unsigned default_days)
      : store_(store), spaces_(spaces), default_days_(default_days) {}
  unsigned default_days() const { return default_days_; }

  // The rules a pass applies to a tenant with these rules: them, plus the node default when
  // there is one and none of them is a catch-all.
  std::vector<RetentionRule> effective(std::vector<RetentionRule> tenant_rules) const;

  // One pass over every tenant with `now_ms` as the present. Passes are serialised (a second
  // caller waits). Any thread but the broker's. Stops early, between steps, once `cancel` is set.
  common::Status run(int64_t now_ms, RetentionReport* out,
                     const std::atomic<bool>* cancel = nullptr);
  // One tenant (the pass takes each in turn). Not serialised with run(): tests and run() only.
  common::Status run_tenant(TenantSpace& space, int64_t now_ms, RetentionCounts* out,
                            const std::atomic<bool>* cancel = nullptr);

 private:
  storage::Store& store_;
  TenantSpaces& spaces_;
  const unsigned default_days_;
  std::mutex pass_mutex_;
};

// Runs Retention::run every `interval` on its own thread (the first pass one interval after
// start). stop() wakes it at once (a condition variable, no sleep) and joins it; a pass in
// progress stops at its next step. Logs through the outbox (drained on the broker thread).
class RetentionRunner {
 public:
  RetentionRunner(Retention& retention, std::chrono::seconds interval, common::Outbox& outbox)
      : retention_(retention), interval_(interval), outbox_(outbox) {}
  ~RetentionRunner() { stop(); }
  RetentionRunner(const RetentionRunner&) = delete;
  RetentionRunner& operator=(const RetentionRunner&) = delete;
  // Starts the thread (nothing when the interval is 0).
  void start();
  void stop();
  // Passes run by this runner so far (tests).
  uint64_t passes() const { return passes_.load(); }

 private:
  std::chrono::milliseconds pass();  // one pass, logged; the pause before the next
  Retention& retention_;
  const std::chrono::seconds interval_;
  common::Outbox& outbox_;
  std::atomic<uint64_t> passes_{0};
  common::Periodic passes_thread_;  // last: stopped first
};

}  // namespace c8y::domain
