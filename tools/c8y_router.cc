// c8y-router: keeps HAProxy's tenant map equal to the tenant placements in etcd.
//
//   c8y-router --etcd http://127.0.0.1:2379[,http://...] --map /etc/haproxy/tenants.map
//              --haproxy-socket /run/haproxy/admin.sock [--haproxy-socket ...] [--prefix /c8y/]
//              [--once]
//
// Runs until SIGTERM or SIGINT (--once: one sync, exit status 0 when it succeeded). Log lines go
// to stderr. See plugin/cluster/router.h for what it does; README "Cluster" for how to run it.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "plugin/cluster/etcd_client.h"
#include "plugin/cluster/router.h"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop = true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    std::string part = s.substr(start, end == std::string::npos ? end : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

void log_line(const std::string& line) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s c8y-router: %s\n", stamp, line.c_str());
}

int usage() {
  std::fprintf(stderr,
               "usage: c8y-router --etcd URL[,URL...] --map FILE --haproxy-socket PATH "
               "[--haproxy-socket PATH...] [--prefix /c8y/] [--once]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  c8y::cluster::EtcdOptions etcd_options;
  std::string prefix = "/c8y/", map_file;
  std::vector<std::string> sockets;
  bool once = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--once") {
      once = true;
    } else if (a == "--etcd" && (v = value())) {
      etcd_options.endpoints = split(v, ',');
    } else if (a == "--map" && (v = value())) {
      map_file = v;
    } else if (a == "--haproxy-socket" && (v = value())) {
      sockets.push_back(v);
    } else if (a == "--prefix" && (v = value())) {
      prefix = v;
    } else {
      return usage();
    }
  }
  if (etcd_options.endpoints.empty() || map_file.empty()) return usage();
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  c8y::cluster::EtcdClient etcd(etcd_options);
  c8y::cluster::Router router(etcd, {c8y::cluster::Keys(prefix), map_file, sockets}, log_line);
  if (once) {
    auto s = router.sync();
    if (!s.ok()) log_line("error: " + s.message);
    return s.ok() ? 0 : 1;
  }
  log_line("watching " + prefix + "tenants/ in etcd for " + map_file);
  router.run(g_stop);
  log_line("stopped");
  return 0;
}
