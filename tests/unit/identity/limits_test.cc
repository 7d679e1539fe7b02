// A tenant's limits in its options: validation and the overlay on the node's defaults.
#include "plugin/identity/limits.h"

#include <gtest/gtest.h>

#include "plugin/identity/provisioning.h"
#include "tests/unit/temp_dir.h"

namespace c8y::identity {
namespace {

using nlohmann::json;

TEST(Limits, AbsentOrValidLimitsPassTheCheck) {
  EXPECT_FALSE(check_limits(json::object()));
  EXPECT_FALSE(check_limits(json{{"other", 1}}));
  EXPECT_FALSE(check_limits(json::parse(
      R"({"limits": {"devices": 10, "deviceMessagesPerSecond": 0.5, "tenantMessagesPerSecond": 100,
                     "storedBytes": 1000000, "restRequestsPerSecond": 0}})")));
}

TEST(Limits, InvalidLimitsAreRefusedWithTheKeyNamed) {
  auto bad = [](const char* text) { return check_limits(json::parse(text)).value_or(""); };
  EXPECT_EQ(bad(R"({"limits": 5})"), "options.limits must be an object");
  EXPECT_NE(bad(R"({"limits": {"devicez": 5}})").find("devicez is not a limit"), std::string::npos);
  EXPECT_NE(bad(R"({"limits": {"devices": -1}})").find("devices must be a non-negative integer"),
            std::string::npos);
  EXPECT_NE(bad(R"({"limits": {"devices": 1.5}})").find("devices"), std::string::npos);
  EXPECT_NE(bad(R"({"limits": {"storedBytes": "1G"}})").find("storedBytes"), std::string::npos);
  EXPECT_NE(bad(R"({"limits": {"deviceMessagesPerSecond": -2}})").find("deviceMessagesPerSecond"),
            std::string::npos);
  EXPECT_NE(bad(R"({"limits": {"restRequestsPerSecond": 1e12}})").find("restRequestsPerSecond"),
            std::string::npos);
}

TEST(Limits, ATenantsLimitOverridesTheDefaultAndZeroLiftsIt) {
  const common::Limits defaults{100, 10, 1000, 1 << 30, 20};
  EXPECT_EQ(effective_limits(json::object(), defaults), defaults);
  auto l = effective_limits(
      json::parse(R"({"limits": {"devices": 5, "deviceMessagesPerSecond": 0, "storedBytes": 7}})"),
      defaults);
  EXPECT_EQ(l.devices, 5u);
  EXPECT_EQ(l.device_messages_per_s, 0);  // no limit for this tenant
  EXPECT_EQ(l.tenant_messages_per_s, 1000);
  EXPECT_EQ(l.stored_bytes, 7u);
  EXPECT_EQ(l.rest_requests_per_s, 20);
  // An invalid entry (refused at input, so only from an older record) keeps the default.
  EXPECT_EQ(effective_limits(json::parse(R"({"limits": {"devices": "many"}})"), defaults).devices,
            100u);
}

TEST(Limits, TheProvisioningFileRefusesInvalidLimits) {
  testing::TempDir dir;
  auto store = dir.open_store();
  Directory directory(*store);
  ASSERT_TRUE(directory.load().ok());
  ProvisioningReport report;
  auto st = apply_provisioning(
      directory, R"({"tenants": [{"id": "t1", "options": {"limits": {"devices": -3}}}]})", &report);
  EXPECT_EQ(st.code, common::Status::kInvalid);
  EXPECT_NE(st.message.find("tenants[0].options.limits.devices"), std::string::npos) << st.message;
  EXPECT_FALSE(directory.has_tenant("t1"));
  ASSERT_TRUE(apply_provisioning(
                  directory,
                  R"({"tenants": [{"id": "t1", "options": {"limits": {"devices": 3}}}]})", &report)
                  .ok());
  EXPECT_EQ(effective_limits(directory.tenant("t1")->options, {}).devices, 3u);
}

}  // namespace
}  // namespace c8y::identity
