// Measurements: the compact stored form, the JSON form, storing and querying.
//
// Stored value (little work per message, no JSON on the hot path):
//   u8 version(1) | str type | u8 n | n x (str fragment | str series | f64 value | str unit)
//   u8 version(2) | the same | u32 length (little endian) | custom fragments as JSON text
// where str is either one byte 0x80|i naming entry i of a fixed dictionary of common names, or
// one length byte (< 0x80) followed by the bytes (names longer than 127 bytes are refused).
// Version 2 is written only for a measurement with custom fragments (anything that is not a
// series: Cumulocity stores those as they are), so the static-template path stays version 1.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/common/measurement.h"
#include "plugin/domain/tenant_space.h"
#include "storage/store.h"

namespace c8y::domain {

// The measurement record itself is a plain value shared with the codecs (common/measurement.h).
using common::kMaxSeriesNameBytes;
using common::Measurement;
using common::Series;

// false if a name is longer than kMaxSeriesNameBytes.
bool encode_measurement(const Measurement& m, std::string& out);
bool decode_measurement(std::string_view in, Measurement& m);
nlohmann::json measurement_json(const Measurement& m);

struct MeasurementQuery {
  uint64_t source = 0;  // 0 = all sources
  std::string type;
  int64_t date_from = INT64_MIN;  // inclusive
  int64_t date_to = INT64_MAX;    // exclusive
  bool revert = false;            // newest first
  size_t page_size = 5;
  size_t page = 1;
  bool count_total = false;  // withTotalPages: count every match (scans the whole range)
};

// GET /measurement/measurements/series: the values of some series of one source, one entry per
// measurement time or per time bucket (min and max in the bucket). Cumulocity's shape; see
// series_json().
enum class Aggregation { kNone, kMinutely, kHourly, kDaily };
// "MINUTELY", "HOURLY", "DAILY"; nullopt for anything else.
std::optional<Aggregation> parse_aggregation(std::string_view s);

struct SeriesKey {
  std::string fragment;  // "c8y_Temperature" (Cumulocity calls it the series' "type")
  std::string series;    // "T" (its "name")
};
// "c8y_Temperature.T" -> {fragment, series}, split at the first dot; nullopt when either part is
// empty.
std::optional<SeriesKey> parse_series_key(std::string_view s);

struct SeriesQuery {
  uint64_t source = 0;
  int64_t date_from = INT64_MIN;  // inclusive
  int64_t date_to = INT64_MAX;    // exclusive
  std::vector<SeriesKey> wanted;  // empty = every series the source has in the range
  Aggregation aggregation = Aggregation::kNone;
  size_t max_values = 5000;  // entries of "values" (times or buckets); more sets `truncated`
};

struct SeriesResult {
  struct Column {
    SeriesKey key;
    std::string unit;  // of the first value seen ("" when none)
  };
  struct MinMax {
    double min = 0, max = 0;
    bool set = false;
  };
  struct Row {
    int64_t time_ms = 0;        // the measurement time, or the bucket's start
    std::vector<MinMax> slots;  // one per column (may be shorter: missing = no value)
  };
  std::vector<Column> columns;
  std::vector<Row> rows;  // time order
  bool truncated = false;
};

// {"series": [{"unit","name","type"}...], "values": {"<ISO time>": [{"min","max"} | null ...]},
//  "truncated": bool}; each values array has one slot per entry of "series", in its order.
nlohmann::json series_json(const SeriesResult& r);

class Measurements {
 public:
  Measurements(storage::Store& store, TenantSpace& space) : store_(store), space_(space) {}
  // Assigns m.id and stores m. Uses the store's durability setting. A series (fragment.series)
  // the source has not sent before is recorded too (supported_series).
  storage::StoreStatus store(Measurement& m);
  // The series `source` has ever sent (fragment, series), sorted: Cumulocity's
  // supportedMeasurements / supportedSeries. Read from the "s" keys, not from the measurements,
  // so the cost does not grow with the number of measurements. A series stays listed after its
  // measurements are deleted.
  storage::StoreStatus supported_series(
      uint64_t source, std::vector<std::pair<std::string, std::string>>* out) const;
  storage::StoreStatus query(const MeasurementQuery& q, std::vector<Measurement>* out, bool* more,
                             size_t* total = nullptr) const;
  // Deletes measurement `id` of `source`. Measurements have no id index, so the source's
  // measurements are searched newest first, at most *budget of them (decremented by what was
  // examined). kNotFound when it is not among them.
  storage::StoreStatus remove(uint64_t source, uint64_t id, size_t* budget);
  // A range scan of the source's measurements from date_from to date_to. Stored values are read
  // in place (names compared as bytes, nothing copied or allocated per measurement).
  // HOURLY and DAILY also use hourly rollups: the min and max of every series of one full hour,
  // cached under "h" <source> <hour> the first time a query scans a closed hour (one that ended
  // more than an hour ago), so a chart over 30 days reads 720 small values instead of every
  // measurement. store() and remove() void the rollup of a closed hour they touch (backfills).
  // Stops at the (max_values + 1)th time/bucket with `truncated`. Columns: q.wanted in its order,
  // or, when it is empty, every series found, sorted by fragment then series.
  storage::StoreStatus series(const SeriesQuery& q, SeriesResult* out);

 private:
  storage::Store& store_;
  TenantSpace& space_;
};

}  // namespace c8y::domain
