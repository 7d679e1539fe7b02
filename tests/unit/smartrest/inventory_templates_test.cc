#include "plugin/smartrest/inventory_templates.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "plugin/smartrest/csv.h"

namespace c8y::smartrest {
namespace {

using nlohmann::json;
using Op = InventoryCommand::Op;

constexpr int64_t kNow = 1700000000123;  // 2023-11-14T22:13:20.123Z
constexpr const char* kNowText = "2023-11-14T22:13:20.123Z";

// One CSV line as the reader produces it.
CsvRecord record(std::string_view line) {
  CsvReader reader(line);
  CsvRecord rec;
  EXPECT_TRUE(reader.next(rec)) << line;
  EXPECT_FALSE(rec.malformed) << line;
  return rec;
}

json J(std::string_view text) {
  return json::parse(text);
}

// Decodes a line that must be accepted.
InventoryCommand ok(std::string_view line) {
  InventoryCommand cmd;
  auto e = decode_inventory(record(line), kNow, cmd);
  EXPECT_FALSE(e) << line << ": " << (e ? e->text : "");
  return cmd;
}

// Decodes a merge template and returns its fragments.
json merged(std::string_view line) {
  auto cmd = ok(line);
  EXPECT_EQ(cmd.op, Op::kMerge) << line;
  return cmd.fragments;
}

// Decodes and expects error 45 with a text; returns the text.
std::string expect_45(std::string_view line) {
  InventoryCommand cmd;
  auto e = decode_inventory(record(line), kNow, cmd);
  EXPECT_TRUE(e) << "accepted: " << line;
  if (!e) return "";
  EXPECT_EQ(e->code, 45) << line << ": " << e->text;
  EXPECT_FALSE(e->text.empty()) << line;
  return e->text;
}

// "<id>,<item>,<item>,..." with n items produced by make(i).
template <typename F>
std::string list_line(std::string_view id, size_t n, F make) {
  std::string line(id);
  for (size_t i = 0; i < n; ++i) line += "," + make(i);
  return line;
}

// ---------------------------------------------------------------------------------------------
// Template ids

TEST(InventoryTemplateIds, Known) {
  for (const char* id :
       {"101", "102", "104", "105", "107", "110", "111", "112", "113", "114", "115", "116", "117",
        "118", "119", "120", "121", "122", "123", "125", "140", "141", "142", "143", "150"})
    EXPECT_TRUE(is_inventory_template(id)) << id;
}

TEST(InventoryTemplateIds, Unknown) {
  for (const char* id : {"100",  "103",  "106",  "108", "109", "124", "126", "130",  "139",
                         "144",  "149",  "151",  "200", "211", "301", "500", "0101", "+101",
                         "101 ", " 101", "1010", "10",  "",    "abc", "1e2"})
    EXPECT_FALSE(is_inventory_template(id)) << '"' << id << '"';
}

TEST(InventoryTemplateIds, DecodeRejectsOtherTemplates) {
  for (const char* line : {"100,a", "211,1", "999", "0101,c"}) {
    InventoryCommand cmd;
    auto e = decode_inventory(record(line), kNow, cmd);
    ASSERT_TRUE(e) << line;
    EXPECT_EQ(e->code, 40) << line;
  }
}

TEST(InventoryCommand, ReusedCommandIsReset) {
  InventoryCommand cmd;
  ASSERT_FALSE(decode_inventory(record("101,c1,n,t,false"), kNow, cmd));
  ASSERT_FALSE(decode_inventory(record("105"), kNow, cmd));
  EXPECT_EQ(cmd.op, Op::kListChildren);
  EXPECT_EQ(cmd.external_id, "");
  EXPECT_EQ(cmd.name, "");
  EXPECT_EQ(cmd.type, "");
  EXPECT_TRUE(cmd.is_device);
  EXPECT_EQ(cmd.fragments, json::object());
  ASSERT_FALSE(decode_inventory(record("141,a,1"), kNow, cmd));
  ASSERT_FALSE(decode_inventory(record("107,x"), kNow, cmd));
  EXPECT_TRUE(cmd.software.empty());
  ASSERT_FALSE(decode_inventory(record("121,true"), kNow, cmd));
  ASSERT_TRUE(cmd.profile_from_operation);
  ASSERT_FALSE(decode_inventory(record("107,x"), kNow, cmd));
  EXPECT_FALSE(cmd.profile_from_operation);
  EXPECT_EQ(cmd.names, std::vector<std::string>{"x"});
  ASSERT_FALSE(decode_inventory(record("110,s"), kNow, cmd));
  EXPECT_TRUE(cmd.names.empty());
}

// ---------------------------------------------------------------------------------------------
// 101: child device

TEST(ChildDevice, AllArguments) {
  auto cmd = ok("101,uniqueChildId,myChildDevice,myChildType,true");
  EXPECT_EQ(cmd.op, Op::kCreateChild);
  EXPECT_EQ(cmd.external_id, "uniqueChildId");
  EXPECT_EQ(cmd.name, "myChildDevice");
  EXPECT_EQ(cmd.type, "myChildType");
  EXPECT_TRUE(cmd.is_device);
  EXPECT_EQ(cmd.fragments, json::object());
}

TEST(ChildDevice, Defaults) {
  for (const char* line : {"101,c1", "101,c1,", "101,c1,,", "101,c1,,,", "101,c1,,,,,"}) {
    auto cmd = ok(line);
    EXPECT_EQ(cmd.op, Op::kCreateChild) << line;
    EXPECT_EQ(cmd.external_id, "c1") << line;
    EXPECT_EQ(cmd.name, "MQTT Device c1") << line;
    EXPECT_EQ(cmd.type, "c8y_MQTTChildDevice") << line;
    EXPECT_TRUE(cmd.is_device) << line;
  }
  auto cmd = ok("101,c1,,t");
  EXPECT_EQ(cmd.name, "MQTT Device c1");
  EXPECT_EQ(cmd.type, "t");
  cmd = ok("101,c1,n");
  EXPECT_EQ(cmd.name, "n");
  EXPECT_EQ(cmd.type, "c8y_MQTTChildDevice");
}

TEST(ChildDevice, DeviceMarkerOnlyExactlyFalse) {
  EXPECT_FALSE(ok("101,c1,,,false").is_device);
  EXPECT_FALSE(ok("101,c1,,,\"false\"").is_device);
  EXPECT_FALSE(ok("101,c1,,, false ").is_device);  // unquoted values are trimmed
  for (const char* v : {"true", "FALSE", "False", "0", "no", "x", "\"false \""})
    EXPECT_TRUE(ok(std::string("101,c1,,,") + v).is_device) << v;
}

TEST(ChildDevice, QuotedNameWithComma) {
  auto cmd = ok("101,\"root:child,1\",\"Child, one\",\"type \\\"x\\\"\"");
  EXPECT_EQ(cmd.external_id, "root:child,1");
  EXPECT_EQ(cmd.name, "Child, one");
  EXPECT_EQ(cmd.type, "type \"x\"");
}

TEST(ChildDevice, ChildIdMandatory) {
  for (const char* line : {"101", "101,", "101,,n", "101,,n,t,false"})
    EXPECT_NE(expect_45(line).find("child id"), std::string::npos) << line;
}

TEST(ChildDevice, ChildIdMustBeATopicLevel) {
  EXPECT_EQ(ok("101,root:child-1_A.b").external_id, "root:child-1_A.b");
  EXPECT_EQ(ok("101,\xc3\xa9t\xc3\xa9").external_id, "\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(ok("101," + std::string(128, 'c')).external_id.size(), 128u);
  expect_45("101," + std::string(129, 'c'));
  expect_45("101,a/b");
  expect_45("101,a+b");
  expect_45("101,a#b");
  expect_45("101,\"a\tb\"");
  expect_45("101,\"a\nb\"");
  expect_45("101,a\x01");
  expect_45("101,a\x7f");
  expect_45("101,a\xff");
  expect_45("101,\xc3");
}

// Names and types are values: no limit below the message cap (as in Cumulocity).
TEST(ChildDevice, NameAndTypeLimits) {
  auto cmd = ok("101,c," + std::string(8000, 'n') + "," + std::string(8000, 't'));
  EXPECT_EQ(cmd.name.size(), 8000u);
  EXPECT_EQ(cmd.type.size(), 8000u);
  expect_45("101,c,\xff");
  expect_45("101,c,n,\xed\xa0\x80");
}

TEST(ChildDevice, TooManyArguments) {
  EXPECT_NE(expect_45("101,c,n,t,false,x").find("too many"), std::string::npos);
  expect_45("101,c,,,,x");
}

// ---------------------------------------------------------------------------------------------
// 102: service, 104: service status

TEST(Service, Create) {
  auto cmd = ok("102,myDatabaseDevice,systemd,DatabaseService,up");
  EXPECT_EQ(cmd.op, Op::kCreateService);
  EXPECT_EQ(cmd.external_id, "myDatabaseDevice");
  EXPECT_EQ(cmd.type, "systemd");
  EXPECT_EQ(cmd.name, "DatabaseService");
  EXPECT_EQ(cmd.status, "up");
  EXPECT_EQ(cmd.fragments, J(R"({"type":"c8y_Service","name":"DatabaseService",
                                 "serviceType":"systemd","status":"up"})"));
}

TEST(Service, QuotedValues) {
  auto cmd = ok("102,\"svc:1\",\"a,b\",\"Name, long\",\"up, mostly\"");
  EXPECT_EQ(cmd.fragments, J(R"({"type":"c8y_Service","name":"Name, long",
                                 "serviceType":"a,b","status":"up, mostly"})"));
}

TEST(Service, AllArgumentsMandatory) {
  EXPECT_NE(expect_45("102").find("service external id"), std::string::npos);
  EXPECT_NE(expect_45("102,s").find("service type"), std::string::npos);
  EXPECT_NE(expect_45("102,s,t").find("service name"), std::string::npos);
  EXPECT_NE(expect_45("102,s,t,n").find("service status"), std::string::npos);
  expect_45("102,s,t,n,");
  expect_45("102,,t,n,up");
  expect_45("102,s,,n,up");
  expect_45("102,s,t,,up");
}

TEST(Service, BadValues) {
  expect_45("102,s,t,n,up,x");
  expect_45("102,a/b,t,n,up");
  expect_45("102,a#,t,n,up");
  expect_45("102," + std::string(129, 's') + ",t,n,up");  // an external id: a topic level
  expect_45("102,s,t\xff,n,up");
  EXPECT_EQ(ok("102,s," + std::string(5000, 't') + "," + std::string(5000, 'n') + "," +
               std::string(5000, 'u'))
                .status.size(),
            5000u);
}

TEST(ServiceStatus, Set) {
  auto cmd = ok("104,up");
  EXPECT_EQ(cmd.op, Op::kServiceStatus);
  EXPECT_EQ(cmd.status, "up");
  EXPECT_EQ(cmd.fragments, J(R"({"status":"up"})"));
  EXPECT_EQ(ok("104,\"down, restarting\"").fragments, J(R"({"status":"down, restarting"})"));
  EXPECT_EQ(ok("104," + std::string(15000, 's')).status.size(), 15000u);
}

TEST(ServiceStatus, BadArguments) {
  EXPECT_NE(expect_45("104").find("service status"), std::string::npos);
  expect_45("104,");
  expect_45("104,,");
  expect_45("104,up,x");
  expect_45("104,,x");
  expect_45("104,\xc3\x28");
}

// ---------------------------------------------------------------------------------------------
// 105, 123, 125: no arguments

TEST(NoArguments, Ops) {
  EXPECT_EQ(ok("105").op, Op::kListChildren);
  EXPECT_EQ(ok("123").op, Op::kGetId);
  EXPECT_EQ(ok("125").op, Op::kHeartbeat);
  EXPECT_EQ(ok("105,").op, Op::kListChildren);
  EXPECT_EQ(ok("123,,").op, Op::kGetId);
  EXPECT_EQ(ok("125,").op, Op::kHeartbeat);
  EXPECT_EQ(ok("125").fragments, json::object());
}

TEST(NoArguments, TooMany) {
  for (const char* line : {"105,x", "123,1", "125,x", "125,,x"})
    EXPECT_NE(expect_45(line).find("too many"), std::string::npos) << line;
}

// ---------------------------------------------------------------------------------------------
// 107: remove fragments

TEST(RemoveFragments, Names) {
  auto cmd = ok("107,c8y_Position,c8y_Configuration");
  EXPECT_EQ(cmd.op, Op::kRemoveFragments);
  EXPECT_EQ(cmd.names, (std::vector<std::string>{"c8y_Position", "c8y_Configuration"}));
  EXPECT_EQ(cmd.fragments, json::object());
  EXPECT_EQ(ok("107,a").names, std::vector<std::string>{"a"});
  EXPECT_EQ(ok("107,a,,b").names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ok("107,,a,,").names, std::vector<std::string>{"a"});
  EXPECT_EQ(ok("107,\"with space\",\"a,b\"").names,
            (std::vector<std::string>{"with space", "a,b"}));
  EXPECT_EQ(ok("107,name,type,c8y_IsDevice").names,
            (std::vector<std::string>{"name", "type", "c8y_IsDevice"}));
  EXPECT_EQ(ok("107," + std::string(127, 'f')).names[0].size(), 127u);
}

TEST(RemoveFragments, AtLeastOne) {
  for (const char* line : {"107", "107,", "107,,", "107,,,"})
    EXPECT_NE(expect_45(line).find("missing fragment name"), std::string::npos) << line;
}

TEST(RemoveFragments, NamesAreKeys) {
  expect_45("107,c8y.Position");
  expect_45("107,a,$b");
  expect_45("107,$");
  expect_45("107,a\xff");
  expect_45("107," + std::string(128, 'f'));
}

TEST(RemoveFragments, StructuralPropertiesAreKept) {
  for (const char* name :
       {"id", "self", "owner", "creationTime", "lastUpdated", "childDevices", "childAssets",
        "childAdditions", "deviceParents", "assetParents", "additionParents"})
    EXPECT_NE(expect_45(std::string("107,c8y_Position,") + name).find(name), std::string::npos)
        << name;
}

TEST(RemoveFragments, AsManyAsTheMessageHolds) {
  auto make = [](size_t i) { return "f" + std::to_string(i); };
  EXPECT_EQ(ok(list_line("107", 3000, make)).names.size(), 3000u);
}

// ---------------------------------------------------------------------------------------------
// 110: c8y_Hardware

TEST(Hardware, AllAndPartial) {
  EXPECT_EQ(merged("110,1234567890,myModel,1.2.3"),
            J(R"({"c8y_Hardware":{"serialNumber":"1234567890","model":"myModel",
                                  "revision":"1.2.3"}})"));
  EXPECT_EQ(merged("110"), J(R"({"c8y_Hardware":{}})"));
  EXPECT_EQ(merged("110,,,"), J(R"({"c8y_Hardware":{}})"));
  EXPECT_EQ(merged("110,,m"), J(R"({"c8y_Hardware":{"model":"m"}})"));
  EXPECT_EQ(merged("110,s,,r"), J(R"({"c8y_Hardware":{"serialNumber":"s","revision":"r"}})"));
  EXPECT_EQ(merged("110,\"a,b\""), J(R"({"c8y_Hardware":{"serialNumber":"a,b"}})"));
}

TEST(Hardware, BadArguments) {
  expect_45("110,s,m,r,x");
  expect_45("110,,,,x");
  expect_45("110,s,\xff");
  EXPECT_NE(expect_45("110,\xff").find("serialNumber"), std::string::npos);
  EXPECT_EQ(merged("110," + std::string(15000, 's'))["c8y_Hardware"]["serialNumber"]
                .get<std::string>()
                .size(),
            15000u);
}

// ---------------------------------------------------------------------------------------------
// 111: c8y_Mobile

TEST(Mobile, AllAndPartial) {
  EXPECT_EQ(merged("111,356938035643809,8991101200003204510,310150123456789,262,01,4711,0815"),
            J(R"({"c8y_Mobile":{"imei":"356938035643809","iccid":"8991101200003204510",
                                "imsi":"310150123456789","mcc":"262","mnc":"01","lac":"4711",
                                "cellId":"0815"}})"));
  EXPECT_EQ(merged("111,1234567890,,54353"),
            J(R"({"c8y_Mobile":{"imei":"1234567890","imsi":"54353"}})"));
  EXPECT_EQ(merged("111"), J(R"({"c8y_Mobile":{}})"));
  EXPECT_EQ(merged("111,,,,,,,"), J(R"({"c8y_Mobile":{}})"));
  EXPECT_EQ(merged("111,,,,,,,c"), J(R"({"c8y_Mobile":{"cellId":"c"}})"));
}

TEST(Mobile, BadArguments) {
  expect_45("111,1,2,3,4,5,6,7,8");
  expect_45("111,,,,,,,,x");
  expect_45("111,\xff");
  EXPECT_NE(expect_45("111,,,,,,,\xff").find("cellId"), std::string::npos);
  EXPECT_EQ(
      merged("111," + std::string(15000, 'i'))["c8y_Mobile"]["imei"].get<std::string>().size(),
      15000u);
}

// ---------------------------------------------------------------------------------------------
// 112: c8y_Position

TEST(Position, AllAndPartial) {
  EXPECT_EQ(merged("112,50.323423,6.423423"),
            J(R"({"c8y_Position":{"lat":50.323423,"lng":6.423423}})"));
  auto f = merged("112,-1.5,2e1,100.25,10");
  EXPECT_EQ(f, J(R"({"c8y_Position":{"lat":-1.5,"lng":20,"alt":100.25,"accuracy":10}})"));
  EXPECT_TRUE(f["c8y_Position"]["lat"].is_number_float());
  EXPECT_TRUE(f["c8y_Position"]["lng"].is_number_float());
  EXPECT_TRUE(f["c8y_Position"]["accuracy"].is_number_integer());
  EXPECT_EQ(merged("112"), J(R"({"c8y_Position":{}})"));
  EXPECT_EQ(merged("112,,,,"), J(R"({"c8y_Position":{}})"));
  EXPECT_EQ(merged("112,,,7"), J(R"({"c8y_Position":{"alt":7}})"));
  EXPECT_EQ(merged("112,,,,-3"), J(R"({"c8y_Position":{"accuracy":-3}})"));
  EXPECT_EQ(merged("112,0,0,0,0"), J(R"({"c8y_Position":{"lat":0,"lng":0,"alt":0,"accuracy":0}})"));
}

TEST(Position, BadNumbers) {
  for (const char* v : {"abc", "NaN", "nan", "inf", "-Infinity", "1e400", "-1e400", "0x10", "1,5"})
    for (int pos = 0; pos < 3; ++pos) {
      std::string line = "112";
      for (int i = 0; i < 3; ++i) line += i == pos ? std::string(",\"") + v + "\"" : ",1";
      EXPECT_NE(expect_45(line).find("not a number"), std::string::npos) << line;
    }
  for (const char* v : {"5.5", "1e2", "abc", "NaN", "9223372036854775808", "1.0", "\"1,5\""})
    EXPECT_NE(expect_45(std::string("112,1,2,3,") + v).find("accuracy"), std::string::npos) << v;
  expect_45("112,1,2,3,4,5");
}

// ---------------------------------------------------------------------------------------------
// 113: c8y_Configuration

TEST(Configuration, Text) {
  // The two characters backslash-n stay as they are (a backslash escapes only a quote).
  EXPECT_EQ(merged("113,\"val1=1\\nval2=2\""),
            J(R"({"c8y_Configuration":{"config":"val1=1\\nval2=2"}})"));
  EXPECT_EQ(merged("113,\"a=1,b=2\""), J(R"({"c8y_Configuration":{"config":"a=1,b=2"}})"));
  EXPECT_EQ(merged("113,\"line1\nline2\""),
            J(R"({"c8y_Configuration":{"config":"line1\nline2"}})"));
  EXPECT_EQ(merged("113"), J(R"({"c8y_Configuration":{}})"));
  EXPECT_EQ(merged("113,"), J(R"({"c8y_Configuration":{}})"));
}

TEST(Configuration, BadArguments) {
  EXPECT_NE(expect_45("113,a=1,b=2").find("too many"), std::string::npos);  // unquoted comma
  expect_45("113,\xff");
  EXPECT_EQ(merged("113," + std::string(20000, 'c'))["c8y_Configuration"]["config"]
                .get<std::string>()
                .size(),
            20000u);  // only the message cap bounds it
}

// ---------------------------------------------------------------------------------------------
// 114, 118, 119: name lists

TEST(NameLists, Values) {
  EXPECT_EQ(merged("114,c8y_Restart,c8y_Configuration,c8y_SoftwareList"),
            J(R"({"c8y_SupportedOperations":["c8y_Restart","c8y_Configuration",
                                             "c8y_SoftwareList"]})"));
  EXPECT_EQ(merged("114, c8y_Restart,c8y_Configuration"),
            J(R"({"c8y_SupportedOperations":["c8y_Restart","c8y_Configuration"]})"));
  EXPECT_EQ(merged("118,ntcagent,dmesg,logread"),
            J(R"({"c8y_SupportedLogs":["ntcagent","dmesg","logread"]})"));
  EXPECT_EQ(merged("119,modbus,system"),
            J(R"({"c8y_SupportedConfigurations":["modbus","system"]})"));
  // Values are strings, not keys: '.' and '$' are fine; quoted commas too.
  EXPECT_EQ(merged("114,c8y.Op,$x,\"a,b\""),
            J(R"({"c8y_SupportedOperations":["c8y.Op","$x","a,b"]})"));
}

