#include "plugin/domain/measurement.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>

#include "plugin/common/values.h"
#include "storage/keys.h"

namespace c8y::domain {
namespace {

// Never reorder or remove entries: stored values refer to them by index.
constexpr std::array<std::string_view, 17> kDictionary = {"c8y_TemperatureMeasurement",
                                                          "T",
                                                          "C",
                                                          "c8y_Battery",
                                                          "level",
                                                          "%",
                                                          "c8y_SignalStrength",
                                                          "rssi",
                                                          "ber",
                                                          "dBm",
                                                          "c8y_Temperature",
                                                          "c8y_Humidity",
                                                          "h",
                                                          "c8y_Pressure",
                                                          "p",
                                                          "c8y_Voltage",
                                                          "voltage"};

void put_str(std::string& out, std::string_view s) {
  for (size_t i = 0; i < kDictionary.size(); ++i) {
    if (kDictionary[i] == s) {
      out.push_back(static_cast<char>(0x80 | i));
      return;
    }
  }
  out.push_back(static_cast<char>(s.size()));
  out.append(s);
}

bool get_str(std::string_view in, size_t& at, std::string& s) {
  if (at >= in.size()) return false;
  auto b = static_cast<unsigned char>(in[at++]);
  if (b & 0x80) {
    if ((b & 0x7f) >= kDictionary.size()) return false;
    s.assign(kDictionary[b & 0x7f]);
    return true;
  }
  if (at + b > in.size()) return false;
  s.assign(in.substr(at, b));
  at += b;
  return true;
}

// Puts the custom fragments back beside the series: a fragment that holds both keeps both.
void merge_custom(nlohmann::json& into, const nlohmann::json& custom) {
  if (!custom.is_object()) return;
  for (auto& [k, v] : custom.items()) {
    auto it = into.find(k);
    if (it != into.end() && it->is_object() && v.is_object())
      merge_custom(*it, v);
    else
      into[k] = v;
  }
}

// get_str() without the copy: a view into `in` (or into the dictionary).
bool view_str(std::string_view in, size_t& at, std::string_view& s) {
  if (at >= in.size()) return false;
  auto b = static_cast<unsigned char>(in[at++]);
  if (b & 0x80) {
    if ((b & 0x7f) >= kDictionary.size()) return false;
    s = kDictionary[b & 0x7f];
    return true;
  }
  if (at + b > in.size()) return false;
  s = in.substr(at, b);
  at += b;
  return true;
}

}  // namespace

bool encode_measurement(const Measurement& m, std::string& out) {
  out.clear();
  out.push_back(m.custom.empty() ? 1 : 2);
  if (m.type.size() > 127 || m.count > 255) return false;
  put_str(out, m.type);
  out.push_back(static_cast<char>(m.count));
  for (size_t i = 0; i < m.count; ++i) {
    const Series& s = m.series[i];
    if (s.fragment.size() > 127 || s.series.size() > 127 || s.unit.size() > 127) return false;
    put_str(out, s.fragment);
    put_str(out, s.series);
    char b[8];
    std::memcpy(b, &s.value, 8);
    out.append(b, 8);
    put_str(out, s.unit);
  }
  if (!m.custom.empty()) {
    if (m.custom.size() > UINT32_MAX) return false;
    char b[4];
    const uint32_t n = static_cast<uint32_t>(m.custom.size());
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    out.append(b, 4);
    out.append(m.custom);
  }
  return true;
}

bool decode_measurement(std::string_view in, Measurement& m) {
  size_t at = 0;
  m.clear();
  if (in.empty()) return false;
  const char version = in[at++];
  if (version != 1 && version != 2) return false;
  if (!get_str(in, at, m.type) || at >= in.size()) return false;
  size_t n = static_cast<unsigned char>(in[at++]);
  for (size_t i = 0; i < n; ++i) {
    Series& s = m.add();
    if (!get_str(in, at, s.fragment) || !get_str(in, at, s.series) || at + 8 > in.size())
      return false;
    std::memcpy(&s.value, in.data() + at, 8);
    at += 8;
    if (!get_str(in, at, s.unit)) return false;
  }
  if (version == 2) {
    if (at + 4 > in.size()) return false;
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i)
      len |= static_cast<uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
    at += 4;
    if (len == 0 || len > in.size() - at) return false;
    m.custom.assign(in.substr(at, len));
    at += len;
  }
  return at == in.size();
}

