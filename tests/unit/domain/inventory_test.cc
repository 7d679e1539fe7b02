// Managed objects, external ids and the id allocator against a real Store.
#include "plugin/domain/inventory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugin/common/values.h"
#include "plugin/domain/tenant_space.h"
#include "tests/unit/temp_dir.h"

namespace c8y::domain {
namespace {

using nlohmann::json;

constexpr unsigned kNode = 7;

class InventoryTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    const storage::Family* f = nullptr;
    ASSERT_TRUE(store_->create_tenant("t1", &f).ok());
    f = store_->tenant("t1");
    ASSERT_NE(f, nullptr);
    space_ = std::make_unique<TenantSpace>(*store_, "t1", f, kNode);
    inv_ = std::make_unique<Inventory>(*store_, *space_);
  }

  void reopen() {
    inv_.reset();
    space_.reset();
    store_.reset();
    open();
  }

  uint64_t device(const std::string& serial, const std::string& type = "",
                  const std::string& owner = "device_x") {
    DeviceSpec spec;
    spec.serial = serial;
    spec.type = type;
    spec.owner = owner;
    auto r = inv_->ensure_device(spec);
    EXPECT_TRUE(r.status.ok()) << r.status.message;
    EXPECT_TRUE(r.created) << serial;
    return r.id;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<TenantSpace> space_;
  std::unique_ptr<Inventory> inv_;
};

// ---------------------------------------------------------------------------------------------
// ensure_device

TEST_F(InventoryTest, EnsureDeviceCreatesOnce) {
  DeviceSpec spec;
  spec.serial = "1234";
  spec.owner = "device_1234";
  auto first = inv_->ensure_device(spec);
  ASSERT_TRUE(first.status.ok()) << first.status.message;
  EXPECT_TRUE(first.created);
  EXPECT_NE(first.id, 0u);
  EXPECT_EQ(first.id % 1000, kNode);

  spec.name = "another name";  // ignored: the device exists
  auto second = inv_->ensure_device(spec);
  ASSERT_TRUE(second.status.ok());
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ((*inv_->get(first.id))["name"], "MQTT Device 1234");

  EXPECT_EQ(inv_->find_external(kSerialType, "1234"), first.id);
  EXPECT_FALSE(inv_->find_external(kSerialType, "12345"));
  EXPECT_FALSE(inv_->find_external("other_Type", "1234"));
}

TEST_F(InventoryTest, DefaultObjectShape) {
  DeviceSpec spec;
  spec.serial = "abc";
  spec.owner = "device_abc";
  auto r = inv_->ensure_device(spec);
  ASSERT_TRUE(r.created);
  auto mo = inv_->get(r.id);
  ASSERT_TRUE(mo);
  EXPECT_EQ((*mo)["id"], format_id(r.id));
  EXPECT_TRUE((*mo)["id"].is_string());
  EXPECT_EQ((*mo)["name"], "MQTT Device abc");
  EXPECT_EQ((*mo)["type"], "c8y_MQTTDevice");
  EXPECT_EQ((*mo)["owner"], "device_abc");
  EXPECT_EQ((*mo)["c8y_IsDevice"], json::object());
  EXPECT_EQ((*mo)["com_cumulocity_model_Agent"], json::object());
  EXPECT_EQ((*mo)["childDevices"]["references"], json::array());
  EXPECT_EQ((*mo)["deviceParents"]["references"], json::array());
  ASSERT_TRUE((*mo)["creationTime"].is_string());
  EXPECT_TRUE(common::parse_iso8601_ms((*mo)["creationTime"].get<std::string>()));
  EXPECT_EQ((*mo)["creationTime"], (*mo)["lastUpdated"]);
  EXPECT_FALSE(mo->contains("self"));
}

TEST_F(InventoryTest, NameTypeAndMarkers) {
  DeviceSpec spec;
  spec.serial = "s";
  spec.name = "Boiler";
  spec.type = "c8y_Boiler";
  spec.device_marker = false;
  spec.agent_marker = false;
  auto r = inv_->ensure_device(spec);
  ASSERT_TRUE(r.created);
  auto mo = *inv_->get(r.id);
  EXPECT_EQ(mo["name"], "Boiler");
  EXPECT_EQ(mo["type"], "c8y_Boiler");
  EXPECT_FALSE(mo.contains("c8y_IsDevice"));
  EXPECT_FALSE(mo.contains("com_cumulocity_model_Agent"));
}

TEST_F(InventoryTest, GetUnknownId) {
  EXPECT_FALSE(inv_->get(1));
  EXPECT_FALSE(inv_->get(0));
  uint64_t id = device("x");
  EXPECT_FALSE(inv_->get(id + 1000));
}

TEST_F(InventoryTest, ChildDeviceLinksBothWays) {
  uint64_t parent = device("gw");
  DeviceSpec spec;
  spec.serial = "child-1";
  spec.parent = parent;
  spec.agent_marker = false;
  auto r = inv_->ensure_device(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.message;
  ASSERT_TRUE(r.created);
  EXPECT_NE(r.id, parent);

  auto child = *inv_->get(r.id);
  ASSERT_EQ(child["deviceParents"]["references"].size(), 1u);
  EXPECT_EQ(child["deviceParents"]["references"][0]["managedObject"]["id"], format_id(parent));
  EXPECT_EQ(child["deviceParents"]["references"][0]["managedObject"]["name"], "MQTT Device gw");
  EXPECT_EQ(child["childDevices"]["references"], json::array());

  auto gw = *inv_->get(parent);
  ASSERT_EQ(gw["childDevices"]["references"].size(), 1u);
  EXPECT_EQ(gw["childDevices"]["references"][0]["managedObject"]["id"], format_id(r.id));
  EXPECT_EQ(gw["childDevices"]["references"][0]["managedObject"]["name"], "MQTT Device child-1");
  EXPECT_EQ(gw["deviceParents"]["references"], json::array());

  // Ensuring the child again adds no second reference.
  auto again = inv_->ensure_device(spec);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.id, r.id);
  EXPECT_EQ((*inv_->get(parent))["childDevices"]["references"].size(), 1u);

  // A second child is appended.
  spec.serial = "child-2";
  auto r2 = inv_->ensure_device(spec);
  ASSERT_TRUE(r2.created);
  auto refs = (*inv_->get(parent))["childDevices"]["references"];
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[1]["managedObject"]["id"], format_id(r2.id));
  EXPECT_EQ(inv_->find_external(kSerialType, "child-2"), r2.id);
}

