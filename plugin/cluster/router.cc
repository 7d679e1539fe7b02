#include "plugin/cluster/router.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace c8y::cluster {

std::vector<std::string> map_commands(const std::string& map, const TenantMap& current,
                                      const TenantMap& desired) {
  std::vector<std::string> out;
  for (const auto& [tenant, node] : desired) {
    auto it = current.find(tenant);
    if (it == current.end())
      out.push_back("add map " + map + " " + tenant + " " + node);
    else if (it->second != node)
      out.push_back("set map " + map + " " + tenant + " " + node);
  }
  for (const auto& [tenant, node] : current)
    if (!desired.count(tenant)) out.push_back("del map " + map + " " + tenant);
  return out;
}

TenantMap parse_show_map(const std::string& reply) {
  TenantMap out;
  std::istringstream in(reply);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string ref, key, value;
    if (fields >> ref >> key >> value && ref.rfind("0x", 0) == 0) out[key] = value;
  }
  return out;
}

std::string render_map(const TenantMap& map) {
  std::string out = "# tenant node (written by c8y-router from etcd; do not edit)\n";
  for (const auto& [tenant, node] : map) out += tenant + " " + node + "\n";
  return out;
}

common::Status haproxy_command(const std::string& socket_path, const std::string& command,
                               std::string* reply) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof(addr.sun_path))
    return common::Status::Invalid("socket path too long: " + socket_path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return common::Status::Io(std::string("socket: ") + std::strerror(errno));
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    return common::Status::Unavailable(socket_path + ": " + std::strerror(e));
  }
  // Non-interactive mode: one command, the answer, then HAProxy closes the connection.
  std::string line = command + "\n";
  size_t sent = 0;
  while (sent < line.size()) {
    ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return common::Status::Unavailable(socket_path + ": send failed");
    }
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      ::close(fd);
      return common::Status::Unavailable(socket_path + ": no answer");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (reply) *reply = std::move(out);
  return {};
}

Router::Router(EtcdClient& etcd, RouterOptions options, LogFn log)
    : etcd_(etcd), options_(std::move(options)), log_(std::move(log)) {}

common::Status Router::write_file(const TenantMap& map) {
  const std::string text = render_map(map);
  {
    // Unchanged (a watch batch of other keys, a list after a broken watch): not written again.
    std::ifstream in(options_.map_file, std::ios::binary);
    std::string current((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in && current == text) return {};
  }
  const std::string tmp = options_.map_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return common::Status::Io("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), options_.map_file.c_str()) != 0)
    return common::Status::Io("cannot rename " + tmp + ": " + std::strerror(errno));
  return {};
}

common::Status Router::apply(const TenantMap& desired) {
  common::Status result = write_file(desired);
  for (const std::string& socket : options_.sockets) {
    // Each HAProxy is brought from what it holds (it may have restarted on an older file).
    std::string shown;
    common::Status s = haproxy_command(socket, "show map " + options_.map_file, &shown);
    if (!s.ok()) {
      result = s;
      continue;
    }
    for (const std::string& cmd : map_commands(options_.map_file, parse_show_map(shown), desired)) {
      std::string reply;
      s = haproxy_command(socket, cmd, &reply);
      if (!s.ok()) {
        result = s;
        break;
      }
      if (reply.find_first_not_of("\r\n ") != std::string::npos) {
        result = common::Status::Io(socket + ": '" + cmd + "': " + reply);
        break;
      }
    }
  }
  if (result.ok()) {
    for (const auto& [tenant, node] : desired) {
      auto it = map_.find(tenant);
      if (it == map_.end() || it->second != node) log_("tenant " + tenant + " -> " + node);
    }
    for (const auto& [tenant, node] : map_)
      if (!desired.count(tenant)) log_("tenant " + tenant + " removed");
  }
  map_ = desired;
  return result;
}

common::Status Router::sync(int64_t* revision) {
  std::vector<KeyValue> kvs;
  int64_t rev = 0;
  if (auto s = etcd_.list(options_.keys.tenants(), &kvs, &rev); !s.ok()) return s;
  TenantMap desired;
  for (const auto& kv : kvs) {
    std::string_view tenant = options_.keys.tenant_of(kv.key);
    auto p = decode_placement(kv.value);
    if (!tenant.empty() && p) desired[std::string(tenant)] = p->node;
  }
  if (revision) *revision = rev;
  return apply(desired);
}

void Router::run(const std::atomic<bool>& stop) {
  std::string last_error;
  auto report = [&](const common::Status& s) {
    if (s.ok() || s.message == last_error) return;
    last_error = s.message;
    log_("error: " + s.message);
  };
  while (!stop) {
    int64_t revision = 0;
    common::Status s = sync(&revision);
    report(s);
    if (!s.ok()) {
      // etcd or a HAProxy not reachable: try again shortly (the file is current when etcd was).
      for (int i = 0; i < 10 && !stop; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    last_error.clear();
    TenantMap desired = map_;
    s = etcd_.watch(
        options_.keys.tenants(), revision + 1,
        [&](const std::vector<WatchEvent>& events, int64_t) {
          for (const auto& e : events) {
            std::string tenant(options_.keys.tenant_of(e.kv.key));
            if (tenant.empty()) continue;
            auto p = e.type == WatchEvent::kPut ? decode_placement(e.kv.value) : std::nullopt;
            if (p)
              desired[tenant] = p->node;
            else
              desired.erase(tenant);
          }
          common::Status a = apply(desired);
          report(a);
          return a.ok();  // a failed apply lists again (from a fresh read)
        },
        stop);
    report(s);
  }
}

}  // namespace c8y::cluster
