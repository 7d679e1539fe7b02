#include "plugin/cluster/registration_mirror.h"

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace c8y::cluster {

using common::BootstrapRequest;
using nlohmann::json;

std::string registrations_prefix(const Keys& keys) {
  return keys.prefix() + "registrations/";
}

std::string registration_key(const Keys& keys, std::string_view serial) {
  return registrations_prefix(keys) + std::string(serial);
}

std::string_view serial_of(const Keys& keys, std::string_view key) {
  const std::string prefix = registrations_prefix(keys);
  if (key.size() <= prefix.size() || key.substr(0, prefix.size()) != prefix) return {};
  std::string_view serial = key.substr(prefix.size());
  if (serial.find('/') != std::string_view::npos) return {};
  return serial;
}

std::string encode(const BootstrapRequest& r) {
  json j = {{"tenant", r.tenant}, {"status", r.status}, {"node", r.node}};
  if (!r.hash.empty()) j["hash"] = r.hash;
  if (r.installed) j["installed"] = true;
  return j.dump();
}

std::optional<BootstrapRequest> decode_registration(std::string_view serial,
                                                    std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto str = [&](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  BootstrapRequest r;
  r.serial = std::string(serial);
  r.tenant = str("tenant");
  r.status = str("status");
  r.node = str("node");
  r.hash = str("hash");
  auto inst = j.find("installed");
  r.installed = inst != j.end() && inst->is_boolean() && inst->get<bool>();
  if (r.serial.empty() || r.tenant.empty()) return std::nullopt;
  if (r.status != common::kBootstrapWaiting && r.status != common::kBootstrapPending &&
      r.status != common::kBootstrapAccepted)
    return std::nullopt;
  return r;
}

OwnerStep owner_step(const BootstrapRequest& r) {
  if (r.status == common::kBootstrapPending) return OwnerStep::kContacted;
  if (r.status == common::kBootstrapAccepted && !r.hash.empty() && !r.installed)
    return OwnerStep::kInstall;
  return OwnerStep::kNothing;
}

RegistrationMirror::RegistrationMirror(EtcdClient& etcd, RegistrationMirrorOptions options,
                                       const common::TenantPlacement* placement,
                                       common::BootstrapOwner* owner, common::Outbox* outbox)
    : etcd_(etcd),
      options_(std::move(options)),
      placement_(placement),
      owner_(owner),
      outbox_(outbox) {}

RegistrationMirror::~RegistrationMirror() {
  stop();
}

void RegistrationMirror::start() {
  if (mirror_thread_.joinable()) return;
  stop_ = false;
  mirror_thread_ = std::thread([this] { run_mirror(); });
  writer_thread_ = std::thread([this] { run_writer(); });
}

void RegistrationMirror::stop() {
  {
    std::lock_guard lock(queue_mutex_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  if (mirror_thread_.joinable()) mirror_thread_.join();
  if (writer_thread_.joinable()) writer_thread_.join();
}

void RegistrationMirror::log(common::LogLevel level, std::string message) {
  if (outbox_) outbox_->push(common::outbox::Log{level, std::move(message)});
}

bool RegistrationMirror::here(std::string_view tenant) const {
  return !placement_ || placement_->home(tenant).here;
}

// ---------------------------------------------------------------------------------------------
// The mirror thread

void RegistrationMirror::run_mirror() {
  auto report = [&](const common::Status& s) {
    if (s.ok() || s.message == last_error_) return;
    last_error_ = s.message;
    log(common::LogLevel::kWarning, "c8y: cluster: bootstrap registrations: " + s.message);
  };
  while (!stop_) {
    int64_t revision = 0;
    common::Status s = list_once(&revision);
    report(s);
    if (!s.ok()) {
      for (int i = 0; i < 10 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (!last_error_.empty()) {
      last_error_.clear();
      log(common::LogLevel::kNotice, "c8y: cluster: bootstrap registrations read again");
    }
    s = etcd_.watch(
        registrations_prefix(options_.keys), revision + 1,
        [&](const std::vector<WatchEvent>& events, int64_t) {
          for (const auto& e : events) {
            std::string serial(serial_of(options_.keys, e.kv.key));
            if (serial.empty()) continue;
            if (e.type == WatchEvent::kDelete) {
              gone(serial);
              continue;
            }
            if (auto r = decode_registration(serial, e.kv.value)) {
              r->revision = e.kv.mod_revision;
              seen(*r);
            } else {
              gone(serial);  // a record this version cannot read is as good as none
            }
          }
          return true;
        },
        stop_);
    report(s);
  }
}

common::Status RegistrationMirror::list_once(int64_t* revision) {
  std::vector<KeyValue> kvs;
  if (auto s = etcd_.list(registrations_prefix(options_.keys), &kvs, revision); !s.ok())
    return common::Status::Unavailable("reading them: " + s.message);
  std::map<std::string, BootstrapRequest, std::less<>> listed;
  for (const auto& kv : kvs) {
    std::string serial(serial_of(options_.keys, kv.key));
    if (serial.empty()) continue;
    if (auto r = decode_registration(serial, kv.value)) {
      r->revision = kv.mod_revision;
      listed.emplace(serial, std::move(*r));
    }
  }
  {
    std::lock_guard lock(mutex_);
    map_.clear();
  }
  for (const auto& [serial, r] : listed) seen(r);
  record_missing(listed);
  ready_ = true;
  return {};
}

void RegistrationMirror::seen(const BootstrapRequest& r) {
  std::optional<common::outbox::Publish> reply;
  {
    std::lock_guard lock(mutex_);
    map_[r.serial] = r;
    auto p = pending_.find(r.serial);
    if (p != pending_.end()) {
      if (r.installed && r.hash == p->second.hash) {
        reply =
            common::outbox::Publish{p->second.client_id, "s/dcr", std::move(p->second.reply), 1};
        pending_.erase(p);
      } else if (r.status != common::kBootstrapAccepted ||
                 std::chrono::steady_clock::now() > p->second.deadline) {
        pending_.erase(p);  // withdrawn, or the owner did not answer in time
      }
    }
  }
  if (reply && outbox_) outbox_->push(std::move(*reply));
  act_as_owner(r);
}

void RegistrationMirror::gone(const std::string& serial) {
  std::lock_guard lock(mutex_);
  map_.erase(serial);
  pending_.erase(serial);
}

void RegistrationMirror::act_as_owner(const BootstrapRequest& r, bool quiet) {
  const OwnerStep step = owner_step(r);
  if (step == OwnerStep::kNothing || !owner_ || !here(r.tenant) ||
      !owner_->holds(r.serial, r.tenant))
    return;
  if (step == OwnerStep::kContacted) {
    owner_->contacted(r.serial, r.tenant);
    return;
  }
  std::string why;
  if (!owner_->install(r.serial, r.tenant, r.hash, &why)) {
    if (!quiet)
      log(common::LogLevel::kWarning,
          "c8y: cluster: bootstrap: device " + r.serial + " of tenant " + r.tenant +
              ": credentials issued on another node not installed: " + why);
    return;
  }
  bool marked = false;
  common::Status s = update(r.serial, [&](BootstrapRequest& now) {
    if (now.hash != r.hash || now.installed) return false;
    now.installed = marked = true;
    return true;
  });
  if (!s.ok() && !quiet)
    log(common::LogLevel::kWarning, "c8y: cluster: bootstrap: device " + r.serial +
                                        ": cannot confirm its credentials: " + s.message);
  else if (marked)
    log(common::LogLevel::kNotice, "c8y: device " + r.serial + " of tenant " + r.tenant +
                                       " got its bootstrap credentials through another node");
}

void RegistrationMirror::record_missing(
    const std::map<std::string, BootstrapRequest, std::less<>>& listed) {
  if (!owner_) return;
  auto warn_taken = [&](const BootstrapRequest& mine, const std::string& other) {
    log(common::LogLevel::kWarning, "c8y: cluster: bootstrap: device " + mine.serial +
                                        " has a request in tenant " + mine.tenant +
                                        " on this node and in tenant " + other +
                                        " in the cluster; its polls are answered for " + other);
  };
  for (BootstrapRequest r : owner_->requests()) {
    if (!here(r.tenant)) continue;
    if (auto it = listed.find(r.serial); it != listed.end()) {
      if (it->second.tenant != r.tenant) warn_taken(r, it->second.tenant);
      continue;
    }
    r.node = options_.node;
    r.hash.clear();
    r.installed = false;
    KeyValue existing;
    common::Status s =
        etcd_.create(registration_key(options_.keys, r.serial), encode(r), 0, &existing);
    if (s.ok()) continue;  // the watch brings it into the map
    if (s.conflict()) {
      auto other = decode_registration(r.serial, existing.value);
      if (other && other->tenant != r.tenant) warn_taken(r, other->tenant);
      continue;
    }
    log(common::LogLevel::kWarning, "c8y: cluster: bootstrap: cannot record the request of " +
                                        r.serial + ": " + s.message +
                                        " (retried at the next read)");
  }
}

// ---------------------------------------------------------------------------------------------
// The writer thread

void RegistrationMirror::run_writer() {
  std::unique_lock lock(queue_mutex_);
  while (true) {
    if (!queue_cv_.wait_for(lock, options_.sweep, [this] { return stop_ || !queue_.empty(); })) {
      lock.unlock();
      sweep();
      lock.lock();
      continue;
    }
    if (stop_) {
      // A poll comes again, but a finished request's record would stay behind and keep its
      // serial from other tenants: those are still removed (until etcd fails once).
      std::deque<Task> left;
      left.swap(queue_);
      lock.unlock();
      for (Task& t : left)
        if (t.kind == Task::kFinished && !release(t.serial, t.tenant).ok()) break;
      return;
    }
    Task t = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    do_task(t);
    lock.lock();
    busy_ = false;
  }
}

// The owner's part again for every record that still asks for it: a change seen while this node's
// view of the placements was behind (right after a tenant moved here) is not lost.
void RegistrationMirror::sweep() {
  std::vector<BootstrapRequest> open;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [serial, r] : map_)
      if (owner_step(r) != OwnerStep::kNothing) open.push_back(r);
  }
  for (const auto& r : open) act_as_owner(r, true);
}

bool RegistrationMirror::idle() const {
  std::lock_guard lock(queue_mutex_);
  return queue_.empty() && !busy_;
}

void RegistrationMirror::do_task(Task& t) {
  switch (t.kind) {
    case Task::kContacted: {
      common::Status s = update(t.serial, [](BootstrapRequest& r) {
        if (r.status != common::kBootstrapWaiting) return false;
        r.status = std::string(common::kBootstrapPending);
        return true;
      });
      if (!s.ok() && !s.not_found())
        log(common::LogLevel::kWarning, "c8y: cluster: bootstrap: device " + t.serial +
                                            ": cannot record its contact: " + s.message);
      return;
    }
    case Task::kIssue: {
      // Written only over the version the poller decided on: of two pollers (or a poller and an
      // admin) one wins; the loser's device polls again.
      const std::string key = registration_key(options_.keys, t.serial);
      KeyValue kv;
      common::Status s = etcd_.get(key, &kv);
      auto r = s.ok() ? decode_registration(t.serial, kv.value) : std::nullopt;
      if (s.ok() && (!r || r->status != common::kBootstrapAccepted ||
                     (t.revision != 0 && kv.mod_revision != t.revision)))
        s = common::Status::Conflict("the request changed");
      if (s.ok()) {
        r->hash = t.hash;
        r->installed = false;
        s = etcd_.compare_and_put(key, encode(*r), kv.mod_revision);
      }
      if (!s.ok()) {
        std::lock_guard lock(mutex_);
        if (auto p = pending_.find(t.serial); p != pending_.end() && p->second.hash == t.hash)
          pending_.erase(p);
      }
      if (!s.ok() && !s.not_found() && !s.conflict())
        log(common::LogLevel::kWarning, "c8y: cluster: bootstrap: device " + t.serial +
                                            ": cannot issue credentials: " + s.message);
      return;
    }
    case Task::kFinished: {
      common::Status s = release(t.serial, t.tenant);
      if (!s.ok())
        log(common::LogLevel::kWarning, "c8y: cluster: bootstrap: device " + t.serial +
                                            ": cannot remove its finished request: " + s.message);
      return;
    }
  }
}

common::Status RegistrationMirror::update(std::string_view serial,
                                          const std::function<bool(BootstrapRequest&)>& change) {
  const std::string key = registration_key(options_.keys, serial);
  for (int attempt = 0; attempt < 5; ++attempt) {
    KeyValue kv;
    if (auto s = etcd_.get(key, &kv); !s.ok()) return s;
    auto r = decode_registration(serial, kv.value);
    if (!r)
      return common::Status::NotFound("no readable request for device " + std::string(serial));
    if (!change(*r)) return {};
    common::Status s = etcd_.compare_and_put(key, encode(*r), kv.mod_revision);
    if (!s.conflict()) return s;
  }
  return common::Status::Conflict("the request of device " + std::string(serial) +
                                  " keeps changing; try again");
}

// ---------------------------------------------------------------------------------------------
// common::BootstrapRegistry

common::Status RegistrationMirror::claim(std::string_view serial, std::string_view tenant) {
  BootstrapRequest r;
  r.serial = std::string(serial);
  r.tenant = std::string(tenant);
  r.status = std::string(common::kBootstrapWaiting);
  r.node = options_.node;
  const std::string key = registration_key(options_.keys, serial);
  KeyValue existing;
  common::Status s = etcd_.create(key, encode(r), 0, &existing);
  if (s.conflict()) {
    auto other = decode_registration(serial, existing.value);
    if (other && other->tenant != tenant)
      return common::Status::Conflict("A request for device " + std::string(serial) +
                                      " exists already");
    // A record of this tenant that its node no longer has (an earlier request whose removal did
    // not reach etcd), or one this version cannot read: the new request takes its place.
    s = etcd_.compare_and_put(key, encode(r), existing.mod_revision);
    if (s.conflict())
      return common::Status::Conflict("A request for device " + std::string(serial) +
                                      " exists already");
  }
  if (!s.ok())
    return common::Status::Unavailable("the cluster store cannot be reached: " + s.message);
  std::lock_guard lock(mutex_);
  map_.try_emplace(r.serial, r);  // at once for this node's own polls; the watch brings the rest
  return {};
}

common::Status RegistrationMirror::set_status(std::string_view serial, std::string_view tenant,
                                              std::string_view status) {
  common::Status refused;
  common::Status s = update(serial, [&](BootstrapRequest& r) {
    if (r.tenant != tenant) {
      refused = common::Status::Conflict("A request for device " + std::string(serial) +
                                         " exists already in another tenant");
      return false;
    }
    if (r.status == status) return false;
    r.status = std::string(status);
    r.hash.clear();
    r.installed = false;
    return true;
  });
  if (!refused.ok()) return refused;
  if (s.not_found()) {
    // Made before this node joined a cluster, or lost: recorded now, with its status.
    if (auto c = claim(serial, tenant); !c.ok()) return c;
    return set_status(serial, tenant, status);
  }
  if (s.conflict()) return s;
  if (!s.ok())
    return common::Status::Unavailable("the cluster store cannot be reached: " + s.message);
  return {};
}

common::Status RegistrationMirror::release(std::string_view serial, std::string_view tenant) {
  const std::string key = registration_key(options_.keys, serial);
  for (int attempt = 0; attempt < 5; ++attempt) {
    KeyValue kv;
    common::Status s = etcd_.get(key, &kv);
    if (s.not_found()) return {};
    if (!s.ok())
      return common::Status::Unavailable("the cluster store cannot be reached: " + s.message);
    auto r = decode_registration(serial, kv.value);
    if (r && r->tenant != tenant) return {};  // another tenant's: not ours to remove
    s = etcd_.compare_and_delete(key, kv.mod_revision);
    if (s.ok() || s.not_found()) {
      gone(std::string(serial));
      return {};
    }
    if (!s.conflict())
      return common::Status::Unavailable("the cluster store cannot be reached: " + s.message);
  }
  return common::Status::Conflict("the request of device " + std::string(serial) +
                                  " keeps changing; try again");
}

common::Status RegistrationMirror::release_tenant(std::string_view tenant) {
  // From a fresh read, not the mirror: a record the watch has not brought yet goes too.
  std::vector<KeyValue> kvs;
  if (auto s = etcd_.list(registrations_prefix(options_.keys), &kvs); !s.ok())
    return common::Status::Unavailable("the cluster store cannot be reached: " + s.message);
  common::Status result;
  for (const auto& kv : kvs) {
    std::string serial(serial_of(options_.keys, kv.key));
    auto r = serial.empty() ? std::nullopt : decode_registration(serial, kv.value);
    if (!r || r->tenant != tenant) continue;
    if (auto s = release(serial, tenant); !s.ok()) result = s;
  }
  return result;
}

std::optional<BootstrapRequest> RegistrationMirror::find(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  auto it = map_.find(serial);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void RegistrationMirror::contacted(std::string_view serial) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(Task{Task::kContacted, std::string(serial), {}, {}, {}, {}, 0});
  }
  queue_cv_.notify_one();
}

void RegistrationMirror::issue(std::string_view serial, std::string client_id, std::string hash,
                               std::string reply) {
  int64_t revision = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto it = map_.find(serial); it != map_.end()) revision = it->second.revision;
    pending_[std::string(serial)] =
        Pending{std::move(client_id), hash, std::move(reply),
                std::chrono::steady_clock::now() + options_.issue_timeout};
  }
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(
        Task{Task::kIssue, std::string(serial), {}, {}, std::move(hash), {}, revision});
  }
  queue_cv_.notify_one();
}

bool RegistrationMirror::issuing(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(serial);
  return it != pending_.end() && std::chrono::steady_clock::now() <= it->second.deadline;
}

void RegistrationMirror::finished(std::string_view serial, std::string_view tenant) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(
        Task{Task::kFinished, std::string(serial), std::string(tenant), {}, {}, {}, 0});
  }
  queue_cv_.notify_one();
}

}  // namespace c8y::cluster
