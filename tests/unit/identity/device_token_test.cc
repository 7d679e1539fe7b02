#include "plugin/identity/device_token.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace c8y::identity {
namespace {

using json = nlohmann::json;

// Bad tokens are built here with OpenSSL's HMAC() and a local base64url, not with libjwt, so the
// tests do not depend on what libjwt is willing to produce.

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url(std::string_view data) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : data) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kUrlAlphabet[(acc >> bits) & 63];
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0) out += kUrlAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

// Lenient decoder, only for looking inside tokens that issue_device_token produced.
std::string b64url_decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::char_traits<char>::find(kUrlAlphabet, 64, c);
    if (p == nullptr) continue;
    acc = (acc << 6) | static_cast<uint32_t>(p - kUrlAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
    acc &= (1u << bits) - 1;
  }
  return out;
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// "<b64url(header)>.<b64url(payload)>.<b64url(HMAC(md, secret, signing input))>"
std::string sign(std::string_view header, std::string_view payload, std::string_view secret,
                 const EVP_MD* md = EVP_sha256()) {
  std::string input = b64url(header) + "." + b64url(payload);
  return input + "." + b64url(hmac(md, secret, input));
}

const std::string kSecret = "0123456789abcdef0123456789ABCDEF";  // 32 bytes
const std::string kOtherSecret = "0123456789abcdef0123456789ABCDEf";
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";
constexpr int64_t kIat = 1'700'000'000;
constexpr int64_t kNow = kIat + 10;

json good_payload() {
  return {{"iss", "mosquitto-c8y"},
          {"sub", "device_SN-1"},
          {"ten", "t100"},
          {"ser", "SN-1"},
          {"iat", kIat},
          {"exp", kIat + kDefaultTokenLifetimeS},
          {"jti", "00112233445566778899aabbccddeeff"}};
}

std::string sign_payload(const json& payload, std::string_view secret = kSecret) {
  return sign(kHeader, payload.dump(), secret);
}

// The refusal reason, or "accepted".
std::string reason(std::string_view token, std::string_view secret = kSecret, int64_t now = kNow) {
  std::string error;
  auto claims = verify_device_token(token, secret, now, &error);
  if (claims) return "accepted";
  EXPECT_FALSE(error.empty());
  return error;
}

DeviceTokenClaims sample_claims() {
  DeviceTokenClaims c;
  c.tenant = "t100";
  c.user = "device_SN-1";
  c.serial = "SN-1";
  c.issued_at = kIat;
  c.expires_at = kIat + kDefaultTokenLifetimeS;
  return c;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(DeviceTokenTest, Constants) {
  EXPECT_EQ(kDefaultTokenLifetimeS, 3600);
  EXPECT_EQ(kMinTokenLifetimeS, 300);
  EXPECT_EQ(kMaxTokenLifetimeS, 30 * 24 * 3600);
  EXPECT_EQ(kMaxTokenBytes, 4096u);
  EXPECT_EQ(kTokenIssuer, "mosquitto-c8y");
}

TEST(DeviceTokenTest, RoundTripReturnsEveryClaim) {
  DeviceTokenClaims c = sample_claims();
  std::string token = issue_device_token(c, kSecret);
  ASSERT_FALSE(token.empty());

  std::string error;
  auto back = verify_device_token(token, kSecret, kNow, &error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(back->tenant, "t100");
  EXPECT_EQ(back->user, "device_SN-1");
  EXPECT_EQ(back->serial, "SN-1");
  EXPECT_EQ(back->issued_at, kIat);
  EXPECT_EQ(back->expires_at, kIat + 3600);
  EXPECT_EQ(back->token_id.size(), 32u);
  EXPECT_TRUE(is_lower_hex(back->token_id)) << back->token_id;

  // The wire format is what the spec says, read with a decoder of our own.
  auto parts = split(token);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(json::parse(b64url_decode(parts[0])), json::parse(kHeader));
  json payload = json::parse(b64url_decode(parts[1]));
  EXPECT_EQ(payload["iss"], "mosquitto-c8y");
  EXPECT_EQ(payload["sub"], "device_SN-1");
  EXPECT_EQ(payload["ten"], "t100");
  EXPECT_EQ(payload["ser"], "SN-1");
  EXPECT_EQ(payload["iat"], kIat);
  EXPECT_EQ(payload["exp"], kIat + 3600);
  EXPECT_EQ(payload["jti"], back->token_id);
  EXPECT_EQ(payload.size(), 7u);
  // And the signature is plain HMAC-SHA256 over the first two parts.
  EXPECT_EQ(parts[2], b64url(hmac(EVP_sha256(), kSecret, parts[0] + "." + parts[1])));
}

TEST(DeviceTokenTest, HandMadeTokenIsAccepted) {
  // A token that follows RFC 7519 but was not made by libjwt verifies: the verifier implements
  // the format, not libjwt's output.
  std::string error;
  auto c = verify_device_token(sign_payload(good_payload()), kSecret, kNow, &error);
  ASSERT_TRUE(c.has_value()) << error;
  EXPECT_EQ(c->token_id, "00112233445566778899aabbccddeeff");
  // typ is optional; unknown claims are ignored.
  json p = good_payload();
  p["nbf"] = 5;
  p["extra"] = {{"a", 1}};
  EXPECT_EQ(reason(sign(R"({"alg":"HS256"})", p.dump(), kSecret)), "accepted");
}

TEST(DeviceTokenTest, TokenIdGeneratedOrTakenAsGiven) {
  DeviceTokenClaims c = sample_claims();
  std::set<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto back = verify_device_token(issue_device_token(c, kSecret), kSecret, kNow, nullptr);
    ASSERT_TRUE(back.has_value());
    ids.insert(back->token_id);
  }
  EXPECT_EQ(ids.size(), 8u);

  c.token_id = "my-id";
  auto back = verify_device_token(issue_device_token(c, kSecret), kSecret, kNow, nullptr);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->token_id, "my-id");
}

