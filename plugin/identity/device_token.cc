#include "plugin/identity/device_token.h"

#include "plugin/common/base64.h"

#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>

#include <array>
#include <climits>
#include <cstdlib>
#include <memory>
#include <set>
#include <vector>

namespace c8y::identity {
namespace {

using json = nlohmann::json;

constexpr std::string_view kAlg = "HS256";
constexpr size_t kSignatureBytes = 32;  // SHA-256 output
constexpr size_t kTokenIdBytes = 16;

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

// libjwt 1.10 returns strings from malloc() and has no jwt_free_str().
struct CFree {
  void operator()(char* p) const { std::free(p); }
};
using CString = std::unique_ptr<char, CFree>;

// Wipes the HMAC output (and anything else keyed) when it goes out of scope.
template <size_t N>
struct Scrubbed {
  std::array<unsigned char, N> bytes{};
  ~Scrubbed() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// Unpadded base64url as JWS requires (RFC 7515 section 2), decoded strictly: no padding, no
// other characters, unused trailing bits zero. Canonical encoding matters for the signature part:
// with a lenient decoder several strings decode to the same MAC, so a token would not be unique.
bool is_url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::optional<std::string> base64url_decode(std::string_view in) {
  common::Base64Rules rules;
  rules.alphabet = common::Base64Alphabet::kUrl;
  rules.padding = common::Base64Rules::Padding::kForbidden;
  return common::base64_decode(in, rules);
}

// A JSON object with no duplicate member names at any depth. Parsers disagree on duplicates
// (first wins, last wins, error), and `{"alg":"HS256","alg":"none"}` is the classic way to make
// two parsers see two different tokens; refusing them outright leaves nothing to disagree on.
// Invalid UTF-8 is refused by the parser.
std::optional<json> parse_object(std::string_view text) {
  std::vector<std::set<std::string>> names;  // one set per open object
  bool duplicate = false;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        names.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!names.empty()) names.pop_back();
        break;
      case json::parse_event_t::key:
        if (names.empty() || !names.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (j.is_discarded() || duplicate || !j.is_object()) return std::nullopt;
  return j;
}

bool hmac_sha256(std::string_view secret, std::string_view data,
                 std::array<unsigned char, kSignatureBytes>& out) {
  if (secret.size() > INT_MAX) return false;
  unsigned int len = 0;
  return HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
              &len) != nullptr &&
         len == kSignatureBytes;
}

bool valid_claim_string(std::string_view s) {
  return !s.empty() && s.find('\0') == std::string_view::npos;
}

bool get_string(const json& obj, const char* name, std::string& out) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return false;
  const auto& s = it->get_ref<const std::string&>();
  if (!valid_claim_string(s)) return false;
  out = s;
  return true;
}

// Non-negative JSON integers only: 1.7e9, "1700000000", true and values beyond int64 are refused.
bool get_time(const json& obj, const char* name, int64_t& out) {
  auto it = obj.find(name);
  if (it == obj.end()) return false;
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    out = static_cast<int64_t>(v);
    return true;
  }
  if (it->is_number_integer()) {  // signed, i.e. negative
    const int64_t v = it->get<int64_t>();
    if (v < 0) return false;
    out = v;
    return true;
  }
  return false;
}

std::nullopt_t fail(std::string* error, const char* reason) {
  if (error != nullptr) *error = reason;
  return std::nullopt;
}

bool refuse(std::string* error, const char* reason) {
  fail(error, reason);
  return false;
}

