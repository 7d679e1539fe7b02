// Back-off after repeated authentication failures, and rate limiting of log lines.
// Neither sleeps: callers ask and refuse. Time comes from an injected clock (tests use a fake).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace c8y::identity {

using Clock = std::function<std::chrono::steady_clock::time_point()>;
std::chrono::steady_clock::time_point steady_now();

// Per-key failure back-off. Use separate keys for a user and for an address (e.g. "u:t1/dev",
// "a:10.0.0.1"); the caller checks both.
//
// The first free_failures failures in a row are checked normally. The n-th failure with
// n >= free_failures opens a window of base * 2^(n - free_failures), capped at max, during which
// blocked() is true and the caller refuses WITHOUT hashing (and should not call failure() for
// such refusals; if it does, the window grows). With the defaults: failures 1-4 open no window,
// the 5th blocks for 1 s, the 6th 2 s, ..., from the 14th on 5 min. success() clears the key. A
// key with no failure for `max` after its last window (or last failure) ended is forgotten, so
// old failures stop counting. base and max are clamped to [1 ms, 365 days], free_failures to >= 1.
//
// Memory is bounded by `capacity` keys: when a new key would exceed it, forgotten keys are
// dropped, and if that is not enough the tenth of keys that would be forgotten soonest (the least
// punished) are dropped too. Thread-safe.
class FailureThrottle {
 public:
  using Clock = identity::Clock;

  explicit FailureThrottle(Clock clock = steady_now, int free_failures = 5,
                           std::chrono::milliseconds base = std::chrono::seconds(1),
                           std::chrono::milliseconds max = std::chrono::minutes(5),
                           size_t capacity = 100000);

  bool blocked(std::string_view key) const;
  // Time left in the key's window (zero when not blocked).
  std::chrono::milliseconds remaining(std::string_view key) const;
  void failure(std::string_view key);
  void success(std::string_view key);
  size_t size() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    int failures = 0;
    TimePoint last_failure;
    TimePoint blocked_until;  // == last_failure when no window is open
  };

  bool expired(const Entry& e, TimePoint now) const;
  TimePoint expiry(const Entry& e) const;
  void make_room(TimePoint now);  // mu_ held

  Clock clock_;
  const int free_failures_;
  const std::chrono::milliseconds base_;
  const std::chrono::milliseconds max_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries_;
};

// Token bucket for log lines: at most `burst` lines at once, refilled at `per_second`. allow()
// returns false when the bucket is empty and counts the suppressed line; take_suppressed()
// returns that count and resets it, so the caller can log "N similar lines suppressed" with the
// next allowed line. Thread-safe.
class LogRateLimiter {
 public:
  explicit LogRateLimiter(Clock clock = steady_now, double per_second = 1, double burst = 10);

  bool allow();
  uint64_t take_suppressed();

 private:
  Clock clock_;
  const double per_second_;
  const double burst_;
  std::mutex mu_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
  uint64_t suppressed_ = 0;
};

}  // namespace c8y::identity
