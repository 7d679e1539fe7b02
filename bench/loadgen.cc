// c8y_loadgen: a deliberately cheap MQTT 3.1.1 load generator for the mosquitto-c8y benchmark.
//
// One thread, non-blocking sockets, edge-triggered epoll, hand-written MQTT (CONNECT/CONNACK,
// PUBLISH QoS 0/1, PUBACK). Each device keeps up to --window PUBLISH packets in flight; once
// --refill slots are free, all free slots are written with a single write() call, so the generator
// costs far less CPU per message than the broker does (about 20 % of a core at 150k msg/s against
// 100 % for mosquitto). mosquitto leaves Nagle on by default, so its PUBACKs arrive in bursts;
// --refill must stay well below --window or connections stall on delayed ACKs.
// Only loopback addresses are accepted.
//
// Output: one JSON line on stdout, e.g.
//   {"sent":123,"acked":120,"seconds":10.000,"rate":12.0,...}
// where sent/acked/rate cover only the measured window (after --warmup).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 1;
constexpr int kExitRefused = 3;

[[noreturn]] void die(int code, const std::string& msg) {
  std::fprintf(stderr, "c8y_loadgen: error: %s\n", msg.c_str());
  std::exit(code);
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// A format with "%d" placeholders (and "%%" for a literal percent sign). Any other directive is
// rejected so user input never reaches printf.
struct Format {
  std::vector<std::string> parts;  // literal text between placeholders; size = placeholders + 1

  static Format parse(const std::string& name, const std::string& text, int max_placeholders) {
    Format f;
    f.parts.emplace_back();
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '%') {
        f.parts.back() += text[i];
        continue;
      }
      if (i + 1 < text.size() && text[i + 1] == '%') {
        f.parts.back() += '%';
        ++i;
      } else if (i + 1 < text.size() && text[i + 1] == 'd') {
        f.parts.emplace_back();
        ++i;
      } else {
        die(kExitUsage, "--" + name + ": only %d and %% are supported in '" + text + "'");
      }
    }
    if (static_cast<int>(f.parts.size()) - 1 > max_placeholders) {
      die(kExitUsage, "--" + name + ": at most " + std::to_string(max_placeholders) +
                          " %d allowed in '" + text + "'");
    }
    return f;
  }

  std::string expand(uint64_t value) const {
    std::string out = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) out += std::to_string(value) + parts[i];
    return out;
  }
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 1883;
  int devices = 100;
  double seconds = 10;
  double warmup = 2;
  double connect_timeout = 30;
  int window = 20;
  int refill = 0;  // 0: window / 4, at least 1
  int qos = 1;
  int keepalive = 60;
  std::string user_format = "demo/device_bench-%d";
  std::string password = "bench-pass";
  std::string client_format = "bench-%d";
  std::string topic = "s/us";
  std::string payload_format = "211,%d";
  long broker_pid = 0;
  double rate = 0;          // total PUBLISH/s across all devices; 0 = as fast as the window allows
  bool latency = false;     // record PUBLISH -> PUBACK latency (QoS 1)
  bool reconnect = false;   // reconnect when the broker closes a ready connection
  uint64_t messages = 0;    // PUBLISHes per device, then it stays connected and idle; 0 = no cap
  double connect_rate = 0;  // connections opened per second; 0 = all at once
};

sockaddr_storage loopback_address(const Options& o, socklen_t* len);

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: c8y_loadgen [options]\n"
      "  --host H             127.0.0.1 | localhost | ::1 only (default 127.0.0.1)\n"
      "  --port N             broker port (default 1883)\n"
      "  --devices N          concurrent MQTT connections (default 100)\n"
      "  --seconds S          measured window length (default 10)\n"
      "  --warmup S           publishing time discarded before measuring (default 2)\n"
      "  --connect-timeout S  time allowed for all CONNACKs (default 30)\n"
      "  --window N           in-flight PUBLISH per connection (default 20)\n"
      "  --refill N           refill a connection's window only once N slots are free, so that\n"
      "                       several PUBLISHes go out per write() (default window/4, >= 1;\n"
      "                       1 = after every PUBACK, which makes the loadgen ~4x costlier)\n"
      "  --qos 0|1            PUBLISH QoS (default 1; with 0, acked counts written msgs)\n"
      "  --keepalive S        MQTT keepalive (default 60)\n"
      "  --user-format F      username, %%d = device index; '' sends none\n"
      "                       (default 'demo/device_bench-%%d')\n"
      "  --password P         password; '' sends none (default 'bench-pass')\n"
      "  --client-format F    client id, %%d = device index (default 'bench-%%d')\n"
      "  --topic T            (default s/us)\n"
      "  --payload-format F   %%d = per-device message counter (default '211,%%d'); several\n"
      "                       formats separated by '|' are used in turn (mixed traffic)\n"
      "  --broker-pid PID     report that process's CPU use over the measured window\n"
      "  --rate N             pace PUBLISHes to N/s in total (round robin over the devices, still\n"
      "                       bounded by --window); 0 = unpaced (default). Implies --latency.\n"
      "  --messages N         each device sends N PUBLISHes, then stays connected and idle\n"
      "                       until the end (default 0: no cap)\n"
      "  --connect-rate N     open N connections per second (default 0: all at once)\n"
      "  --reconnect          when the broker closes a connection after its CONNACK, connect\n"
      "                       again instead of failing (flood tests); counted in \"reconnects\"\n"
      "  --latency            report PUBLISH -> PUBACK latency percentiles (QoS 1), measured from\n"
      "                       when the packet is queued for write() to when its PUBACK is parsed\n"
      "  --free-port          print a free 127.0.0.1 TCP port and exit\n");
}

