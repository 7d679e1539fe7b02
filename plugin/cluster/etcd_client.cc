#include "plugin/cluster/etcd_client.h"

#include <curl/curl.h>

#include <charconv>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "plugin/common/base64.h"

namespace c8y::cluster {

using common::Status;
using nlohmann::json;

namespace {

constexpr size_t kIdleHandles = 8;              // pooled curl handles kept between calls
constexpr long kWatchPollMs = 200;              // a watch looks at `stop` this often
constexpr size_t kWatchMessageMax = 64u << 20;  // one watch message larger than this: broken
constexpr int kListAttempts = 3;                // list restarts when compaction overtakes it

// An answer that is JSON but not what etcd's gateway sends (bad base64, a number that is not
// one). Thrown inside this file only and turned into kUnavailable at each public method.
struct BadAnswer : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string b64(std::string_view bytes) {
  return common::base64_encode(bytes, common::Base64Alphabet::kStandard, true);
}

std::string unb64(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) return "";  // proto3 JSON leaves empty bytes out
  if (!it->is_string()) throw BadAnswer(std::string(name) + " is not a string");
  auto bytes = common::base64_decode(it->get_ref<const std::string&>(), {});
  if (!bytes) throw BadAnswer(std::string(name) + " is not base64");
  return std::move(*bytes);
}

// int64 fields come as JSON strings (proto3 JSON mapping); absent means 0.
int64_t int_field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return v;
  }
  throw BadAnswer(std::string(name) + " is not an integer");
}