TEST_F(InventoryTest, MissingParentCreatesNothing) {
  DeviceSpec spec;
  spec.serial = "orphan";
  spec.parent = 99999007;
  auto r = inv_->ensure_device(spec);
  EXPECT_FALSE(r.status.ok());
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.id, 0u);
  EXPECT_FALSE(inv_->find_external(kSerialType, "orphan"));
  Inventory::Page page;
  ASSERT_TRUE(inv_->list("", "", "", 100, 1, &page).ok());
  EXPECT_TRUE(page.objects.empty());
}

TEST_F(InventoryTest, AddChildNamesTheMissingObject) {
  const uint64_t parent = device("p-1"), child = device("c-1");
  const uint64_t nowhere = 999999007;
  for (auto relation : {Inventory::Relation::kDevice, Inventory::Relation::kAddition}) {
    uint64_t missing = 0;
    EXPECT_TRUE(inv_->add_child(parent, nowhere, relation, &missing).not_found());
    EXPECT_EQ(missing, nowhere);  // the child, not the parent that exists
    missing = 0;
    EXPECT_TRUE(inv_->add_child(nowhere, child, relation, &missing).not_found());
    EXPECT_EQ(missing, nowhere);
    missing = 0;
    EXPECT_TRUE(inv_->add_child(nowhere, nowhere + 1000, relation, &missing).not_found());
    EXPECT_EQ(missing, nowhere);  // neither exists: the parent is named
    EXPECT_TRUE(inv_->add_child(parent, nowhere, relation).not_found());  // no out-parameter
    auto p = inv_->get(parent);                                           // nothing was linked
    ASSERT_TRUE(p.has_value());
    const char* list = Inventory::children_list(relation);
    EXPECT_TRUE(!p->contains(list) || (*p)[list].value("references", json::array()).empty());
  }
}