long parse_int(const std::string& name, const std::string& v, long lo, long hi) {
  long out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < lo || out > hi) {
    die(kExitUsage, "--" + name + ": expected an integer in [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "], got '" + v + "'");
  }
  return out;
}

double parse_seconds(const std::string& name, const std::string& v, double lo, double hi) {
  char* end = nullptr;
  errno = 0;
  double out = std::strtod(v.c_str(), &end);
  if (v.empty() || errno != 0 || *end != '\0' || !(out >= lo && out <= hi)) {
    die(kExitUsage, "--" + name + ": expected a number of seconds in [" + std::to_string(lo) +
                        ", " + std::to_string(hi) + "], got '" + v + "'");
  }
  return out;
}

int print_free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die(kExitRuntime, errno_text("socket"));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    die(kExitRuntime, errno_text("bind"));
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    die(kExitRuntime, errno_text("getsockname"));
  }
  std::printf("%d\n", ntohs(a.sin_port));
  close(fd);
  return 0;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    }
    if (arg == "--free-port") std::exit(print_free_port());
    if (arg.rfind("--", 0) != 0) die(kExitUsage, "unexpected argument '" + arg + "'");
    std::string name = arg.substr(2);
    std::string value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      die(kExitUsage, "--" + name + " needs a value");
    }
    if (name == "host") {
      o.host = value;
    } else if (name == "port") {
      o.port = static_cast<int>(parse_int(name, value, 1, 65535));
    } else if (name == "devices") {
      o.devices = static_cast<int>(parse_int(name, value, 1, 10000));
    } else if (name == "seconds") {
      o.seconds = parse_seconds(name, value, 0.1, 3600);
    } else if (name == "warmup") {
      o.warmup = parse_seconds(name, value, 0, 3600);
    } else if (name == "connect-timeout") {
      o.connect_timeout = parse_seconds(name, value, 0.1, 3600);
    } else if (name == "window") {
      o.window = static_cast<int>(parse_int(name, value, 1, 65535));
    } else if (name == "refill") {
      o.refill = static_cast<int>(parse_int(name, value, 1, 65535));
    } else if (name == "qos") {
      o.qos = static_cast<int>(parse_int(name, value, 0, 1));
    } else if (name == "keepalive") {
      o.keepalive = static_cast<int>(parse_int(name, value, 0, 65535));
    } else if (name == "user-format") {
      o.user_format = value;
    } else if (name == "password") {
      o.password = value;
    } else if (name == "client-format") {
      o.client_format = value;
    } else if (name == "topic") {
      o.topic = value;
    } else if (name == "payload-format") {
      o.payload_format = value;
    } else if (name == "rate") {
      o.rate = static_cast<double>(parse_int(name, value, 0, 10000000));
      if (o.rate > 0) o.latency = true;
    } else if (name == "messages") {
      o.messages = static_cast<uint64_t>(parse_int(name, value, 0, 1L << 40));
    } else if (name == "connect-rate") {
      o.connect_rate = static_cast<double>(parse_int(name, value, 0, 10000000));
    } else if (name == "reconnect") {
      o.reconnect = value == "1" || value == "true" || value == "on";
    } else if (name == "latency") {
      o.latency = value == "1" || value == "true" || value == "on";
    } else if (name == "broker-pid") {
      o.broker_pid = parse_int(name, value, 1, 1L << 30);
    } else {
      usage(stderr);
      die(kExitUsage, "unknown option --" + name);
    }
  }
  if (o.latency && o.qos != 1) die(kExitUsage, "--latency and --rate need --qos 1");
  if (o.refill == 0) o.refill = std::max(1, o.window / 4);
  if (o.refill > o.window) die(kExitUsage, "--refill must not exceed --window");
  if (o.topic.empty() || o.topic.size() > 65535) die(kExitUsage, "--topic must be 1..65535 bytes");
  socklen_t len = 0;
  (void)loopback_address(o, &len);  // refuses non-loopback hosts before anything else happens
  return o;
}

