#include "plugin/smartrest/json_path.h"

#include <utility>

#include "plugin/common/values.h"

namespace c8y::smartrest {
namespace {

using nlohmann::json;
using Kind = JsonPath::Segment::Kind;

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// Bytes that end a dot key or may not appear in one (see the header).
bool is_dot_key_byte(unsigned char c) {
  switch (c) {
    case '.':
    case '[':
    case ']':
    case '(':
    case ')':
    case '@':
    case '?':
    case ',':
    case ':':
    case '*':
    case '\'':
    case '"':
      return false;
    default:
      return !is_control(c);
  }
}

bool is_dot_key(std::string_view key) {
  if (key.empty()) return false;
  for (unsigned char c : key)
    if (!is_dot_key_byte(c)) return false;
  return true;
}

class Compiler {
 public:
  explicit Compiler(std::string_view text) : in_(text) {}

  bool run(std::vector<JsonPath::Segment>& out) {
    out_ = &out;
    if (in_.empty()) return fail("empty JSONPath");
    if (in_.size() > kMaxJsonPathBytes)
      return fail("JSONPath longer than " + std::to_string(kMaxJsonPathBytes) + " bytes");
    if (!common::is_valid_utf8(in_)) return fail("JSONPath is not valid UTF-8");
    if (in_[0] == '$') {
      ++pos_;
      if (pos_ < in_.size() && in_[pos_] != '.' && in_[pos_] != '[')
        return fail("'$' must be followed by '.' or '['");
    }
    // An optional '.' after the root (or at the very beginning): "$.a", ".a".
    if (pos_ < in_.size() && in_[pos_] != '[') {
      // "a.b" and ".a.b": the first key may come without a dot.
      if (!dot_key(in_[pos_] == '.')) return false;
    }
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '.') {
        if (!dot_key(true)) return false;
      } else if (c == '[') {
        if (!bracket()) return false;
      } else {
        return fail(std::string("unexpected '") + c + "' after ']'");
      }
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  bool fail(std::string text) {
    error_ = std::move(text);
    return false;
  }

  bool push(JsonPath::Segment s) {
    if (out_->size() >= kMaxJsonPathSegments)
      return fail("JSONPath has more than " + std::to_string(kMaxJsonPathSegments) + " segments");
    out_->push_back(std::move(s));
    return true;
  }

  // At pos_: the '.' before a dot key (`dot`), or the key's first byte.
  bool dot_key(bool dot) {
    if (dot) ++pos_;
    if (pos_ < in_.size() && in_[pos_] == '.')
      return fail("recursive descent '..' is not supported");
    size_t end = pos_;
    while (end < in_.size() && in_[end] != '.' && in_[end] != '[') ++end;
    const std::string_view key = in_.substr(pos_, end - pos_);
    if (key.empty()) return fail("empty key in JSONPath");
    if (key == "*") {
      pos_ = end;
      return push({Kind::kWildcard, {}, 0});
    }
    for (unsigned char c : key) {
      if (c == '@') return fail("'@' is not supported in JSONPath");
      if (c == '?' || c == '(' || c == ')') return fail("filters are not supported in JSONPath");
      if (!is_dot_key_byte(c)) {
        if (is_control(c)) return fail("control character in JSONPath key");
        return fail(std::string("unexpected '") + static_cast<char>(c) +
                    "' in JSONPath key (use ['...'])");
      }
    }
    pos_ = end;
    return push({Kind::kKey, std::string(key), 0});
  }

  // At pos_: '['.
  bool bracket() {
    ++pos_;
    if (pos_ >= in_.size()) return fail("unterminated '[' in JSONPath");
    const char c = in_[pos_];
    if (c == '\'' || c == '"') return quoted_key(c);
    if (c == '*') {
      ++pos_;
      if (pos_ >= in_.size()) return fail("unterminated '[' in JSONPath");
      if (in_[pos_] != ']') return fail("unions are not supported in JSONPath");
      ++pos_;
      return push({Kind::kWildcard, {}, 0});
    }
    if (c == '?') return fail("filters are not supported in JSONPath");
    if (c == '@') return fail("'@' is not supported in JSONPath");
    if (c == '(') return fail("script expressions are not supported in JSONPath");
    if (c == ':') return fail("slices are not supported in JSONPath");
    if (c == '-') return fail("negative indexes are not supported in JSONPath");
    if (c == ']') return fail("empty brackets in JSONPath");
    if (c < '0' || c > '9')
      return fail("invalid bracket in JSONPath: expected n, * or a quoted key");
    size_t index = 0;
    size_t digits = 0;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      if (++digits > 9) return fail("JSONPath index too large");
      index = index * 10 + static_cast<size_t>(in_[pos_] - '0');
      ++pos_;
    }
    if (pos_ >= in_.size()) return fail("unterminated '[' in JSONPath");
    if (in_[pos_] == ':') return fail("slices are not supported in JSONPath");
    if (in_[pos_] == ',') return fail("unions are not supported in JSONPath");
    if (in_[pos_] != ']') return fail("invalid index in JSONPath");
    ++pos_;
    return push({Kind::kIndex, {}, index});
  }

