#include "plugin/smartrest/custom_templates.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/smartrest/csv.h"

namespace c8y::smartrest {
namespace {

using nlohmann::json;
using Lines = std::vector<std::string>;
using Errors = std::vector<CustomTemplateError>;

constexpr int64_t kNow = 1700000000123;  // 2023-11-14T22:13:20.123Z
constexpr std::string_view kNowText = "2023-11-14T22:13:20.123Z";
constexpr int64_t kT20160622 = 1466607794000;  // 2016-06-22T15:03:14.000Z

Collection parse_ok(std::string_view payload, std::string_view xid = "myXid") {
  Errors errors;
  size_t count = 99;
  auto c = parse_collection(xid, payload, 10, &errors, &count);
  EXPECT_TRUE(c) << payload << ": " << (errors.empty() ? "" : error_line(errors[0]));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(count, 0u);
  return c ? *c : Collection{};
}

// The errors of a payload that must be refused.
Errors parse_errors(std::string_view payload, std::string_view xid = "myXid") {
  Errors errors;
  size_t count = 0;
  auto c = parse_collection(xid, payload, 10, &errors, &count);
  EXPECT_FALSE(c) << payload;
  EXPECT_FALSE(errors.empty()) << payload;
  EXPECT_EQ(count, errors.size()) << payload;
  return errors;
}

// The one error of a one-line definition (as an s/e line).
std::string parse_error(std::string_view payload) {
  Errors errors = parse_errors(payload);
  EXPECT_EQ(errors.size(), 1u) << payload;
  return errors.empty() ? "" : error_line(errors[0]);
}

CsvRecord record(std::string_view line) {
  CsvReader reader(line);
  CsvRecord rec;
  EXPECT_TRUE(reader.next(rec)) << line;
  EXPECT_FALSE(rec.malformed) << line;
  return rec;
}

RequestAction apply_ok(const Collection& c, std::string_view line) {
  RequestAction a;
  auto e = apply_request(c, record(line), kNow, a);
  EXPECT_FALSE(e) << line << ": " << (e ? error_line(*e) : "");
  return a;
}

std::string apply_error(const Collection& c, std::string_view line) {
  RequestAction a;
  auto e = apply_request(c, record(line), kNow, a);
  EXPECT_TRUE(e) << line << " was accepted: " << a.body.dump();
  return e ? error_line(*e) : "";
}

Lines render(const Collection& c, std::string_view obj,
             std::optional<std::string_view> device = std::nullopt, size_t max = 16384) {
  Lines lines;
  auto e = render_responses(c, json::parse(obj), device, max, &lines);
  EXPECT_FALSE(e) << (e ? error_line(*e) : "");
  return lines;
}

Lines read_back(const std::string& line) {
  CsvReader reader(line);
  CsvRecord rec;
  EXPECT_TRUE(reader.next(rec)) << line;
  EXPECT_FALSE(rec.malformed) << rec.error;
  return rec.fields;
}

// ---------------------------------------------------------------------------------------------
// The examples of the SmartREST 2.0 docs, in their order.

TEST(CustomTemplates, DocIntroMeasurement) {
  // 10,msgId,method,api,response,type,time,custom1.path,custom1.type,custom1.value
  const Collection c =
      parse_ok("10,999,POST,MEASUREMENT,,c8y_MyMeasurement,,c8y_MyMeasurement.M.value,NUMBER,");
  ASSERT_EQ(c.requests.size(), 1u);
  const RequestTemplate& t = c.requests.at("999");
  EXPECT_EQ(t.method, Method::kPost);
  EXPECT_EQ(t.api, Api::kMeasurement);
  EXPECT_FALSE(t.response);  // default for POST
  ASSERT_EQ(t.mandatory.size(), 2u);
  EXPECT_EQ(t.mandatory[0].value, "c8y_MyMeasurement");
  EXPECT_EQ(t.mandatory[1].value, "");
  ASSERT_EQ(t.custom.size(), 1u);
  EXPECT_EQ(t.custom[0].type, ValueType::kNumber);

  RequestAction a = apply_ok(c, "999,2016-06-22T17:03:14.000+02:00,25");
  EXPECT_EQ(a.msg_id, "999");
  EXPECT_EQ(a.method, Method::kPost);
  EXPECT_EQ(a.api, Api::kMeasurement);
  EXPECT_EQ(a.time_ms, kT20160622);
  EXPECT_FALSE(a.response);
  EXPECT_EQ(a.body, json::parse(R"({"type": "c8y_MyMeasurement",
      "time": "2016-06-22T15:03:14.000Z", "c8y_MyMeasurement": {"M": {"value": 25}}})"));
  EXPECT_TRUE(a.body["c8y_MyMeasurement"]["M"]["value"].is_number());

  // "We can also use server time by leaving the time empty".
  a = apply_ok(c, "999,,25");
  EXPECT_EQ(a.time_ms, kNow);
  EXPECT_EQ(a.body["time"], kNowText);
  EXPECT_EQ(a.body["c8y_MyMeasurement"]["M"]["value"], 25);

  // Decision: the time may be left out entirely (first DATE skipped).
  a = apply_ok(c, "999,25.5");
  EXPECT_EQ(a.time_ms, kNow);
  EXPECT_EQ(a.body["c8y_MyMeasurement"]["M"]["value"], 25.5);
}

TEST(CustomTemplates, DocGetInventory) {
  Collection c = parse_ok("10,999,GET,INVENTORY,,true");
  RequestAction a = apply_ok(c, "999,123456");
  EXPECT_EQ(a.method, Method::kGet);
  EXPECT_EQ(a.api, Api::kInventory);
  EXPECT_TRUE(a.response);  // default for GET
  EXPECT_EQ(a.reference, Reference::kInternalId);
  EXPECT_EQ(a.id, "123456");
  EXPECT_EQ(a.body, json::object());

  c = parse_ok("10,999,GET,INVENTORY,,false,c8y_Serial");
  a = apply_ok(c, "999,myDeviceImei");
  EXPECT_EQ(a.reference, Reference::kExternalId);
  EXPECT_EQ(a.external_id_type, "c8y_Serial");
  EXPECT_EQ(a.external_id, "myDeviceImei");

  c = parse_ok("10,999,GET,INVENTORY,,false");
  a = apply_ok(c, "999,c8y_Serial,myDeviceImei");
  EXPECT_EQ(a.reference, Reference::kExternalId);
  EXPECT_EQ(a.external_id_type, "c8y_Serial");
  EXPECT_EQ(a.external_id, "myDeviceImei");
  EXPECT_EQ(apply_error(c, "999,myDeviceImei"),
            "45,999,\"wrong number of arguments: expected 2, got 1\"");
  EXPECT_EQ(apply_error(c, "999,,myDeviceImei"), "45,999,missing externalIdType");
  EXPECT_EQ(apply_error(c, "999,c8y_Serial,"), "45,999,missing externalId");
}

TEST(CustomTemplates, DocMinimalPostTemplates) {
  const Collection c = parse_ok(
      "10,100,POST,MEASUREMENT,false,c8y_MyMeasurement,,c8y_MyMeasurement.M.value,NUMBER,\n"
      "10,101,POST,EVENT,,c8y_CustomEvent,mytext,,\n"
      "10,102,POST,ALARM,,c8y_CustomAlarm,mytext,ACTIVE,MAJOR,\n");
  EXPECT_EQ(c.requests.size(), 3u);
  // Decision (doc contradiction): the NUMBER custom value was left empty, so "100" alone lacks
  // it.
  EXPECT_EQ(apply_error(c, "100"), "45,100,\"wrong number of arguments: expected 1 to 2, got 0\"");
  RequestAction a = apply_ok(c, "101");
  EXPECT_EQ(a.api, Api::kEvent);
  EXPECT_EQ(a.body, json({{"type", "c8y_CustomEvent"}, {"text", "mytext"}, {"time", kNowText}}));
  EXPECT_EQ(a.time_ms, kNow);
  a = apply_ok(c, "102");
  EXPECT_EQ(a.api, Api::kAlarm);
  EXPECT_EQ(a.body, json({{"type", "c8y_CustomAlarm"},
                          {"text", "mytext"},
                          {"status", "ACTIVE"},
                          {"severity", "MAJOR"},
                          {"time", kNowText}}));
}

TEST(CustomTemplates, DocPostInventory) {
  const Collection c = parse_ok(
      "10,100,POST,INVENTORY,,c8y_MySerial\n"
      "10,101,POST,INVENTORY\n");
  RequestAction a = apply_ok(c, "100,myImei");
  EXPECT_EQ(a.method, Method::kPost);
  EXPECT_EQ(a.api, Api::kInventory);
  EXPECT_EQ(a.external_id_type, "c8y_MySerial");
  EXPECT_EQ(a.external_id, "myImei");
  EXPECT_EQ(a.body, json::object());
  a = apply_ok(c, "100");
  EXPECT_EQ(a.external_id, "");
  EXPECT_EQ(a.external_id_type, "");
  a = apply_ok(c, "100,");
  EXPECT_EQ(a.external_id, "");

  a = apply_ok(c, "101,myImei,c8y_MySerial");
  EXPECT_EQ(a.external_id, "myImei");
  EXPECT_EQ(a.external_id_type, "c8y_MySerial");
  a = apply_ok(c, "101,,c8y_MySerial");  // "will result in not creating an external ID"
  EXPECT_EQ(a.external_id, "");
  EXPECT_EQ(a.external_id_type, "");
  a = apply_ok(c, "101");
  EXPECT_EQ(a.external_id, "");
  EXPECT_EQ(apply_error(c, "101,myImei"), "45,101,missing externalIdType");
  EXPECT_EQ(apply_error(c, "101,a,b,c"),
            "45,101,\"wrong number of arguments: expected 0 to 2, got 3\"");
}

TEST(CustomTemplates, PostInventoryWithCustomValues) {
  const Collection c =
      parse_ok("10,103,POST,INVENTORY,,c8y_Serial,name,STRING,,c8y_IsDevice,FLAG,,type,,x");
  RequestAction a = apply_ok(c, "103,abc,My device");
  EXPECT_EQ(a.external_id, "abc");
  EXPECT_EQ(a.external_id_type, "c8y_Serial");
  EXPECT_EQ(a.body, json::parse(R"({"name": "My device", "c8y_IsDevice": {}, "type": "x"})"));
  a = apply_ok(c, "103,,My device");
  EXPECT_EQ(a.external_id, "");
  EXPECT_EQ(apply_error(c, "103"), "45,103,\"wrong number of arguments: expected 2, got 0\"");
}

TEST(CustomTemplates, DocPutInventory) {
  const Collection c = parse_ok("10,999,PUT,INVENTORY,,false,c8y_Serial,c8y_MyCustomValue,STRING,");
  RequestAction a = apply_ok(c, "999,myDeviceImei,myValue");
  EXPECT_EQ(a.method, Method::kPut);
  EXPECT_FALSE(a.response);
  EXPECT_EQ(a.reference, Reference::kExternalId);
  EXPECT_EQ(a.external_id_type, "c8y_Serial");
  EXPECT_EQ(a.external_id, "myDeviceImei");
  EXPECT_EQ(a.body, json({{"c8y_MyCustomValue", "myValue"}}));
  a = apply_ok(c, "999,myDeviceImei,updatedValue");
  EXPECT_EQ(a.body, json({{"c8y_MyCustomValue", "updatedValue"}}));
  // An empty STRING sent on purpose is a value; leaving it out is not.
  a = apply_ok(c, "999,myDeviceImei,");
  EXPECT_EQ(a.body, json({{"c8y_MyCustomValue", ""}}));
  EXPECT_EQ(apply_error(c, "999,myDeviceImei"),
            "45,999,\"wrong number of arguments: expected 2, got 1\"");
}

TEST(CustomTemplates, DocPutInventoryNetworkExampleTargetsOwnDevice) {
  // c8y-docs fragment-library network.md: no byId / externalIdType columns.
  const std::string def =
      "10,100,PUT,INVENTORY,false,c8y_Network.c8y_LAN.name,STRING,,c8y_Network.c8y_LAN.ip,"
      "STRING,,c8y_Network.c8y_LAN.netmask,STRING,,c8y_Network.c8y_LAN.mac,STRING,,"
      "c8y_Network.c8y_LAN.enabled,STRING,,c8y_Network.c8y_WAN.simStatus,STRING,,"
      "c8y_Network.c8y_WAN.apn,STRING,,c8y_Network.c8y_WAN.username,STRING,,"
      "c8y_Network.c8y_WAN.password,STRING,,c8y_Network.c8y_WAN.authType,STRING,,"
      "c8y_Network.c8y_DHCP.addressRange.start,STRING,,c8y_Network.c8y_DHCP.addressRange.end,"
      "STRING,,c8y_Network.c8y_DHCP.domainName,STRING,,c8y_Network.c8y_DHCP.dns1,STRING,,"
      "c8y_Network.c8y_DHCP.dns2,STRING,,c8y_Network.c8y_DHCP.enabled,STRING,\n"
      "11,200,,c8y_Network.c8y_WAN,c8y_Network.c8y_WAN.apn,c8y_Network.c8y_WAN.username,"
      "c8y_Network.c8y_WAN.password,c8y_Network.c8y_WAN.authType\n"
      "11,201,,c8y_Network.c8y_LAN,c8y_Network.c8y_LAN.ip,c8y_Network.c8y_LAN.netmask,"
      "c8y_Network.c8y_LAN.enabled\n"
      "11,202,,c8y_Network.c8y_DHCP,c8y_Network.c8y_DHCP.addressRange.start,"
      "c8y_Network.c8y_DHCP.addressRange.end,c8y_Network.c8y_DHCP.domainName,"
      "c8y_Network.c8y_DHCP.dns1,c8y_Network.c8y_DHCP.dns2,c8y_Network.c8y_DHCP.enabled\n";
  const Collection c = parse_ok(def);
  const RequestTemplate& t = c.requests.at("100");
  EXPECT_EQ(t.reference, Reference::kOwnDevice);
  EXPECT_EQ(t.custom.size(), 16u);
  EXPECT_FALSE(t.response);

  RequestAction a = apply_ok(c,
                             "100,br0,192.168.128.1,255.255.255.0,00:60:64:dd:a5:c3,1,SIM OK,"
                             "example.apn.com,user,secret,chap,192.168.128.100,192.168.128.199,"
                             "my.domain,8.8.8.8,1.1.1.1,1");
  EXPECT_EQ(a.reference, Reference::kOwnDevice);
  EXPECT_EQ(a.body["c8y_Network"]["c8y_LAN"]["name"], "br0");
  EXPECT_EQ(a.body["c8y_Network"]["c8y_WAN"]["simStatus"], "SIM OK");
  EXPECT_EQ(a.body["c8y_Network"]["c8y_DHCP"]["addressRange"]["end"], "192.168.128.199");
  EXPECT_EQ(a.body["c8y_Network"]["c8y_DHCP"]["enabled"], "1");

  // "Receive WAN configuration operation: 200,example.apn.com,user,secret,chap". Decision: the
  // device id is written for operations (as in the majority of the examples).
  const std::string op = R"({"id": "7", "deviceId": "5", "status": "PENDING",
      "c8y_Network": {"c8y_WAN": {"apn": "example.apn.com", "username": "user",
                                  "password": "secret", "authType": "chap"}}})";
  EXPECT_EQ(render(c, op, "dev1"), Lines{"200,dev1,example.apn.com,user,secret,chap"});
  EXPECT_EQ(render(c, op), Lines{"200,example.apn.com,user,secret,chap"});
}