TEST(NameLists, EmptyListAndEmptyElements) {
  EXPECT_EQ(merged("114"), J(R"({"c8y_SupportedOperations":[]})"));
  EXPECT_EQ(merged("114,,"), J(R"({"c8y_SupportedOperations":[]})"));
  EXPECT_EQ(merged("118"), J(R"({"c8y_SupportedLogs":[]})"));
  EXPECT_EQ(merged("119,"), J(R"({"c8y_SupportedConfigurations":[]})"));
  EXPECT_EQ(merged("114,a,,b,"), J(R"({"c8y_SupportedOperations":["a","b"]})"));
  EXPECT_EQ(merged("118,,a"), J(R"({"c8y_SupportedLogs":["a"]})"));
}

TEST(NameLists, Limits) {
  for (const char* id : {"114", "118", "119"}) {
    std::string p = std::string(id) + ",";
    EXPECT_FALSE(ok(p + std::string(127, 'o')).fragments.empty()) << id;
    expect_45(p + std::string(128, 'o'));
    expect_45(p + "a,\xff");
    auto make = [](size_t i) { return "op" + std::to_string(i); };
    EXPECT_EQ(ok(list_line(id, 2000, make)).fragments.begin()->size(), 2000u) << id;
    // Empty elements do not count.
    EXPECT_EQ(ok(list_line(id, 2000, make) + ",,,").fragments.begin()->size(), 2000u) << id;
  }
}

