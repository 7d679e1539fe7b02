#include "plugin/cluster/tenant_control.h"

#include <curl/curl.h>
#include <sys/random.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace c8y::cluster {
namespace {

namespace fs = std::filesystem;
using common::Status;
using common::TenantChange;
using json = nlohmann::json;

constexpr const char* kTicketHeader = "X-C8y-Ticket: ";

TenantChange failed(Status s) {
  TenantChange c;
  c.status = std::move(s);
  return c;
}

// One call to another node's REST API (libcurl). `reached` says whether the request got there
// (false: the connection failed, so the other node did nothing).
struct PeerAnswer {
  Status status;  // of the transport
  bool reached = false;
  long code = 0;
  std::string body;
};

size_t to_string(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

size_t to_file(char* p, size_t size, size_t n, void* out) {
  return std::fwrite(p, size, n, static_cast<std::FILE*>(out)) * size;
}

PeerAnswer peer_call(const std::string& method, const std::string& url, const std::string& ticket,
                     const std::string& body, std::chrono::milliseconds timeout,
                     std::FILE* into = nullptr) {
  PeerAnswer a;
  CURL* curl = curl_easy_init();
  if (!curl) {
    a.status = Status::Io("curl_easy_init failed");
    return a;
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, (kTicketHeader + ticket).c_str());
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  if (method != "GET" && method != "DELETE") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  if (into) {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, to_file);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, into);
  } else {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, to_string);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a.body);
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    a.reached = true;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.code);
  } else {
    a.reached = rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST;
    a.status = Status::Unavailable(url + ": " + curl_easy_strerror(rc));
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return a;
}

// What another node answered, as a status: its error body's message when it refused.
Status peer_status(const PeerAnswer& a) {
  if (!a.status.ok()) return a.status;
  if (a.code >= 200 && a.code < 300) return {};
  std::string message = "HTTP " + std::to_string(a.code);
  auto j = json::parse(a.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    message = j["message"].get<std::string>();
  switch (a.code) {
    case 404:
      return Status::NotFound(message);
    case 409:
      return Status::Conflict(message);
    case 403:
    case 422:
      return Status::Invalid(message);
    case 503:
      return Status::Unavailable(message);
    default:
      return Status::Io(message);
  }
}

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string new_ticket() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n <= 0) return "";
    got += static_cast<size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

bool safe_relative_path(const std::string& path) {
  if (path.empty() || path.size() > 200 || path[0] == '/') return false;
  for (char c : path)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-' || c == '/'))
      return false;
  for (const auto& part : fs::path(path))
    if (part == ".." || part == "." || part.empty()) return false;
  return true;
}

// While alive, the tenant's change is carried out by this node (the agent does not abandon it).
class TenantControl::Carrying {
 public:
  Carrying(TenantControl& c, const std::string& tenant) : c_(c), tenant_(tenant) {
    std::lock_guard lock(c_.active_mutex_);
    c_.active_.insert(tenant_);
  }
  ~Carrying() {
    std::lock_guard lock(c_.active_mutex_);
    c_.active_.erase(tenant_);
  }
  Carrying(const Carrying&) = delete;
  Carrying& operator=(const Carrying&) = delete;

 private:
  TenantControl& c_;
  std::string tenant_;
};

bool TenantControl::changing(const std::string& tenant) const {
  std::lock_guard lock(active_mutex_);
  return active_.count(tenant) > 0;
}

TenantControl::TenantControl(EtcdClient& etcd, NodeAgent& agent, common::TenantHost& host,
                             common::Outbox* outbox, TenantControlOptions options)
    : etcd_(etcd), agent_(agent), host_(host), outbox_(outbox), options_(std::move(options)) {}

Status TenantControl::read(const std::string& tenant, Placement* p, int64_t* mod_revision) {
  KeyValue kv;
  if (auto s = etcd_.get(options_.keys.tenant(tenant), &kv); !s.ok()) {
    if (s.not_found()) return Status::NotFound("Tenant " + tenant + " not found");
    return Status::Unavailable("etcd: " + s.message);
  }
  auto decoded = decode_placement(kv.value);
  if (!decoded) return Status::Io("the placement of tenant " + tenant + " is unreadable");
  *p = *decoded;
  *mod_revision = kv.mod_revision;
  return {};
}