TEST(CustomTemplates, DocPutAlarm) {
  const Collection c = parse_ok("10,999,PUT,ALARM,,c8y_MyCustomAlarm,status,ALARMSTATUS");
  RequestAction a = apply_ok(c, "999,CLEARED");
  EXPECT_EQ(a.method, Method::kPut);
  EXPECT_EQ(a.api, Api::kAlarm);
  EXPECT_EQ(a.alarm_type, "c8y_MyCustomAlarm");
  EXPECT_EQ(a.body, json({{"status", "CLEARED"}}));
  EXPECT_EQ(apply_ok(c, "999,acknowledged").body, json({{"status", "ACKNOWLEDGED"}}));
  EXPECT_EQ(apply_error(c, "999,DONE"), "45,999,value is not a ALARMSTATUS: DONE");
  EXPECT_EQ(apply_error(c, "999"), "45,999,\"wrong number of arguments: expected 1, got 0\"");
  EXPECT_EQ(apply_error(c, "999,"), "45,999,missing ALARMSTATUS value for status");
}

TEST(CustomTemplates, DocPutOperation) {
  const Collection c = parse_ok(
      "10,999,PUT,OPERATION,,c8y_MyOperation,status,OPERATIONSTATUS,SUCCESSFUL,"
      "c8y_Fragment.val,NUMBER,");
  RequestAction a = apply_ok(c, "999,24");
  EXPECT_EQ(a.method, Method::kPut);
  EXPECT_EQ(a.api, Api::kOperation);
  EXPECT_EQ(a.fragment, "c8y_MyOperation");
  EXPECT_EQ(a.body, json::parse(R"({"status": "SUCCESSFUL", "c8y_Fragment": {"val": 24}})"));
}

TEST(CustomTemplates, DocClearAlarmWithCustomProperty) {
  const Collection c = parse_ok(
      "10,999,PUT,ALARM,,c8y_MyCustomALarm,status,ALARMSTATUS,CLEARED,"
      "c8y_CustomFragment.reason,STRING,");
  RequestAction a = apply_ok(c, "999,Device resolved alarm on its own");
  EXPECT_EQ(a.alarm_type, "c8y_MyCustomALarm");
  EXPECT_EQ(a.body, json::parse(R"({"status": "CLEARED",
      "c8y_CustomFragment": {"reason": "Device resolved alarm on its own"}})"));
}

TEST(CustomTemplates, DocCustomMeasurement) {
  const Collection c = parse_ok(
      "10,999,POST,MEASUREMENT,,c8y_CustomMeasurement,,c8y_CustomMeasurement.custom.value,"
      "NUMBER,,c8y_CustomMeasurement.custom.unit,STRING,X");
  RequestAction a = apply_ok(c, "999,30.6");
  EXPECT_EQ(a.body,
            json::parse(R"({"type": "c8y_CustomMeasurement", "time": ")" + std::string(kNowText) +
                        R"(", "c8y_CustomMeasurement": {"custom": {"value": 30.6,
                                   "unit": "X"}}})"));
  EXPECT_EQ(c.requests.at("999").base_body, json::parse(R"({"type": "c8y_CustomMeasurement",
                            "c8y_CustomMeasurement": {"custom": {"unit": "X"}}})"));
}

TEST(CustomTemplates, DocQueryDeviceObject) {
  const Collection c = parse_ok(
      "10,999,GET,INVENTORY,,true\n"
      "11,888,,c8y_IsDevice,type,c8y_Test,c8y_Configuration\n");
  RequestAction a = apply_ok(c, "999,12345");
  EXPECT_TRUE(a.response);
  const std::string device = R"({"id": "12345", "type": "myMqttDevice", "c8y_IsDevice": {},
                                 "c8y_Configuration": "val1=1\nval2=2"})";
  // Request results carry no device id (doc example 888). The value holds a real newline.
  EXPECT_EQ(render(c, device), Lines{"888,myMqttDevice,,\"val1=1\nval2=2\""});
  // The literal two characters \n need no quotes (only CR, LF, comma, quote, tab, edge spaces do).
  EXPECT_EQ(render(c, R"({"type": "t", "c8y_IsDevice": {}, "c8y_Configuration": "a\\nb"})"),
            Lines{"888,t,,a\\nb"});
  EXPECT_TRUE(render(c, R"({"id": "1", "type": "x"})").empty());  // condition fails
}