// ---------------------------------------------------------------------------------------------
// 115: c8y_Firmware

TEST(Firmware, AllAndPartial) {
  EXPECT_EQ(merged("115,firmwareName,firmwareVersion,firmwareUrl"),
            J(R"({"c8y_Firmware":{"name":"firmwareName","version":"firmwareVersion",
                                  "url":"firmwareUrl"}})"));
  EXPECT_EQ(merged("115"), J(R"({"c8y_Firmware":{}})"));
  EXPECT_EQ(merged("115,n"), J(R"({"c8y_Firmware":{"name":"n"}})"));
  EXPECT_EQ(merged("115,,v"), J(R"({"c8y_Firmware":{"version":"v"}})"));
  EXPECT_EQ(merged("115,n,,u"), J(R"({"c8y_Firmware":{"name":"n","url":"u"}})"));
}

TEST(Firmware, BadArguments) {
  expect_45("115,n,v,u,x");
  expect_45("115,n\xff");
  EXPECT_NE(expect_45("115,\xff").find("firmware name"), std::string::npos);
  EXPECT_NE(expect_45("115,n,v,\xff").find("firmware url"), std::string::npos);
  auto fw = merged("115," + std::string(5000, 'n') + "," + std::string(5000, 'v') + "," +
                   std::string(5000, 'u'))["c8y_Firmware"];
  EXPECT_EQ(fw["name"].get<std::string>().size(), 5000u);
  EXPECT_EQ(fw["version"].get<std::string>().size(), 5000u);
  EXPECT_EQ(fw["url"].get<std::string>().size(), 5000u);
}