TEST_F(InventoryTest, ExternalIdsOf) {
  uint64_t a = device("serial-a");
  uint64_t b = device("serial-b");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(inv_->external_ids_of(a), (Pairs{{"c8y_Serial", "serial-a"}}));
  EXPECT_EQ(inv_->external_ids_of(b), (Pairs{{"c8y_Serial", "serial-b"}}));
  EXPECT_EQ(inv_->external_ids_of(a + 1000 * 100), Pairs{});
  EXPECT_EQ(inv_->external_ids_of(0), Pairs{});
}

TEST_F(InventoryTest, SerialsAreExactBytes) {
  uint64_t a = device("Dev");
  uint64_t b = device("dev");
  uint64_t c = device("dev ");
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_EQ(inv_->find_external(kSerialType, "dev"), b);
  EXPECT_EQ(inv_->external_ids_of(c)[0].second, "dev ");
}

// ---------------------------------------------------------------------------------------------
// merge

TEST_F(InventoryTest, MergeAddsReplacesAndRemovesFragments) {
  uint64_t id = device("m");
  auto before = *inv_->get(id);

  ASSERT_TRUE(inv_->merge(id, json::parse(R"({"c8y_Hardware":{"model":"X","revision":"1"},
                                               "name":"Renamed","c8y_Note":"n"})"))
                  .ok());
  auto mo = *inv_->get(id);
  EXPECT_EQ(mo["c8y_Hardware"], json::parse(R"({"model":"X","revision":"1"})"));
  EXPECT_EQ(mo["name"], "Renamed");
  EXPECT_EQ(mo["c8y_Note"], "n");
  EXPECT_EQ(mo["type"], before["type"]);
  EXPECT_EQ(mo["childDevices"], before["childDevices"]);

  // Fragments are replaced as a whole, not deep-merged.
  ASSERT_TRUE(inv_->merge(id, json::parse(R"({"c8y_Hardware":{"serialNumber":"S"}})")).ok());
  EXPECT_EQ((*inv_->get(id))["c8y_Hardware"], json::parse(R"({"serialNumber":"S"})"));

  // null removes.
  ASSERT_TRUE(inv_->merge(id, json::parse(R"({"c8y_Note":null,"c8y_Absent":null})")).ok());
  mo = *inv_->get(id);
  EXPECT_FALSE(mo.contains("c8y_Note"));
  EXPECT_FALSE(mo.contains("c8y_Absent"));
  EXPECT_TRUE(mo.contains("c8y_Hardware"));
}

TEST_F(InventoryTest, MergeKeepsIdOwnerAndCreationTime) {
  uint64_t id = device("m", "", "device_m");
  auto before = *inv_->get(id);
  ASSERT_TRUE(inv_->merge(id, json::parse(R"({"id":"1","owner":"mallory","creationTime":"x",
                                               "self":"http://evil"})"))
                  .ok());
  auto mo = *inv_->get(id);
  EXPECT_EQ(mo["id"], format_id(id));
  EXPECT_EQ(mo["owner"], "device_m");
  EXPECT_EQ(mo["creationTime"], before["creationTime"]);
  EXPECT_FALSE(mo.contains("self"));
  // Removing them with null is refused just as silently.
  ASSERT_TRUE(inv_->merge(id, json::parse(R"({"id":null,"owner":null,"creationTime":null})")).ok());
  mo = *inv_->get(id);
  EXPECT_EQ(mo["id"], format_id(id));
  EXPECT_EQ(mo["owner"], "device_m");
  EXPECT_EQ(mo["creationTime"], before["creationTime"]);
}