// Resolves the host without DNS: only loopback literals (and "localhost") are allowed.
sockaddr_storage loopback_address(const Options& o, socklen_t* len) {
  sockaddr_storage ss{};
  if (o.host == "127.0.0.1" || o.host == "localhost") {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(o.port));
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *len = sizeof(sockaddr_in);
  } else if (o.host == "::1" || o.host == "[::1]") {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(o.port));
    a->sin6_addr = in6addr_loopback;
    *len = sizeof(sockaddr_in6);
  } else {
    die(kExitUsage,
        "refusing to connect to '" + o.host + "': only 127.0.0.1, localhost and ::1 are allowed");
  }
  return ss;
}

// ---- MQTT 3.1.1 encoding -------------------------------------------------------------------

void put_u16(std::string& b, size_t v) {
  b += static_cast<char>((v >> 8) & 0xff);
  b += static_cast<char>(v & 0xff);
}

void put_str(std::string& b, std::string_view s) {
  put_u16(b, s.size());
  b.append(s);
}

void put_remaining_length(std::string& b, size_t len) {
  do {
    uint8_t byte = len % 128;
    len /= 128;
    if (len > 0) byte |= 0x80;
    b += static_cast<char>(byte);
  } while (len > 0);
}

std::string encode_connect(const std::string& client_id, const std::optional<std::string>& user,
                           const std::optional<std::string>& password, int keepalive) {
  std::string body;
  put_str(body, "MQTT");
  body += static_cast<char>(4);  // protocol level 3.1.1
  uint8_t flags = 0x02;          // clean session
  if (user) flags |= 0x80;
  if (user && password) flags |= 0x40;  // 3.1.1: password requires a username
  body += static_cast<char>(flags);
  put_u16(body, static_cast<size_t>(keepalive));
  put_str(body, client_id);
  if (user) put_str(body, *user);
  if (user && password) put_str(body, *password);
  std::string pkt(1, static_cast<char>(0x10));
  put_remaining_length(pkt, body.size());
  return pkt + body;
}

const char* connack_reason(int rc) {
  switch (rc) {
    case 1:
      return "unacceptable protocol version";
    case 2:
      return "identifier rejected";
    case 3:
      return "server unavailable";
    case 4:
      return "bad user name or password";
    case 5:
      return "not authorized";
    default:
      return "unknown return code";
  }
}

// ---- CPU accounting ------------------------------------------------------------------------

// utime+stime in clock ticks from /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat.
std::optional<uint64_t> read_cpu_ticks(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return std::nullopt;
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close_paren + 1));
  std::string tok;
  uint64_t utime = 0, stime = 0;
  // After "(comm)": field 3 (state) is token 0; utime is field 14, stime field 15.
  for (int i = 0; i <= 12 && rest >> tok; ++i) {
    if (i == 11) utime = std::strtoull(tok.c_str(), nullptr, 10);
    if (i == 12) {
      stime = std::strtoull(tok.c_str(), nullptr, 10);
      return utime + stime;
    }
  }
  return std::nullopt;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Ticks from one line of /proc/stat ("cpu" for the whole machine, "cpuN" for one core):
// user+nice+system (time of tasks), softirq, steal, idle+iowait and the sum of all of them.
struct SystemTicks {
  uint64_t task = 0, softirq = 0, steal = 0, idle = 0, total = 0;
};

std::optional<SystemTicks> read_system_ticks(const std::string& label) {
  std::ifstream f("/proc/stat");
  std::string line;
  while (std::getline(f, line)) {
    if (line.compare(0, label.size() + 1, label + " ") != 0) continue;
    std::istringstream in(line.substr(label.size()));
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
    if (!(in >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal)) break;
    return SystemTicks{user + nice + system, softirq, steal, idle + iowait,
                       user + nice + system + idle + iowait + irq + softirq + steal};
  }
  return std::nullopt;
}

// The single core a process is pinned to (taskset -c N), if it is pinned to exactly one.
std::optional<int> pinned_core(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("Cpus_allowed_list:", 0) != 0) continue;
    std::string v = line.substr(line.find(':') + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    int core = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), core);
    if (ec == std::errc() && p == v.data() + v.size()) return core;
    return std::nullopt;
  }
  return std::nullopt;
}

struct CpuSnapshot {
  Clock::time_point when;
  std::optional<SystemTicks> system;
  std::optional<SystemTicks> broker_core;
  std::optional<uint64_t> broker_ticks;
  std::optional<uint64_t> broker_main_ticks;
  double self_cpu = 0;
};