// Device input in an error text is cut to 64 bytes of printable, valid UTF-8 (echo_value).
TEST(ErrorTexts, DeviceInputIsEchoedBounded) {
  const std::string junk = "x\x01\x7fy" + std::string(5000, 'z');
  for (const std::string& line :
       {"112," + junk, "112,1,2,3," + junk, "117," + junk, "120,t,u,f," + junk, "121," + junk,
        "107,a." + junk, "101,a/" + junk}) {
    std::string text = expect_45(line);
    EXPECT_LT(text.size(), 200u) << line.substr(0, 12);
    for (unsigned char c : text) EXPECT_GE(c, 0x20) << line.substr(0, 12);
  }
}

// ---------------------------------------------------------------------------------------------
// 116: legacy c8y_SoftwareList

TEST(SoftwareList, Triples) {
  EXPECT_EQ(merged("116,software1,version1,url1,software2,,url2,software3,version3"),
            J(R"({"c8y_SoftwareList":[{"name":"software1","version":"version1","url":"url1"},
                                      {"name":"software2","url":"url2"},
                                      {"name":"software3","version":"version3"}]})"));
  EXPECT_EQ(merged("116,a"), J(R"({"c8y_SoftwareList":[{"name":"a"}]})"));
  EXPECT_EQ(merged("116,,1"), J(R"({"c8y_SoftwareList":[{"version":"1"}]})"));
  // An all-empty triple is skipped, wherever it is.
  EXPECT_EQ(merged("116,a,1,u,,,,b,2,v"),
            J(R"({"c8y_SoftwareList":[{"name":"a","version":"1","url":"u"},
                                      {"name":"b","version":"2","url":"v"}]})"));
  EXPECT_EQ(merged("116,\"a,b\",\"1,0\""), J(R"({"c8y_SoftwareList":[{"name":"a,b",
                                                                       "version":"1,0"}]})"));
}

