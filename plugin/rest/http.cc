#include "plugin/rest/http.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>
#include <stdexcept>
#include <utility>

namespace c8y::rest {
namespace {

// The value of the header or parameter `key` at position `id`, "" when there is none.
template <typename Map>
std::string nth_value(const Map& map, const std::string& key, size_t id) {
  auto [it, end] = map.equal_range(key);
  for (; it != end && id > 0; ++it, --id) {
  }
  return it != end ? it->second : std::string();
}

bool has_crlf(const std::string& s) {
  return s.find_first_of("\r\n") != std::string::npos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `count` hex digits of s from `at`, or -1.
int hex_at(std::string_view s, size_t at, size_t count) {
  if (at + count > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < count; ++i) {
    int d = hex_value(s[at + i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

void append_utf8(int code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | ((code >> 6) & 0x1F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0xD800 || (code >= 0xE000 && code < 0x10000)) {
    out->push_back(static_cast<char>(0xE0 | ((code >> 12) & 0xF)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
  // Surrogates (D800-DFFF) produce nothing, as in cpp-httplib; four hex digits cannot go higher.
}

// cpp-httplib's split: pieces between `sep`, blanks (space, tab) trimmed, empty pieces skipped.
template <typename Fn>
void split(std::string_view s, char sep, Fn fn) {
  size_t begin = 0;
  while (begin <= s.size()) {
    size_t end = s.find(sep, begin);
    if (end == std::string_view::npos) end = s.size();
    size_t b = begin, e = end;
    while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
    if (b < e) fn(s.substr(b, e - b));
    begin = end + 1;
  }
}

}  // namespace

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(),
      [](unsigned char x, unsigned char y) { return std::tolower(x) < std::tolower(y); });
}

bool Request::has_header(const std::string& key) const {
  return headers.find(key) != headers.end();
}
std::string Request::get_header_value(const std::string& key, size_t id) const {
  return nth_value(headers, key, id);
}
bool Request::has_param(const std::string& key) const {
  return params.find(key) != params.end();
}
std::string Request::get_param_value(const std::string& key, size_t id) const {
  return nth_value(params, key, id);
}
size_t Request::get_param_value_count(const std::string& key) const {
  auto [b, e] = params.equal_range(key);
  return static_cast<size_t>(std::distance(b, e));
}

bool Response::has_header(const std::string& key) const {
  return headers.find(key) != headers.end();
}
std::string Response::get_header_value(const std::string& key, size_t id) const {
  return nth_value(headers, key, id);
}
void Response::set_header(const std::string& key, const std::string& value) {
  if (!has_crlf(key) && !has_crlf(value)) headers.emplace(key, value);
}
void Response::set_content(const std::string& content, const std::string& content_type) {
  body = content;
  headers.erase("Content-Type");
  set_header("Content-Type", content_type);
}

std::string decode_url(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 1 < s.size()) {
      if (s[i + 1] == 'u') {
        int v = hex_at(s, i + 2, 4);
        if (v >= 0) {
          append_utf8(v, &out);
          i += 5;
        } else {
          out.push_back(s[i]);
        }
      } else {
        int v = hex_at(s, i + 1, 2);
        if (v >= 0) {
          out.push_back(static_cast<char>(v));
          i += 2;
        } else {
          out.push_back(s[i]);
        }
      }
    } else if (plus_as_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool parse_target(std::string_view target, std::string* path, Params* params) {
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  int count = 0;
  split(target, '?', [&](std::string_view piece) {
    if (count == 0) {
      *path = decode_url(piece, false);
    } else if (count == 1) {
      std::set<std::string_view> seen;  // cpp-httplib keeps an identical "name=value" once
      split(piece, '&', [&](std::string_view kv) {
        if (!seen.insert(kv).second) return;
        std::string_view key, value;
        bool have_key = false;
        split(kv, '=', [&](std::string_view part) {
          if (!have_key) {
            key = part;
            have_key = true;
          } else {
            value = part;
          }
        });
        if (have_key) params->emplace(decode_url(key, true), decode_url(value, true));
      });
    }
    ++count;
  });
  return count <= 2;
}

Router& Router::Get(const std::string& pattern, Handler handler) {
  return add("GET", pattern, std::move(handler));
}
Router& Router::Post(const std::string& pattern, Handler handler) {
  return add("POST", pattern, std::move(handler));
}
Router& Router::Put(const std::string& pattern, Handler handler) {
  return add("PUT", pattern, std::move(handler));
}
Router& Router::Delete(const std::string& pattern, Handler handler) {
  return add("DELETE", pattern, std::move(handler));
}

Router& Router::add(const std::string& method, const std::string& pattern, Handler handler,
                    int id) {
  Routes* routes = method == "HEAD" ? nullptr : routes_for(method);
  if (!routes) throw std::invalid_argument("no routes for method " + method);
  routes->push_back(Route{std::regex(pattern), std::move(handler), id});
  return *this;
}

Router::Routes* Router::routes_for(const std::string& method) {
  return const_cast<Routes*>(std::as_const(*this).routes_for(method));
}

const Router::Routes* Router::routes_for(const std::string& method) const {
  if (method == "GET" || method == "HEAD") return &get_;
  if (method == "POST") return &post_;
  if (method == "PUT") return &put_;
  if (method == "DELETE") return &delete_;
  return nullptr;
}

const Router::Route* Router::find(const Request& req) const {
  const Routes* routes = routes_for(req.method);
  if (!routes) return nullptr;
  for (const auto& r : *routes)
    if (std::regex_match(req.path, r.pattern)) return &r;
  return nullptr;
}

void Router::dispatch(Request& req, Response& res) const {
  bool routed = false;
  try {
    if (const Routes* routes = routes_for(req.method)) {
      for (const auto& route : *routes) {
        if (std::regex_match(req.path, req.matches, route.pattern)) {
          routed = true;
          route.handler(req, res);
          break;
        }
      }
    } else if (req.method != "OPTIONS" && req.method != "PATCH") {
      res.status = 400;  // a method no route can have
    }
  } catch (...) {
    routed = true;
    if (exception_handler_) {
      try {
        exception_handler_(req, res, std::current_exception());
      } catch (...) {
        res.status = 500;
      }
    } else {
      res.status = 500;
    }
  }
  if (routed && res.status == -1) res.status = 200;
  finish(req, res);
}

void Router::finish(const Request& req, Response& res) const {
  if (res.status == -1) res.status = 404;
  if (res.status >= 400 && error_handler_) {
    try {
      error_handler_(req, res);
    } catch (...) {
      // The status stands; the answer goes without the error handler's body.
    }
  }
}

}  // namespace c8y::rest
