// MQTT topic filter matching (MQTT 3.1.1 §4.7). Pure.
#pragma once

#include <string_view>

namespace c8y::policy {

// True when the concrete `topic` matches `filter` ('+' one level, '#' the rest, incl. the parent).
bool topic_matches(std::string_view filter, std::string_view topic) noexcept;

}  // namespace c8y::policy
