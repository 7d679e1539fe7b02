#include "plugin/identity/authenticator.h"

#include "plugin/identity/names.h"
#include "plugin/identity/password_hash.h"

namespace c8y::identity {

const char* AuthResult::reason() const {
  switch (outcome) {
    case kOk:
      return "ok";
    case kBadUsername:
      return "username is not <tenant>/<user>";
    case kUnknownTenant:
      return "unknown tenant";
    case kUnknownUser:
      return "unknown user";
    case kDisabled:
      return "user disabled";
    case kNoPassword:
      return "no password";
    case kBadPassword:
      return "wrong password";
    case kThrottled:
      return "too many failed attempts, backing off";
  }
  return "?";
}

AuthResult Authenticator::authenticate(std::string_view username, std::string_view password,
                                       std::string_view address) {
  AuthResult r;
  auto q = parse_username(username);
  if (!q) return r;
  r.tenant = std::string(q->tenant);
  r.user = std::string(q->user);
  if (!directory_.has_tenant(q->tenant)) {
    r.outcome = AuthResult::kUnknownTenant;
    return r;
  }
  auto rec = directory_.user(q->tenant, q->user);
  if (!rec) {
    r.outcome = AuthResult::kUnknownUser;
    return r;
  }
  if (!rec->enabled) {
    r.outcome = AuthResult::kDisabled;
    return r;
  }
  if (password.empty()) {
    r.outcome = AuthResult::kNoPassword;
    return r;
  }
  r.role = rec->role;
  r.device_serial = rec->device_serial;
  const std::string key = rec->key();
  // The back-off comes first: a user or address in back-off is refused whatever the password,
  // also one the credential cache would accept (or a guesser learns it from the answer).
  if (user_failures_.blocked(key) || (!address.empty() && address_failures_.blocked(address))) {
    r.outcome = AuthResult::kThrottled;
    stats_.backoffs.add();
    return r;
  }
  if (use_cache_ && cache_.matches(key, rec->generation, password)) {
    r.outcome = AuthResult::kOk;
    r.cached = true;
    stats_.cache_hits.add();
    return r;
  }
  stats_.password_checks.add();
  // No password holds a NUL byte (hashes are made from C strings, so "pass\0x" would otherwise
  // verify as "pass").
  if (password.find('\0') != std::string_view::npos ||
      !verify_password(rec->password_hash, password)) {
    user_failures_.failure(key);
    if (!address.empty()) address_failures_.failure(address);
    r.outcome = AuthResult::kBadPassword;
    return r;
  }
  user_failures_.success(key);
  if (use_cache_) cache_.remember(key, rec->generation, password);
  r.outcome = AuthResult::kOk;
  return r;
}

}  // namespace c8y::identity