TEST(CustomTemplates, DocParseCustomOperations) {
  const Collection c = parse_ok(
      "11,111,c8y_CustomConfiguration,deviceId,val1,val2,customValues[*]\n"
      "11,222,,deviceId,c8y_CustomConfiguration.val1,c8y_CustomConfiguration.val2\n"
      "11,333,,deviceId,val1,val2,customValues[*]\n"
      "11,444,c8y_CustomConfiguration,c8y_CustomConfiguration.val3,val1,val2,customValues[*]\n");
  EXPECT_TRUE(c.requests.empty());
  ASSERT_EQ(c.responses.size(), 4u);
  const std::string op = R"({"id": "12345", "deviceId": "67890", "agentId": "67890",
      "status": "PENDING", "c8y_CustomConfiguration": {"val1": "1", "val2": "2",
      "customValues": ["a", "b", "c"]}, "description": "Send custom configuration"})";
  // 444 is not returned: its condition is evaluated from the root. 333 is returned although
  // nothing resolves (decision, as in the doc).
  EXPECT_EQ(render(c, op, "myMqttTestDevice"),
            (Lines{"111,myMqttTestDevice,1,2,a,b,c", "222,myMqttTestDevice,1,2",
                   "333,myMqttTestDevice,,,"}));
}

TEST(CustomTemplates, DocListOfObjects) {
  const Collection c = parse_ok(
      "10,999,GET,INVENTORY,,true\n"
      "11,888,,,\"$.myList[*].type\"\n");
  const std::string device = R"({"id": "12345", "name": "test", "type": "c8y_MQTTdevice",
      "c8y_IsDevice": {}, "myList": [{"pid": 12345, "type": "test"},
                                     {"pid": 123456, "type": "test2"}]})";
  EXPECT_EQ(render(c, device), Lines{"888,test,test2"});
}

// ---------------------------------------------------------------------------------------------
// Collection parsing

TEST(CustomTemplates, ParsesMixedCollection) {
  const Collection c = parse_ok(
      "\r\n10,m1,post,measurement,TRUE,t,,a.b,number,\r\n"
      "\n"
      "11,r1,,,a\r\n"
      "11,r0,,,b\n",
      "com.example.v1");
  EXPECT_EQ(c.xid, "com.example.v1");
  ASSERT_EQ(c.requests.size(), 1u);
  EXPECT_TRUE(c.requests.at("m1").response);
  ASSERT_EQ(c.responses.size(), 2u);
  EXPECT_EQ(c.responses[0].msg_id, "r1");  // definition order
  EXPECT_EQ(c.responses[1].msg_id, "r0");
}

TEST(CustomTemplates, ResponseFlag) {
  const Collection c = parse_ok(
      "10,a,GET,INVENTORY,,true\n"
      "10,b,GET,INVENTORY,false,true\n"
      "10,c,POST,EVENT,,t,x\n"
      "10,d,POST,EVENT,true,t,x\n"
      "10,e,PUT,ALARM,False,t,status,ALARMSTATUS\n");
  EXPECT_TRUE(c.requests.at("a").response);
  EXPECT_FALSE(c.requests.at("b").response);
  EXPECT_FALSE(c.requests.at("c").response);
  EXPECT_TRUE(c.requests.at("d").response);
  EXPECT_FALSE(c.requests.at("e").response);
  EXPECT_EQ(parse_error("10,a,GET,INVENTORY,yes,true"), "41,a,response is not true or false: yes");
}

TEST(CustomTemplates, MethodApiTable) {
  // Every supported combination.
  for (auto line :
       {"10,1,GET,INVENTORY,,true", "10,1,POST,INVENTORY", "10,1,PUT,INVENTORY,,true",
        "10,1,POST,ALARM,,t,x,ACTIVE,MAJOR", "10,1,PUT,ALARM,,t", "10,1,POST,EVENT,,t,x",
        "10,1,POST,MEASUREMENT,,t", "10,1,PUT,OPERATION,,c8y_Restart"}) {
    parse_ok(line);
  }
  EXPECT_EQ(parse_error("10,1,GET,ALARM"), "41,1,unsupported request template: GET ALARM");
  EXPECT_EQ(parse_error("10,1,GET,EVENT"), "41,1,unsupported request template: GET EVENT");
  EXPECT_EQ(parse_error("10,1,PUT,EVENT"), "41,1,unsupported request template: PUT EVENT");
  EXPECT_EQ(parse_error("10,1,GET,MEASUREMENT"),
            "41,1,unsupported request template: GET MEASUREMENT");
  EXPECT_EQ(parse_error("10,1,PUT,MEASUREMENT"),
            "41,1,unsupported request template: PUT MEASUREMENT");
  EXPECT_EQ(parse_error("10,1,GET,OPERATION"), "41,1,unsupported request template: GET OPERATION");
  EXPECT_EQ(parse_error("10,1,POST,OPERATION"),
            "41,1,unsupported request template: POST OPERATION");
  EXPECT_EQ(parse_error("10,1,DELETE,ALARM"), "41,1,unknown method: DELETE");
  EXPECT_EQ(parse_error("10,1,POST,USER"), "41,1,unknown api: USER");
  EXPECT_EQ(parse_error("10,1,,ALARM"), "41,1,missing method");
  EXPECT_EQ(parse_error("10,1,POST"), "41,1,missing api");
  // The quick reference's api,method order.
  EXPECT_EQ(parse_error("10,1,MEASUREMENT,POST,,t"),
            "41,1,\"method and api are swapped: use 10,<msgId>,<method>,<api>\"");
}