bool bool_field(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

const json& field(const json& obj, const char* name) {
  static const json kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

int64_t header_revision(const json& answer) {
  return int_field(field(answer, "header"), "revision");
}

KeyValue parse_kv(const json& j) {
  KeyValue kv;
  kv.key = unb64(j, "key");
  kv.value = unb64(j, "value");
  kv.create_revision = int_field(j, "create_revision");
  kv.mod_revision = int_field(j, "mod_revision");
  kv.version = int_field(j, "version");
  kv.lease = int_field(j, "lease");
  return kv;
}

// The first kv of a range answer (a txn's response_range or a plain one); false when none.
bool first_kv(const json& range, KeyValue* out) {
  const json& kvs = field(range, "kvs");
  if (!kvs.is_array() || kvs.empty()) return false;
  if (out) *out = parse_kv(kvs.front());
  return true;
}

// Keys are bytes: messages show them with the unprintable ones escaped.
std::string printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// etcd's prefix rule: the prefix with its last byte below 0xff incremented (0xff bytes at the
// end dropped); "\0" (everything from the key on) when there is no such byte.
std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

// The range request of every key below prefix (the empty prefix: from "\0", since etcd refuses
// an empty key).
json prefix_range(std::string_view prefix) {
  return {{"key", b64(prefix.empty() ? std::string_view("\0", 1) : prefix)},
          {"range_end", b64(prefix_end(prefix))}};
}

// gRPC status codes, as the gateway reports them ("code" or "grpc_code").
Status from_grpc(int code, const std::string& what) {
  switch (code) {
    case 3:   // InvalidArgument
    case 7:   // PermissionDenied
    case 12:  // Unimplemented
    case 16:  // Unauthenticated
      return Status::Invalid(what);
    case 5:   // NotFound: a lease
    case 11:  // OutOfRange: a compacted (or future) revision
      return Status::NotFound(what);
    default:  // Unavailable (no leader, request timed out), DeadlineExceeded, Unknown, ...
      return Status::Unavailable(what);
  }
}

// An error the gateway wrapped as JSON: {"error":"..","message":"..","code":N} for unary calls,
// {"error":{"grpc_code":N,"message":".."}} inside streams (watch, keepalive).
std::optional<Status> error_of(const json& j, const std::string& where) {
  auto it = j.find("error");
  if (it == j.end()) return std::nullopt;
  int code = 2;  // Unknown
  std::string message;
  if (it->is_string() && it->get_ref<const std::string&>().empty() && !j.contains("code"))
    return std::nullopt;  // an empty error field (LeaseGrantResponse has one) is no error
  if (it->is_object()) {
    const json& code_field = field(*it, "grpc_code");
    if (code_field.is_number_integer()) code = code_field.get<int>();
    const json& m = field(*it, "message");
    if (m.is_string()) message = m.get<std::string>();
  } else {
    const json& code_field = field(j, "code");
    if (code_field.is_number_integer()) code = code_field.get<int>();
    const json& m = field(j, "message");
    if (m.is_string()) message = m.get<std::string>();
    if (message.empty() && it->is_string()) message = it->get<std::string>();
  }
  return from_grpc(code, "etcd " + where + ": " + message + " (code " + std::to_string(code) + ")");
}

// Runs one public method's body: JSON and answer errors become kUnavailable.
template <typename Fn>
Status guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const json::exception& e) {
    return Status::Unavailable(std::string("unreadable answer from etcd: ") + e.what());
  } catch (const BadAnswer& e) {
    return Status::Unavailable(std::string("unreadable answer from etcd: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status::Unavailable("out of memory talking to etcd");
  }
}

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// CURLOPT_PREREQFUNCTION: a connection stands (new or reused) and the request goes out now.
int on_prereq(void* user, char*, char*, int, int) {
  *static_cast<bool*>(user) = true;
  return CURL_PREREQFUNC_OK;
}

// Options every handle of this client has, whatever it is used for.
void common_options(CURL* curl, const EtcdOptions& o, curl_slist* headers, bool* sent) {
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // etcd is never reached through http_proxy
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 10L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 5L);
  curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(curl, CURLOPT_PREREQDATA, sent);
}

// The request never reached a member (refused, no route, connect timeout): the next may take it.
bool unreached(CURLcode rc, bool sent) {
  return !sent || rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST;
}

std::string curl_error(CURLcode rc, const char* detail) {
  return detail && *detail ? std::string(detail) : std::string(curl_easy_strerror(rc));
}

// One watch stream: its curl handles and the parsing of its messages.
class WatchStream {
 public:
  using OnEvents = std::function<bool(const std::vector<WatchEvent>&, int64_t)>;

  WatchStream(const OnEvents& on_events, const std::atomic<bool>& stop, std::string where)
      : on_events_(on_events), stop_(stop), where_(std::move(where)) {}

  // kOk when stopped; *unreachable when the member could not be reached at all.
  Status run(const EtcdOptions& options, curl_slist* headers, const std::string& url,
             const std::string& body, bool* unreachable) {
    CURL* curl = curl_easy_init();
    CURLM* multi = curl_multi_init();
    if (!curl || !multi) {
      if (curl) curl_easy_cleanup(curl);
      if (multi) curl_multi_cleanup(multi);
      return Status::Unavailable("cannot create a curl handle for the watch");
    }
    char error[CURL_ERROR_SIZE] = "";
    common_options(curl, options, headers, &sent_);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WatchStream::write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
    curl_multi_add_handle(multi, curl);

    for (;;) {
      if (stop_.load()) finish(Status{});
      if (done_) break;
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi, &running);
      if (done_) break;
      if (mc != CURLM_OK) {
        finish(Status::Unavailable("etcd " + where_ + ": " + curl_multi_strerror(mc)));
        break;
      }
      if (running == 0) {
        int queued = 0;
        CURLMsg* msg = curl_multi_info_read(multi, &queued);
        CURLcode rc = msg && msg->msg == CURLMSG_DONE ? msg->data.result : CURLE_OK;
        long http = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
        if (rc != CURLE_OK && unreached(rc, sent_)) {
          *unreachable = true;
          finish(Status::Unavailable(where_ + ": " + curl_error(rc, error)));
        } else if (http >= 400 && http < 500) {
          finish(Status::Invalid("etcd " + where_ + ": watch refused with HTTP " +
                                 std::to_string(http)));
        } else {
          finish(Status::Unavailable(
              "etcd " + where_ + ": watch stream broke: " +
              (rc == CURLE_OK ? std::string("closed by the member") : curl_error(rc, error))));
        }
        break;
      }
      mc = curl_multi_poll(multi, nullptr, 0, kWatchPollMs, nullptr);
      if (mc != CURLM_OK) {
        finish(Status::Unavailable("etcd " + where_ + ": " + curl_multi_strerror(mc)));
        break;
      }
    }
    curl_multi_remove_handle(multi, curl);
    curl_easy_cleanup(curl);
    curl_multi_cleanup(multi);
    if (thrown_) std::rethrow_exception(thrown_);
    return result_;
  }

 private:
  static size_t write(char* data, size_t size, size_t n, void* user) {
    auto* self = static_cast<WatchStream*>(user);
    return self->take(data, size * n) ? size * n : 0;  // 0 ends the transfer
  }

  // Appends a piece of the stream and handles each complete JSON object in it (the gateway
  // writes one object per message, newline separated; a piece may end inside one).
  bool take(const char* data, size_t n) {
    if (done_) return false;
    if (stop_.load()) {
      finish(Status{});
      return false;
    }
    buffer_.append(data, n);
    size_t consumed = 0;
    size_t i = scanned_;
    for (; i < buffer_.size() && !done_; ++i) {
      const char c = buffer_[i];
      if (in_string_) {
        if (escaped_) {
          escaped_ = false;
        } else if (c == '\\') {
          escaped_ = true;
        } else if (c == '"') {
          in_string_ = false;
        }
      } else if (c == '"') {
        in_string_ = depth_ > 0;
      } else if (c == '{') {
        if (depth_++ == 0) start_ = i;
      } else if (c == '}' && depth_ > 0 && --depth_ == 0) {
        message(std::string_view(buffer_).substr(start_, i + 1 - start_));
        consumed = i + 1;
      }
    }
    if (done_) return false;
    buffer_.erase(0, consumed);
    scanned_ = i - consumed;
    if (depth_ > 0) start_ -= consumed;
    if (buffer_.size() > kWatchMessageMax) {
      finish(Status::Unavailable("etcd " + where_ + ": watch message too large"));
      return false;
    }
    return true;
  }

  void message(std::string_view text) {
    std::vector<WatchEvent> batch;
    try {
      json j = json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        finish(Status::Unavailable("etcd " + where_ + ": unreadable watch message"));
        return;
      }
      if (auto error = error_of(j, where_)) {
        finish(std::move(*error));
        return;
      }
      const json& r = j.contains("result") ? j["result"] : j;
      if (bool_field(r, "canceled")) {
        const int64_t compacted = int_field(r, "compact_revision");
        if (compacted > 0) {
          finish(Status::NotFound("etcd " + where_ + ": watch revision compacted away (oldest " +
                                  "kept: " + std::to_string(compacted) + ")"));
        } else {
          const json& reason = field(r, "cancel_reason");
          finish(Status::Unavailable("etcd " + where_ + ": watch canceled" +
                                     (reason.is_string() ? ": " + reason.get<std::string>() : "")));
        }
        return;
      }
      const json& events = field(r, "events");
      if (!events.is_array()) return;  // created, progress
      for (const json& e : events) {
        WatchEvent ev;
        const json& type = field(e, "type");
        ev.type = type.is_string() && type.get_ref<const std::string&>() == "DELETE"
                      ? WatchEvent::kDelete
                      : WatchEvent::kPut;
        ev.kv = parse_kv(field(e, "kv"));
        batch.push_back(std::move(ev));
      }
    } catch (const json::exception& e) {
      finish(Status::Unavailable("etcd " + where_ + ": unreadable watch message: " + e.what()));
      return;
    } catch (const BadAnswer& e) {
      finish(Status::Unavailable("etcd " + where_ + ": unreadable watch message: " + e.what()));
      return;
    }
    if (batch.empty()) return;
    // The batch's revision is its last event's: while a watcher catches up etcd sends at most
    // 1000 revisions per message, but with the header revision of the whole store, which is
    // then no place to continue from.
    try {
      if (!on_events_(batch, batch.back().kv.mod_revision)) finish(Status{});
    } catch (...) {  // the caller's own exception: the watch ends and run() rethrows it
      thrown_ = std::current_exception();
      finish(Status{});
    }
  }

  void finish(Status status) {
    if (done_) return;
    done_ = true;
    result_ = std::move(status);
  }

  const OnEvents& on_events_;
  const std::atomic<bool>& stop_;
  const std::string where_;
  bool sent_ = false;
  std::string buffer_;
  size_t scanned_ = 0;  // buffer_ before this is scanned (the open object's text only)
  size_t start_ = 0;    // where the open object starts
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  bool done_ = false;
  Status result_;
  std::exception_ptr thrown_;
};

}  // namespace