CpuSnapshot take_cpu_snapshot(long broker_pid, std::optional<int> broker_core) {
  CpuSnapshot s;
  s.when = Clock::now();
  if (broker_pid > 0) {
    std::string pid = std::to_string(broker_pid);
    s.broker_ticks = read_cpu_ticks("/proc/" + pid + "/stat");
    s.broker_main_ticks = read_cpu_ticks("/proc/" + pid + "/task/" + pid + "/stat");
  }
  s.self_cpu = self_cpu_seconds();
  s.system = read_system_ticks("cpu");
  if (broker_core) s.broker_core = read_system_ticks("cpu" + std::to_string(*broker_core));
  return s;
}

// ---- Connections ---------------------------------------------------------------------------

enum class State { kConnecting, kAwaitConnack, kReady };

struct Conn {
  int fd = -1;
  int index = 0;
  State state = State::kConnecting;
  std::string out;  // bytes not yet accepted by the kernel, starting at out_off
  size_t out_off = 0;
  std::string in;  // partial inbound packet bytes
  uint32_t inflight = 0;
  uint16_t next_id = 1;
  uint64_t value = 0;  // per-device message counter used for the payload
  bool writable = false;
  bool queued = false;  // on the QoS 0 ready list
  // --latency: send times of the PUBLISHes in flight, oldest first (a ring of --window slots).
  // Mosquitto answers one connection's PUBLISHes in order, so a PUBACK normally matches the head.
  std::vector<std::pair<uint16_t, int64_t>> pending;
  size_t pending_head = 0, pending_count = 0;
};

class LoadGen {
 public:
  explicit LoadGen(Options o)
      : o_(std::move(o)),
        payloads_(parse_alternatives(o_.payload_format)),
        user_(Format::parse("user-format", o_.user_format, 8)),
        client_(Format::parse("client-format", o_.client_format, 8)) {}

  int run();

 private:
  void connect_all();
  void open_due(double elapsed_s);
  int opened_ = 0;
  void open(Conn& c);
  void reopen(Conn& c);
  uint64_t reconnects_ = 0;
  void handle_event(Conn& c, uint32_t events);
  void on_writable(Conn& c);
  void read_all(Conn& c);
  void parse_stream(Conn& c, const char* data, size_t n);
  void on_packet(Conn& c, uint8_t type, const uint8_t* body, size_t len);
  void fill(Conn& c);
  void flush(Conn& c);
  void append_publish(Conn& c);
  [[noreturn]] void conn_fail(const Conn& c, const std::string& why, int code = kExitRuntime);

  Options o_;
  static std::vector<Format> parse_alternatives(const std::string& text) {
    std::vector<Format> out;
    size_t at = 0;
    for (;;) {
      size_t bar = text.find('|', at);
      out.push_back(Format::parse("payload-format", text.substr(at, bar - at), 1));
      if (bar == std::string::npos) return out;
      at = bar + 1;
    }
  }
  std::vector<Format> payloads_;  // alternatives ('|'), used in turn
  Format user_, client_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::vector<int> ready_;  // QoS 0: connections that may write more
  int connected_ = 0;
  bool publishing_ = false;
  bool stopping_ = false;
  uint64_t sent_ = 0, acked_ = 0, unexpected_acks_ = 0, writes_ = 0;
  // --latency
  bool measuring_ = false;
  std::vector<uint32_t> latencies_us_;  // PUBACKs parsed inside the measured window
  uint64_t out_of_order_acks_ = 0;
  void note_sent(Conn& c, uint16_t id);
  void note_acked(Conn& c, const uint8_t* body, size_t len);
  void pace(Clock::time_point now);
  size_t rr_ = 0;  // --rate: next connection in the round robin
  Clock::time_point pace_start_{};
  uint64_t behind_ = 0;  // --rate: most PUBLISHes ever overdue because every window was full
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void LoadGen::note_sent(Conn& c, uint16_t id) {
  if (c.pending.empty()) c.pending.resize(static_cast<size_t>(o_.window));
  size_t slot = (c.pending_head + c.pending_count) % c.pending.size();
  c.pending[slot] = {id, now_ns()};
  ++c.pending_count;
}

void LoadGen::note_acked(Conn& c, const uint8_t* body, size_t len) {
  if (c.pending_count == 0 || len < 2) return;
  const uint16_t id = static_cast<uint16_t>((body[0] << 8) | body[1]);
  int64_t sent_ns = c.pending[c.pending_head].second;
  if (c.pending[c.pending_head].first != id) {
    ++out_of_order_acks_;
    size_t i = 1, found = 0;
    for (; i < c.pending_count; ++i) {
      found = (c.pending_head + i) % c.pending.size();
      if (c.pending[found].first == id) break;
    }
    if (i == c.pending_count) return;
    sent_ns = c.pending[found].second;
    c.pending[found] = c.pending[c.pending_head];  // keep the ring contiguous; order no longer
  }                                                // matters for the moved entry (searched)
  c.pending_head = (c.pending_head + 1) % c.pending.size();
  --c.pending_count;
  if (measuring_) {
    const int64_t us = (now_ns() - sent_ns) / 1000;
    latencies_us_.push_back(static_cast<uint32_t>(std::clamp<int64_t>(us, 0, UINT32_MAX)));
  }
}

void LoadGen::conn_fail(const Conn& c, const std::string& why, int code) {
  die(code, "device " + std::to_string(c.index) + " (client id '" + client_.expand(c.index) +
                "', " +
                (o_.host.find(':') != std::string::npos && o_.host[0] != '[' ? "[" + o_.host + "]"
                                                                             : o_.host) +
                ":" + std::to_string(o_.port) + "): " + why);
}

void LoadGen::connect_all() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) die(kExitRuntime, errno_text("epoll_create1"));
  conns_.resize(o_.devices);
  for (int i = 0; i < o_.devices; ++i) {
    conns_[i].index = i;
    conns_[i].out.reserve(4096);
    if (o_.connect_rate <= 0) open(conns_[i]);
  }
  opened_ = o_.connect_rate <= 0 ? o_.devices : 0;
}

