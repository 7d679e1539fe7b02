// A measurement as a plain value: what a codec (SmartREST, JSON via MQTT, REST) decodes a
// measurement into and what domain/measurement.h stores. No storage, no JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace c8y::common {

struct Series {
  std::string fragment;
  std::string series;
  double value = 0;
  std::string unit;
};

// Reused between messages: clear() keeps the capacity of its strings and vector.
struct Measurement {
  uint64_t id = 0;
  uint64_t source = 0;
  int64_t time_ms = 0;
  std::string type;
  std::vector<Series> series;
  size_t count = 0;  // used entries of `series`
  // The custom fragments (everything that is not a series), as the text of a JSON object that
  // measurement_json merges into the series; empty when there are none.
  std::string custom;

  void clear() {
    count = 0;
    custom.clear();
  }
  Series& add() {
    if (count == series.size()) series.emplace_back();
    return series[count++];
  }
};

// The stored form's limit on a series' fragment, name and unit, and on the type.
inline constexpr size_t kMaxSeriesNameBytes = 127;

}  // namespace c8y::common
