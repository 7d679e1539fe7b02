// The HTTP/1.1 server under the REST API: libmicrohttpd (GnuTLS for HTTPS) behind a Router.
//
// Why libmicrohttpd: connections live in an epoll set served by a few threads, so an idle or slow
// client costs memory, not a worker; it limits connections in total and per address; and it
// hands the body over as it arrives, so the server checks the caller before reading any of it
// and bounds it however it is framed (Content-Length or chunked).
//
// Contract:
// - Routes run on the server's threads (HttpLimits::threads), one request at a time per thread;
//   they may block (storage) but never call Mosquitto. Nothing here throws into libmicrohttpd.
// - A request that carries a body (Content-Length > 0 or Transfer-Encoding) is judged on its head
//   first: 404/400 when no route takes it, then the `admit` hook (credentials) may answer, then
//   413 when its Content-Length passes max_body. Any such early answer is sent without reading
//   the body, and the connection is closed after it.
// - Body bytes are counted as they arrive. Past max_body nothing more is kept; the rest is read
//   and dropped, and the answer is 413 once the body ends (libmicrohttpd 0.9 can answer only
//   before the first body byte or after the last). A body still going after max_discard bytes
//   ends the connection without an answer.
// - Each request must arrive whole (head and body, TLS handshake included) within
//   request_timeout_s of the connection opening or of the previous answer on it; otherwise the
//   connection is closed. A connection with no traffic for idle_timeout_s is closed as well.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "plugin/rest/http.h"

namespace c8y::rest {

struct HttpLimits {
  size_t max_body = 1 << 20;        // bytes; 413 beyond
  size_t max_discard = 16u << 20;   // bytes of an oversized body read before giving up on it
  unsigned request_timeout_s = 30;  // head and body of one request
  unsigned idle_timeout_s = 10;     // no byte in either direction
  unsigned max_connections = 1024;  // in total
  unsigned max_connections_per_address = 64;
  unsigned threads = 4;  // epoll threads; each runs the routes of its connections
};

class HttpServer {
 public:
  // Called with the head of a request that carries a body, before any of the body is read:
  // false after filling `res` answers with it and the body is never read.
  using Admit = std::function<bool(Request& req, Response& res)>;
  // Diagnostics of the server (closed connections, library messages); called on its threads.
  using Log = std::function<void(const std::string& line)>;

  HttpServer(const Router& router, Admit admit, Log log, HttpLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `bind`:`port` (a numeric address or a host name) and serves; HTTPS when cert_pem and
  // key_pem (PEM text, not file names) are given. False with `error` set when the address cannot
  // be bound ("listen") or the server cannot start (with TLS: usually the certificate or key).
  bool start(const std::string& bind, unsigned port, const std::string& cert_pem,
             const std::string& key_pem, std::string* error);
  // Closes every connection and waits for running routes. Idempotent.
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace c8y::rest