TEST(CustomTemplates, MsgIdAndLineTypeRefusals) {
  EXPECT_EQ(parse_error("12,1,POST,EVENT,,t,x"),
            "41,myXid,invalid message ID for template creation: 12 (only 10 and 11 lines)");
  EXPECT_EQ(parse_error("100,dev"),
            "41,myXid,invalid message ID for template creation: 100 (only 10 and 11 lines)");
  EXPECT_EQ(parse_error("10,,POST,EVENT,,t,x"), "41,myXid,empty message ID");
  EXPECT_EQ(parse_error("11,,,,a"), "41,myXid,empty message ID");
  EXPECT_EQ(parse_error("10," + std::string(65, 'm') + ",POST,EVENT,,t,x"),
            "41," + std::string(65, 'm') + ",message ID longer than 64 bytes");
  parse_ok("10," + std::string(64, 'm') + ",POST,EVENT,,t,x");
  EXPECT_EQ(parse_error("10,\"a\tb\",POST,EVENT,,t,x"),
            "41,\"a\tb\",message ID must not contain control characters");
  EXPECT_EQ(parse_error("10,\xff,POST,EVENT,,t,x"), "41,\xff,message ID is not valid UTF-8");
  // Unique across request and response templates.
  Errors e = parse_errors(
      "10,1,POST,EVENT,,t,x\n"
      "11,1,,,a\n"
      "10,2,POST,EVENT,,t,x\n"
      "10,2,POST,EVENT,,t,x\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(error_line(e[0]), "41,1,duplicate message ID");
  EXPECT_EQ(error_line(e[1]), "41,2,duplicate message ID");
}

TEST(CustomTemplates, CollectsAllErrorsUpToTheLimit) {
  std::string payload = "10,ok,POST,EVENT,,t,x\n";
  for (int i = 0; i < 15; ++i) payload += "10,e" + std::to_string(i) + ",GET,ALARM\n";
  Errors errors;
  size_t count = 0;
  EXPECT_FALSE(parse_collection("x", payload, 10, &errors, &count));
  EXPECT_EQ(errors.size(), 10u);
  EXPECT_EQ(count, 15u);
  EXPECT_EQ(errors[0].id, "e0");
  EXPECT_EQ(errors[9].id, "e9");
  // Without an error vector, only the count.
  EXPECT_FALSE(parse_collection("x", payload, 10, nullptr, &count));
  EXPECT_EQ(count, 15u);
  EXPECT_FALSE(parse_collection("x", payload, 0, &errors, nullptr));
  EXPECT_TRUE(errors.empty());
}

TEST(CustomTemplates, MalformedLineIs42) {
  Errors e = parse_errors("10,1,POST,EVENT,,t,x\n10,2,\"unterminated");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(error_line(e[0]), "42,myXid,malformed line 2: unterminated quoted value");
}

TEST(CustomTemplates, EmptyPayloadAndXidRefusals) {
  EXPECT_EQ(parse_error(""), "41,myXid,no template definitions");
  EXPECT_EQ(parse_error("\n\r\n  \n"), "41,myXid,no template definitions");
  Errors e = parse_errors("10,1,POST,EVENT,,t,x", "a/b");
  EXPECT_EQ(error_line(e[0]),
            "41,a/b,\"X-ID must not contain '/', '+', '#' or control characters\"");
  e = parse_errors("10,1,POST,EVENT,,t,x", "");
  EXPECT_EQ(error_line(e[0]), "41,,empty X-ID");
  e = parse_errors("10,1,POST,EVENT,,t,x", std::string(129, 'x'));
  EXPECT_EQ(e[0].text, "X-ID longer than 128 bytes");
  e = parse_errors("10,1,POST,EVENT,,t,x", "a#");
  EXPECT_EQ(e[0].text, "X-ID must not contain '/', '+', '#' or control characters");
  e = parse_errors("10,1,POST,EVENT,,t,x", "\xc3");
  EXPECT_EQ(e[0].text, "X-ID is not valid UTF-8");
  EXPECT_EQ(e[0].id, "?");
}

TEST(CustomTemplates, TemplateLimit) {
  std::string payload;
  for (size_t i = 0; i < kMaxTemplates; ++i) payload += "11," + std::to_string(i) + ",,,a\n";
  EXPECT_EQ(parse_ok(payload).responses.size(), kMaxTemplates);
  payload += "11,x,,,a\n11,y,,,a\n";
  Errors e = parse_errors(payload);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(error_line(e[0]), "41,myXid,more than 1000 templates");
}

TEST(CustomTemplates, CustomValueLimit) {
  std::string line = "10,1,PUT,INVENTORY";
  for (size_t i = 0; i < kMaxCustomValues; ++i) line += ",,,c" + std::to_string(i) + ",STRING,v";
  // The first two empty fields are byId / externalIdType.
  line = "10,1,PUT,INVENTORY,,,";
  for (size_t i = 0; i < kMaxCustomValues; ++i) line += ",c" + std::to_string(i) + ",STRING,v";
  EXPECT_EQ(parse_ok(line).requests.at("1").custom.size(), kMaxCustomValues);
  EXPECT_EQ(parse_error(line + ",more"), "41,1,more than 100 custom values");
}

TEST(CustomTemplates, PatternLimit) {
  std::string line = "11,1,,";
  for (size_t i = 0; i < kMaxPatterns; ++i) line += ",p" + std::to_string(i);
  EXPECT_EQ(parse_ok(line).responses[0].paths.size(), kMaxPatterns);
  EXPECT_EQ(parse_error(line + ",more"), "41,1,more than 100 patterns");
}

TEST(CustomTemplates, InventoryReferenceColumns) {
  // byId empty: the own device (GET and PUT).
  Collection c = parse_ok("10,g,GET,INVENTORY\n10,p,PUT,INVENTORY,,,,name,STRING,");
  EXPECT_EQ(c.requests.at("g").reference, Reference::kOwnDevice);
  RequestAction a = apply_ok(c, "g");
  EXPECT_EQ(a.reference, Reference::kOwnDevice);
  EXPECT_EQ(apply_error(c, "g,1"), "45,g,\"wrong number of arguments: expected 0, got 1\"");
  a = apply_ok(c, "p,new name");
  EXPECT_EQ(a.reference, Reference::kOwnDevice);
  EXPECT_EQ(a.body, json({{"name", "new name"}}));

  // PUT by internal id, then a custom value.
  c = parse_ok("10,p,PUT,INVENTORY,,TRUE,,c8y_Flag,FLAG,,n,INTEGER,");
  a = apply_ok(c, "p,42,7");
  EXPECT_EQ(a.reference, Reference::kInternalId);
  EXPECT_EQ(a.id, "42");
  EXPECT_EQ(a.body, json::parse(R"({"c8y_Flag": {}, "n": 7})"));
  EXPECT_EQ(apply_error(c, "p,,7"), "45,p,missing id");

  // PUT by external id without fixed type.
  c = parse_ok("10,p,PUT,INVENTORY,,false,,x,NUMBER,");
  a = apply_ok(c, "p,c8y_Serial,dev,1e3");
  EXPECT_EQ(a.external_id_type, "c8y_Serial");
  EXPECT_EQ(a.external_id, "dev");
  EXPECT_EQ(a.body, json({{"x", 1000.0}}));

  EXPECT_EQ(parse_error("10,g,GET,INVENTORY,,true,c8y_Serial"),
            "41,g,externalIdType is only allowed with byId false");
  EXPECT_EQ(parse_error("10,g,GET,INVENTORY,,,c8y_Serial"),
            "41,g,externalIdType is only allowed with byId false");
  EXPECT_EQ(parse_error("10,g,GET,INVENTORY,,maybe"), "41,g,byId is not true or false: maybe");
  EXPECT_EQ(parse_error("10,g,GET,INVENTORY,,true,,a,STRING,"),
            "41,g,GET INVENTORY takes no custom values");
  EXPECT_EQ(parse_error("10,g,GET,INVENTORY,,false,\"a\nb\""),
            "41,g,externalIdType must not contain control characters");
  EXPECT_EQ(parse_error("10,g,POST,INVENTORY,," + std::string(129, 't')),
            "41,g,externalIdType longer than 128 bytes");
}

TEST(CustomTemplates, MandatoryColumnsSuppliedByTheDevice) {
  // Every mandatory column empty: all come from the usage line, in column order.
  const Collection c = parse_ok(
      "10,a,POST,ALARM\n"
      "10,e,POST,EVENT\n"
      "10,m,POST,MEASUREMENT\n"
      "10,pa,PUT,ALARM,,,severity,SEVERITY\n"
      "10,po,PUT,OPERATION,,,status,OPERATIONSTATUS\n");
  RequestAction a = apply_ok(c, "a,t1,text 1,acknowledged,minor,2016-06-22T15:03:14Z");
  EXPECT_EQ(a.body, json::parse(R"({"type": "t1", "text": "text 1", "status": "ACKNOWLEDGED",
      "severity": "MINOR", "time": "2016-06-22T15:03:14.000Z"})"));
  EXPECT_EQ(a.time_ms, kT20160622);
  a = apply_ok(c, "a,t1,text 1,ACTIVE,CRITICAL");
  EXPECT_EQ(a.time_ms, kNow);
  EXPECT_EQ(apply_error(c, "a,t1,text 1,ACTIVE"),
            "45,a,\"wrong number of arguments: expected 4 to 5, got 3\"");
  EXPECT_EQ(apply_error(c, "a,,text,ACTIVE,MAJOR"), "45,a,missing type");
  EXPECT_EQ(apply_error(c, "a,t,,ACTIVE,MAJOR"), "45,a,missing text");
  EXPECT_EQ(apply_error(c, "a,t,x,OPEN,MAJOR"), "45,a,value is not a ALARMSTATUS: OPEN");
  EXPECT_EQ(apply_error(c, "a,t,x,ACTIVE,HIGH"), "45,a,value is not a SEVERITY: HIGH");
  EXPECT_EQ(apply_error(c, "a,t,x,ACTIVE,"), "45,a,missing SEVERITY value for $.severity");

  a = apply_ok(c, "e,t,x");
  EXPECT_EQ(a.body, json({{"type", "t"}, {"text", "x"}, {"time", kNowText}}));
  a = apply_ok(c, "m,c8y_T");
  EXPECT_EQ(a.body, json({{"type", "c8y_T"}, {"time", kNowText}}));

  a = apply_ok(c, "pa,c8y_A,warning");
  EXPECT_EQ(a.alarm_type, "c8y_A");
  EXPECT_EQ(a.body, json({{"severity", "WARNING"}}));
  EXPECT_EQ(apply_error(c, "pa,,MAJOR"), "45,pa,missing type");

  a = apply_ok(c, "po,c8y_Restart,executing");
  EXPECT_EQ(a.fragment, "c8y_Restart");
  EXPECT_EQ(a.body, json({{"status", "EXECUTING"}}));
  EXPECT_EQ(apply_error(c, "po,c8y.Restart,FAILED"),
            "45,po,\"fragment must not contain '.', '$' or control characters: c8y.Restart\"");
  EXPECT_EQ(apply_error(c, "po,c8y_Restart,DONE"), "45,po,value is not a OPERATIONSTATUS: DONE");
}

TEST(CustomTemplates, MandatoryValueRules) {
  const Collection c = parse_ok("10,e,POST,EVENT\n10,pa,PUT,ALARM");
  EXPECT_EQ(apply_error(c, "e," + std::string(128, 't') + ",x"), "45,e,type longer than 127 bytes");
  apply_ok(c, "e," + std::string(127, 't') + ",x");
  EXPECT_EQ(apply_error(c, "e,\"a\tb\",x"), "45,e,type must not contain control characters");
  apply_ok(c, "e,t," + std::string(16000, 'x'));  // no limit below the message cap
  EXPECT_EQ(apply_error(c, "e,t,\xff"), "45,e,text is not valid UTF-8");
  EXPECT_EQ(apply_error(c, "e,\xff,x"), "45,e,type is not valid UTF-8");
  EXPECT_EQ(apply_error(c, "pa,"), "45,pa,missing type");
  // Fixed values get the same checks at creation.
  EXPECT_EQ(parse_error("10,e,POST,EVENT,,\"a\tb\",x"),
            "41,e,fixed type must not contain control characters");
  EXPECT_EQ(parse_error("10,a,POST,ALARM,,t,x,OPEN"),
            "41,a,fixed value is not a ALARMSTATUS: OPEN");
  EXPECT_EQ(parse_error("10,a,POST,ALARM,,t,x,ACTIVE,HIGH"),
            "41,a,fixed value is not a SEVERITY: HIGH");
  EXPECT_EQ(parse_error("10,m,POST,MEASUREMENT,,t,yesterday"),
            "41,m,fixed value is not a DATE: yesterday");
  EXPECT_EQ(parse_error("10,o,PUT,OPERATION,,a$b"),
            "41,o,\"fixed fragment must not contain '.', '$' or control characters: a$b\"");
}

TEST(CustomTemplates, FixedTimeAndStatusesNormalised) {
  const Collection c = parse_ok("10,a,POST,ALARM,,t,x,cleared,warning,2016-06-22T17:03:14+02:00");
  const RequestTemplate& t = c.requests.at("a");
  EXPECT_EQ(t.mandatory[2].value, "cleared");  // as given
  EXPECT_EQ(t.slots.size(), 0u);
  RequestAction a = apply_ok(c, "a");
  EXPECT_EQ(a.time_ms, kT20160622);
  EXPECT_EQ(a.body, json::parse(R"({"type": "t", "text": "x", "status": "CLEARED",
      "severity": "WARNING", "time": "2016-06-22T15:03:14.000Z"})"));
  EXPECT_EQ(apply_error(c, "a,extra"), "45,a,\"wrong number of arguments: expected 0, got 1\"");
  apply_ok(c, "a,,,");  // trailing empty fields are no values
}

// ---------------------------------------------------------------------------------------------
// Value types

TEST(CustomTemplates, ValueTypesAcceptedAndRefused) {
  const Collection c = parse_ok(
      "10,s,PUT,INVENTORY,,,,v,STRING,\n"
      "10,s2,PUT,INVENTORY,,,,v,,\n"  // empty TYPE = STRING
      "10,d,PUT,INVENTORY,,,,v,DATE,\n"
      "10,n,PUT,INVENTORY,,,,v,NUMBER,\n"
      "10,i,PUT,INVENTORY,,,,v,INTEGER,\n"
      "10,u,PUT,INVENTORY,,,,v,UNSIGNED,\n"
      "10,f,PUT,INVENTORY,,,,v,FLAG,\n"
      "10,sev,PUT,INVENTORY,,,,v,SEVERITY,\n"
      "10,as,PUT,INVENTORY,,,,v,ALARMSTATUS,\n"
      "10,os,PUT,INVENTORY,,,,v,OPERATIONSTATUS,\n"
      "10,lower,PUT,INVENTORY,,,,v,number,\n");
  const auto v = [&](std::string_view line) { return apply_ok(c, line).body["v"]; };

  EXPECT_EQ(v("s,hello world"), "hello world");
  EXPECT_EQ(v("s,\"a,b\"\"c\""), "a,b\"c");
  EXPECT_EQ(v("s,"), "");
  EXPECT_EQ(v("s2,x"), "x");
  EXPECT_EQ(apply_error(c, "s,\xff"), "45,s,value is not valid UTF-8");

  EXPECT_EQ(v("d,2016-06-22T17:03:14.000+02:00"), "2016-06-22T15:03:14.000Z");
  EXPECT_EQ(v("d,2016-06-22"), "2016-06-22T00:00:00.000Z");
  EXPECT_EQ(v("d,"), kNowText);
  EXPECT_EQ(v("d"), kNowText);
  EXPECT_EQ(apply_error(c, "d,2016-06-22T17:03:14"),
            "45,d,value is not a DATE: 2016-06-22T17:03:14");
  EXPECT_EQ(apply_error(c, "d,now"), "45,d,value is not a DATE: now");

  EXPECT_EQ(v("n,25"), 25);
  EXPECT_TRUE(v("n,25").is_number_integer());
  EXPECT_EQ(v("n,-3"), -3);
  EXPECT_EQ(v("n,1.5"), 1.5);
  EXPECT_TRUE(v("n,1.5").is_number_float());
  EXPECT_EQ(v("n,1e3"), 1000.0);
  EXPECT_EQ(v("n,99999999999999999999"), 1e20);  // beyond int64: a double
  EXPECT_EQ(apply_error(c, "n,abc"), "45,n,value is not a NUMBER: abc");
  EXPECT_EQ(apply_error(c, "n,NaN"), "45,n,value is not a NUMBER: NaN");
  EXPECT_EQ(apply_error(c, "n,Infinity"), "45,n,value is not a NUMBER: Infinity");
  EXPECT_EQ(apply_error(c, "n,1e400"), "45,n,value is not a NUMBER: 1e400");
  EXPECT_EQ(apply_error(c, "n,0x10"), "45,n,value is not a NUMBER: 0x10");
  EXPECT_EQ(apply_error(c, "n,"), "45,n,missing NUMBER value for v");
  EXPECT_EQ(apply_error(c, "n"), "45,n,\"wrong number of arguments: expected 1, got 0\"");

  EXPECT_EQ(v("i,-42"), -42);
  EXPECT_EQ(v("i,9223372036854775807"), INT64_MAX);
  EXPECT_EQ(apply_error(c, "i,1.5"), "45,i,value is not a INTEGER: 1.5");
  EXPECT_EQ(apply_error(c, "i,9223372036854775808"),
            "45,i,value is not a INTEGER: 9223372036854775808");

  EXPECT_EQ(v("u,0"), 0);
  EXPECT_EQ(v("u,17"), 17);
  EXPECT_EQ(apply_error(c, "u,-1"), "45,u,value is not a UNSIGNED: -1");
  EXPECT_EQ(apply_error(c, "u,1.0"), "45,u,value is not a UNSIGNED: 1.0");

  EXPECT_EQ(v("f"), json::object());  // FLAG: nothing sent
  EXPECT_EQ(apply_error(c, "f,x"), "45,f,\"wrong number of arguments: expected 0, got 1\"");

  for (auto s : {"CRITICAL", "MAJOR", "MINOR", "WARNING"}) {
    EXPECT_EQ(v("sev," + std::string(s)), s);
  }
  EXPECT_EQ(v("sev,Major"), "MAJOR");
  EXPECT_EQ(apply_error(c, "sev,INFO"), "45,sev,value is not a SEVERITY: INFO");
  for (auto s : {"ACTIVE", "ACKNOWLEDGED", "CLEARED"}) EXPECT_EQ(v("as," + std::string(s)), s);
  EXPECT_EQ(apply_error(c, "as,PENDING"), "45,as,value is not a ALARMSTATUS: PENDING");
  for (auto s : {"PENDING", "EXECUTING", "SUCCESSFUL", "FAILED"})
    EXPECT_EQ(v("os," + std::string(s)), s);
  EXPECT_EQ(apply_error(c, "os,ACTIVE"), "45,os,value is not a OPERATIONSTATUS: ACTIVE");
  EXPECT_EQ(apply_error(c, "os,"), "45,os,missing OPERATIONSTATUS value for v");

  EXPECT_EQ(v("lower,2"), 2);  // type names in any case
  EXPECT_EQ(c.requests.at("lower").custom[0].type, ValueType::kNumber);

  // Long or odd values are echoed shortened and printable.
  EXPECT_EQ(apply_error(c, "n," + std::string(100, '9') + "x"),
            "45,n,value is not a NUMBER: " + std::string(64, '9') + "...");
  EXPECT_EQ(apply_error(c, "n,\"a\nb\""), "45,n,value is not a NUMBER: a?b");
}

TEST(CustomTemplates, FixedValuesOfEveryType) {
  const Collection c = parse_ok(
      "10,x,PUT,INVENTORY,,,,s,STRING,text,d,DATE,2016-06-22T17:03:14+02:00,n,NUMBER,2.5,"
      "i,INTEGER,-7,u,UNSIGNED,7,f,FLAG,,sev,SEVERITY,critical,as,ALARMSTATUS,Active,"
      "os,OPERATIONSTATUS,failed");
  EXPECT_TRUE(c.requests.at("x").slots.empty());
  EXPECT_EQ(apply_ok(c, "x").body, json::parse(R"({"s": "text", "d": "2016-06-22T15:03:14.000Z",
      "n": 2.5, "i": -7, "u": 7, "f": {}, "sev": "CRITICAL", "as": "ACTIVE", "os": "FAILED"})"));

  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,NUMBER,abc"),
            "41,x,fixed value is not a NUMBER: abc");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,INTEGER,1.5"),
            "41,x,fixed value is not a INTEGER: 1.5");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,UNSIGNED,-1"),
            "41,x,fixed value is not a UNSIGNED: -1");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,DATE,tomorrow"),
            "41,x,fixed value is not a DATE: tomorrow");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,SEVERITY,LOW"),
            "41,x,fixed value is not a SEVERITY: LOW");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,ALARMSTATUS,X"),
            "41,x,fixed value is not a ALARMSTATUS: X");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,OPERATIONSTATUS,X"),
            "41,x,fixed value is not a OPERATIONSTATUS: X");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,FLAG,true"), "41,x,FLAG takes no value: n");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,n,BOOLEAN,true"), "41,x,bad value type: BOOLEAN");
  EXPECT_EQ(parse_error("10,x,PUT,INVENTORY,,,,s,STRING,\xff"),
            "41,x,fixed value is not valid UTF-8");
}

