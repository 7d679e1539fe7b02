// libFuzzer target for the X.509 checks of device certificates (plugin/identity/certificates.h):
// whatever a tenant uploads as a CA or a CRL, and whatever a client presents as its certificate.
// Properties checked (abort on violation):
//  * nothing crashes, leaks (ASan) or leaves errors on the thread's OpenSSL error queue;
//  * a CA that parses is X.509 v3, has a fingerprint and key id, and parses again from its own
//    normalized PEM to the same fingerprint;
//  * a leaf made from the input never verifies against the fixed test CA (the fuzzer cannot
//    forge an ECDSA signature), and a CRL from the input is accepted only if the CA signed it
//    (never, for the same reason).
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "plugin/identity/certificates.h"

namespace {

using namespace c8y::identity;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "cert_fuzz: %s\n", what);
  std::abort();
}

// A fixed self-signed EC P-256 CA whose private key was thrown away (seeds are signed by another
// CA with the same name, so no seed verifies).
constexpr std::string_view kCa =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBmjCCAT+gAwIBAgIUC5jeBpH3GY2XJkZYTxOvSmOY2MowCgYIKoZIzj0EAwIw\n"
    "GjEYMBYGA1UEAwwPRnV6eiBUZXN0IENBIDAxMB4XDTI2MTEyNjA0NDY1MloXDTM2\n"
    "MTEyMzA0NDY1MlowGjEYMBYGA1UEAwwPRnV6eiBUZXN0IENBIDAxMFkwEwYHKoZI\n"
    "zj0CAQYIKoZIzj0DAQcDQgAE34MxVITf4MtF7ktvnTV/d29SvcFMg1HHPhg7GNhK\n"
    "v17cVCZXm40viT/Pto9oEwWKaqTjljGm2nGeKhjFmJg8q6NjMGEwHQYDVR0OBBYE\n"
    "FCDxR5avvi6XJOpHjnDq0ibyTLzRMB8GA1UdIwQYMBaAFCDxR5avvi6XJOpHjnDq\n"
    "0ibyTLzRMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49\n"
    "BAMCA0kAMEYCIQDZbM1n1N7FQyOzsV5w/sAEdFOcaCDdVCfvmwsVOKJ3DQIhAPr4\n"
    "fnBdYMt9ua2uvpDpdRLphlpHs4aFOy6QiSbfS6XZ\n"
    "-----END CERTIFICATE-----\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ERR_clear_error();
  std::string error;
  if (auto ca = parse_ca_certificate(in, &error)) {
    if (ca->version != 3 || ca->fingerprint.size() != 40 || ca->subject_key_id.empty())
      fail("a parsed CA lacks its fields");
    auto again = parse_ca_certificate(ca->pem, &error);
    if (!again || again->fingerprint != ca->fingerprint) fail("normalized PEM does not round-trip");
  }
  if (ERR_peek_error() != 0) fail("parse_ca_certificate left an OpenSSL error");

  static const auto trusted = [] {
    std::string e;
    auto ca = TrustedCa::load(kCa, &e);
    if (!ca) fail("the fixed CA does not load");
    return std::make_shared<TrustedCa>(std::move(*ca));
  }();

  const unsigned char* p = data;
  if (X509* leaf = d2i_X509(nullptr, &p, static_cast<long>(size))) {
    (void)inspect_leaf(leaf, &error);
    if (trusted && verify_leaf(leaf, *trusted, 1'800'000'000).ok())
      fail("a fuzzed certificate verified against the fixed CA");
    X509_free(leaf);
  }
  ERR_clear_error();  // d2i_X509 is OpenSSL's own, not the module's
  if (trusted) {
    if (parse_crl(in, *trusted, &error)) fail("a fuzzed CRL was accepted as signed by the CA");
    if (ERR_peek_error() != 0) fail("parse_crl left an OpenSSL error");
  }
  return 0;
}
