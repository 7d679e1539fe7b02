#include "plugin/identity/credential_cache.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace c8y::identity {

namespace {

// A keyed HMAC-SHA256 context used only as a template: each digest duplicates it, so the key
// schedule is computed once and one-shot HMAC()'s per-call fetch is avoided (about 2x faster).
// EVP_MAC_CTX_dup takes a const source, which OpenSSL allows from several threads at once.
// nullptr if libcrypto cannot provide it.
EVP_MAC_CTX* new_hmac_template(const unsigned char* key, size_t key_len) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return nullptr;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context holds its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (ctx == nullptr || EVP_MAC_init(ctx, key, key_len, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace

CredentialCache::CredentialCache(size_t capacity) noexcept : capacity_(capacity), hmac_(nullptr) {
  std::array<unsigned char, 32> key;
  // Without a random key or an HMAC the cache stays off (enabled() is false): every login takes
  // the slow path, which is still correct.
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) == 1)
    hmac_ = new_hmac_template(key.data(), key.size());
  OPENSSL_cleanse(key.data(), key.size());
}

CredentialCache::~CredentialCache() {
  EVP_MAC_CTX_free(hmac_);
}

CredentialCache::Digest CredentialCache::digest(std::string_view user_key,
                                                std::string_view password) const {
  static constexpr unsigned char kSeparator = 0;
  Digest out{};
  size_t len = 0;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(hmac_);
  const bool ok = ctx != nullptr &&
                  EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(user_key.data()),
                                 user_key.size()) == 1 &&
                  EVP_MAC_update(ctx, &kSeparator, 1) == 1 &&
                  EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(password.data()),
                                 password.size()) == 1 &&
                  EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == out.size();
  EVP_MAC_CTX_free(ctx);
  if (!ok) {
    // Cannot happen with a working libcrypto; make the digest unusable rather than predictable.
    RAND_bytes(out.data(), static_cast<int>(out.size()));
  }
  return out;
}

bool CredentialCache::matches(std::string_view user_key, uint64_t generation,
                              std::string_view password) const {
  if (hmac_ == nullptr) return false;
  const Digest d = digest(user_key, password);
  std::lock_guard lock(mu_);
  auto it = entries_.find(user_key);
  if (it == entries_.end() || it->second.generation != generation) return false;
  return CRYPTO_memcmp(it->second.digest.data(), d.data(), d.size()) == 0;
}

void CredentialCache::remember(std::string_view user_key, uint64_t generation,
                               std::string_view password) {
  if (capacity_ == 0 || hmac_ == nullptr) return;
  const Digest d = digest(user_key, password);
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(user_key); it != entries_.end()) {
    it->second.generation = generation;
    it->second.digest = d;
    order_.splice(order_.end(), order_, it->second.order);  // now the newest
    return;
  }
  while (entries_.size() >= capacity_) {
    auto oldest = entries_.find(*order_.front());
    order_.pop_front();
    entries_.erase(oldest);
  }
  auto [it, added] = entries_.emplace(std::string(user_key), Entry{generation, d, {}});
  order_.push_back(&it->first);
  it->second.order = std::prev(order_.end());
}

void CredentialCache::forget(std::string_view user_key) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(user_key); it != entries_.end()) {
    order_.erase(it->second.order);
    entries_.erase(it);
  }
}

void CredentialCache::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  order_.clear();
}

size_t CredentialCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace c8y::identity
