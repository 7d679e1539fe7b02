#include "plugin/smartrest/json_path.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace c8y::smartrest {
namespace {

using nlohmann::json;
using Kind = JsonPath::Segment::Kind;

JsonPath ok(std::string_view text) {
  std::string err;
  auto p = JsonPath::compile(text, &err);
  EXPECT_TRUE(p) << text << ": " << err;
  return p ? *p : JsonPath();
}

// The error text of a refused path ("" if it compiled).
std::string refused(std::string_view text) {
  std::string err;
  auto p = JsonPath::compile(text, &err);
  EXPECT_FALSE(p) << text << " compiled to " << (p ? p->text() : "");
  EXPECT_FALSE(p ? false : err.empty()) << text;
  return err;
}

std::vector<json> values(const JsonPath& p, const json& root) {
  std::vector<json> out;
  for (const json* n : p.select(root)) out.push_back(*n);
  return out;
}

TEST(JsonPath, DotKeys) {
  for (auto text : {"a.b.c", "$.a.b.c", ".a.b.c", "$['a'].b['c']", "$[\"a\"][\"b\"].c"}) {
    const JsonPath p = ok(text);
    ASSERT_EQ(p.segments().size(), 3u) << text;
    EXPECT_EQ(p.segments()[0].key, "a");
    EXPECT_EQ(p.segments()[1].key, "b");
    EXPECT_EQ(p.segments()[2].key, "c");
    EXPECT_FALSE(p.has_wildcard());
    EXPECT_EQ(p.text(), "$.a.b.c") << text;
  }
}

TEST(JsonPath, Root) {
  const JsonPath p = ok("$");
  EXPECT_TRUE(p.is_root());
  EXPECT_EQ(p.text(), "$");
  const json doc = {{"a", 1}};
  ASSERT_EQ(p.select(doc).size(), 1u);
  EXPECT_EQ(p.select(doc)[0], &doc);
  EXPECT_EQ(p.find(doc), &doc);
  EXPECT_TRUE(JsonPath().is_root());
}

TEST(JsonPath, KeysWithSpecialBytes) {
  EXPECT_EQ(ok("a b.c").segments()[0].key, "a b");
  EXPECT_EQ(ok("x$y").segments()[0].key, "x$y");
  EXPECT_EQ(ok("c8y_Température.T").segments()[0].key, "c8y_Température");
  EXPECT_EQ(ok("['a.b']").segments()[0].key, "a.b");
  EXPECT_EQ(ok("['a[0]']").segments()[0].key, "a[0]");
  EXPECT_EQ(ok("['it\\'s']").segments()[0].key, "it's");
  EXPECT_EQ(ok("[\"say \\\"hi\\\"\"]").segments()[0].key, "say \"hi\"");
  EXPECT_EQ(ok("['back\\\\slash']").segments()[0].key, "back\\slash");
  EXPECT_EQ(ok("[\"it's\"]").segments()[0].key, "it's");
  EXPECT_EQ(ok("['a\"b']").segments()[0].key, "a\"b");
}

TEST(JsonPath, IndexesAndWildcards) {
  const JsonPath p = ok("$.a[0][12].b");
  ASSERT_EQ(p.segments().size(), 4u);
  EXPECT_EQ(p.segments()[1].kind, Kind::kIndex);
  EXPECT_EQ(p.segments()[1].index, 0u);
  EXPECT_EQ(p.segments()[2].index, 12u);
  EXPECT_EQ(p.text(), "$.a[0][12].b");
  EXPECT_EQ(ok("a[007]").segments()[1].index, 7u);
  EXPECT_EQ(ok("a[999999999]").segments()[1].index, 999999999u);

  for (auto text : {"a[*].b", "a.*.b", "$.a[*].b", "$['a'][*]['b']"}) {
    const JsonPath w = ok(text);
    EXPECT_TRUE(w.has_wildcard()) << text;
    EXPECT_EQ(w.segments()[1].kind, Kind::kWildcard) << text;
    EXPECT_EQ(w.text(), "$.a[*].b") << text;
  }
  EXPECT_EQ(ok("*").text(), "$[*]");
  EXPECT_EQ(ok("$[*]").text(), "$[*]");
  EXPECT_EQ(ok("$.*").text(), "$[*]");
  EXPECT_EQ(ok("[*][*]").segments().size(), 2u);
  EXPECT_EQ(ok("[0]").segments()[0].index, 0u);
}

TEST(JsonPath, Refusals) {
  EXPECT_EQ(refused(""), "empty JSONPath");
  EXPECT_EQ(refused("$.a[?(@.b > 1)]"), "filters are not supported in JSONPath");
  EXPECT_EQ(refused("a[?(x)]"), "filters are not supported in JSONPath");
  EXPECT_EQ(refused("$..a"), "recursive descent '..' is not supported");
  EXPECT_EQ(refused("a..b"), "recursive descent '..' is not supported");
  EXPECT_EQ(refused("..a"), "recursive descent '..' is not supported");
  EXPECT_EQ(refused("@.a"), "'@' is not supported in JSONPath");
  EXPECT_EQ(refused("a.@b"), "'@' is not supported in JSONPath");
  EXPECT_EQ(refused("a[@]"), "'@' is not supported in JSONPath");
  EXPECT_EQ(refused("a[1:2]"), "slices are not supported in JSONPath");
  EXPECT_EQ(refused("a[:2]"), "slices are not supported in JSONPath");
  EXPECT_EQ(refused("a[1,2]"), "unions are not supported in JSONPath");
  EXPECT_EQ(refused("a['x','y']"), "unions are not supported in JSONPath");
  EXPECT_EQ(refused("a[*,1]"), "unions are not supported in JSONPath");
  EXPECT_EQ(refused("a[-1]"), "negative indexes are not supported in JSONPath");
  EXPECT_EQ(refused("a."), "empty key in JSONPath");
  EXPECT_EQ(refused("$."), "empty key in JSONPath");
  EXPECT_EQ(refused("a['']"), "empty key in JSONPath");
  EXPECT_EQ(refused("a[\"\"]"), "empty key in JSONPath");
  EXPECT_EQ(refused("a["), "unterminated '[' in JSONPath");
  EXPECT_EQ(refused("a[0"), "unterminated '[' in JSONPath");
  EXPECT_EQ(refused("a[*"), "unterminated '[' in JSONPath");
  EXPECT_EQ(refused("a['x"), "unterminated quoted key in JSONPath");
  EXPECT_EQ(refused("a['x\\"), "unterminated quoted key in JSONPath");
  EXPECT_EQ(refused("a['x'"), "unterminated '[' in JSONPath");
  EXPECT_EQ(refused("a['x'.b"), "expected ']' after a quoted key in JSONPath");
  EXPECT_EQ(refused("a['x\\n']"), "unsupported escape '\\n' in JSONPath key");
  EXPECT_EQ(refused("a[]"), "empty brackets in JSONPath");
  EXPECT_EQ(refused("a[ 0]"), "invalid bracket in JSONPath: expected n, * or a quoted key");
  EXPECT_EQ(refused("a[0 ]"), "invalid index in JSONPath");
  EXPECT_EQ(refused("a[1234567890]"), "JSONPath index too large");
  EXPECT_EQ(refused("a[(1)]"), "script expressions are not supported in JSONPath");
  EXPECT_EQ(refused("a[0]b"), "unexpected 'b' after ']'");
  EXPECT_EQ(refused("$a"), "'$' must be followed by '.' or '['");
  EXPECT_EQ(refused("a]"), "unexpected ']' in JSONPath key (use ['...'])");
  EXPECT_EQ(refused("a*b"), "unexpected '*' in JSONPath key (use ['...'])");
  EXPECT_EQ(refused("a,b"), "unexpected ',' in JSONPath key (use ['...'])");
  EXPECT_EQ(refused("a:b"), "unexpected ':' in JSONPath key (use ['...'])");
  EXPECT_EQ(refused("a'b"), "unexpected ''' in JSONPath key (use ['...'])");
  EXPECT_EQ(refused("length()"), "filters are not supported in JSONPath");
  EXPECT_EQ(refused("a?b"), "filters are not supported in JSONPath");
  EXPECT_EQ(refused(std::string_view("a\x01", 2)), "control character in JSONPath key");
  EXPECT_EQ(refused("a\xff"), "JSONPath is not valid UTF-8");
}

TEST(JsonPath, Limits) {
  std::string long_key(kMaxJsonPathBytes, 'k');
  ok(long_key);
  EXPECT_EQ(refused(long_key + "k"), "JSONPath longer than 512 bytes");
  std::string deep = "a";
  for (size_t i = 1; i < kMaxJsonPathSegments; ++i) deep += ".a";
  EXPECT_EQ(ok(deep).segments().size(), kMaxJsonPathSegments);
  EXPECT_EQ(refused(deep + ".a"), "JSONPath has more than 32 segments");
  EXPECT_EQ(refused(deep + "[0]"), "JSONPath has more than 32 segments");
}

TEST(JsonPath, NullErrorPointer) {
  EXPECT_FALSE(JsonPath::compile("a..b", nullptr));
  EXPECT_TRUE(JsonPath::compile("a.b", nullptr));
  json doc;
  EXPECT_FALSE(ok("a[*]").set(doc, 1, nullptr));
}

TEST(JsonPath, TextRoundTrip) {
  for (auto text : {"$.a['b c']['d.e'][3][*].f", "['it\\'s']['x\\\\y']", "$['@']", "$['*']",
                    "a['']x", "$['a,b']['$']"}) {
    auto p = JsonPath::compile(text, nullptr);
    if (!p) continue;  // "a['']x" is refused
    auto again = JsonPath::compile(p->text(), nullptr);
    ASSERT_TRUE(again) << p->text();
    EXPECT_EQ(*again, *p) << text;
  }
  EXPECT_EQ(ok("$['@']").text(), "$['@']");
  EXPECT_EQ(ok("$['*']").segments()[0].kind, Kind::kKey);
  EXPECT_EQ(ok("$['*']").text(), "$['*']");
  EXPECT_EQ(ok("['it\\'s']").text(), "$['it\\'s']");
  EXPECT_EQ(ok("$.x$y").text(), "$.x$y");
}

TEST(JsonPath, Select) {
  const json doc = json::parse(R"({
    "id": "1", "n": null, "a": {"b": {"c": 5}},
    "list": [{"t": "x", "v": [1, 2]}, {"t": "y"}, {"v": [3]}],
    "obj": {"k2": {"t": "second"}, "k1": {"t": "first"}},
    "s": "text"
  })");
  EXPECT_EQ(values(ok("a.b.c"), doc), std::vector<json>{5});
  EXPECT_EQ(values(ok("a.b"), doc), (std::vector<json>{json{{"c", 5}}}));
  EXPECT_EQ(values(ok("n"), doc), std::vector<json>{nullptr});  // a null member exists
  EXPECT_TRUE(ok("n").matches(doc));
  EXPECT_TRUE(values(ok("missing"), doc).empty());
  EXPECT_TRUE(values(ok("a.x.c"), doc).empty());
  EXPECT_TRUE(values(ok("s.x"), doc).empty());      // key on a string
  EXPECT_TRUE(values(ok("s[0]"), doc).empty());     // index on a string
  EXPECT_TRUE(values(ok("a[0]"), doc).empty());     // index on an object
  EXPECT_TRUE(values(ok("list.t"), doc).empty());   // key on an array
  EXPECT_TRUE(values(ok("list[3]"), doc).empty());  // out of range
  EXPECT_TRUE(values(ok("s[*]"), doc).empty());     // wildcard on a scalar
  EXPECT_EQ(values(ok("list[1].t"), doc), std::vector<json>{"y"});
  EXPECT_EQ(values(ok("list[*].t"), doc), (std::vector<json>{"x", "y"}));
  EXPECT_EQ(values(ok("list[*].v[*]"), doc), (std::vector<json>{1, 2, 3}));
  EXPECT_EQ(values(ok("obj[*].t"), doc), (std::vector<json>{"first", "second"}));  // key order
  EXPECT_EQ(values(ok("obj.*.t"), doc), (std::vector<json>{"first", "second"}));
  EXPECT_EQ(ok("list[*].v[*]").find(doc)->get<int>(), 1);
  EXPECT_EQ(ok("list[*].t").find(doc)->get<std::string>(), "x");
  EXPECT_EQ(ok("list[*].zz").find(doc), nullptr);
  EXPECT_FALSE(ok("list[*].zz").matches(doc));
  EXPECT_TRUE(ok("list[*].v").matches(doc));
  EXPECT_EQ(ok("*").select(doc).size(), doc.size());