struct EtcdClient::Impl {
  // A pooled handle with what its callbacks write to.
  struct Conn {
    CURL* curl = nullptr;
    std::string body;
    bool sent = false;
    char error[CURL_ERROR_SIZE] = "";
    ~Conn() {
      if (curl) curl_easy_cleanup(curl);
    }
  };

  Impl(EtcdOptions o, std::atomic<uint64_t>* requests) : options(std::move(o)), requests(requests) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    for (auto& e : options.endpoints) {
      while (!e.empty() && e.back() == '/') e.pop_back();
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  }

  ~Impl() {
    idle.clear();
    curl_slist_free_all(headers);
  }

  std::unique_ptr<Conn> take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    auto c = std::make_unique<Conn>();
    c->curl = curl_easy_init();
    if (!c->curl) return nullptr;
    common_options(c->curl, options, headers, &c->sent);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->error);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout_ms));
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->body);
    return c;
  }

  void give(std::unique_ptr<Conn> c) {
    std::lock_guard lock(mu);
    if (idle.size() < kIdleHandles) idle.push_back(std::move(c));
  }

  // POSTs request to path on the member that answered last, failing over to the next while a
  // member cannot be reached. *answer is the answer's JSON object when kOk.
  Status call(const char* path, const json& request, json* answer) {
    if (options.endpoints.empty()) return Status::Invalid("no etcd endpoints configured");
    const std::string body = request.dump();
    auto conn = take();
    if (!conn) return Status::Unavailable("cannot create a curl handle");
    const size_t n = options.endpoints.size();
    const size_t first = current.load(std::memory_order_relaxed);
    std::string unreachable;
    Status result;
    bool answered = false;
    for (size_t k = 0; k < n && !answered; ++k) {
      const size_t i = (first + k) % n;
      const std::string& endpoint = options.endpoints[i];
      const std::string url = endpoint + path;
      conn->body.clear();
      conn->sent = false;
      conn->error[0] = '\0';
      curl_easy_setopt(conn->curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(conn->curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(conn->curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      requests->fetch_add(1, std::memory_order_relaxed);
      const CURLcode rc = curl_easy_perform(conn->curl);
      if (rc != CURLE_OK && unreached(rc, conn->sent)) {
        unreachable +=
            (unreachable.empty() ? "" : "; ") + endpoint + ": " + curl_error(rc, conn->error);
        continue;
      }
      answered = true;
      if (rc != CURLE_OK) {
        result = Status::Unavailable("etcd " + endpoint + ": " + curl_error(rc, conn->error));
        break;
      }
      current.store(i, std::memory_order_relaxed);
      long http = 0;
      curl_easy_getinfo(conn->curl, CURLINFO_RESPONSE_CODE, &http);
      result = interpret(http, conn->body, endpoint, answer);
    }
    give(std::move(conn));
    if (!answered) return Status::Unavailable("no etcd member reachable: " + unreachable);
    return result;
  }

  static Status interpret(long http, const std::string& text, const std::string& endpoint,
                          json* answer) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      std::string what = "etcd " + endpoint + ": HTTP " + std::to_string(http) + " " +
                         printable(std::string_view(text).substr(0, 200));
      return http >= 400 && http < 500 ? Status::Invalid(what) : Status::Unavailable(what);
    }
    if (auto error = error_of(j, endpoint)) return std::move(*error);
    if (http != 200) {
      std::string what = "etcd " + endpoint + ": HTTP " + std::to_string(http);
      return http >= 400 && http < 500 ? Status::Invalid(what) : Status::Unavailable(what);
    }
    *answer = std::move(j);
    return Status{};
  }

  // A txn of one compare (on key, target "CREATE" or "MOD", == revision); success and failure
  // are the request lists. *succeeded tells which ran; *responses the answers of that list.
  Status txn(std::string_view key, const char* target, int64_t revision, json success, json failure,
             bool* succeeded, json* responses) {
    const std::string field_name =
        std::string(target) == "CREATE" ? "create_revision" : "mod_revision";
    json compare = {{"key", b64(key)},
                    {"target", target},
                    {"result", "EQUAL"},
                    {field_name, std::to_string(revision)}};
    json request = {{"compare", json::array({compare})},
                    {"success", std::move(success)},
                    {"failure", std::move(failure)}};
    json answer;
    auto st = call("/v3/kv/txn", request, &answer);
    if (!st.ok()) return st;
    *succeeded = bool_field(answer, "succeeded");  // absent when false
    const json& r = field(answer, "responses");
    *responses = r.is_array() ? r : json::array();
    return st;
  }

  EtcdOptions options;
  std::atomic<uint64_t>* requests;
  std::atomic<size_t> current{0};  // the endpoint that answered last
  curl_slist* headers = nullptr;
  std::mutex mu;
  std::vector<std::unique_ptr<Conn>> idle;
};

