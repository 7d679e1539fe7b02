#include "plugin/domain/retention.h"

#include <algorithm>
#include <set>

#include "plugin/domain/inventory.h"
#include "plugin/domain/measurement.h"
#include "plugin/domain/operation_state.h"
#include "storage/keys.h"

namespace c8y::domain {
namespace {

using common::Status;
using nlohmann::json;

constexpr int64_t kHour = 3'600'000;
// Documents deleted per WriteBatch (and per hold of objects_mutex, which the broker thread takes
// too): a few milliseconds each.
constexpr size_t kChunk = 1000;
// Measurements deleted one by one per WriteBatch.
constexpr size_t kMeasurementChunk = 20000;

bool is_data_type(std::string_view s) {
  return s == "*" || s == "MEASUREMENT" || s == "EVENT" || s == "ALARM" || s == "OPERATION";
}

int64_t hour_of(int64_t t) {
  return t - (((t % kHour) + kHour) % kHour);
}

std::string group_prefix(char tag, uint64_t group) {
  std::string k(1, tag);
  storage::append_u64(k, group);
  return k;
}

// "h" <source> <hour>, as domain/measurement.cc writes it.
std::string rollup_key(uint64_t source, int64_t hour) {
  std::string k = group_prefix('h', source);
  storage::append_u64(k, storage::time_key(hour));
  return k;
}

bool cancelled(const std::atomic<bool>* cancel) {
  return cancel && cancel->load();
}

// A filter field of a REST body: a string ("" and "*" mean any) or null.
Status filter_field(const json& body, const char* name, std::string* out) {
  auto it = body.find(name);
  if (it == body.end()) return {};
  if (it->is_null()) {
    out->clear();
    return {};
  }
  if (!it->is_string()) return Status::Invalid(std::string(name) + " must be a string");
  std::string v = it->get<std::string>();
  if (v == "*") v.clear();
  if (v.size() > common::kMaxSeriesNameBytes)
    return Status::Invalid(std::string(name) + " is longer than 127 bytes");
  *out = std::move(v);
  return {};
}

json stored_json(const RetentionRule& r) {
  return {{"dataType", r.data_type}, {"fragmentType", r.fragment_type}, {"type", r.type},
          {"source", r.source},      {"maximumAge", r.maximum_age},     {"editable", r.editable}};
}

std::optional<RetentionRule> rule_from_stored(uint64_t id, std::string_view v) {
  auto j = json::parse(v, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  RetentionRule r;
  r.id = id;
  r.data_type = j.value("dataType", "*");
  r.fragment_type = j.value("fragmentType", "");
  r.type = j.value("type", "");
  r.source = j.value("source", "");
  r.maximum_age = j.value("maximumAge", int64_t{0});
  r.editable = j.value("editable", true);
  return r;
}

// The filters of a rule on one stored document (events, alarms, operations).
bool doc_matches(const RetentionRule& r, char tag, const json& j) {
  if (!r.type.empty() && j.value("type", "") != r.type) return false;
  if (!r.fragment_type.empty() && !j.contains(r.fragment_type)) return false;
  if (tag == 'a') return j.value("status", "") == "CLEARED";
  if (tag == 'o') {
    auto s = parse_op_status(j.value("status", ""));
    return s && is_final(*s);
  }
  return true;
}

bool measurement_matches(const RetentionRule& r, std::string_view value) {
  if (r.type.empty() && r.fragment_type.empty()) return true;
  Measurement m;
  if (!decode_measurement(value, m)) return false;
  if (!r.type.empty() && m.type != r.type) return false;
  if (r.fragment_type.empty()) return true;
  for (size_t i = 0; i < m.count; ++i)
    if (m.series[i].fragment == r.fragment_type) return true;
  if (m.custom.empty()) return false;
  auto custom = json::parse(m.custom, nullptr, false);
  return custom.is_object() && custom.contains(r.fragment_type);
}

}  // namespace

json retention_rule_json(const RetentionRule& r) {
  auto any = [](const std::string& s) { return s.empty() ? std::string("*") : s; };
  return {
      {"id", format_id(r.id)}, {"dataType", r.data_type}, {"fragmentType", any(r.fragment_type)},
      {"type", any(r.type)},   {"source", any(r.source)}, {"maximumAge", r.maximum_age},
      {"editable", r.editable}};
}

Status apply_retention_json(const json& body, RetentionRule* rule) {
  if (!body.is_object()) return Status::Invalid("the rule must be a JSON object");
  if (auto it = body.find("dataType"); it != body.end()) {
    if (!it->is_string()) return Status::Invalid("dataType must be a string");
    const std::string t = it->get<std::string>();
    if (!is_data_type(t))
      return Status::Invalid("dataType must be MEASUREMENT, EVENT, ALARM, OPERATION or *, not '" +
                             t.substr(0, 64) + "'");
    rule->data_type = t;
  }
  if (auto st = filter_field(body, "fragmentType", &rule->fragment_type); !st.ok()) return st;
  if (auto st = filter_field(body, "type", &rule->type); !st.ok()) return st;
  if (auto st = filter_field(body, "source", &rule->source); !st.ok()) return st;
  if (!rule->source.empty() && !parse_id(rule->source))
    return Status::Invalid("source must be a managed object id or *");
  if (auto it = body.find("maximumAge"); it != body.end()) {
    if (!it->is_number_integer())
      return Status::Invalid("maximumAge must be a whole number of days");
    const int64_t days = it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)
                             ? kMaxRetentionDays + 1
                             : it->get<int64_t>();
    if (days < 0 || days > kMaxRetentionDays)
      return Status::Invalid("maximumAge must be 0.." + std::to_string(kMaxRetentionDays) +
                             " days");
    rule->maximum_age = days;
  } else if (rule->id == 0) {
    return Status::Invalid("maximumAge is mandatory");
  }
  if (auto it = body.find("editable"); it != body.end()) {
    if (!it->is_boolean()) return Status::Invalid("editable must be true or false");
    if (!it->get<bool>())
      return Status::Invalid("only editable rules can be made (editable: true)");
  }
  return {};
}

Status RetentionRules::list(std::vector<RetentionRule>* out) const {
  out->clear();
  const std::string prefix = storage::key::retention_rule_prefix();
  return store_.scan(space_.family, prefix, "", false, [&](std::string_view k, std::string_view v) {
    if (k.size() != 9) return true;
    if (auto r = rule_from_stored(storage::read_u64(k, 1), v)) out->push_back(std::move(*r));
    return true;
  });
}

std::optional<RetentionRule> RetentionRules::get(uint64_t id) const {
  std::string v;
  if (!store_.get(space_.family, storage::key::retention_rule(id), &v).ok()) return std::nullopt;
  return rule_from_stored(id, v);
}

Status RetentionRules::create(const json& body, RetentionRule* out) {
  RetentionRule r;
  if (auto st = apply_retention_json(body, &r); !st.ok()) return st;
  r.id = space_.ids.next();
  if (r.id == 0) return Status::Io("id allocation failed");
  if (auto st = store_.put(space_.family, storage::key::retention_rule(r.id), stored_json(r).dump(),
                           storage::Store::When::kNow);
      !st.ok())
    return st;
  if (out) *out = std::move(r);
  return {};
}

Status RetentionRules::update(uint64_t id, const json& body, RetentionRule* out) {
  std::lock_guard lock(space_.objects_mutex);  // read-modify-write
  auto r = get(id);
  if (!r) return Status::NotFound("retention rule not found");
  if (auto st = apply_retention_json(body, &*r); !st.ok()) return st;
  if (auto st = store_.put(space_.family, storage::key::retention_rule(id), stored_json(*r).dump(),
                           storage::Store::When::kNow);
      !st.ok())
    return st;
  if (out) *out = std::move(*r);
  return {};
}

Status RetentionRules::remove(uint64_t id) {
  std::lock_guard lock(space_.objects_mutex);
  if (!get(id)) return Status::NotFound("retention rule not found");
  storage::Batch b;
  b.del(space_.family, storage::key::retention_rule(id));
  return store_.write(b);
}

json retention_report_json(const RetentionReport& r) {
  auto counts = [](const RetentionCounts& c) {
    return json{{"measurements", c.measurements}, {"events", c.events},   {"alarms", c.alarms},
                {"operations", c.operations},     {"rollups", c.rollups}, {"total", c.total()}};
  };
  json tenants = json::object();
  for (auto& [id, c] : r.tenants) tenants[id] = counts(c);
  json out = counts(r.removed);
  out["tenants"] = std::move(tenants);
  out["compacted"] = r.compacted;
  out["seconds"] = r.seconds;
  return out;
}

std::vector<RetentionRule> Retention::effective(std::vector<RetentionRule> rules) const {
  const bool own_default =
      std::any_of(rules.begin(), rules.end(), [](const RetentionRule& r) { return r.catch_all(); });
  if (default_days_ > 0 && !own_default) {
    RetentionRule d;
    d.data_type = "*";
    d.maximum_age = default_days_;
    d.editable = false;
    rules.push_back(d);
  }
  return rules;
}

namespace {

// One tenant's pass: the state shared by its steps.
class TenantPass {
 public:
  TenantPass(storage::Store& store, TenantSpace& space, RetentionCounts& counts,
             const std::atomic<bool>* cancel)
      : store_(store), space_(space), f_(space.family), counts_(counts), cancel_(cancel) {}