// Everything but the libjwt gate. Returns the claims and the payload object (for the
// cross-check against libjwt's reading).
std::optional<DeviceTokenClaims> verify_own(std::string_view token, std::string_view secret,
                                            int64_t now_s, std::string* error, json& payload) {
  // Structure first, on the raw bytes: exactly two dots and only base64url characters. This also
  // keeps NUL bytes away from libjwt, which takes a C string and would verify only the part
  // before the NUL ("<valid token>\0<anything>" would pass).
  size_t dots[2] = {0, 0};
  size_t ndots = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '.') {
      if (ndots == 2) return fail(error, "malformed token");
      dots[ndots++] = i;
    } else if (!is_url_char(token[i])) {
      return fail(error, "malformed token");
    }
  }
  if (ndots != 2) return fail(error, "malformed token");
  const std::string_view head_b64 = token.substr(0, dots[0]);
  const std::string_view body_b64 = token.substr(dots[0] + 1, dots[1] - dots[0] - 1);
  const std::string_view sig_b64 = token.substr(dots[1] + 1);
  // An empty signature is left to the checks below, so an alg "none" token ("h.p.") is reported
  // as such rather than as malformed.
  if (head_b64.empty() || body_b64.empty()) return fail(error, "malformed token");
  auto head_text = base64url_decode(head_b64);
  auto body_text = base64url_decode(body_b64);
  auto sig = base64url_decode(sig_b64);
  if (!head_text || !body_text || !sig) return fail(error, "malformed token");

  // The algorithm is ours to choose, not the token's: exactly "HS256" is accepted. "none" is
  // named separately in any letter case because libjwt 1.10 compares algorithm names
  // case-insensitively and skips verification for it when it has no key.
  auto head = parse_object(*head_text);
  if (!head) return fail(error, "malformed header");
  auto alg = head->find("alg");
  if (alg == head->end() || !alg->is_string()) return fail(error, "malformed header");
  const auto& alg_name = alg->get_ref<const std::string&>();
  if (alg_name.size() == 4 && (alg_name[0] | 0x20) == 'n' && (alg_name[1] | 0x20) == 'o' &&
      (alg_name[2] | 0x20) == 'n' && (alg_name[3] | 0x20) == 'e') {
    return fail(error, "alg none refused");
  }
  if (alg_name != kAlg) return fail(error, "algorithm not allowed");
  // We only ever write alg and typ. Anything else (kid, jku, jwk, crit, ...) would be an
  // instruction to the verifier that we do not follow, so refuse rather than ignore it.
  for (const auto& [name, value] : head->items()) {
    if (name == "alg") continue;
    if (name == "typ" && value.is_string() && value.get_ref<const std::string&>() == "JWT") {
      continue;
    }
    return fail(error, "malformed header");
  }

  // Signature before the payload is even parsed: nobody without the secret gets past this point.
  // CRYPTO_memcmp keeps the comparison time independent of where the bytes differ.
  Scrubbed<kSignatureBytes> mac;
  const std::string_view signing_input = token.substr(0, dots[1]);
  if (!hmac_sha256(secret, signing_input, mac.bytes)) return fail(error, "internal error");
  if (sig->size() != kSignatureBytes ||
      CRYPTO_memcmp(sig->data(), mac.bytes.data(), kSignatureBytes) != 0) {
    return fail(error, "bad signature");
  }

  auto body = parse_object(*body_text);
  if (!body) return fail(error, "malformed payload");
  DeviceTokenClaims c;
  if (!get_string(*body, "ten", c.tenant) || !get_string(*body, "sub", c.user) ||
      !get_string(*body, "ser", c.serial) || !get_string(*body, "jti", c.token_id) ||
      !get_time(*body, "iat", c.issued_at) || !get_time(*body, "exp", c.expires_at)) {
    return fail(error, "missing or invalid claim");
  }
  auto iss = body->find("iss");
  if (iss == body->end() || !iss->is_string() ||
      iss->get_ref<const std::string&>() != kTokenIssuer) {
    return fail(error, "wrong issuer");
  }
  // Both are >= 0 here, so none of these subtractions can overflow.
  if (c.expires_at <= c.issued_at || c.expires_at - c.issued_at > kMaxTokenLifetimeS) {
    return fail(error, "lifetime out of range");
  }
  if (c.issued_at - kMaxTokenClockSkewS > now_s) return fail(error, "issued in the future");
  if (now_s >= c.expires_at) return fail(error, "expired");
  payload = std::move(*body);
  return c;
}