EtcdClient::EtcdClient(EtcdOptions options) {
  impl_ = std::make_unique<Impl>(std::move(options), &requests_);
}

EtcdClient::~EtcdClient() = default;

Status EtcdClient::get(std::string_view key, KeyValue* out, int64_t* revision) {
  return guarded([&] {
    json answer;
    auto st = impl_->call("/v3/kv/range", {{"key", b64(key)}}, &answer);
    if (!st.ok()) return st;
    if (revision) *revision = header_revision(answer);
    KeyValue kv;
    if (!first_kv(answer, &kv)) return Status::NotFound("etcd: no key " + printable(key));
    if (out) *out = std::move(kv);
    return st;
  });
}

Status EtcdClient::list(std::string_view prefix, std::vector<KeyValue>* out, int64_t* revision) {
  return guarded([&] {
    const int page = impl_->options.list_page > 0 ? impl_->options.list_page : 1000;
    Status st;
    for (int attempt = 0; attempt < kListAttempts; ++attempt) {
      out->clear();
      json request = prefix_range(prefix);
      request["limit"] = std::to_string(page);
      int64_t read_revision = 0;
      for (;;) {
        json answer;
        st = impl_->call("/v3/kv/range", request, &answer);
        if (!st.ok()) break;
        if (read_revision == 0) {
          read_revision = header_revision(answer);
          request["revision"] = std::to_string(read_revision);  // later pages: the same view
        }
        const json& kvs = field(answer, "kvs");
        if (kvs.is_array()) {
          for (const json& kv : kvs) out->push_back(parse_kv(kv));
        }
        if (!bool_field(answer, "more") || !kvs.is_array() || kvs.empty()) break;
        request["key"] = b64(out->back().key + std::string(1, '\0'));
      }
      // kNotFound on a later page: compaction passed the pinned revision; read again.
      if (st.ok()) {
        if (revision) *revision = read_revision;
        return st;
      }
      if (!st.not_found() || read_revision == 0) break;
    }
    out->clear();
    if (st.not_found()) return Status::Unavailable(st.message);
    return st;
  });
}

