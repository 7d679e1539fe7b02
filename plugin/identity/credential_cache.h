// Cache of verified credentials, so that a reconnect storm does not pay a slow hash per device.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace c8y::identity {

// Remembers that `password` was verified for `user_key` against the user record at `generation`.
// Holds no plaintext: stores HMAC-SHA256(per-instance random key, user_key || 0 || password).
//
// The caller bumps a user's generation whenever its password, roles or enabled flag change, so a
// change takes effect at once; a different password never matches (the caller falls back to the
// slow path). At most one entry per user_key (the last remembered password). When full, the
// entry remembered longest ago is evicted. Thread-safe; the HMAC is computed outside the lock.
class CredentialCache {
 public:
  // Never throws: if libcrypto cannot key an HMAC, the cache is off (matches nothing, keeps
  // nothing).
  explicit CredentialCache(size_t capacity = 100000) noexcept;
  ~CredentialCache();
  CredentialCache(const CredentialCache&) = delete;
  CredentialCache& operator=(const CredentialCache&) = delete;

  // True only if an entry exists for user_key with the same generation and password digest.
  bool matches(std::string_view user_key, uint64_t generation, std::string_view password) const;
  // Call only after a successful slow verification against the record at `generation`.
  void remember(std::string_view user_key, uint64_t generation, std::string_view password);
  void forget(std::string_view user_key);
  void clear();
  size_t size() const;
  size_t capacity() const { return capacity_; }
  bool enabled() const { return hmac_ != nullptr; }

 private:
  using Digest = std::array<unsigned char, 32>;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    uint64_t generation;
    Digest digest;
    std::list<const std::string*>::iterator order;  // position in order_ (oldest first)
  };

  Digest digest(std::string_view user_key, std::string_view password) const;

  const size_t capacity_;
  EVP_MAC_CTX* hmac_;  // keyed with 32 random bytes; the key itself is not kept
  mutable std::mutex mu_;
  // Oldest first; each points at its entry's key in entries_ (node-based: keys do not move).
  std::list<const std::string*> order_;
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries_;
};

}  // namespace c8y::identity
