#include "plugin/identity/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

namespace c8y::identity {
namespace {

constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kSaltBytes = 12;
constexpr size_t kHashBytes = 64;

using Bytes = std::vector<unsigned char>;

std::string base64_encode(const unsigned char* data, size_t len, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((len + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (size_t rest = len - i; rest > 0) {
    uint32_t v = uint32_t{data[i]} << 16;
    if (rest == 2) v |= uint32_t{data[i + 1]} << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

int std_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict standard base64 with mandatory padding: length a multiple of 4, `=` only at the end,
// unused trailing bits zero. Returns nullopt on any deviation.
std::optional<Bytes> base64_decode_strict(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (in.back() == '=') pad = (in[in.size() - 2] == '=') ? 2 : 1;
  Bytes out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    const size_t chars = last ? 4 - pad : 4;
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      int d = 0;
      if (j < chars) {
        d = std_value(in[i + j]);
        if (d < 0) return std::nullopt;
      }
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    if (chars == 2 && (v & 0xFFFF) != 0) return std::nullopt;
    if (chars == 3 && (v & 0xFF) != 0) return std::nullopt;
    out.push_back(static_cast<unsigned char>(v >> 16));
    if (chars >= 3) out.push_back(static_cast<unsigned char>(v >> 8));
    if (chars == 4) out.push_back(static_cast<unsigned char>(v));
  }
  return out;
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

void random_bytes(unsigned char* out, size_t len) {
  if (len > INT_MAX || RAND_bytes(out, static_cast<int>(len)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
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

std::string make_pbkdf2_record(std::string_view password, int iterations) {
  iterations = std::clamp(iterations, kMinIterations, kMaxIterations);
  Bytes salt(kSaltBytes);
  random_bytes(salt.data(), salt.size());
  std::array<unsigned char, kHashBytes> hash{};
  if (!pbkdf2_sha512(password, salt, iterations, hash.data(), hash.size())) {
    throw std::runtime_error("PBKDF2 failed");
  }
  std::string out = "$7$" + std::to_string(iterations) + "$";
  out += base64_encode(salt.data(), salt.size(), kStdAlphabet, true);
  out += '$';
  out += base64_encode(hash.data(), hash.size(), kStdAlphabet, true);
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

std::string hash_password(std::string_view password, int iterations) {
  return make_pbkdf2_record(password, iterations);
}

std::string random_secret(size_t bytes) {
  bytes = std::max(bytes, kMinSecretBytes);
  Bytes raw(bytes);
  random_bytes(raw.data(), raw.size());
  std::string out = base64_encode(raw.data(), raw.size(), kUrlAlphabet, false);
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

std::string hash_secret(std::string_view secret) {
  return make_pbkdf2_record(secret, 1);
}

}  // namespace c8y::identity
