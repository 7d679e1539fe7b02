#include "plugin/smartrest/downstream.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/smartrest/csv.h"

namespace c8y::smartrest {
namespace {

using nlohmann::json;
using Lines = std::vector<std::string>;
using Fields = std::vector<std::string>;

// Renders `op_text` (JSON) for target "DeviceSerial".
Lines render(std::string_view op_text, std::string_view target = "DeviceSerial") {
  return render_operation(json::parse(op_text), target);
}

// Reads one rendered line back with the project's CSV reader.
Fields read_back(const std::string& line) {
  CsvReader reader(line);
  CsvRecord rec;
  EXPECT_TRUE(reader.next(rec)) << line;
  EXPECT_FALSE(rec.malformed) << rec.error;
  CsvRecord extra;
  EXPECT_FALSE(reader.next(extra)) << "more than one record in: " << line;
  return rec.fields;
}

// ---------------------------------------------------------------------------------------------
// One exact-string test per template, using the docs' examples where there is one.

TEST(RenderOperation, T510Restart) {
  EXPECT_EQ(render(R"({"id":"1","deviceId":"2","status":"PENDING","c8y_Restart":{}})"),
            Lines{"510,DeviceSerial"});
}

TEST(RenderOperation, T511Command) {
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"execute this"}})"),
            Lines{"511,DeviceSerial,execute this"});
}

TEST(RenderOperation, T511CommandDocsExampleWithNewlinesAndQuotes) {
  // mqtt.md: 511,myDeviceSerial,"execute this\nand this\nand \"this\"" (real newlines).
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"execute this\nand this\nand \"this\""}})",
                   "myDeviceSerial"),
            Lines{"511,myDeviceSerial,\"execute this\nand this\nand \\\"this\\\"\""});
}

TEST(RenderOperation, T513Configuration) {
  // The two characters backslash-n are text, a comma forces quotes.
  EXPECT_EQ(render(R"({"c8y_Configuration":{"config":"val1=1\\nval2=2"}})"),
            Lines{"513,DeviceSerial,val1=1\\nval2=2"});
  EXPECT_EQ(render(R"({"c8y_Configuration":{"config":"a=1,b=2"}})"),
            Lines{"513,DeviceSerial,\"a=1,b=2\""});
}

TEST(RenderOperation, T515Firmware) {
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"myFirmware","version":"1.0",
                                      "url":"http://www.my.url"}})"),
            Lines{"515,DeviceSerial,myFirmware,1.0,http://www.my.url"});
}

TEST(RenderOperation, T515FirmwareProvidedUrl) {
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"ubuntu core","version":"20.04.3",
                                      "url":"$PROVIDED"}})"),
            Lines{"515,DeviceSerial,ubuntu core,20.04.3,$PROVIDED"});
}

TEST(RenderOperation, T516SoftwareList) {
  EXPECT_EQ(render(R"({"c8y_SoftwareList":[
                 {"name":"softwareA","version":"1.0","url":"url1"},
                 {"name":"softwareB","version":"2.0","url":"url2"}]})"),
            Lines{"516,DeviceSerial,softwareA,1.0,url1,softwareB,2.0,url2"});
}

TEST(RenderOperation, T517MeasurementRequest) {
  EXPECT_EQ(render(R"({"c8y_MeasurementRequestOperation":{"requestName":"LOGA"}})"),
            Lines{"517,DeviceSerial,LOGA"});
}

TEST(RenderOperation, T517MeasurementRequestAsTheUiCreatesIt) {
  EXPECT_EQ(render(R"({"c8y_MeasurementRequestOperation":{}})"), Lines{"517,DeviceSerial,"});
}

TEST(RenderOperation, T518Relay) {
  EXPECT_EQ(render(R"({"c8y_Relay":{"relayState":"OPEN"}})"), Lines{"518,DeviceSerial,OPEN"});
  EXPECT_EQ(render(R"({"c8y_Relay":{"relayState":"CLOSED"}})"), Lines{"518,DeviceSerial,CLOSED"});
}

TEST(RenderOperation, T519RelayArray) {
  EXPECT_EQ(render(R"({"c8y_RelayArray":["OPEN","CLOSE","CLOSE","OPEN"]})"),
            Lines{"519,DeviceSerial,OPEN,CLOSE,CLOSE,OPEN"});
}

TEST(RenderOperation, T520UploadConfigFileUntyped) {
  EXPECT_EQ(render(R"({"c8y_UploadConfigFile":{}})"), Lines{"520,DeviceSerial"});
}

TEST(RenderOperation, T521DownloadConfigFileUntyped) {
  EXPECT_EQ(render(R"({"c8y_DownloadConfigFile":{"url":"http://www.my.url",
                                                "c8y_ConfigurationDump":{"id":"123"}}})"),
            Lines{"521,DeviceSerial,http://www.my.url"});
}

TEST(RenderOperation, T522LogfileRequest) {
  EXPECT_EQ(render(R"({"c8y_LogfileRequest":{"logFile":"logfileA",
                 "dateFrom":"2013-06-22T17:03:14.000+02:00",
                 "dateTo":"2013-06-22T18:03:14.000+02:00",
                 "searchText":"ERROR","maximumLines":1000}})"),
            Lines{"522,DeviceSerial,logfileA,2013-06-22T17:03:14.000+02:00,"
                  "2013-06-22T18:03:14.000+02:00,ERROR,1000"});
}

