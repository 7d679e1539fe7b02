#include "plugin/rest/http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_set>

namespace c8y::rest {
namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One TCP connection (libmicrohttpd's socket context), from NOTIFY_CONNECTION STARTED to CLOSED.
// libmicrohttpd reports CLOSED before it closes the socket, so while a Connection is in the
// registry its fd is still this connection's and the watchdog may shut it down.
struct Connection {
  int fd = -1;
  // The request now arriving must be whole by then; kNoDeadline while it is being answered.
  std::atomic<int64_t> deadline_ms{kNoDeadline};
  bool shut = false;  // the watchdog shut it down (guarded by Impl::mu)
};

// One request (libmicrohttpd's con_cls), from the URI log callback to NOTIFY_COMPLETED.
struct Exchange {
  std::string target;  // the raw request target ("/path?query")
  bool head_seen = false;
  bool target_ok = true;
  bool too_large = false;
  uint64_t received = 0;  // body bytes, kept or not
  Request req;
};

Connection* connection_of(MHD_Connection* c) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? static_cast<Connection*>(info->socket_context) : nullptr;
}

std::string peer_address(MHD_Connection* c) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!info || !info->client_addr) return {};
  const sockaddr* sa = info->client_addr;
  socklen_t len = sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  char host[NI_MAXHOST];
  if (getnameinfo(sa, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return {};
  return host;
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
  try {
    static_cast<Headers*>(cls)->emplace(key ? key : "", value ? value : "");
    return MHD_YES;
  } catch (...) {
    return MHD_NO;
  }
}

uint64_t content_length(const Request& req) {
  std::string v = req.get_header_value("Content-Length");
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return ec == std::errc() && p == v.data() + v.size() ? n : 0;
}

}  // namespace

struct HttpServer::Impl {
  Impl(const Router& r, Admit a, Log l, HttpLimits lim)
      : router(r), admit(std::move(a)), log(std::move(l)), limits(lim) {}

  const Router& router;
  const Admit admit;
  const Log log;
  const HttpLimits limits;
  MHD_Daemon* daemon = nullptr;
  std::string cert_pem, key_pem;  // libmicrohttpd keeps pointers to them

  std::mutex mu;
  std::unordered_set<Connection*> connections;  // guarded by mu
  std::condition_variable wake;
  bool stopping = false;  // guarded by mu
  std::thread watchdog;
  bool starting = false;  // guarded by mu
  std::string start_log;  // library messages while starting (for the error text)

  int64_t next_deadline() const {
    return now_ms() + static_cast<int64_t>(limits.request_timeout_s) * 1000;
  }

  // ---- libmicrohttpd callbacks (C; nothing may throw out of them) -------------------------

  static void on_log(void* cls, const char* fmt, va_list ap) {
    auto* self = static_cast<Impl*>(cls);
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    try {
      std::string line(buf);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      {
        std::lock_guard lock(self->mu);
        if (self->starting) {
          self->start_log += (self->start_log.empty() ? "" : "; ") + line;
          return;
        }
      }
      if (self->log) self->log("c8y: REST server: " + line);
    } catch (...) {
    }
  }