Status TenantControl::check_ticket(const std::string& tenant, const std::string& ticket,
                                   const std::string& change, bool as_target, Placement* p,
                                   int64_t* mod_revision) {
  if (auto s = read(tenant, p, mod_revision); !s.ok())
    return s.unavailable() ? s : Status::Invalid("no " + change + " of " + tenant + " under way");
  const std::string& named = as_target ? p->move_to : p->node;
  if (ticket.empty() || p->ticket != ticket || p->change != change || named != agent_.node())
    return Status::Invalid("no " + change + " of " + tenant + " under way for this node");
  return {};
}

Status TenantControl::settle(const std::string& tenant, const std::string& ticket,
                             const std::optional<Placement>& next) {
  Placement p;
  int64_t rev = 0;
  if (auto s = read(tenant, &p, &rev); !s.ok()) return s;
  if (p.ticket != ticket)
    return Status::Conflict("the placement of " + tenant + " was changed by someone else");
  Status s = next ? etcd_.compare_and_put(options_.keys.tenant(tenant), encode(*next), rev)
                  : etcd_.compare_and_delete(options_.keys.tenant(tenant), rev);
  if (s.ok()) agent_.note(tenant, next);
  return s;
}

NodeAgent::View TenantControl::fresh_view() {
  NodeAgent::View view = agent_.view();
  std::vector<KeyValue> kvs;
  if (!etcd_.list(options_.keys.nodes(), &kvs).ok()) return view;
  view.nodes.clear();
  for (const auto& kv : kvs)
    if (auto n = decode_node(kv.value); n && n->name == options_.keys.node_of(kv.key))
      view.nodes.emplace(n->name, *n);
  return view;
}

std::string TenantControl::rest_of(const NodeAgent::View& view, const std::string& node) const {
  auto it = view.nodes.find(node);
  return it == view.nodes.end() ? "" : it->second.rest;
}

TenantChange TenantControl::create_tenant(const std::string& tenant, const std::string& node,
                                          const std::string& spec) {
  const auto start = std::chrono::steady_clock::now();
  NodeAgent::View view = fresh_view();
  if (!view.registered)
    return failed(Status::Unavailable("this node is not in the cluster now (etcd unreachable)"));
  std::string target = node;
  if (target.empty()) {  // the live node with the fewest connected devices
    int64_t fewest = 0;
    for (const auto& [name, record] : view.nodes)
      if (target.empty() || record.devices < fewest) {
        target = name;
        fewest = record.devices;
      }
  }
  if (!view.nodes.count(target))
    return failed(Status::Invalid("No live node " + target + " in the cluster"));
  Placement creating{target, 1, "create", "", new_ticket()};
  if (creating.ticket.empty()) return failed(Status::Io("no randomness for a ticket"));
  KeyValue existing;
  if (auto s = etcd_.create(options_.keys.tenant(tenant), encode(creating), 0, &existing);
      !s.ok()) {
    if (!s.conflict()) return failed(Status::Unavailable("etcd: " + s.message));
    auto other = decode_placement(existing.value);
    return failed(Status::Conflict("Tenant " + tenant + " exists already" +
                                   (other ? " (on node " + other->node + ")" : "")));
  }
  Status made;
  if (target == agent_.node()) {
    made = host_.create(tenant, spec);
  } else {
    made = peer_status(peer_call(
        "POST", options_.scheme + "://" + rest_of(view, target) + "/cluster/tenants/" + tenant,
        creating.ticket, spec, options_.peer_timeout));
  }
  if (!made.ok()) {
    if (auto s = settle(tenant, creating.ticket, std::nullopt); !s.ok())
      log(common::LogLevel::kWarning, "c8y: cluster: tenant " + tenant +
                                          ": the placement of a failed create stays: " + s.message);
    return failed(
        made.conflict()
            ? made
            : Status::Unavailable("node " + target + " did not make the tenant: " + made.message));
  }
  TenantChange out;
  out.node = target;
  out.epoch = 1;
  if (auto s = settle(tenant, creating.ticket, Placement{target, 1}); !s.ok())
    // The tenant exists on its node; that node's agent settles the placement (node_agent.cc).
    log(common::LogLevel::kWarning, "c8y: cluster: tenant " + tenant + " made on " + target +
                                        "; its placement is settled by " + target +
                                        " later: " + s.message);
  out.seconds = since(start);
  log(common::LogLevel::kNotice, "c8y: cluster: tenant " + tenant + " created on " + target);
  return out;
}