TEST(RenderOperation, T522DatesAreWrittenAsGiven) {
  // The platform's UI writes offsets without a colon (thin-edge parses "+0100"); no reformatting.
  EXPECT_EQ(render(R"({"c8y_LogfileRequest":{"logFile":"syslog",
                 "dateFrom":"2021-10-23T19:03:26+0100","dateTo":"2021-10-23T20:03:26+0100",
                 "maximumLines":"10"}})"),
            Lines{"522,DeviceSerial,syslog,2021-10-23T19:03:26+0100,2021-10-23T20:03:26+0100,,10"});
}

TEST(RenderOperation, T523CommunicationMode) {
  EXPECT_EQ(render(R"({"c8y_CommunicationMode":{"mode":"SMS"}})"), Lines{"523,DeviceSerial,SMS"});
}

TEST(RenderOperation, T524DownloadConfigFileTyped) {
  EXPECT_EQ(render(R"({"c8y_DownloadConfigFile":{"type":"type","url":"http://www.my.url"}})"),
            Lines{"524,DeviceSerial,http://www.my.url,type"});
}

TEST(RenderOperation, T524ThinEdgeExample) {
  EXPECT_EQ(render(R"({"c8y_DownloadConfigFile":{"type":"/etc/tedge/tedge.toml",
                 "url":"https://test.cumulocity.com/inventory/binaries/70208"}})",
                   "deviceId"),
            Lines{"524,deviceId,https://test.cumulocity.com/inventory/binaries/70208,"
                  "/etc/tedge/tedge.toml"});
}

TEST(RenderOperation, T525FirmwarePatch) {
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"firmwareName","version":"1.0",
                 "url":"http://www.my.url","dependency":"dependency","isPatch":true}})"),
            Lines{"525,DeviceSerial,firmwareName,1.0,http://www.my.url,dependency"});
}

TEST(RenderOperation, T526UploadConfigFileTyped) {
  EXPECT_EQ(render(R"({"c8y_UploadConfigFile":{"type":"type"}})"), Lines{"526,DeviceSerial,type"});
}

TEST(RenderOperation, T527DeviceProfileDocsExample) {
  // device-profile.md: the operation and the 527 line, verbatim (no item here has a type).
  EXPECT_EQ(render(R"({"profileName":"my profile","profileId":"158751",
                 "c8y_DeviceProfile":{
                   "software":[
                     {"name":"curl","action":"install","version":"2.3.4",
                      "url":"http://my.url.com"},
                     {"name":"cumulocity_agent","action":"install","version":"1.2.3",
                      "url":"https://cumulocity.com/agent"}],
                   "configuration":[
                     {"name":"ssh_conf","type":"ssh_conf","url":"http://cumulocity.com/conf"},
                     {"name":"agent_conf","type":"agent_conf",
                      "url":"https://demos.cumulocity.com/inventory/binaries/156719"}],
                   "firmware":{"name":"device_fw","version":"1.0.1",
                               "url":"https://cumulocity.com/fw"}}})"),
            Lines{"527,DeviceSerial,$FW,device_fw,1.0.1,https://cumulocity.com/fw,false,,$SW,"
                  "curl,2.3.4,http://my.url.com,install,cumulocity_agent,1.2.3,"
                  "https://cumulocity.com/agent,install,$CONF,http://cumulocity.com/conf,"
                  "ssh_conf,https://demos.cumulocity.com/inventory/binaries/156719,agent_conf"});
}

TEST(RenderOperation, T527StaticTemplatesExampleWithPatch) {
  EXPECT_EQ(render(R"({"c8y_DeviceProfile":{
                   "firmware":{"name":"firmwareName","version":"1.0","url":"http://www.my.url",
                               "isPatch":true,"dependency":"dependency"},
                   "software":[
                     {"name":"softwareA","version":"1.0","url":"http://www.my.url1",
                      "action":"action1"},
                     {"name":"softwareB","version":"2.0","url":"http://www.my.url2",
                      "action":"action2"}],
                   "configuration":[{"url":"http://www.my.url1","type":"type1"},
                                    {"url":"http://www.my.url2","type":"type2"}]}})"),
            Lines{"527,DeviceSerial,$FW,firmwareName,1.0,http://www.my.url,true,dependency,$SW,"
                  "softwareA,1.0,http://www.my.url1,action1,softwareB,2.0,http://www.my.url2,"
                  "action2,$CONF,http://www.my.url1,type1,http://www.my.url2,type2"});
}

TEST(RenderOperation, T528SoftwareUpdate) {
  EXPECT_EQ(render(R"({"c8y_SoftwareUpdate":[
                 {"name":"software_a","version":"4.0.0","url":"http://example.com/software_a",
                  "action":"install"},
                 {"name":"software_b","version":"3.0.0","url":"http://example.com/software_b",
                  "action":"delete"}]})"),
            Lines{"528,DeviceSerial,software_a,4.0.0,http://example.com/software_a,install,"
                  "software_b,3.0.0,http://example.com/software_b,delete"});
}

