#include "plugin/identity/password_hash.h"

#include "plugin/common/base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <optional>
#include <vector>

namespace c8y::identity {
namespace {

constexpr size_t kSaltBytes = 12;
constexpr size_t kHashBytes = 64;

using Bytes = std::vector<unsigned char>;

// Strict standard base64 with mandatory padding: whole groups, `=` only at the end, unused
// trailing bits zero, not empty. Returns nullopt on any deviation.
std::optional<Bytes> base64_decode_strict(std::string_view in) {
  if (in.empty()) return std::nullopt;
  auto d = common::base64_decode(in, {});
  if (!d) return std::nullopt;
  return Bytes(d->begin(), d->end());
}

std::string encode(const unsigned char* data, size_t len, common::Base64Alphabet a, bool pad) {
  return common::base64_encode({reinterpret_cast<const char*>(data), len}, a, pad);
}

// Decimal 1..kMaxIterations, digits only, no sign, no leading zero.
std::optional<int> parse_iterations(std::string_view s) {
  if (s.empty() || s.size() > 8 || s[0] == '0') return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < kMinIterations || v > kMaxIterations) return std::nullopt;
  return static_cast<int>(v);
}

struct Parsed {
  bool pbkdf2 = false;  // $7$; otherwise $6$
  int iterations = 0;
  Bytes salt;
  Bytes hash;
};

std::optional<Parsed> parse(std::string_view encoded) {
  // Longest valid record: "$7$10000000$" + 88 + "$" + 88 characters.
  if (encoded.size() > 256 || encoded.empty() || encoded[0] != '$') return std::nullopt;
  std::vector<std::string_view> fields;
  std::string_view rest = encoded.substr(1);
  while (true) {
    size_t pos = rest.find('$');
    fields.push_back(rest.substr(0, pos));
    if (pos == std::string_view::npos) break;
    rest.remove_prefix(pos + 1);
  }
  Parsed p;
  size_t salt_field;
  if (fields.size() == 4 && fields[0] == "7") {
    auto it = parse_iterations(fields[1]);
    if (!it) return std::nullopt;
    p.pbkdf2 = true;
    p.iterations = *it;
    salt_field = 2;
  } else if (fields.size() == 3 && fields[0] == "6") {
    salt_field = 1;
  } else {
    return std::nullopt;
  }
  auto salt = base64_decode_strict(fields[salt_field]);
  auto hash = base64_decode_strict(fields[salt_field + 1]);
  if (!salt || !hash) return std::nullopt;
  if (salt->size() < kMinSaltBytes || salt->size() > kMaxSaltBytes) return std::nullopt;
  if (p.pbkdf2) {
    if (hash->size() < kMinHashBytes || hash->size() > kMaxHashBytes) return std::nullopt;
  } else if (hash->size() != kHashBytes) {
    return std::nullopt;
  }
  p.salt = std::move(*salt);
  p.hash = std::move(*hash);
  return p;
}

bool random_bytes(unsigned char* out, size_t len) {
  return len <= INT_MAX && RAND_bytes(out, static_cast<int>(len)) == 1;
}

bool pbkdf2_sha512(std::string_view password, const Bytes& salt, int iterations, unsigned char* out,
                   size_t out_len) {
  if (password.size() > INT_MAX) return false;
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                           static_cast<int>(salt.size()), iterations, EVP_sha512(),
                           static_cast<int>(out_len), out) == 1;
}

bool salted_sha512(std::string_view password, const Bytes& salt, unsigned char* out) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  unsigned int len = 0;
  bool ok = EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
            EVP_DigestUpdate(ctx, salt.data(), salt.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == kHashBytes;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::optional<std::string> make_pbkdf2_record(std::string_view password, int iterations) {
  iterations = std::clamp(iterations, kMinIterations, kMaxIterations);
  Bytes salt(kSaltBytes);
  if (!random_bytes(salt.data(), salt.size())) return std::nullopt;
  std::array<unsigned char, kHashBytes> hash{};
  if (!pbkdf2_sha512(password, salt, iterations, hash.data(), hash.size())) return std::nullopt;
  std::string out = "$7$" + std::to_string(iterations) + "$";
  out += encode(salt.data(), salt.size(), common::Base64Alphabet::kStandard, true);
  out += '$';
  out += encode(hash.data(), hash.size(), common::Base64Alphabet::kStandard, true);
  OPENSSL_cleanse(hash.data(), hash.size());
  return out;
}

}  // namespace

bool is_valid_password_hash(std::string_view encoded) {
  return parse(encoded).has_value();
}

bool verify_password(std::string_view encoded, std::string_view password) {
  auto p = parse(encoded);
  if (!p) return false;
  std::array<unsigned char, kMaxHashBytes> computed{};
  bool ok = p->pbkdf2
                ? pbkdf2_sha512(password, p->salt, p->iterations, computed.data(), p->hash.size())
                : salted_sha512(password, p->salt, computed.data());
  ok = ok && CRYPTO_memcmp(computed.data(), p->hash.data(), p->hash.size()) == 0;
  OPENSSL_cleanse(computed.data(), computed.size());
  return ok;
}

std::optional<std::string> hash_password(std::string_view password, int iterations) noexcept {
  try {
    return make_pbkdf2_record(password, iterations);
  } catch (...) {  // memory ran out
    return std::nullopt;
  }
}

std::optional<std::string> random_secret(size_t bytes) noexcept {
  try {
    bytes = std::max(bytes, kMinSecretBytes);
    Bytes raw(bytes);
    if (!random_bytes(raw.data(), raw.size())) return std::nullopt;
    std::string out = encode(raw.data(), raw.size(), common::Base64Alphabet::kUrl, false);
    OPENSSL_cleanse(raw.data(), raw.size());
    return out;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<std::string> hash_secret(std::string_view secret) noexcept {
  return hash_password(secret, 1);
}

}  // namespace c8y::identity
