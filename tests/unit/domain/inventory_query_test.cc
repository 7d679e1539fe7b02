// The inventory query language subset: parsing, refusals with precise messages, evaluation and
// ordering over managed-object JSON.
#include "plugin/domain/inventory_query.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace c8y::domain {
namespace {

using nlohmann::json;

const json kDev1 = json::parse(R"({
  "id": "1007", "name": "Dev_001", "type": "c8y_Linux", "num": 1,
  "creationTime": "2026-01-02T10:00:00.000Z",
  "c8y_IsDevice": {}, "c8y_Hardware": {"serialNumber": "SN-1", "model": "pi"},
  "c8y_Availability": {"status": "AVAILABLE", "statusId": 1},
  "tags": ["red", "blue"], "active": true, "nothing": null,
  "assetParents": {"references": [{"managedObject": {"id": "5007", "name": "g"}}]}
})");
const json kDev2 = json::parse(R"({
  "id": "2007", "name": "Dev_002", "type": "c8y_Linux", "num": 2,
  "creationTime": "2026-01-03T10:00:00.000Z",
  "c8y_IsDevice": {}, "c8y_Hardware": {"serialNumber": "SN-2"},
  "c8y_Availability": {"status": "UNAVAILABLE", "statusId": 2},
  "active": false,
  "list": [{"k": "a"}, {"k": "b"}]
})");
const json kMo3 = json::parse(R"({
  "id": "10007", "name": "mo_003", "type": "thing", "num": 3.5,
  "creationTime": "2026-01-01T10:00:00.000+01:00"
})");