TEST(RenderOperation, T529AdvancedSoftwareUpdate) {
  // software.md example; "type A" has inner spaces only, so it is written unquoted (the docs quote
  // it, which is optional).
  EXPECT_EQ(render(R"({"c8y_SoftwareUpdate":[
                 {"name":"software_a","version":"4.0.0","url":"http://example.com/software_a",
                  "softwareType":"type A","action":"install"},
                 {"name":"software_b","version":"3.0.0","url":"http://example.com/software_b",
                  "softwareType":"type B","action":"delete"}]})"),
            Lines{"529,DeviceSerial,software_a,4.0.0,type A,http://example.com/software_a,"
                  "install,software_b,3.0.0,type B,http://example.com/software_b,delete"});
}

TEST(RenderOperation, T530RemoteAccessConnect) {
  EXPECT_EQ(render(R"({"c8y_RemoteAccessConnect":{"hostname":"10.0.0.67","port":22,
                 "connectionKey":"eb5e9d13-1caa-486b-bdda-130ca0d87df8"}})"),
            Lines{"530,DeviceSerial,10.0.0.67,22,eb5e9d13-1caa-486b-bdda-130ca0d87df8"});
}

TEST(RenderOperation, T527And531DeviceProfileDocsExampleWithType) {
  // device-profile.md: "curl" has softwareType rpm, so 531 is sent besides 527.
  EXPECT_EQ(render(R"({"profileName":"my profile","profileId":"158751",
                 "c8y_DeviceProfile":{
                   "software":[
                     {"name":"curl","action":"install","softwareType":"rpm","version":"2.3.4",
                      "url":"http://my.url.com"},
                     {"name":"cumulocity_agent","action":"install","version":"1.2.3",
                      "url":"https://cumulocity.com/agent"}],
                   "configuration":[
                     {"name":"ssh_conf","type":"ssh_conf","url":"http://cumulocity.com/conf"},
                     {"name":"agent_conf","type":"agent_conf",
                      "url":"https://demos.cumulocity.com/inventory/binaries/156719"}],
                   "firmware":{"name":"device_fw","version":"1.0.1",
                               "url":"https://cumulocity.com/fw"}}})"),
            (Lines{"527,DeviceSerial,$FW,device_fw,1.0.1,https://cumulocity.com/fw,false,,$SW,"
                   "curl,2.3.4,http://my.url.com,install,cumulocity_agent,1.2.3,"
                   "https://cumulocity.com/agent,install,$CONF,http://cumulocity.com/conf,"
                   "ssh_conf,https://demos.cumulocity.com/inventory/binaries/156719,agent_conf",
                   "531,DeviceSerial,$FW,device_fw,1.0.1,https://cumulocity.com/fw,false,,$SW,"
                   "curl,2.3.4,rpm,http://my.url.com,install,cumulocity_agent,1.2.3,,"
                   "https://cumulocity.com/agent,install,$CONF,http://cumulocity.com/conf,"
                   "ssh_conf,https://demos.cumulocity.com/inventory/binaries/156719,agent_conf"}));
}

TEST(RenderOperation, T532ParameterUpdateDocsExample) {
  // device-parameter.md: values in the fragment named by the c8y_ParameterUpdate_<X> marker.
  EXPECT_EQ(render(R"({"deviceId":"12345","c8y_RelayStatus":{"left":false,"right":true},
                 "c8y_ParameterUpdate":{},"c8y_ParameterUpdate_c8y_RelayStatus":{}})"),
            Lines{"532,DeviceSerial,c8y_RelayStatus.left,b,false,c8y_RelayStatus.right,b,true"});
}

TEST(RenderOperation, T532ParameterUpdateTypeCodes) {
  // c8y-docs PR #3716: s string, b boolean, n number, empty code and value for null. Sets and
  // keys come in key order (nlohmann::json sorts object keys).
  EXPECT_EQ(render(R"({"c8y_ParameterUpdate":{},
                 "c8y_ParameterUpdate_MyParameter":{},
                 "c8y_ParameterUpdate_DeviceMaintainer":{},
                 "c8y_ParameterUpdate_Problems":{},
                 "c8y_ParameterUpdate_Limits":{},
                 "MyParameter":true,
                 "DeviceMaintainer":{"name":"John Smithsky","contact":"12312"},
                 "Problems":null,
                 "Limits":{"max":1500,"ratio":0.25,"floor":-3,"nested":{"deep":"x"}}})"),
            Lines{"532,DeviceSerial,DeviceMaintainer.contact,s,12312,DeviceMaintainer.name,s,"
                  "John Smithsky,Limits.floor,n,-3,Limits.max,n,1500,Limits.nested.deep,s,x,"
                  "Limits.ratio,n,0.25,MyParameter,b,true,Problems,,"});
}

// ---------------------------------------------------------------------------------------------
// Selection details