Status EtcdClient::put(std::string_view key, std::string_view value, int64_t lease) {
  return guarded([&] {
    json request = {{"key", b64(key)}, {"value", b64(value)}};
    if (lease != 0) request["lease"] = std::to_string(lease);
    json answer;
    return impl_->call("/v3/kv/put", request, &answer);
  });
}

Status EtcdClient::create(std::string_view key, std::string_view value, int64_t lease,
                          KeyValue* existing) {
  return compare_and_put(key, value, 0, lease, existing);
}

Status EtcdClient::compare_and_put(std::string_view key, std::string_view value,
                                   int64_t expected_mod_revision, int64_t lease,
                                   KeyValue* current) {
  return guarded([&] {
    json put = {{"key", b64(key)}, {"value", b64(value)}};
    if (lease != 0) put["lease"] = std::to_string(lease);
    // An absent key has create and mod revision 0; CREATE == 0 says "absent" most plainly.
    const bool absent = expected_mod_revision == 0;
    bool succeeded = false;
    json responses;
    auto st =
        impl_->txn(key, absent ? "CREATE" : "MOD", expected_mod_revision,
                   json::array({{{"request_put", put}}}),
                   json::array({{{"request_range", {{"key", b64(key)}}}}}), &succeeded, &responses);
    if (!st.ok() || succeeded) return st;
    KeyValue kv;
    const bool found =
        !responses.empty() && first_kv(field(responses.front(), "response_range"), &kv);
    if (current) *current = found ? std::move(kv) : KeyValue{};
    if (absent) return Status::Conflict("etcd: key " + printable(key) + " exists");
    return Status::Conflict("etcd: key " + printable(key) +
                            (found ? " changed (mod revision " + std::to_string(kv.mod_revision) +
                                         ", expected " + std::to_string(expected_mod_revision) + ")"
                                   : " is absent"));
  });
}

