// libFuzzer target for device-token verification (plugin/identity/device_token.h): the bytes of
// a REST `Authorization: Bearer` header. Properties checked (abort on violation):
//  * nothing crashes or leaks (ASan/UBSan watch libjwt too);
//  * no input is accepted: without the key the fuzzer cannot produce a valid HS256 signature, so
//    acceptance would mean a forged token got through (alg none, algorithm switching, ...);
//  * a real token with one byte changed by the fuzzer input is refused unless it is unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "plugin/identity/device_token.h"

using namespace c8y::identity;

namespace {

const std::string& secret() {
  static const std::string s(kTokenSecretBytes, 'k');
  return s;
}

const std::string& real_token() {
  static const std::string t = [] {
    DeviceTokenClaims c;
    c.tenant = "t1";
    c.user = "device_fuzz";
    c.serial = "fuzz";
    c.issued_at = 1'800'000'000;
    c.expires_at = c.issued_at + 3600;
    c.token_id = "0123456789abcdef0123456789abcdef";
    return issue_device_token(c, secret());
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (verify_device_token(in, secret(), 1'800'000'100, &error)) {
    if (in != real_token()) {
      std::fprintf(stderr, "token_fuzz: a forged token was accepted\n");
      std::abort();
    }
  }
  // Mutate the real token at a position and with a byte taken from the input.
  if (size >= 3 && !real_token().empty()) {
    std::string t = real_token();
    const size_t at = (static_cast<size_t>(data[0]) << 8 | data[1]) % t.size();
    const char was = t[at];
    t[at] = static_cast<char>(data[2]);
    const bool accepted = verify_device_token(t, secret(), 1'800'000'100, &error).has_value();
    if (accepted && t[at] != was) {
      std::fprintf(stderr, "token_fuzz: a modified token was accepted (byte %zu)\n", at);
      std::abort();
    }
  }
  return 0;
}