TEST_F(InventoryTest, MergeUpdatesLastUpdated) {
  uint64_t id = device("m");
  auto before = *inv_->get(id);
  ASSERT_TRUE(inv_->merge(id, json::parse(R"({"lastUpdated":"2000-01-01T00:00:00.000Z"})")).ok());
  auto mo = *inv_->get(id);
  auto t0 = common::parse_iso8601_ms(before["lastUpdated"].get<std::string>());
  auto t1 = common::parse_iso8601_ms(mo["lastUpdated"].get<std::string>());
  ASSERT_TRUE(t0 && t1);
  EXPECT_GE(*t1, *t0);  // set by the merge, not taken from the fragments
}

TEST_F(InventoryTest, MergeUnknownObject) {
  auto st = inv_->merge(12345007, json::parse(R"({"a":1})"));
  EXPECT_TRUE(st.not_found());
  EXPECT_FALSE(inv_->get(12345007));
}

// ---------------------------------------------------------------------------------------------
// list

std::vector<std::string> ids_of(const Inventory::Page& p) {
  std::vector<std::string> out;
  for (auto& o : p.objects) out.push_back(o["id"].get<std::string>());
  return out;
}

TEST_F(InventoryTest, ListPagesInIdOrder) {
  std::vector<std::string> all;
  for (int i = 0; i < 7; ++i) all.push_back(format_id(device("d" + std::to_string(i))));
  // Ids increase, and so does their key order.
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(std::stoull(all[i - 1]), std::stoull(all[i]));

  Inventory::Page p1, p2, p3, p4;
  ASSERT_TRUE(inv_->list("", "", "", 3, 1, &p1).ok());
  ASSERT_TRUE(inv_->list("", "", "", 3, 2, &p2).ok());
  ASSERT_TRUE(inv_->list("", "", "", 3, 3, &p3).ok());
  ASSERT_TRUE(inv_->list("", "", "", 3, 4, &p4).ok());
  EXPECT_EQ(ids_of(p1), std::vector<std::string>(all.begin(), all.begin() + 3));
  EXPECT_EQ(ids_of(p2), std::vector<std::string>(all.begin() + 3, all.begin() + 6));
  EXPECT_EQ(ids_of(p3), std::vector<std::string>(all.begin() + 6, all.end()));
  EXPECT_TRUE(p4.objects.empty());
  EXPECT_TRUE(p1.more);
  EXPECT_TRUE(p2.more);
  EXPECT_FALSE(p3.more);
  EXPECT_FALSE(p4.more);
}

TEST_F(InventoryTest, ListExactlyFullLastPageHasNoMore) {
  for (int i = 0; i < 6; ++i) device("d" + std::to_string(i));
  Inventory::Page p;
  ASSERT_TRUE(inv_->list("", "", "", 3, 2, &p).ok());
  EXPECT_EQ(p.objects.size(), 3u);
  EXPECT_FALSE(p.more);
  Inventory::Page q;
  ASSERT_TRUE(inv_->list("", "", "", 6, 1, &q).ok());
  EXPECT_EQ(q.objects.size(), 6u);
  EXPECT_FALSE(q.more);
}