TEST(DeviceTokenTest, OtherTenantIsReturnedAsSigned) {
  // Comparing the tenant with the request is the caller's job; verification just reports it.
  DeviceTokenClaims c = sample_claims();
  c.tenant = "t200";
  c.user = "device_\xC3\xA4";  // UTF-8 survives
  c.serial = "X";
  auto back = verify_device_token(issue_device_token(c, kSecret), kSecret, kNow, nullptr);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->tenant, "t200");
  EXPECT_EQ(back->user, "device_\xC3\xA4");
  EXPECT_EQ(back->serial, "X");

  json p = good_payload();
  p["ten"] = "t999";
  auto hand = verify_device_token(sign_payload(p), kSecret, kNow, nullptr);
  ASSERT_TRUE(hand.has_value());
  EXPECT_EQ(hand->tenant, "t999");
}

TEST(DeviceTokenTest, IssueRefusesBadInput) {
  const DeviceTokenClaims good = sample_claims();
  EXPECT_FALSE(issue_device_token(good, kSecret).empty());
  EXPECT_EQ(issue_device_token(good, ""), "");
  EXPECT_EQ(issue_device_token(good, kSecret.substr(0, 31)), "");

  auto refused = [&](const std::function<void(DeviceTokenClaims&)>& change) {
    DeviceTokenClaims c = good;
    change(c);
    return issue_device_token(c, kSecret).empty();
  };
  EXPECT_TRUE(refused([](auto& c) { c.tenant.clear(); }));
  EXPECT_TRUE(refused([](auto& c) { c.user.clear(); }));
  EXPECT_TRUE(refused([](auto& c) { c.serial.clear(); }));
  // libjwt's C API would cut these at the NUL and sign a different user.
  EXPECT_TRUE(refused([](auto& c) { c.user = std::string("dev\0ice", 7); }));
  EXPECT_TRUE(refused([](auto& c) { c.tenant = std::string("t1\0", 3); }));
  EXPECT_TRUE(refused([](auto& c) { c.token_id = std::string("\0", 1); }));
  EXPECT_TRUE(refused([](auto& c) { c.serial = "\xFF\xFE"; }));  // not UTF-8
  EXPECT_TRUE(refused([](auto& c) { c.issued_at = -1; }));
  EXPECT_TRUE(refused([](auto& c) { c.expires_at = c.issued_at; }));
  EXPECT_TRUE(refused([](auto& c) { c.expires_at = c.issued_at - 1; }));
  EXPECT_TRUE(refused([](auto& c) { c.expires_at = c.issued_at + kMaxTokenLifetimeS + 1; }));
  EXPECT_TRUE(refused([](auto& c) { c.expires_at = std::numeric_limits<int64_t>::max(); }));
  EXPECT_FALSE(refused([](auto& c) { c.expires_at = c.issued_at + kMaxTokenLifetimeS; }));
  EXPECT_FALSE(refused([](auto& c) { c.expires_at = c.issued_at + 1; }));
}

