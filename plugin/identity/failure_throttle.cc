#include "plugin/identity/failure_throttle.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace c8y::identity {
namespace {
// Keeps time_point arithmetic far from overflow whatever the caller passes.
constexpr std::chrono::milliseconds kLongestWindow = std::chrono::days(365);
}  // namespace

std::chrono::steady_clock::time_point steady_now() {
  return std::chrono::steady_clock::now();
}

FailureThrottle::FailureThrottle(Clock clock, int free_failures, std::chrono::milliseconds base,
                                 std::chrono::milliseconds max, size_t capacity)
    : clock_(clock ? std::move(clock) : Clock(steady_now)),
      free_failures_(std::max(free_failures, 1)),
      base_(std::clamp(base, std::chrono::milliseconds(1), kLongestWindow)),
      max_(std::clamp(max, base_, kLongestWindow)),
      capacity_(std::max<size_t>(capacity, 1)) {}

FailureThrottle::TimePoint FailureThrottle::expiry(const Entry& e) const {
  return std::max(e.last_failure, e.blocked_until) + max_;
}

bool FailureThrottle::expired(const Entry& e, TimePoint now) const {
  return now >= expiry(e);
}

bool FailureThrottle::blocked(std::string_view key) const {
  return remaining(key) > std::chrono::milliseconds(0);
}

std::chrono::milliseconds FailureThrottle::remaining(std::string_view key) const {
  const TimePoint now = clock_();
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || now >= it->second.blocked_until) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(it->second.blocked_until - now);
}

void FailureThrottle::failure(std::string_view key) {
  const TimePoint now = clock_();
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && expired(it->second, now)) {
    it->second = Entry{};
  } else if (it == entries_.end()) {
    if (entries_.size() >= capacity_) make_room(now);
    it = entries_.emplace(std::string(key), Entry{}).first;
  }
  Entry& e = it->second;
  if (e.failures < 1'000'000) ++e.failures;  // saturate; the window is capped long before
  e.last_failure = now;
  if (e.failures < free_failures_) {
    e.blocked_until = now;
    return;
  }
  std::chrono::milliseconds window = base_;
  for (int i = e.failures - free_failures_; i > 0 && window < max_; --i) {
    window = window > max_ / 2 ? max_ : window * 2;
  }
  e.blocked_until = now + std::min(window, max_);
}

void FailureThrottle::success(std::string_view key) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) entries_.erase(it);
}

size_t FailureThrottle::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void FailureThrottle::make_room(TimePoint now) {
  std::erase_if(entries_, [&](const auto& kv) { return expired(kv.second, now); });
  if (entries_.size() < capacity_) return;
  // Still full of live keys: drop the tenth that would expire soonest. One O(n) pass buys room
  // for capacity/10 new keys, and heavily punished keys (latest expiry) are kept.
  std::vector<std::pair<TimePoint, const std::string*>> by_expiry;
  by_expiry.reserve(entries_.size());
  for (const auto& [k, e] : entries_) by_expiry.emplace_back(expiry(e), &k);
  const size_t drop = std::max<size_t>(1, capacity_ / 10);
  const size_t n = std::min(drop, by_expiry.size());
  std::nth_element(by_expiry.begin(), by_expiry.begin() + (n - 1), by_expiry.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> victims;
  victims.reserve(n);
  for (size_t i = 0; i < n; ++i) victims.push_back(*by_expiry[i].second);
  for (const auto& v : victims) entries_.erase(v);
}

LogRateLimiter::LogRateLimiter(Clock clock, double per_second, double burst)
    : clock_(clock ? std::move(clock) : Clock(steady_now)),
      per_second_(std::max(per_second, 0.0)),
      burst_(std::max(burst, 1.0)),
      tokens_(burst_),
      last_(clock_()) {}

bool LogRateLimiter::allow() {
  const auto now = clock_();
  std::lock_guard lock(mu_);
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * per_second_);
    last_ = now;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  ++suppressed_;
  return false;
}

uint64_t LogRateLimiter::take_suppressed() {
  std::lock_guard lock(mu_);
  return std::exchange(suppressed_, 0);
}

}  // namespace c8y::identity