nlohmann::json measurement_json(const Measurement& m) {
  nlohmann::json j = {{"id", std::to_string(m.id)},
                      {"time", common::format_iso8601_ms(m.time_ms)},
                      {"type", m.type},
                      {"source", {{"id", std::to_string(m.source)}}}};
  for (size_t i = 0; i < m.count; ++i) {
    const Series& s = m.series[i];
    auto& v = j[s.fragment][s.series];
    v["value"] = s.value;
    if (!s.unit.empty()) v["unit"] = s.unit;
  }
  if (!m.custom.empty()) merge_custom(j, nlohmann::json::parse(m.custom, nullptr, false));
  return j;
}

namespace {

uint64_t series_hash(uint64_t source, std::string_view fragment, std::string_view series) {
  std::hash<std::string_view> h;
  uint64_t x = h(fragment);
  x ^= h(series) + 0x9e3779b97f4a7c15ull + (x << 6) + (x >> 2);
  x ^= (source * 0xff51afd7ed558ccdull) + 0x9e3779b97f4a7c15ull + (x << 6) + (x >> 2);
  return x;
}

constexpr int64_t kHourMs = 3'600'000;

int64_t bucket_width(Aggregation a) {
  switch (a) {
    case Aggregation::kNone:
      return 0;
    case Aggregation::kMinutely:
      return 60'000;
    case Aggregation::kHourly:
      return kHourMs;
    case Aggregation::kDaily:
      return 86'400'000;  // UTC days
  }
  return 0;
}

// Start of the bucket holding t (floor, also for times before 1970).
int64_t bucket_start(int64_t t, int64_t width) {
  if (!width) return t;
  int64_t q = t / width;
  if (t % width < 0) --q;
  return q * width;
}

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An hour is closed when it ended more than kRollupMargin ago: only closed hours get a cached
// rollup, and a measurement stored into a closed hour (a backfill) invalidates its rollup. Data
// of the current and the previous hour is never cached, so the live path pays nothing.
constexpr int64_t kRollupMargin = kHourMs;
bool hour_closed(int64_t hour_start, int64_t now) {
  return hour_start <= now - kHourMs - kRollupMargin;
}

// "h" <source:8 BE> <hour start:8 BE>
void rollup_key(std::string& k, uint64_t source, int64_t hour) {
  k.clear();
  k.push_back('h');
  storage::append_u64(k, source);
  storage::append_u64(k, storage::time_key(hour));
}

// One series' min and max within one hour (a rollup entry).
struct HourValue {
  std::string fragment, series, unit;
  double min = 0, max = 0;
};

// u8 version(1) | u8 n | n x (str fragment | str series | str unit | f64 min | f64 max)
void encode_rollup(const std::vector<HourValue>& values, std::string& out) {
  out.clear();
  out.push_back(1);
  out.push_back(static_cast<char>(values.size()));
  for (const auto& v : values) {
    put_str(out, v.fragment);
    put_str(out, v.series);
    put_str(out, v.unit);
    char b[16];
    std::memcpy(b, &v.min, 8);
    std::memcpy(b + 8, &v.max, 8);
    out.append(b, 16);
  }
}

}  // namespace