// --connect-rate: opens the connections the schedule allows by now.
void LoadGen::open_due(double elapsed_s) {
  const auto due =
      std::min<int64_t>(o_.devices, static_cast<int64_t>(elapsed_s * o_.connect_rate) + 1);
  while (opened_ < due) open(conns_[opened_++]);
}

void LoadGen::open(Conn& c) {
  socklen_t alen = 0;
  sockaddr_storage addr = loopback_address(o_, &alen);
  c.fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) die(kExitRuntime, errno_text("socket"));
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), alen) != 0 && errno != EINPROGRESS) {
    conn_fail(c, errno_text("connect"));
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u32 = static_cast<uint32_t>(c.index);
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die(kExitRuntime, errno_text("epoll_ctl"));
}

// --reconnect: the broker closed a ready connection (a flood it throttles); start over.
void LoadGen::reopen(Conn& c) {
  epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
  close(c.fd);
  if (c.state == State::kReady) --connected_;
  c.state = State::kConnecting;
  c.out.clear();
  c.out_off = 0;
  c.in.clear();
  c.inflight = 0;
  c.pending_count = 0;
  c.writable = false;
  ++reconnects_;
  open(c);
}

void LoadGen::on_writable(Conn& c) {
  if (c.state == State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) conn_fail(c, std::string("connect: ") + std::strerror(err));
    std::optional<std::string> user, pass;
    if (!o_.user_format.empty()) user = user_.expand(c.index);
    if (!o_.password.empty()) pass = o_.password;
    c.out += encode_connect(client_.expand(c.index), user, pass, o_.keepalive);
    c.state = State::kAwaitConnack;
  }
  c.writable = true;
  flush(c);
}

