// libFuzzer target for JSON via MQTT input handling: the topic router and the JSON
// validation shared with the REST API. Input: <topic> NUL <payload>.
// Properties checked (abort on violation):
//  * route_upstream never crashes; a JSON route has a known api, resource and action fields that
//    are substrings of the topic;
//  * parsing the payload with the depth limit never throws or crashes, and the validators
//    (event_input, alarm_input, measurement_input) never throw on any JSON value;
//  * an accepted measurement has at least one series, an accepted alarm a known severity.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "plugin/domain/json_input.h"
#include "plugin/policy/topic_route.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "json_fuzz: %s\n", what);
  std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view topic = in.substr(0, nul);
  const std::string_view payload = nul == std::string_view::npos ? "" : in.substr(nul + 1);
  if (auto r = c8y::policy::route_upstream(topic)) {
    if (r->channel == c8y::policy::Channel::kJson) {
      if (!inside(r->json_api, topic) || !inside(r->json_resource, topic) ||
          !inside(r->json_action, topic) || !inside(r->json_id, topic))
        fail("a JSON route field is not part of the topic");
    }
  }
  bool too_deep = false;
  nlohmann::json j = nlohmann::json::parse(
      payload,
      [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > 32) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep || j.is_discarded() || !j.is_object()) return 0;
  std::string error;
  c8y::domain::EventInput ev;
  (void)c8y::domain::event_input(j, &ev, &error);
  c8y::domain::AlarmInput al;
  if (c8y::domain::alarm_input(j, &al, &error) && al.severity != "CRITICAL" &&
      al.severity != "MAJOR" && al.severity != "MINOR" && al.severity != "WARNING")
    fail("an alarm with an unknown severity was accepted");
  c8y::common::Measurement m;
  if (c8y::domain::measurement_input(j, &m, &error) && m.count == 0)
    fail("a measurement without series was accepted");
  return 0;
}