InventoryQuery parse_ok(const std::string& text) {
  std::string error;
  auto q = InventoryQuery::parse(text, &error);
  EXPECT_TRUE(q) << text << ": " << error;
  return q ? std::move(*q) : InventoryQuery();
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto q = InventoryQuery::parse(text, &error);
  EXPECT_FALSE(q) << text;
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

// Which of the three objects the query matches, by name.
std::vector<std::string> names(const std::string& text) {
  auto q = parse_ok(text);
  std::vector<std::string> out;
  for (const json* mo : {&kDev1, &kDev2, &kMo3})
    if (q.matches(*mo)) out.push_back((*mo)["name"]);
  return out;
}

using V = std::vector<std::string>;

TEST(InventoryQueryTest, EqOnStringsIsExactAndCaseSensitive) {
  EXPECT_EQ(names("name eq 'Dev_001'"), V{"Dev_001"});
  EXPECT_EQ(names("name eq 'dev_001'"), V{});
  EXPECT_EQ(names("name eq 'Dev_00'"), V{});
}

TEST(InventoryQueryTest, WildcardMatchesAnyRun) {
  EXPECT_EQ(names("name eq 'Dev*'"), (V{"Dev_001", "Dev_002"}));
  EXPECT_EQ(names("name eq '*00*'"), (V{"Dev_001", "Dev_002", "mo_003"}));
  EXPECT_EQ(names("name eq '*_001'"), V{"Dev_001"});
  EXPECT_EQ(names("name eq '*'"), (V{"Dev_001", "Dev_002", "mo_003"}));
  EXPECT_EQ(names("name eq 'D*_*2'"), V{"Dev_002"});
  EXPECT_EQ(names("name eq 'Dev*001*'"), V{"Dev_001"});
  EXPECT_EQ(names("name eq '*Dev_001*'"), V{"Dev_001"});
  EXPECT_EQ(names("name eq 'Dev_001*1'"), V{});  // prefix and suffix may not overlap
  EXPECT_EQ(names("name eq 'dev*'"), V{});
}

TEST(InventoryQueryTest, EscapesInStrings) {
  const json mo = {{"name", "it's (a*b)\\"}};
  EXPECT_TRUE(parse_ok(R"(name eq 'it''s \(a\*b\)\\')").matches(mo));
  // An escaped star is a literal star, not a wildcard.
  EXPECT_FALSE(parse_ok(R"(name eq 'it''s \(a\*')").matches(mo));
  EXPECT_TRUE(parse_ok(R"(name eq 'it''s \(a\**')").matches(mo));
  EXPECT_FALSE(parse_ok(R"(name eq 'it''s \(aX*')").matches({{"name", "it's (a*b)"}}));
}

TEST(InventoryQueryTest, NestedPathsAndNumbers) {
  EXPECT_EQ(names("c8y_Hardware.serialNumber eq 'SN-2'"), V{"Dev_002"});
  EXPECT_EQ(names("c8y_Availability.statusId eq 2"), V{"Dev_002"});
  EXPECT_EQ(names("num gt 1"), (V{"Dev_002", "mo_003"}));
  EXPECT_EQ(names("num ge 2"), (V{"Dev_002", "mo_003"}));
  EXPECT_EQ(names("num lt 2"), V{"Dev_001"});
  EXPECT_EQ(names("num le 2"), (V{"Dev_001", "Dev_002"}));
  EXPECT_EQ(names("num eq 3.5"), V{"mo_003"});
  EXPECT_EQ(names("num gt 0f"), (V{"Dev_001", "Dev_002", "mo_003"}));  // QueriesUtil's float
  EXPECT_EQ(names("num lt -1"), V{});
  EXPECT_EQ(names("num lt 3.5e0"), (V{"Dev_001", "Dev_002"}));
  // A number never equals a string and vice versa.
  EXPECT_EQ(names("name eq 1"), V{});
  EXPECT_EQ(names("num eq '1'"), V{});
}

TEST(InventoryQueryTest, NeIsNotEqAndMatchesMissingProperties) {
  EXPECT_EQ(names("c8y_Availability.status ne 'AVAILABLE'"), (V{"Dev_002", "mo_003"}));
  EXPECT_EQ(names("num ne 1"), (V{"Dev_002", "mo_003"}));
  EXPECT_EQ(names("name ne 'Dev*'"), V{"mo_003"});
}

TEST(InventoryQueryTest, Booleans) {
  EXPECT_EQ(names("active eq true"), V{"Dev_001"});
  EXPECT_EQ(names("active eq false"), V{"Dev_002"});
  EXPECT_EQ(names("active ne true"), (V{"Dev_002", "mo_003"}));
}

TEST(InventoryQueryTest, StringsThatAreTimesCompareAsTimes) {
  // mo_003 was created at 09:00Z (10:00+01:00): before Dev_001 although its text sorts after.
  EXPECT_EQ(names("creationTime lt '2026-01-01T09:30:00.000Z'"), V{"mo_003"});
  EXPECT_EQ(names("creationTime gt '2026-01-02T11:00:00+01:00'"), V{"Dev_002"});
  EXPECT_EQ(names("creationTime ge '2026-01-02T10:00:00.000Z'"), (V{"Dev_001", "Dev_002"}));
  // Other strings compare byte-wise.
  EXPECT_EQ(names("name gt 'Dev_001'"), (V{"Dev_002", "mo_003"}));
  EXPECT_EQ(names("name lt 'E'"), (V{"Dev_001", "Dev_002"}));
}

TEST(InventoryQueryTest, IdComparesAsNumber) {
  EXPECT_EQ(names("id eq 2007"), V{"Dev_002"});
  EXPECT_EQ(names("id eq '2007'"), V{"Dev_002"});
  EXPECT_EQ(names("id gt 2007"), V{"mo_003"});  // "10007" < "2007" as text, not as number
  EXPECT_EQ(names("id le 2007"), (V{"Dev_001", "Dev_002"}));
}

TEST(InventoryQueryTest, HasAndHasAny) {
  EXPECT_EQ(names("has(c8y_IsDevice)"), (V{"Dev_001", "Dev_002"}));
  EXPECT_EQ(names("has(c8y_Hardware.model)"), V{"Dev_001"});
  EXPECT_EQ(names("has(nothing)"), V{});  // null is not a value
  EXPECT_EQ(names("has(missing)"), V{});
  EXPECT_EQ(names("hasany(tags, list)"), (V{"Dev_001", "Dev_002"}));
  EXPECT_EQ(names("hasany(missing)"), V{});
}

TEST(InventoryQueryTest, ArraysMatchAnyElement) {
  EXPECT_EQ(names("tags eq 'blue'"), V{"Dev_001"});
  EXPECT_EQ(names("tags eq 'green'"), V{});
  EXPECT_EQ(names("tags ne 'blue'"), (V{"Dev_002", "mo_003"}));
  EXPECT_EQ(names("list.k eq 'b'"), V{"Dev_002"});
  EXPECT_EQ(names("has(list.k)"), V{"Dev_002"});
}

TEST(InventoryQueryTest, ByGroupId) {
  EXPECT_EQ(names("bygroupid(5007)"), V{"Dev_001"});
  EXPECT_EQ(names("bygroupid(5008)"), V{});
  EXPECT_EQ(names("bygroupid(1, 5007)"), V{"Dev_001"});
  EXPECT_EQ(names("bygroupid('5007')"), V{"Dev_001"});
  EXPECT_EQ(names("not(bygroupid(5007))"), (V{"Dev_002", "mo_003"}));
}

TEST(InventoryQueryTest, LogicAndPrecedence) {
  EXPECT_EQ(names("num eq 1 or num eq 2"), (V{"Dev_001", "Dev_002"}));
  EXPECT_EQ(names("has(c8y_IsDevice) and num gt 1"), V{"Dev_002"});
  // and binds tighter than or.
  EXPECT_EQ(names("num eq 3.5 or has(c8y_IsDevice) and num eq 1"), (V{"Dev_001", "mo_003"}));
  EXPECT_EQ(names("(num eq 3.5 or has(c8y_IsDevice)) and num eq 1"), V{"Dev_001"});
  EXPECT_EQ(names("not(has(c8y_IsDevice))"), V{"mo_003"});
  EXPECT_EQ(names("not has(c8y_IsDevice) or num eq 1"), (V{"Dev_001", "mo_003"}));
  EXPECT_EQ(names("not(not(num eq 1))"), V{"Dev_001"});
  EXPECT_EQ(names("(num eq 1) and (name eq 'Dev*') and (type eq 'c8y_Linux')"), V{"Dev_001"});
}

TEST(InventoryQueryTest, FilterAndOrderByForms) {
  EXPECT_EQ(names("$filter=(name eq 'Dev*')"), (V{"Dev_001", "Dev_002"}));
  EXPECT_EQ(names("$filter=name eq 'Dev*' $orderby=name desc"), (V{"Dev_001", "Dev_002"}));
  EXPECT_EQ(names("$orderby=name $filter=(num gt 1)"), (V{"Dev_002", "mo_003"}));
  auto q = parse_ok("$orderby=num desc");
  EXPECT_FALSE(q.has_filter());
  EXPECT_EQ(names("$orderby=num desc"), (V{"Dev_001", "Dev_002", "mo_003"}));
  auto q2 = parse_ok("$filter=(has(c8y_IsDevice)) $orderby=c8y_Hardware.serialNumber desc,name");
  ASSERT_EQ(q2.order().size(), 2u);
  EXPECT_EQ(q2.order()[0].path, (std::vector<std::string>{"c8y_Hardware", "serialNumber"}));
  EXPECT_TRUE(q2.order()[0].descending);
  EXPECT_FALSE(q2.order()[1].descending);
}

// The objects of `pool` in $orderby order (stable: ties keep pool order).
V sorted(const std::string& text, const std::vector<json>& pool) {
  auto q = parse_ok(text);
  std::vector<std::pair<InventoryQuery::SortKey, std::string>> keyed;
  for (const auto& mo : pool) keyed.emplace_back(q.sort_key(mo), mo.value("name", "?"));
  std::stable_sort(keyed.begin(), keyed.end(),
                   [&](const auto& a, const auto& b) { return q.before(a.first, b.first); });
  V out;
  for (auto& k : keyed) out.push_back(k.second);
  return out;
}

TEST(InventoryQueryTest, OrderBy) {
  const std::vector<json> pool = {kMo3, kDev2, kDev1};
  EXPECT_EQ(sorted("$orderby=name", pool), (V{"Dev_001", "Dev_002", "mo_003"}));
  EXPECT_EQ(sorted("$orderby=name asc", pool), (V{"Dev_001", "Dev_002", "mo_003"}));
  EXPECT_EQ(sorted("$orderby=name desc", pool), (V{"mo_003", "Dev_002", "Dev_001"}));
  EXPECT_EQ(sorted("$orderby=num desc", pool), (V{"mo_003", "Dev_002", "Dev_001"}));
  EXPECT_EQ(sorted("$orderby=id", pool), (V{"Dev_001", "Dev_002", "mo_003"}));  // numerically
  // Missing values first ascending, last descending; ties keep the given order.
  EXPECT_EQ(sorted("$orderby=c8y_Hardware.serialNumber", pool),
            (V{"mo_003", "Dev_001", "Dev_002"}));
  EXPECT_EQ(sorted("$orderby=c8y_Hardware.serialNumber desc", pool),
            (V{"Dev_002", "Dev_001", "mo_003"}));
  EXPECT_EQ(sorted("$orderby=type, name desc", pool), (V{"Dev_002", "Dev_001", "mo_003"}));
  EXPECT_EQ(sorted("$orderby=type desc, num", pool), (V{"mo_003", "Dev_001", "Dev_002"}));
  // Type order: missing < number < string < object < array < boolean.
  const std::vector<json> mixed = {{{"name", "b"}, {"v", true}},
                                   {{"name", "s"}, {"v", "x"}},
                                   {{"name", "a"}, {"v", json::array()}},
                                   {{"name", "o"}, {"v", json::object()}},
                                   {{"name", "n"}, {"v", 5}},
                                   {{"name", "m"}}};
  EXPECT_EQ(sorted("$orderby=v", mixed), (V{"m", "n", "s", "o", "a", "b"}));
}

TEST(InventoryQueryTest, RequireFragmentAddsHas) {
  auto q = parse_ok("name eq '*0*'");
  q.require_fragment("c8y_IsDevice");
  EXPECT_TRUE(q.matches(kDev1));
  EXPECT_FALSE(q.matches(kMo3));
  auto only_order = parse_ok("$orderby=name");
  only_order.require_fragment("c8y_IsDevice");
  EXPECT_TRUE(only_order.has_filter());
  EXPECT_FALSE(only_order.matches(kMo3));
  EXPECT_TRUE(only_order.matches(kDev2));
}

TEST(InventoryQueryTest, RefusesWhatIsNotSupportedNamingIt) {
  EXPECT_NE(parse_error("isinhierarchyof(1)").find("function 'isinhierarchyof' is not supported"),
            std::string::npos);
  EXPECT_NE(parse_error("startswith(name, 'a')").find("function 'startswith'"), std::string::npos);
  EXPECT_NE(parse_error("name in ('a')").find("operator 'in' is not supported"), std::string::npos);
  EXPECT_NE(parse_error("name like 'a'").find("operator 'like'"), std::string::npos);
  EXPECT_NE(parse_error("$top=3").find("'$top' is not supported"), std::string::npos);
  EXPECT_NE(parse_error("$filter=(name eq 'a') $select=name").find("'$select'"), std::string::npos);
  EXPECT_NE(parse_error("name eq null").find("null"), std::string::npos);
  EXPECT_NE(parse_error("active gt true").find("needs a number or a string"), std::string::npos);
}

TEST(InventoryQueryTest, RefusesMalformedQueries) {
  for (const char* bad : {"",
                          "   ",
                          "name",
                          "name eq",
                          "name eq 'abc",
                          "(name eq 'a'",
                          "name eq 'a')",
                          "name eq 'a' and",
                          "and name eq 'a'",
                          "or",
                          "has()",
                          "has(a, b)",
                          "hasany()",
                          "bygroupid()",
                          "bygroupid(abc)",
                          "bygroupid(-1)",
                          "name eq 'a' name eq 'b'",
                          "$filter=",
                          "$orderby=",
                          "$orderby=name up",
                          "$orderby=name,",
                          "$filter=(a eq 1) $filter=(b eq 2)",
                          "$orderby=a $orderby=b",
                          "$filter =(a eq 1)",
                          "name eq 1x",
                          "name eq -",
                          "a. eq 1",
                          "name eq 'a' # x",
                          "name eq \x01",
                          "name == 'a'",
                          "name eq 'a' $orderby=name name"})
    parse_error(bad);
  EXPECT_NE(parse_error("name eq 'abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(parse_error("(name eq 'a'").find("expected ')'"), std::string::npos);
  EXPECT_NE(parse_error("name eq 'a' # x").find("unexpected character '#' at position 12"),
            std::string::npos);
}

TEST(InventoryQueryTest, BoundsLengthAndDepth) {
  std::string deep(kMaxQueryDepth + 1, '(');
  deep += "a eq 1" + std::string(kMaxQueryDepth + 1, ')');
  EXPECT_NE(parse_error(deep).find("deeper than"), std::string::npos);
  std::string ok(kMaxQueryDepth, '(');
  ok += "num eq 1" + std::string(kMaxQueryDepth, ')');
  EXPECT_TRUE(parse_ok(ok).matches(kDev1));
  std::string nots;
  for (int i = 0; i <= kMaxQueryDepth; ++i) nots += "not ";
  EXPECT_NE(parse_error(nots + "has(a)").find("deeper than"), std::string::npos);
  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += "not(";
  EXPECT_NE(parse_error(nested).find("longer than"), std::string::npos);
  std::string path = "a";
  for (int i = 0; i < kMaxQueryDepth; ++i) path += ".a";
  EXPECT_NE(parse_error(path + " eq 1").find("more than"), std::string::npos);
  // A long flat chain is fine (no recursion per term).
  std::string chain = "num eq 0";
  while (chain.size() < kMaxQueryLength - 40) chain += " or num eq 0";
  chain += " or num eq 1";
  EXPECT_TRUE(parse_ok(chain).matches(kDev1));
  EXPECT_FALSE(parse_ok(chain).matches(kDev2));
}

TEST(InventoryQueryTest, ToleratesAnyJson) {
  auto q = parse_ok("$filter=(a.b eq 1 or has(c) or bygroupid(1) or d gt 'x') $orderby=a.b");
  for (const char* text : {"null", "1", "\"s\"", "[]", "[1,{\"a\":{\"b\":1}}]", "{}",
                           R"({"a": [1, [2], {"b": [1]}], "assetParents": 3})",
                           R"({"assetParents": {"references": [1, {"managedObject": 2}]}})"}) {
    const json mo = json::parse(text);
    (void)q.matches(mo);
    auto k = q.sort_key(mo);
    EXPECT_FALSE(q.before(k, k));
  }
  EXPECT_TRUE(q.matches(json::parse(R"({"a": [{"b": 1}]})")));
}

}  // namespace
}  // namespace c8y::domain
