#include "plugin/policy/topic_route.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace c8y::policy {

// gtest printers, so that failures show the route instead of bytes.
void PrintTo(const TopicRoute& r, std::ostream* os) {
  *os << "{" << mode_name(r.mode) << " " << channel_name(r.channel) << " xid='" << r.xid
      << "' child='" << r.child << "' api='" << r.json_api << "' resource='" << r.json_resource
      << "' action='" << r.json_action << "' id='" << r.json_id << "' parent='" << r.json_parent_id
      << "'}";
}

namespace {

struct Prefix {
  std::string text;  // "s/", "t/", ...
  Mode mode;
};
const std::vector<Prefix> kSmartRestPrefixes = {{"s/", Mode::kPersistent},
                                                {"t/", Mode::kTransient},
                                                {"q/", Mode::kQuiescent},
                                                {"c/", Mode::kCep}};
// JSON: persistent has no prefix.
const std::vector<Prefix> kJsonPrefixes = {{"", Mode::kPersistent},
                                           {"t/", Mode::kTransient},
                                           {"q/", Mode::kQuiescent},
                                           {"c/", Mode::kCep}};

TopicRoute smartrest(Mode mode, Channel channel, std::string_view xid = {},
                     std::string_view child = {}) {
  TopicRoute r;
  r.mode = mode;
  r.channel = channel;
  r.xid = xid;
  r.child = child;
  return r;
}

TopicRoute json(Mode mode, std::string_view api, std::string_view resource, std::string_view action,
                std::string_view id = {}, std::string_view parent = {}) {
  TopicRoute r;
  r.mode = mode;
  r.channel = Channel::kJson;
  r.json_api = api;
  r.json_resource = resource;
  r.json_action = action;
  r.json_id = id;
  r.json_parent_id = parent;
  return r;
}

struct RouteRow {
  std::string topic;
  std::optional<TopicRoute> expected;
};

void PrintTo(const RouteRow& row, std::ostream* os) {
  *os << "'" << row.topic << "' -> ";
  if (row.expected) {
    PrintTo(*row.expected, os);
  } else {
    *os << "nullopt";
  }
}

// The JSON endpoints and actions (supported ones and a few unsupported
// combinations: those route too, the domain layer answers them).
struct JsonTopic {
  std::string path;  // after the prefix, without leading '/'
  std::string api, resource, action, id, parent;
};
const std::vector<JsonTopic> kJsonTopics = {
    {"event/events/create", "event", "events", "create", "", ""},
    {"event/events/createBulk", "event", "events", "createBulk", "", ""},
    {"event/events/update/123", "event", "events", "update", "123", ""},
    {"event/events/delete/123", "event", "events", "delete", "123", ""},
    {"alarm/alarms/create", "alarm", "alarms", "create", "", ""},
    {"alarm/alarms/createBulk", "alarm", "alarms", "createBulk", "", ""},
    {"alarm/alarms/update/77", "alarm", "alarms", "update", "77", ""},
    {"alarm/alarms/delete/77", "alarm", "alarms", "delete", "77", ""},  // unsupported: domain
    {"measurement/measurements/create", "measurement", "measurements", "create", "", ""},
    {"measurement/measurements/createBulk", "measurement", "measurements", "createBulk", "", ""},
    {"measurement/measurements/delete/9", "measurement", "measurements", "delete", "9", ""},
    {"measurement/measurements/update/9", "measurement", "measurements", "update", "9", ""},
    {"inventory/managedObjects/create", "inventory", "managedObjects", "create", "", ""},
    {"inventory/managedObjects/update/4711", "inventory", "managedObjects", "update", "4711", ""},
    {"inventory/managedObjects/update", "inventory", "managedObjects", "update", "", ""},
    {"inventory/managedObjects/update/thin-edge:child-01", "inventory", "managedObjects", "update",
     "thin-edge:child-01", ""},
    {"inventory/managedObjects/delete/5", "inventory", "managedObjects", "delete", "5", ""},
    {"inventory/managedObjects/4711/childDevices/create", "inventory", "childDevices", "create", "",
     "4711"},
    {"inventory/managedObjects/4711/childDevices/delete", "inventory", "childDevices", "delete", "",
     "4711"},
    {"event/unknownResource/create", "event", "unknownResource", "create", "", ""},
    // Syntactically A/R/Act/Id with Act = "1": routed, the domain answers "unsupported".
    {"inventory/managedObjects/1/childDevices", "inventory", "managedObjects", "1", "childDevices",
     ""},
    {"alarm/alarms/frobnicate", "alarm", "alarms", "frobnicate", "", ""},
};

std::vector<RouteRow> catalogue_rows() {
  std::vector<RouteRow> rows;
  // SmartREST upstream topics, with every mode prefix.
  for (const Prefix& p : kSmartRestPrefixes) {
    const Mode m = p.mode;
    const bool s = m == Mode::kPersistent;
    rows.push_back({p.text + "us", smartrest(m, Channel::kStatic)});
    rows.push_back({p.text + "us/child1", smartrest(m, Channel::kStatic, "", "child1")});
    rows.push_back({p.text + "uc/myXid", smartrest(m, Channel::kCustom, "myXid")});
    rows.push_back({p.text + "uc/myXid/child1", smartrest(m, Channel::kCustom, "myXid", "child1")});
    rows.push_back({p.text + "ud", smartrest(m, Channel::kDefault)});
    rows.push_back({p.text + "ud/child1", smartrest(m, Channel::kDefault, "", "child1")});
    rows.push_back({p.text + "ul/legacy", smartrest(m, Channel::kSmartRest1, "legacy")});
    // Template, credential and token topics exist only with s.
    rows.push_back({p.text + "ut/myXid",
                    s ? std::optional(smartrest(m, Channel::kTemplates, "myXid")) : std::nullopt});
    rows.push_back(
        {p.text + "ucr", s ? std::optional(smartrest(m, Channel::kBootstrap)) : std::nullopt});
    rows.push_back(
        {p.text + "uat", s ? std::optional(smartrest(m, Channel::kToken)) : std::nullopt});
    // Downstream and error topics are never upstream, whatever the prefix.
    for (const char* down : {"ds", "dc/myXid", "dd", "dt", "e", "dcr", "dat", "dl/legacy",
                             "ol/legacy", "ds/child1", "dd/child1", "dc/myXid/child1"}) {
      rows.push_back({p.text + down, std::nullopt});
    }
    // Invalid SmartREST forms.
    for (const char* bad : {"us/",
                            "us//",
                            "us/child1/",
                            "us/child1/x",
                            "us/a/b/c",
                            "uc",
                            "uc/",
                            "uc//child1",
                            "uc/x/",
                            "uc/x/child1/",
                            "uc/x/child1/extra",
                            "ud/",
                            "ud/child1/x",
                            "ut",
                            "ut/",
                            "ut/x/y",
                            "ucr/",
                            "ucr/x",
                            "uat/",
                            "uat/x",
                            "ul",
                            "ul/",
                            "ul/x/y",
                            "u",
                            "ux",
                            "US",
                            "usx",
                            "us2",
                            "",
                            "/us",
                            "error"}) {
      rows.push_back({p.text + bad, std::nullopt});
    }
  }
  // JSON topics, with every mode prefix and with and without the leading '/'.
  for (const Prefix& p : kJsonPrefixes) {
    for (const JsonTopic& t : kJsonTopics) {
      const TopicRoute expected = json(p.mode, t.api, t.resource, t.action, t.id, t.parent);
      rows.push_back({p.text + t.path, expected});
      rows.push_back({p.text + "/" + t.path, expected});
      rows.push_back({p.text + "//" + t.path, std::nullopt});
      rows.push_back({p.text + t.path + "/", std::nullopt});
      rows.push_back({p.text + t.path + "/extra/levels", std::nullopt});
    }
    // Invalid JSON forms.
    for (const char* bad : {"event",
                            "event/events",
                            "event/events/",
                            "event//create",
                            "event/events//1",
                            "/event/events",
                            "events/events/create",
                            "Event/events/create",
                            "operation/op/create",
                            "devicecontrol/notifications",
                            "error",
                            "identity/externalIds/create",
                            "tenant/tenants/create",
                            "user/users/create",
                            "inventory/managedObjects",
                            "inventory/managedObjects/1/childAssets/create",
                            "inventory/managedObjects/1/childDevices/create/2",
                            "inventory/things/1/childDevices/create",
                            "event/managedObjects/1/childDevices/create",
                            "inventory/managedObjects//childDevices/create",
                            "inventory/managedObjects/1/childDevices/",
                            "inventory/managedObjects/1/childDevices//",
                            "x/event/events/create",
                            "/",
                            "//",
                            "///event/events/create"}) {
      rows.push_back({p.text + bad, std::nullopt});
    }
  }
  // "s/" is never a JSON prefix; a mode after the leading '/' is not a prefix.
  for (const JsonTopic& t : kJsonTopics) {
    rows.push_back({"s/" + t.path, std::nullopt});
    rows.push_back({"s//" + t.path, std::nullopt});
    rows.push_back({"/t/" + t.path, std::nullopt});
    rows.push_back({"/s/" + t.path, std::nullopt});
    rows.push_back({"t/t/" + t.path, std::nullopt});
  }
  return rows;
}

class RouteCatalogueTest : public ::testing::TestWithParam<RouteRow> {};

TEST_P(RouteCatalogueTest, Routes) {
  const RouteRow& row = GetParam();
  EXPECT_EQ(route_upstream(row.topic), row.expected) << "topic '" << row.topic << "'";
}

INSTANTIATE_TEST_SUITE_P(Catalogue, RouteCatalogueTest, ::testing::ValuesIn(catalogue_rows()));

TEST(RouteUpstreamTest, ViewsPointIntoTheTopic) {
  const std::string topic = "q/uc/xid1/child9";
  const auto r = route_upstream(topic);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->xid.data(), topic.data() + 5);
  EXPECT_EQ(r->child.data(), topic.data() + 10);

