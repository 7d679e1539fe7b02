// EtcdCluster: real etcd members (/usr/bin/etcd) for the cluster tests, on free 127.0.0.1 ports,
// each with its own data directory below one temporary directory. A member can be stopped,
// killed and started again (it rejoins with its data). The destructor kills every member and
// removes the directory; should the test process die first, its members die with it
// (PR_SET_PDEATHSIG), only the directory is then left behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace c8y::testing {

class EtcdCluster {
 public:
  explicit EtcdCluster(int members = 3);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Starts every member and waits until the cluster is healthy; false and *error otherwise.
  bool start(std::chrono::milliseconds timeout, std::string* error);

  int size() const { return static_cast<int>(members_.size()); }
  const std::string& endpoint(int i) const { return members_[i].client_url; }
  std::vector<std::string> endpoints() const;
  bool running(int i) const { return members_[i].pid > 0; }

  void stop(int i);          // SIGTERM; SIGKILL when it has not ended after 5 s
  void kill(int i);          // SIGKILL
  bool start_member(int i);  // runs a stopped member again (with its data); false if it cannot

  // Every running member reports healthy (it has a leader and serves a read).
  bool wait_healthy(std::chrono::milliseconds timeout, std::string* error);
  // Starts the members that are down and waits until the cluster is healthy (after a test).
  bool restore(std::chrono::milliseconds timeout, std::string* error);
  // Compacts the store's history up to revision (POST /v3/kv/compaction, physical).
  bool compact(int64_t revision, std::string* error);

  // The end of a member's log (for failure messages).
  std::string log_tail(int i, size_t lines = 15) const;

 private:
  struct Member {
    std::string name;
    std::string client_url;
    std::string peer_url;
    std::string data_dir;
    std::string log_file;
    pid_t pid = -1;
  };

  bool spawn(int i);
  void wait_for(int i, std::chrono::milliseconds grace);

  std::string dir_;
  std::string token_;
  std::string initial_cluster_;
  std::vector<Member> members_;
};

}  // namespace c8y::testing