Status EtcdClient::compare_and_delete(std::string_view key, int64_t expected_mod_revision) {
  return guarded([&] {
    bool succeeded = false;
    json responses;
    auto st =
        impl_->txn(key, "MOD", expected_mod_revision,
                   json::array({{{"request_delete_range", {{"key", b64(key)}}}}}),
                   json::array({{{"request_range", {{"key", b64(key)}}}}}), &succeeded, &responses);
    if (!st.ok()) return st;
    const json& first = responses.empty() ? json() : responses.front();
    if (succeeded) {
      // Expected 0 and the key is absent: the compare held but nothing was deleted.
      if (int_field(field(first, "response_delete_range"), "deleted") == 0)
        return Status::NotFound("etcd: no key " + printable(key));
      return st;
    }
    KeyValue kv;
    if (!first_kv(field(first, "response_range"), &kv))
      return Status::NotFound("etcd: no key " + printable(key));
    return Status::Conflict("etcd: key " + printable(key) + " changed (mod revision " +
                            std::to_string(kv.mod_revision) + ", expected " +
                            std::to_string(expected_mod_revision) + ")");
  });
}

Status EtcdClient::remove(std::string_view key) {
  return guarded([&] {
    json answer;
    return impl_->call("/v3/kv/deleterange", {{"key", b64(key)}}, &answer);
  });
}

Status EtcdClient::grant_lease(int ttl_seconds, int64_t* lease_id) {
  return guarded([&] {
    json answer;
    auto st = impl_->call("/v3/lease/grant", {{"TTL", std::to_string(ttl_seconds)}}, &answer);
    if (!st.ok()) return st;
    const int64_t id = int_field(answer, "ID");
    if (id == 0) return Status::Unavailable("etcd: lease grant answered without an ID");
    if (lease_id) *lease_id = id;
    return st;
  });
}

Status EtcdClient::keep_alive(int64_t lease_id, int64_t* ttl_left) {
  return guarded([&] {
    json answer;
    auto st = impl_->call("/v3/lease/keepalive", {{"ID", std::to_string(lease_id)}}, &answer);
    if (!st.ok()) return st;
    // A stream message: {"result":{...}}. An expired or unknown lease is no error there, only a
    // TTL of 0 (left out).
    const int64_t ttl = int_field(field(answer, "result"), "TTL");
    if (ttl <= 0) return Status::NotFound("etcd: lease " + std::to_string(lease_id) + " expired");
    if (ttl_left) *ttl_left = ttl;
    return st;
  });
}

Status EtcdClient::revoke_lease(int64_t lease_id) {
  return guarded([&] {
    json answer;
    return impl_->call("/v3/lease/revoke", {{"ID", std::to_string(lease_id)}}, &answer);
  });
}

Status EtcdClient::watch(
    std::string_view prefix, int64_t from_revision,
    const std::function<bool(const std::vector<WatchEvent>&, int64_t)>& on_events,
    const std::atomic<bool>& stop) {
  // Not guarded(): the stream catches what it parses itself, and an exception of on_events
  // is the caller's, handed back unchanged.
  auto& o = impl_->options;
  if (o.endpoints.empty()) return Status::Invalid("no etcd endpoints configured");
  json create = prefix_range(prefix);
  if (from_revision > 0) create["start_revision"] = std::to_string(from_revision);
  const std::string body = json{{"create_request", create}}.dump();
  const size_t n = o.endpoints.size();
  const size_t first = impl_->current.load(std::memory_order_relaxed);
  std::string unreachable;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (first + k) % n;
    if (stop.load()) return Status{};
    requests_.fetch_add(1, std::memory_order_relaxed);
    WatchStream stream(on_events, stop, o.endpoints[i]);
    bool missed = false;
    auto st = stream.run(o, impl_->headers, o.endpoints[i] + "/v3/watch", body, &missed);
    if (!missed) {
      impl_->current.store(i, std::memory_order_relaxed);
      return st;
    }
    unreachable += (unreachable.empty() ? "" : "; ") + st.message;
  }
  return Status::Unavailable("no etcd member reachable: " + unreachable);
}

}  // namespace c8y::cluster