  // At pos_: the opening quote `q`.
  bool quoted_key(char q) {
    ++pos_;
    std::string key;
    for (;;) {
      if (pos_ >= in_.size()) return fail("unterminated quoted key in JSONPath");
      const char c = in_[pos_];
      if (c == q) break;
      if (c == '\\') {
        if (pos_ + 1 >= in_.size()) return fail("unterminated quoted key in JSONPath");
        const char e = in_[pos_ + 1];
        if (e != '\'' && e != '"' && e != '\\')
          return fail(std::string("unsupported escape '\\") + e + "' in JSONPath key");
        key.push_back(e);
        pos_ += 2;
        continue;
      }
      key.push_back(c);
      ++pos_;
    }
    ++pos_;  // the closing quote
    if (pos_ >= in_.size()) return fail("unterminated '[' in JSONPath");
    if (in_[pos_] == ',') return fail("unions are not supported in JSONPath");
    if (in_[pos_] != ']') return fail("expected ']' after a quoted key in JSONPath");
    ++pos_;
    if (key.empty()) return fail("empty key in JSONPath");
    return push({Kind::kKey, std::move(key), 0});
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::vector<JsonPath::Segment>* out_ = nullptr;
  std::string error_;
};

// The child of `node` named by the key or index segment `s`, or nullptr.
const json* child(const json& node, const JsonPath::Segment& s) {
  if (s.kind == Kind::kKey) {
    if (!node.is_object()) return nullptr;
    const auto it = node.find(s.key);
    return it == node.end() ? nullptr : &*it;
  }
  if (!node.is_array() || s.index >= node.size()) return nullptr;
  return &node[s.index];
}

template <typename Visit>
bool walk(const json& node, const std::vector<JsonPath::Segment>& segs, size_t i, Visit& visit) {
  const json* n = &node;
  for (; i < segs.size(); ++i) {
    const auto& s = segs[i];
    if (s.kind == Kind::kWildcard) {
      if (n->is_array()) {
        for (const auto& e : *n)
          if (!walk(e, segs, i + 1, visit)) return false;
      } else if (n->is_object()) {
        for (const auto& e : n->items())
          if (!walk(e.value(), segs, i + 1, visit)) return false;
      }
      return true;
    }
    n = child(*n, s);
    if (n == nullptr) return true;
  }
  return visit(n);  // false stops the walk
}

const char* type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    default:
      return "a value";
  }
}

void set_error(std::string* error, std::string text) {
  if (error != nullptr) *error = std::move(text);
}

}  // namespace

std::optional<JsonPath> JsonPath::compile(std::string_view text, std::string* error) {
  JsonPath p;
  Compiler c(text);
  if (!c.run(p.segments_)) {
    set_error(error, c.error());
    return std::nullopt;
  }
  for (const auto& s : p.segments_)
    if (s.kind == Kind::kWildcard) p.wildcard_ = true;
  return p;
}

JsonPath JsonPath::join(const JsonPath& prefix, const JsonPath& suffix) {
  JsonPath p = prefix;
  p.segments_.insert(p.segments_.end(), suffix.segments_.begin(), suffix.segments_.end());
  p.wildcard_ = prefix.wildcard_ || suffix.wildcard_;
  return p;
}

std::vector<const json*> JsonPath::select(const json& root) const {
  std::vector<const json*> out;
  select_into(root, out);
  return out;
}

void JsonPath::select_into(const json& root, std::vector<const json*>& out) const {
  auto visit = [&out](const json* n) {
    out.push_back(n);
    return true;
  };
  walk(root, segments_, 0, visit);
}

const json* JsonPath::find(const json& root) const {
  const json* found = nullptr;
  auto visit = [&found](const json* n) {
    found = n;
    return false;
  };
  walk(root, segments_, 0, visit);
  return found;
}

bool JsonPath::set(json& root, const json& value, std::string* error) const {
  if (wildcard_) {
    set_error(error, "cannot set a value at a path with a wildcard");
    return false;
  }
  if (segments_.empty()) {
    set_error(error, "cannot set the root");
    return false;
  }
  for (const auto& s : segments_) {
    if (s.kind == Kind::kIndex && s.index > kMaxJsonPathSetIndex) {
      set_error(error, "index above " + std::to_string(kMaxJsonPathSetIndex));
      return false;
    }
  }
  // Dry run over the existing nodes first, so that a conflict leaves `root` unchanged.
  const json* n = &root;
  for (const auto& s : segments_) {
    if (n == nullptr || n->is_null()) break;  // everything below is created
    if (s.kind == Kind::kKey && !n->is_object()) {
      set_error(error, "cannot set key '" + s.key + "' in " + type_name(*n));
      return false;
    }
    if (s.kind == Kind::kIndex && !n->is_array()) {
      set_error(error, "cannot set index " + std::to_string(s.index) + " in " + type_name(*n));
      return false;
    }
    n = child(*n, s);
  }
  json* node = &root;
  for (const auto& s : segments_) {
    if (s.kind == Kind::kKey) {
      if (!node->is_object()) *node = json::object();  // null (checked above)
      node = &(*node)[s.key];
    } else {
      if (!node->is_array()) *node = json::array();
      auto& arr = node->get_ref<json::array_t&>();
      if (arr.size() <= s.index) arr.resize(s.index + 1);
      node = &arr[s.index];
    }
  }
  *node = value;
  return true;
}

std::string JsonPath::text() const {
  std::string out = "$";
  for (const auto& s : segments_) {
    switch (s.kind) {
      case Kind::kWildcard:
        out += "[*]";
        break;
      case Kind::kIndex:
        out += '[';
        out += std::to_string(s.index);
        out += ']';
        break;
      case Kind::kKey:
        if (is_dot_key(s.key)) {
          out += '.';
          out += s.key;
        } else {
          out += "['";
          for (char c : s.key) {
            if (c == '\'' || c == '\\') out += '\\';
            out += c;
          }
          out += "']";
        }
        break;
    }
  }
  return out;
}

}  // namespace c8y::smartrest
