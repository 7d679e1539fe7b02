// The records of cluster-wide client-id claims (plugin/cluster/client_claims.h): keys and values.
#include "plugin/cluster/client_claims.h"

#include <gtest/gtest.h>

namespace c8y::cluster {
namespace {

TEST(ClientClaimRecords, KeysLiveBelowThePrefix) {
  Keys k("/prod");
  EXPECT_EQ(claims_dir(k), "/prod/clients/");
  EXPECT_EQ(claim_key(k, "d:1234:x"), "/prod/clients/d:1234:x");
  EXPECT_EQ(claim_key(Keys(), "1234"), "/c8y/clients/1234");
  // A client id is taken as it is (etcd keys are bytes): a slash stays a byte of the id.
  EXPECT_EQ(claim_key(k, "app/1"), "/prod/clients/app/1");
}

TEST(ClientClaimRecords, RoundTripAndRefuseWhatIsNotAClaim) {
  ClaimRecord c{"t1", "device_1234", "n1"};
  auto back = decode_claim(encode(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, c);
  // The node is for people: a claim without it is still a claim.
  auto no_node = decode_claim(R"({"tenant":"t1","identity":"u"})");
  ASSERT_TRUE(no_node);
  EXPECT_EQ(no_node->node, "");
  for (auto bad : {"", "{", "[]", "{}", R"({"tenant":"t1"})", R"({"identity":"u"})",
                   R"({"tenant":"","identity":"u"})", R"({"tenant":"t1","identity":""})",
                   R"({"tenant":1,"identity":"u"})", R"({"tenant":"t1","identity":["u"]})"})
    EXPECT_FALSE(decode_claim(bad)) << bad;
}

}  // namespace
}  // namespace c8y::cluster
