#include "plugin/identity/names.h"

#include <gtest/gtest.h>

#include <string>

namespace c8y::identity {
namespace {

using namespace std::string_literals;

// ---------------------------------------------------------------------------------------------
// Tenant ids: [a-z0-9]{1,32}

TEST(TenantId, Valid) {
  for (const char* id :
       {"a", "0", "t1", "demo", "management", "abcdefghijklmnopqrstuvwxyz012345", "0123456789"}) {
    EXPECT_TRUE(is_valid_tenant_id(id)) << id;
  }
}

TEST(TenantId, Invalid) {
  const std::string cases[] = {
      "",
      "abcdefghijklmnopqrstuvwxyz0123456",  // 33 bytes
      "Demo",
      "DEMO",
      "t-1",
      "t_1",
      "t.1",
      "t 1",
      " t1",
      "t1 ",
      "t/1",
      "t+",
      "t#",
      "t1\n",
      "t\0001"s,
      "\xc3\xa9t",  // é
  };
  for (const auto& id : cases) EXPECT_FALSE(is_valid_tenant_id(id)) << '"' << id << '"';
}

TEST(TenantId, LengthBoundary) {
  EXPECT_TRUE(is_valid_tenant_id(std::string(32, 'a')));
  EXPECT_FALSE(is_valid_tenant_id(std::string(33, 'a')));
}

// ---------------------------------------------------------------------------------------------
// User names: 1..128 bytes of printable ASCII without '/', '+', '#', space

TEST(UserName, Valid) {
  for (const char* n :
       {"a", "device_1234", "Admin", "user@example.com", "a-b.c:d", "!~", "$x", "x$", "\"q\""}) {
    EXPECT_TRUE(is_valid_user_name(n)) << n;
  }
  EXPECT_TRUE(is_valid_user_name(std::string(128, 'u')));
}

TEST(UserName, Invalid) {
  const std::string cases[] = {
      "",         std::string(129, 'u'),
      "a b",      " a",
      "a ",       "a/b",
      "a+b",      "a#b",
      "a\tb",     "a\nb",
      "a\x7f",    "a\0b"s,
      "\xc3\xa9", "\x80",
  };
  for (const auto& n : cases) EXPECT_FALSE(is_valid_user_name(n)) << '"' << n << '"';
}

// ---------------------------------------------------------------------------------------------
// parse_username: "<tenant>/<user>"

TEST(ParseUsername, Qualified) {
  auto q = parse_username("t1/dev");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->tenant, "t1");
  EXPECT_EQ(q->user, "dev");

  q = parse_username("management/devicebootstrap");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->tenant, "management");
  EXPECT_EQ(q->user, "devicebootstrap");
}

TEST(ParseUsername, ViewsPointIntoTheInput) {
  const std::string in = "demo/device_42";
  auto q = parse_username(in);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->tenant.data(), in.data());
  EXPECT_EQ(q->user.data(), in.data() + 5);
}

TEST(ParseUsername, BareNameRefused) {
  EXPECT_FALSE(parse_username("dev"));
  EXPECT_FALSE(parse_username("t1"));
  EXPECT_FALSE(parse_username(""));
}

TEST(ParseUsername, EmptyPartsRefused) {
  EXPECT_FALSE(parse_username("/"));
  EXPECT_FALSE(parse_username("/dev"));
  EXPECT_FALSE(parse_username("t1/"));
}

TEST(ParseUsername, InvalidTenantRefused) {
  EXPECT_FALSE(parse_username("T1/dev"));
  EXPECT_FALSE(parse_username("t-1/dev"));
  EXPECT_FALSE(parse_username(std::string(33, 'a') + "/dev"));
  EXPECT_TRUE(parse_username(std::string(32, 'a') + "/dev"));
}

TEST(ParseUsername, InvalidUserRefused) {
  // The first '/' separates: a second one makes the user name invalid.
  EXPECT_FALSE(parse_username("t1/dev/x"));
  EXPECT_FALSE(parse_username("t1/de v"));
  EXPECT_FALSE(parse_username("t1/+"));
  EXPECT_FALSE(parse_username("t1/#"));
  EXPECT_FALSE(parse_username("t1/" + std::string(129, 'u')));
  EXPECT_TRUE(parse_username("t1/" + std::string(128, 'u')));
}

// ---------------------------------------------------------------------------------------------
// parse_client_id: "[d:]<serial>[:<default X-ID>]"

