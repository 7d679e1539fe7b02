#include "plugin/domain/inventory_query.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "plugin/common/values.h"

namespace c8y::domain {

using nlohmann::json;

namespace {

enum class Op { kEq, kNe, kGt, kGe, kLt, kLe };

struct Literal {
  enum Type { kString, kNumber, kBool } type = kString;
  std::string text;                   // the string, unescaped (stars kept as written)
  std::vector<std::string> segments;  // the string split at unescaped stars (wildcard)
  bool wildcard = false;
  std::optional<int64_t> time_ms;  // the string read as an ISO-8601 time
  double number = 0;
  bool boolean = false;
};

}  // namespace

struct InventoryQuery::Node {
  enum Kind { kAnd, kOr, kNot, kCompare, kHas, kHasAny, kByGroup } kind = kAnd;
  std::vector<int> kids;                        // and/or/not
  std::vector<std::vector<std::string>> paths;  // compare: [0]; has: [0]; hasany: all
  Op op = Op::kEq;
  Literal literal;
  std::vector<std::string> groups;  // bygroupid: ids as written (decimal)
};

InventoryQuery::InventoryQuery() = default;
InventoryQuery::~InventoryQuery() = default;
InventoryQuery::InventoryQuery(InventoryQuery&&) noexcept = default;
InventoryQuery& InventoryQuery::operator=(InventoryQuery&&) noexcept = default;

// ---------------------------------------------------------------------------------------------
// Tokens

namespace {

struct Token {
  enum Kind {
    kEnd,
    kLParen,
    kRParen,
    kComma,
    kWord,
    kString,
    kNumber,
    kFilter,
    kOrderBy
  } kind = kEnd;
  std::string text;  // word: the dotted path or keyword; string: unescaped; number: as written
  std::vector<std::string> segments;
  bool wildcard = false;
  double number = 0;
  size_t at = 0;  // byte offset, for messages
};

bool word_char(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  return !first && ((c >= '0' && c <= '9') || c == '-');
}

std::string printable(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string(1, c);
  static const char* kHex = "0123456789abcdef";
  return std::string("\\x") + kHex[u >> 4] + kHex[u & 15];
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  // false with *error on a character that starts no token.
  bool next(Token* t, std::string* error) {
    while (at_ < s_.size() &&
           (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\r' || s_[at_] == '\n'))
      ++at_;
    *t = Token{};
    t->at = at_;
    if (at_ == s_.size()) return true;
    const char c = s_[at_];
    if (c == '(' || c == ')' || c == ',') {
      t->kind = c == '(' ? Token::kLParen : c == ')' ? Token::kRParen : Token::kComma;
      ++at_;
      return true;
    }
    if (c == '\'') return string(t, error);
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') return number(t, error);
    if (c == '$') {
      size_t end = at_ + 1;
      while (end < s_.size() && word_char(s_[end], end == at_ + 1)) ++end;
      const std::string_view name = s_.substr(at_, end - at_);
      if (end < s_.size() && s_[end] == '=' && (name == "$filter" || name == "$orderby")) {
        t->kind = name == "$filter" ? Token::kFilter : Token::kOrderBy;
        at_ = end + 1;
        return true;
      }
      *error = "'" + std::string(name) +
               "' is not supported (supported: $filter=, $orderby=) at position " +
               std::to_string(at_);
      return false;
    }
    if (word_char(c, true)) {
      size_t end = at_;
      for (;;) {
        size_t seg = end;
        while (end < s_.size() && word_char(s_[end], end == seg)) ++end;
        if (end == seg) {
          *error = "a property path may not end with '.' (position " + std::to_string(end) + ")";
          return false;
        }
        if (end < s_.size() && s_[end] == '.') {
          ++end;
          continue;
        }
        break;
      }
      t->kind = Token::kWord;
      t->text.assign(s_.substr(at_, end - at_));
      if (std::count(t->text.begin(), t->text.end(), '.') >= kMaxQueryDepth) {
        *error = "a property path has more than " + std::to_string(kMaxQueryDepth) + " parts";
        return false;
      }
      at_ = end;
      return true;
    }
    *error = "unexpected character '" + printable(c) + "' at position " + std::to_string(at_);
    return false;
  }

 private:
  bool string(Token* t, std::string* error) {
    t->kind = Token::kString;
    std::string seg;
    size_t i = at_ + 1;
    for (;;) {
      if (i >= s_.size()) {
        *error = "unterminated string starting at position " + std::to_string(at_);
        return false;
      }
      const char c = s_[i];
      if (c == '\'') {
        if (i + 1 < s_.size() && s_[i + 1] == '\'') {  // '' is one quote
          t->text.push_back('\'');
          seg.push_back('\'');
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      if (c == '\\') {
        if (i + 1 >= s_.size()) {
          *error = "unterminated string starting at position " + std::to_string(at_);
          return false;
        }
        t->text.push_back(s_[i + 1]);
        seg.push_back(s_[i + 1]);
        i += 2;
        continue;
      }
      if (c == '*') {
        t->wildcard = true;
        t->segments.push_back(std::move(seg));
        seg.clear();
      }
      t->text.push_back(c);
      if (c != '*') seg.push_back(c);
      ++i;
    }
    t->segments.push_back(std::move(seg));
    at_ = i;
    return true;
  }

  bool number(Token* t, std::string* error) {
    size_t end = at_;
    if (s_[end] == '-' || s_[end] == '+') ++end;
    size_t digits = 0;
    while (end < s_.size() && s_[end] >= '0' && s_[end] <= '9') ++end, ++digits;
    if (end < s_.size() && s_[end] == '.') {
      ++end;
      while (end < s_.size() && s_[end] >= '0' && s_[end] <= '9') ++end, ++digits;
    }
    if (digits > 0 && end < s_.size() && (s_[end] == 'e' || s_[end] == 'E')) {
      size_t e = end + 1;
      if (e < s_.size() && (s_[e] == '-' || s_[e] == '+')) ++e;
      size_t exp_digits = 0;
      while (e < s_.size() && s_[e] >= '0' && s_[e] <= '9') ++e, ++exp_digits;
      if (exp_digits) end = e;
    }
    if (digits == 0) {
      *error =
          "unexpected character '" + printable(s_[at_]) + "' at position " + std::to_string(at_);
      return false;
    }
    std::string text(s_.substr(at_, end - at_));
    // OData type suffixes (QueriesUtil writes `gt 0f`).
    if (end < s_.size() && std::string_view("fFdDmMlL").find(s_[end]) != std::string_view::npos)
      ++end;
    if (end < s_.size() && word_char(s_[end], false)) {
      *error = "malformed number at position " + std::to_string(at_);
      return false;
    }
    if (text[0] == '+') text.erase(0, 1);
    double v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
      *error = "malformed number at position " + std::to_string(at_);
      return false;
    }
    t->kind = Token::kNumber;
    t->text = std::move(text);
    t->number = v;
    at_ = end;
    return true;
  }

  std::string_view s_;
  size_t at_ = 0;
};

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> out;
  size_t at = 0;
  for (;;) {
    size_t dot = dotted.find('.', at);
    out.push_back(dotted.substr(at, dot == std::string::npos ? std::string::npos : dot - at));
    if (dot == std::string::npos) break;
    at = dot + 1;
  }
  return out;
}

std::optional<Op> op_of(std::string_view w) {
  if (w == "eq") return Op::kEq;
  if (w == "ne") return Op::kNe;
  if (w == "gt") return Op::kGt;
  if (w == "ge") return Op::kGe;
  if (w == "lt") return Op::kLt;
  if (w == "le") return Op::kLe;
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent over the token stream; depth counts open parentheses and not().

class QueryParser {
 public:
  QueryParser(std::string_view text, InventoryQuery* q, std::string* error)
      : lex_(text), q_(q), error_(error) {}

  bool run() {
    if (!advance()) return false;
    bool filter_seen = false, order_seen = false;
    if (tok_.kind == Token::kEnd) return fail("the query is empty");
    while (tok_.kind != Token::kEnd) {
      if (tok_.kind == Token::kFilter) {
        if (filter_seen) return fail("$filter= given twice");
        filter_seen = true;
        if (!advance()) return false;
        if (tok_.kind == Token::kEnd || tok_.kind == Token::kOrderBy)
          return fail("$filter= without a filter");
        if (!or_expr(&q_->root_)) return false;
      } else if (tok_.kind == Token::kOrderBy) {
        if (order_seen) return fail("$orderby= given twice");
        order_seen = true;
        if (!advance() || !order_list()) return false;
      } else if (!filter_seen && !order_seen) {
        filter_seen = true;  // a bare filter
        if (!or_expr(&q_->root_)) return false;
      } else {
        return unexpected("'$filter=', '$orderby=' or the end of the query");
      }
    }
    return true;
  }

 private:
  bool advance() { return lex_.next(&tok_, error_); }

  bool fail(std::string message) {
    *error_ = std::move(message);
    return false;
  }

  std::string describe(const Token& t) const {
    switch (t.kind) {
      case Token::kEnd:
        return "the end of the query";
      case Token::kLParen:
        return "'('";
      case Token::kRParen:
        return "')'";
      case Token::kComma:
        return "','";
      case Token::kString:
        return "a string";
      case Token::kNumber:
        return "'" + t.text + "'";
      case Token::kFilter:
        return "'$filter='";
      case Token::kOrderBy:
        return "'$orderby='";
      case Token::kWord:
        return "'" + t.text + "'";
    }
    return "?";
  }

  bool unexpected(const std::string& wanted) {
    std::string where = tok_.kind == Token::kEnd ? "" : " at position " + std::to_string(tok_.at);
    return fail("expected " + wanted + " but found " + describe(tok_) + where);
  }

  int add(InventoryQuery::Node n) {
    q_->nodes_.push_back(std::move(n));
    return static_cast<int>(q_->nodes_.size() - 1);
  }

  bool is_word(std::string_view w) const { return tok_.kind == Token::kWord && tok_.text == w; }

  // `a or b or ...` and `a and b and ...`: one node with a kid per operand (a single operand is
  // itself); `and` binds tighter than `or`.
  bool or_expr(int* out) {
    return chain(out, "or", InventoryQuery::Node::kOr, &QueryParser::and_expr);
  }
  bool and_expr(int* out) {
    return chain(out, "and", InventoryQuery::Node::kAnd, &QueryParser::unary);
  }
  bool chain(int* out, std::string_view word, InventoryQuery::Node::Kind kind,
             bool (QueryParser::*operand)(int*)) {
    int first = -1;
    if (!(this->*operand)(&first)) return false;
    if (!is_word(word)) {
      *out = first;
      return true;
    }
    InventoryQuery::Node n;
    n.kind = kind;
    n.kids.push_back(first);
    while (is_word(word)) {
      if (!advance()) return false;
      int k = -1;
      if (!(this->*operand)(&k)) return false;
      n.kids.push_back(k);
    }
    *out = add(std::move(n));
    return true;
  }

  bool enter() {
    if (++depth_ > kMaxQueryDepth)
      return fail("the query nests deeper than " + std::to_string(kMaxQueryDepth) + " levels");
    return true;
  }

  bool unary(int* out) {
    if (is_word("not")) {
      if (!enter() || !advance()) return false;
      int k = -1;
      if (!unary(&k)) return false;
      --depth_;
      InventoryQuery::Node n;
      n.kind = InventoryQuery::Node::kNot;
      n.kids.push_back(k);
      *out = add(std::move(n));
      return true;
    }
    return primary(out);
  }

  bool primary(int* out) {
    if (tok_.kind == Token::kLParen) {
      if (!enter() || !advance() || !or_expr(out)) return false;
      if (tok_.kind != Token::kRParen) return unexpected("')'");
      --depth_;
      return advance();
    }
    if (tok_.kind != Token::kWord) return unexpected("a property path, a function or '('");
    if (is_word("and") || is_word("or"))
      return fail("'" + tok_.text + "' without a left operand at position " +
                  std::to_string(tok_.at));
    Token word = std::move(tok_);
    if (!advance()) return false;
    if (tok_.kind == Token::kLParen) return function(word, out);
    return comparison(word, out);
  }

  // <name>( <args> ): has, hasany, bygroupid. The current token is the '('.
  bool function(const Token& name, int* out) {
    InventoryQuery::Node n;
    if (name.text == "has" || name.text == "hasany") {
      n.kind = name.text == "has" ? InventoryQuery::Node::kHas : InventoryQuery::Node::kHasAny;
    } else if (name.text == "bygroupid") {
      n.kind = InventoryQuery::Node::kByGroup;
    } else {
      return fail("function '" + name.text +
                  "' is not supported (supported: has, hasany, bygroupid, not)");
    }
    if (!advance()) return false;
    for (;;) {
      if (n.kind == InventoryQuery::Node::kByGroup) {
        if (tok_.kind == Token::kNumber || tok_.kind == Token::kString) {
          std::string id = tok_.text;
          if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
            return fail("bygroupid() takes managed object ids, not '" + id + "'");
          n.groups.push_back(std::move(id));
        } else {
          return unexpected("a group id in bygroupid()");
        }
      } else {
        if (tok_.kind != Token::kWord) return unexpected("a fragment name in " + name.text + "()");
        n.paths.push_back(split_path(tok_.text));
      }
      if (!advance()) return false;
      if (tok_.kind == Token::kComma && n.kind != InventoryQuery::Node::kHas) {
        if (!advance()) return false;
        continue;
      }
      if (tok_.kind != Token::kRParen) return unexpected("')' after the argument of " + name.text);
      break;
    }
    *out = add(std::move(n));
    return advance();
  }

  // <path> <op> <literal>. The current token is the one after the path.
  bool comparison(const Token& path, int* out) {
    if (tok_.kind != Token::kWord)
      return unexpected("an operator (eq, ne, gt, ge, lt, le) after '" + path.text + "'");
    auto op = op_of(tok_.text);
    if (!op)
      return fail("operator '" + tok_.text +
                  "' is not supported (supported: eq, ne, gt, ge, lt, le) at position " +
                  std::to_string(tok_.at));
    const std::string op_text = tok_.text;
    if (!advance()) return false;
    InventoryQuery::Node n;
    n.kind = InventoryQuery::Node::kCompare;
    n.op = *op;
    n.paths.push_back(split_path(path.text));
    Literal& l = n.literal;
    if (tok_.kind == Token::kString) {
      l.type = Literal::kString;
      l.text = tok_.text;
      l.segments = std::move(tok_.segments);
      l.wildcard = tok_.wildcard;
      l.time_ms = common::parse_iso8601_ms(l.text);
    } else if (tok_.kind == Token::kNumber) {
      l.type = Literal::kNumber;
      l.number = tok_.number;
    } else if (is_word("true") || is_word("false")) {
      if (*op != Op::kEq && *op != Op::kNe)
        return fail("operator '" + op_text + "' needs a number or a string, not " + tok_.text);
      l.type = Literal::kBool;
      l.boolean = tok_.text == "true";
    } else if (is_word("null")) {
      return fail("null values are not supported (use has() or not(has()))");
    } else {
      return unexpected("a value ('string', number, true or false) after '" + op_text + "'");
    }
    *out = add(std::move(n));
    return advance();
  }

  bool order_list() {
    for (;;) {
      if (tok_.kind != Token::kWord) return unexpected("a property path in $orderby=");
      InventoryQuery::Order o;
      o.path = split_path(tok_.text);
      if (!advance()) return false;
      if (is_word("asc") || is_word("desc")) {
        o.descending = tok_.text == "desc";
        if (!advance()) return false;
      }
      q_->order_.push_back(std::move(o));
      if (tok_.kind != Token::kComma) return true;
      if (!advance()) return false;
    }
  }

  Lexer lex_;
  InventoryQuery* q_;
  std::string* error_;
  Token tok_;
  int depth_ = 0;
};

std::optional<InventoryQuery> InventoryQuery::parse(std::string_view text, std::string* error) {
  if (text.size() > kMaxQueryLength) {
    *error = "the query is longer than " + std::to_string(kMaxQueryLength) + " bytes";
    return std::nullopt;
  }
  InventoryQuery q;
  QueryParser p(text, &q, error);
  if (!p.run()) return std::nullopt;
  return q;
}

void InventoryQuery::require_fragment(std::string_view fragment) {
  Node has;
  has.kind = Node::kHas;
  has.paths.push_back({std::string(fragment)});
  nodes_.push_back(std::move(has));
  const int h = static_cast<int>(nodes_.size() - 1);
  if (root_ < 0) {
    root_ = h;
    return;
  }
  Node both;
  both.kind = Node::kAnd;
  both.kids = {root_, h};
  nodes_.push_back(std::move(both));
  root_ = static_cast<int>(nodes_.size() - 1);
}

bool InventoryQuery::has_filter() const {
  return root_ >= 0;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

namespace {

// Calls visit(value) for each value at `path` under `node`; an array met on the way (or at the
// end) is looked into, one level, as MongoDB does. visit returns true to stop; so does walk.
template <typename Visit>
bool walk(const json& node, const std::vector<std::string>& path, size_t i, const Visit& visit) {
  if (i == path.size()) {
    if (node.is_array()) {
      for (const auto& e : node)
        if (visit(e)) return true;
      return false;
    }
    return visit(node);
  }
  if (node.is_object()) {
    auto it = node.find(path[i]);
    if (it == node.end()) return false;
    return walk(*it, path, i + 1, visit);
  }
  if (node.is_array()) {
    for (const auto& e : node)
      if (e.is_object()) {
        auto it = e.find(path[i]);
        if (it != e.end() && walk(*it, path, i + 1, visit)) return true;
      }
  }
  return false;
}

bool is_id_path(const std::vector<std::string>& path) {
  return path.size() == 1 && path[0] == "id";
}

// The object's id as a number (ids are decimal strings).
std::optional<double> id_number(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return static_cast<double>(n);
}

// `*` matches any run of bytes: the first segment must be a prefix, the last a suffix, the ones
// between are found left to right (leftmost is always right for a star-only pattern).
bool glob(std::string_view v, const std::vector<std::string>& seg) {
  if (seg.size() == 1) return v == seg[0];
  const std::string& first = seg.front();
  const std::string& last = seg.back();
  if (v.size() < first.size() + last.size()) return false;
  if (v.substr(0, first.size()) != first) return false;
  if (v.substr(v.size() - last.size()) != last) return false;
  size_t at = first.size();
  const size_t end = v.size() - last.size();
  for (size_t i = 1; i + 1 < seg.size(); ++i) {
    if (seg[i].empty()) continue;
    size_t found = v.substr(0, end).find(seg[i], at);
    if (found == std::string_view::npos) return false;
    at = found + seg[i].size();
  }
  return true;
}

bool equal(const Literal& l, const json& v, bool id_path) {
  switch (l.type) {
    case Literal::kString:
      if (!v.is_string()) return false;
      if (l.wildcard) return glob(v.get_ref<const std::string&>(), l.segments);
      return v.get_ref<const std::string&>() == l.text;
    case Literal::kNumber:
      if (v.is_number()) return v.get<double>() == l.number;
      if (id_path) {
        auto n = id_number(v);
        return n && *n == l.number;
      }
      return false;
    case Literal::kBool:
      return v.is_boolean() && v.get<bool>() == l.boolean;
  }
  return false;
}

// -1/0/1 comparing v with the literal; nullopt when their types do not compare.
std::optional<int> order(const Literal& l, const json& v, bool id_path) {
  auto cmp = [](auto a, auto b) { return a < b ? -1 : (b < a ? 1 : 0); };
  if (l.type == Literal::kNumber) {
    std::optional<double> n;
    if (v.is_number())
      n = v.get<double>();
    else if (id_path)
      n = id_number(v);
    if (!n || std::isnan(*n)) return std::nullopt;
    return cmp(*n, l.number);
  }
  if (l.type == Literal::kString && v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (l.time_ms) {
      if (auto t = common::parse_iso8601_ms(s)) return cmp(*t, *l.time_ms);
    }
    return cmp(std::string_view(s), std::string_view(l.text));
  }
  return std::nullopt;
}

bool compare(Op op, const Literal& l, const json& v, bool id_path) {
  if (op == Op::kEq) return equal(l, v, id_path);
  auto c = order(l, v, id_path);
  if (!c) return false;
  switch (op) {
    case Op::kGt:
      return *c > 0;
    case Op::kGe:
      return *c >= 0;
    case Op::kLt:
      return *c < 0;
    case Op::kLe:
      return *c <= 0;
    default:
      return false;
  }
}

bool present(const json& mo, const std::vector<std::string>& path) {
  return walk(mo, path, 0, [](const json& v) { return !v.is_null(); });
}

}  // namespace

bool InventoryQuery::matches(const json& mo) const {
  if (root_ < 0) return true;
  // Recursion depth is bounded by the parser's depth limit (and/or lists are flat).
  auto eval = [&](auto& self, int i) -> bool {
    const Node& n = nodes_[static_cast<size_t>(i)];
    switch (n.kind) {
      case Node::kAnd:
        for (int k : n.kids)
          if (!self(self, k)) return false;
        return true;
      case Node::kOr:
        for (int k : n.kids)
          if (self(self, k)) return true;
        return false;
      case Node::kNot:
        return !self(self, n.kids[0]);
      case Node::kHas:
        return present(mo, n.paths[0]);
      case Node::kHasAny:
        for (const auto& p : n.paths)
          if (present(mo, p)) return true;
        return false;
      case Node::kByGroup: {
        auto parents = mo.find("assetParents");
        if (parents == mo.end() || !parents->is_object()) return false;
        auto refs = parents->find("references");
        if (refs == parents->end() || !refs->is_array()) return false;
        for (const auto& r : *refs) {
          if (!r.is_object()) continue;
          auto m = r.find("managedObject");
          if (m == r.end() || !m->is_object()) continue;
          auto id = m->find("id");
          if (id == m->end() || !id->is_string()) continue;
          for (const auto& g : n.groups)
            if (id->get_ref<const std::string&>() == g) return true;
        }
        return false;
      }
      case Node::kCompare: {
        const bool id_path = is_id_path(n.paths[0]);
        if (n.op == Op::kNe)  // not(eq): an object without the property matches
          return !walk(mo, n.paths[0], 0,
                       [&](const json& v) { return equal(n.literal, v, id_path); });
        return walk(mo, n.paths[0], 0,
                    [&](const json& v) { return compare(n.op, n.literal, v, id_path); });
      }
    }
    return false;
  };
  return eval(eval, root_);
}

InventoryQuery::SortKey InventoryQuery::sort_key(const json& mo) const {
  SortKey key;
  key.reserve(order_.size());
  for (const auto& o : order_) {
    SortValue sv;
    // The value at the path; a path through an array has none (sorted as missing).
    const json* first = &mo;
    for (const auto& seg : o.path) {
      if (!first->is_object()) {
        first = nullptr;
        break;
      }
      auto it = first->find(seg);
      if (it == first->end()) {
        first = nullptr;
        break;
      }
      first = &*it;
    }
    if (first && is_id_path(o.path)) {
      if (auto n = id_number(*first)) {
        sv.rank = 1;
        sv.number = *n;
        key.push_back(std::move(sv));
        continue;
      }
    }
    if (!first || first->is_null()) {
      sv.rank = 0;
    } else if (first->is_number()) {
      sv.rank = 1;
      sv.number = first->get<double>();
      if (std::isnan(sv.number)) sv.number = 0;
    } else if (first->is_string()) {
      sv.rank = 2;
      sv.text = first->get<std::string>();
    } else if (first->is_object()) {
      sv.rank = 3;
    } else if (first->is_array()) {
      sv.rank = 4;
    } else if (first->is_boolean()) {
      sv.rank = 5;
      sv.number = first->get<bool>() ? 1 : 0;
    }
    key.push_back(std::move(sv));
  }
  return key;
}

bool InventoryQuery::before(const SortKey& a, const SortKey& b) const {
  for (size_t i = 0; i < order_.size() && i < a.size() && i < b.size(); ++i) {
    const SortValue& x = a[i];
    const SortValue& y = b[i];
    int c = 0;
    if (x.rank != y.rank)
      c = x.rank < y.rank ? -1 : 1;
    else if (x.rank == 1 || x.rank == 5)
      c = x.number < y.number ? -1 : (y.number < x.number ? 1 : 0);
    else if (x.rank == 2)
      c = x.text.compare(y.text) < 0 ? -1 : (x.text == y.text ? 0 : 1);
    if (c == 0) continue;
    return order_[i].descending ? c > 0 : c < 0;
  }
  return false;
}

}  // namespace c8y::domain
