// RegistrationMirror: the cluster's bootstrap registrations (common::BootstrapRegistry) in etcd,
// mirrored in memory on every node.
//
// Records: <prefix>registrations/<serial> = {"tenant", "status", "node", "hash", "installed"}.
// One key per serial across all tenants: a create-if-absent keeps a serial unique, and every
// change is a compare-and-put on the revision read, so two writers cannot both win.
//
// Two threads:
//   - the mirror: lists the records, then watches them from the revision of the list, and lists
//     again when the watch breaks (as the Router does). It keeps the map that find() answers
//     from (no etcd request on the broker thread), and on each change
//       * as the owner (a record whose request this node holds, its tenant placed here): applies
//         a contact (PENDING_ACCEPTANCE) and installs a poller's hash, then marks it installed;
//       * as a poller (an issue of this node waits for that record): sends the 70 line once the
//         owner installed its hash (an outbox Publish, drained on the broker thread).
//     After each list it records the requests the node holds that etcd lacks (made before the
//     node joined a cluster, or a write that failed).
//   - the writer: does what the broker thread queued (contacted, issue, finished) with etcd, and
//     every `sweep` tries the owner's part again for records that still ask for it.
// REST threads call claim/set_status/release directly (they may wait for etcd).
// Nothing here calls Mosquitto; log lines and replies travel through the outbox.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "plugin/cluster/etcd_client.h"
#include "plugin/cluster/registry.h"
#include "plugin/common/bootstrap_registry.h"
#include "plugin/common/outbox.h"
#include "plugin/common/placement.h"

namespace c8y::cluster {

// Keys and values of the records (pure).
std::string registrations_prefix(const Keys& keys);
std::string registration_key(const Keys& keys, std::string_view serial);
// The serial of a record's key, or empty when key is not one.
std::string_view serial_of(const Keys& keys, std::string_view key);
std::string encode(const common::BootstrapRequest& r);  // serial and revision are not stored
std::optional<common::BootstrapRequest> decode_registration(std::string_view serial,
                                                            std::string_view json);

// What a node does with a record it sees (pure): the owner's part.
enum class OwnerStep { kNothing, kContacted, kInstall };
OwnerStep owner_step(const common::BootstrapRequest& r);

struct RegistrationMirrorOptions {
  Keys keys;
  std::string node;  // this node's name (written into the records it creates)
  // How long an issue waits for the owner to install its hash before it is given up (the
  // device's next poll makes a new one).
  std::chrono::milliseconds issue_timeout{10000};
  // How often the owner's part is tried again for records that still ask for it (a change seen
  // while this node's placements were behind, e.g. right after a tenant moved here).
  std::chrono::milliseconds sweep{2000};
};

class RegistrationMirror : public common::BootstrapRegistry {
 public:
  // etcd, outbox and (when not null) placement and owner outlive the mirror. placement: where
  // tenants live (a record is acted on as owner only when its tenant is placed here); owner: the
  // node's own requests.
  RegistrationMirror(EtcdClient& etcd, RegistrationMirrorOptions options,
                     const common::TenantPlacement* placement, common::BootstrapOwner* owner,
                     common::Outbox* outbox);
  ~RegistrationMirror() override;
  RegistrationMirror(const RegistrationMirror&) = delete;
  RegistrationMirror& operator=(const RegistrationMirror&) = delete;

  void start();
  void stop();
  // The mirror has listed the records at least once.
  bool ready() const { return ready_.load(); }

  // common::BootstrapRegistry
  common::Status claim(std::string_view serial, std::string_view tenant) override;
  common::Status set_status(std::string_view serial, std::string_view tenant,
                            std::string_view status) override;
  common::Status release(std::string_view serial, std::string_view tenant) override;
  common::Status release_tenant(std::string_view tenant) override;
  std::optional<common::BootstrapRequest> find(std::string_view serial) const override;
  void contacted(std::string_view serial) override;
  void issue(std::string_view serial, std::string client_id, std::string hash,
             std::string reply) override;
  bool issuing(std::string_view serial) const override;
  void finished(std::string_view serial, std::string_view tenant) override;

  // The writer's queue is empty and nothing is being written (tests).
  bool idle() const;

 private:
  struct Task {
    enum Kind { kContacted, kIssue, kFinished } kind = kContacted;
    std::string serial;
    std::string tenant;
    std::string client_id;
    std::string hash;
    std::string reply;
    int64_t revision = 0;  // kIssue: the record's version the poller decided on
  };
  struct Pending {  // an issue of this node waiting for the owner
    std::string client_id;
    std::string hash;
    std::string reply;
    std::chrono::steady_clock::time_point deadline;
  };

  void run_mirror();
  void run_writer();
  void sweep();
  void do_task(Task& t);
  common::Status list_once(int64_t* revision);
  // A record changed (put) or went (deleted): the map, the owner's part, pending replies.
  void seen(const common::BootstrapRequest& r);
  void gone(const std::string& serial);
  // quiet: a sweep's retry, whose failures were logged when the change was first seen.
  void act_as_owner(const common::BootstrapRequest& r, bool quiet = false);
  void record_missing(const std::map<std::string, common::BootstrapRequest, std::less<>>& listed);
  // Reads the record, lets change() alter it (false: leave it), writes it back only if unchanged
  // meanwhile (retried on a conflict a few times).
  common::Status update(std::string_view serial,
                        const std::function<bool(common::BootstrapRequest&)>& change);
  bool here(std::string_view tenant) const;
  void log(common::LogLevel level, std::string message);

  EtcdClient& etcd_;
  RegistrationMirrorOptions options_;
  const common::TenantPlacement* placement_;
  common::BootstrapOwner* owner_;
  common::Outbox* outbox_;

  mutable std::mutex mutex_;  // map_ and pending_
  std::map<std::string, common::BootstrapRequest, std::less<>> map_;
  std::map<std::string, Pending, std::less<>> pending_;

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Task> queue_;
  bool busy_ = false;

  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
  std::thread mirror_thread_;
  std::thread writer_thread_;
  std::string last_error_;  // the mirror thread's, logged once until it changes
};

}  // namespace c8y::cluster