  const std::string j = "t//inventory/managedObjects/42/childDevices/create";
  const auto jr = route_upstream(j);
  ASSERT_TRUE(jr);
  EXPECT_EQ(jr->json_api.data(), j.data() + 3);
  EXPECT_EQ(jr->json_parent_id.data(), j.data() + 28);
  EXPECT_EQ(jr->json_parent_id, "42");
}

TEST(RouteUpstreamTest, RejectsSpecialAndEmptyTopics) {
  for (const char* t : {"", "/", "//", "$SYS/broker/uptime", "$share/g/s/us", "$CONTROL/x/v1",
                        "$s/us", "$", "s", "t", "q", "c", "x", "us", "s/", "t/", "s//"}) {
    EXPECT_FALSE(route_upstream(t)) << t;
  }
}

TEST(RouteUpstreamTest, RejectsWildcardsAnywhere) {
  for (const char* t : {"s/us/+",
                        "s/us/#",
                        "s/us/a+b",
                        "s/us/a#",
                        "+/us",
                        "#",
                        "s/+",
                        "s/uc/+",
                        "s/uc/+/c",
                        "s/uc/x/+",
                        "s/uc/x#/c",
                        "s/ut/#",
                        "s/ul/+",
                        "+",
                        "event/events/create/+",
                        "event/+/create",
                        "+/events/create",
                        "t/event/events/#",
                        "event/events/create#",
                        "inventory/managedObjects/+/childDevices/create",
                        "s/ucr#",
                        "s/uat+"}) {
    EXPECT_FALSE(route_upstream(t)) << t;
  }
}