TenantChange TenantControl::delete_tenant(const std::string& tenant) {
  const auto start = std::chrono::steady_clock::now();
  NodeAgent::View view = fresh_view();
  Placement p;
  int64_t rev = 0;
  if (auto s = read(tenant, &p, &rev); !s.ok()) return failed(s);
  if (!p.change.empty())
    return failed(Status::Conflict("Tenant " + tenant + ": a " + p.change + " is under way"));
  if (!view.nodes.count(p.node))
    return failed(Status::Unavailable("Tenant " + tenant + " lives on node " + p.node +
                                      ", which is not reachable now"));
  Placement deleting = p;
  deleting.change = "delete";
  deleting.ticket = new_ticket();
  if (auto s = etcd_.compare_and_put(options_.keys.tenant(tenant), encode(deleting), rev); !s.ok())
    return failed(s.conflict() ? Status::Conflict("Tenant " + tenant + " changed meanwhile")
                               : Status::Unavailable("etcd: " + s.message));
  Carrying carrying(*this, tenant);
  Status done;
  if (p.node == agent_.node()) {
    done = host_.remove(tenant);
  } else {
    done = peer_status(peer_call(
        "DELETE", options_.scheme + "://" + rest_of(view, p.node) + "/cluster/tenants/" + tenant,
        deleting.ticket, "", options_.peer_timeout));
  }
  if (!done.ok() && !done.not_found()) {
    (void)settle(tenant, deleting.ticket, p);  // back as it was; best effort
    return failed(
        Status::Unavailable("node " + p.node + " did not delete the tenant: " + done.message));
  }
  if (auto s = settle(tenant, deleting.ticket, std::nullopt); !s.ok())
    return failed(Status::Unavailable("tenant " + tenant + " deleted on " + p.node +
                                      ", but its placement stays: " + s.message));
  // Its CA subjects are free again.
  std::vector<KeyValue> claims;
  if (etcd_.list(options_.keys.ca_subjects(), &claims).ok())
    for (const auto& kv : claims) {
      auto j = json::parse(kv.value, nullptr, false);
      if (j.is_object() && j.value("tenant", "") == tenant)
        (void)etcd_.compare_and_delete(kv.key, kv.mod_revision);  // best effort
    }
  log(common::LogLevel::kNotice,
      "c8y: cluster: tenant " + tenant + " deleted (it lived on " + p.node + ")");
  TenantChange out;
  out.node = p.node;
  out.seconds = since(start);
  return out;
}

TenantChange TenantControl::move_tenant(const std::string& tenant, const std::string& node) {
  NodeAgent::View view = fresh_view();
  if (!view.registered)
    return failed(Status::Unavailable("this node is not in the cluster now (etcd unreachable)"));
  Placement p;
  int64_t rev = 0;
  if (auto s = read(tenant, &p, &rev); !s.ok()) return failed(s);
  if (!p.change.empty())
    return failed(Status::Conflict("Tenant " + tenant + ": a " + p.change + " is under way"));
  if (!view.nodes.count(node))
    return failed(Status::Invalid("No live node " + node + " in the cluster"));
  if (p.node == node) {
    TenantChange same;
    same.node = node;
    same.epoch = p.epoch;
    return same;
  }
  if (!view.nodes.count(p.node))
    return failed(Status::Unavailable("Tenant " + tenant + " lives on node " + p.node +
                                      ", which is not reachable now"));
  Placement moving{p.node, p.epoch + 1, "move", node, new_ticket()};
  if (auto s = etcd_.compare_and_put(options_.keys.tenant(tenant), encode(moving), rev); !s.ok())
    return failed(s.conflict() ? Status::Conflict("Tenant " + tenant + " changed meanwhile")
                               : Status::Unavailable("etcd: " + s.message));
  log(common::LogLevel::kNotice, "c8y: cluster: moving tenant " + tenant + " from " + p.node +
                                     " to " + node + " (epoch " + std::to_string(moving.epoch) +
                                     ")");
  if (p.node == agent_.node()) return peer_move(tenant, moving.ticket);
  PeerAnswer a = peer_call(
      "POST", options_.scheme + "://" + rest_of(view, p.node) + "/cluster/moves/" + tenant,
      moving.ticket, "{}", options_.peer_timeout);
  Status s = peer_status(a);
  if (!s.ok()) {
    if (!a.reached) (void)settle(tenant, moving.ticket, p);  // it never started: as it was
    return failed(s);
  }
  auto j = json::parse(a.body, nullptr, false);
  TenantChange out;
  if (j.is_object()) {
    out.node = j.value("node", "");
    out.from = j.value("from", "");
    out.epoch = j.value("epoch", int64_t{0});
    out.bytes = j.value("bytes", uint64_t{0});
    out.seconds = j.value("seconds", 0.0);
  }
  return out;
}