TEST_F(InventoryTest, ListFilters) {
  uint64_t a = device("a", "typeA", "alice");
  uint64_t b = device("b", "typeB", "bob");
  uint64_t c = device("c", "typeA", "bob");
  ASSERT_TRUE(inv_->merge(b, json::parse(R"({"c8y_Hardware":{}})")).ok());
  ASSERT_TRUE(inv_->merge(c, json::parse(R"({"c8y_Hardware":{"model":"m"}})")).ok());

  auto list = [&](const std::string& type, const std::string& fragment, const std::string& owner,
                  size_t size = 100, size_t page = 1) {
    Inventory::Page p;
    EXPECT_TRUE(inv_->list(type, fragment, owner, size, page, &p).ok());
    return p;
  };
  EXPECT_EQ(ids_of(list("typeA", "", "")), (std::vector{format_id(a), format_id(c)}));
  EXPECT_EQ(ids_of(list("typeB", "", "")), (std::vector{format_id(b)}));
  EXPECT_EQ(ids_of(list("typeC", "", "")), std::vector<std::string>{});
  EXPECT_EQ(ids_of(list("", "c8y_Hardware", "")), (std::vector{format_id(b), format_id(c)}));
  EXPECT_EQ(ids_of(list("", "c8y_IsDevice", "")).size(), 3u);
  EXPECT_EQ(ids_of(list("", "", "bob")), (std::vector{format_id(b), format_id(c)}));
  EXPECT_EQ(ids_of(list("", "", "alice")), (std::vector{format_id(a)}));
  EXPECT_EQ(ids_of(list("typeA", "c8y_Hardware", "bob")), (std::vector{format_id(c)}));
  EXPECT_EQ(ids_of(list("typeA", "c8y_Hardware", "alice")), std::vector<std::string>{});
  // Paging counts only matching objects.
  auto p = list("", "", "bob", 1, 2);
  EXPECT_EQ(ids_of(p), (std::vector{format_id(c)}));
  EXPECT_FALSE(p.more);
  p = list("", "", "bob", 1, 1);
  EXPECT_EQ(ids_of(p), (std::vector{format_id(b)}));
  EXPECT_TRUE(p.more);
}

// ---------------------------------------------------------------------------------------------
// Child assets and removal of references

TEST_F(InventoryTest, ChildAssetsLinkBothWaysAndUnlink) {
  json group;
  ASSERT_TRUE(
      inv_->create({{"name", "Group"}, {"c8y_IsDeviceGroup", json::object()}}, "admin", &group)
          .ok());
  EXPECT_EQ(group["childAssets"]["references"], json::array());
  EXPECT_EQ(group["assetParents"]["references"], json::array());
  const uint64_t g = *parse_id(group["id"].get<std::string>());
  const uint64_t d = device("asset-1");
  ASSERT_TRUE(inv_->add_child(g, d, Inventory::Relation::kAsset).ok());
  ASSERT_TRUE(inv_->add_child(g, d, Inventory::Relation::kAsset).ok());  // idempotent
  auto gj = *inv_->get(g);
  ASSERT_EQ(gj["childAssets"]["references"].size(), 1u);
  EXPECT_EQ(gj["childAssets"]["references"][0]["managedObject"]["id"], format_id(d));
  EXPECT_EQ(gj["childAssets"]["references"][0]["managedObject"]["name"], "MQTT Device asset-1");
  EXPECT_EQ(gj["childDevices"]["references"], json::array());  // other relations untouched
  auto dj = *inv_->get(d);
  ASSERT_EQ(dj["assetParents"]["references"].size(), 1u);
  EXPECT_EQ(dj["assetParents"]["references"][0]["managedObject"]["id"], format_id(g));
  EXPECT_EQ(dj["deviceParents"]["references"], json::array());

  uint64_t missing = 0;
  // Not a child in another relation.
  EXPECT_TRUE(inv_->remove_child(g, d, Inventory::Relation::kDevice, &missing).not_found());
  EXPECT_EQ(missing, d);
  ASSERT_TRUE(inv_->remove_child(g, d, Inventory::Relation::kAsset, &missing).ok());
  EXPECT_EQ((*inv_->get(g))["childAssets"]["references"], json::array());
  EXPECT_EQ((*inv_->get(d))["assetParents"]["references"], json::array());
  missing = 0;
  EXPECT_TRUE(inv_->remove_child(g, d, Inventory::Relation::kAsset, &missing).not_found());
  EXPECT_EQ(missing, d);
}