TEST(SoftwareList, Empty) {
  EXPECT_EQ(merged("116"), J(R"({"c8y_SoftwareList":[]})"));
  EXPECT_EQ(merged("116,,,"), J(R"({"c8y_SoftwareList":[]})"));
}

TEST(SoftwareList, Limits) {
  expect_45("116,a,1,u,b\xff");
  EXPECT_EQ(merged("116," + std::string(5000, 'n') + "," + std::string(5000, 'v') + "," +
                   std::string(5000, 'u'))["c8y_SoftwareList"][0]["url"]
                .get<std::string>()
                .size(),
            5000u);
  auto make = [](size_t i) { return "s" + std::to_string(i) + ",1,u"; };
  EXPECT_EQ(merged(list_line("116", 2000, make))["c8y_SoftwareList"].size(), 2000u);
}

// ---------------------------------------------------------------------------------------------
// 117: c8y_RequiredAvailability, only if absent

TEST(RequiredAvailability, MergeIfAbsent) {
  auto cmd = ok("117,60");
  EXPECT_EQ(cmd.op, Op::kMergeIfAbsent);
  EXPECT_EQ(cmd.fragments, J(R"({"c8y_RequiredAvailability":{"responseInterval":60}})"));
  EXPECT_TRUE(cmd.fragments["c8y_RequiredAvailability"]["responseInterval"].is_number_integer());
  EXPECT_EQ(ok("117,0").fragments, J(R"({"c8y_RequiredAvailability":{"responseInterval":0}})"));
  EXPECT_EQ(ok("117,-1").fragments, J(R"({"c8y_RequiredAvailability":{"responseInterval":-1}})"));
  EXPECT_EQ(ok("117,2147483647").fragments["c8y_RequiredAvailability"]["responseInterval"],
            2147483647);
  EXPECT_EQ(ok("117,-2147483648").fragments["c8y_RequiredAvailability"]["responseInterval"],
            -2147483648LL);
}

TEST(RequiredAvailability, NoIntervalIsNothing) {
  for (const char* line : {"117", "117,", "117,,"}) {
    auto cmd = ok(line);
    EXPECT_EQ(cmd.op, Op::kMergeIfAbsent) << line;
    EXPECT_EQ(cmd.fragments, json::object()) << line;
  }
}

TEST(RequiredAvailability, BadArguments) {
  for (const char* v : {"1.5", "abc", "NaN", "1e2", "60m", "\"6 0\""})
    EXPECT_NE(expect_45(std::string("117,") + v).find("not an integer"), std::string::npos) << v;
  EXPECT_NE(expect_45("117,2147483648").find("out of range"), std::string::npos);
  expect_45("117,-2147483649");
  expect_45("117,99999999999999999999");
  expect_45("117,60,1");
}

// ---------------------------------------------------------------------------------------------
// 120: c8y_Configuration_<type>

TEST(ConfigurationFile, AllArguments) {
  EXPECT_EQ(merged("120,myType,http://www.my.url,config.bin,2020-07-22T17:03:14.000+02:00"),
            J(R"({"c8y_Configuration_myType":{"name":"config.bin",
                                              "time":"2020-07-22T15:03:14.000Z",
                                              "type":"myType","url":"http://www.my.url"}})"));
}

TEST(ConfigurationFile, Defaults) {
  const json expected = {{"c8y_Configuration_ssh_conf",
                          {{"name", "ssh_conf"},
                           {"time", kNowText},
                           {"type", "ssh_conf"},
                           {"url", "http://cumulocity.com/conf"}}}};
  EXPECT_EQ(merged("120,ssh_conf,http://cumulocity.com/conf"), expected);
  EXPECT_EQ(merged("120,ssh_conf,http://cumulocity.com/conf,"), expected);
  EXPECT_EQ(merged("120,ssh_conf,http://cumulocity.com/conf,,"), expected);
  auto f = merged("120,t,u,agent.cfg,");
  EXPECT_EQ(f["c8y_Configuration_t"]["name"], "agent.cfg");
  EXPECT_EQ(f["c8y_Configuration_t"]["time"], kNowText);
  f = merged("120,t,u,,2016-06-22");
  EXPECT_EQ(f["c8y_Configuration_t"]["name"], "t");
  EXPECT_EQ(f["c8y_Configuration_t"]["time"], "2016-06-22T00:00:00.000Z");
}

TEST(ConfigurationFile, MandatoryArguments) {
  EXPECT_NE(expect_45("120").find("configuration type"), std::string::npos);
  expect_45("120,");
  expect_45("120,,http://u");
  expect_45("120,,http://u,f");
  EXPECT_NE(expect_45("120,t").find("configuration url"), std::string::npos);
  expect_45("120,t,");
  expect_45("120,t,,f,2016-06-22");
}