TenantChange TenantControl::undo_move(const std::string& tenant, const std::string& ticket,
                                      const Placement& moving, Status why) {
  Placement back{moving.node, moving.epoch};
  if (auto s = settle(tenant, ticket, back); !s.ok())
    log(common::LogLevel::kError, "c8y: cluster: tenant " + tenant +
                                      ": a failed move could not be undone (" + s.message +
                                      "); it stays unserved until its placement is mended");
  agent_.fence(tenant, false);
  log(common::LogLevel::kError, "c8y: cluster: moving tenant " + tenant + " to " + moving.move_to +
                                    " failed, it stays here: " + why.message);
  return failed(std::move(why));
}

TenantChange TenantControl::peer_move(const std::string& tenant, const std::string& ticket) {
  const auto start = std::chrono::steady_clock::now();
  Carrying carrying(*this, tenant);
  Placement moving;
  int64_t rev = 0;
  if (auto s = check_ticket(tenant, ticket, "move", false, &moving, &rev); !s.ok())
    return failed(s);
  // From here on nothing is served for the tenant on this node.
  agent_.fence(tenant, true);
  agent_.note(tenant, moving);
  NodeAgent::View view = fresh_view();
  const std::string target_rest = rest_of(view, moving.move_to);
  const std::string own_rest = rest_of(view, agent_.node());
  if (target_rest.empty() || own_rest.empty())
    return undo_move(tenant, ticket, moving,
                     Status::Unavailable("node " + moving.move_to + " is not reachable now"));
  if (auto s = host_.quiesce(tenant, options_.quiesce_timeout); !s.ok())
    return undo_move(tenant, ticket, moving, s);
  const std::string dir =
      (fs::path(host_.staging_dir()) / ("move-" + tenant + "-" + ticket.substr(0, 8))).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  Export e{ticket, dir, {}};
  uint64_t bytes = 0;
  if (auto s = host_.export_tenant(tenant, dir, &e.files, &bytes); !s.ok()) {
    fs::remove_all(dir, ec);
    return undo_move(tenant, ticket, moving, s);
  }
  {
    std::lock_guard lock(exports_mutex_);
    exports_[tenant] = e;
  }
  json body = {{"from", own_rest}, {"files", e.files}};
  Status imported = peer_status(
      peer_call("POST", options_.scheme + "://" + target_rest + "/cluster/imports/" + tenant,
                ticket, body.dump(), options_.peer_timeout));
  {
    std::lock_guard lock(exports_mutex_);
    exports_.erase(tenant);
  }
  fs::remove_all(dir, ec);
  if (!imported.ok())
    return undo_move(tenant, ticket, moving,
                     Status::Unavailable("node " + moving.move_to +
                                         " did not import the tenant: " + imported.message));
  Placement moved{moving.move_to, moving.epoch};
  if (auto s = settle(tenant, ticket, moved); !s.ok())
    return undo_move(tenant, ticket, moving,
                     Status::Unavailable("the placement could not be flipped: " + s.message +
                                         " (node " + moving.move_to + " keeps an unserved copy)"));
  const double seconds = since(start);
  if (auto s = host_.remove(tenant); !s.ok())
    log(common::LogLevel::kWarning,
        "c8y: cluster: tenant " + tenant + " moved; its copy here was not dropped: " + s.message);
  agent_.fence(tenant, false);
  log(common::LogLevel::kNotice, "c8y: cluster: tenant " + tenant + " moved to " + moving.move_to +
                                     " (epoch " + std::to_string(moved.epoch) + ", " +
                                     std::to_string(bytes) + " bytes, unserved for " +
                                     std::to_string(seconds) + " s)");
  TenantChange out;
  out.node = moving.move_to;
  out.from = agent_.node();
  out.epoch = moved.epoch;
  out.bytes = bytes;
  out.seconds = seconds;
  return out;
}