TEST(DeviceTokenTest, EmptyOrShortSecretRefusedAtVerify) {
  std::string token = issue_device_token(sample_claims(), kSecret);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(reason(token, ""), "secret too short");
  EXPECT_EQ(reason(token, kSecret.substr(0, 31)), "secret too short");
  // A token "signed" with the empty key is refused too, whatever secret is used to check it.
  EXPECT_EQ(reason(sign_payload(good_payload(), ""), ""), "secret too short");
  EXPECT_EQ(reason(sign_payload(good_payload(), "")), "bad signature");
}

TEST(DeviceTokenTest, SecretIsBinaryAndUsedInFull) {
  // Keys are lengths plus bytes, not C strings: a NUL inside must not end the key.
  std::string a = std::string("\0", 1) + kSecret.substr(1);
  std::string b = a;
  b.back() ^= 1;
  std::string token = issue_device_token(sample_claims(), a);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(reason(token, a), "accepted");
  EXPECT_EQ(reason(token, b), "bad signature");
  EXPECT_EQ(reason(token, a + "x"), "bad signature");
}

TEST(DeviceTokenTest, NewTokenSecret) {
  std::string s1 = new_token_secret();
  std::string s2 = new_token_secret();
  EXPECT_EQ(s1.size(), kTokenSecretBytes);
  EXPECT_EQ(s2.size(), kTokenSecretBytes);
  EXPECT_NE(s1, s2);
  std::string token = issue_device_token(sample_claims(), s1);
  EXPECT_EQ(reason(token, s1), "accepted");
  EXPECT_EQ(reason(token, s2), "bad signature");
}

TEST(DeviceTokenTest, NewTokenId) {
  std::string id = new_token_id();
  EXPECT_EQ(id.size(), 32u);
  EXPECT_TRUE(is_lower_hex(id));
  EXPECT_NE(id, new_token_id());
}

TEST(DeviceTokenTest, TooLongRefusedBeforeParsing) {
  EXPECT_EQ(reason(std::string(kMaxTokenBytes + 1, 'a')), "token too long");
  EXPECT_EQ(reason(std::string(kMaxTokenBytes + 1, '\0')), "token too long");

  // Boundary with validly signed tokens: the longest one within the limit verifies, the next
  // longer one does not.
  std::string last_fit;
  std::string first_over;
  for (size_t pad = 2500; first_over.empty(); ++pad) {
    json p = good_payload();
    p["pad"] = std::string(pad, 'x');
    std::string t = sign_payload(p);
    if (t.size() <= kMaxTokenBytes) {
      last_fit = t;
    } else {
      first_over = t;
    }
  }
  ASSERT_FALSE(last_fit.empty());
  EXPECT_GE(last_fit.size(), kMaxTokenBytes - 2);
  EXPECT_EQ(reason(last_fit), "accepted");
  EXPECT_EQ(reason(first_over), "token too long");
}

