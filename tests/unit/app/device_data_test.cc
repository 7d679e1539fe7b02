// MeasurementWriter and DeviceAvailability over a real store: measurements stored by mode and
// published on the streams; lastMessage, the unavailability alarm of a quiet device and its
// clearing by the next data.
#include <gtest/gtest.h>

#include "plugin/app/device_availability.h"
#include "plugin/app/measurement_writer.h"
#include "plugin/common/values.h"
#include "plugin/domain/alarms.h"
#include "tests/unit/app/component_rig.h"

namespace c8y::app {
namespace {

domain::Measurement temperature(double v) {
  domain::Measurement m;
  m.type = "c8y_Temperature";
  m.time_ms = 1'700'000'000'000;
  auto& s = m.add();
  s.fragment = "c8y_Temperature";
  s.series = "T";
  s.value = v;
  s.unit = "C";
  return m;
}

size_t stored_measurements(testing::ComponentRig& rig, uint64_t device) {
  EXPECT_TRUE(rig.store().settle().ok());
  domain::Measurements ms(rig.store(), rig.space("t1"));
  domain::MeasurementQuery q;
  q.source = device;
  q.page_size = 100;
  std::vector<domain::Measurement> found;
  bool more = false;
  EXPECT_TRUE(ms.query(q, &found, &more).ok());
  return found.size();
}

TEST(MeasurementWriterTest, PersistentAndQuiescentStoreTransientAndCepOnlyPublish) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  storage::StoreStatus st;
  uint64_t dev = rig.c().devices.own_device(s, "", "", &st);
  for (auto mode : {policy::Mode::kPersistent, policy::Mode::kQuiescent, policy::Mode::kTransient,
                    policy::Mode::kCep}) {
    auto m = temperature(1);
    ASSERT_TRUE(rig.c().writer.write(s, mode, dev, m).ok());
  }
  EXPECT_EQ(stored_measurements(rig, dev), 2u);
}

TEST(MeasurementWriterTest, TheStreamsSeeTheMeasurementWithItsIdOnlyWhenStored) {
  testing::ComponentRig rig;
  Session& s = rig.session("dev1");
  storage::StoreStatus st;
  uint64_t dev = rig.c().devices.own_device(s, "", "", &st);
  auto m = temperature(21.5);
  nlohmann::json out;
  ASSERT_TRUE(rig.c().writer.write(s, policy::Mode::kPersistent, dev, m, &out).ok());
  EXPECT_TRUE(out.contains("id"));
  EXPECT_EQ(out["source"]["id"], domain::format_id(dev));
  EXPECT_EQ(out["c8y_Temperature"]["T"]["value"], 21.5);
  EXPECT_TRUE(rig.port.published.empty());  // nobody listens
  rig.c().streams.subscribed("t1");
  auto t = temperature(3);
  ASSERT_TRUE(rig.c().writer.write(s, policy::Mode::kTransient, dev, t, &out).ok());
  EXPECT_FALSE(out.contains("id"));
  ASSERT_FALSE(rig.port.published.empty());
  EXPECT_NE(rig.port.published[0].topic.find("measurements"), std::string::npos);
}

class DeviceAvailabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_ = &rig_.session("dev1");
    storage::StoreStatus st;
    dev_ = rig_.c().devices.own_device(*s_, "", "", &st);
    ASSERT_TRUE(rig_.inventory("t1")
                    .merge(dev_, {{"c8y_RequiredAvailability", {{"responseInterval", 1}}}})
                    .ok());
  }
  std::optional<nlohmann::json> open_alarm() {
    domain::Alarms alarms(rig_.store(), rig_.space("t1"));
    domain::AlarmQuery q;
    q.source = dev_;
    q.type = {"c8y_UnavailabilityAlarm"};
    q.resolved = false;
    domain::DocPage page;
    EXPECT_TRUE(alarms.query(q, &page).ok());
    if (page.docs.empty()) return std::nullopt;
    return page.docs[0];
  }
  std::string status() {
    auto mo = rig_.inventory("t1").get(dev_);
    return (*mo)["c8y_Availability"].value("status", "");
  }

  testing::ComponentRig rig_;
  Session* s_ = nullptr;
  uint64_t dev_ = 0;
  const int64_t t0_ = 1'700'000'000'000;
};

TEST_F(DeviceAvailabilityTest, DataWritesLastMessageAndAQuietDeviceGetsOneAlarm) {
  rig_.c().availability.note_data(*s_, dev_, t0_);
  auto mo = rig_.inventory("t1").get(dev_);
  EXPECT_EQ((*mo)["c8y_Availability"]["lastMessage"], common::format_iso8601_ms(t0_));
  EXPECT_EQ(status(), "AVAILABLE");

  rig_.c().availability.check(t0_ + 59'000);
  EXPECT_FALSE(open_alarm());
  rig_.c().availability.check(t0_ + 61'000);
  auto alarm = open_alarm();
  ASSERT_TRUE(alarm);
  EXPECT_EQ((*alarm)["severity"], "MAJOR");
  EXPECT_EQ(status(), "UNAVAILABLE");
  rig_.c().availability.check(t0_ + 200'000);  // reported once
  domain::Alarms alarms(rig_.store(), rig_.space("t1"));
  EXPECT_EQ((*open_alarm())["count"], 1);

  // The next data clears it.
  rig_.c().availability.note_data(*s_, dev_, t0_ + 300'000);
  EXPECT_FALSE(open_alarm());
  EXPECT_EQ(status(), "AVAILABLE");
}

TEST_F(DeviceAvailabilityTest, AWatchedDeviceThatNeverSendsIsReportedAndADeletedOneIsNot) {
  EXPECT_EQ(rig_.c().availability.watch_monitored_devices(rig_.spaces()), 1u);
  rig_.c().availability.object_changed(&rig_.space("t1"), dev_, /*deleted=*/true);
  rig_.c().availability.check(app::now_ms() + 120'000);
  EXPECT_FALSE(open_alarm());
  rig_.c().availability.object_changed(&rig_.space("t1"), dev_, /*deleted=*/false);
  rig_.c().availability.check(app::now_ms() + 120'000);
  EXPECT_TRUE(open_alarm());
}

TEST_F(DeviceAvailabilityTest, ADataBurstIsNotedOncePer100Milliseconds) {
  rig_.c().availability.note_data(*s_, dev_, t0_);
  EXPECT_EQ(s_->noted_ms, t0_);
  rig_.c().availability.note_data(*s_, dev_, t0_ + 50);
  EXPECT_EQ(s_->noted_ms, t0_);
  rig_.c().availability.note_data(*s_, dev_, t0_ + 150);
  EXPECT_EQ(s_->noted_ms, t0_ + 150);
}

}  // namespace
}  // namespace c8y::app