// libjwt sees only tokens that already passed every check above, i.e. that we signed. It must
// agree: accept the token, report HS256 after decoding (1.10 silently downgrades to "none" and
// skips the signature when it has no key) and read the same claims.
bool verify_with_libjwt(const std::string& token, std::string_view secret, const json& payload,
                        std::string* error) {
  jwt_t* raw = nullptr;
  const int rc =
      jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || !jwt) return refuse(error, "rejected by libjwt");
  const char* alg = jwt_get_header(jwt.get(), "alg");
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256 || alg == nullptr || std::string_view(alg) != kAlg) {
    return refuse(error, "libjwt algorithm mismatch");
  }
  CString grants(jwt_get_grants_json(jwt.get(), nullptr));
  if (!grants) return refuse(error, "libjwt claims mismatch");
  json theirs = json::parse(grants.get(), nullptr, /*allow_exceptions=*/false);
  if (theirs.is_discarded() || theirs != payload) {
    return refuse(error, "libjwt claims mismatch");
  }
  return true;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return {};
  }
  return out;
}

}  // namespace

std::optional<DeviceTokenClaims> verify_device_token(std::string_view token,
                                                     std::string_view secret, int64_t now_s,
                                                     std::string* error) noexcept {
  try {
    // A short or empty secret is a configuration fault, reported as such; an empty key would
    // also make libjwt 1.10 skip signature verification altogether.
    if (secret.size() < kTokenSecretBytes) return fail(error, "secret too short");
    if (secret.size() > INT_MAX) return fail(error, "secret too long");
    if (token.size() > kMaxTokenBytes) return fail(error, "token too long");
    json payload;
    auto claims = verify_own(token, secret, now_s, error, payload);
    if (!claims) return std::nullopt;
    if (!verify_with_libjwt(std::string(token), secret, payload, error)) return std::nullopt;
    return claims;
  } catch (...) {  // bad_alloc; nothing else is expected to throw
    return fail(error, "internal error");
  }
}

std::string issue_device_token(const DeviceTokenClaims& c, std::string_view secret) noexcept {
  try {
    if (secret.size() < kTokenSecretBytes || secret.size() > INT_MAX) return {};
    if (!valid_claim_string(c.tenant) || !valid_claim_string(c.user) ||
        !valid_claim_string(c.serial)) {
      return {};
    }
    if (c.issued_at < 0 || c.expires_at <= c.issued_at ||
        c.expires_at - c.issued_at > kMaxTokenLifetimeS) {
      return {};
    }
    std::string jti = c.token_id.empty() ? new_token_id() : c.token_id;
    if (!valid_claim_string(jti)) return {};

    // The payload goes to libjwt as one JSON document rather than grant by grant: jwt_add_grant
    // takes C strings (a NUL would silently cut a claim) and jwt_add_grant_int takes a long
    // (32 bits on some targets). dump() throws on invalid UTF-8, which the catch turns into "".
    const json payload = {{"iss", std::string(kTokenIssuer)},
                          {"sub", c.user},
                          {"ten", c.tenant},
                          {"ser", c.serial},
                          {"iat", c.issued_at},
                          {"exp", c.expires_at},
                          {"jti", jti}};
    const std::string payload_text = payload.dump();

    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0 || raw == nullptr) return {};
    JwtPtr jwt(raw);
    if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                    static_cast<int>(secret.size())) != 0 ||
        jwt_add_grants_json(jwt.get(), payload_text.c_str()) != 0) {
      return {};
    }
    CString encoded(jwt_encode_str(jwt.get()));
    if (!encoded) return {};
    std::string token(encoded.get());

    // Never hand out a token that our own verifier would refuse (or that says something else
    // than asked): this pins libjwt's output format to what verify_device_token accepts.
    auto back = verify_device_token(token, secret, c.issued_at, nullptr);
    if (!back || back->tenant != c.tenant || back->user != c.user || back->serial != c.serial ||
        back->issued_at != c.issued_at || back->expires_at != c.expires_at ||
        back->token_id != jti) {
      return {};
    }
    return token;
  } catch (...) {
    return {};
  }
}

std::string new_token_secret() noexcept {
  try {
    return random_bytes(kTokenSecretBytes);
  } catch (...) {
    return {};
  }
}

std::string new_token_id() noexcept {
  try {
    std::string raw = random_bytes(kTokenIdBytes);
    if (raw.empty()) return {};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * raw.size());
    for (unsigned char b : raw) {
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
    return out;
  } catch (...) {
    return {};
  }
}

}  // namespace c8y::identity