TEST(DeviceTokenTest, MalformedTokens) {
  const std::string good = sign_payload(good_payload());
  ASSERT_EQ(reason(good), "accepted");
  auto parts = split(good);
  ASSERT_EQ(parts.size(), 3u);

  const std::vector<std::string> bad = {
      "",
      ".",
      "..",
      "abc",
      parts[0] + "." + parts[1],                         // two parts
      good + ".",                                        // four parts
      good + "." + parts[2],                             // four parts
      "." + parts[1] + "." + parts[2],                   // empty header
      parts[0] + ".." + parts[2],                        // empty payload
      good + "=",                                        // padding
      parts[0] + "=." + parts[1] + "." + parts[2],       // padding
      good + " ",                                        // whitespace
      " " + good,                                        // whitespace
      good + "\n",                                       // line end
      good + std::string("\0", 1),                       // NUL: libjwt would stop reading here
      good + std::string("\0garbage", 8),                // and verify only the prefix
      parts[0] + "." + parts[1] + "+" + "." + parts[2],  // standard base64 alphabet
      parts[0] + "." + parts[1] + "/" + "." + parts[2],
      parts[0] + "A." + parts[1] + "." + parts[2],  // 37 characters: 4k+1 is never base64
  };
  ASSERT_EQ(parts[0].size(), 36u);
  for (const auto& t : bad) EXPECT_EQ(reason(t), "malformed token") << "token: " << t;

  // Non-canonical base64url: the signature is 43 characters for 32 bytes, so the low two bits
  // of the last character are unused and must be zero. A lenient decoder maps four different
  // strings to the same MAC; a strict one keeps tokens unique.
  std::string sig = parts[2];
  const char* p = std::char_traits<char>::find(kUrlAlphabet, 64, sig.back());
  ASSERT_NE(p, nullptr);
  ASSERT_EQ((p - kUrlAlphabet) & 3, 0);
  sig.back() = kUrlAlphabet[(p - kUrlAlphabet) | 1];
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "." + sig), "malformed token");
}

TEST(DeviceTokenTest, MalformedHeader) {
  const std::string payload = good_payload().dump();
  // Each header is correctly signed with the right secret: the refusal is about the header.
  const std::vector<std::string> bad = {
      "not json",
      "",
      "[]",
      R"("HS256")",
      R"({"typ":"JWT"})",            // no alg
      R"({"alg":256,"typ":"JWT"})",  // alg not a string
      R"({"alg":null})",
      R"({"alg":"HS256","alg":"HS256"})",  // duplicate
      R"({"alg":"HS256","typ":"JWS"})",    // typ we do not write
      R"({"alg":"HS256","typ":1})",
      R"({"alg":"HS256","typ":"JWT","kid":"k1"})",  // fields we do not understand
      R"({"alg":"HS256","typ":"JWT","crit":["exp"]})",
      R"({"alg":"HS256","typ":"JWT","jwk":{}})",
      R"({"alg":"HS256","typ":"JWT"} trailing)",
      "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"x\":\"\xFF\"}",  // not UTF-8
  };
  for (const auto& h : bad) {
    std::string t = h.empty() ? "." + b64url(payload) + ".x" : sign(h, payload, kSecret);
    std::string expected = h.empty() ? "malformed token" : "malformed header";
    EXPECT_EQ(reason(t), expected) << "header: " << h;
  }
  // Duplicate alg with "none" second: parsers that keep the last value would see "none".
  EXPECT_EQ(reason(sign(R"({"alg":"HS256","alg":"none"})", payload, kSecret)), "malformed header");
}

TEST(DeviceTokenTest, AlgNoneRefused) {
  const std::string payload = good_payload().dump();
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    std::string h = json{{"alg", alg}, {"typ", "JWT"}}.dump();
    std::string unsigned_token = b64url(h) + "." + b64url(payload) + ".";
    // The unsecured form of RFC 7519 section 6 (empty signature), which libjwt 1.10 accepts
    // when called without a key and with any signature part at all.
    EXPECT_EQ(reason(unsigned_token), "alg none refused") << alg;
    EXPECT_EQ(reason(unsigned_token + "c2ln"), "alg none refused") << alg;
    // Even with a signature that is a correct HMAC-SHA256 under our secret.
    EXPECT_EQ(reason(sign(h, payload, kSecret)), "alg none refused") << alg;
  }
  EXPECT_EQ(reason(b64url(R"({"alg":"none"})") + "." + b64url(payload) + "."), "alg none refused");
}