  Status apply(const RetentionRule& r, int64_t now_ms) {
    const int64_t cutoff = now_ms - r.maximum_age * kDayMs;
    std::vector<uint64_t> sources;
    if (!r.source.empty()) sources.push_back(*parse_id(r.source));
    const bool all = r.data_type == "*";
    if (all || r.data_type == "MEASUREMENT")
      if (auto st = measurements(r, cutoff, sources); !st.ok()) return st;
    for (auto [type, tag, index, counter] :
         {std::tuple{"EVENT", 'e', 'E', &counts_.events},
          std::tuple{"ALARM", 'a', 'A', &counts_.alarms},
          std::tuple{"OPERATION", 'o', 'O', &counts_.operations}}) {
      if (cancelled(cancel_)) return {};
      if (!all && r.data_type != type) continue;
      if (auto st = documents(r, cutoff, sources, tag, index, counter); !st.ok()) return st;
    }
    return {};
  }

 private:
  // The groups (sources, devices) with keys under `tag`: those given, or every one there is.
  Status groups(char tag, const std::vector<uint64_t>& given, std::vector<uint64_t>* out) {
    if (!given.empty()) {
      *out = given;
      return {};
    }
    out->clear();
    return store_.groups(f_, std::string(1, tag), 9, [&](std::string_view g) {
      out->push_back(storage::read_u64(g, 1));
      return true;
    });
  }