TEST_F(InventoryTest, AssetAndRemoveNameTheMissingObject) {
  const uint64_t a = device("a");
  const uint64_t nope = a + 1000 * 4000;
  uint64_t missing = 0;
  EXPECT_TRUE(inv_->add_child(a, nope, Inventory::Relation::kAsset, &missing).not_found());
  EXPECT_EQ(missing, nope);
  missing = 0;
  EXPECT_TRUE(inv_->add_child(nope, a, Inventory::Relation::kAsset, &missing).not_found());
  EXPECT_EQ(missing, nope);
  missing = 0;
  EXPECT_TRUE(inv_->remove_child(nope, a, Inventory::Relation::kAsset, &missing).not_found());
  EXPECT_EQ(missing, nope);
  EXPECT_FALSE(inv_->add_child(a, a, Inventory::Relation::kAsset).ok());
}

TEST_F(InventoryTest, RemoveDropsReferencesOfEveryRelation) {
  const uint64_t g = device("g"), d = device("d"), c = device("c");
  ASSERT_TRUE(inv_->add_child(g, d, Inventory::Relation::kAsset).ok());
  ASSERT_TRUE(inv_->add_child(g, d, Inventory::Relation::kDevice).ok());
  ASSERT_TRUE(inv_->add_child(d, c, Inventory::Relation::kAsset).ok());
  ASSERT_TRUE(inv_->remove(d).ok());
  auto gj = *inv_->get(g);
  EXPECT_EQ(gj["childAssets"]["references"], json::array());
  EXPECT_EQ(gj["childDevices"]["references"], json::array());
  EXPECT_EQ((*inv_->get(c))["assetParents"]["references"], json::array());
}

TEST_F(InventoryTest, IsRelationList) {
  for (const char* l : {"childDevices", "deviceParents", "childAdditions", "additionParents",
                        "childAssets", "assetParents"})
    EXPECT_TRUE(Inventory::is_relation_list(l)) << l;
  EXPECT_FALSE(Inventory::is_relation_list("c8y_IsDevice"));
  EXPECT_FALSE(Inventory::is_relation_list("childAsset"));
}

// ---------------------------------------------------------------------------------------------
// Listing with a query