TEST(ConfigurationFile, BadArguments) {
  for (const char* v : {"yesterday", "2016-06-22T15:03:14", "2016-02-30", "1466607794000"})
    EXPECT_NE(expect_45(std::string("120,t,u,f,") + v).find("not a date"), std::string::npos) << v;
  expect_45("120,t,u,f,2016-06-22,x");
  // The type is part of a key.
  expect_45("120,a.b,u");
  expect_45("120,$a,u");
  expect_45("120,\xff,u");
  const std::string longest(127 - std::string("c8y_Configuration_").size(), 't');
  EXPECT_EQ(merged("120," + longest + ",u").begin().key(), "c8y_Configuration_" + longest);
  expect_45("120," + longest + "t,u");
  EXPECT_EQ(merged("120,t," + std::string(8000, 'u') + "," +
                   std::string(7000, 'f'))["c8y_Configuration_t"]["url"]
                .get<std::string>()
                .size(),
            8000u);
  expect_45("120,t,u,f\xff");
}

// ---------------------------------------------------------------------------------------------
// 121: c8y_Profile

TEST(Profile, WithId) {
  auto cmd = ok("121,true,8473");
  EXPECT_EQ(cmd.op, Op::kSetProfile);
  EXPECT_FALSE(cmd.profile_from_operation);
  EXPECT_EQ(cmd.fragments, J(R"({"c8y_Profile":{"profileExecuted":true,"profileId":"8473"}})"));
  cmd = ok("121,FALSE,abc");
  EXPECT_EQ(cmd.fragments, J(R"({"c8y_Profile":{"profileExecuted":false,"profileId":"abc"}})"));
}

TEST(Profile, WithoutIdTheOperationGivesIt) {
  for (const char* line : {"121,false", "121,false,", "121,false,,"}) {
    auto cmd = ok(line);
    EXPECT_EQ(cmd.op, Op::kSetProfile) << line;
    EXPECT_TRUE(cmd.profile_from_operation) << line;
    EXPECT_EQ(cmd.fragments, J(R"({"c8y_Profile":{"profileExecuted":false}})")) << line;
  }
  EXPECT_EQ(ok("121,True").fragments, J(R"({"c8y_Profile":{"profileExecuted":true}})"));
}

TEST(Profile, BadArguments) {
  for (const char* line : {"121", "121,", "121,,8473"})
    EXPECT_NE(expect_45(line).find("missing profile executed"), std::string::npos) << line;
  for (const char* v : {"yes", "1", "0", "t", "truee", "\"true \""})
    EXPECT_NE(expect_45(std::string("121,") + v + ",1").find("not true or false"),
              std::string::npos)
        << v;
  expect_45("121,true,1,x");
  EXPECT_EQ(ok("121,true," + std::string(15000, '1'))
                .fragments["c8y_Profile"]["profileId"]
                .get<std::string>()
                .size(),
            15000u);
  expect_45("121,true,\xff");
}

// ---------------------------------------------------------------------------------------------
// 122: c8y_Agent

TEST(Agent, AllArguments) {
  EXPECT_EQ(merged("122,thin-edge.io,0.6,https://thin-edge.io,Cumulocity"),
            J(R"({"c8y_Agent":{"name":"thin-edge.io","version":"0.6",
                               "url":"https://thin-edge.io","maintainer":"Cumulocity"}})"));
  EXPECT_EQ(merged("122,n,v,,m"),
            J(R"({"c8y_Agent":{"name":"n","version":"v","maintainer":"m"}})"));
  EXPECT_EQ(merged("122,\"n, x\",v,,m"),
            J(R"({"c8y_Agent":{"name":"n, x","version":"v","maintainer":"m"}})"));
}

TEST(Agent, MandatoryArguments) {
  EXPECT_NE(expect_45("122").find("agent name"), std::string::npos);
  EXPECT_NE(expect_45("122,n").find("agent version"), std::string::npos);
  EXPECT_NE(expect_45("122,n,v").find("agent maintainer"), std::string::npos);
  expect_45("122,n,v,u");
  expect_45("122,n,v,u,");
  expect_45("122,,v,u,m");
  expect_45("122,n,,u,m");
}

TEST(Agent, BadArguments) {
  expect_45("122,n,v,u,m,x");
  // Values have no limit below the message cap.
  EXPECT_EQ(merged("122," + std::string(3000, 'n') + "," + std::string(3000, 'v') + "," +
                   std::string(3000, 'u') + "," + std::string(3000, 'm'))["c8y_Agent"]["maintainer"]
                .get<std::string>()
                .size(),
            3000u);
  expect_45("122,n,v,u,m\xff");
}

// ---------------------------------------------------------------------------------------------
// 140, 141, 142: advanced software list

TEST(AdvancedSoftware, Replace) {
  auto cmd =
      ok("140,docker,3.2.1,systemd,https://www.docker.com/,nginx,1.6,container,https://"
         "www.nginx.com/");
  EXPECT_EQ(cmd.op, Op::kSoftwareReplace);
  EXPECT_EQ(cmd.software,
            (std::vector<SoftwareItem>{{"docker", "3.2.1", "systemd", "https://www.docker.com/"},
                                       {"nginx", "1.6", "container", "https://www.nginx.com/"}}));
  EXPECT_EQ(cmd.fragments, json::object());
}

TEST(AdvancedSoftware, OptionalTypeAndUrl) {
  EXPECT_EQ(ok("140,a,1").software, (std::vector<SoftwareItem>{{"a", "1", "", ""}}));
  EXPECT_EQ(ok("140,a,1,,").software, (std::vector<SoftwareItem>{{"a", "1", "", ""}}));
  EXPECT_EQ(ok("140,a,1,,,,,,").software, (std::vector<SoftwareItem>{{"a", "1", "", ""}}));
  EXPECT_EQ(ok("140,a,1,,,b,2,t").software,
            (std::vector<SoftwareItem>{{"a", "1", "", ""}, {"b", "2", "t", ""}}));
  EXPECT_EQ(ok("141,a,1,,u,b,2").software,
            (std::vector<SoftwareItem>{{"a", "1", "", "u"}, {"b", "2", "", ""}}));
  EXPECT_EQ(ok("141,\"a,b\",\"1,0\",\"t,1\",\"u?x=1,2\"").software,
            (std::vector<SoftwareItem>{{"a,b", "1,0", "t,1", "u?x=1,2"}}));
}