TEST(CustomTemplates, FixedAndSuppliedValuesInterleave) {
  const Collection c = parse_ok(
      "10,x,POST,MEASUREMENT,,c8y_T,,c8y_T.T.value,NUMBER,,c8y_T.T.unit,STRING,C,"
      "c8y_T.T2.value,NUMBER,,c8y_T.T2.unit,,F,c8y_T.seen,DATE,");
  const RequestTemplate& t = c.requests.at("x");
  ASSERT_EQ(t.slots.size(), 4u);  // time, T.value, T2.value, seen
  EXPECT_EQ(t.date_slots, 2u);
  EXPECT_EQ(t.min_values, 2u);
  RequestAction a = apply_ok(c, "x,2016-06-22T15:03:14Z,1,2,2016-06-22T15:03:14Z");
  EXPECT_EQ(a.body, json::parse(R"({"type": "c8y_T", "time": "2016-06-22T15:03:14.000Z",
      "c8y_T": {"T": {"value": 1, "unit": "C"}, "T2": {"value": 2, "unit": "F"},
                "seen": "2016-06-22T15:03:14.000Z"}})"));
  // One value missing: the first DATE (time) is skipped.
  a = apply_ok(c, "x,1,2,2016-06-22T15:03:14Z");
  EXPECT_EQ(a.time_ms, kNow);
  EXPECT_EQ(a.body["c8y_T"]["seen"], "2016-06-22T15:03:14.000Z");
  // Two missing: both DATEs.
  a = apply_ok(c, "x,1,2");
  EXPECT_EQ(a.body["time"], kNowText);
  EXPECT_EQ(a.body["c8y_T"]["seen"], kNowText);
  EXPECT_EQ(a.body["c8y_T"]["T2"]["value"], 2);
  EXPECT_EQ(apply_error(c, "x,1"), "45,x,\"wrong number of arguments: expected 2 to 4, got 1\"");
  EXPECT_EQ(apply_error(c, "x,1,2,3,4,5"),
            "45,x,\"wrong number of arguments: expected 2 to 4, got 5\"");
  EXPECT_EQ(apply_error(c, "x,2016-06-22T15:03:14Z,2"),
            "45,x,value is not a NUMBER: 2016-06-22T15:03:14Z");
}

TEST(CustomTemplates, DefinitionLineShapes) {
  // Trailing empty columns do not count; a trailing triple may be cut short.
  Collection c = parse_ok("10,1,POST,EVENT,,t,x,,,,,,");
  EXPECT_TRUE(c.requests.at("1").custom.empty());
  c = parse_ok("10,1,PUT,INVENTORY,,,,a.b");
  ASSERT_EQ(c.requests.at("1").custom.size(), 1u);
  EXPECT_EQ(c.requests.at("1").custom[0].type, ValueType::kString);
  EXPECT_EQ(apply_ok(c, "1,v").body, json::parse(R"({"a": {"b": "v"}})"));
  EXPECT_EQ(parse_error("10,1,PUT,INVENTORY,,,,a,STRING,,,STRING,x"),
            "41,1,empty custom value path");
}

