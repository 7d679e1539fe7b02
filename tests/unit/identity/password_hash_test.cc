#include "plugin/identity/password_hash.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace c8y::identity {
namespace {

// Password file lines written by /usr/bin/mosquitto_passwd (Mosquitto 2.0), with the password
// each was made from.
struct Fixture {
  std::string_view line;
  std::string_view password;
};
constexpr Fixture kMosquittoPasswd[] = {
    {"alice:$7$101$aboYECcyzCaqAn50$eGrTxoJa0k3Cv3Xq/Iw8VN+6L8loAKEEzf1/I/"
     "bvCG1ZlV9HLMODFs7uyrYE185Vin3GzOBtNNrgbYOYkPGVWg==",
     "pw-alice"},
    {"bob:$7$101$qYhsy5tHtgCvG3UD$AF+U+E1iCMRc8QDcwva8/0/kuaRs0lEk2FYZxf+5kftpsTXP0luP4inF+"
     "FUHMJkhftbrl4ecyzeQ1kByu0P0/w==",
     "pw-bob"},
    {"carol:$7$101$evWkdn64AvboJixh$Vvek8a3WyJULFEmQeKLfqTk4HSl9kzitA8kAwr4u7s9LXdaMWlKCMJOsOvwjLG"
     "ABEDDq02ZQ/w0n83QmssjTLQ==",
     "pw-carol"},
    // Non-ASCII (UTF-8), spaces and shell metacharacters.
    {"dave:$7$101$T1l/DgqkH1x3YlgW$4ZlpD1P98/b5OWSqhajThCGpO6G9T3qWOszVBJNXhfwF2kQDGnOd57PVXzq3Hc3n"
     "Gmx/HH6uGfFl4ct+ouwJrA==",
     "p\xC3\xA4ssw\xC3\xB6rd with spaces & $ymbols"},
    // Empty password.
    {"grace:$7$101$jOfOzbhpPEET384T$/luoWaVqmo8vOwVERdoXmAFvVyhh0gusygpOCgtm/4z+ee0WZ//"
     "Svt8IC2/gQKiJ8hJgOl0SJEDl2WrhcHJAlQ==",
     ""},
    // mosquitto_passwd -H sha512 (the pre-2.0 format).
    {"erin:$6$iZwwen/1j2906IaH$kgaZPGVM+m2vgoqnseFUYKvnVKi3vkbirzFMjs6wlrA3Xqfibyyf7MoM/"
     "hyfUWOlIfH2Sqj36O5UGEzJNMfMsA==",
     "pw-erin"},
    {"frank:$6$MZ80jj93GJMyJcjW$ReG8i9UA5kDCdO0bJz7aUABrCNOJux8txwx1H1c15Bi0IOTnTdXMHwOMw1zBsZ4hsY"
     "TPSNF3qLpPFOB9yFPOeQ==",
     ""},
};

std::string_view hash_of(std::string_view line) {
  return line.substr(line.find(':') + 1);
}

// PBKDF2-HMAC-SHA512("password", "salt") known answers (salt of 4 bytes, not 12).
constexpr std::string_view kVector1 =
    "$7$1$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLALUcKKFoFAbrZmb/pQ8CPBQI119aLHaVeY/"
    "c7YKV/zg==";
constexpr std::string_view kVector2 =
    "$7$2$c2FsdA==$4dnBaqaBcIpF9cfE4hXOtm4BGi6fAEBxPxiu/bhm1Tz3bKsoaKObn3hA7c5P71qCvmczXHemBo4EESdU"
    "8nzPTg==";
constexpr std::string_view kVector4096 =
    "$7$4096$c2FsdA==$0Zexsz2wFD4BixLz0dFHnmzevcyXxcD4f2kC4HL0V7UUPzBgJkGz1VzTNZiMs2uEN2Bg7NUy4Dm3Q"
    "qI5Q0ry1Q==";
// The first 32 bytes of the 1-iteration vector: a shorter derived key.
constexpr std::string_view kVector1Short =
    "$7$1$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lI=";

TEST(PasswordHash, MosquittoPasswdFixturesVerify) {
  for (const auto& f : kMosquittoPasswd) {
    SCOPED_TRACE(f.line);
    EXPECT_TRUE(is_valid_password_hash(hash_of(f.line)));
    EXPECT_TRUE(verify_password(hash_of(f.line), f.password));
  }
}

TEST(PasswordHash, MosquittoPasswdFixturesRejectWrongPasswords) {
  for (const auto& f : kMosquittoPasswd) {
    SCOPED_TRACE(f.line);
    const std::string pw(f.password);
    EXPECT_FALSE(verify_password(hash_of(f.line), pw + "x"));
    EXPECT_FALSE(verify_password(hash_of(f.line), "x" + pw));
    if (!pw.empty()) {
      EXPECT_FALSE(verify_password(hash_of(f.line), pw.substr(0, pw.size() - 1)));
      EXPECT_FALSE(verify_password(hash_of(f.line), ""));
      std::string upper = pw;
      upper[0] = static_cast<char>(upper[0] ^ 0x20);
      EXPECT_FALSE(verify_password(hash_of(f.line), upper));
    }
    EXPECT_FALSE(verify_password(hash_of(f.line), std::string_view("pw\0-alice", 9)));
  }
  // Someone else's password.
  EXPECT_FALSE(verify_password(hash_of(kMosquittoPasswd[0].line), "pw-bob"));
}

TEST(PasswordHash, WholeLineIsNotAHash) {
  EXPECT_FALSE(is_valid_password_hash(kMosquittoPasswd[0].line));
  EXPECT_FALSE(verify_password(kMosquittoPasswd[0].line, "pw-alice"));
}

TEST(PasswordHash, KnownAnswerVectorsWithOtherSaltLengthsAndIterations) {
  for (auto v : {kVector1, kVector2, kVector4096, kVector1Short}) {
    SCOPED_TRACE(v);
    EXPECT_TRUE(is_valid_password_hash(v));
    EXPECT_TRUE(verify_password(v, "password"));
    EXPECT_FALSE(verify_password(v, "Password"));
  }
  // Same salt and hash, wrong iteration count.
  std::string wrong_iterations(kVector1);
  wrong_iterations.replace(3, 1, "3");
  EXPECT_TRUE(is_valid_password_hash(wrong_iterations));
  EXPECT_FALSE(verify_password(wrong_iterations, "password"));
}

TEST(PasswordHash, FlippedHashBitDoesNotVerify) {
  std::string h(hash_of(kMosquittoPasswd[0].line));
  h[h.size() - 4] = h[h.size() - 4] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(is_valid_password_hash(h));
  EXPECT_FALSE(verify_password(h, "pw-alice"));
}

TEST(PasswordHash, SaltLengthBounds) {
  // 1-byte salt ("AA==") and 64-byte salt are accepted; 0 and 65 bytes are not.
  const std::string hash64(88 - 2, 'A');
  const std::string h = hash64 + "==";
  EXPECT_TRUE(is_valid_password_hash("$7$101$AA==$" + h));
  EXPECT_TRUE(is_valid_password_hash("$7$101$" + std::string(86, 'A') + "==$" + h));
  EXPECT_FALSE(is_valid_password_hash("$7$101$" + std::string(88, 'A') + "$" + h));  // 66 bytes
  EXPECT_FALSE(is_valid_password_hash("$7$101$$" + h));
  EXPECT_FALSE(is_valid_password_hash("$6$$" + h));
  EXPECT_TRUE(is_valid_password_hash("$6$AA==$" + h));
}

TEST(PasswordHash, HashLengthBounds) {
  const std::string salt = "aboYECcyzCaqAn50";
  EXPECT_TRUE(is_valid_password_hash("$7$101$" + salt + "$" + std::string(24, 'A')));  // 18 bytes
  EXPECT_TRUE(is_valid_password_hash("$7$101$" + salt + "$" + std::string(22, 'A') + "=="));  // 16
  EXPECT_FALSE(is_valid_password_hash("$7$101$" + salt + "$" + std::string(20, 'A')));        // 15
  EXPECT_FALSE(is_valid_password_hash("$7$101$" + salt + "$AAAA"));                           // 3
  EXPECT_FALSE(is_valid_password_hash("$7$101$" + salt + "$" + std::string(88, 'A')));        // 66
  EXPECT_FALSE(is_valid_password_hash("$7$101$" + salt + "$"));
  // $6$ hashes are SHA-512 outputs: exactly 64 bytes.
  EXPECT_FALSE(is_valid_password_hash("$6$" + salt + "$" + std::string(44, 'A')));
}

TEST(PasswordHash, IterationBounds) {
  const std::string tail(kVector1.substr(kVector1.find("$c2")));
  EXPECT_TRUE(is_valid_password_hash("$7$1" + tail));
  EXPECT_TRUE(is_valid_password_hash("$7$10000000" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$0" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$10000001" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$99999999" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$4294967397" + tail));  // 2^32 + 101: no wrap-around
  EXPECT_FALSE(is_valid_password_hash("$7$99999999999999999999" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$-1" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$+101" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$0101" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$ 101" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$101 " + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$1e3" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$0x10" + tail));
  EXPECT_FALSE(is_valid_password_hash("$7$" + tail));
  // A huge iteration count is refused without hashing (this would take minutes otherwise).
  EXPECT_FALSE(verify_password("$7$2000000000" + tail, "password"));
}

TEST(PasswordHash, MalformedStructure) {
  const std::string good(hash_of(kMosquittoPasswd[0].line));
  const std::string salt = "aboYECcyzCaqAn50";
  const std::string hash(good.substr(good.rfind('$') + 1));
  const char* bad[] = {
      "",
      "$",
      "$$",
      "$7",
      "$7$",
      "$7$101",
      "$7$101$",
      "$7$101$aboYECcyzCaqAn50",
      "$7$101$aboYECcyzCaqAn50$",
      "plaintext",
      "pw-alice",
  };
  for (const char* b : bad) {
    SCOPED_TRACE(b);
    EXPECT_FALSE(is_valid_password_hash(b));
    EXPECT_FALSE(verify_password(b, "pw-alice"));
    EXPECT_FALSE(verify_password(b, b));  // a plaintext "hash" is never compared as plaintext
  }
  for (const std::string& b : {
           "7$101$" + salt + "$" + hash,                 // no leading $
           "$7$101$" + salt + "$" + hash + "$",          // trailing field
           "$7$101$" + salt + "$" + hash + "$extra",     // extra field
           "$7$101$" + salt + "$$" + hash,               // empty field
           "$5$101$" + salt + "$" + hash,                // unknown type
           "$77$101$" + salt + "$" + hash,               // unknown type
           "$1$" + salt + "$" + hash,                    // md5-crypt style
           "$6$101$" + salt + "$" + hash,                // $6$ has no iteration field
           "$7$" + salt + "$" + hash,                    // $7$ needs one
           " $7$101$" + salt + "$" + hash,               // leading space
           "$7$101$" + salt + "$" + hash + "\n",         // line ending
           "$7$101$" + salt + "$" + hash + "\r",         // CRLF file
           "$7$101$" + salt + "$" + hash + " ",          // trailing space
           "$7$101$" + salt + "$" + hash + hash + hash,  // absurdly long
       }) {
    SCOPED_TRACE(b);
    EXPECT_FALSE(is_valid_password_hash(b));
    EXPECT_FALSE(verify_password(b, "pw-alice"));
  }
  // Control: the pieces reassembled are fine.
  EXPECT_TRUE(verify_password("$7$101$" + salt + "$" + hash, "pw-alice"));
}

TEST(PasswordHash, BadBase64) {
  const std::string good(hash_of(kMosquittoPasswd[0].line));
  const std::string salt = "aboYECcyzCaqAn50";
  const std::string hash(good.substr(good.rfind('$') + 1));
  ASSERT_EQ(hash.substr(hash.size() - 2), "==");
  for (const std::string& s : {
           std::string("aboYECcyzCaqAn5"),    // length not a multiple of 4
           std::string("aboYECcyzCaqAn5="),   // non-canonical: unused bits set ("5" = 111001)
           std::string("aboYECcyzCaqAn50="),  // padding beyond a full group
           std::string("aboYECcyzCaqAn50===="),
           std::string("aboYECcy zCaqAn50"),   // whitespace
           std::string("aboYECcy\nzCaqAn50"),  // newline
           std::string("aboY-CcyzCaqAn50"),    // URL-safe alphabet
           std::string("aboY_CcyzCaqAn50"),
           std::string("aboY=CcyzCaqAn50"),  // padding in the middle
           std::string("aboYECcyzCaqA=50"),
           std::string("aboYECcyzCa\x80"
                       "An50"),  // high byte
           std::string("aboYECcyzC\0qAn50", 16),
       }) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(is_valid_password_hash("$7$101$" + s + "$" + hash));
    EXPECT_FALSE(is_valid_password_hash("$6$" + s + "$" + hash));
  }
  // Hash field: unpadded, wrong padding, non-canonical trailing bits.
  EXPECT_FALSE(is_valid_password_hash("$7$101$" + salt + "$" + hash.substr(0, hash.size() - 2)));
  EXPECT_FALSE(is_valid_password_hash("$7$101$" + salt + "$" + hash.substr(0, hash.size() - 1)));
  std::string noncanonical = hash;
  noncanonical[noncanonical.size() - 3] = 'h';  // "g" (100000) -> "h" (100001): stray low bits
  ASSERT_EQ(hash[hash.size() - 3], 'g');
  EXPECT_FALSE(is_valid_password_hash("$7$101$" + salt + "$" + noncanonical));
}

TEST(PasswordHash, HashPasswordRoundTrip) {
  for (std::string_view pw : {"secret", "", "p\xC3\xA4ss", "with\0nul"}) {
    const std::string h = hash_password(pw).value();
    SCOPED_TRACE(h);
    EXPECT_TRUE(is_valid_password_hash(h));
    EXPECT_TRUE(verify_password(h, pw));
    EXPECT_FALSE(verify_password(h, std::string(pw) + "!"));
  }
  // The embedded NUL counts (Mosquitto itself would truncate, but we never pass such a password
  // to Mosquitto's check).
  const std::string with_nul = hash_password(std::string_view("ab\0cd", 5)).value();
  EXPECT_TRUE(verify_password(with_nul, std::string_view("ab\0cd", 5)));
  EXPECT_FALSE(verify_password(with_nul, "ab"));
}

TEST(PasswordHash, HashPasswordFormatMatchesMosquittoPasswd) {
  const std::string h = hash_password("secret").value();
  // $7$101$ + 16 chars (12-byte salt) + $ + 88 chars (64-byte hash), like mosquitto_passwd.
  ASSERT_EQ(h.rfind("$7$101$", 0), 0u);
  const size_t salt_end = h.find('$', 7);
  ASSERT_NE(salt_end, std::string::npos);
  EXPECT_EQ(salt_end - 7, 16u);
  EXPECT_EQ(h.size() - salt_end - 1, 88u);
  EXPECT_EQ(h.size(), hash_of(kMosquittoPasswd[0].line).size());
}

TEST(PasswordHash, HashPasswordUsesFreshSalts) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) seen.insert(hash_password("same", 1).value());
  EXPECT_EQ(seen.size(), 20u);
}