  // The hourly rollups of `voided` hours become void; those of the sources' hours wholly before
  // `cutoff` (when set) are deleted. Under rollup_mutex with the generation bumped (see
  // Measurements::series): a query that scanned before does not cache what it computed, and
  // after settle() no rollup it wrote earlier can land after this write.
  Status rollups(const std::vector<uint64_t>& sources, std::optional<int64_t> cutoff,
                 const std::set<std::pair<uint64_t, int64_t>>& voided) {
    std::lock_guard lock(space_.rollup_mutex);
    ++space_.rollup_generation;
    if (auto st = store_.settle(); !st.ok()) return st;
    storage::Batch b;
    if (cutoff) {
      const int64_t cut_hour = hour_of(*cutoff);
      for (uint64_t src : sources) {
        const std::string prefix = group_prefix('h', src), end = rollup_key(src, cut_hour);
        auto st = store_.scan(f_, prefix, "", false, [&](std::string_view k, std::string_view) {
          if (k >= end) return false;
          ++counts_.rollups;
          return true;
        });
        if (!st.ok()) return st;
        b.delete_range(f_, prefix, end);
        std::string v;
        if (*cutoff != cut_hour && store_.get(f_, end, &v).ok() && !v.empty()) {
          b.put(f_, end, "");  // the hour the cutoff falls in is partly gone
          ++counts_.rollups;
        }
      }
    }
    for (auto& [src, hour] : voided) {
      std::string k = rollup_key(src, hour), v;
      if (store_.get(f_, k, &v).ok() && !v.empty()) {
        b.put(f_, k, "");
        ++counts_.rollups;
      }
    }
    if (b.count() > 0)
      if (auto st = store_.write(b); !st.ok()) return st;
    return {};
  }