TEST(CustomTemplates, RequestPathRefusals) {
  const auto err = [](std::string_view path) {
    return parse_error("10,1,PUT,INVENTORY,,,," + std::string(path) + ",STRING,");
  };
  EXPECT_EQ(err("a[*].b"), "41,1,list JsonPath not allowed in a request template: a[*].b");
  EXPECT_EQ(err("a.*"), "41,1,list JsonPath not allowed in a request template: a.*");
  EXPECT_EQ(err("$"), "41,1,a request template cannot set the root: $");
  EXPECT_EQ(err("[0]"), "41,1,a request path must start with a key: [0]");
  EXPECT_EQ(err("\"$..a\""), "41,1,invalid JsonPath $..a: recursive descent '..' is not supported");
  EXPECT_EQ(err("\"a[?(@.x)]\""),
            "41,1,invalid JsonPath a[?(@.x)]: filters are not supported in JSONPath");
  EXPECT_EQ(err("a[1001]"), "41,1,index above 1000 in a[1001]");
  EXPECT_EQ(err("\"a['b.c']\""), "41,1,keys must not contain '.' or '$': a['b.c']");
  EXPECT_EQ(err("a.x$"), "41,1,keys must not contain '.' or '$': a.x$");
  EXPECT_EQ(err(std::string(128, 'k')),
            "41,1,key longer than 127 bytes in " + std::string(64, 'k') + "...");
  for (auto key : {"id", "self", "source", "creationTime", "lastUpdated"}) {
    EXPECT_EQ(err(std::string(key) + ".x"),
              "41,1,a request template cannot set " + std::string(key));
  }
  // Indexes and bracket keys are fine.
  const Collection c = parse_ok("10,1,PUT,INVENTORY,,,,\"list[2]['a b']\",INTEGER,");
  EXPECT_EQ(apply_ok(c, "1,5").body, json::parse(R"({"list": [null, null, {"a b": 5}]})"));
}

TEST(CustomTemplates, PathConflictsAreRefusedAtCreation) {
  EXPECT_EQ(parse_error("10,1,PUT,INVENTORY,,,,a.b,STRING,,a.b,STRING,"),
            "41,1,custom path a.b conflicts with a.b");
  EXPECT_EQ(parse_error("10,1,PUT,INVENTORY,,,,a.b,STRING,,a.b.c,STRING,"),
            "41,1,custom path a.b.c conflicts with a.b");
  EXPECT_EQ(parse_error("10,1,PUT,INVENTORY,,,,a.b.c,STRING,,$.a.b,STRING,"),
            "41,1,custom path $.a.b conflicts with a.b.c");
  EXPECT_EQ(parse_error("10,1,PUT,INVENTORY,,,,a[0],STRING,,a.b,STRING,"),
            "41,1,custom path a.b conflicts with a[0]");
  EXPECT_EQ(parse_error("10,1,POST,MEASUREMENT,,t,,time,DATE,"),
            "41,1,custom path time conflicts with $.time");
  EXPECT_EQ(parse_error("10,1,POST,EVENT,,t,x,,text.more,STRING,"),
            "41,1,custom path text.more conflicts with $.text");
  // PUT ALARM's type and PUT OPERATION's fragment are not in the body.
  parse_ok("10,1,PUT,ALARM,,t,type,STRING,");
  parse_ok("10,1,PUT,INVENTORY,,,,a.b,STRING,,a.c,STRING,,a.d[0],INTEGER,,a.d[1],INTEGER,");
}

// ---------------------------------------------------------------------------------------------
// Usage lines

TEST(CustomTemplates, UnknownMsgIdIs40) {
  const Collection c = parse_ok("10,1,POST,EVENT,,t,x\n11,2,,,a");
  EXPECT_EQ(apply_error(c, "3,x"), "40,3,No template for this message id");
  EXPECT_EQ(apply_error(c, "2"), "40,2,No template for this message id");  // a response template
  RequestAction a;
  EXPECT_EQ(apply_request(c, CsvRecord{}, kNow, a)->code, 40);
}

TEST(CustomTemplates, ApplyOneTemplateDirectly) {
  const Collection c = parse_ok("10,g,GET,INVENTORY,,false,c8y_Serial");
  const RequestTemplate& t = c.requests.at("g");
  ASSERT_EQ(t.slots.size(), 1u);
  EXPECT_EQ(t.slots[0].kind, RequestTemplate::Slot::Kind::kExternalId);
  EXPECT_EQ(t.min_values, 1u);
  RequestAction a;
  ASSERT_FALSE(apply_request(t, record("g,dev1"), kNow, a));
  EXPECT_EQ(a.external_id, "dev1");
  EXPECT_EQ(a.external_id_type, "c8y_Serial");
  // The template overload does not look at fields[0].
  ASSERT_FALSE(apply_request(t, record("other,dev2"), kNow, a));
  EXPECT_EQ(a.external_id, "dev2");
  EXPECT_EQ(a.msg_id, "g");
}

TEST(CustomTemplates, OneBadLineRefusesTheWholeCollection) {
  Errors e = parse_errors("10,1,POST,EVENT,,t,x\n11,2,,,a\n10,3,POST,EVENT,,t,x,,a,NUMBER,b\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(error_line(e[0]), "41,3,fixed value is not a NUMBER: b");
}

TEST(CustomTemplates, ApplyResetsTheAction) {
  const Collection c = parse_ok("10,g,GET,INVENTORY,,true\n10,e,POST,EVENT,,t,x");
  RequestAction a;
  ASSERT_FALSE(apply_request(c, record("g,5"), kNow, a));
  ASSERT_FALSE(apply_request(c, record("e"), kNow, a));
  EXPECT_EQ(a.id, "");
  EXPECT_EQ(a.reference, Reference::kOwnDevice);
  EXPECT_EQ(a.msg_id, "e");
}

TEST(CustomTemplates, ReferenceValueRules) {
  const Collection c = parse_ok("10,g,GET,INVENTORY,,true\n10,x,GET,INVENTORY,,false");
  EXPECT_EQ(apply_error(c, "g," + std::string(129, '1')), "45,g,id longer than 128 bytes");
  EXPECT_EQ(apply_error(c, "g,\"1\n2\""), "45,g,id must not contain control characters");
  EXPECT_EQ(apply_error(c, "g,\xff"), "45,g,id is not valid UTF-8");
  EXPECT_EQ(apply_error(c, "x,t,\"a\tb\""), "45,x,externalId must not contain control characters");
  EXPECT_EQ(apply_ok(c, "x,c8y_Serial,a/b c").external_id, "a/b c");
}

// ---------------------------------------------------------------------------------------------
// Responses

TEST(CustomTemplates, ResponseDefinitionRefusals) {
  EXPECT_EQ(parse_error("11,1,,"), "41,1,a response template needs at least one pattern");
  EXPECT_EQ(parse_error("11,1,base,cond"), "41,1,a response template needs at least one pattern");
  EXPECT_EQ(parse_error("11,1,,,a,,b"), "41,1,pattern 2 is empty");
  EXPECT_EQ(parse_error("11,1,\"a..b\",,x"),
            "41,1,invalid JsonPath in base a..b: recursive descent '..' is not supported");
  EXPECT_EQ(parse_error("11,1,,\"a[?(@.b)]\",x"),
            "41,1,invalid JsonPath in condition a[?(@.b)]: filters are not supported in JSONPath");
  EXPECT_EQ(parse_error("11,1,,,\"a[1:2]\""),
            "41,1,invalid JsonPath in pattern a[1:2]: slices are not supported in JSONPath");
  EXPECT_EQ(
      parse_error("11,1,,,\"a[-1]\""),
      "41,1,invalid JsonPath in pattern a[-1]: negative indexes are not supported in JSONPath");
  EXPECT_EQ(parse_error("11,1,,,\"a[0,1]\""),
            "41,1,\"invalid JsonPath in pattern a[0,1]: unions are not supported in JSONPath\"");
  EXPECT_EQ(parse_error("11,1,,,@"),
            "41,1,invalid JsonPath in pattern @: '@' is not supported in JSONPath");
  EXPECT_EQ(parse_error("11,1,,,a."), "41,1,invalid JsonPath in pattern a.: empty key in JSONPath");
  EXPECT_EQ(parse_error("11,1,,,a[0"),
            "41,1,invalid JsonPath in pattern a[0: unterminated '[' in JSONPath");
  EXPECT_EQ(parse_error("11,1,,," + std::string(513, 'a')),
            "41,1,invalid JsonPath in pattern " + std::string(64, 'a') +
                "...: JSONPath longer than 512 bytes");
}

TEST(CustomTemplates, ResponseValuesAndExpansion) {
  const Collection c = parse_ok(
      "11,1,,,s,i,u,f,big,t,n,o,a,missing,$\n"
      "11,2,list[*],,name\n"
      "11,3,,,list[*].name,after\n"
      "11,4,,,empty[*],after\n"
      "11,5,,,nested[*][*],obj[*]\n");
  const std::string obj = R"({
    "s": "a,b \"q\"", "i": -5, "u": 18446744073709551615, "f": 0.1, "big": 1e300,
    "t": true, "n": null, "o": {"k": [1, "x"]}, "a": [1, 2.0],
    "after": "z", "empty": [],
    "list": [{"name": "n1"}, {"other": 1}, {"name": "line\nbreak"}],
    "nested": [[1, 2], [], [3]], "obj": {"b": 2, "a": 1}
  })";
  const json parsed = json::parse(obj);
  Lines lines = render(c, obj, "dev");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(read_back(lines[0]),
            (Lines{"1", "dev", "a,b \"q\"", "-5", "18446744073709551615", "0.1", "1e+300", "true",
                   "", "{\"k\":[1,\"x\"]}", "[1,2.0]", "", parsed.dump()}));
  // A base with [*] expands into one value per element that has the member (like JsonPath
  // itself, elements without it are not selected).
  EXPECT_EQ(lines[1], "2,dev,n1,\"line\nbreak\"");
  EXPECT_EQ(lines[2], "3,dev,n1,\"line\nbreak\",z");
  // An empty list yields one empty value, so the next value keeps its position.
  EXPECT_EQ(lines[3], "4,dev,,z");
  EXPECT_EQ(lines[4], "5,dev,1,2,3,1,2");  // object values in key order
}

TEST(CustomTemplates, NumbersRenderShortest) {
  const Collection c = parse_ok("11,1,,,a,b,c,d,e");
  EXPECT_EQ(render(c, R"({"a": 22.0, "b": -0.0, "c": 1.5, "d": 9007199254740993.0, "e": 3})"),
            Lines{"1,22,0,1.5,9.007199254740992e+15,3"});
}

