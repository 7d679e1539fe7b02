#include "plugin/common/base64.h"

#include <gtest/gtest.h>

namespace c8y::common {
namespace {

using Padding = Base64Rules::Padding;

Base64Rules rules(Base64Alphabet a, Padding p, bool ws, bool canonical) {
  Base64Rules r;
  r.alphabet = a;
  r.padding = p;
  r.skip_whitespace = ws;
  r.canonical = canonical;
  return r;
}

TEST(Base64Test, RoundTripsEveryLengthInBothAlphabets) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    for (auto a : {Base64Alphabet::kStandard, Base64Alphabet::kUrl}) {
      for (bool pad : {true, false}) {
        auto text = base64_encode(bytes, a, pad);
        EXPECT_EQ(text.size() % 4 == 0, pad || n % 3 == 0) << n;
        auto back = base64_decode(
            text, rules(a, pad ? Padding::kRequired : Padding::kForbidden, false, true));
        ASSERT_TRUE(back.has_value()) << text;
        EXPECT_EQ(*back, bytes);
      }
    }
    bytes.push_back(static_cast<char>(n * 37 + 250));  // every byte value class, NUL included
  }
}

TEST(Base64Test, KnownVectorsOfRfc4648) {
  const std::pair<const char*, const char*> v[] = {{"", ""},
                                                   {"f", "Zg=="},
                                                   {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},
                                                   {"foob", "Zm9vYg=="},
                                                   {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(base64_encode(plain, Base64Alphabet::kStandard, true), enc);
    EXPECT_EQ(base64_decode(enc, {}).value_or("?"), plain);
  }
}

TEST(Base64Test, AlphabetsDiffer) {
  const std::string bytes("\xfb\xff", 2);
  EXPECT_EQ(base64_encode(bytes, Base64Alphabet::kStandard, false), "+/8");
  EXPECT_EQ(base64_encode(bytes, Base64Alphabet::kUrl, false), "-_8");
  auto url = rules(Base64Alphabet::kUrl, Padding::kForbidden, false, true);
  auto std_opt = rules(Base64Alphabet::kStandard, Padding::kOptional, false, true);
  EXPECT_FALSE(base64_decode("+/8", url));
  EXPECT_FALSE(base64_decode("-_8", std_opt));
  EXPECT_EQ(base64_decode("-_8", url).value_or(""), bytes);
  EXPECT_EQ(base64_decode("+/8", std_opt).value_or(""), bytes);
}

TEST(Base64Test, PaddingRules) {
  auto required = rules(Base64Alphabet::kStandard, Padding::kRequired, false, true);
  auto forbidden = rules(Base64Alphabet::kStandard, Padding::kForbidden, false, true);
  auto optional = rules(Base64Alphabet::kStandard, Padding::kOptional, false, true);
  EXPECT_TRUE(base64_decode("Zg==", required));
  EXPECT_FALSE(base64_decode("Zg", required));
  EXPECT_FALSE(base64_decode("Zg=", required));
  EXPECT_FALSE(base64_decode("Zg===", required));
  EXPECT_FALSE(base64_decode("Zg==", forbidden));
  EXPECT_TRUE(base64_decode("Zg", forbidden));
  EXPECT_TRUE(base64_decode("Zg", optional));
  EXPECT_TRUE(base64_decode("Zg==", optional));
  EXPECT_FALSE(base64_decode("Zg=", optional));       // padding present: it completes the group
  EXPECT_FALSE(base64_decode("Zg==Zg==", optional));  // nothing after the padding
  EXPECT_FALSE(base64_decode("Z=g=", optional));
  for (auto* r : {&required, &forbidden, &optional}) {
    EXPECT_FALSE(base64_decode("Zm9vY", *r));  // one character left over: no encoding has it
    EXPECT_FALSE(base64_decode("Zm9v!", *r));
    EXPECT_FALSE(base64_decode("Zm 9v", *r));  // whitespace only where skipped
  }
}

TEST(Base64Test, WhitespaceSkippedWhereAsked) {
  auto pem = rules(Base64Alphabet::kStandard, Padding::kOptional, true, false);
  EXPECT_EQ(base64_decode(" Zm9v\r\nYmFy\t\f\v", pem).value_or("?"), "foobar");
  EXPECT_EQ(base64_decode("Zm9vYg\n==\n", pem).value_or("?"), "foob");
}

TEST(Base64Test, CanonicalRefusesNonZeroTrailingBits) {
  auto strict = rules(Base64Alphabet::kUrl, Padding::kForbidden, false, true);
  auto lenient = rules(Base64Alphabet::kUrl, Padding::kForbidden, false, false);
  EXPECT_TRUE(base64_decode("Zg", strict));
  EXPECT_FALSE(base64_decode("Zh", strict));  // the same byte, another spelling
  EXPECT_EQ(base64_decode("Zh", lenient).value_or("?"), "f");
  EXPECT_FALSE(base64_decode("Zm9=", {}));
}

}  // namespace
}  // namespace c8y::common