TEST(RenderOperation, FirmwarePatchSelection) {
  // isPatch true -> 525 even without a dependency (empty field).
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"n","version":"v","url":"u","isPatch":true}})"),
            Lines{"525,DeviceSerial,n,v,u,"});
  // isPatch as the string "TRUE".
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"n","version":"v","url":"u","isPatch":"TRUE",
                                      "dependency":"d"}})"),
            Lines{"525,DeviceSerial,n,v,u,d"});
  // isPatch absent, dependency present -> patch.
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"n","version":"v","url":"u","dependency":"d"}})"),
            Lines{"525,DeviceSerial,n,v,u,d"});
  // isPatch null, dependency empty -> full image.
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"n","version":"v","url":"u","isPatch":null,
                                      "dependency":""}})"),
            Lines{"515,DeviceSerial,n,v,u"});
  // Explicit false wins over a dependency.
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"n","version":"v","url":"u","isPatch":false,
                                      "dependency":"d"}})"),
            Lines{"515,DeviceSerial,n,v,u"});
  // The string "false" (or anything but "true") is not a patch.
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"n","version":"v","url":"u","isPatch":"no"}})"),
            Lines{"515,DeviceSerial,n,v,u"});
  // patchDependency is read when dependency is absent.
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"n","version":"v","url":"u","isPatch":true,
                                      "patchDependency":"pd"}})"),
            Lines{"525,DeviceSerial,n,v,u,pd"});
}

TEST(RenderOperation, ConfigFileTypedOnlyWhenTypeIsNonEmpty) {
  EXPECT_EQ(render(R"({"c8y_UploadConfigFile":{"type":""}})"), Lines{"520,DeviceSerial"});
  EXPECT_EQ(render(R"({"c8y_UploadConfigFile":{"type":null}})"), Lines{"520,DeviceSerial"});
  EXPECT_EQ(render(R"({"c8y_DownloadConfigFile":{"url":"u","type":""}})"),
            Lines{"521,DeviceSerial,u"});
  EXPECT_EQ(render(R"({"c8y_DownloadConfigFile":{"type":"t"}})"), Lines{"524,DeviceSerial,,t"});
  EXPECT_EQ(render(R"({"c8y_DownloadConfigFile":{}})"), Lines{"521,DeviceSerial,"});
  // A numeric type is a (non-empty) type.
  EXPECT_EQ(render(R"({"c8y_UploadConfigFile":{"type":7}})"), Lines{"526,DeviceSerial,7"});
}

TEST(RenderOperation, SoftwareUpdateWithSomeTypesIs529Only) {
  EXPECT_EQ(render(R"({"c8y_SoftwareUpdate":[
                 {"name":"a","version":"1","url":"u1","action":"install"},
                 {"name":"b","version":"2","url":"u2","softwareType":"apt","action":"delete"}]})"),
            Lines{"529,DeviceSerial,a,1,,u1,install,b,2,apt,u2,delete"});
}

TEST(RenderOperation, SoftwareUpdateEmptyOrNullTypesAre528) {
  EXPECT_EQ(render(R"({"c8y_SoftwareUpdate":[
                 {"name":"a","version":"1","url":"u1","softwareType":"","action":"install"},
                 {"name":"b","version":"2","url":"u2","softwareType":null,"action":"delete"}]})"),
            Lines{"528,DeviceSerial,a,1,u1,install,b,2,u2,delete"});
}

TEST(RenderOperation, EmptyLists) {
  EXPECT_EQ(render(R"({"c8y_SoftwareList":[]})"), Lines{"516,DeviceSerial"});
  EXPECT_EQ(render(R"({"c8y_RelayArray":[]})"), Lines{"519,DeviceSerial"});
  EXPECT_EQ(render(R"({"c8y_SoftwareUpdate":[]})"), Lines{"528,DeviceSerial"});
}

TEST(RenderOperation, DeviceProfileWithoutParts) {
  EXPECT_EQ(render(R"({"c8y_DeviceProfile":{}})"), Lines{"527,DeviceSerial,$FW,$SW,$CONF"});
  EXPECT_EQ(render(R"({"c8y_DeviceProfile":{"firmware":null,"software":null,
                                           "configuration":null}})"),
            Lines{"527,DeviceSerial,$FW,$SW,$CONF"});
  // Only software, typed: 527 and 531.
  EXPECT_EQ(render(R"({"c8y_DeviceProfile":{"software":[
                 {"name":"a","version":"1","url":"u","softwareType":"docker",
                  "action":"install"}]}})"),
            (Lines{"527,DeviceSerial,$FW,$SW,a,1,u,install,$CONF",
                   "531,DeviceSerial,$FW,$SW,a,1,docker,u,install,$CONF"}));
  // Only configuration.
  EXPECT_EQ(render(R"({"c8y_DeviceProfile":{"configuration":[{"url":"u","type":"t"}]}})"),
            Lines{"527,DeviceSerial,$FW,$SW,$CONF,u,t"});
}

TEST(RenderOperation, DeviceProfileFirmwareIsPatchRendering) {
  EXPECT_EQ(render(R"({"c8y_DeviceProfile":{"firmware":{"name":"n","version":"v","url":"u",
                 "isPatch":"True","patchDependency":"1.0"}}})"),
            Lines{"527,DeviceSerial,$FW,n,v,u,true,1.0,$SW,$CONF"});
  EXPECT_EQ(render(R"({"c8y_DeviceProfile":{"firmware":{"name":"n","version":"v","url":"u",
                 "isPatch":false,"dependency":"1.0"}}})"),
            Lines{"527,DeviceSerial,$FW,n,v,u,false,1.0,$SW,$CONF"});
}

