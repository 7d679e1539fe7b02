#include "tests/cluster/etcd_cluster.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

namespace c8y::testing {
namespace {

constexpr const char* kEtcd = "/usr/bin/etcd";

// Free TCP ports on 127.0.0.1: all bound at once (so they differ), then released for etcd.
std::vector<int> free_ports(size_t n) {
  std::vector<int> fds, ports;
  for (size_t i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd >= 0) ::close(fd);
      ports.push_back(0);
      continue;
    }
    fds.push_back(fd);
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// One HTTP request (POST when body is given); false when it got no answer.
bool http(const std::string& url, const std::string* body, std::string* answer,
          long timeout_ms = 1000) {
  CURL* curl = curl_easy_init();
  if (!curl) return false;
  answer->clear();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  const bool ok = curl_easy_perform(curl) == CURLE_OK;
  curl_easy_cleanup(curl);
  return ok;
}

}  // namespace

EtcdCluster::EtcdCluster(int members) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/c8y_etcd_XXXXXX";
  if (::mkdtemp(tmpl.data())) dir_ = tmpl;
  token_ = "c8y-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr)) +
           "-" + (dir_.empty() ? std::string("x") : dir_.substr(dir_.size() - 6));
  auto ports = free_ports(2 * static_cast<size_t>(members));
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.client_url = "http://127.0.0.1:" + std::to_string(ports[2 * i]);
    m.peer_url = "http://127.0.0.1:" + std::to_string(ports[2 * i + 1]);
    m.data_dir = dir_ + "/" + m.name;
    m.log_file = dir_ + "/" + m.name + ".log";
    initial_cluster_ += (i ? "," : "") + m.name + "=" + m.peer_url;
    members_.push_back(std::move(m));
  }
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) kill(i);
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back(m.client_url);
  return out;
}

bool EtcdCluster::start(std::chrono::milliseconds timeout, std::string* error) {
  if (dir_.empty()) {
    *error = "cannot create a temporary directory";
    return false;
  }
  for (int i = 0; i < size(); ++i) {
    if (!spawn(i)) {
      *error = "cannot start " + std::string(kEtcd);
      return false;
    }
  }
  return wait_healthy(timeout, error);
}

bool EtcdCluster::spawn(int i) {
  Member& m = members_[i];
  if (m.pid > 0) return true;
  if (m.client_url.ends_with(":0") || m.peer_url.ends_with(":0")) return false;
  // Everything the child needs is made before fork: after it only async-signal-safe calls.
  std::vector<std::string> args = {kEtcd,
                                   "--name",
                                   m.name,
                                   "--data-dir",
                                   m.data_dir,
                                   "--listen-client-urls",
                                   m.client_url,
                                   "--advertise-client-urls",
                                   m.client_url,
                                   "--listen-peer-urls",
                                   m.peer_url,
                                   "--initial-advertise-peer-urls",
                                   m.peer_url,
                                   "--initial-cluster",
                                   initial_cluster_,
                                   "--initial-cluster-state",
                                   "new",
                                   "--initial-cluster-token",
                                   token_,
                                   "--logger",
                                   "zap",
                                   "--log-outputs",
                                   "stderr"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log = ::open(m.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return false;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the test process died: so does the member
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::close_range(3, ~0u, 0);  // no sockets of the test's clients in the member
    ::execv(kEtcd, argv.data());
    ::_exit(127);
  }
  ::close(log);
  if (pid < 0) return false;
  m.pid = pid;
  return true;
}

void EtcdCluster::wait_for(int i, std::chrono::milliseconds grace) {
  Member& m = members_[i];
  if (m.pid <= 0) return;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(m.pid, &status, WNOHANG) == m.pid) {
      m.pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(m.pid, SIGKILL);
  ::waitpid(m.pid, &status, 0);
  m.pid = -1;
}

void EtcdCluster::stop(int i) {
  if (members_[i].pid <= 0) return;
  ::kill(members_[i].pid, SIGTERM);
  wait_for(i, std::chrono::seconds(5));
}

void EtcdCluster::kill(int i) {
  if (members_[i].pid <= 0) return;
  ::kill(members_[i].pid, SIGKILL);
  wait_for(i, std::chrono::seconds(5));
}

bool EtcdCluster::start_member(int i) {
  return spawn(i);
}

bool EtcdCluster::wait_healthy(std::chrono::milliseconds timeout, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  for (;;) {
    bool all = true;
    for (int i = 0; i < size() && all; ++i) {
      if (!running(i)) continue;
      int status = 0;
      if (::waitpid(members_[i].pid, &status, WNOHANG) == members_[i].pid) {
        members_[i].pid = -1;
        *error = members_[i].name + " exited:\n" + log_tail(i);
        return false;
      }
      std::string answer;
      if (!http(endpoint(i) + "/health", nullptr, &answer) ||
          answer.find("\"health\":\"true\"") == std::string::npos) {
        all = false;
        last = members_[i].name + ": " + (answer.empty() ? "no answer" : answer);
      }
    }
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "etcd not healthy in time (" + last + ")";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool EtcdCluster::restore(std::chrono::milliseconds timeout, std::string* error) {
  for (int i = 0; i < size(); ++i) {
    if (!running(i) && !spawn(i)) {
      *error = "cannot start " + members_[i].name;
      return false;
    }
  }
  return wait_healthy(timeout, error);
}

bool EtcdCluster::compact(int64_t revision, std::string* error) {
  const std::string body = "{\"revision\":\"" + std::to_string(revision) + "\",\"physical\":true}";
  std::string answer;
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    if (http(endpoint(i) + "/v3/kv/compaction", &body, &answer, 5000) &&
        answer.find("\"header\"") != std::string::npos)
      return true;
  }
  *error = "compaction failed: " + answer;
  return false;
}

std::string EtcdCluster::log_tail(int i, size_t lines) const {
  std::ifstream in(members_[i].log_file);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line.substr(0, 300));
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (auto& l : tail) out += "  " + l + "\n";
  return out;
}

}  // namespace c8y::testing
