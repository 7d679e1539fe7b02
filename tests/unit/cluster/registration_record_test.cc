// The cluster's bootstrap records: keys, values, and what an owner does with one (pure parts of
// plugin/cluster/registration_mirror.h).
#include <gtest/gtest.h>

#include "plugin/cluster/registration_mirror.h"

namespace c8y::cluster {
namespace {

using common::BootstrapRequest;

TEST(RegistrationRecords, KeysLiveBelowThePrefix) {
  Keys k("/prod");
  EXPECT_EQ(registration_key(k, "sn-1"), "/prod/registrations/sn-1");
  EXPECT_EQ(serial_of(k, "/prod/registrations/sn-1"), "sn-1");
  EXPECT_EQ(serial_of(k, "/prod/registrations/"), "");       // no serial
  EXPECT_EQ(serial_of(k, "/prod/registrations/a/b"), "");    // deeper
  EXPECT_EQ(serial_of(k, "/prod/tenants/t1"), "");           // another kind
  EXPECT_EQ(serial_of(k, "/other/registrations/sn-1"), "");  // another prefix
}

TEST(RegistrationRecords, RoundTripKeepsEverythingButSerialAndRevision) {
  BootstrapRequest r{"sn-1", "t3", "ACCEPTED", "n2", "$7$1$c2FsdA==$aGFzaA==", true, 42};
  auto back = decode_registration("sn-1", encode(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->serial, "sn-1");
  EXPECT_EQ(back->tenant, "t3");
  EXPECT_EQ(back->status, "ACCEPTED");
  EXPECT_EQ(back->node, "n2");
  EXPECT_EQ(back->hash, r.hash);
  EXPECT_TRUE(back->installed);
  EXPECT_EQ(back->revision, 0);  // the store's, not the value's
  // No hash, not installed: neither is written.
  BootstrapRequest w{"sn-2", "t1", "WAITING_FOR_CONNECTION", "n1", "", false, 0};
  EXPECT_EQ(encode(w).find("hash"), std::string::npos);
  EXPECT_EQ(decode_registration("sn-2", encode(w)), w);
}

TEST(RegistrationRecords, RefusesWhatIsNotOne) {
  for (auto bad : {"", "{", "[]", "{}", R"({"tenant":"t1"})", R"({"tenant":"t1","status":"DONE"})",
                   R"({"tenant":1,"status":"ACCEPTED"})", R"({"tenant":"","status":"ACCEPTED"})"})
    EXPECT_FALSE(decode_registration("sn", bad)) << bad;
  EXPECT_FALSE(decode_registration("", R"({"tenant":"t1","status":"ACCEPTED"})"));
  // Fields of the wrong type are dropped, not trusted.
  auto r = decode_registration("sn",
                               R"({"tenant":"t1","status":"ACCEPTED","hash":5,"installed":"yes"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->hash, "");
  EXPECT_FALSE(r->installed);
}

TEST(RegistrationRecords, OwnerActsOnContactAndOnAHashNotYetInstalled) {
  BootstrapRequest r{"sn", "t1", "WAITING_FOR_CONNECTION", "n1", "", false, 1};
  EXPECT_EQ(owner_step(r), OwnerStep::kNothing);
  r.status = "PENDING_ACCEPTANCE";
  EXPECT_EQ(owner_step(r), OwnerStep::kContacted);
  r.status = "ACCEPTED";
  EXPECT_EQ(owner_step(r), OwnerStep::kNothing);  // accepted, nobody polled yet
  r.hash = "$7$...";
  EXPECT_EQ(owner_step(r), OwnerStep::kInstall);
  r.installed = true;
  EXPECT_EQ(owner_step(r), OwnerStep::kNothing);  // done: the poller answers its device
}

}  // namespace
}  // namespace c8y::cluster