TEST(AdvancedSoftware, Append) {
  auto cmd = ok("141,docker,3.2.1,systemd,https://www.docker.com/");
  EXPECT_EQ(cmd.op, Op::kSoftwareAppend);
  EXPECT_EQ(cmd.software,
            (std::vector<SoftwareItem>{{"docker", "3.2.1", "systemd", "https://www.docker.com/"}}));
}

TEST(AdvancedSoftware, Remove) {
  auto cmd = ok("142,docker,3.2.1,nginx,1.6");
  EXPECT_EQ(cmd.op, Op::kSoftwareRemove);
  EXPECT_EQ(cmd.software,
            (std::vector<SoftwareItem>{{"docker", "3.2.1", "", ""}, {"nginx", "1.6", "", ""}}));
  EXPECT_EQ(ok("142,a,1,,").software, (std::vector<SoftwareItem>{{"a", "1", "", ""}}));
}

// Only the name is required: thin-edge.io sends items without version, type or url.
TEST(AdvancedSoftware, OnlyTheNameIsMandatory) {
  for (const char* id : {"140", "141", "142"}) {
    std::string p(id);
    EXPECT_NE(expect_45(p).find("missing software name"), std::string::npos) << id;
    expect_45(p + ",");
    expect_45(p + ",,,");
    EXPECT_EQ(ok(p + ",a").software, (std::vector<SoftwareItem>{{"a", "", "", ""}})) << id;
    EXPECT_EQ(ok(p + ",a,").software, (std::vector<SoftwareItem>{{"a", "", "", ""}})) << id;
    EXPECT_NE(expect_45(p + ",,1").find("missing name of software item 1"), std::string::npos)
        << id;
  }
  EXPECT_EQ(ok("140,a,1,t,u,b").software,
            (std::vector<SoftwareItem>{{"a", "1", "t", "u"}, {"b", "", "", ""}}));
  EXPECT_NE(expect_45("141,a,1,t,u,,2").find("missing name of software item 2"), std::string::npos);
  expect_45("141,a,1,,,,,,,b,2");  // an empty group in the middle
  EXPECT_EQ(ok("142,a,1,b").software,
            (std::vector<SoftwareItem>{{"a", "1", "", ""}, {"b", "", "", ""}}));
  expect_45("142,a,1,,2");
}

// What thin-edge.io sends: empty versions and urls are stored as empty strings.
TEST(AdvancedSoftware, ThinEdgeList) {
  json list;
  ASSERT_FALSE(apply_software(list, ok("140,a,,debian,,b,1.0,debian,")));
  ASSERT_FALSE(apply_software(list, ok("141,c,,debian,,d,2.0,debian,")));
  EXPECT_EQ(list, J(R"([{"name":"a","version":"","softwareType":"debian","url":""},
                        {"name":"b","version":"1.0","softwareType":"debian","url":""},
                        {"name":"c","version":"","softwareType":"debian","url":""},
                        {"name":"d","version":"2.0","softwareType":"debian","url":""}])"));
}

TEST(AdvancedSoftware, Limits) {
  expect_45("142,n\xff,v");
  expect_45("141,n,v,\xc3");
  auto big = ok("140," + std::string(4000, 'n') + "," + std::string(4000, 'v') + "," +
                std::string(4000, 't') + "," + std::string(4000, 'u'));
  EXPECT_EQ(big.software[0].name.size(), 4000u);
  EXPECT_EQ(big.software[0].version.size(), 4000u);
  EXPECT_EQ(big.software[0].type.size(), 4000u);
  EXPECT_EQ(big.software[0].url.size(), 4000u);
  auto four = [](size_t i) { return "s" + std::to_string(i) + ",1,t,u"; };
  auto two = [](size_t i) { return "s" + std::to_string(i) + ",1"; };
  EXPECT_EQ(ok(list_line("140", 2000, four)).software.size(), 2000u);
  EXPECT_EQ(ok(list_line("141", 2000, four)).software.size(), 2000u);
  EXPECT_EQ(ok(list_line("142", 2000, two)).software.size(), 2000u);
}

TEST(ApplySoftware, ItemJson) {
  EXPECT_EQ(software_item_json({"a", "1", "t", "u"}),
            J(R"({"name":"a","version":"1","softwareType":"t","url":"u"})"));
  EXPECT_EQ(software_item_json({"a", "1", "", ""}),
            J(R"({"name":"a","version":"1","softwareType":"","url":""})"));
  EXPECT_EQ(software_item_json({"a", "", "", "u"}),
            J(R"({"name":"a","version":"","softwareType":"","url":"u"})"));
}

TEST(ApplySoftware, ReplaceOverwrites) {
  json list = J(R"([{"name":"old","version":"0"}])");
  ASSERT_FALSE(apply_software(list, ok("140,docker,3.2.1,systemd,https://www.docker.com/,"
                                       "nginx,1.6,container,https://www.nginx.com/")));
  EXPECT_EQ(list, J(R"([{"name":"docker","version":"3.2.1","softwareType":"systemd",
                         "url":"https://www.docker.com/"},
                        {"name":"nginx","version":"1.6","softwareType":"container",
                         "url":"https://www.nginx.com/"}])"));
}

TEST(ApplySoftware, ReplaceMergesRepeatedItems) {
  json list;
  ASSERT_FALSE(apply_software(list, ok("140,a,1,,,b,1,,,a,1,t,u")));
  EXPECT_EQ(list, J(R"([{"name":"a","version":"1","softwareType":"t","url":"u"},
                        {"name":"b","version":"1","softwareType":"","url":""}])"));
}

TEST(ApplySoftware, AppendToMissingOrInvalidList) {
  for (json start : {json(), json::object(), json("x"), json(5)}) {
    json list = start;
    ASSERT_FALSE(apply_software(list, ok("141,a,1")));
    EXPECT_EQ(list, J(R"([{"name":"a","version":"1","softwareType":"","url":""}])")) << start;
  }
}

TEST(ApplySoftware, AppendAddsOrUpdates) {
  json list = J(R"([{"name":"a","version":"1","softwareType":"t","url":"u"},
                    {"name":"b","version":"2"},
                    {"name":"legacy"}])");
  ASSERT_FALSE(apply_software(list, ok("141,c,3,apt,,a,2,,,a,1,,v")));
  EXPECT_EQ(list, J(R"([{"name":"a","version":"1","softwareType":"","url":"v"},
                        {"name":"b","version":"2"},
                        {"name":"legacy"},
                        {"name":"c","version":"3","softwareType":"apt","url":""},
                        {"name":"a","version":"2","softwareType":"","url":""}])"));
}