TEST(PasswordHash, HashPasswordIterations) {
  EXPECT_EQ(hash_password("x", 1000).value().rfind("$7$1000$", 0), 0u);
  EXPECT_EQ(hash_password("x", 0).value().rfind("$7$1$", 0), 0u);  // clamped
  EXPECT_EQ(hash_password("x", -5).value().rfind("$7$1$", 0), 0u);
  EXPECT_TRUE(verify_password(hash_password("x", 1000).value(), "x"));
}

TEST(PasswordHash, RandomSecret) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string s = random_secret().value();
    EXPECT_EQ(s.size(), 24u);  // 18 bytes, no padding
    for (char c : s) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << s;
    }
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(random_secret(32).value().size(), 43u);
  EXPECT_EQ(random_secret(0).value().size(), 22u);  // never fewer than 128 bits
  EXPECT_EQ(random_secret(8).value().size(), 22u);
}

TEST(PasswordHash, HashSecretIsFastStandardRecord) {
  const std::string secret = random_secret().value();
  const std::string h = hash_secret(secret).value();
  EXPECT_EQ(h.rfind("$7$1$", 0), 0u);
  EXPECT_TRUE(is_valid_password_hash(h));
  EXPECT_TRUE(verify_password(h, secret));
  EXPECT_FALSE(verify_password(h, random_secret().value()));
  EXPECT_NE(hash_secret(secret).value(), h);  // salted
}

}  // namespace
}  // namespace c8y::identity
