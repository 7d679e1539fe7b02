// DeviceCredentials (bootstrap pairing, device tokens) and the UpstreamRouter (the message cap,
// unknown topics, wills) over the component rig. Certificate login needs a certificate chain and
// is covered by the integration suite (test_certificates.py).
#include <gtest/gtest.h>

#include <variant>

#include "plugin/app/device_credentials.h"
#include "plugin/app/upstream.h"
#include "plugin/identity/device_token.h"
#include "plugin/identity/password_hash.h"
#include "tests/unit/app/component_rig.h"

namespace c8y::app {
namespace {

Options fast_polls() {
  Options o;
  o.bootstrap_poll_interval_ms = 0;
  return o;
}

TEST(DeviceCredentialsTest, AnAcceptedDeviceGetsFreshCredentialsThatLogIn) {
  testing::ComponentRig rig(fast_polls());
  ASSERT_EQ(rig.registrations().create("t1", "boot1", "admin", 1).status.code, common::Status::kOk);
  Session& s = rig.session("boot1", "management", policy::Role::kBootstrap, {"s/dcr"});
  rig.c().credentials.bootstrap_poll(s);  // waiting for acceptance: nothing
  EXPECT_TRUE(rig.port.sent("boot1", "s/dcr").empty());
  ASSERT_EQ(rig.registrations()
                .set_status("t1", "boot1", identity::RegistrationStatus::kAccepted, 2)
                .status.code,
            common::Status::kOk);
  s.extra_mut().last_poll_ms = 0;
  rig.c().credentials.bootstrap_poll(s);
  auto lines = rig.port.sent("boot1", "s/dcr");
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_TRUE(lines[0].starts_with("70,t1,device_boot1,")) << lines[0];
  const std::string password = lines[0].substr(std::string("70,t1,device_boot1,").size());
  auto user = rig.directory().user("t1", "device_boot1");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->device_serial, "boot1");
  EXPECT_EQ(user->role, policy::Role::kDevice);
  EXPECT_TRUE(identity::verify_password(user->password_hash, password));
  EXPECT_EQ(user->password_hash.find(password), std::string::npos);  // only the hash is kept
}

TEST(DeviceCredentialsTest, APollerThatPollsTooFastIsDisconnected) {
  testing::ComponentRig rig;  // one poll a second
  ASSERT_EQ(rig.registrations().create("t1", "boot2", "admin", 1).status.code, common::Status::kOk);
  Session& s = rig.session("boot2", "management", policy::Role::kBootstrap, {"s/dcr"});
  for (int i = 0; i < 21; ++i) rig.c().credentials.bootstrap_poll(s);
  size_t kicks = 0;
  for (auto& item : rig.outbox.take())
    if (auto* k = std::get_if<common::outbox::Kick>(&item)) kicks += k->client_id == "boot2";
  EXPECT_EQ(kicks, 1u);
}

TEST(DeviceCredentialsTest, TokensGoOnlyToCertificateDevicesAndRepeatWithinHalfTheirLifetime) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1", "t1", policy::Role::kDevice, {"s/e", "s/dat"});
  rig.c().credentials.token_request(s);
  EXPECT_TRUE(rig.port.sent("dev1", "s/dat").empty());
  EXPECT_EQ(rig.port.sent("dev1", "s/e"),
            std::vector<std::string>{
                "41,,Device tokens are only issued to certificate-authenticated devices"});
  s.extra_mut().ca_fingerprint = "AB:CD";
  rig.c().credentials.token_request(s);
  rig.c().credentials.token_request(s);
  auto tokens = rig.port.sent("dev1", "s/dat");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0], tokens[1]);
  ASSERT_TRUE(tokens[0].starts_with("71,"));
  std::string why;
  auto claims =
      identity::verify_device_token(std::string_view(tokens[0]).substr(3),
                                    "0123456789abcdef0123456789abcdef", wall_seconds(), &why);
  ASSERT_TRUE(claims) << why;
  EXPECT_EQ(claims->tenant, "t1");
  EXPECT_EQ(claims->serial, "dev1");
}

TEST(UpstreamRouterTest, AMessageOverTheCapIsDroppedWithAnErrorInTheTopicsLanguage) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  EXPECT_EQ(rig.c().upstream.publish(s, "s/us", "211,1", 16185), MessageDecision::kDrop);
  EXPECT_EQ(rig.c().upstream.publish(s, "event/events/create", "{}", 20000),
            MessageDecision::kDrop);
  auto line = rig.port.sent("dev1", "s/e");
  ASSERT_EQ(line.size(), 1u);
  EXPECT_EQ(line[0], "45,,Message too large: 16185 bytes exceeds the limit of 16184 bytes");
  auto err = rig.port.sent("dev1", "error");
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(err[0])["error"], "general/messageTooLarge");
  EXPECT_FALSE(rig.device_id("t1", "dev1"));
  EXPECT_EQ(rig.c().upstream.publish(s, "s/us", "211,1", 16184), MessageDecision::kAccept);
  EXPECT_TRUE(rig.device_id("t1", "dev1"));
}

TEST(UpstreamRouterTest, UnknownTopicsAndSmartRestOneAreAnswered) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  EXPECT_EQ(rig.c().upstream.publish(s, "no/such/topic", "x", 20), MessageDecision::kDrop);
  EXPECT_EQ(rig.c().upstream.publish(s, "s/ul/xid", "x", 14), MessageDecision::kAccept);
  auto lines = rig.port.sent("dev1", "s/e");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "40,,Unsupported topic: no/such/topic");
  EXPECT_TRUE(lines[1].starts_with("40,,SmartREST 1.0 is not supported")) << lines[1];
}

TEST(UpstreamRouterTest, AWillIsHandledAsThePublishOfItsDeviceAndLeavesItDisconnected) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  rig.c().upstream.will(s, "s/us", "400,c8y_Will,gone");
  auto id = rig.device_id("t1", "dev1");
  ASSERT_TRUE(id);
  EXPECT_TRUE(rig.port.logged("last will of dev1 on s/us processed"));
  rig.c().presence.flush();
  EXPECT_EQ((*rig.inventory("t1").get(*id))["c8y_Connection"]["status"], "DISCONNECTED");
  // Wills of applications and wills on topics a device may not write are ignored.
  Session& admin = rig.session("app", "t1", policy::Role::kAdmin);
  rig.c().upstream.will(admin, "s/us", "100");
  rig.c().upstream.will(s, "tenants/t1/x", "1");
  EXPECT_FALSE(rig.device_id("t1", "app"));
  EXPECT_FALSE(rig.port.logged("on tenants/t1/x"));
}

}  // namespace
}  // namespace c8y::app