TEST(CustomTemplates, ConditionWithWildcardAndBase) {
  const Collection c = parse_ok(
      "11,1,c8y_Op,list[*].ok,list[*].v\n"
      "11,2,c8y_Op,c8y_Op.list[*].ok,list[*].v,\"$.list[0].v\"\n"
      "11,3,,c8y_Op.flag,c8y_Op.flag\n");
  // Condition 1 is evaluated from the root: "list" is not at the root.
  const std::string op = R"({"c8y_Op": {"list": [{"v": "a", "ok": false}, {"v": "b"}],
                                        "flag": null}})";
  EXPECT_EQ(render(c, op, "d"), (Lines{"2,d,a,b,a", "3,d,"}));  // a null member exists
  EXPECT_EQ(render(c, R"({"c8y_Op": {"list": [{"v": "a"}]}})", "d"), Lines{});
  EXPECT_EQ(render(c, "[]", "d"), Lines{});
  EXPECT_EQ(render(c, R"("scalar")"), Lines{});
}

TEST(CustomTemplates, NoDeviceIdAndEmptyDeviceId) {
  const Collection c = parse_ok("11,1,,,a");
  EXPECT_EQ(render(c, R"({"a": "x"})"), Lines{"1,x"});
  EXPECT_EQ(render(c, R"({"a": "x"})", ""), Lines{"1,,x"});
  EXPECT_EQ(render(c, R"({"a": "x"})", "dev,1"), Lines{"1,\"dev,1\",x"});
}

TEST(CustomTemplates, CsvQuotingOfRenderedValues) {
  const Collection c = parse_ok("11,\"m,1\",,,a,b,c,d,e,f");
  const std::string obj = R"({"a": "x,y", "b": "say \"hi\"", "c": "multi\nline", "d": " pad",
                              "e": "tab\there", "f": "back\\\"slash"})";
  const Lines lines = render(c, obj);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "\"m,1\",\"x,y\",\"say \\\"hi\\\"\",\"multi\nline\",\" pad\",\"tab\there\","
            "\"back\\\\\\\"slash\"");
  EXPECT_EQ(read_back(lines[0]), (Lines{"m,1", "x,y", "say \"hi\"", "multi\nline", " pad",
                                        "tab\there", "back\\\"slash"}));
}

TEST(CustomTemplates, InvalidUtf8InObjectsIsReplacedNotThrown) {
  const Collection c = parse_ok("11,1,,,o,s");
  json obj = {{"o", {{"k", std::string("\xff")}}}, {"s", std::string("\xff")}};
  Lines lines;
  EXPECT_FALSE(render_responses(c, obj, std::nullopt, 1000, &lines));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "1,\"{\\\"k\\\":\\\"\xef\xbf\xbd\\\"}\",\xff");  // strings as is
}

TEST(CustomTemplates, MaxBytesRefusalNeverTruncates) {
  const Collection c = parse_ok("11,1,,,a\n11,2,,,b[*]\n", "xid");
  const json obj = {{"a", "12345"}, {"b", {"x", "y", "z"}}};
  Lines lines;
  // "1,12345" (7) + "\n" + "2,x,y,z" (7) = 15 bytes.
  EXPECT_FALSE(render_responses(c, obj, std::nullopt, 15, &lines));
  EXPECT_EQ(lines, (Lines{"1,12345", "2,x,y,z"}));
  auto e = render_responses(c, obj, std::nullopt, 14, &lines);
  ASSERT_TRUE(e);
  EXPECT_EQ(error_line(*e), "45,xid,response too large: more than 14 bytes");
  EXPECT_TRUE(lines.empty());
  e = render_responses(c, obj, std::nullopt, 3, &lines);  // fails inside the first line
  ASSERT_TRUE(e);
  EXPECT_TRUE(lines.empty());
  // A huge expansion stops early.
  json big = {{"b", json::array()}};
  for (int i = 0; i < 100000; ++i) big["b"].push_back(i);
  e = render_responses(c, big, "dev", 1000, &lines);
  ASSERT_TRUE(e);
  EXPECT_TRUE(lines.empty());
  // nullptr output is allowed.
  EXPECT_FALSE(render_responses(c, obj, std::nullopt, 100, nullptr));
  // No lines: nothing to refuse.
  EXPECT_FALSE(render_responses(parse_ok("11,1,x,y,z"), obj, std::nullopt, 0, &lines));
  EXPECT_TRUE(lines.empty());
}

// ---------------------------------------------------------------------------------------------
// Managed object

const char* kFullCollection =
    "10,100,POST,MEASUREMENT,false,c8y_MyMeasurement,,c8y_MyMeasurement.M.value,NUMBER,\n"
    "10,101,POST,EVENT,,c8y_CustomEvent,mytext,,\n"
    "10,102,POST,ALARM,,c8y_CustomAlarm,mytext,ACTIVE,MAJOR,,c8y_X,FLAG,\n"
    "10,103,POST,INVENTORY,,c8y_MySerial,name,STRING,\n"
    "10,104,POST,INVENTORY\n"
    "10,105,GET,INVENTORY,,true\n"
    "10,106,GET,INVENTORY,,false,c8y_Serial\n"
    "10,107,GET,INVENTORY,,false\n"
    "10,108,GET,INVENTORY\n"
    "10,109,PUT,INVENTORY,true,false,c8y_Serial,c8y_MyCustomValue,STRING,\n"
    "10,110,PUT,INVENTORY,false,c8y_Network.c8y_LAN.name,STRING,\n"
    "10,111,PUT,ALARM,,c8y_MyCustomAlarm,status,ALARMSTATUS\n"
    "10,112,PUT,OPERATION,,c8y_MyOperation,status,OPERATIONSTATUS,SUCCESSFUL,"
    "c8y_Fragment.val,NUMBER,,\"list[1]['a b']\",DATE,2016-06-22\n"
    "11,888,,c8y_IsDevice,type,c8y_Test,c8y_Configuration\n"
    "11,113,c8y_CustomConfiguration,deviceId,val1,val2,customValues[*]\n"
    "11,999,,,\"$.myList[*].type\"\n";

TEST(CustomTemplates, ManagedObjectShape) {
  const Collection c = parse_ok(
      "10,100,POST,MEASUREMENT,false,c8y_MyMeasurement,,c8y_MyMeasurement.M.value,NUMBER,\n"
      "10,106,GET,INVENTORY,,false,c8y_Serial\n"
      "10,108,GET,INVENTORY\n"
      "11,888,,c8y_IsDevice,type,c8y_Test\n",
      "com.example.v1");
  const json mo = to_managed_object(c);
  EXPECT_EQ(mo, json::parse(R"({
    "type": "c8y_SmartRest2Template", "name": "com.example.v1",
    "__externalId": "com.example.v1", "c8y_Global": {},
    "com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate": {
      "requestTemplates": [
        {"msgId": "100", "method": "POST", "api": "MEASUREMENT", "response": false,
         "mandatoryValues": [{"path": "$.type", "type": "STRING", "value": "c8y_MyMeasurement"},
                             {"path": "$.time", "type": "DATE", "value": ""}],
         "customValues": [{"path": "c8y_MyMeasurement.M.value", "type": "NUMBER", "value": ""}]},
        {"msgId": "106", "method": "GET", "api": "INVENTORY", "response": true,
         "mandatoryValues": [], "customValues": [], "byId": false, "externalIdType": "c8y_Serial"},
        {"msgId": "108", "method": "GET", "api": "INVENTORY", "response": true,
         "mandatoryValues": [], "customValues": []}],
      "responseTemplates": [
        {"msgId": "888", "base": "", "condition": "c8y_IsDevice", "pattern": ["type", "c8y_Test"]}]
    }})"));
  EXPECT_EQ(kTemplateCollectionIdType, "c8y_SmartRest2DeviceIdentifier");
}

TEST(CustomTemplates, ManagedObjectRoundTrip) {
  const Collection c = parse_ok(kFullCollection, "com.example.full");
  const json mo = to_managed_object(c);
  Errors errors;
  auto back = from_managed_object(mo, "com.example.full", 10, &errors);
  ASSERT_TRUE(back) << (errors.empty() ? "" : error_line(errors[0]));
  EXPECT_EQ(*back, c);
  EXPECT_EQ(to_managed_object(*back), mo);
  // Through text, too.
  back = from_managed_object(json::parse(mo.dump()), "com.example.full", 10, &errors);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, c);
  // The collection name comes from the external id, not from "name".
  back = from_managed_object(mo, "other", 10, &errors);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->xid, "other");
  EXPECT_EQ(back->requests, c.requests);
}

TEST(CustomTemplates, FromManagedObjectAcceptsUiVariants) {
  // msgId as a number, null values, "name" members, $-less mandatory paths, a missing type.
  const json mo = json::parse(R"({
    "type": "c8y_SmartRest2Template", "name": "n", "id": "77",
    "com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate": {
      "requestTemplates": [
        {"name": "m", "msgId": 5, "method": "post", "api": "measurement", "byId": true,
         "mandatoryValues": [{"path": "type", "value": "t"},
                             {"path": "$.time", "type": "DATE", "value": null}],
         "customValues": [{"path": "$.c8y_T.T.value", "type": "NUMBER", "value": null},
                          {"path": "c8y_T.T.unit"}]},
        {"msgId": "6", "method": "PUT", "api": "INVENTORY", "byId": null,
         "externalIdType": null, "customValues": null}],
      "responseTemplates": [
        {"name": "r", "msgId": 7, "base": null, "condition": null, "pattern": ["a"]}]}})");
  Errors errors;
  auto c = from_managed_object(mo, "x", 10, &errors);
  ASSERT_TRUE(c) << (errors.empty() ? "" : error_line(errors[0]));
  EXPECT_EQ(c->requests.at("5").custom.size(), 2u);
  EXPECT_EQ(c->requests.at("6").reference, Reference::kOwnDevice);
  EXPECT_EQ(c->responses[0].msg_id, "7");
  RequestAction a;
  // The unit has no value: the device sends it.
  ASSERT_FALSE(apply_request(*c, record("5,2,C"), kNow, a));
  EXPECT_EQ(a.body, json::parse(R"({"type": "t", "time": ")" + std::string(kNowText) +
                                R"(", "c8y_T": {"T": {"value": 2, "unit": "C"}}})"));
}

// Every refusal of from_managed_object: the (first) error line.
std::string mo_error(const json& mo) {
  Errors errors;
  auto c = from_managed_object(mo, "x", 10, &errors);
  EXPECT_FALSE(c) << mo.dump();
  EXPECT_FALSE(errors.empty()) << mo.dump();
  return errors.empty() ? "" : error_line(errors[0]);
}