void LoadGen::flush(Conn& c) {
  while (c.out_off < c.out.size()) {
    ssize_t n = write(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      ++writes_;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.writable = false;  // edge-triggered: EPOLLOUT will fire when space frees up
      break;
    } else {
      if (stopping_) return;
      if (o_.reconnect && c.state == State::kReady) return reopen(c);
      conn_fail(c, errno_text("write"));
    }
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
}

void LoadGen::append_publish(Conn& c) {
  const Format& payload_ = payloads_[c.value % payloads_.size()];
  char num[24];
  auto res = std::to_chars(num, num + sizeof(num), c.value++);
  size_t num_len = static_cast<size_t>(res.ptr - num);
  size_t payload_len = payload_.parts[0].size();
  if (payload_.parts.size() > 1) payload_len += num_len + payload_.parts[1].size();
  size_t rem = 2 + o_.topic.size() + (o_.qos > 0 ? 2 : 0) + payload_len;
  c.out += static_cast<char>(o_.qos > 0 ? 0x32 : 0x30);
  put_remaining_length(c.out, rem);
  put_str(c.out, o_.topic);
  if (o_.qos > 0) {
    put_u16(c.out, c.next_id);
    if (o_.latency) note_sent(c, c.next_id);
    if (++c.next_id == 0) c.next_id = 1;  // packet id 0 is not allowed
    ++c.inflight;
  }
  c.out.append(payload_.parts[0]);
  if (payload_.parts.size() > 1) {
    c.out.append(num, num_len);
    c.out.append(payload_.parts[1]);
  }
  ++sent_;
}

// Queues as many PUBLISH packets as the window allows and writes them with one write().
void LoadGen::fill(Conn& c) {
  if (!publishing_ || stopping_ || c.state != State::kReady) return;
  if (o_.rate > 0) return;  // paced: only pace() publishes
  if (o_.messages && c.value >= o_.messages) return;
  if (o_.qos > 0) {
    if (c.inflight + static_cast<uint32_t>(o_.refill) > static_cast<uint32_t>(o_.window)) return;
    while (c.inflight < static_cast<uint32_t>(o_.window) && (!o_.messages || c.value < o_.messages))
      append_publish(c);
    if (c.writable) flush(c);
  } else {
    // QoS 0: no acks, so keep the socket buffer full; a batch of --window per turn.
    if (!c.writable || c.out_off < c.out.size()) return;
    for (int i = 0; i < o_.window && (!o_.messages || c.value < o_.messages); ++i)
      append_publish(c);
    flush(c);
    if (c.writable && !c.queued) {
      c.queued = true;
      ready_.push_back(c.index);
    }
  }
}

// --rate: publishes what the schedule allows by now, one PUBLISH per connection in turn, skipping
// connections whose window is full; each connection's share goes out with one write().
void LoadGen::pace(Clock::time_point now) {
  if (!publishing_ || stopping_) return;
  if (o_.messages && sent_ >= o_.messages * conns_.size()) return;  // every device is done
  const double elapsed = std::chrono::duration<double>(now - pace_start_).count();
  const auto due = static_cast<uint64_t>(elapsed * o_.rate);
  uint64_t budget = due > sent_ ? due - sent_ : 0;
  size_t idle_turns = 0;
  std::vector<int> touched;
  while (budget > 0 && idle_turns < conns_.size()) {
    Conn& c = conns_[rr_];
    rr_ = (rr_ + 1) % conns_.size();
    if (c.state != State::kReady || c.inflight >= static_cast<uint32_t>(o_.window) ||
        (o_.messages && c.value >= o_.messages)) {
      ++idle_turns;
      continue;
    }
    idle_turns = 0;
    if (c.out.empty()) touched.push_back(c.index);
    append_publish(c);
    --budget;
  }
  behind_ = std::max(behind_, budget);  // left over because every window was full
  for (int idx : touched) {
    if (conns_[idx].writable) flush(conns_[idx]);
  }
}

void LoadGen::on_packet(Conn& c, uint8_t type, const uint8_t* body, size_t len) {
  switch (type >> 4) {
    case 2:  // CONNACK
      if (c.state != State::kAwaitConnack) conn_fail(c, "unexpected CONNACK");
      if (len < 2) conn_fail(c, "malformed CONNACK");
      if (body[1] != 0) {
        conn_fail(
            c,
            "CONNACK return code " + std::to_string(body[1]) + " (" + connack_reason(body[1]) + ")",
            kExitRefused);
      }
      c.state = State::kReady;
      ++connected_;
      break;
    case 4:  // PUBACK
      if (c.inflight == 0) {
        ++unexpected_acks_;
      } else {
        --c.inflight;
        ++acked_;
        if (o_.latency) note_acked(c, body, len);
      }
      break;
    default:  // PINGRESP or anything else: ignored
      break;
  }
}

void LoadGen::parse_stream(Conn& c, const char* data, size_t n) {
  // Fast path: no partial packet pending, parse straight from the read buffer.
  std::string_view buf(data, n);
  if (!c.in.empty()) {
    c.in.append(data, n);
    buf = c.in;
  }
  size_t pos = 0;
  while (pos + 2 <= buf.size()) {
    auto* p = reinterpret_cast<const uint8_t*>(buf.data()) + pos;
    size_t avail = buf.size() - pos;
    size_t rem = 0, mult = 1, hdr = 1;
    bool complete = false;
    while (hdr < avail && hdr <= 4) {
      uint8_t b = p[hdr++];
      rem += (b & 0x7f) * mult;
      mult *= 128;
      if ((b & 0x80) == 0) {
        complete = true;
        break;
      }
    }
    if (!complete) {
      if (hdr > 4) conn_fail(c, "malformed remaining length from broker");
      break;
    }
    if (avail < hdr + rem) break;
    on_packet(c, p[0], p + hdr, rem);
    pos += hdr + rem;
  }
  std::string rest(buf.substr(pos));
  c.in = std::move(rest);
}

void LoadGen::read_all(Conn& c) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(c.fd, buf, sizeof(buf));
    if (n > 0) {
      parse_stream(c, buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof(buf)) {
        // Probably drained; one more read would just return EAGAIN. With EPOLLET we must be
        // sure, so keep going only if the buffer was full.
        return;
      }
    } else if (n == 0) {
      if (stopping_) return;
      if (o_.reconnect && c.state == State::kReady) return reopen(c);
      conn_fail(c, c.state == State::kReady ? "connection closed by broker"
                                            : "connection closed by broker before CONNACK");
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      if (stopping_) return;
      if (o_.reconnect && c.state == State::kReady) return reopen(c);
      conn_fail(c, errno_text("read"));
    }
  }
}