  Status measurements(const RetentionRule& r, int64_t cutoff, const std::vector<uint64_t>& given) {
    std::vector<uint64_t> sources;
    if (auto st = groups('m', given, &sources); !st.ok()) return st;
    const bool unconditional = r.type.empty() && r.fragment_type.empty();
    storage::Batch b;
    std::set<std::pair<uint64_t, int64_t>> voided;  // (source, hour) of single deletes
    std::vector<uint64_t> ranged;                   // sources with a range tombstone
    for (uint64_t src : sources) {
      if (cancelled(cancel_)) break;
      const std::string prefix = group_prefix('m', src);
      std::string end = prefix;
      storage::append_u64(end, storage::time_key(cutoff));
      uint64_t n = 0;
      Status written;
      auto st = store_.scan(f_, prefix, "", false, [&](std::string_view k, std::string_view v) {
        if (k >= end) return false;
        if (k.size() != 25) return true;
        if (unconditional) {
          ++n;
          return true;
        }
        if (!measurement_matches(r, v)) return true;
        b.del(f_, k);
        ++n;
        voided.emplace(src, hour_of(storage::time_from_key(storage::read_u64(k, 9))));
        if (b.count() >= kMeasurementChunk) written = store_.write(b);
        return written.ok();
      });
      if (!st.ok()) return st;
      if (!written.ok()) return written;
      if (unconditional && n > 0) {
        b.delete_range(f_, prefix, end);
        ranged.push_back(src);
      }
      counts_.measurements += n;
    }
    if (b.count() > 0)
      if (auto st = store_.write(b); !st.ok()) return st;
    if (unconditional) return ranged.empty() ? Status{} : rollups(ranged, cutoff, {});
    return voided.empty() ? Status{} : rollups({}, std::nullopt, voided);
  }

  // Events, alarms and operations: the expired range of each group, deleted with the id index.
  Status documents(const RetentionRule& r, int64_t cutoff, const std::vector<uint64_t>& given,
                   char tag, char index, uint64_t* counter) {
    std::vector<uint64_t> groups_found;
    if (auto st = groups(tag, given, &groups_found); !st.ok()) return st;
    std::vector<std::string> candidates;
    for (uint64_t g : groups_found) {
      if (cancelled(cancel_)) return {};
      const std::string prefix = group_prefix(tag, g);
      std::string end = prefix;
      storage::append_u64(end, storage::time_key(cutoff));
      candidates.clear();
      auto st = store_.scan(f_, prefix, "", false, [&](std::string_view k, std::string_view v) {
        if (k >= end) return false;
        if (k.size() != 25) return true;
        auto j = json::parse(v, nullptr, false);
        if (!j.is_discarded() && doc_matches(r, tag, j)) candidates.emplace_back(k);
        return true;
      });
      if (!st.ok()) return st;
      for (size_t at = 0; at < candidates.size(); at += kChunk) {
        if (auto st2 = delete_docs(r, tag, index, candidates, at, counter); !st2.ok()) return st2;
      }
    }
    return {};
  }

  // Deletes candidates [at, at + kChunk) that still match, each with its id index, in one batch
  // under objects_mutex (every change of these documents is made under it).
  Status delete_docs(const RetentionRule& r, char tag, char index,
                     const std::vector<std::string>& candidates, size_t at, uint64_t* counter) {
    storage::Batch b;
    uint64_t n = 0;
    std::lock_guard lock(space_.objects_mutex);
    for (size_t i = at; i < candidates.size() && i < at + kChunk; ++i) {
      std::string v;
      if (!store_.get(f_, candidates[i], &v).ok()) continue;  // gone meanwhile
      auto j = json::parse(v, nullptr, false);
      if (j.is_discarded() || !doc_matches(r, tag, j)) continue;
      b.del(f_, candidates[i]);
      std::string ik(1, index);
      storage::append_u64(ik, storage::read_u64(candidates[i], 17));
      b.del(f_, ik);
      ++n;
    }
    if (n == 0) return {};
    // Alarms are written through the ingest log (domain/alarms.h): the delete takes the same
    // path, so it lands after any change of the alarm appended before it.
    auto st = store_.write(
        b, tag == 'a' ? storage::Store::When::kDurabilitySetting : storage::Store::When::kNow);
    if (st.ok()) *counter += n;
    return st;
  }

