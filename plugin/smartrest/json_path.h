// A compiled subset of JSONPath for SmartREST 2.0 custom templates: request
// templates place values at paths, response templates select values by paths. Pure: no I/O, and
// no exception ever leaves this API (nlohmann::json is only accessed after its type is checked).
//
// Supported syntax (everything else is refused by compile() with a message):
//   * an optional leading `$` (the root), which must be followed by `.`, `[` or the end;
//     then an optional `.` ("$.a", "$a" is refused, ".a" and "a" mean "$.a");
//   * dot keys: `a.b.c`. A dot key is one or more bytes other than . [ ] ( ) @ ? , : * ' " and
//     control characters (0x00-0x1F, 0x7F), e.g. `c8y_Temperature.T.value`, `a b`, `$x` inside;
//   * bracket keys: `['a b']` and `["a.b"]`, any non-empty text; inside the quotes `\'`, `\"`
//     and `\\` stand for ' " \ (no other escape is accepted);
//   * index: `[n]`, n a decimal integer >= 0 (at most 9 digits);
//   * wildcard: `[*]` or `.*` (also a leading `*`), anywhere and any number of times.
// Refused: filters `[?(...)]`, recursive descent `..`, `@`, slices `[a:b]`, unions `[a,b]` and
// `['a','b']`, negative indexes, empty keys (`a..`, `a.`, `['']`), unterminated brackets or
// quotes, spaces inside brackets, invalid UTF-8, texts longer than kMaxJsonPathBytes bytes and
// paths of more than kMaxJsonPathSegments segments. "$" alone is the root (zero segments); the
// empty text is refused.
//
// Semantics:
//   * select(): a key selects that member of an object (nothing on other types); an index
//     selects that element of an array (nothing on other types or when out of range); a wildcard
//     selects every element of an array in order, and every member value of an object in key
//     order (nlohmann::json keeps keys sorted), nothing on scalars. Wildcards expand left to
//     right, depth first, so "a[*].b[*]" lists a[0].b[0], a[0].b[1], a[1].b[0], ...
//   * A member whose value is null exists: it is selected (as a null value).
//   * set(): see below.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace c8y::smartrest {

inline constexpr size_t kMaxJsonPathBytes = 512;
inline constexpr size_t kMaxJsonPathSegments = 32;
// Largest index set() creates (arrays are extended with nulls up to it).
inline constexpr size_t kMaxJsonPathSetIndex = 1000;

class JsonPath {
 public:
  struct Segment {
    enum class Kind : unsigned char { kKey, kIndex, kWildcard };
    Kind kind = Kind::kKey;
    std::string key;   // kKey only
    size_t index = 0;  // kIndex only

    bool operator==(const Segment&) const = default;
  };

  // The root path "$" (no segments).
  JsonPath() = default;

  // Compiles `text`. On failure returns nullopt and, if `error` is not null, sets it to a short
  // English message naming the problem (without echoing the whole text).
  static std::optional<JsonPath> compile(std::string_view text, std::string* error);

  // `prefix` followed by `suffix` (a response template's base + pattern). No limit is checked:
  // both parts were compiled, so the result has at most 2 * kMaxJsonPathSegments segments.
  static JsonPath join(const JsonPath& prefix, const JsonPath& suffix);

  bool has_wildcard() const { return wildcard_; }
  bool is_root() const { return segments_.empty(); }
  const std::vector<Segment>& segments() const { return segments_; }

  // Every node the path selects, in order (see above). The pointers point into `root` and are
  // valid as long as it is not modified.
  std::vector<const nlohmann::json*> select(const nlohmann::json& root) const;
  // The same, appended to `out` (which is not cleared), so that a caller can reuse its vector.
  void select_into(const nlohmann::json& root, std::vector<const nlohmann::json*>& out) const;
  // The first node select() would return, or nullptr. Allocates nothing.
  const nlohmann::json* find(const nlohmann::json& root) const;
  // True if select() would return at least one node.
  bool matches(const nlohmann::json& root) const { return find(root) != nullptr; }

  // Places `value` at the path inside `root`, creating what is missing: a key on a null (or
  // missing) node makes it an object, an index on a null node makes it an array, and an array is
  // extended with nulls up to the index (at most kMaxJsonPathSetIndex). An existing member or
  // element at the path is replaced. Refused (false, `error` set if not null, `root` unchanged):
  // a path with a wildcard, the root path, an index above kMaxJsonPathSetIndex, and type
  // conflicts: a key on an existing non-object (e.g. an array or a string) or an index on an
  // existing non-array.
  bool set(nlohmann::json& root, const nlohmann::json& value, std::string* error) const;

  // Canonical text: "$" followed by ".key" for keys that are valid dot keys, "['key']" (with
  // ' and \ escaped) for the others, "[n]" and "[*]". compile(text()) yields an equal path.
  std::string text() const;

  bool operator==(const JsonPath&) const = default;

 private:
  std::vector<Segment> segments_;
  bool wildcard_ = false;
};

}  // namespace c8y::smartrest