TEST_F(InventoryTest, ListWithQueryFiltersAndOrdersAcrossPages) {
  for (const char* name : {"b-2", "a-9", "c-1", "a-3", "x-0"}) {
    json mo;
    ASSERT_TRUE(inv_->create({{"name", name}, {"rank", name[2] - '0'}}, "admin", &mo).ok());
  }
  auto run = [&](const std::string& text, size_t size, size_t page, bool total = false) {
    std::string error;
    auto q = InventoryQuery::parse(text, &error);
    EXPECT_TRUE(q) << error;
    Inventory::Page p;
    p.count_total = total;
    EXPECT_TRUE(inv_->list("", "", "", size, page, &p, &*q).ok());
    std::vector<std::string> names;
    for (auto& mo : p.objects) names.push_back(mo["name"]);
    return std::make_pair(names, p);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(run("name eq 'a*'", 10, 1).first, (V{"a-9", "a-3"}));  // id order
  EXPECT_EQ(run("$filter=(name ne 'x*') $orderby=name", 10, 1).first,
            (V{"a-3", "a-9", "b-2", "c-1"}));
  EXPECT_EQ(run("$orderby=rank desc", 10, 1).first, (V{"a-9", "a-3", "b-2", "c-1", "x-0"}));
  // Pages of an ordered result: the same order, split.
  auto [p1, s1] = run("$orderby=name desc", 2, 1, true);
  auto [p2, s2] = run("$orderby=name desc", 2, 2, true);
  auto [p3, s3] = run("$orderby=name desc", 2, 3, true);
  EXPECT_EQ(p1, (V{"x-0", "c-1"}));
  EXPECT_EQ(p2, (V{"b-2", "a-9"}));
  EXPECT_EQ(p3, (V{"a-3"}));
  EXPECT_TRUE(s1.more);
  EXPECT_TRUE(s2.more);
  EXPECT_FALSE(s3.more);
  EXPECT_EQ(s1.total, 5u);
  EXPECT_EQ(s3.total, 5u);
  // A page exactly filled by the last matches has no next page.
  auto [p4, s4] = run("$filter=(rank gt 1) $orderby=rank", 3, 1, true);
  EXPECT_EQ(p4, (V{"b-2", "a-3", "a-9"}));
  EXPECT_FALSE(s4.more);
  EXPECT_EQ(s4.total, 3u);
  // Counting without an order still counts every match.
  auto [p5, s5] = run("rank lt 3", 1, 1, true);
  EXPECT_EQ(p5, (V{"b-2"}));
  EXPECT_TRUE(s5.more);
  EXPECT_EQ(s5.total, 3u);
  // Combined with the plain filters.
  std::string error;
  auto q = InventoryQuery::parse("$orderby=name", &error);
  Inventory::Page p;
  ASSERT_TRUE(inv_->list("", "", "nobody", 10, 1, &p, &*q).ok());
  EXPECT_TRUE(p.objects.empty());
}

TEST_F(InventoryTest, ObjectsSurviveReopen) {
  uint64_t parent = device("gw");
  DeviceSpec spec;
  spec.serial = "kid";
  spec.parent = parent;
  auto kid = inv_->ensure_device(spec);
  ASSERT_TRUE(kid.created);
  auto before = *inv_->get(parent);

  reopen();
  EXPECT_EQ(*inv_->get(parent), before);
  EXPECT_EQ(inv_->find_external(kSerialType, "kid"), kid.id);
  auto again = inv_->ensure_device(spec);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.id, kid.id);
}

// ---------------------------------------------------------------------------------------------
// Concurrency: ensure_device is a serialised read-modify-write

TEST_F(InventoryTest, ConcurrentEnsureDeviceCreatesEachSerialOnce) {
  constexpr int kThreads = 4, kCalls = 200, kSerials = 50;
  std::mutex mu;
  std::map<std::string, std::set<uint64_t>> ids;
  std::atomic<int> created{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        DeviceSpec spec;
        spec.serial = "serial-" + std::to_string((i * 7 + t * 13) % kSerials);
        auto r = inv_->ensure_device(spec);
        if (!r.status.ok() || r.id == 0) {
          ++failed;
          continue;
        }
        if (r.created) ++created;
        std::lock_guard lock(mu);
        ids[spec.serial].insert(r.id);
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(created.load(), kSerials);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kSerials));
  std::set<uint64_t> distinct;
  for (auto& [serial, s] : ids) {
    EXPECT_EQ(s.size(), 1u) << serial;
    distinct.insert(*s.begin());
    EXPECT_EQ(inv_->find_external(kSerialType, serial), *s.begin()) << serial;
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kSerials));

  Inventory::Page page;
  ASSERT_TRUE(inv_->list("", "", "", 1000, 1, &page).ok());
  EXPECT_EQ(page.objects.size(), static_cast<size_t>(kSerials));
  EXPECT_FALSE(page.more);
}

// ---------------------------------------------------------------------------------------------
// IdAllocator and TenantSpaces

TEST_F(InventoryTest, IdsAreUniqueIncreasingAndCarryTheNodeId) {
  // More than one block (4096) so that a block boundary is crossed.
  std::vector<uint64_t> ids;
  for (int i = 0; i < 10000; ++i) ids.push_back(space_->ids.next());
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_NE(ids[i], 0u);
    ASSERT_EQ(ids[i] % 1000, kNode) << ids[i];
    if (i) {
      ASSERT_GT(ids[i], ids[i - 1]);
    }
  }
}