  storage::Store& store_;
  TenantSpace& space_;
  const storage::Family* f_;
  RetentionCounts& counts_;
  const std::atomic<bool>* cancel_;
};

}  // namespace

Status Retention::run_tenant(TenantSpace& space, int64_t now_ms, RetentionCounts* out,
                             const std::atomic<bool>* cancel) {
  RetentionCounts counts;
  std::vector<RetentionRule> own;
  if (auto st = RetentionRules(store_, space).list(&own); !st.ok()) return st;
  auto rules = effective(std::move(own));
  if (!rules.empty()) {
    // Measurements and events come in through the ingest log: the pass sees all appended so far.
    if (auto st = store_.settle(); !st.ok()) return st;
    TenantPass pass(store_, space, counts, cancel);
    for (auto& r : rules) {
      if (cancelled(cancel)) break;
      if (auto st = pass.apply(r, now_ms); !st.ok()) return st;
    }
  }
  auto& removed = space.metrics.retention_removed;
  removed[0].add(counts.measurements);
  removed[1].add(counts.events);
  removed[2].add(counts.alarms);
  removed[3].add(counts.operations);
  if (out) *out = counts;
  return {};
}

Status Retention::run(int64_t now_ms, RetentionReport* out, const std::atomic<bool>* cancel) {
  std::lock_guard pass(pass_mutex_);
  const auto start = std::chrono::steady_clock::now();
  RetentionReport report;
  auto spaces = spaces_.all();
  std::sort(spaces.begin(), spaces.end(),
            [](const TenantSpace* a, const TenantSpace* b) { return a->id < b->id; });
  Status first_error;
  for (TenantSpace* space : spaces) {
    if (cancelled(cancel)) break;
    RetentionCounts c;
    auto st = run_tenant(*space, now_ms, &c, cancel);
    if (!st.ok() && first_error.ok())
      first_error = Status{st.code, "tenant " + space->id + ": " + st.message};
    if (c.total() + c.rollups == 0) continue;
    report.tenants.emplace_back(space->id, c);
    report.removed.add(c);
    if (cancelled(cancel)) break;
    // The removed keys take no space once compacted with their tombstones.
    if (auto cst = store_.compact(space->family); cst.ok())
      ++report.compacted;
    else if (first_error.ok())
      first_error = Status{cst.code, "tenant " + space->id + ": compaction: " + cst.message};
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (out) *out = std::move(report);
  return first_error;
}

void RetentionRunner::start() {
  if (interval_.count() <= 0) return;
  passes_thread_.start([this] { return pass(); }, interval_);
}

void RetentionRunner::stop() {
  passes_thread_.stop();
}

std::chrono::milliseconds RetentionRunner::pass() {
  try {
    RetentionReport report;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto st = retention_.run(now, &report, &passes_thread_.stopping());
    passes_.fetch_add(1);
    if (!st.ok())
      outbox_.log(common::LogLevel::kError, "c8y: retention pass failed: " + st.message);
    else if (report.removed.total() > 0)
      outbox_.log(common::LogLevel::kNotice,
                  "c8y: retention removed " + std::to_string(report.removed.total()) +
                      " records (" + std::to_string(report.removed.measurements) +
                      " measurements, " + std::to_string(report.removed.events) + " events, " +
                      std::to_string(report.removed.alarms) + " alarms, " +
                      std::to_string(report.removed.operations) + " operations) in " +
                      std::to_string(report.seconds) + " s");
  } catch (const std::exception& e) {
    outbox_.log(common::LogLevel::kError, std::string("c8y: retention pass failed: ") + e.what());
  } catch (...) {
    outbox_.log(common::LogLevel::kError, "c8y: retention pass failed");
  }
  return interval_;
}

}  // namespace c8y::domain