storage::StoreStatus Measurements::store(Measurement& m) {
  thread_local std::string key, value;  // reused: no allocation per message
  m.id = space_.ids.next();
  if (m.id == 0) return storage::StoreStatus::Io("id allocation failed");
  if (!encode_measurement(m, value)) return storage::StoreStatus::Invalid("name too long");
  {
    // Hot path: one lock and a hash lookup per series. Only a series new to this process writes
    // its "v" key, through the same ingest path and ahead of the measurement (a reader that
    // settles sees both). A 64-bit hash collision would leave one series unlisted (odds about
    // n^2 / 2^65 for n series in a tenant).
    std::lock_guard lock(space_.series_mutex);
    for (size_t i = 0; i < m.count; ++i) {
      const Series& s = m.series[i];
      const uint64_t h = series_hash(m.source, s.fragment, s.series);
      if (space_.series_seen.count(h)) continue;
      storage::key::measurement_series(key, m.source, s.fragment, s.series);
      if (auto st = store_.put(space_.family, key, ""); !st.ok()) return st;
      space_.series_seen.insert(h);
    }
  }
  storage::key::measurement(key, m.source, m.time_ms, m.id);
  if (!hour_closed(bucket_start(m.time_ms, kHourMs), wall_now_ms()))
    return store_.put(space_.family, key, value);  // live data: no rollup can exist yet
  // A backfill into a closed hour: its cached rollup (series()) is void. The empty value goes
  // through the same ingest path right after the measurement; the generation stops a series()
  // that scanned before this from caching what it computed.
  thread_local std::string rkey;
  rollup_key(rkey, m.source, bucket_start(m.time_ms, kHourMs));
  std::lock_guard lock(space_.rollup_mutex);
  ++space_.rollup_generation;
  return store_.put_together(space_.family, {{key, value}, {rkey, ""}});
}

storage::StoreStatus Measurements::supported_series(
    uint64_t source, std::vector<std::pair<std::string, std::string>>* out) const {
  if (auto st = store_.settle(); !st.ok()) return st;
  const std::string prefix = storage::key::measurement_series_prefix(source);
  return store_.scan(space_.family, prefix, "", false, [&](std::string_view k, std::string_view) {
    auto rest = k.substr(prefix.size());
    auto nul = rest.find('\0');
    if (nul != std::string_view::npos)
      out->emplace_back(std::string(rest.substr(0, nul)), std::string(rest.substr(nul + 1)));
    return true;
  });
}

storage::StoreStatus Measurements::remove(uint64_t source, uint64_t id, size_t* budget) {
  if (auto st = store_.settle(); !st.ok()) return st;
  std::string found;
  auto st = store_.scan(space_.family, storage::key::measurement_prefix(source), "", true,
                        [&](std::string_view k, std::string_view) {
                          if (*budget == 0) return false;
                          --*budget;
                          if (k.size() == 25 && storage::read_u64(k, 17) == id) {
                            found.assign(k);
                            return false;
                          }
                          return true;
                        });
  if (!st.ok()) return st;
  if (found.empty()) return {storage::StoreStatus::kNotFound, "measurement not found"};
  storage::Batch b;
  b.del(space_.family, found);
  // The hour's cached rollup (series()) is void.
  std::string rkey;
  rollup_key(rkey, source,
             bucket_start(storage::time_from_key(storage::read_u64(found, 9)), kHourMs));
  b.put(space_.family, rkey, "");
  std::lock_guard lock(space_.rollup_mutex);
  ++space_.rollup_generation;
  // Through the same path as the puts, so the delete lands after the measurement.
  return store_.write(b, storage::Store::When::kDurabilitySetting);
}

namespace {

struct Hit {
  int64_t time;
  uint64_t source;
  uint64_t id;
  std::string value;
};

}  // namespace