TEST(ParseClientId, SpellingsOfOneDevice) {
  for (const char* id : {"1234", "d:1234", "d:1234:xid"}) {
    auto c = parse_client_id(id);
    ASSERT_TRUE(c) << id;
    EXPECT_EQ(c->serial, "1234") << id;
  }
  EXPECT_EQ(parse_client_id("1234")->default_xid, "");
  EXPECT_EQ(parse_client_id("d:1234")->default_xid, "");
  EXPECT_EQ(parse_client_id("d:1234:xid")->default_xid, "xid");
}

TEST(ParseClientId, SerialMayContainOtherPunctuationAndUtf8) {
  for (const char* id : {"my-device_01", "a.b", "a@b", "$x", "d", "dx", "!~"}) {
    auto c = parse_client_id(id);
    ASSERT_TRUE(c) << id;
    EXPECT_EQ(c->serial, id);
    EXPECT_EQ(c->default_xid, "");
  }
  auto c = parse_client_id("d:\xc3\xa9t\xc3\xa9");  // "été"
  ASSERT_TRUE(c);
  EXPECT_EQ(c->serial, "\xc3\xa9t\xc3\xa9");
  // "d:d" is serial "d" with the prefix.
  ASSERT_TRUE(parse_client_id("d:d"));
  EXPECT_EQ(parse_client_id("d:d")->serial, "d");
}

TEST(ParseClientId, PrefixIsExactlyLowercaseDColon) {
  // Anything else before a ':' leaves the ':' inside the serial, which is invalid.
  EXPECT_FALSE(parse_client_id("D:1234"));
  EXPECT_FALSE(parse_client_id("dd:1234"));
  EXPECT_FALSE(parse_client_id(" d:1234"));
}

TEST(ParseClientId, ForbiddenCharactersInSerial) {
  for (const char* id : {"12:34", "12/34", "12+34", "12#34", "d:12/34", "d:12+34", "d:12#34",
                         "/1234", "1234/", "+", "#"}) {
    EXPECT_FALSE(parse_client_id(id)) << id;
  }
}

TEST(ParseClientId, Empty) {
  EXPECT_FALSE(parse_client_id(""));
  EXPECT_FALSE(parse_client_id("d:"));
  EXPECT_FALSE(parse_client_id("d::xid"));
  EXPECT_FALSE(parse_client_id(":"));
}

TEST(ParseClientId, XidNeedsPrefix) {
  EXPECT_FALSE(parse_client_id("1234:xid"));
  EXPECT_FALSE(parse_client_id("x:1234:xid"));
}

TEST(ParseClientId, EmptyOrInvalidXid) {
  EXPECT_FALSE(parse_client_id("d:1234:"));
  EXPECT_FALSE(parse_client_id("d:1234:a:b"));  // ':' inside the X-ID
  EXPECT_FALSE(parse_client_id("d:1234:a/b"));
  EXPECT_FALSE(parse_client_id("d:1234:a+b"));
  EXPECT_FALSE(parse_client_id("d:1234:a#"));
  EXPECT_FALSE(parse_client_id("d:1234:a b"));
}

TEST(ParseClientId, SerialLength) {
  const std::string s128(128, 's');
  auto c = parse_client_id(s128);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->serial.size(), 128u);
  ASSERT_TRUE(parse_client_id("d:" + s128));
  EXPECT_EQ(parse_client_id("d:" + s128)->serial.size(), 128u);
  ASSERT_TRUE(parse_client_id("d:" + s128 + ":x"));

  const std::string s129(129, 's');
  EXPECT_FALSE(parse_client_id(s129));
  EXPECT_FALSE(parse_client_id("d:" + s129));
  EXPECT_FALSE(parse_client_id("d:" + s129 + ":x"));
}

TEST(ParseClientId, ControlCharactersAndSpace) {
  const std::string cases[] = {
      "12\x00"
      "34"s,
      "\x00"s,
      "12\n34",
      "12\r",
      "\t1234",
      "12\x1f",
      "12\x7f",
      "12 34",
      " 1234",
      "d:12\n34",
      "d:1234:x\ny",
      "d:1234:x\0"s,
  };
  for (const auto& id : cases) EXPECT_FALSE(parse_client_id(id)) << ::testing::PrintToString(id);
}

TEST(ParseClientId, ViewsPointIntoTheInput) {
  const std::string in = "d:abc:xyz";
  auto c = parse_client_id(in);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->serial.data(), in.data() + 2);
  EXPECT_EQ(c->default_xid.data(), in.data() + 6);
}

}  // namespace
}  // namespace c8y::identity
