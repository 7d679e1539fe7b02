// The audit log (domain/audit.h) and the records operations and alarms write, against a real
// Store.
#include "plugin/domain/audit.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "plugin/common/values.h"
#include "plugin/domain/alarms.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/operations.h"
#include "plugin/domain/tenant_space.h"
#include "tests/unit/temp_dir.h"

namespace c8y::domain {
namespace {

constexpr uint64_t kDevice = 5003;

class Audit : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    for (const char* t : {"t1", "t2"}) {
      const storage::Family* f = nullptr;
      ASSERT_TRUE(store_->create_tenant(t, &f).ok());
      spaces_.push_back(std::make_unique<TenantSpace>(*store_, t, f, 3));
    }
  }

  TenantSpace& t1() { return *spaces_[0]; }
  TenantSpace& t2() { return *spaces_[1]; }

  std::vector<nlohmann::json> list(TenantSpace& space, AuditQuery q = {}) {
    q.page_size = 100;
    AuditLog log(*store_, space);
    DocPage page;
    auto st = log.query(q, &page);
    EXPECT_TRUE(st.ok()) << st.message;
    return page.docs;
  }

  static std::vector<std::string> activities(const std::vector<nlohmann::json>& docs) {
    std::vector<std::string> out;
    for (auto& d : docs) out.push_back(d.value("activity", ""));
    return out;
  }