TEST(ApplySoftware, RemoveByNameAndVersion) {
  json list = J(R"([{"name":"a","version":"1"},
                    {"name":"a","version":"2","softwareType":"t"},
                    {"name":"b","version":"1","url":"u"},
                    {"name":"a","version":"1","url":"dup"},
                    {"name":"a"},
                    {"version":"1"},
                    "junk",
                    {"name":1,"version":"1"}])");
  ASSERT_FALSE(apply_software(list, ok("142,a,1,b,1,zz,9")));
  EXPECT_EQ(list, J(R"([{"name":"a","version":"2","softwareType":"t"},
                        {"name":"a"},
                        {"version":"1"},
                        "junk",
                        {"name":1,"version":"1"}])"));
}

TEST(ApplySoftware, RemoveEverythingLeavesEmptyList) {
  json list = J(R"([{"name":"a","version":"1"}])");
  ASSERT_FALSE(apply_software(list, ok("142,a,1")));
  EXPECT_EQ(list, json::array());
  json missing;
  ASSERT_FALSE(apply_software(missing, ok("142,a,1")));
  EXPECT_EQ(missing, json::array());
}

TEST(ApplySoftware, RemoveIsExact) {
  json list = J(R"([{"name":"a","version":"1"}])");
  ASSERT_FALSE(apply_software(list, ok("142,A,1,a,1.0,\"a \",1")));
  EXPECT_EQ(list, J(R"([{"name":"a","version":"1"}])"));
}

TEST(ApplySoftware, AtMostkMaxSoftwareItemsEntries) {
  json list = json::array();
  for (size_t i = 0; i + 1 < kMaxSoftwareItems; ++i)
    list.push_back({{"name", "s" + std::to_string(i)}, {"version", "1"}});
  ASSERT_FALSE(apply_software(list, ok("141,new,1")));
  ASSERT_EQ(list.size(), kMaxSoftwareItems);
  // Updating an entry is fine at the limit; adding one is not, and nothing changes.
  ASSERT_FALSE(apply_software(list, ok("141,s0,1,t")));
  EXPECT_EQ(list[0], J(R"({"name":"s0","version":"1","softwareType":"t","url":""})"));
  json before = list;
  auto e = apply_software(list, ok("141,s1,1,t2,,another,1"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 45);
  EXPECT_NE(e->text.find(std::to_string(kMaxSoftwareItems)), std::string::npos);
  EXPECT_EQ(list, before);
  // Removing and replacing are always possible.
  ASSERT_FALSE(apply_software(list, ok("142,s0,1")));
  EXPECT_EQ(list.size(), kMaxSoftwareItems - 1);
  ASSERT_FALSE(apply_software(list, ok("140,x,1")));
  EXPECT_EQ(list, J(R"([{"name":"x","version":"1","softwareType":"","url":""}])"));
}

TEST(ApplySoftware, OtherOpsChangeNothing) {
  json list = J(R"([{"name":"a","version":"1"}])");
  for (const char* line : {"116,b,2,u", "107,c8y_SoftwareList", "125"}) {
    ASSERT_FALSE(apply_software(list, ok(line))) << line;
    EXPECT_EQ(list, J(R"([{"name":"a","version":"1"}])")) << line;
  }
}

TEST(ApplySoftware, Sequence) {
  json list;
  ASSERT_FALSE(apply_software(list, ok("140,docker,3.2.1,systemd,,nginx,1.6,container")));
  ASSERT_FALSE(apply_software(list, ok("141,curl,8.0,apt,http://c")));
  ASSERT_FALSE(apply_software(list, ok("142,docker,3.2.1")));
  ASSERT_FALSE(apply_software(list, ok("141,nginx,1.6,container,http://n")));
  EXPECT_EQ(list, J(R"([{"name":"nginx","version":"1.6","softwareType":"container",
                         "url":"http://n"},
                        {"name":"curl","version":"8.0","softwareType":"apt","url":"http://c"}])"));
}

// ---------------------------------------------------------------------------------------------
// 143, 150: lists whose emptiness removes the fragment

TEST(SupportedSoftwareTypes, List) {
  EXPECT_EQ(merged("143,yum,docker"), J(R"({"c8y_SupportedSoftwareTypes":["yum","docker"]})"));
  EXPECT_EQ(merged("143,,yum,,docker,"), J(R"({"c8y_SupportedSoftwareTypes":["yum","docker"]})"));
  EXPECT_EQ(merged("143,\"a,b\""), J(R"({"c8y_SupportedSoftwareTypes":["a,b"]})"));
}

TEST(SupportedSoftwareTypes, EmptyListRemoves) {
  for (const char* line : {"143", "143,", "143,,,"}) {
    auto f = merged(line);
    EXPECT_EQ(f, J(R"({"c8y_SupportedSoftwareTypes":null})")) << line;
    EXPECT_TRUE(f["c8y_SupportedSoftwareTypes"].is_null()) << line;
  }
}

TEST(RemoteAccessProtocols, List) {
  EXPECT_EQ(merged("150,ssh,vnc"), J(R"({"c8y_RemoteAccessSupportedProtocols":["ssh","vnc"]})"));
  EXPECT_EQ(merged("150,SSH,,TELNET,VNC,PASSTHROUGH"),
            J(R"({"c8y_RemoteAccessSupportedProtocols":["SSH","TELNET","VNC","PASSTHROUGH"]})"));
  for (const char* line : {"150", "150,", "150,,"})
    EXPECT_EQ(merged(line), J(R"({"c8y_RemoteAccessSupportedProtocols":null})")) << line;
}

TEST(RemovableLists, Limits) {
  for (const char* id : {"143", "150"}) {
    std::string p = std::string(id) + ",";
    EXPECT_FALSE(ok(p + std::string(127, 'x')).fragments.begin()->is_null()) << id;
    expect_45(p + std::string(128, 'x'));
    expect_45(p + "a,b\xff");
    auto make = [](size_t i) { return "t" + std::to_string(i); };
    EXPECT_EQ(ok(list_line(id, 2000, make)).fragments.begin()->size(), 2000u) << id;
  }
}

}  // namespace
}  // namespace c8y::smartrest