TEST(RenderOperation, ParameterUpdateEdgeCases) {
  // No markers: the line names the operation but carries no parameters.
  EXPECT_EQ(render(R"({"c8y_ParameterUpdate":{}})"), Lines{"532,DeviceSerial"});
  // A marker whose fragment is absent, and an empty object, contribute nothing.
  EXPECT_EQ(render(R"({"c8y_ParameterUpdate":{},"c8y_ParameterUpdate_gone":{},
                       "c8y_ParameterUpdate_empty":{},"empty":{}})"),
            Lines{"532,DeviceSerial"});
  // The bare prefix "c8y_ParameterUpdate_" names no set.
  EXPECT_EQ(render(R"({"c8y_ParameterUpdate":{},"c8y_ParameterUpdate_":{}})"),
            Lines{"532,DeviceSerial"});
  // Fragments without a marker are not parameters.
  EXPECT_EQ(render(R"({"c8y_ParameterUpdate":{},"c8y_ParameterUpdate_a":{},"a":1,"b":2})"),
            Lines{"532,DeviceSerial,a,n,1"});
  // Markers alone (no c8y_ParameterUpdate) do not select 532.
  EXPECT_TRUE(render(R"({"c8y_ParameterUpdate_a":{},"a":1})").empty());
  // Values that need quoting, and a float that is integral.
  EXPECT_EQ(render(R"({"c8y_ParameterUpdate":{},"c8y_ParameterUpdate_p":{},
                       "p":{"greeting":"hello, world","speed":1500.0}})"),
            Lines{"532,DeviceSerial,p.greeting,s,\"hello, world\",p.speed,n,1500"});
}

TEST(RenderOperation, ParameterUpdateLimit) {
  json op = {{"c8y_ParameterUpdate", json::object()}, {"c8y_ParameterUpdate_p", json::object()}};
  json p = json::object();
  for (size_t i = 0; i < kMaxParameterUpdateParameters; ++i) {
    p["k" + std::to_string(1000 + i)] = static_cast<int>(i);
  }
  op["p"] = p;
  const Lines at_limit = render_operation(op, "D");
  ASSERT_EQ(at_limit.size(), 1u);
  EXPECT_EQ(read_back(at_limit[0]).size(), 2 + 3 * kMaxParameterUpdateParameters);
  EXPECT_EQ(at_limit[0].substr(0, 20), "532,D,p.k1000,n,0,p.");

  op["p"]["k9999"] = true;  // one more: malformed, no line (a partial update would be wrong)
  EXPECT_TRUE(render_operation(op, "D").empty());
}

TEST(RenderOperation, ParameterUpdateArrayIsMalformed) {
  EXPECT_TRUE(render(R"({"c8y_ParameterUpdate":{},"c8y_ParameterUpdate_p":{},
                         "p":{"list":[1,2]}})")
                  .empty());
  EXPECT_TRUE(render(R"({"c8y_ParameterUpdate":{},"c8y_ParameterUpdate_p":{},"p":[1]})").empty());
  // The marker must be an object.
  EXPECT_TRUE(render(R"({"c8y_ParameterUpdate":true,"c8y_ParameterUpdate_p":{},"p":1})").empty());
  // Other templates of the same operation are unaffected.
  EXPECT_EQ(render(R"({"c8y_Restart":{},"c8y_ParameterUpdate":{},"c8y_ParameterUpdate_p":{},
                       "p":[1]})"),
            Lines{"510,DeviceSerial"});
}

// ---------------------------------------------------------------------------------------------
// Output quoting: only a comma, quote, CR, LF, tab or a leading/trailing space quotes a value

TEST(RenderOperation, QuotesCommas) {
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"a,b"}})"), Lines{"511,DeviceSerial,\"a,b\""});
}

TEST(RenderOperation, EscapesQuotesWithBackslash) {
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"say \"hi\""}})"),
            Lines{"511,DeviceSerial,\"say \\\"hi\\\"\""});
  // A quote alone.
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"\""}})"), Lines{"511,DeviceSerial,\"\\\"\""});
}

TEST(RenderOperation, QuotesLineBreaksAndTabs) {
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"a\nb"}})"), Lines{"511,DeviceSerial,\"a\nb\""});
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"a\r\nb"}})"), Lines{"511,DeviceSerial,\"a\r\nb\""});
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"a\rb"}})"), Lines{"511,DeviceSerial,\"a\rb\""});
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"a\tb"}})"), Lines{"511,DeviceSerial,\"a\tb\""});
}

TEST(RenderOperation, QuotesLeadingAndTrailingSpaces) {
  EXPECT_EQ(render(R"({"c8y_Command":{"text":" ls"}})"), Lines{"511,DeviceSerial,\" ls\""});
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"ls "}})"), Lines{"511,DeviceSerial,\"ls \""});
  EXPECT_EQ(render(R"({"c8y_Command":{"text":" "}})"), Lines{"511,DeviceSerial,\" \""});
  // Inner spaces alone need no quotes.
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"ls -la /"}})"), Lines{"511,DeviceSerial,ls -la /"});
}

TEST(RenderOperation, BackslashesAreKeptAndDoubledOnlyBeforeAQuote) {
  // Unquoted: literal.
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"C:\\dir\\"}})"), Lines{"511,DeviceSerial,C:\\dir\\"});
  // Quoted (comma): the trailing backslash precedes the closing quote, so it is doubled.
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"a,C:\\dir\\"}})"),
            Lines{"511,DeviceSerial,\"a,C:\\dir\\\\\""});
}