  // select_into appends.
  std::vector<const json*> out;
  ok("list[*].t").select_into(doc, out);
  ok("a.b.c").select_into(doc, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(*out[2], 5);

  // Scalars and empty containers as the root.
  EXPECT_TRUE(values(ok("a"), json(3)).empty());
  EXPECT_TRUE(values(ok("[*]"), json::array()).empty());
  EXPECT_EQ(values(ok("[*]"), json::array({1, "x"})), (std::vector<json>{1, "x"}));
  EXPECT_EQ(values(ok("[1]"), json::array({1, "x"})), std::vector<json>{"x"});
}

TEST(JsonPath, JoinPrefixAndSuffix) {
  const JsonPath j = JsonPath::join(ok("c8y_CustomConfiguration"), ok("$.customValues[*]"));
  EXPECT_EQ(j.text(), "$.c8y_CustomConfiguration.customValues[*]");
  EXPECT_TRUE(j.has_wildcard());
  EXPECT_EQ(JsonPath::join(ok("$"), ok("a")).text(), "$.a");
  EXPECT_EQ(JsonPath::join(ok("a[*]"), ok("b")).text(), "$.a[*].b");
  EXPECT_TRUE(JsonPath::join(ok("a[*]"), ok("b")).has_wildcard());
  EXPECT_FALSE(JsonPath::join(ok("a"), ok("$")).has_wildcard());
  EXPECT_EQ(JsonPath::join(ok("a"), ok("$")).text(), "$.a");
}

TEST(JsonPath, SetCreatesObjectsAndArrays) {
  json doc;
  std::string err;
  EXPECT_TRUE(ok("c8y_X.Y.value").set(doc, 1.5, &err)) << err;
  EXPECT_TRUE(ok("c8y_X.Y.unit").set(doc, "C", &err)) << err;
  EXPECT_EQ(doc, json::parse(R"({"c8y_X": {"Y": {"value": 1.5, "unit": "C"}}})"));

  json arr = json::object();
  EXPECT_TRUE(ok("list[2].name").set(arr, "c", &err)) << err;
  EXPECT_EQ(arr, json::parse(R"({"list": [null, null, {"name": "c"}]})"));
  EXPECT_TRUE(ok("list[0]").set(arr, 1, &err)) << err;  // fills a null
  EXPECT_TRUE(ok("list[4]").set(arr, 2, &err)) << err;  // extends
  EXPECT_EQ(arr["list"], json::parse(R"([1, null, {"name": "c"}, null, 2])"));
  EXPECT_TRUE(ok("list[2].name").set(arr, "d", &err)) << err;  // replaces
  EXPECT_EQ(arr["list"][2]["name"], "d");

  json nested;
  EXPECT_TRUE(ok("[1][0]").set(nested, true, &err)) << err;
  EXPECT_EQ(nested, json::parse("[null, [true]]"));

  json with_null = json::parse(R"({"a": null})");
  EXPECT_TRUE(ok("a.b").set(with_null, 1, &err)) << err;  // a null intermediate is replaced
  EXPECT_EQ(with_null, json::parse(R"({"a": {"b": 1}})"));

  json replace_leaf = json::parse(R"({"a": [1, 2]})");
  EXPECT_TRUE(ok("a").set(replace_leaf, "x", &err)) << err;  // the leaf may change type
  EXPECT_EQ(replace_leaf, json::parse(R"({"a": "x"})"));

  json max_index;
  EXPECT_TRUE(ok("a[1000]").set(max_index, 1, &err)) << err;
  EXPECT_EQ(max_index["a"].size(), 1001u);
}

TEST(JsonPath, SetRefusals) {
  std::string err;
  json doc = json::parse(R"({"arr": [1], "s": "x", "o": {"k": 1}})");
  const json before = doc;
  EXPECT_FALSE(ok("arr.k").set(doc, 1, &err));
  EXPECT_EQ(err, "cannot set key 'k' in an array");
  EXPECT_FALSE(ok("s.k").set(doc, 1, &err));
  EXPECT_EQ(err, "cannot set key 'k' in a string");
  EXPECT_FALSE(ok("o[0]").set(doc, 1, &err));
  EXPECT_EQ(err, "cannot set index 0 in an object");
  EXPECT_FALSE(ok("o.k.deeper").set(doc, 1, &err));
  EXPECT_EQ(err, "cannot set key 'deeper' in a number");
  EXPECT_FALSE(ok("arr[*]").set(doc, 1, &err));
  EXPECT_EQ(err, "cannot set a value at a path with a wildcard");
  EXPECT_FALSE(ok("$").set(doc, 1, &err));
  EXPECT_EQ(err, "cannot set the root");
  EXPECT_FALSE(ok("new[1001]").set(doc, 1, &err));
  EXPECT_EQ(err, "index above 1000");
  EXPECT_EQ(doc, before);  // unchanged after every refusal

  json scalar = true;
  EXPECT_FALSE(ok("a").set(scalar, 1, &err));
  EXPECT_EQ(err, "cannot set key 'a' in a boolean");
  EXPECT_EQ(scalar, true);
}

}  // namespace
}  // namespace c8y::smartrest
