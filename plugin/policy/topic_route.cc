#include "plugin/policy/topic_route.h"

#include <iterator>

#include <array>

namespace c8y::policy {
namespace {

// The longest accepted topic has 7 levels: t / "" / inventory/managedObjects/P/childDevices/Act.
constexpr size_t kMaxLevels = 7;

struct Levels {
  std::array<std::string_view, kMaxLevels> at;
  size_t count = 0;
};

// Splits `topic` at '/'. False when it has more than kMaxLevels levels.
bool split_levels(std::string_view topic, Levels& out) noexcept {
  out.count = 0;
  size_t start = 0;
  while (true) {
    if (out.count == kMaxLevels) return false;
    const size_t slash = topic.find('/', start);
    if (slash == std::string_view::npos) {
      out.at[out.count++] = topic.substr(start);
      return true;
    }
    out.at[out.count++] = topic.substr(start, slash - start);
    start = slash + 1;
  }
}

std::optional<Mode> mode_of(std::string_view level) noexcept {
  if (level.size() != 1) return std::nullopt;
  switch (level[0]) {
    case 's':
      return Mode::kPersistent;
    case 't':
      return Mode::kTransient;
    case 'q':
      return Mode::kQuiescent;
    case 'c':
      return Mode::kCep;
    default:
      return std::nullopt;
  }
}

bool is_json_api(std::string_view api) noexcept {
  return api == "event" || api == "alarm" || api == "measurement" || api == "inventory";
}

// levels[first..count) after the mode prefix; `levels.at[1]` is the SmartREST type.
std::optional<TopicRoute> route_smartrest(Mode mode, const Levels& levels) noexcept {
  const std::string_view type = levels.at[1];
  const size_t n = levels.count;
  TopicRoute route;
  route.mode = mode;
  if (type == "us" || type == "ud") {
    // m/us, m/us/C, m/ud, m/ud/C
    route.channel = type == "us" ? Channel::kStatic : Channel::kDefault;
    if (n == 2) return route;
    if (n == 3 && is_id_level(levels.at[2])) {
      route.child = levels.at[2];
      return route;
    }
    return std::nullopt;
  }
  if (type == "uc") {
    // m/uc/X, m/uc/X/C
    if (n < 3 || n > 4 || !is_id_level(levels.at[2])) return std::nullopt;
    route.channel = Channel::kCustom;
    route.xid = levels.at[2];
    if (n == 4) {
      if (!is_id_level(levels.at[3])) return std::nullopt;
      route.child = levels.at[3];
    }
    return route;
  }
  if (type == "ul") {
    if (n != 3 || !is_id_level(levels.at[2])) return std::nullopt;
    route.channel = Channel::kSmartRest1;
    route.xid = levels.at[2];
    return route;
  }
  // Template, credential and token topics exist only with the s prefix.
  if (mode != Mode::kPersistent) return std::nullopt;
  if (type == "ut") {
    if (n != 3 || !is_id_level(levels.at[2])) return std::nullopt;
    route.channel = Channel::kTemplates;
    route.xid = levels.at[2];
    return route;
  }
  if (type == "ucr" || type == "uat") {
    if (n != 2) return std::nullopt;
    route.channel = type == "ucr" ? Channel::kBootstrap : Channel::kToken;
    return route;
  }
  return std::nullopt;
}

// levels.at[first..count) is A/R/Act[/Id] or inventory/managedObjects/P/childDevices/Act.
std::optional<TopicRoute> route_json(Mode mode, const Levels& levels, size_t first) noexcept {
  const size_t n = levels.count - first;
  if (n < 3 || n > 5) return std::nullopt;
  const std::string_view* l = &levels.at[first];
  for (size_t i = 0; i < n; ++i) {
    if (!is_id_level(l[i])) return std::nullopt;
  }
  if (!is_json_api(l[0])) return std::nullopt;
  TopicRoute route;
  route.mode = mode;
  route.channel = Channel::kJson;
  route.json_api = l[0];
  if (n == 5) {
    if (l[0] != "inventory" || l[1] != "managedObjects" || l[3] != "childDevices") {
      return std::nullopt;
    }
    route.json_parent_id = l[2];
    route.json_resource = l[3];
    route.json_action = l[4];
    return route;
  }
  route.json_resource = l[1];
  route.json_action = l[2];
  if (n == 4) route.json_id = l[3];
  return route;
}

}  // namespace

bool is_id_level(std::string_view level) noexcept {
  return !level.empty() && level.find_first_of(std::string_view("/+#\0", 4)) == level.npos;
}

std::optional<TopicRoute> route_upstream(std::string_view topic) noexcept {
  if (topic.empty() || topic.size() > kMaxTopicLength || topic[0] == '$') return std::nullopt;
  // Wildcards and NUL are invalid anywhere in a publish topic; checking once here lets the
  // grammar below look only at levels.
  if (topic.find_first_of(std::string_view("+#\0", 3)) != topic.npos) return std::nullopt;

  Levels levels;
  if (!split_levels(topic, levels)) return std::nullopt;

  size_t first = 0;  // first level after the mode prefix (JSON)
  Mode mode = Mode::kPersistent;
  if (const auto prefix = mode_of(levels.at[0]); prefix && levels.count >= 2) {
    const std::string_view type = levels.at[1];
    if (type.size() >= 2 && type[0] == 'u') return route_smartrest(*prefix, levels);
    // "s/" is the SmartREST persistent prefix only; persistent JSON has no prefix.
    if (*prefix == Mode::kPersistent) return std::nullopt;
    mode = *prefix;
    first = 1;
  }
  // One optional leading '/' (an empty level) before the JSON api.
  if (levels.at[first].empty()) ++first;
  if (first >= levels.count) return std::nullopt;
  return route_json(mode, levels, first);
}

const char* mode_name(Mode mode) noexcept {
  switch (mode) {
    case Mode::kPersistent:
      return "PERSISTENT";
    case Mode::kTransient:
      return "TRANSIENT";
    case Mode::kQuiescent:
      return "QUIESCENT";
    case Mode::kCep:
      return "CEP";
  }
  return "?";
}

const char* channel_name(Channel channel) noexcept {
  // In the order of the enum (a new channel must be named here: the array size says so).
  static constexpr const char* kNames[] = {"static",    "custom", "default",    "templates",
                                           "bootstrap", "token",  "smartrest1", "json"};
  static_assert(std::size(kNames) == static_cast<size_t>(Channel::kJson) + 1);
  const auto i = static_cast<size_t>(channel);
  return i < std::size(kNames) ? kNames[i] : "?";
}

}  // namespace c8y::policy
