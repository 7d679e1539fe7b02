// Password hashes in the format of Mosquitto's `mosquitto_passwd`, and generated secrets.
//
//   $7$<iterations>$<base64 salt>$<base64 hash>   PBKDF2-HMAC-SHA512 (mosquitto_passwd default)
//   $6$<base64 salt>$<base64 hash>                 SHA-512(password || salt), verification only
//
// Base64 is the standard alphabet with `=` padding, decoded strictly (no whitespace, no
// non-canonical trailing bits). The encoded string is the part after `user:` of a password file
// line, with nothing before or after it (the caller strips line endings).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace c8y::identity {

// Limits accepted when parsing. mosquitto_passwd writes 12-byte salts, 64-byte hashes and 101
// iterations; other values are accepted within these bounds. The iteration cap keeps a hostile
// or mistyped record from turning one login into a denial of service; the minimum hash length
// keeps a truncated record from matching random passwords.
inline constexpr int kMinIterations = 1;
inline constexpr int kMaxIterations = 10'000'000;
inline constexpr size_t kMinSaltBytes = 1;
inline constexpr size_t kMaxSaltBytes = 64;
inline constexpr size_t kMinHashBytes = 16;  // $7$ only; $6$ hashes are exactly 64 bytes
inline constexpr size_t kMaxHashBytes = 64;
inline constexpr int kDefaultIterations = 101;  // mosquitto_passwd's default
inline constexpr size_t kMinSecretBytes = 16;   // 128 bits

// True when `encoded` is a well-formed $7$ or $6$ hash within the limits above. Does not hash.
bool is_valid_password_hash(std::string_view encoded);

// True when `password` matches `encoded`. Malformed encodings never match. The final comparison
// is constant-time. Costs `iterations` HMAC-SHA512 computations for $7$.
bool verify_password(std::string_view encoded, std::string_view password);

// A new $7$ hash with a random 12-byte salt and a 64-byte hash, readable by Mosquitto.
// `iterations` is clamped to [kMinIterations, kMaxIterations].
// nullopt if the system random generator fails (or memory runs out); never throws.
std::optional<std::string> hash_password(std::string_view password,
                                         int iterations = kDefaultIterations) noexcept;

// A generated secret (e.g. a bootstrap device password): URL-safe base64 without padding of
// max(bytes, kMinSecretBytes) random bytes. Default 18 bytes = 144 bits = 24 characters.
// nullopt if the system random generator fails; never throws.
std::optional<std::string> random_secret(size_t bytes = 18) noexcept;

// The fast salted hash for secrets from random_secret(): a $7$ hash with one iteration (random
// 12-byte salt). Brute force is hopeless against >= 128 random bits, so slow hashing buys
// nothing; the result is still a normal $7$ record that Mosquitto and verify_password accept.
std::optional<std::string> hash_secret(std::string_view secret) noexcept;

}  // namespace c8y::identity