  static void on_connection(void* cls, MHD_Connection* c, void** socket_context,
                            MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* conn = new (std::nothrow) Connection;
      if (!conn) return;  // unwatched: only the idle timeout applies to it
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      conn->fd = info ? info->connect_fd : -1;
      conn->deadline_ms = self->next_deadline();
      try {
        std::lock_guard lock(self->mu);
        self->connections.insert(conn);
      } catch (...) {
        delete conn;
        return;
      }
      *socket_context = conn;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      auto* conn = static_cast<Connection*>(*socket_context);
      if (!conn) return;
      try {
        std::lock_guard lock(self->mu);
        self->connections.erase(conn);
      } catch (...) {
        return;  // still registered: leaked rather than freed under the watchdog
      }
      delete conn;
      *socket_context = nullptr;
    }
  }

  // Called once the request line is in: the raw target is kept (cpp-httplib's decoding is
  // applied to it, not libmicrohttpd's) and the returned Exchange becomes the request's con_cls.
  static void* on_uri(void*, const char* uri, MHD_Connection*) {
    try {
      auto* ex = new Exchange;
      ex->target = uri ? uri : "";
      return ex;
    } catch (...) {
      return nullptr;  // the access handler closes the connection
    }
  }

  static void on_completed(void* cls, MHD_Connection* c, void** con_cls,
                           MHD_RequestTerminationCode) {
    auto* self = static_cast<Impl*>(cls);
    delete static_cast<Exchange*>(*con_cls);
    *con_cls = nullptr;
    // The next request on this connection starts its clock now (idle time counts against it).
    if (Connection* conn = connection_of(c)) conn->deadline_ms = self->next_deadline();
  }

  static MHD_Result on_access(void* cls, MHD_Connection* c, const char*, const char* method,
                              const char*, const char* upload_data, size_t* upload_data_size,
                              void** con_cls) {
    auto* self = static_cast<Impl*>(cls);
    auto* ex = static_cast<Exchange*>(*con_cls);
    if (!ex) return MHD_NO;
    try {
      return self->access(c, method, upload_data, upload_data_size, *ex);
    } catch (...) {
      return MHD_NO;  // closes the connection
    }
  }

  // ---- request handling ---------------------------------------------------------------------

  MHD_Result access(MHD_Connection* c, const char* method, const char* data, size_t* size,
                    Exchange& ex) {
    Request& req = ex.req;
    if (!ex.head_seen) {
      ex.head_seen = true;
      req.method = method ? method : "";
      req.remote_addr = peer_address(c);
      MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &req.headers);
      ex.target_ok = parse_target(ex.target, &req.path, &req.params);
      req.target = ex.target;
      const uint64_t length = content_length(req);
      if (length == 0 && !req.has_header("Transfer-Encoding"))
        return MHD_YES;  // no body: answered on the next call, keep-alive intact
      // Judged on the head alone: whatever is answered here is answered without reading the body.
      Response res;
      if (!ex.target_ok) {
        res.status = 400;
        router.finish(req, res);
      } else if (!router.has_route(req)) {
        router.dispatch(req, res);  // 404 (or 400 for a method without routes)
      } else if (admit && !admit(req, res)) {
        router.finish(req, res);  // 401/403: whatever the size, nothing is read unauthenticated
      } else if (length > limits.max_body) {
        res.status = 413;
        router.finish(req, res);
      } else {
        return MHD_YES;  // admitted: the body comes in the next calls
      }
      return send(c, res);
    }
    if (*size != 0) {
      ex.received += *size;
      if (!ex.too_large && req.body.size() + *size > limits.max_body) {
        ex.too_large = true;
        std::string().swap(req.body);  // give the memory back at once
      }
      if (!ex.too_large) req.body.append(data, *size);
      *size = 0;
      if (ex.too_large && ex.received > limits.max_discard) return MHD_NO;  // close, no answer
      return MHD_YES;
    }
    // The whole request is in: the deadline no longer applies (the route may take its time).
    if (Connection* conn = connection_of(c)) conn->deadline_ms = kNoDeadline;
    Response res;
    if (!ex.target_ok) {
      res.status = 400;
      router.finish(req, res);
    } else if (ex.too_large) {
      res.status = 413;
      router.finish(req, res);
    } else {
      router.dispatch(req, res);
    }
    return send(c, res);
  }

  MHD_Result send(MHD_Connection* c, Response& res) {
    if (Connection* conn = connection_of(c)) conn->deadline_ms = kNoDeadline;  // answering
    if (!res.has_header("Content-Type") && !res.body.empty())
      res.set_header("Content-Type", "text/plain");
    MHD_Response* r = MHD_create_response_from_buffer(
        res.body.size(), const_cast<char*>(res.body.data()), MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    for (const auto& [key, value] : res.headers)
      MHD_add_response_header(r, key.c_str(), value.c_str());
    MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(res.status), r);
    MHD_destroy_response(r);
    return ok;
  }

  // ---- the deadline of whole requests -------------------------------------------------------

  void watch() {
    std::unique_lock lock(mu);
    while (!stopping) {
      wake.wait_for(lock, std::chrono::milliseconds(250));
      if (stopping) break;
      const int64_t now = now_ms();
      size_t closed = 0;
      for (Connection* conn : connections) {
        if (conn->shut || conn->deadline_ms.load() > now || conn->fd < 0) continue;
        // libmicrohttpd sees the end of the stream and closes the connection on its thread.
        ::shutdown(conn->fd, SHUT_RDWR);
        conn->shut = true;
        ++closed;
      }
      if (closed && log) {
        lock.unlock();
        try {
          log("c8y: REST closed " + std::to_string(closed) +
              " connection(s) whose request was not complete within " +
              std::to_string(limits.request_timeout_s) + " s");
        } catch (...) {
        }
        lock.lock();
      }
    }
  }
};