TEST(RenderOperation, QuotingAppliesToEveryField) {
  // Target, list items and profile items are written by the same rule.
  EXPECT_EQ(
      render(R"({"c8y_SoftwareList":[{"name":"a,b","version":" 1","url":"u\"x"}]})", "child,1"),
      Lines{"516,\"child,1\",\"a,b\",\" 1\",\"u\\\"x\""});
  EXPECT_EQ(render(R"({"c8y_RelayArray":["OPEN","CLOSED ",null]})"),
            Lines{"519,DeviceSerial,OPEN,\"CLOSED \","});
}

TEST(RenderOperation, RoundTripsThroughTheReader) {
  const std::vector<std::string> nasty = {
      "plain", "a,b",        "\"quoted\"",  "line1\nline2", "cr\rlf\r\n", "tab\there",
      " lead", "trail ",     "back\\slash", "end\\",        "\\\"",       "ünïcödé ✓ 日本",
      "",      "\\n literal"};
  for (const std::string& s : nasty) {
    json op = {{"c8y_Command", {{"text", s}}}, {"c8y_Relay", {{"relayState", s}}}};
    const Lines lines = render_operation(op, s.empty() ? "x" : s);
    ASSERT_EQ(lines.size(), 2u) << s;
    EXPECT_EQ(read_back(lines[0]), (Fields{"511", s.empty() ? "x" : s, s})) << s;
    EXPECT_EQ(read_back(lines[1]), (Fields{"518", s.empty() ? "x" : s, s})) << s;
  }
}

// ---------------------------------------------------------------------------------------------
// Values

TEST(RenderOperation, Unicode) {
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"Grüße, 世界 🚀"}})"),
            Lines{"511,DeviceSerial,\"Grüße, 世界 🚀\""});
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"\u00e9t\u00e9"}})"), Lines{"511,DeviceSerial,été"});
}

TEST(RenderOperation, Numbers) {
  auto port = [](std::string_view number) {
    const Lines l = render(std::string(R"({"c8y_RemoteAccessConnect":{"hostname":"h","port":)") +
                           std::string(number) + R"(,"connectionKey":"k"}})");
    return l.size() == 1 ? l[0] : std::string("<none>");
  };
  EXPECT_EQ(port("22"), "530,DeviceSerial,h,22,k");
  EXPECT_EQ(port("-5"), "530,DeviceSerial,h,-5,k");
  EXPECT_EQ(port("0"), "530,DeviceSerial,h,0,k");
  EXPECT_EQ(port("22.0"), "530,DeviceSerial,h,22,k");
  EXPECT_EQ(port("-0.0"), "530,DeviceSerial,h,0,k");
  EXPECT_EQ(port("1.5"), "530,DeviceSerial,h,1.5,k");
  EXPECT_EQ(port("-2.25"), "530,DeviceSerial,h,-2.25,k");
  EXPECT_EQ(port("0.1"), "530,DeviceSerial,h,0.1,k");
  EXPECT_EQ(port("1e3"), "530,DeviceSerial,h,1000,k");
  EXPECT_EQ(port("1e300"), "530,DeviceSerial,h,1e+300,k");
  EXPECT_EQ(port("-1.5e-7"), "530,DeviceSerial,h,-1.5e-07,k");
  EXPECT_EQ(port("9007199254740991.0"), "530,DeviceSerial,h,9007199254740991,k");
  EXPECT_EQ(port("9223372036854775807"), "530,DeviceSerial,h,9223372036854775807,k");
  EXPECT_EQ(port("-9223372036854775808"), "530,DeviceSerial,h,-9223372036854775808,k");
  EXPECT_EQ(port("18446744073709551615"), "530,DeviceSerial,h,18446744073709551615,k");
}

TEST(RenderOperation, NonFiniteFloatIsEmpty) {
  // Cannot come from parsed JSON, but a json built in code can hold it.
  json op = {{"c8y_Relay", {{"relayState", std::numeric_limits<double>::quiet_NaN()}}}};
  EXPECT_EQ(render_operation(op, "D"), Lines{"518,D,"});
  op["c8y_Relay"]["relayState"] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(render_operation(op, "D"), Lines{"518,D,"});
}

TEST(RenderOperation, Booleans) {
  EXPECT_EQ(render(R"({"c8y_Relay":{"relayState":true}})"), Lines{"518,DeviceSerial,true"});
  EXPECT_EQ(render(R"({"c8y_RelayArray":[false,true]})"), Lines{"519,DeviceSerial,false,true"});
}

TEST(RenderOperation, MissingValuesAreEmptyFields) {
  EXPECT_EQ(render(R"({"c8y_Command":{}})"), Lines{"511,DeviceSerial,"});
  EXPECT_EQ(render(R"({"c8y_Command":{"text":null}})"), Lines{"511,DeviceSerial,"});
  EXPECT_EQ(render(R"({"c8y_Firmware":{"name":"n"}})"), Lines{"515,DeviceSerial,n,,"});
  EXPECT_EQ(render(R"({"c8y_LogfileRequest":{"logFile":"syslog"}})"),
            Lines{"522,DeviceSerial,syslog,,,,"});
  EXPECT_EQ(render(R"({"c8y_RemoteAccessConnect":{}})"), Lines{"530,DeviceSerial,,,"});
  EXPECT_EQ(render(R"({"c8y_SoftwareList":[{}]})"), Lines{"516,DeviceSerial,,,"});
  EXPECT_EQ(render(R"({"c8y_SoftwareUpdate":[{"name":"a"}]})"), Lines{"528,DeviceSerial,a,,,"});
  EXPECT_EQ(render(R"({"c8y_DeviceProfile":{"firmware":{},"software":[{}],
                                           "configuration":[{}]}})"),
            Lines{"527,DeviceSerial,$FW,,,,false,,$SW,,,,,$CONF,,"});
}

