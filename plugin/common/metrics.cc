#include "plugin/common/metrics.h"

#include <charconv>
#include <cmath>

namespace c8y::common {

const std::array<const char*, 4> kOperationStatuses = {"PENDING", "EXECUTING", "SUCCESSFUL",
                                                       "FAILED"};
const std::array<const char*, 4> kRetentionKinds = {"measurement", "event", "alarm", "operation"};

void Histogram::observe(double seconds) noexcept {
  if (!(seconds >= 0)) seconds = 0;  // NaN or negative (a clock step): the first bucket
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::llround(seconds * 1e9)), std::memory_order_relaxed);
}

uint64_t Histogram::count() const noexcept {
  uint64_t n = 0;
  for (auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

const char* kind_name(MessageKind kind) noexcept {
  switch (kind) {
    case MessageKind::kMeasurement:
      return "measurement";
    case MessageKind::kEvent:
      return "event";
    case MessageKind::kAlarm:
      return "alarm";
    case MessageKind::kInventory:
      return "inventory";
    case MessageKind::kOperation:
      return "operation";
    case MessageKind::kOther:
      return "other";
  }
  return "other";
}

const char* reason_name(RefusalReason reason) noexcept {
  switch (reason) {
    case RefusalReason::kBadCredentials:
      return "bad_credentials";
    case RefusalReason::kUnknownTenant:
      return "unknown_tenant";
    case RefusalReason::kDisabled:
      return "disabled";
    case RefusalReason::kBackoff:
      return "backoff";
    case RefusalReason::kCertificate:
      return "certificate";
    case RefusalReason::kClientId:
      return "client_id";
    case RefusalReason::kQuota:
      return "quota";
    case RefusalReason::kOther:
      return "other";
    case RefusalReason::kElsewhere:
      return "elsewhere";
  }
  return "other";
}

void TenantMetrics::operation_reached(std::string_view status) noexcept {
  for (size_t i = 0; i < kOperationStatuses.size(); ++i)
    if (status == kOperationStatuses[i]) operations[i].add();
}

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ");
  // HELP text escapes backslash and newline.
  for (char c : help) {
    if (c == '\\')
      out_ += "\\\\";
    else if (c == '\n')
      out_ += "\\n";
    else
      out_.push_back(c);
  }
  out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void MetricsText::head(std::string_view name, Labels labels, std::string_view extra_name,
                       std::string_view extra_value) {
  out_.append(name);
  if (labels.size() == 0 && extra_name.empty()) {
    out_.push_back(' ');
    return;
  }
  out_.push_back('{');
  bool first = true;
  auto label = [&](std::string_view k, std::string_view v) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(k).append("=\"").append(escape_label(v)).append("\"");
  };
  for (auto& [k, v] : labels) label(k, v);
  if (!extra_name.empty()) label(extra_name, extra_value);
  out_.append("} ");
}

void MetricsText::sample(std::string_view name, Labels labels, uint64_t value) {
  head(name, labels);
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, value);
  out_.append(b, r.ptr).push_back('\n');
}

void MetricsText::sample(std::string_view name, Labels labels, int64_t value) {
  head(name, labels);
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, value);
  out_.append(b, r.ptr).push_back('\n');
}

void MetricsText::sample(std::string_view name, Labels labels, double value) {
  head(name, labels);
  if (std::isnan(value)) {
    out_.append("NaN\n");
  } else if (std::isinf(value)) {
    out_.append(value > 0 ? "+Inf\n" : "-Inf\n");
  } else {
    char b[32];
    auto r = std::to_chars(b, b + sizeof b, value);
    out_.append(b, r.ptr).push_back('\n');
  }
}

void MetricsText::histogram(std::string_view name, Labels labels, const Histogram& h) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  char le[32];
  for (size_t i = 0; i <= Histogram::kBounds.size(); ++i) {
    cumulative += h.bucket(i);
    std::string_view bound = "+Inf";
    if (i < Histogram::kBounds.size()) {
      auto r = std::to_chars(le, le + sizeof le, Histogram::kBounds[i], std::chars_format::fixed);
      bound = std::string_view(le, static_cast<size_t>(r.ptr - le));
    }
    head(bucket, labels, "le", bound);
    char b[24];
    auto r = std::to_chars(b, b + sizeof b, cumulative);
    out_.append(b, r.ptr).push_back('\n');
  }
  sample(std::string(name) + "_sum", labels, h.sum_seconds());
  sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace c8y::common