  AuditEntry entry(std::string type, std::string user, uint64_t source = 0) {
    AuditEntry e;
    e.type = std::move(type);
    e.activity = e.type + " changed";
    e.text = "text";
    e.user = std::move(user);
    e.source = source;
    return e;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::vector<std::unique_ptr<TenantSpace>> spaces_;
};

TEST_F(Audit, RecordHasCumulocityShapeAndIsFoundById) {
  AuditLog log(*store_, t1());
  auto e = entry("Operation", "admin", 42);
  e.changes.push_back(audit_change("status", "x.Status", "PENDING", "EXECUTING"));
  nlohmann::json r;
  ASSERT_TRUE(log.record(e, &r).ok());
  auto id = parse_id(r.value("id", ""));
  ASSERT_TRUE(id);
  auto got = log.get(*id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, r);
  EXPECT_EQ((*got)["type"], "Operation");
  EXPECT_EQ((*got)["activity"], "Operation changed");
  EXPECT_EQ((*got)["user"], "admin");
  EXPECT_EQ((*got)["severity"], "information");
  EXPECT_EQ((*got)["source"]["id"], "42");
  EXPECT_EQ((*got)["time"], (*got)["creationTime"]);
  ASSERT_EQ((*got)["changes"].size(), 1u);
  EXPECT_EQ((*got)["changes"][0]["previousValue"], "PENDING");
  EXPECT_EQ((*got)["changes"][0]["newValue"], "EXECUTING");
  EXPECT_EQ((*got)["changes"][0]["changeType"], "REPLACED");
  // A record without a source has no "source" at all.
  nlohmann::json u;
  ASSERT_TRUE(log.record(entry("User", "admin"), &u).ok());
  EXPECT_FALSE(u.contains("source"));
  EXPECT_FALSE(AuditLog(*store_, t2()).get(*id));  // another tenant's id is unknown there
}

TEST_F(Audit, FiltersBySourceTypeUserAndDate) {
  AuditLog log(*store_, t1());
  ASSERT_TRUE(log.record(entry("Operation", "alice", 1)).ok());
  ASSERT_TRUE(log.record(entry("Operation", "bob", 2)).ok());
  ASSERT_TRUE(log.record(entry("Alarm", "alice", 1)).ok());
  ASSERT_TRUE(log.record(entry("User", "bob")).ok());

  EXPECT_EQ(list(t1()).size(), 4u);
  AuditQuery q;
  q.source = 1;
  auto by_source = list(t1(), q);
  ASSERT_EQ(by_source.size(), 2u);
  for (auto& r : by_source) EXPECT_EQ(r["source"]["id"], "1");
  q = {};
  q.type = "Operation";
  EXPECT_EQ(list(t1(), q).size(), 2u);
  q.user = "bob";
  auto op_bob = list(t1(), q);
  ASSERT_EQ(op_bob.size(), 1u);
  EXPECT_EQ(op_bob[0]["source"]["id"], "2");
  q = {};
  q.source = 1;
  q.type = "Alarm";
  EXPECT_EQ(list(t1(), q).size(), 1u);

  // Dates: everything is from "now"; a range in the past finds nothing, one around now all.
  auto first = common::parse_iso8601_ms(list(t1())[0].value("time", ""));
  ASSERT_TRUE(first);
  q = {};
  q.date_to = *first;  // exclusive
  EXPECT_TRUE(list(t1(), q).empty());
  q.date_from = *first;
  q.date_to = *first + 60'000;
  EXPECT_EQ(list(t1(), q).size(), 4u);
}

TEST_F(Audit, NewestFirstWithRevertAndPaged) {
  AuditLog log(*store_, t1());
  for (int i = 0; i < 5; ++i) {
    auto e = entry("User", "admin");
    e.activity = "a" + std::to_string(i);
    ASSERT_TRUE(log.record(e).ok());
  }
  EXPECT_EQ(activities(list(t1())), (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"}));
  AuditQuery q;
  q.revert = true;
  EXPECT_EQ(activities(list(t1(), q)), (std::vector<std::string>{"a4", "a3", "a2", "a1", "a0"}));
  DocPage page;
  q = {};
  q.page_size = 2;
  q.page = 2;
  ASSERT_TRUE(log.query(q, &page).ok());
  EXPECT_EQ(activities(page.docs), (std::vector<std::string>{"a2", "a3"}));
  EXPECT_TRUE(page.more);
}

TEST_F(Audit, OperationCreationAndStatusChangesAreRecordedOnce) {
  Operations ops(*store_, t1());
  ops.actor = "admin";
  nlohmann::json op;
  ASSERT_TRUE(ops.create(kDevice,
                         {{"description", "Restart"}, {"c8y_Restart", nlohmann::json::object()}},
                         1000, &op)
                  .ok());
  const uint64_t id = *parse_id(op.value("id", ""));

  Operations device(*store_, t1());
  device.actor = "device_a";
  auto r = device.apply(StatusTemplate::k501, kDevice, "c8y_Restart", 0, nlohmann::json::object());
  ASSERT_EQ(r.size(), 1u);
  ASSERT_TRUE(r[0].status.ok());
  // 504 on an EXECUTING operation changes nothing: no record.
  r = device.apply(StatusTemplate::k504, kDevice, "", id, nlohmann::json::object());
  ASSERT_TRUE(r[0].status.ok());
  // A REST edit without a status change: no record.
  ASSERT_TRUE(ops.update(id, {{"note", "x"}}).status.ok());
  r = device.apply(StatusTemplate::k503, kDevice, "c8y_Restart", 0, nlohmann::json::object());
  ASSERT_TRUE(r[0].status.ok());
  // Refused (final): no record.
  EXPECT_TRUE(ops.update(id, {{"status", "PENDING"}}).status.invalid());

  AuditQuery q;
  q.source = id;
  auto recs = list(t1(), q);
  ASSERT_EQ(activities(recs), (std::vector<std::string>{"Operation created", "Operation updated",
                                                        "Operation updated"}));
  EXPECT_EQ(recs[0]["user"], "admin");
  EXPECT_EQ(recs[0]["type"], "Operation");
  EXPECT_NE(recs[0]["text"].get<std::string>().find("status='PENDING'"), std::string::npos);
  EXPECT_NE(recs[0]["text"].get<std::string>().find("description='Restart'"), std::string::npos);
  EXPECT_TRUE(recs[0]["changes"].empty());
  EXPECT_EQ(recs[1]["user"], "device_a");
  EXPECT_EQ(recs[1]["changes"][0]["previousValue"], "PENDING");
  EXPECT_EQ(recs[1]["changes"][0]["newValue"], "EXECUTING");
  EXPECT_EQ(recs[2]["changes"][0]["previousValue"], "EXECUTING");
  EXPECT_EQ(recs[2]["changes"][0]["newValue"], "SUCCESSFUL");
  EXPECT_TRUE(list(t2()).empty());  // tenant isolation
}

TEST_F(Audit, AlarmCreationAndStatusChangesAreRecordedNotRepeatsOrSeverity) {
  Alarms device(*store_, t1());
  device.actor = "device_a";
  auto r = device.raise(kDevice, 1000, "c8y_TestAlarm", "MAJOR", "hot", nlohmann::json::object());
  ASSERT_TRUE(r.status.ok());
  const uint64_t id = *parse_id(r.alarm.value("id", ""));
  // Repeats raise the count and change no status: no record.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(
        device.raise(kDevice, 2000 + i, "c8y_TestAlarm", "MAJOR", "hot", nlohmann::json::object())
            .status.ok());
  ASSERT_TRUE(device.set_severity(kDevice, "c8y_TestAlarm", "MINOR").status.ok());
  Alarms rest(*store_, t1());
  rest.actor = "admin";
  ASSERT_TRUE(rest.update(id, {{"status", "ACKNOWLEDGED"}}).status.ok());
  ASSERT_TRUE(device.clear(kDevice, "c8y_TestAlarm").status.ok());

  AuditQuery q;
  q.source = id;
  auto recs = list(t1(), q);
  ASSERT_EQ(activities(recs),
            (std::vector<std::string>{"Alarm created", "Alarm updated", "Alarm updated"}));
  EXPECT_EQ(recs[0]["user"], "device_a");
  EXPECT_EQ(recs[0]["type"], "Alarm");
  EXPECT_EQ(recs[1]["user"], "admin");
  EXPECT_EQ(recs[1]["changes"][0]["newValue"], "ACKNOWLEDGED");
  EXPECT_EQ(recs[2]["user"], "device_a");
  EXPECT_EQ(recs[2]["changes"][0]["previousValue"], "ACKNOWLEDGED");
  EXPECT_EQ(recs[2]["changes"][0]["newValue"], "CLEARED");
  q = {};
  q.type = "Alarm";
  EXPECT_EQ(list(t1(), q).size(), 3u);
  EXPECT_TRUE(list(t2()).empty());
}

}  // namespace
}  // namespace c8y::domain