storage::StoreStatus Measurements::query(const MeasurementQuery& q, std::vector<Measurement>* out,
                                         bool* more, size_t* total) const {
  size_t matched = 0;
  // Measurements reach RocksDB through the ingest log's writer thread: see every one stored so far.
  if (auto st = store_.settle(); !st.ok()) return st;
  // The first `want` matches in time order, collected per source (each source is a time-ordered
  // range) and merged; sources are skipped over with a seek past their last key.
  const size_t want = q.page * q.page_size + 1;
  std::vector<Hit> hits;
  Measurement scratch;
  auto scan_source = [&](uint64_t source) -> storage::StoreStatus {
    std::string prefix = storage::key::measurement_prefix(source);
    std::string from = prefix;
    if (!q.revert) {
      if (q.date_from != INT64_MIN) storage::append_u64(from, storage::time_key(q.date_from));
    } else {
      if (q.date_to != INT64_MAX) {
        storage::append_u64(from, storage::time_key(q.date_to) - 1);
        storage::append_u64(from, UINT64_MAX);
      } else {
        from.clear();
      }
    }
    size_t taken = 0;
    return store_.scan(space_.family, prefix, from, q.revert, [&](auto k, auto v) {
      if (k.size() != 25) return true;
      int64_t t = storage::time_from_key(storage::read_u64(k, 9));
      if (t < q.date_from) return q.revert ? false : true;
      if (t >= q.date_to) return q.revert ? true : false;
      if (!q.type.empty()) {
        if (!decode_measurement(v, scratch) || scratch.type != q.type) return true;
      }
      ++matched;
      if (taken < want) {
        hits.push_back({t, source, storage::read_u64(k, 17), std::string(v)});
        ++taken;
      }
      return taken < want || q.count_total;
    });
  };
  if (q.source) {
    auto st = scan_source(q.source);
    if (!st.ok()) return st;
  } else {
    std::vector<uint64_t> sources;
    std::string from = "m";
    for (;;) {
      uint64_t found = 0;
      bool any = false;
      auto st = store_.scan(space_.family, "m", from, false, [&](auto k, auto) {
        if (k.size() >= 9) {
          found = storage::read_u64(k, 1);
          any = true;
        }
        return false;
      });
      if (!st.ok()) return st;
      if (!any) break;
      sources.push_back(found);
      if (found == UINT64_MAX) break;
      from = storage::key::measurement_prefix(found + 1);
    }
    for (auto s : sources) {
      auto st = scan_source(s);
      if (!st.ok()) return st;
    }
  }
  std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
    if (a.time != b.time) return q.revert ? a.time > b.time : a.time < b.time;
    return q.revert ? a.id > b.id : a.id < b.id;
  });
  size_t begin = (q.page - 1) * q.page_size;
  *more = hits.size() > begin + q.page_size;
  if (total) *total = matched;
  for (size_t i = begin; i < hits.size() && i < begin + q.page_size; ++i) {
    Measurement m;
    if (!decode_measurement(hits[i].value, m)) continue;
    m.id = hits[i].id;
    m.source = hits[i].source;
    m.time_ms = hits[i].time;
    out->push_back(std::move(m));
  }
  return {};
}

std::optional<Aggregation> parse_aggregation(std::string_view s) {
  if (s == "MINUTELY") return Aggregation::kMinutely;
  if (s == "HOURLY") return Aggregation::kHourly;
  if (s == "DAILY") return Aggregation::kDaily;
  return std::nullopt;
}

std::optional<SeriesKey> parse_series_key(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size()) return std::nullopt;
  return SeriesKey{std::string(s.substr(0, dot)), std::string(s.substr(dot + 1))};
}