TEST(DeviceTokenTest, OtherAlgorithmsRefused) {
  const std::string payload = good_payload().dump();
  auto header = [](const char* alg) { return json{{"alg", alg}, {"typ", "JWT"}}.dump(); };
  // HMAC with a longer hash, keyed with the same secret: libjwt 1.10 takes the algorithm from
  // the token and would accept these.
  EXPECT_EQ(reason(sign(header("HS384"), payload, kSecret, EVP_sha384())), "algorithm not allowed");
  EXPECT_EQ(reason(sign(header("HS512"), payload, kSecret, EVP_sha512())), "algorithm not allowed");
  // Public-key algorithm names over an HMAC (the key-confusion pattern) and anything unknown.
  for (const char* alg : {"RS256", "ES256", "PS256", "EdDSA", "hs256", "Hs256", "HS256 ", " HS256",
                          "HS2560", "HS25", ""}) {
    EXPECT_EQ(reason(sign(header(alg), payload, kSecret)), "algorithm not allowed") << alg;
  }
}

TEST(DeviceTokenTest, BadSignatureRefused) {
  const std::string good = sign_payload(good_payload());
  auto parts = split(good);
  ASSERT_EQ(parts.size(), 3u);

  // Tampered payload (another user) under the original signature.
  json changed = good_payload();
  changed["sub"] = "device_other";
  EXPECT_EQ(reason(parts[0] + "." + b64url(changed.dump()) + "." + parts[2]), "bad signature");
  // Tampered header (same meaning, different bytes) under the original signature.
  EXPECT_EQ(reason(b64url(R"({"typ":"JWT","alg":"HS256"})") + "." + parts[1] + "." + parts[2]),
            "bad signature");
  // Signed with another secret.
  EXPECT_EQ(reason(sign_payload(good_payload(), kOtherSecret)), "bad signature");
  EXPECT_EQ(reason(good, kOtherSecret), "bad signature");
  // A flipped bit, a truncated or an empty signature, a signature of the wrong length.
  std::string flipped = parts[2];
  flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "." + flipped), "bad signature");
  flipped = parts[2];  // character 41 carries bits of the last two bytes only
  flipped[41] = flipped[41] == 'A' ? 'B' : 'A';
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "." + flipped), "bad signature");
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "." + parts[2].substr(0, 40)), "bad signature");
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "."), "bad signature");
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "." + parts[2] + "AAAA"), "bad signature");
  // HMAC-SHA512 of the right input, truncated to 32 bytes, under an HS256 header.
  std::string input = parts[0] + "." + parts[1];
  EXPECT_EQ(reason(input + "." + b64url(hmac(EVP_sha512(), kSecret, input).substr(0, 32))),
            "bad signature");
}

TEST(DeviceTokenTest, MalformedPayload) {
  // Correctly signed, so these get past the signature and fail on the content.
  for (std::string p :
       {std::string("not json"), std::string("[]"), std::string("42"), std::string(R"("x")"),
        std::string("{"), std::string(R"({"sub":"a","sub":"b"})"),
        good_payload().dump().insert(1, R"("sub":"evil",)"), std::string("{\"sub\":\"\xFF\"}")}) {
    EXPECT_EQ(reason(sign(kHeader, p, kSecret)), "malformed payload") << p;
  }
}

TEST(DeviceTokenTest, MissingOrWronglyTypedClaims) {
  const std::vector<std::function<void(json&)>> changes = {
      [](json& p) { p.erase("ten"); },
      [](json& p) { p.erase("sub"); },
      [](json& p) { p.erase("ser"); },
      [](json& p) { p.erase("jti"); },
      [](json& p) { p.erase("iat"); },
      [](json& p) { p.erase("exp"); },
      [](json& p) { p["ten"] = 100; },
      [](json& p) { p["ten"] = ""; },
      [](json& p) { p["sub"] = ""; },
      [](json& p) { p["sub"] = json::array({"a"}); },
      [](json& p) { p["sub"] = std::string("dev\0ice", 7); },
      [](json& p) { p["ser"] = nullptr; },
      [](json& p) { p["ser"] = json::object(); },
      [](json& p) { p["jti"] = 7; },
      [](json& p) { p["jti"] = ""; },
      [](json& p) { p["exp"] = std::to_string(kIat + 3600); },
      [](json& p) { p["exp"] = static_cast<double>(kIat + 3600); },  // 1700003600.0
      [](json& p) { p["exp"] = 1.7000036e9; },
      [](json& p) { p["exp"] = true; },
      [](json& p) { p["exp"] = std::numeric_limits<uint64_t>::max(); },
      [](json& p) { p["exp"] = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1; },
      [](json& p) { p["iat"] = -1; },
      [](json& p) { p["iat"] = std::numeric_limits<int64_t>::min(); },
      [](json& p) { p["iat"] = nullptr; },
      [](json& p) { p["iat"] = std::to_string(kIat); },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    json p = good_payload();
    changes[i](p);
    EXPECT_EQ(reason(sign_payload(p)), "missing or invalid claim") << i << ": " << p.dump();
  }
  // A number too large for any integer type parses as a float.
  std::string huge = good_payload().dump();
  huge.replace(huge.find(std::to_string(kIat + 3600)), 10, "100000000000000000000000000000");
  EXPECT_EQ(reason(sign(kHeader, huge, kSecret)), "missing or invalid claim");
}