TEST(RenderOperation, ExtraFieldsAreIgnored) {
  EXPECT_EQ(render(R"({"id":"7","deviceId":"8","status":"EXECUTING","creationTime":"x",
                       "description":"Restart device","delivery":{"log":[]},
                       "externalSource":{"externalId":"e","type":"c8y_Serial"},
                       "c8y_Restart":{"reason":"user","count":3,"nested":{"a":[1]}}})"),
            Lines{"510,DeviceSerial"});
  EXPECT_EQ(render(R"({"c8y_Command":{"text":"ls","result":"old","syntax":"bash"}})"),
            Lines{"511,DeviceSerial,ls"});
  EXPECT_EQ(render(R"({"c8y_SoftwareList":[{"name":"a","version":"1","url":"u","size":10,
                                            "meta":{"x":1}}]})"),
            Lines{"516,DeviceSerial,a,1,u"});
}

// ---------------------------------------------------------------------------------------------
// Malformed input: no exception, no line for that template

TEST(RenderOperation, WrongFragmentTypesRenderNothing) {
  const char* ops[] = {
      R"({"c8y_Restart":true})",
      R"({"c8y_Restart":"yes"})",
      R"({"c8y_Restart":[]})",
      R"({"c8y_Restart":null})",
      R"({"c8y_Command":"ls"})",
      R"({"c8y_Command":{"text":{"a":1}}})",
      R"({"c8y_Command":{"text":["ls"]}})",
      R"({"c8y_Configuration":[]})",
      R"({"c8y_Configuration":{"config":[1]}})",
      R"({"c8y_Firmware":"fw"})",
      R"({"c8y_Firmware":{"name":{}}})",
      R"({"c8y_Firmware":{"name":"n","isPatch":1}})",
      R"({"c8y_Firmware":{"name":"n","isPatch":{}}})",
      R"({"c8y_Firmware":{"name":"n","dependency":[]}})",
      R"({"c8y_SoftwareList":{}})",
      R"({"c8y_SoftwareList":["a"]})",
      R"({"c8y_SoftwareList":[{"name":"a","version":"1","url":"u"},{"name":[1]}]})",
      R"({"c8y_MeasurementRequestOperation":"LOGA"})",
      R"({"c8y_MeasurementRequestOperation":{"requestName":{}}})",
      R"({"c8y_Relay":"OPEN"})",
      R"({"c8y_Relay":{"relayState":["OPEN"]}})",
      R"({"c8y_RelayArray":{"0":"OPEN"}})",
      R"({"c8y_RelayArray":"OPEN"})",
      R"({"c8y_RelayArray":["OPEN",["CLOSED"]]})",
      R"({"c8y_RelayArray":["OPEN",{}]})",
      R"({"c8y_UploadConfigFile":"t"})",
      R"({"c8y_UploadConfigFile":{"type":{}}})",
      R"({"c8y_DownloadConfigFile":[]})",
      R"({"c8y_DownloadConfigFile":{"url":{},"type":"t"}})",
      R"({"c8y_DownloadConfigFile":{"url":"u","type":[]}})",
      R"({"c8y_LogfileRequest":1})",
      R"({"c8y_LogfileRequest":{"logFile":"a","maximumLines":[10]}})",
      R"({"c8y_CommunicationMode":"SMS"})",
      R"({"c8y_CommunicationMode":{"mode":{"v":"SMS"}}})",
      R"({"c8y_DeviceProfile":[]})",
      R"({"c8y_DeviceProfile":{"firmware":"fw"}})",
      R"({"c8y_DeviceProfile":{"firmware":{"name":[]}}})",
      R"({"c8y_DeviceProfile":{"firmware":{"name":"n","isPatch":2}}})",
      R"({"c8y_DeviceProfile":{"software":{}}})",
      R"({"c8y_DeviceProfile":{"software":["a"]}})",
      R"({"c8y_DeviceProfile":{"software":[{"name":"a","softwareType":"t","action":{}}]}})",
      R"({"c8y_DeviceProfile":{"software":[{"name":"a","softwareType":{}}]}})",
      R"({"c8y_DeviceProfile":{"software":[{"name":"a"},{"name":"b","softwareType":[1]}]}})",
      R"({"c8y_DeviceProfile":{"configuration":"c"}})",
      R"({"c8y_DeviceProfile":{"configuration":[[]]}})",
      R"({"c8y_DeviceProfile":{"configuration":[{"url":{}}]}})",
      R"({"c8y_SoftwareUpdate":{}})",
      R"({"c8y_SoftwareUpdate":[1]})",
      R"({"c8y_SoftwareUpdate":[{"name":"a","softwareType":["t"]}]})",
      R"({"c8y_SoftwareUpdate":[{"name":"a","softwareType":"t"},{"softwareType":{}}]})",
      R"({"c8y_SoftwareUpdate":[{"name":"a","action":{}}]})",
      R"({"c8y_RemoteAccessConnect":"h:22"})",
      R"({"c8y_RemoteAccessConnect":{"hostname":"h","port":[22]}})",
      R"({"c8y_ParameterUpdate":[]})",
      R"({"c8y_ParameterUpdate":{},"c8y_ParameterUpdate_x":{},"x":{"a":[]}})",
  };
  for (const char* text : ops) {
    Lines lines;
    EXPECT_NO_THROW(lines = render(text)) << text;
    EXPECT_TRUE(lines.empty()) << text << " -> " << (lines.empty() ? "" : lines[0]);
  }
}