HttpServer::HttpServer(const Router& router, Admit admit, Log log, HttpLimits limits)
    : impl_(std::make_unique<Impl>(router, std::move(admit), std::move(log), limits)) {}

HttpServer::~HttpServer() {
  stop();
}

bool HttpServer::start(const std::string& bind, unsigned port, const std::string& cert_pem,
                       const std::string& key_pem, std::string* error) {
  Impl& d = *impl_;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const std::string where = bind + ":" + service;
  if (int rc = getaddrinfo(bind.empty() ? nullptr : bind.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    *error = "plugin_opt_rest_port: cannot listen on " + where + " (" + gai_strerror(rc) + ")";
    return false;
  }
  int fd = -1;
  std::string why;
  for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      why = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    *error =
        "plugin_opt_rest_port: cannot listen on " + where + (why.empty() ? "" : " (" + why + ")");
    return false;
  }

  const bool tls = !cert_pem.empty();
  d.cert_pem = cert_pem;
  d.key_pem = key_pem;
  MHD_OptionItem tls_options[] = {
      {MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(d.key_pem.c_str())},
      {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(d.cert_pem.c_str())},
      {MHD_OPTION_END, 0, nullptr},
  };
  MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, nullptr}};
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0);
  {
    std::lock_guard lock(d.mu);
    d.starting = true;
    d.start_log.clear();
  }
  // The socket is libmicrohttpd's from here on: it closes it at stop, and on most failures.
  d.daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Impl::on_access, &d,  //
      MHD_OPTION_EXTERNAL_LOGGER, &Impl::on_log, &d,     //
      MHD_OPTION_LISTEN_SOCKET, fd,                      //
      MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(d.limits.threads),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(d.limits.max_connections),
      MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      static_cast<unsigned>(d.limits.max_connections_per_address), MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned>(d.limits.idle_timeout_s), MHD_OPTION_NOTIFY_CONNECTION,
      &Impl::on_connection, &d,                              //
      MHD_OPTION_URI_LOG_CALLBACK, &Impl::on_uri, &d,        //
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, &d,  //
      MHD_OPTION_ARRAY, tls ? tls_options : no_options,      //
      MHD_OPTION_END);
  std::string start_log;
  {
    std::lock_guard lock(d.mu);
    d.starting = false;
    start_log.swap(d.start_log);
  }
  if (!d.daemon) {
    *error = (tls ? "the HTTPS server did not start" : "the HTTP server did not start") +
             (start_log.empty() ? std::string() : ": " + start_log);
    return false;
  }
  {
    std::lock_guard lock(d.mu);
    d.stopping = false;
  }
  d.watchdog = std::thread([&d] {
    try {
      d.watch();
    } catch (...) {
      // Only a failing mutex could get here; the idle timeout still bounds every connection.
    }
  });
  return true;
}

void HttpServer::stop() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    d.stopping = true;
  }
  d.wake.notify_all();
  if (d.watchdog.joinable()) d.watchdog.join();
  if (d.daemon) {
    MHD_stop_daemon(d.daemon);  // closes every connection (CLOSED callbacks empty the registry)
    d.daemon = nullptr;
  }
}

}  // namespace c8y::rest
