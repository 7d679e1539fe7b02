// A subset of Cumulocity's inventory query language (the `query` / `q` parameter of
// GET /inventory/managedObjects): parser and evaluator over managed-object JSON.
//
// Pure: no storage, no I/O; the caller scans the objects and asks matches()/sort_key().
//
// Accepted text (what @c8y/client's QueriesUtil.buildQuery sends, and the documented forms):
//   <filter>                                  a bare filter
//   $filter=<filter>                          the same
//   $orderby=<path> [asc|desc][, ...]         only an order
//   $filter=<filter> $orderby=<order>         both (either may come first)
// <filter>:
//   <path> eq|ne|gt|ge|lt|le <literal>        path: dotted (c8y_Hardware.serialNumber)
//   has(<path>)  hasany(<path>, ...)  bygroupid(<id>, ...)
//   not(<filter>)  <filter> and <filter>  <filter> or <filter>  ( <filter> )
// <literal>: 'string' ('' is a quote, a backslash takes the next character literally, an
//   unescaped * matches 0..n characters under eq/ne), a number (optionally with an OData type
//   suffix f/d/m/l, as the client writes gt 0f), true, false.
// Precedence: not, then and, then or. Keywords are lower case.
//
// Semantics (Cumulocity's documented ones where it documents them):
// - String matching is case-sensitive. A path that ends in (or crosses) an array matches when
//   any element matches. ne is not(eq): an object without the property matches ne.
// - gt/ge/lt/le compare numbers with numbers and strings with strings; two strings that are
//   both ISO-8601 times compare as times (creationTime gt '2015-10-24T09:00:53.351+01:00'),
//   other strings byte-wise. A value of another type never matches.
// - `id` is a number kept as a string: it also compares with number literals, and sorts
//   numerically.
// - has(p): p is present and not null. bygroupid(g): the object's assetParents reference g.
// - $orderby: missing/null < numbers < strings < objects < arrays < booleans (MongoDB's
//   order, which Cumulocity uses); desc reverses it. Ties keep the caller's (id) order.
//
// Anything else (other functions, operators, $-options, null literals) is refused at parse time
// with a message naming it: a query is never answered unfiltered.
//
// Bounds: at most kMaxQueryLength bytes and kMaxQueryDepth nested parentheses / not(), so a
// hostile query cannot exhaust the stack; evaluation recursion is bounded by the same depth.
// Contract: parse() never throws on any input; matches()/sort_key() never throw on any JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace c8y::domain {

inline constexpr size_t kMaxQueryLength = 8192;
inline constexpr int kMaxQueryDepth = 32;

class InventoryQuery {
 public:
  struct Order {
    std::vector<std::string> path;
    bool descending = false;
  };
  // One value of an object under one $orderby key, precomputed for sorting.
  struct SortValue {
    int rank = 0;  // 0 missing/null, 1 number, 2 string, 3 object, 4 array, 5 boolean
    double number = 0;
    std::string text;
  };
  using SortKey = std::vector<SortValue>;

  InventoryQuery();
  ~InventoryQuery();
  InventoryQuery(InventoryQuery&&) noexcept;
  InventoryQuery& operator=(InventoryQuery&&) noexcept;

  // nullopt with *error naming the problem (and what is not supported) when `text` is not in
  // the subset above. An empty text is an error too (the caller decides whether to parse).
  static std::optional<InventoryQuery> parse(std::string_view text, std::string* error);

  // Adds "and has(<fragment>)" to the filter (the `q` parameter implies has(c8y_IsDevice)).
  void require_fragment(std::string_view fragment);

  bool has_filter() const;
  bool matches(const nlohmann::json& mo) const;

  const std::vector<Order>& order() const { return order_; }
  void clear_order() { order_.clear(); }
  SortKey sort_key(const nlohmann::json& mo) const;
  // Strict weak order of two keys made by sort_key(): true when `a` comes first.
  bool before(const SortKey& a, const SortKey& b) const;

 private:
  struct Node;
  friend class QueryParser;
  std::vector<Node> nodes_;  // nodes_[root_] is the filter; children refer by index
  int root_ = -1;
  std::vector<Order> order_;
};

}  // namespace c8y::domain
