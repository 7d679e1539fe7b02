// Cumulocity device tokens: a certificate-authenticated device publishes an empty message to
// s/uat and receives `71,<JWT>` on s/dat; the REST API then accepts `Authorization: Bearer <JWT>`
// and lets the bearer reach only that device's own data.
//
// The broker is both issuer and verifier, so the token is an HS256 JWS (RFC 7515/7519) keyed with
// a random server secret. Header {"alg":"HS256","typ":"JWT"}; claims
//   iss "mosquitto-c8y", sub user, ten tenant, ser serial, iat, exp (integer seconds since the
//   epoch), jti (32 lowercase hex digits, 128 random bits).
//
// Tokens are built with libjwt 1.10, but verification does not rely on libjwt's judgement. Its
// jwt_decode takes the algorithm from the token's own header (HS384/HS512 tokens verify with the
// same secret); with a NULL key or a key length of 0 it accepts alg "none" and also skips the
// signature of an HS256 token, reporting alg "none" afterwards; it matches algorithm names
// case-insensitively ("NONE", "hs256"), lets the last of duplicate JSON members win, stops reading
// the token at a NUL byte and validates no claim. verify_device_token therefore checks everything
// itself, signature included (constant-time), and hands only an already authenticated token to
// libjwt as a last gate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace c8y::identity {

inline constexpr std::string_view kTokenIssuer = "mosquitto-c8y";

// Token lifetime (exp - iat) in seconds. The configured lifetime defaults to one hour; the caller
// refuses a configured value below the minimum (a token that expires before a slow client can
// use it only generates load). The maximum bounds the damage of a leaked token and is enforced on
// issue and on verification.
inline constexpr int64_t kDefaultTokenLifetimeS = 3600;
inline constexpr int64_t kMinTokenLifetimeS = 300;
inline constexpr int64_t kMaxTokenLifetimeS = 30 * 24 * 3600;

// A token may claim to be issued at most this far in the future (clock steps between the moment
// of issue and the moment of use, e.g. after NTP correction).
inline constexpr int64_t kMaxTokenClockSkewS = 60;

// Tokens longer than this are refused before any decoding. Ours are about 300 bytes.
inline constexpr size_t kMaxTokenBytes = 4096;

// HS256 keys shorter than the hash output are refused (RFC 7518 section 3.2); new_token_secret()
// makes keys of exactly this size.
inline constexpr size_t kTokenSecretBytes = 32;

struct DeviceTokenClaims {
  std::string tenant;      // "ten"
  std::string user;        // "sub"
  std::string serial;      // "ser"
  int64_t issued_at = 0;   // "iat", seconds since the epoch
  int64_t expires_at = 0;  // "exp", seconds since the epoch; the token is dead from this second
  std::string token_id;    // "jti"
};

// A signed token for `c`, or "" on failure (never throws). Refuses: a secret shorter than
// kTokenSecretBytes; an empty tenant, user or serial; a string with a NUL byte (libjwt's C API
// would silently cut it) or invalid UTF-8; issued_at < 0; a lifetime outside
// (0, kMaxTokenLifetimeS]. An empty c.token_id gets a fresh new_token_id(); a non-empty one is
// used as given (same rules as the other strings). Every token is verified before it is returned,
// so what this returns, verify_device_token accepts at now_s = issued_at.
std::string issue_device_token(const DeviceTokenClaims& c, std::string_view secret) noexcept;

// The claims of `token` if it is a well-formed, correctly signed, currently valid token of this
// issuer; otherwise nullopt and, if `error` is not null, one of these reasons (for logs, not for
// the client):
//   "secret too short"        the secret is shorter than kTokenSecretBytes (e.g. empty)
//   "secret too long"         more than INT_MAX bytes (libjwt takes an int)
//   "token too long"          more than kMaxTokenBytes, checked before any decoding
//   "malformed token"         not three parts of canonical unpadded base64url (header and
//                             payload non-empty), or any other byte (NUL, '=', space, ...)
//   "malformed header"        not a JSON object, duplicate or unknown fields, alg missing or not
//                             a string, typ present but not "JWT"
//   "alg none refused"        alg is "none" in any letter case
//   "algorithm not allowed"   any alg other than exactly "HS256"
//   "bad signature"           the HMAC-SHA256 does not match (tampered, other secret, empty)
//   "malformed payload"       not a JSON object, or duplicate fields
//   "missing or invalid claim" iat/exp not non-negative integers, ten/sub/ser/jti not non-empty
//                             strings without NUL
//   "wrong issuer"            iss missing or not "mosquitto-c8y"
//   "lifetime out of range"   exp <= iat or exp - iat > kMaxTokenLifetimeS
//   "issued in the future"    iat > now_s + kMaxTokenClockSkewS
//   "expired"                 now_s >= exp
//   "rejected by libjwt", "libjwt algorithm mismatch", "libjwt claims mismatch", "internal error"
//                             the final libjwt gate disagrees, or memory ran out; not expected
// The tenant is not compared: the caller must check that claims.tenant (and user) are the ones
// the request is for. Unknown claims are ignored (only this issuer can produce a valid token).
std::optional<DeviceTokenClaims> verify_device_token(std::string_view token,
                                                     std::string_view secret, int64_t now_s,
                                                     std::string* error) noexcept;

// kTokenSecretBytes random bytes from RAND_bytes: raw binary, may contain NUL bytes (encode it
// before writing it anywhere textual). "" if the system random generator fails.
std::string new_token_secret() noexcept;

// 32 lowercase hex digits (128 random bits), the default jti. "" if the generator fails.
std::string new_token_id() noexcept;

}  // namespace c8y::identity
