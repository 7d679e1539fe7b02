// The request, response and router types of the REST API (internal to plugin/rest).
//
// They offer the subset of cpp-httplib's API the route files use, with the same member names and
// the same semantics, so a route written against httplib::Request / httplib::Response compiles
// here after renaming the types. What the HTTP library does (connections, limits, TLS) lives in
// http_server.h; nothing outside plugin/rest sees either.
//
// Routing contract (as cpp-httplib 0.11 did it):
// - A pattern is a std::regex matched against the whole percent-decoded path (std::regex_match),
//   routes tried in registration order per method; captures land in Request::matches.
// - HEAD uses the GET routes; OPTIONS and PATCH have none. An unmatched path of a known method is
//   404, an unknown method 400. A route that sets no status answers 200.
// - Any exception out of a route goes to the exception handler (the response keeps what the route
//   set before it threw). Then every answer with status >= 400 goes to the error handler.
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace c8y::rest {

struct Caller;

// Header names compare case-insensitively (ASCII), as in HTTP.
struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;
// Query parameters in the order given; a repeated name keeps every value ("series=a&series=b").
using Params = std::multimap<std::string, std::string>;

struct Request {
  std::string method;
  std::string target;  // the request target as sent (path and query, not decoded)
  std::string path;    // percent-decoded, without the query ('+' stays '+')
  Headers headers;
  Params params;  // percent-decoded, '+' is a space
  std::string body;
  std::string remote_addr;  // numeric peer address
  std::smatch matches;      // the route's captures (iterators into `path`: do not copy a Request)
  // The caller identified from the request head before its body was read (RestServer::admit), so
  // that the route's own authentication does not check the same credentials twice. Null: not
  // checked yet.
  std::shared_ptr<const Caller> admitted;

  Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  bool has_header(const std::string& key) const;
  // The id-th value of the header, "" when there is none.
  std::string get_header_value(const std::string& key, size_t id = 0) const;
  bool has_param(const std::string& key) const;
  // The id-th value of the parameter, "" when there is none.
  std::string get_param_value(const std::string& key, size_t id = 0) const;
  size_t get_param_value_count(const std::string& key) const;
};

struct Response {
  int status = -1;  // -1: not set by the route (200 after routing, 404 when nothing matched)
  Headers headers;
  std::string body;

  bool has_header(const std::string& key) const;
  std::string get_header_value(const std::string& key, size_t id = 0) const;
  // Adds a header (another value when it exists); ignored when the key or value holds CR or LF.
  void set_header(const std::string& key, const std::string& value);
  // Sets the body and replaces the Content-Type.
  void set_content(const std::string& body, const std::string& content_type);
};

using Handler = std::function<void(const Request&, Response&)>;
using ExceptionHandler = std::function<void(const Request&, Response&, std::exception_ptr)>;

class Router {
 public:
  // A route: its pattern, its handler and the number its owner gave it (RestServer: the row of
  // its route table; -1 when none was given).
  struct Route {
    std::regex pattern;
    Handler handler;
    int id = -1;
  };

  Router& Get(const std::string& pattern, Handler handler);
  Router& Post(const std::string& pattern, Handler handler);
  Router& Put(const std::string& pattern, Handler handler);
  Router& Delete(const std::string& pattern, Handler handler);
  // A route of `method`: GET, POST, PUT or DELETE (another method is a programming error:
  // std::invalid_argument).
  Router& add(const std::string& method, const std::string& pattern, Handler handler, int id = -1);
  void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
  void set_error_handler(Handler handler) { error_handler_ = std::move(handler); }

  // The first route of the request's method that matches its path (HEAD: the GET routes), or
  // null.
  const Route* find(const Request& req) const;
  // True when some route of the request's method matches its path (HEAD: the GET routes).
  bool has_route(const Request& req) const { return find(req) != nullptr; }
  // Runs the matching route and completes the response (status, error handler). Never throws
  // out of a route: an exception becomes the exception handler's answer (or a bare 500).
  void dispatch(Request& req, Response& res) const;
  // Completes a response the server made without a route (413, 400, or 404 before a body):
  // status -1 becomes 404; the error handler runs for status >= 400.
  void finish(const Request& req, Response& res) const;

 private:
  using Routes = std::vector<Route>;
  Routes* routes_for(const std::string& method);
  const Routes* routes_for(const std::string& method) const;
  Routes get_, post_, put_, delete_;
  ExceptionHandler exception_handler_;
  Handler error_handler_;
};

// cpp-httplib's decoding: "%XX" and "%uXXXX" (as UTF-8) are decoded, an invalid escape is kept
// as it is; '+' becomes a space only when `plus_as_space`.
std::string decode_url(std::string_view s, bool plus_as_space);

// Splits a request target as cpp-httplib 0.11 did: drops a "#fragment", path before '?'
// (decoded, '+' kept), the query after it into `params` ('&'-separated "name=value" pairs, both
// decoded with '+' as a space, blanks around a pair trimmed, empty pairs skipped, an identical
// repeated pair kept once). False when the target has a second '?'.
bool parse_target(std::string_view target, std::string* path, Params* params);

}  // namespace c8y::rest
