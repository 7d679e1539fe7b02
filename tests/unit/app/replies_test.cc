// DeviceReplies: a reply reaches a device only on a topic it subscribed to, at the highest QoS
// of the filters that match; the shapes of s/e lines, multi-line replies, JSON errors and the
// end of a publish of SmartREST lines.
#include "plugin/app/replies.h"

#include <gtest/gtest.h>

#include "tests/unit/app/fake_broker_port.h"

namespace c8y::app {
namespace {

using testing::FakeBrokerPort;

Session device(std::initializer_list<std::pair<std::string, int>> subs) {
  Session s;
  s.client_id = "dev1";
  for (auto& [f, q] : subs) s.subscriptions.emplace_back(f, q);
  return s;
}

TEST(DeviceRepliesTest, NothingIsSentOnATopicTheDeviceDidNotSubscribeTo) {
  FakeBrokerPort port;
  DeviceReplies r(port);
  Session s = device({{"s/ds", 1}});
  r.reply(s, "s/e", "40,,x");
  EXPECT_TRUE(port.published.empty());
  r.reply(s, "s/ds", "510,dev1");
  ASSERT_EQ(port.published.size(), 1u);
  EXPECT_EQ(port.published[0].client_id, "dev1");
  EXPECT_EQ(port.published[0].payload, "510,dev1");
}

TEST(DeviceRepliesTest, TheHighestQosOfTheMatchingFiltersIsUsed) {
  FakeBrokerPort port;
  DeviceReplies r(port);
  Session s = device({{"s/#", 0}, {"s/e", 2}, {"t/#", 1}});
  r.reply(s, "s/e", "x");
  r.reply(s, "s/ds", "y");
  ASSERT_EQ(port.published.size(), 2u);
  EXPECT_EQ(port.published[0].qos, 2);
  EXPECT_EQ(port.published[1].qos, 0);
  EXPECT_TRUE(DeviceReplies::subscribed(s, "s/dt"));
  EXPECT_FALSE(DeviceReplies::subscribed(s, "error"));
}

TEST(DeviceRepliesTest, AnErrorLineQuotesItsFieldsAsCsv) {
  FakeBrokerPort port;
  DeviceReplies r(port);
  Session s = device({{"s/e", 1}});
  r.error_line(s, 45, "200", "bad value, \"x\"");
  EXPECT_EQ(port.sent("dev1", "s/e"), std::vector<std::string>{R"(45,200,"bad value, \"x\"")"});
}

TEST(DeviceRepliesTest, LinesGoInOnePublishWithoutATrailingLineEnd) {
  FakeBrokerPort port;
  DeviceReplies r(port);
  Session s = device({{"s/dc/x", 1}});
  r.reply_lines(s, "s/dc/x", {});
  EXPECT_TRUE(port.published.empty());
  r.reply_lines(s, "s/dc/x", {"a,1", "b,2"});
  EXPECT_EQ(port.sent("dev1", "s/dc/x"), std::vector<std::string>{"a,1\nb,2"});
}

TEST(DeviceRepliesTest, AJsonErrorCarriesTheNumberOfTheMessage) {
  FakeBrokerPort port;
  DeviceReplies r(port);
  Session s = device({{"error", 0}});
  s.json_messages = 3;
  r.json_error(s, "general/badRequest", "no");
  auto sent = port.sent("dev1", "error");
  ASSERT_EQ(sent.size(), 1u);
  auto j = nlohmann::json::parse(sent[0]);
  EXPECT_EQ(j["error"], "general/badRequest");
  EXPECT_EQ(j["message"], "no");
  EXPECT_EQ(j["messageId"], 3);
}

TEST(DeviceRepliesTest, FinishLinesRefusesOnAStorageFailureAndSummarisesExcessErrors) {
  FakeBrokerPort port;
  DeviceReplies r(port);
  Session s = device({{"s/e", 1}});
  MessageDecision d = MessageDecision::kAccept;
  r.finish_lines(s, storage::StoreStatus{}, DeviceReplies::kMaxErrorsPerPublish, &d);
  EXPECT_EQ(d, MessageDecision::kAccept);
  EXPECT_TRUE(port.published.empty());
  r.finish_lines(s, storage::StoreStatus{}, DeviceReplies::kMaxErrorsPerPublish + 3, &d);
  EXPECT_EQ(d, MessageDecision::kAccept);
  EXPECT_EQ(port.sent("dev1", "s/e"),
            std::vector<std::string>{"45,,3 more lines of this message rejected"});
  r.finish_lines(s, storage::StoreStatus::Io("disk full"), 0, &d);
  EXPECT_EQ(d, MessageDecision::kRefuse);
  EXPECT_TRUE(port.logged("storage failure for dev1: disk full"));
}

}  // namespace
}  // namespace c8y::app