TEST(RouteUpstreamTest, RejectsNulBytes) {
  using namespace std::string_literals;
  for (const std::string& t :
       {"s/us\0"s, "s/us/\0"s, "s/us/a\0b"s, "\0s/us"s, "s/uc/x\0/c"s, "s/uc/x/c\0"s,
        "event/events/create\0"s, "event/events/update/1\0"s, "s/ucr\0"s, "\0"s}) {
    EXPECT_FALSE(route_upstream(t)) << "size " << t.size();
  }
}

TEST(RouteUpstreamTest, CaseSensitive) {
  for (const char* t : {"S/us", "s/US", "s/Us", "T/us", "s/UC/x", "EVENT/events/create",
                        "t/Event/events/create", "inventory/managedobjects/1/childDevices/create",
                        "inventory/managedObjects/1/childdevices/create"}) {
    EXPECT_FALSE(route_upstream(t)) << t;
  }
}

TEST(RouteUpstreamTest, IdsMayHoldAnyOtherCharacter) {
  // Child ids and X-IDs are opaque: only '/', '+', '#' and NUL are excluded.
  const auto r = route_upstream("s/uc/x-ID_1.v2:é$/child with spaces:!@%&*()");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->channel, Channel::kCustom);
  EXPECT_EQ(r->xid, "x-ID_1.v2:é$");
  EXPECT_EQ(r->child, "child with spaces:!@%&*()");

  const auto d = route_upstream("s/us/$child");  // '$' only matters at the start of a topic
  ASSERT_TRUE(d);
  EXPECT_EQ(d->child, "$child");
}

