// Username/password authentication of MQTT clients and REST callers.
//
// Contract: thread-safe (used by the broker thread and REST threads). Never sleeps and never
// hashes for a key in its back-off window. A verified password is cached (no plaintext kept) and
// trusted only while the user record keeps the generation it was verified against.
#pragma once

#include <string>
#include <string_view>

#include "plugin/common/metrics.h"
#include "plugin/identity/credential_cache.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/failure_throttle.h"

namespace c8y::identity {

struct AuthResult {
  enum Outcome {
    kOk,
    kBadUsername,  // not "<tenant>/<user>" or invalid characters
    kUnknownTenant,
    kUnknownUser,
    kDisabled,
    kNoPassword,
    kBadPassword,
    kThrottled,  // too many recent failures for this user or address; nothing was hashed
  } outcome = kBadUsername;
  std::string tenant;
  std::string user;
  policy::Role role = policy::Role::kDevice;
  std::string device_serial;  // the user is bound to this device (UserRecord::device_serial)
  bool cached = false;        // true when the credential cache answered (no slow hash)

  bool ok() const { return outcome == kOk; }
  const char* reason() const;
};

class Authenticator {
 public:
  explicit Authenticator(const Directory& directory, bool use_cache = true)
      : directory_(directory), use_cache_(use_cache) {}

  // `address` is the peer address, used for back-off; may be empty.
  AuthResult authenticate(std::string_view username, std::string_view password,
                          std::string_view address);

  CredentialCache& cache() { return cache_; }

  // Counted for GET /metrics.
  struct Stats {
    common::Counter cache_hits;       // accepted by the credential cache, no hash computed
    common::Counter password_checks;  // a password hash computed (a cache miss)
    common::Counter backoffs;         // refused unheard: the user or address is in back-off
  };
  const Stats& stats() const { return stats_; }

 private:
  const Directory& directory_;
  bool use_cache_;
  CredentialCache cache_;
  FailureThrottle user_failures_;
  FailureThrottle address_failures_{steady_now, 20};
  Stats stats_;
};

}  // namespace c8y::identity