json mo_with(json requests, json responses = json::array()) {
  return {
      {"type", "c8y_SmartRest2Template"},
      {"com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate",
       {{"requestTemplates", std::move(requests)}, {"responseTemplates", std::move(responses)}}}};
}

TEST(CustomTemplates, FromManagedObjectRefusals) {
  EXPECT_EQ(mo_error(json::array()),
            "41,x,not a template collection (type c8y_SmartRest2Template)");
  EXPECT_EQ(mo_error({{"type", "c8y_Device"}}),
            "41,x,not a template collection (type c8y_SmartRest2Template)");
  EXPECT_EQ(mo_error({{"type", "c8y_SmartRest2Template"}}),
            "41,x,missing com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate");
  EXPECT_EQ(mo_error({{"type", "c8y_SmartRest2Template"},
                      {"com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate", "x"}}),
            "41,x,missing com_cumulocity_model_smartrest_csv_CsvSmartRestTemplate");
  EXPECT_EQ(mo_error(mo_with(json::array())), "41,x,no template definitions");
  EXPECT_EQ(mo_error(mo_with(json::object())), "41,x,requestTemplates is not an array");
  EXPECT_EQ(mo_error(mo_with(json::array(), 5)), "41,x,responseTemplates is not an array");

  const json good = {{"msgId", "1"},
                     {"method", "POST"},
                     {"api", "EVENT"},
                     {"mandatoryValues",
                      {{{"path", "$.type"}, {"value", "t"}},
                       {{"path", "$.text"}, {"value", "x"}},
                       {{"path", "$.time"}, {"type", "DATE"}}}}};
  ASSERT_TRUE(from_managed_object(mo_with({good}), "x", 10, nullptr));
  const auto with = [&](const char* key, json v) {
    json t = good;
    if (v.is_discarded())
      t.erase(key);
    else
      t[key] = std::move(v);
    return mo_with({t});
  };
  EXPECT_EQ(mo_error(mo_with({json("text")})), "41,x,requestTemplates[0]: msgId is not a string");
  EXPECT_EQ(mo_error(with("msgId", 1.5)), "41,x,requestTemplates[0]: msgId is not a string");
  EXPECT_EQ(mo_error(with("msgId", json(json::value_t::discarded))),
            "41,x,requestTemplates[0]: msgId is not a string");
  EXPECT_EQ(mo_error(with("msgId", "")), "41,x,requestTemplates[0]: empty message ID");
  EXPECT_EQ(mo_error(with("method", 1)), "41,1,requestTemplates[0]: method is not a string");
  EXPECT_EQ(mo_error(with("method", "GET")),
            "41,1,requestTemplates[0]: unsupported request template: GET EVENT");
  EXPECT_EQ(mo_error(with("api", json::array())), "41,1,requestTemplates[0]: api is not a string");
  EXPECT_EQ(mo_error(with("response", "true")),
            "41,1,requestTemplates[0]: response is not a boolean");
  EXPECT_EQ(mo_error(with("externalIdType", 3)),
            "41,1,requestTemplates[0]: externalIdType is not a string");
  EXPECT_EQ(mo_error(with("mandatoryValues", json(json::value_t::discarded))),
            "41,1,requestTemplates[0]: mandatoryValues is not an array");
  EXPECT_EQ(mo_error(with("mandatoryValues", json::array({{{"path", "$.type"}}}))),
            "41,1,requestTemplates[0]: mandatoryValues must hold 3 values");
  json bad_path = good["mandatoryValues"];
  bad_path[1]["path"] = "$.description";
  EXPECT_EQ(mo_error(with("mandatoryValues", bad_path)),
            "41,1,requestTemplates[0]: mandatoryValues[1] must have path $.text");
  json bad_type = good["mandatoryValues"];
  bad_type[2]["type"] = "STRING";
  EXPECT_EQ(mo_error(with("mandatoryValues", bad_type)),
            "41,1,requestTemplates[0]: mandatoryValues[2] must have type DATE");
  json bad_value = good["mandatoryValues"];
  bad_value[0]["value"] = 5;
  EXPECT_EQ(mo_error(with("mandatoryValues", bad_value)),
            "41,1,requestTemplates[0]: mandatoryValues: the value of $.type is not a string");
  json bad_entry = good["mandatoryValues"];
  bad_entry[0] = "type";
  EXPECT_EQ(mo_error(with("mandatoryValues", bad_entry)),
            "41,1,requestTemplates[0]: mandatoryValues: a value is not an object");
  EXPECT_EQ(mo_error(with("customValues", json::object())),
            "41,1,requestTemplates[0]: customValues is not an array");
  EXPECT_EQ(mo_error(with("customValues", json::array({{{"path", ""}}}))),
            "41,1,requestTemplates[0]: customValues: a value has no path");
  EXPECT_EQ(mo_error(with("customValues", json::array({{{"path", "a"}, {"type", 1}}}))),
            "41,1,requestTemplates[0]: customValues: the type of a is not a string");
  EXPECT_EQ(mo_error(with("customValues",
                          json::array({{{"path", "a"}, {"type", "NUMBER"}, {"value", "abc"}}}))),
            "41,1,requestTemplates[0]: fixed value is not a NUMBER: abc");
  EXPECT_EQ(mo_error(with("customValues", json::array({{{"path", "a[*]"}}}))),
            "41,1,requestTemplates[0]: list JsonPath not allowed in a request template: a[*]");
  json many = json::array();
  for (size_t i = 0; i <= kMaxCustomValues; ++i)
    many.push_back({{"path", "c" + std::to_string(i)}});
  EXPECT_EQ(mo_error(with("customValues", many)),
            "41,1,requestTemplates[0]: more than 100 custom values");

  // Inventory specifics.
  const json inv = {{"msgId", "2"}, {"method", "GET"}, {"api", "INVENTORY"}};
  json t = inv;
  t["byId"] = "yes";
  EXPECT_EQ(mo_error(mo_with({t})), "41,2,requestTemplates[0]: byId is not a boolean");
  t = inv;
  t["mandatoryValues"] = json::array({{{"path", "$.type"}}});
  EXPECT_EQ(mo_error(mo_with({t})),
            "41,2,requestTemplates[0]: mandatoryValues must be empty for GET INVENTORY");
  t = inv;
  t["customValues"] = json::array({{{"path", "a"}}});
  EXPECT_EQ(mo_error(mo_with({t})),
            "41,2,requestTemplates[0]: GET INVENTORY takes no custom values");
  t = inv;
  t["byId"] = true;
  t["externalIdType"] = "c8y_Serial";
  EXPECT_EQ(mo_error(mo_with({t})),
            "41,2,requestTemplates[0]: externalIdType is only allowed with byId false");

  // Response templates.
  const json r = {{"msgId", "3"}, {"pattern", {"a"}}};
  ASSERT_TRUE(from_managed_object(mo_with(json::array(), {r}), "x", 10, nullptr));
  json rt = r;
  rt["pattern"] = "a";
  EXPECT_EQ(mo_error(mo_with(json::array(), {rt})),
            "41,3,responseTemplates[0]: pattern is not an array");
  rt["pattern"] = json::array();
  EXPECT_EQ(mo_error(mo_with(json::array(), {rt})),
            "41,3,responseTemplates[0]: a response template needs at least one pattern");
  rt["pattern"] = {"a", ""};
  EXPECT_EQ(mo_error(mo_with(json::array(), {rt})),
            "41,3,responseTemplates[0]: a pattern is not a non-empty string");
  rt["pattern"] = {"a", 1};
  EXPECT_EQ(mo_error(mo_with(json::array(), {rt})),
            "41,3,responseTemplates[0]: a pattern is not a non-empty string");
  rt["pattern"] = {"a..b"};
  EXPECT_EQ(mo_error(mo_with(json::array(), {rt})),
            "41,3,responseTemplates[0]: invalid JsonPath in pattern a..b: recursive descent '..' "
            "is not supported");
  rt = r;
  rt["base"] = 1;
  EXPECT_EQ(mo_error(mo_with(json::array(), {rt})),
            "41,3,responseTemplates[0]: base is not a string");
  rt = r;
  rt["condition"] = json::object();
  EXPECT_EQ(mo_error(mo_with(json::array(), {rt})),
            "41,3,responseTemplates[0]: condition is not a string");
  EXPECT_EQ(mo_error(mo_with(json::array(), {json(1)})),
            "41,x,responseTemplates[0]: msgId is not a string");

  // Duplicates across both lists, and every error is reported.
  Errors errors;
  size_t count = 0;
  json dup = mo_with({good, good}, {{{"msgId", "1"}, {"pattern", {"a"}}}});
  EXPECT_FALSE(from_managed_object(dup, "x", 10, &errors, &count));
  EXPECT_EQ(count, 2u);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(error_line(errors[0]), "41,1,requestTemplates[1]: duplicate message ID");
  EXPECT_EQ(error_line(errors[1]), "41,1,responseTemplates[0]: duplicate message ID");

  // A bad X-ID.
  EXPECT_FALSE(from_managed_object(mo_with({good}), "a+b", 10, &errors));
  EXPECT_EQ(error_line(errors[0]),
            "41,a+b,\"X-ID must not contain '/', '+', '#' or control characters\"");
}

TEST(CustomTemplates, ErrorLine) {
  EXPECT_EQ(error_line({41, "1", "a, b"}), "41,1,\"a, b\"");
  EXPECT_EQ(error_line({45, "", "x"}), "45,,x");
}

TEST(CustomTemplates, Names) {
  EXPECT_EQ(method_name(Method::kGet), "GET");
  EXPECT_EQ(method_name(Method::kPut), "PUT");
  EXPECT_EQ(api_name(Api::kOperation), "OPERATION");
  EXPECT_EQ(api_name(Api::kMeasurement), "MEASUREMENT");
  EXPECT_EQ(value_type_name(ValueType::kOperationStatus), "OPERATIONSTATUS");
  EXPECT_EQ(value_type_name(ValueType::kFlag), "FLAG");
}

}  // namespace
}  // namespace c8y::smartrest
