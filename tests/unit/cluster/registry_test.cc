#include "plugin/cluster/registry.h"

#include <gtest/gtest.h>

namespace c8y::cluster {
namespace {

TEST(ClusterKeys, NamesLiveBelowThePrefix) {
  Keys k("/prod");
  EXPECT_EQ(k.prefix(), "/prod/");
  EXPECT_EQ(k.node("n1"), "/prod/nodes/n1");
  EXPECT_EQ(k.tenant("t1"), "/prod/tenants/t1");
  EXPECT_EQ(k.node_of("/prod/nodes/n1"), "n1");
  EXPECT_EQ(k.tenant_of("/prod/tenants/t1"), "t1");
  EXPECT_EQ(k.tenant_of("/prod/nodes/n1"), "");     // another kind
  EXPECT_EQ(k.tenant_of("/prod/tenants/"), "");     // no name
  EXPECT_EQ(k.tenant_of("/prod/tenants/a/b"), "");  // deeper
  EXPECT_EQ(k.tenant_of("/other/tenants/t1"), "");  // another prefix
  EXPECT_EQ(Keys().tenant("t"), "/c8y/tenants/t");
}

TEST(ClusterRecords, PlacementRoundTripsAndRefusesWhatIsNotOne) {
  Placement p{"node-2", 7};
  auto back = decode_placement(encode(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, p);
  for (auto bad : {"", "[]", "{}", R"({"node":"n1"})", R"({"epoch":1})",
                   R"({"node":"n1","epoch":0})", R"({"node":"N 1","epoch":1})",
                   R"({"node":1,"epoch":1})", R"({"node":"n1","epoch":"1"})", "{"})
    EXPECT_FALSE(decode_placement(bad)) << bad;
}

TEST(ClusterRecords, APlacementUnderChangeRoundTripsAndIsNotServed) {
  Placement moving{"n1", 3, "move", "n2", "00ff"};
  auto back = decode_placement(encode(moving));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, moving);
  EXPECT_FALSE(back->served());
  EXPECT_FALSE((Placement{"n1", 1, "create", "", "aa"}).served());
  EXPECT_TRUE((Placement{"n1", 1, "delete", "", "aa"}).served());  // served until it is gone
  EXPECT_TRUE((Placement{"n1", 1}).served());
  // A settled placement is written without the change fields (what the router and older nodes
  // read stays {"node", "epoch"}).
  EXPECT_EQ(encode(Placement{"n1", 2}), R"({"epoch":2,"node":"n1"})");
  for (auto bad : {R"({"node":"n1","epoch":1,"change":"explode"})",
                   R"({"node":"n1","epoch":1,"change":"move"})",  // where to?
                   R"({"node":"n1","epoch":1,"moveTo":"n2"})",    // a target but no move
                   R"({"node":"n1","epoch":1,"change":"move","moveTo":"N 2"})"})
    EXPECT_FALSE(decode_placement(bad)) << bad;
}

TEST(ClusterRecords, NodeRecordRoundTrips) {
  NodeRecord n{"n1", "10.0.0.1:8111", 1700000000000, 42};
  auto back = decode_node(encode(n));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, n);
  auto minimal = decode_node(R"({"name":"n2"})");
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->rest, "");
  EXPECT_FALSE(decode_node(R"({"rest":"x"})"));
  EXPECT_FALSE(decode_node("nonsense"));
}

TEST(ClusterRecords, NodeNames) {
  EXPECT_TRUE(valid_node_name("n1"));
  EXPECT_TRUE(valid_node_name("node_2-b"));
  EXPECT_TRUE(valid_node_name(std::string(32, 'a')));
  EXPECT_FALSE(valid_node_name(std::string(33, 'a')));
  for (auto bad : {"", "N1", "n 1", "n.1", "n/1", "any%"})
    EXPECT_FALSE(valid_node_name(bad)) << bad;
}

}  // namespace
}  // namespace c8y::cluster