TEST(RenderOperation, NonObjectOperationsRenderNothing) {
  for (const char* text :
       {"null", "[]", "[{\"c8y_Restart\":{}}]", "\"c8y_Restart\"", "42", "true"}) {
    Lines lines;
    EXPECT_NO_THROW(lines = render(text)) << text;
    EXPECT_TRUE(lines.empty()) << text;
  }
  EXPECT_TRUE(render_operation(json(), "D").empty());
}

TEST(RenderOperation, MalformedTemplateDoesNotSuppressOthers) {
  EXPECT_EQ(render(R"({"c8y_Command":{"text":[1]},"c8y_Restart":{},
                       "c8y_Relay":{"relayState":"OPEN"}})"),
            (Lines{"510,DeviceSerial", "518,DeviceSerial,OPEN"}));
}

// ---------------------------------------------------------------------------------------------
// Several templates, none

TEST(RenderOperation, OperationMatchingTwoTemplates) {
  // Besides 527+531: two independent fragments in one operation, in template order.
  EXPECT_EQ(render(R"({"c8y_Restart":{},"c8y_Firmware":{"name":"n","version":"v","url":"u"}})"),
            (Lines{"510,DeviceSerial", "515,DeviceSerial,n,v,u"}));
}

TEST(RenderOperation, LinesAreInTemplateOrder) {
  const Lines lines = render(R"({
      "c8y_ParameterUpdate":{},
      "c8y_RemoteAccessConnect":{"hostname":"h","port":1,"connectionKey":"k"},
      "c8y_SoftwareUpdate":[],
      "c8y_DeviceProfile":{"software":[{"name":"a","softwareType":"t"}]},
      "c8y_UploadConfigFile":{"type":"t"},
      "c8y_Firmware":{"isPatch":true},
      "c8y_DownloadConfigFile":{"type":"t"},
      "c8y_CommunicationMode":{"mode":"IP"},
      "c8y_LogfileRequest":{},
      "c8y_RelayArray":[],
      "c8y_Relay":{},
      "c8y_MeasurementRequestOperation":{},
      "c8y_SoftwareList":[],
      "c8y_Configuration":{},
      "c8y_Command":{},
      "c8y_Restart":{}})");
  std::vector<std::string> ids;
  for (const std::string& l : lines) ids.push_back(l.substr(0, 3));
  EXPECT_EQ(ids,
            (std::vector<std::string>{"510", "511", "513", "516", "517", "518", "519", "522", "523",
                                      "524", "525", "526", "527", "528", "530", "531", "532"}));
}

TEST(RenderOperation, OperationMatchingNoTemplate) {
  EXPECT_TRUE(render(R"({"id":"1","status":"PENDING","c8y_SendConfiguration":{}})").empty());
  EXPECT_TRUE(render(R"({"c8y_Network":{"c8y_LAN":{}},"com_example_Custom":{"x":1}})").empty());
  EXPECT_TRUE(render(R"({})").empty());
  // Fragment names are case-sensitive.
  EXPECT_TRUE(render(R"({"c8y_restart":{},"C8Y_Command":{"text":"x"}})").empty());
}

TEST(RenderOperation, EmptyTarget) {
  EXPECT_EQ(render(R"({"c8y_Restart":{}})", ""), Lines{"510,"});
}

// ---------------------------------------------------------------------------------------------
// render_lines

TEST(RenderLines, JoinsWithNewline) {
  EXPECT_EQ(render_lines({}), "");
  EXPECT_EQ(render_lines({"510,D"}), "510,D");
  EXPECT_EQ(render_lines({"510,D", "515,D,n,v,u"}), "510,D\n515,D,n,v,u");
  EXPECT_EQ(render_lines({"", ""}), "\n");
}

TEST(RenderLines, OutputReadsBackAsTheSameRecords) {
  const Lines lines = render(R"({"c8y_Restart":{},"c8y_Command":{"text":"a\nb,\"c\""},
                                "c8y_Relay":{"relayState":"OPEN"}})");
  const std::string payload = render_lines(lines);
  CsvReader reader(payload);
  CsvRecord rec;
  std::vector<Fields> records;
  while (reader.next(rec)) {
    EXPECT_FALSE(rec.malformed) << rec.error;
    records.push_back(rec.fields);
  }
  EXPECT_EQ(records, (std::vector<Fields>{{"510", "DeviceSerial"},
                                          {"511", "DeviceSerial", "a\nb,\"c\""},
                                          {"518", "DeviceSerial", "OPEN"}}));
}

}  // namespace
}  // namespace c8y::smartrest