TEST(RouteUpstreamTest, LongTopics) {
  const std::string max_child(kMaxTopicLength - 5, 'c');  // "s/us/" + child = 65535 bytes
  const std::string at_limit = "s/us/" + max_child;
  ASSERT_EQ(at_limit.size(), kMaxTopicLength);
  const auto r = route_upstream(at_limit);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->child.size(), max_child.size());
  EXPECT_FALSE(route_upstream(at_limit + "c"));

  const std::string long_xid(40000, 'x');
  EXPECT_TRUE(route_upstream("s/uc/" + long_xid + "/" + std::string(20000, 'y')));
  EXPECT_FALSE(route_upstream("s/uc/" + long_xid + "/" + std::string(40000, 'y')));
  EXPECT_TRUE(route_upstream("event/events/update/" + std::string(60000, '1')));
  EXPECT_FALSE(route_upstream(std::string(1'000'000, 'a')));

  // Many levels are rejected however short.
  std::string deep = "s/us";
  for (int i = 0; i < 1000; ++i) deep += "/a";
  EXPECT_FALSE(route_upstream(deep));
  std::string slashes(70000, '/');
  EXPECT_FALSE(route_upstream(slashes));
}

TEST(RouteUpstreamTest, Names) {
  EXPECT_STREQ(mode_name(Mode::kPersistent), "PERSISTENT");
  EXPECT_STREQ(mode_name(Mode::kTransient), "TRANSIENT");
  EXPECT_STREQ(mode_name(Mode::kQuiescent), "QUIESCENT");
  EXPECT_STREQ(mode_name(Mode::kCep), "CEP");
  EXPECT_STREQ(mode_name(static_cast<Mode>(99)), "?");
  EXPECT_STREQ(channel_name(Channel::kStatic), "static");
  EXPECT_STREQ(channel_name(Channel::kCustom), "custom");
  EXPECT_STREQ(channel_name(Channel::kDefault), "default");
  EXPECT_STREQ(channel_name(Channel::kTemplates), "templates");
  EXPECT_STREQ(channel_name(Channel::kBootstrap), "bootstrap");
  EXPECT_STREQ(channel_name(Channel::kToken), "token");
  EXPECT_STREQ(channel_name(Channel::kSmartRest1), "smartrest1");
  EXPECT_STREQ(channel_name(Channel::kJson), "json");
  EXPECT_STREQ(channel_name(static_cast<Channel>(99)), "?");
}

TEST(IsIdLevelTest, Basics) {
  using namespace std::string_literals;
  EXPECT_TRUE(is_id_level("a"));
  EXPECT_TRUE(is_id_level("1234"));
  EXPECT_TRUE(is_id_level("d:1234:x"));
  EXPECT_TRUE(is_id_level("$x"));
  EXPECT_FALSE(is_id_level(""));
  EXPECT_FALSE(is_id_level("a/b"));
  EXPECT_FALSE(is_id_level("+"));
  EXPECT_FALSE(is_id_level("#"));
  EXPECT_FALSE(is_id_level("a+"));
  EXPECT_FALSE(is_id_level("a#"));
  EXPECT_FALSE(is_id_level("a\0"s));
}

}  // namespace
}  // namespace c8y::policy
