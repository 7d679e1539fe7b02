#include "plugin/policy/topic_policy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "plugin/policy/topic_route.h"

namespace c8y::policy {
namespace {

using namespace std::string_literals;

const char* role_name(Role r) {
  switch (r) {
    case Role::kDevice:
      return "device";
    case Role::kAdmin:
      return "admin";
    case Role::kBootstrap:
      return "bootstrap";
  }
  return "?";
}

const char* access_name(Access a) {
  switch (a) {
    case Access::kRead:
      return "READ";
    case Access::kWrite:
      return "WRITE";
    case Access::kSubscribe:
      return "SUBSCRIBE";
    case Access::kUnsubscribe:
      return "UNSUBSCRIBE";
  }
  return "?";
}

// Printable form of a topic: NUL as \0, long topics shortened.
std::string printable(std::string_view t) {
  std::string out;
  for (const char ch : t.substr(0, 120)) {
    if (ch == '\0') {
      out += "\\0";
    } else {
      out += ch;
    }
  }
  if (t.size() > 120) out += "...(" + std::to_string(t.size()) + " bytes)";
  return out;
}

constexpr Access kAccesses[] = {Access::kRead, Access::kWrite, Access::kSubscribe,
                                Access::kUnsubscribe};

// One expanded row of the matrix.
struct PolicyRow {
  Role role;
  std::string tenant;
  Access access;
  std::string topic;
  bool expected;
};

void PrintTo(const PolicyRow& r, std::ostream* os) {
  *os << role_name(r.role) << "(" << printable(r.tenant) << ") " << access_name(r.access) << " '"
      << printable(r.topic) << "' -> " << (r.expected ? "allow" : "deny");
}

// `allowed` lists the permitted accesses of a row: R(ead) W(rite) S(ubscribe) U(nsubscribe).
bool permits(std::string_view allowed, Access a) {
  const char letter = "RWSU"[static_cast<int>(a)];
  return allowed.find(letter) != std::string_view::npos;
}

void expand(std::vector<PolicyRow>& rows, Role role, const std::string& tenant,
            const std::string& topic, std::string_view allowed) {
  for (const Access a : kAccesses) rows.push_back({role, tenant, a, topic, permits(allowed, a)});
}

// The main matrix: every topic against a device of t1, the bootstrap user (tenant management)
// and the admin of t1, for all four accesses.
struct MatrixRow {
  std::string topic;
  const char* device;
  const char* bootstrap;
  const char* admin;
};

const std::vector<MatrixRow>& matrix() {
  static const std::vector<MatrixRow> rows = {
      // {topic, device of t1, bootstrap user, admin of t1}: the accesses allowed (R W S U).
      // --- Device upstream: write only ---
      {"s/us", "W", "", ""},
      {"t/us", "W", "", ""},
      {"q/us", "W", "", ""},
      {"c/us", "W", "", ""},
      {"s/us/child1", "W", "", ""},
      {"t/us/child1", "W", "", ""},
      {"q/us/child1", "W", "", ""},
      {"c/us/child1", "W", "", ""},
      {"s/uc/xid1", "W", "", ""},
      {"t/uc/xid1", "W", "", ""},
      {"q/uc/xid1", "W", "", ""},
      {"c/uc/xid1", "W", "", ""},
      {"s/uc/xid1/child1", "W", "", ""},
      {"t/uc/xid1/child1", "W", "", ""},
      {"q/uc/xid1/child1", "W", "", ""},
      {"c/uc/xid1/child1", "W", "", ""},
      {"s/ud", "W", "", ""},
      {"t/ud", "W", "", ""},
      {"q/ud", "W", "", ""},
      {"c/ud", "W", "", ""},
      {"s/ud/child1", "W", "", ""},
      {"c/ud/child1", "W", "", ""},
      {"s/ut/xid1", "W", "", ""},
      {"s/uat", "W", "", ""},
      {"s/ul/xid1", "W", "", ""},  // routed so the plugin can answer "not supported"
      {"t/ul/xid1", "W", "", ""},
      {"event/events/create", "W", "", ""},
      {"/event/events/create", "W", "", ""},
      {"t/event/events/create", "W", "", ""},
      {"t//event/events/create", "W", "", ""},
      {"event/events/createBulk", "W", "", ""},
      {"event/events/update/12", "W", "", ""},
      {"event/events/delete/12", "W", "", ""},
      {"alarm/alarms/create", "W", "", ""},
      {"t/alarm/alarms/create", "W", "", ""},
      {"alarm/alarms/update/12", "W", "", ""},
      {"measurement/measurements/create", "W", "", ""},
      {"q/measurement/measurements/createBulk", "W", "", ""},
      {"c/measurement/measurements/create", "W", "", ""},
      {"/measurement/measurements/delete/3", "W", "", ""},
      {"inventory/managedObjects/create", "W", "", ""},
      {"inventory/managedObjects/update", "W", "", ""},
      {"inventory/managedObjects/update/12", "W", "", ""},
      {"inventory/managedObjects/update/child-ext-1", "W", "", ""},
      {"inventory/managedObjects/12/childDevices/create", "W", "", ""},
      {"/inventory/managedObjects/12/childDevices/create", "W", "", ""},
      // --- Bootstrap ---
      {"s/ucr", "", "W", ""},
      {"s/dcr", "", "SU", ""},
      {"s/e", "SU", "SU", ""},
      // --- Device downstream filters: subscribe/unsubscribe only ---
      {"s/ds", "SU", "", ""},
      {"s/dd", "SU", "", ""},
      {"s/dt", "SU", "", ""},
      {"s/dat", "SU", "", ""},
      {"s/dc/xid1", "SU", "", ""},
      {"s/dc/+", "SU", "", ""},
      {"s/dc/#", "SU", "", ""},
      {"error", "SU", "", ""},
      {"devicecontrol/notifications", "SU", "", ""},
      {"notification/operations", "SU", "", ""},
      // --- Not in any table ---
      {"#", "", "", ""},
      {"+", "", "", ""},
      {"+/ds", "", "", ""},
      {"+/us", "", "", ""},
      {"+/+", "", "", ""},
      {"+/#", "", "", ""},
      {"s/#", "", "", ""},
      {"s/+", "", "", ""},
      {"s/d+", "", "", ""},
      {"s/+/xid1", "", "", ""},
      {"s/ds/#", "", "", ""},
      {"s/ds/+", "", "", ""},
      {"s/ds/child1", "", "", ""},  // the device's own s/ds covers its children
      {"s/dd/child1", "", "", ""},
      {"s/ds/", "", "", ""},
      {"s/dc", "", "", ""},
      {"s/dc/", "", "", ""},
      {"s/dc//", "", "", ""},
      {"s/dc/xid1/child1", "", "", ""},
      {"s/dc/xid1/#", "", "", ""},
      {"s/dc/+/+", "", "", ""},
      {"s/dc/+/#", "", "", ""},
      {"s/dc/xid+", "", "", ""},
      {"s/dc/x#", "", "", ""},
      {"s/dc/#/x", "", "", ""},
      {"t/ds", "", "", ""},
      {"q/ds", "", "", ""},
      {"c/ds", "", "", ""},
      {"t/e", "", "", ""},
      {"t/dcr", "", "", ""},
      {"s/dl/xid1", "", "", ""},  // SmartREST 1.0 downstream (not supported)
      {"s/dl/+", "", "", ""},
      {"s/ol/xid1", "", "", ""},
      {"s/ol/#", "", "", ""},
      {"s/us/", "", "", ""},  // empty child
      {"s/us//", "", "", ""},
      {"s/us/child1/x", "", "", ""},
      {"s/us/+", "", "", ""},  // wildcards in a publish path
      {"s/us/#", "", "", ""},
      {"s/uc/+", "", "", ""},
      {"s/uc/+/child1", "", "", ""},
      {"s/uc/xid1/#", "", "", ""},
      {"s/ud/+", "", "", ""},
      {"s/ut/#", "", "", ""},
      {"s/ul/+", "", "", ""},
      {"s/uc", "", "", ""},
      {"s/uc/", "", "", ""},
      {"s/ut", "", "", ""},
      {"t/ut/xid1", "", "", ""},
      {"t/ucr", "", "", ""},
      {"t/uat", "", "", ""},
      {"s/ucr/x", "", "", ""},
      {"s/uat/x", "", "", ""},
      {"s/ul", "", "", ""},
      {"s/event/events/create", "", "", ""},
      {"/t/event/events/create", "", "", ""},
      {"event/events/create/+", "", "", ""},
      {"event/+/create", "", "", ""},
      {"event/events/#", "", "", ""},
      {"event/events", "", "", ""},
      {"event/events/create/1/2", "", "", ""},
      {"operation/operations/create", "", "", ""},
      {"identity/externalIds/create", "", "", ""},
      {"/s/ds", "", "", ""},
      {"/error", "", "", ""},
      {"/devicecontrol/notifications", "", "", ""},
      {"error/", "", "", ""},
      {"error/#", "", "", ""},
      {"error/+", "", "", ""},
      {"devicecontrol/#", "", "", ""},
      {"devicecontrol/+", "", "", ""},
      {"devicecontrol/notifications/x", "", "", ""},
      {"+/notifications", "", "", ""},
      {"notification/#", "", "", ""},
      {"S/DS", "", "", ""},
      {"S/us", "", "", ""},
      {"s", "", "", ""},
      {"/", "", "", ""},
      {"//", "", "", ""},
      {"", "", "", ""},
      // --- '$' topics: denied for everyone ---
      {"$share/g/s/ds", "", "", ""},
      {"$share/g/s/us", "", "", ""},
      {"$share/g/s/dcr", "", "", ""},
      {"$share/g/#", "", "", ""},
      {"$share/g/error", "", "", ""},
      {"$share/g/tenants/t1/notifications/#", "", "", ""},
      {"$share/g/tenants/t1/notifications/measurements/5", "", "", ""},
      {"$SYS/#", "", "", ""},
      {"$SYS/broker/uptime", "", "", ""},
      {"$CONTROL/dynamic-security/v1", "", "", ""},
      {"$CONTROL/#", "", "", ""},
      {"$", "", "", ""},
      {"$s/us", "", "", ""},
      {"$tenants/t1/#", "", "", ""},
      // --- NUL bytes ---
      {"s/us\0"s, "", "", ""},
      {"s/us/child\0"s, "", "", ""},
      {"s/ds\0"s, "", "", ""},
      {"s/dc/x\0"s, "", "", ""},
      {"s/ucr\0"s, "", "", ""},
      {"s/dcr\0"s, "", "", ""},
      {"\0"s, "", "", ""},
      {"tenants/t1/notifications/measurements/5\0"s, "", "", ""},
      {"tenants/t1/notifications/measurements/5\0/x"s, "", "", ""},
      {"tenants/t1/notifications/#\0"s, "", "", ""},
      {"tenants/t1\0/notifications/measurements/5"s, "", "", ""},
      // --- Streams of tenant t1 ---
      {"tenants/t1/notifications/inventory/5", "", "", "RSU"},
      {"tenants/t1/notifications/measurements/5", "", "", "RSU"},
      {"tenants/t1/notifications/events/5", "", "", "RSU"},
      {"tenants/t1/notifications/alarms/5", "", "", "RSU"},
      {"tenants/t1/notifications/operations/5", "", "", "RSU"},
      {"tenants/t1/processing/inventory/5", "", "", "RSU"},
      {"tenants/t1/processing/measurements/5", "", "", "RSU"},
      {"tenants/t1/processing/events/5", "", "", "RSU"},
      {"tenants/t1/processing/alarms/5", "", "", "RSU"},
      {"tenants/t1/processing/operations/5", "", "", "RSU"},
      {"tenants/t1/notifications/measurements/123456789012345", "", "", "RSU"},
      {"tenants/t1/notifications/#", "", "", "SU"},
      {"tenants/t1/processing/#", "", "", "SU"},
      {"tenants/t1/#", "", "", "SU"},
      {"tenants/t1/+/#", "", "", "SU"},
      {"tenants/t1/+/measurements/+", "", "", "SU"},
      {"tenants/t1/+/+/+", "", "", "SU"},
      {"tenants/t1/+/+/#", "", "", "SU"},
      {"tenants/t1/+/+/5", "", "", "SU"},
      {"tenants/t1/notifications/+/5", "", "", "SU"},
      {"tenants/t1/notifications/+/+", "", "", "SU"},
      {"tenants/t1/notifications/alarms/+", "", "", "SU"},
      {"tenants/t1/notifications/alarms/#", "", "", "SU"},
      {"tenants/t1/processing/events/5/#", "", "", "SU"},  // '#' matches the parent level
      {"tenants/t1/+/+/+/#", "", "", "SU"},
      {"tenants/t1/notifications/alarms/5/+", "", "", ""},  // matches nothing
      {"tenants/t1/notifications/alarms/5/x", "", "", ""},
      {"tenants/t1/notifications/alarms/5/#/x", "", "", ""},
      {"tenants/t1/+/+/+/+", "", "", ""},
      {"tenants/t1/notifications/alarms", "", "", ""},
      {"tenants/t1/notifications", "", "", ""},
      {"tenants/t1", "", "", ""},
      {"tenants/t1/", "", "", ""},
      {"tenants/t1/notifications/", "", "", ""},
      {"tenants/t1/notifications/alarms/", "", "", ""},
      {"tenants/t1//alarms/5", "", "", ""},
      {"tenants/t1/notifications//5", "", "", ""},
      {"tenants//t1/notifications/alarms/5", "", "", ""},
      {"tenants/t1/notifications/alarm/5", "", "", ""},  // singular api
      {"tenants/t1/notifications/managedObjects/5", "", "", ""},
      {"tenants/t1/notifications/Alarms/5", "", "", ""},
      {"tenants/t1/notification/alarms/5", "", "", ""},
      {"tenants/t1/Notifications/alarms/5", "", "", ""},
      {"tenants/t1/realtime/alarms/5", "", "", ""},
      {"tenants/t1/other/#", "", "", ""},
      {"tenants/t1/other", "", "", ""},
      {"tenants/t1/#/alarms", "", "", ""},
      {"tenants/t1/notifications/#/5", "", "", ""},
      {"tenants/t1/notifications/alarms/5+", "", "", ""},
      {"tenants/t1/notifications/alarms/5#", "", "", ""},
      {"tenants/t1/notifications/al+/5", "", "", ""},
      {"tenants/t1/noti#", "", "", ""},
      {"tenants/t1/notifications+/alarms/5", "", "", ""},
      {"tenants/t1+/notifications/#", "", "", ""},
      {"tenants/t1#", "", "", ""},
      // --- Other tenants and tenant wildcards ---
      {"tenants/+/notifications/#", "", "", ""},
      {"tenants/+/notifications/alarms/5", "", "", ""},
      {"tenants/+/#", "", "", ""},
      {"tenants/+", "", "", ""},
      {"tenants/#", "", "", ""},
      {"tenants", "", "", ""},
      {"tenants/", "", "", ""},
      {"+/t1/notifications/#", "", "", ""},
      {"+/t1/notifications/alarms/5", "", "", ""},
      {"#/t1", "", "", ""},
      {"/tenants/t1/#", "", "", ""},
      {"/tenants/t1/notifications/alarms/5", "", "", ""},
      {"Tenants/t1/#", "", "", ""},
      {"tenant/t1/#", "", "", ""},
      {"tenants/t10/#", "", "", ""},
      {"tenants/t10/notifications/alarms/5", "", "", ""},
      {"tenants/t1x/notifications/#", "", "", ""},
      {"tenants/t1x/notifications/alarms/5", "", "", ""},
      {"tenants/t/#", "", "", ""},
      {"tenants/T1/#", "", "", ""},
      {"tenants/management/#", "", "", ""},
      {"tenants/t2/notifications/alarms/5", "", "", ""},
  };
  return rows;
}

// Admins of other tenants, prefix confusion and the management tenant.
struct TenantRow {
  Role role;
  std::string tenant;
  std::string topic;
  const char* allowed;
};

const std::vector<TenantRow>& tenant_rows() {
  static const std::string k32(32, 'z');
  static const std::vector<TenantRow> rows = {
      {Role::kAdmin, "t10", "tenants/t10/#", "SU"},
      {Role::kAdmin, "t10", "tenants/t10/notifications/measurements/5", "RSU"},
      {Role::kAdmin, "t10", "tenants/t1/#", ""},
      {Role::kAdmin, "t10", "tenants/t1/notifications/measurements/5", ""},
      {Role::kAdmin, "t10", "tenants/t100/#", ""},
      {Role::kAdmin, "t10", "tenants/t100/notifications/measurements/5", ""},
      {Role::kAdmin, "t10", "tenants/t1/0/notifications/#", ""},
      {Role::kAdmin, "t1x", "tenants/t1x/notifications/#", "SU"},
      {Role::kAdmin, "t1x", "tenants/t1x/processing/events/9", "RSU"},
      {Role::kAdmin, "t1x", "tenants/t1/notifications/#", ""},
      {Role::kAdmin, "t1x", "tenants/t1/notifications/events/9", ""},
      {Role::kAdmin, "t1", "tenants/t1x/notifications/events/9", ""},
      {Role::kAdmin, "t1", "tenants/t10/processing/#", ""},
      {Role::kAdmin, "t2", "tenants/t1/notifications/events/9", ""},
      {Role::kAdmin, "t2", "tenants/t2/notifications/events/9", "RSU"},
      // The management admin is an admin of its own tenant only.
      {Role::kAdmin, "management", "tenants/management/#", "SU"},
      {Role::kAdmin, "management", "tenants/management/processing/alarms/1", "RSU"},
      {Role::kAdmin, "management", "tenants/t1/#", ""},
      {Role::kAdmin, "management", "tenants/t1/notifications/alarms/1", ""},
      {Role::kAdmin, "management", "tenants/+/#", ""},
      {Role::kAdmin, "management", "tenants/#", ""},
      {Role::kAdmin, "management", "#", ""},
      {Role::kAdmin, "management", "s/ucr", ""},
      {Role::kAdmin, "management", "s/dcr", ""},
      {Role::kAdmin, "management", "s/us", ""},
      {Role::kAdmin, "management", "s/ds", ""},
      // Tenant lengths: 1 and 32 are valid.
      {Role::kAdmin, "a", "tenants/a/#", "SU"},
      {Role::kAdmin, "0", "tenants/0/notifications/alarms/1", "RSU"},
      {Role::kAdmin, k32, "tenants/" + k32 + "/#", "SU"},
      {Role::kAdmin, k32, "tenants/" + k32 + "/notifications/alarms/1", "RSU"},
      {Role::kAdmin, k32, "tenants/" + k32.substr(1) + "/#", ""},
      // Invalid tenants deny everything, even a topic that would match them literally.
      {Role::kAdmin, "", "tenants//notifications/alarms/1", ""},
      {Role::kAdmin, "", "tenants//#", ""},
      {Role::kAdmin, "+", "tenants/+/#", ""},
      {Role::kAdmin, "+", "tenants/+/notifications/alarms/1", ""},
      {Role::kAdmin, "#", "tenants/#", ""},
      {Role::kAdmin, "T1", "tenants/T1/#", ""},
      {Role::kAdmin, "t-1", "tenants/t-1/#", ""},
      {Role::kAdmin, "t_1", "tenants/t_1/#", ""},
      {Role::kAdmin, "t 1", "tenants/t 1/#", ""},
      {Role::kAdmin, "t1/notifications", "tenants/t1/notifications/alarms/1", ""},
      {Role::kAdmin, "t1/notifications", "tenants/t1/notifications/#", ""},
      {Role::kAdmin, "t\xc3\xa9", "tenants/t\xc3\xa9/#", ""},
      {Role::kAdmin, "t1\0"s, "tenants/t1\0/#"s, ""},
      {Role::kAdmin, "t1\0"s, "tenants/t1/#", ""},
      {Role::kAdmin, k32 + "z", "tenants/" + k32 + "z/#", ""},
      {Role::kDevice, "", "s/us", ""},
      {Role::kDevice, "", "s/ds", ""},
      {Role::kDevice, "T1", "s/us", ""},
      {Role::kDevice, k32 + "z", "s/us", ""},
      {Role::kDevice, "t1/x", "s/ds", ""},
      {Role::kBootstrap, "", "s/ucr", ""},
      {Role::kBootstrap, "", "s/dcr", ""},
      {Role::kBootstrap, "Management", "s/ucr", ""},
      // Devices and the bootstrap user behave the same in every tenant.
      {Role::kDevice, "management", "s/us", "W"},
      {Role::kDevice, "management", "s/ds", "SU"},
      {Role::kDevice, "management", "tenants/management/#", ""},
      {Role::kDevice, k32, "s/us/child", "W"},
      {Role::kDevice, k32, "s/dc/x", "SU"},
      {Role::kDevice, "t2", "tenants/t2/notifications/alarms/1", ""},
      {Role::kDevice, "t2", "tenants/t2/#", ""},
      {Role::kDevice, "t2", "s/ucr", ""},
      {Role::kBootstrap, "t1", "s/ucr", "W"},
      {Role::kBootstrap, "t1", "s/dcr", "SU"},
      {Role::kBootstrap, "t1", "tenants/t1/#", ""},
  };
  return rows;
}

// Very long topics and filters: an MQTT topic is at most 65535 bytes.
std::vector<PolicyRow> long_rows() {
  std::vector<PolicyRow> rows;
  const std::string child_at_limit(kMaxTopicLength - 5, 'c');  // "s/us/" + child = 65535
  expand(rows, Role::kDevice, "t1", "s/us/" + child_at_limit, "W");
  expand(rows, Role::kDevice, "t1", "s/us/" + child_at_limit + "c", "");
  expand(rows, Role::kDevice, "t1", "s/dc/" + std::string(kMaxTopicLength - 5, 'x'), "SU");
  expand(rows, Role::kDevice, "t1", "s/dc/" + std::string(kMaxTopicLength - 4, 'x'), "");
  expand(rows, Role::kDevice, "t1", std::string(100000, 'a'), "");
  expand(rows, Role::kDevice, "t1", std::string(100000, '/'), "");
  expand(rows, Role::kDevice, "t1", std::string(100000, '#'), "");
  std::string deep = "s/us";
  for (int i = 0; i < 5000; ++i) deep += "/a";
  expand(rows, Role::kDevice, "t1", deep, "");
  const std::string stream = "tenants/t1/notifications/measurements/";
  expand(rows, Role::kAdmin, "t1", stream + std::string(kMaxTopicLength - stream.size(), '9'),
         "RSU");
  expand(rows, Role::kAdmin, "t1", stream + std::string(kMaxTopicLength - stream.size() + 1, '9'),
         "");
  std::string deep_filter = "tenants/t1/notifications/measurements/5";
  for (int i = 0; i < 5000; ++i) deep_filter += "/+";
  expand(rows, Role::kAdmin, "t1", deep_filter, "");
  expand(rows, Role::kAdmin, "t1", deep_filter + "/#", "");
  return rows;
}

std::vector<PolicyRow> all_rows() {
  std::vector<PolicyRow> rows;
  for (const MatrixRow& m : matrix()) {
    expand(rows, Role::kDevice, "t1", m.topic, m.device);
    expand(rows, Role::kBootstrap, "management", m.topic, m.bootstrap);
    expand(rows, Role::kAdmin, "t1", m.topic, m.admin);
  }
  for (const TenantRow& t : tenant_rows()) expand(rows, t.role, t.tenant, t.topic, t.allowed);
  for (PolicyRow& r : long_rows()) rows.push_back(std::move(r));
  return rows;
}

class PolicyMatrixTest : public ::testing::TestWithParam<PolicyRow> {};

TEST_P(PolicyMatrixTest, Decides) {
  const PolicyRow& r = GetParam();
  EXPECT_EQ(allowed(Caller{r.role, r.tenant}, r.access, r.topic), r.expected);
}

INSTANTIATE_TEST_SUITE_P(Matrix, PolicyMatrixTest, ::testing::ValuesIn(all_rows()));

TEST(PolicyTest, MatrixIsLarge) {
  EXPECT_GT(all_rows().size(), 1000u);
}

TEST(PolicyTest, DeviceWritesExactlyTheRoutedTopicsButBootstrap) {
  // The device's WRITE rule is route_upstream() minus s/ucr; check that on every matrix topic.
  for (const MatrixRow& m : matrix()) {
    const auto route = route_upstream(m.topic);
    const bool routed = route && route->channel != Channel::kBootstrap;
    EXPECT_EQ(allowed(Caller{Role::kDevice, "t1"}, Access::kWrite, m.topic), routed)
        << printable(m.topic);
  }
}

TEST(PolicyTest, OutOfRangeEnumsAreDenied) {
  const Role bad_role = static_cast<Role>(7);
  const Access bad_access = static_cast<Access>(9);
  for (const char* t :
       {"s/us", "s/ds", "s/ucr", "s/dcr", "tenants/t1/#", "tenants/t1/notifications/alarms/1"}) {
    for (const Access a : kAccesses) EXPECT_FALSE(allowed(Caller{bad_role, "t1"}, a, t)) << t;
    for (const Role r : {Role::kDevice, Role::kAdmin, Role::kBootstrap}) {
      EXPECT_FALSE(allowed(Caller{r, "t1"}, bad_access, t)) << t;
    }
  }
}

// Invariants of the table, checked on random topics built from the interesting pieces.
TEST(PolicyTest, InvariantsOnRandomTopics) {
  // clang-format off
  const std::vector<std::string> pieces = {
      "s", "t", "q", "c", "us", "ds", "uc", "dc", "ucr", "dcr", "e", "ut", "x", "+", "#", "",
      "tenants", "t1", "t10", "t2", "notifications", "processing", "measurements", "alarms", "5",
      "event", "events", "create", "inventory", "managedObjects", "error", "$share", "$SYS",
      "devicecontrol", "childDevices", "update"};
  // clang-format on
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<size_t> piece(0, pieces.size() - 1);
  std::uniform_int_distribution<int> levels(1, 7);
  const Caller device{Role::kDevice, "t1"};
  const Caller boot{Role::kBootstrap, "management"};
  const Caller admin1{Role::kAdmin, "t1"};
  const Caller admin10{Role::kAdmin, "t10"};
  int device_writes = 0, device_subscribes = 0, admin_reads = 0, admin_subscribes = 0;
  for (int i = 0; i < 200000; ++i) {
    // Half of the topics start in some tenant's namespace, so that streams come up often.
    static const char* const kTenantPrefixes[] = {"tenants/t1/", "tenants/t10/", "tenants/t1/",
                                                  "tenants/+/", "tenants/t10/"};
    std::string topic = i % 2 ? kTenantPrefixes[i / 2 % 5] : "";
    const int n = levels(rng);
    for (int l = 0; l < n; ++l) {
      if (l > 0) topic += '/';
      topic += pieces[piece(rng)];
    }
    SCOPED_TRACE(topic);
    for (const Caller& c : {device, boot, admin1, admin10}) {
      // A filter that may be subscribed may be unsubscribed (a denied UNSUBSCRIBE would leave
      // the subscription in place).
      ASSERT_EQ(allowed(c, Access::kSubscribe, topic), allowed(c, Access::kUnsubscribe, topic));
      // '$' topics never.
      if (topic[0] == '$') {
        for (const Access a : kAccesses) ASSERT_FALSE(allowed(c, a, topic));
      }
    }
    device_writes += allowed(device, Access::kWrite, topic);
    device_subscribes += allowed(device, Access::kSubscribe, topic);
    admin_reads += allowed(admin1, Access::kRead, topic);
    admin_subscribes += allowed(admin1, Access::kSubscribe, topic);
    ASSERT_FALSE(allowed(device, Access::kRead, topic));
    ASSERT_FALSE(allowed(boot, Access::kRead, topic));
    ASSERT_FALSE(allowed(admin1, Access::kWrite, topic));
    if (allowed(device, Access::kWrite, topic)) {
      ASSERT_TRUE(route_upstream(topic));
    }
    if (allowed(boot, Access::kWrite, topic)) {
      ASSERT_EQ(topic, "s/ucr");
    }
    for (const Access a : {Access::kRead, Access::kSubscribe}) {
      if (allowed(admin1, a, topic)) {
        ASSERT_TRUE(topic.starts_with("tenants/t1/"));
        ASSERT_FALSE(allowed(admin10, a, topic));
      }
      if (allowed(admin10, a, topic)) {
        ASSERT_TRUE(topic.starts_with("tenants/t10/"));
      }
    }
    // READ of a concrete topic implies that some allowed filter matches it.
    if (allowed(admin1, Access::kRead, topic)) {
      ASSERT_TRUE(allowed(admin1, Access::kSubscribe, topic));
      ASSERT_TRUE(allowed(admin1, Access::kSubscribe, "tenants/t1/#"));
    }
    // Wildcards never pass in a topic (publish or delivery).
    if (topic.find_first_of("+#") != std::string::npos) {
      for (const Caller& c : {device, boot, admin1, admin10}) {
        ASSERT_FALSE(allowed(c, Access::kWrite, topic));
        ASSERT_FALSE(allowed(c, Access::kRead, topic));
      }
    }
  }
  // The generator reaches the allowed parts of the table, not only denials.
  EXPECT_GT(device_writes, 100);
  EXPECT_GT(device_subscribes, 100);
  EXPECT_GT(admin_reads, 10);
  EXPECT_GT(admin_subscribes, 100);
  std::printf("random topics allowed: device W %d S %d, admin R %d S %d\n", device_writes,
              device_subscribes, admin_reads, admin_subscribes);
}

}  // namespace
}  // namespace c8y::policy