storage::StoreStatus Measurements::series(const SeriesQuery& q, SeriesResult* out) {
  *out = SeriesResult{};
  auto& cols = out->columns;
  std::vector<bool> has_unit;
  for (const auto& w : q.wanted) {
    cols.push_back({w, ""});
    has_unit.push_back(false);
  }
  if (q.date_from >= q.date_to) return {};
  // Rollups computed below are written only if no backfill or delete touched this tenant's
  // closed hours since this point (see store()).
  uint64_t generation;
  {
    std::lock_guard lock(space_.rollup_mutex);
    generation = space_.rollup_generation;
  }
  // Measurements reach RocksDB through the ingest log's writer thread: see every one stored so far.
  if (auto st = store_.settle(); !st.ok()) return st;
  const bool all = q.wanted.empty();
  const int64_t width = bucket_width(q.aggregation);
  const std::string prefix = storage::key::measurement_prefix(q.source);
  bool stop = false;

  // One value (a measurement's, or an hour's min and max) into the answer.
  auto add = [&](int64_t t, std::string_view fragment, std::string_view name, std::string_view unit,
                 double min, double max) {
    size_t c = 0;
    while (c < cols.size() && (cols[c].key.fragment != fragment || cols[c].key.series != name)) ++c;
    if (c == cols.size()) {
      if (!all) return;
      cols.push_back({{std::string(fragment), std::string(name)}, std::string(unit)});
      has_unit.push_back(true);
    } else if (!has_unit[c]) {
      cols[c].unit.assign(unit);
      has_unit[c] = true;
    }
    const int64_t bucket = bucket_start(t, width);
    if (out->rows.empty() || out->rows.back().time_ms != bucket) {
      if (out->rows.size() == q.max_values) {
        out->truncated = true;
        stop = true;
        return;
      }
      out->rows.push_back({bucket, {}});
    }
    auto& slots = out->rows.back().slots;
    if (slots.size() <= c) slots.resize(c + 1);
    auto& mm = slots[c];
    if (!mm.set) {
      mm = {min, max, true};
    } else {
      mm.min = std::min(mm.min, min);
      mm.max = std::max(mm.max, max);
    }
  };

  // Hourly rollups (HOURLY and DAILY): full closed hours inside the range are read from the "h"
  // keys when cached, and cached when a raw scan has just computed them.
  const bool rollups = width >= kHourMs;
  const int64_t now = wall_now_ms();
  int64_t first_hour = 0, end_hour = 0;  // full hours [first_hour, end_hour) of the range
  std::vector<std::pair<int64_t, std::string>> cached;  // hour, rollup value; in time order
  storage::Batch computed;
  size_t computed_count = 0;
  std::vector<HourValue> hour_values;  // of the hour the raw scan is in
  int64_t hour_at = INT64_MIN;
  auto finish_hour = [&]() {
    if (hour_at == INT64_MIN) return;
    if (hour_at >= first_hour && hour_at + kHourMs <= end_hour && hour_closed(hour_at, now) &&
        hour_values.size() <= 255) {
      std::string k, v;
      rollup_key(k, q.source, hour_at);
      encode_rollup(hour_values, v);
      computed.put(space_.family, k, v);
      ++computed_count;
    }
    hour_values.clear();
    hour_at = INT64_MIN;
  };

  // Raw measurements in [from, to).
  auto scan_raw = [&](int64_t from, int64_t to) -> storage::StoreStatus {
    if (from >= to || stop) return {};
    std::string start = prefix;
    if (from != INT64_MIN) storage::append_u64(start, storage::time_key(from));
    return store_.scan(space_.family, prefix, start, false, [&](auto k, auto v) {
      if (k.size() != 25) return true;
      const int64_t t = storage::time_from_key(storage::read_u64(k, 9));
      if (t >= to) return false;
      if (rollups) {
        const int64_t h = bucket_start(t, kHourMs);
        if (h != hour_at) {
          finish_hour();
          hour_at = h;
        }
      }
      size_t at = 0;
      std::string_view type;
      if (v.empty() || v[at++] != 1 || !view_str(v, at, type) || at >= v.size()) return true;
      const size_t n = static_cast<unsigned char>(v[at++]);
      for (size_t i = 0; i < n; ++i) {
        std::string_view fragment, name, unit;
        double value;
        if (!view_str(v, at, fragment) || !view_str(v, at, name) || at + 8 > v.size()) return true;
        std::memcpy(&value, v.data() + at, 8);
        at += 8;
        if (!view_str(v, at, unit)) return true;
        if (rollups) {  // every series of the hour, whatever this query wants
          auto hv = hour_values.begin();
          while (hv != hour_values.end() && (hv->fragment != fragment || hv->series != name)) ++hv;
          if (hv == hour_values.end()) {
            hour_values.push_back(
                {std::string(fragment), std::string(name), std::string(unit), value, value});
          } else {
            hv->min = std::min(hv->min, value);
            hv->max = std::max(hv->max, value);
          }
        }
        add(t, fragment, name, unit, value, value);
        if (stop) return false;
      }
      return true;
    });
  };

  // A cached rollup into the answer.
  auto apply_rollup = [&](int64_t hour, std::string_view v) {
    size_t at = 0;
    if (v.size() < 2 || v[at++] != 1) return;
    const size_t n = static_cast<unsigned char>(v[at++]);
    for (size_t i = 0; i < n && !stop; ++i) {
      std::string_view fragment, name, unit;
      double min, max;
      if (!view_str(v, at, fragment) || !view_str(v, at, name) || !view_str(v, at, unit) ||
          at + 16 > v.size())
        return;
      std::memcpy(&min, v.data() + at, 8);
      std::memcpy(&max, v.data() + at + 8, 8);
      at += 16;
      add(hour, fragment, name, unit, min, max);
    }
  };

  int64_t from = q.date_from, to = q.date_to;
  if (rollups) {
    // Bound an open range by the source's first and last measurement.
    auto edge = [&](bool last, int64_t* t) {
      return store_.scan(space_.family, prefix, "", last, [&](auto k, auto) {
        if (k.size() != 25) return true;
        *t = storage::time_from_key(storage::read_u64(k, 9));
        return false;
      });
    };
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    if (auto st = edge(false, &lo); !st.ok()) return st;
    if (auto st = edge(true, &hi); !st.ok()) return st;
    if (lo == INT64_MAX) return {};  // no measurements at all
    // No data lies outside [lo, hi]: widening to their hours' bounds changes no answer and lets
    // those hours be cached.
    from = std::max(from, bucket_start(lo, kHourMs));
    if (hi < INT64_MAX - kHourMs) to = std::min(to, bucket_start(hi, kHourMs) + kHourMs);
    if (from >= to) return {};
    first_hour = bucket_start(from, kHourMs);
    if (first_hour < from) first_hour += kHourMs;
    end_hour = bucket_start(to, kHourMs);
    if (first_hour < end_hour) {
      std::string start, rprefix = "h";
      storage::append_u64(rprefix, q.source);
      rollup_key(start, q.source, first_hour);
      auto st = store_.scan(space_.family, rprefix, start, false, [&](auto k, auto v) {
        if (k.size() != 17) return true;
        const int64_t h = storage::time_from_key(storage::read_u64(k, 9));
        if (h + kHourMs > end_hour) return false;
        if (!v.empty()) cached.emplace_back(h, std::string(v));  // "": invalidated
        return true;
      });
      if (!st.ok()) return st;
    }
  }
  int64_t cursor = from;
  for (auto& [hour, value] : cached) {
    if (stop) break;
    if (auto st = scan_raw(cursor, hour); !st.ok()) return st;
    if (stop) break;  // the hour being scanned is incomplete: not cached
    finish_hour();
    apply_rollup(hour, value);
    cursor = hour + kHourMs;
  }
  if (auto st = scan_raw(cursor, to); !st.ok()) return st;
  if (!stop) finish_hour();  // the last hour is complete unless the answer was cut short
  if (computed_count) {
    std::lock_guard lock(space_.rollup_mutex);
    // A backfill or delete since the scan: what was computed may miss it; compute it next time.
    if (space_.rollup_generation == generation) {
      // Same path as the measurements, so a later invalidation lands after this write.
      if (auto st = store_.write(computed, storage::Store::When::kDurabilitySetting); !st.ok())
        return st;
    }
  }
  if (all && cols.size() > 1) {
    // Discovery order depends on the data; answer in a stable order.
    std::vector<size_t> order(cols.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (cols[a].key.fragment != cols[b].key.fragment)
        return cols[a].key.fragment < cols[b].key.fragment;
      return cols[a].key.series < cols[b].key.series;
    });
    std::vector<SeriesResult::Column> sorted;
    for (size_t i : order) sorted.push_back(std::move(cols[i]));
    cols = std::move(sorted);
    for (auto& row : out->rows) {
      std::vector<SeriesResult::MinMax> slots(cols.size());
      for (size_t j = 0; j < order.size(); ++j)
        if (order[j] < row.slots.size()) slots[j] = row.slots[order[j]];
      row.slots = std::move(slots);
    }
  }
  return {};
}

nlohmann::json series_json(const SeriesResult& r) {
  nlohmann::json series = nlohmann::json::array();
  for (const auto& c : r.columns)
    series.push_back({{"unit", c.unit}, {"name", c.key.series}, {"type", c.key.fragment}});
  nlohmann::json values = nlohmann::json::object();
  for (const auto& row : r.rows) {
    nlohmann::json slots = nlohmann::json::array();
    for (size_t c = 0; c < r.columns.size(); ++c) {
      if (c < row.slots.size() && row.slots[c].set)
        slots.push_back({{"min", row.slots[c].min}, {"max", row.slots[c].max}});
      else
        slots.push_back(nullptr);
    }
    values[common::format_iso8601_ms(row.time_ms)] = std::move(slots);
  }
  return {{"series", std::move(series)}, {"values", std::move(values)}, {"truncated", r.truncated}};
}

}  // namespace c8y::domain