Status TenantControl::peer_create(const std::string& tenant, const std::string& ticket,
                                  const std::string& spec) {
  Placement p;
  int64_t rev = 0;
  if (auto s = check_ticket(tenant, ticket, "create", false, &p, &rev); !s.ok()) return s;
  return host_.create(tenant, spec);
}

Status TenantControl::peer_delete(const std::string& tenant, const std::string& ticket) {
  Placement p;
  int64_t rev = 0;
  Carrying carrying(*this, tenant);
  if (auto s = check_ticket(tenant, ticket, "delete", false, &p, &rev); !s.ok()) return s;
  return host_.remove(tenant);
}

Status TenantControl::peer_import(const std::string& tenant, const std::string& ticket,
                                  const std::string& from, const std::vector<std::string>& files) {
  Placement p;
  int64_t rev = 0;
  if (auto s = check_ticket(tenant, ticket, "move", true, &p, &rev); !s.ok()) return s;
  const fs::path dir =
      fs::path(host_.staging_dir()) / ("import-" + tenant + "-" + ticket.substr(0, 8));
  std::error_code ec;
  fs::remove_all(dir, ec);
  Status result;
  for (const std::string& f : files) {
    if (!safe_relative_path(f)) {
      result = Status::Invalid("bad file name in the export: " + f);
      break;
    }
    const fs::path path = dir / f;
    fs::create_directories(path.parent_path(), ec);
    std::FILE* out = std::fopen(path.c_str(), "wb");
    if (!out) {
      result = Status::Io("cannot write " + path.string());
      break;
    }
    PeerAnswer a =
        peer_call("GET", options_.scheme + "://" + from + "/cluster/exports/" + tenant + "/" + f,
                  ticket, "", options_.peer_timeout, out);
    const bool written = std::fclose(out) == 0;
    result = peer_status(a);
    if (result.ok() && !written) result = Status::Io("cannot write " + path.string());
    if (!result.ok()) break;
  }
  if (result.ok()) result = host_.import_tenant(tenant, dir.string());
  fs::remove_all(dir, ec);
  if (result.ok()) {
    // The owner flips the placement right after this answer: look again soon.
    agent_.hurry(std::chrono::seconds(5));
    log(common::LogLevel::kNotice, "c8y: cluster: tenant " + tenant + " imported from " + from);
  }
  return result;
}

std::string TenantControl::export_file(const std::string& tenant, const std::string& ticket,
                                       const std::string& file) {
  std::lock_guard lock(exports_mutex_);
  auto it = exports_.find(tenant);
  if (it == exports_.end() || ticket.empty() || it->second.ticket != ticket) return "";
  for (const auto& f : it->second.files)
    if (f == file) return (fs::path(it->second.dir) / f).string();
  return "";
}

Status TenantControl::claim_ca_subject(const std::string& subject, const std::string& tenant) {
  const std::string value = json{{"tenant", tenant}, {"subject", subject}}.dump();
  KeyValue existing;
  Status s = etcd_.create(options_.keys.ca_subject(subject), value, 0, &existing);
  if (s.ok()) return {};
  if (!s.conflict()) return Status::Unavailable("etcd: " + s.message);
  auto j = json::parse(existing.value, nullptr, false);
  if (j.is_object() && j.value("tenant", "") == tenant) return {};  // its own again
  return Status::Conflict("A CA with the subject " + subject + " belongs to another tenant");
}

void TenantControl::release_ca_subject(const std::string& subject, const std::string& tenant) {
  KeyValue kv;
  const std::string key = options_.keys.ca_subject(subject);
  if (!etcd_.get(key, &kv).ok()) return;
  auto j = json::parse(kv.value, nullptr, false);
  if (!j.is_object() || j.value("tenant", "") != tenant) return;
  if (auto s = etcd_.compare_and_delete(key, kv.mod_revision); !s.ok() && !s.not_found())
    log(common::LogLevel::kWarning, "c8y: cluster: the claim of CA subject " + subject +
                                        " by tenant " + tenant + " stays: " + s.message);
}

void TenantControl::log(common::LogLevel level, std::string message) {
  if (outbox_) outbox_->push(common::outbox::Log{level, std::move(message)});
}

}  // namespace c8y::cluster