TEST_F(InventoryTest, IdsAreNotReusedAfterReopen) {
  std::vector<uint64_t> before;
  for (int i = 0; i < 5; ++i) before.push_back(space_->ids.next());
  const uint64_t max_before = before.back();
  reopen();
  uint64_t prev = max_before;
  for (int i = 0; i < 5000; ++i) {
    uint64_t id = space_->ids.next();
    ASSERT_GT(id, prev);
    ASSERT_EQ(id % 1000, kNode);
    prev = id;
  }
  // And once more, after having used part of a second block.
  reopen();
  EXPECT_GT(space_->ids.next(), prev);
}

TEST_F(InventoryTest, NodeIdBounds) {
  for (unsigned node : {0u, 999u}) {
    const storage::Family* f = nullptr;
    const std::string tenant = "n" + std::to_string(node);
    ASSERT_TRUE(store_->create_tenant(tenant, &f).ok());
    TenantSpace space(*store_, tenant, store_->tenant(tenant), node);
    uint64_t a = space.ids.next(), b = space.ids.next();
    EXPECT_EQ(a % 1000, node);
    EXPECT_EQ(b % 1000, node);
    EXPECT_GT(b, a);
  }
}

TEST_F(InventoryTest, TenantsHaveSeparateObjectsAndIds) {
  const storage::Family* f = nullptr;
  ASSERT_TRUE(store_->create_tenant("t2", &f).ok());
  TenantSpace other_space(*store_, "t2", store_->tenant("t2"), kNode);
  Inventory other(*store_, other_space);
  uint64_t a = device("same");
  DeviceSpec spec;
  spec.serial = "same";
  auto r = other.ensure_device(spec);
  ASSERT_TRUE(r.created);  // a serial is scoped by tenant
  EXPECT_EQ(other.find_external(kSerialType, "same"), r.id);
  EXPECT_EQ(inv_->find_external(kSerialType, "same"), a);
  // A change in one tenant is invisible in the other, even where the ids coincide.
  ASSERT_TRUE(other.merge(r.id, json::parse(R"({"c8y_Only":"t2"})")).ok());
  EXPECT_TRUE(other.get(r.id)->contains("c8y_Only"));
  EXPECT_FALSE(inv_->get(a)->contains("c8y_Only"));
  Inventory::Page p1, p2;
  ASSERT_TRUE(inv_->list("", "", "", 100, 1, &p1).ok());
  ASSERT_TRUE(other.list("", "", "", 100, 1, &p2).ok());
  EXPECT_EQ(p1.objects.size(), 1u);
  EXPECT_EQ(p2.objects.size(), 1u);
}

TEST_F(InventoryTest, TenantSpacesRegistry) {
  TenantSpaces spaces(*store_, kNode);
  EXPECT_EQ(spaces.get("nope"), nullptr);
  TenantSpace* s = spaces.get("t1");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->id, "t1");
  EXPECT_EQ(s->family, store_->tenant("t1"));
  EXPECT_EQ(spaces.get("t1"), s);  // one space per tenant
  // A tenant created later is found.
  const storage::Family* f = nullptr;
  ASSERT_TRUE(store_->create_tenant("late", &f).ok());
  ASSERT_NE(spaces.get("late"), nullptr);
  EXPECT_NE(spaces.get("late"), s);
}

// ---------------------------------------------------------------------------------------------
// parse_id / format_id

TEST(Ids, ParseAndFormat) {
  EXPECT_EQ(parse_id("1"), 1u);
  EXPECT_EQ(parse_id("1234007"), 1234007u);
  EXPECT_EQ(parse_id(format_id(9223372036854775807ull)), 9223372036854775807ull);
  EXPECT_EQ(format_id(1234007), "1234007");
  for (const char* bad : {"", "0", "-1", "+1", "1a", " 1", "1 ", "0x10", "12345678901234567890",
                          "99999999999999999999"})
    EXPECT_FALSE(parse_id(bad)) << bad;
}

}  // namespace
}  // namespace c8y::domain