void LoadGen::handle_event(Conn& c, uint32_t events) {
  if (events & EPOLLOUT) on_writable(c);
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    if (c.state == State::kConnecting) on_writable(c);  // reports a connect error via SO_ERROR
    read_all(c);
  }
  fill(c);
}

int LoadGen::run() {
  connect_all();
  const auto t0 = Clock::now();
  const auto connect_deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(o_.connect_timeout));
  const std::optional<int> broker_core =
      o_.broker_pid > 0 ? pinned_core(o_.broker_pid) : std::nullopt;
  std::vector<epoll_event> events(256);
  Clock::time_point pub_start{}, measure_start{}, measure_end{};
  CpuSnapshot cpu0, cpu1;
  uint64_t sent0 = 0, acked0 = 0, writes0 = 0;
  bool measuring = false;

  for (;;) {
    const auto now = Clock::now();
    if (!publishing_) {
      if (opened_ < o_.devices) open_due(std::chrono::duration<double>(now - t0).count());
      if (connected_ == o_.devices) {
        publishing_ = true;
        pub_start = now;
        pace_start_ = now;
        measure_start = pub_start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(o_.warmup));
        measure_end = measure_start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(o_.seconds));
        for (Conn& c : conns_) fill(c);
        continue;
      }
      if (now >= connect_deadline) {
        die(kExitRuntime, "only " + std::to_string(connected_) + " of " +
                              std::to_string(o_.devices) + " devices got a CONNACK within " +
                              std::to_string(o_.connect_timeout) + " s");
      }
    } else {
      if (!measuring && now >= measure_start) {
        measuring = true;
        measuring_ = true;
        cpu0 = take_cpu_snapshot(o_.broker_pid, broker_core);
        sent0 = sent_;
        acked0 = acked_;
        writes0 = writes_;
      }
      if (measuring && now >= measure_end) {
        cpu1 = take_cpu_snapshot(o_.broker_pid, broker_core);
        break;
      }
    }
    int timeout_ms = o_.rate > 0 && publishing_ ? 1 : 50;
    if (opened_ < o_.devices) timeout_ms = 2;
    if (!ready_.empty()) timeout_ms = 0;
    int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(kExitRuntime, errno_text("epoll_wait"));
    }
    for (int i = 0; i < n; ++i) handle_event(conns_[events[i].data.u32], events[i].events);
    if (o_.rate > 0) pace(Clock::now());
    if (!ready_.empty()) {
      std::vector<int> ready;
      ready.swap(ready_);
      for (int idx : ready) {
        conns_[idx].queued = false;
        fill(conns_[idx]);
      }
    }
  }

  const uint64_t sent = sent_ - sent0;
  const uint64_t acked = (o_.qos > 0 ? acked_ : sent_) - (o_.qos > 0 ? acked0 : sent0);
  const double secs = std::chrono::duration<double>(cpu1.when - cpu0.when).count();
  const double connect_secs = std::chrono::duration<double>(pub_start - t0).count();
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));

  stopping_ = true;
  for (Conn& c : conns_) {
    static const char kDisconnect[2] = {static_cast<char>(0xe0), 0};
    if (c.out_off == c.out.size()) (void)!write(c.fd, kDisconnect, sizeof(kDisconnect));
    close(c.fd);
  }
  close(ep_);

  std::string json = "{\"sent\":" + std::to_string(sent) + ",\"acked\":" + std::to_string(acked);
  char num[64];
  std::snprintf(num, sizeof(num), "%.3f", secs);
  json += ",\"seconds\":" + std::string(num);
  std::snprintf(num, sizeof(num), "%.1f", secs > 0 ? static_cast<double>(acked) / secs : 0.0);
  json += ",\"rate\":" + std::string(num);
  json += ",\"devices\":" + std::to_string(o_.devices) +
          ",\"window\":" + std::to_string(o_.window) + ",\"refill\":" + std::to_string(o_.refill) +
          ",\"qos\":" + std::to_string(o_.qos);
  std::snprintf(num, sizeof(num), "%.3f", connect_secs);
  json += ",\"connect_seconds\":" + std::string(num);
  json += ",\"total_sent\":" + std::to_string(sent_) +
          ",\"total_acked\":" + std::to_string(o_.qos > 0 ? acked_ : sent_);
  std::snprintf(
      num, sizeof(num), "%.2f",
      writes_ > writes0 ? static_cast<double>(sent) / static_cast<double>(writes_ - writes0) : 0.0);
  json += ",\"publish_per_write\":" + std::string(num);
  if (unexpected_acks_ > 0) json += ",\"unexpected_acks\":" + std::to_string(unexpected_acks_);
  std::snprintf(num, sizeof(num), "%.1f",
                secs > 0 ? 100.0 * (cpu1.self_cpu - cpu0.self_cpu) / secs : 0.0);
  json += ",\"loadgen_cpu_pct\":" + std::string(num);
  if (cpu0.system && cpu1.system && secs > 0) {
    // Everything else that ran on this machine meanwhile (other processes, kernel threads), as %
    // of one core: disturbs the measurement if large.
    double task = static_cast<double>(cpu1.system->task - cpu0.system->task) / tick;
    task -= cpu1.self_cpu - cpu0.self_cpu;
    if (cpu0.broker_ticks && cpu1.broker_ticks) {
      task -= static_cast<double>(*cpu1.broker_ticks - *cpu0.broker_ticks) / tick;
    }
    std::snprintf(num, sizeof(num), "%.1f", std::max(0.0, 100.0 * task / secs));
    json += ",\"other_cpu_pct\":" + std::string(num);
    std::snprintf(
        num, sizeof(num), "%.1f",
        100.0 * static_cast<double>(cpu1.system->softirq - cpu0.system->softirq) / tick / secs);
    json += ",\"softirq_pct\":" + std::string(num);
    std::snprintf(
        num, sizeof(num), "%.1f",
        100.0 * static_cast<double>(cpu1.system->steal - cpu0.system->steal) / tick / secs);
    json += ",\"steal_pct\":" + std::string(num);
  }
  if (cpu0.broker_core && cpu1.broker_core && cpu1.broker_core->total > cpu0.broker_core->total) {
    // How busy the broker's core was, whoever used it (broker, its threads, softirq, others).
    const double total = static_cast<double>(cpu1.broker_core->total - cpu0.broker_core->total);
    const double idle = static_cast<double>(cpu1.broker_core->idle - cpu0.broker_core->idle);
    std::snprintf(num, sizeof(num), "%.1f", 100.0 * (total - idle) / total);
    json += ",\"broker_core\":" + std::to_string(*broker_core) +
            ",\"broker_core_busy_pct\":" + std::string(num);
  }
  if (o_.broker_pid > 0) {
    json += ",\"broker_pid\":" + std::to_string(o_.broker_pid);
    if (cpu0.broker_ticks && cpu1.broker_ticks && secs > 0) {
      std::snprintf(
          num, sizeof(num), "%.1f",
          100.0 * static_cast<double>(*cpu1.broker_ticks - *cpu0.broker_ticks) / tick / secs);
      json += ",\"broker_cpu_pct\":" + std::string(num);
    } else {
      json += ",\"broker_cpu_pct\":null";
    }
    if (cpu0.broker_main_ticks && cpu1.broker_main_ticks && secs > 0) {
      std::snprintf(num, sizeof(num), "%.1f",
                    100.0 * static_cast<double>(*cpu1.broker_main_ticks - *cpu0.broker_main_ticks) /
                        tick / secs);
      json += ",\"broker_main_thread_cpu_pct\":" + std::string(num);
    }
  }
  if (o_.latency) {
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto pct = [&](double q) -> uint32_t {
      if (latencies_us_.empty()) return 0;
      size_t i = static_cast<size_t>(q * static_cast<double>(latencies_us_.size() - 1) + 0.5);
      return latencies_us_[std::min(i, latencies_us_.size() - 1)];
    };
    auto over = [&](uint32_t us) {
      return static_cast<uint64_t>(
          latencies_us_.end() - std::upper_bound(latencies_us_.begin(), latencies_us_.end(), us));
    };
    json += ",\"latency_samples\":" + std::to_string(latencies_us_.size()) +
            ",\"puback_us_p50\":" + std::to_string(pct(0.50)) +
            ",\"puback_us_p90\":" + std::to_string(pct(0.90)) +
            ",\"puback_us_p99\":" + std::to_string(pct(0.99)) +
            ",\"puback_us_p999\":" + std::to_string(pct(0.999)) + ",\"puback_us_max\":" +
            std::to_string(latencies_us_.empty() ? 0 : latencies_us_.back()) +
            ",\"over_10ms\":" + std::to_string(over(10000)) +
            ",\"over_100ms\":" + std::to_string(over(100000));
    if (out_of_order_acks_ > 0)
      json += ",\"out_of_order_acks\":" + std::to_string(out_of_order_acks_);
  }
  if (o_.reconnect) json += ",\"reconnects\":" + std::to_string(reconnects_);
  if (o_.rate > 0) {
    std::snprintf(num, sizeof(num), "%.0f", o_.rate);
    json += ",\"target_rate\":" + std::string(num) + ",\"behind\":" + std::to_string(behind_);
  }
  json += "}";
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  LoadGen gen(std::move(o));
  return gen.run();
}