TEST(DeviceTokenTest, WrongIssuer) {
  for (json iss : {json("other"), json("MOSQUITTO-C8Y"), json("mosquitto-c8y "), json(1),
                   json(nullptr), json("")}) {
    json p = good_payload();
    p["iss"] = iss;
    EXPECT_EQ(reason(sign_payload(p)), "wrong issuer") << iss.dump();
  }
  json p = good_payload();
  p.erase("iss");
  EXPECT_EQ(reason(sign_payload(p)), "wrong issuer");
}

TEST(DeviceTokenTest, Expiry) {
  const std::string token = sign_payload(good_payload());  // exp = kIat + 3600
  EXPECT_EQ(reason(token, kSecret, kIat), "accepted");
  EXPECT_EQ(reason(token, kSecret, kIat + 3599), "accepted");
  EXPECT_EQ(reason(token, kSecret, kIat + 3600), "expired");
  EXPECT_EQ(reason(token, kSecret, kIat + 100000), "expired");
  EXPECT_EQ(reason(token, kSecret, std::numeric_limits<int64_t>::max()), "expired");
}

TEST(DeviceTokenTest, IssuedInTheFuture) {
  const std::string token = sign_payload(good_payload());  // iat = kIat
  EXPECT_EQ(reason(token, kSecret, kIat - kMaxTokenClockSkewS), "accepted");
  EXPECT_EQ(reason(token, kSecret, kIat - kMaxTokenClockSkewS - 1), "issued in the future");
  EXPECT_EQ(reason(token, kSecret, 0), "issued in the future");
  EXPECT_EQ(reason(token, kSecret, std::numeric_limits<int64_t>::min()), "issued in the future");
}

TEST(DeviceTokenTest, LifetimeOutOfRange) {
  auto with_exp = [](int64_t exp) {
    json p = good_payload();
    p["exp"] = exp;
    return sign_payload(p);
  };
  EXPECT_EQ(reason(with_exp(kIat + kMaxTokenLifetimeS)), "accepted");
  EXPECT_EQ(reason(with_exp(kIat + kMaxTokenLifetimeS + 1)), "lifetime out of range");
  EXPECT_EQ(reason(with_exp(kIat + 10LL * 365 * 24 * 3600)), "lifetime out of range");
  EXPECT_EQ(reason(with_exp(std::numeric_limits<int64_t>::max())), "lifetime out of range");
  EXPECT_EQ(reason(with_exp(kIat)), "lifetime out of range");
  EXPECT_EQ(reason(with_exp(kIat - 1)), "lifetime out of range");
  EXPECT_EQ(reason(with_exp(kIat + 1), kSecret, kIat), "accepted");
}

TEST(DeviceTokenTest, LibjwtGateIsLive) {
  // The last check hands the token to libjwt. A correctly signed token only libjwt refuses: a NUL
  // escape in a claim we ignore, which jansson (libjwt's JSON parser) does not allow.
  json p = good_payload();
  p["note"] = std::string("a\0b", 3);
  EXPECT_EQ(reason(sign_payload(p)), "rejected by libjwt");
}

TEST(DeviceTokenTest, NullErrorPointerIsFine) {
  EXPECT_FALSE(verify_device_token("x", kSecret, kNow, nullptr).has_value());
  EXPECT_FALSE(verify_device_token("", "", kNow, nullptr).has_value());
  EXPECT_TRUE(verify_device_token(sign_payload(good_payload()), kSecret, kNow, nullptr));
}

}  // namespace
}  // namespace c8y::identity
