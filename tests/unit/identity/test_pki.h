// A throwaway PKI for tests: EC P-256 keys, certificates and CRLs built in memory with the
// OpenSSL 3 API. Every knob a test may need to produce a malformed or hostile certificate is in
// CertSpec; defaults give a valid v3 certificate. Failures inside OpenSSL fail the test (they
// mean the fixture, not the code under test, is broken).
#pragma once

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace c8y::testing::pki {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;

inline int64_t now_s() {
  return static_cast<int64_t>(std::time(nullptr));
}

inline KeyPtr make_key() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  EXPECT_TRUE(key) << "EC key generation failed";
  return key;
}

// How the authorityKeyIdentifier is written.
enum class Aki {
  kIssuerKey,  // SHA-1 of the issuer's public key (what the issuer's SKI holds by default)
  kNone,       // no extension
  kExplicit,   // CertSpec::aki_bytes, e.g. to impersonate another CA's key id
};

struct CertSpec {
  // Subject RDNs in encoding order (most general first); a CN may be repeated or absent.
  std::vector<std::pair<std::string, std::string>> subject = {
      {"C", "DE"}, {"O", "Acme Devices"}, {"CN", "Test CA"}};
  int version = 3;
  std::string serial_hex = "01";
  bool negative_serial = false;
  int64_t not_before = now_s() - 3600;
  int64_t not_after = now_s() + 365 * 86400;
  std::optional<bool> ca;  // basicConstraints, critical; nullopt: no extension
  std::string key_usage;   // e.g. "critical,keyCertSign,cRLSign"; empty: no extension
  bool subject_key_id = true;
  std::vector<unsigned char> ski_bytes;  // when set: this SKI instead of the key hash
  Aki aki = Aki::kIssuerKey;
  std::vector<unsigned char> aki_bytes;
  bool unknown_critical_extension = false;
  bool duplicate_basic_constraints = false;
  const EVP_MD* digest = EVP_sha256();
};

inline CertSpec ca_spec(std::string cn = "Test CA") {
  CertSpec s;
  s.subject = {{"C", "DE"}, {"O", "Acme Devices"}, {"CN", std::move(cn)}};
  s.ca = true;
  s.key_usage = "critical,keyCertSign,cRLSign";
  return s;
}

inline CertSpec leaf_spec(std::string cn = "device-0001") {
  CertSpec s;
  s.subject = {{"O", "Acme Devices"}, {"CN", std::move(cn)}};
  s.serial_hex = "1000";
  s.ca = false;
  s.key_usage = "critical,digitalSignature";
  return s;
}

inline std::vector<unsigned char> key_sha1(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(X509_pubkey_digest(cert, EVP_sha1(), md, &len), 1);
  return {md, md + len};
}

inline void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
  ASSERT_NE(ext, nullptr) << "bad extension " << value;
  EXPECT_EQ(X509_add_ext(cert, ext, -1), 1);
  X509_EXTENSION_free(ext);
}

inline void add_octets_ext(X509* cert, int nid, const std::vector<unsigned char>& bytes) {
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(os, bytes.data(), static_cast<int>(bytes.size()));
  if (nid == NID_authority_key_identifier) {
    AUTHORITY_KEYID* akid = AUTHORITY_KEYID_new();
    akid->keyid = os;
    EXPECT_EQ(X509_add1_ext_i2d(cert, nid, akid, 0, X509V3_ADD_APPEND), 1);
    AUTHORITY_KEYID_free(akid);
  } else {
    EXPECT_EQ(X509_add1_ext_i2d(cert, nid, os, 0, X509V3_ADD_APPEND), 1);
    ASN1_OCTET_STRING_free(os);
  }
}

inline void set_time(ASN1_TIME* t, int64_t s) {
  EXPECT_NE(ASN1_TIME_set(t, static_cast<time_t>(s)), nullptr);
}

inline ASN1_INTEGER* make_integer(const std::string& hex, bool negative) {
  BIGNUM* bn = nullptr;
  EXPECT_GT(BN_hex2bn(&bn, hex.c_str()), 0);
  BN_set_negative(bn, negative ? 1 : 0);
  ASN1_INTEGER* i = BN_to_ASN1_INTEGER(bn, nullptr);
  BN_free(bn);
  return i;
}

// Self-signed when `issuer` is null (then `issuer_key` must be `key`).
inline CertPtr make_cert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new());
  X509* x = cert.get();
  EXPECT_EQ(X509_set_version(x, spec.version - 1), 1);
  ASN1_INTEGER* serial = make_integer(spec.serial_hex, spec.negative_serial);
  EXPECT_EQ(X509_set_serialNumber(x, serial), 1);
  ASN1_INTEGER_free(serial);
  X509_NAME* name = X509_get_subject_name(x);
  for (const auto& [field, value] : spec.subject) {
    // MBSTRING_UTF8 lets OpenSSL pick the string type (PrintableString for C, as CAs do) but
    // enforces length bounds and text rules; V_ASN1_UTF8STRING stores the bytes as given, which
    // an empty CN or one with a NUL needs.
    const bool raw = value.empty() || value.find('\0') != std::string::npos;
    const int type = raw ? V_ASN1_UTF8STRING : MBSTRING_UTF8;
    EXPECT_EQ(X509_NAME_add_entry_by_txt(name, field.c_str(), type,
                                         reinterpret_cast<const unsigned char*>(value.data()),
                                         static_cast<int>(value.size()), -1, 0),
              1);
  }
  EXPECT_EQ(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
  set_time(X509_getm_notBefore(x), spec.not_before);
  set_time(X509_getm_notAfter(x), spec.not_after);
  EXPECT_EQ(X509_set_pubkey(x, key), 1);
  if (spec.ca) {
    add_ext(x, issuer ? issuer : x, NID_basic_constraints,
            *spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    if (spec.duplicate_basic_constraints) {
      add_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
    }
  }
  if (!spec.key_usage.empty()) add_ext(x, issuer ? issuer : x, NID_key_usage, spec.key_usage);
  if (spec.subject_key_id) {
    add_octets_ext(x, NID_subject_key_identifier,
                   spec.ski_bytes.empty() ? key_sha1(x) : spec.ski_bytes);
  }
  switch (spec.aki) {
    case Aki::kIssuerKey:
      // The hash of the issuer's key, which equals its SKI unless CertSpec::ski_bytes was set.
      add_octets_ext(x, NID_authority_key_identifier, key_sha1(issuer ? issuer : x));
      break;
    case Aki::kExplicit:
      add_octets_ext(x, NID_authority_key_identifier, spec.aki_bytes);
      break;
    case Aki::kNone:
      break;
  }
  if (spec.unknown_critical_extension) {
    ASN1_OBJECT* obj = OBJ_txt2obj("1.3.6.1.4.1.55555.1", 1);
    ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
    static const unsigned char kNull[] = {0x05, 0x00};
    ASN1_OCTET_STRING_set(value, kNull, sizeof kNull);
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 1, value);
    EXPECT_NE(ext, nullptr);
    EXPECT_EQ(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(obj);
  }
  EXPECT_GT(X509_sign(x, issuer_key, spec.digest), 0);
  return cert;
}

// A key together with its certificate.
struct Identity {
  KeyPtr key;
  CertPtr cert;
};

// `key_type`/`key_param` as for EVP_PKEY_Q_keygen, e.g. "RSA" with 2048 or "ED25519" (which
// needs CertSpec::digest == nullptr).
inline KeyPtr make_key(const char* key_type) {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, key_type));
  EXPECT_TRUE(key) << key_type << " key generation failed";
  return key;
}

inline Identity make_root(const CertSpec& spec = ca_spec(), KeyPtr key = make_key()) {
  Identity id{std::move(key), nullptr};
  id.cert = make_cert(spec, id.key.get(), nullptr, id.key.get());
  return id;
}

inline Identity make_issued(const CertSpec& spec, const Identity& issuer) {
  Identity id{make_key(), nullptr};
  id.cert = make_cert(spec, id.key.get(), issuer.cert.get(), issuer.key.get());
  return id;
}

struct CrlSpec {
  std::vector<std::string> revoked_hex;
  int64_t this_update = now_s() - 60;
  std::optional<int64_t> next_update = now_s() + 7 * 86400;
  bool delta = false;
};

// Issued in the name of `issuer_cert`, signed with `signing_key` (normally the issuer's).
inline CrlPtr make_crl(const CrlSpec& spec, X509* issuer_cert, EVP_PKEY* signing_key) {
  CrlPtr crl(X509_CRL_new());
  X509_CRL* c = crl.get();
  EXPECT_EQ(X509_CRL_set_version(c, X509_CRL_VERSION_2), 1);
  EXPECT_EQ(X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer_cert)), 1);
  ASN1_TIME* t = ASN1_TIME_new();
  set_time(t, spec.this_update);
  EXPECT_EQ(X509_CRL_set1_lastUpdate(c, t), 1);
  if (spec.next_update) {
    set_time(t, *spec.next_update);
    EXPECT_EQ(X509_CRL_set1_nextUpdate(c, t), 1);
  }
  for (const std::string& hex : spec.revoked_hex) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* serial = make_integer(hex, false);
    EXPECT_EQ(X509_REVOKED_set_serialNumber(r, serial), 1);
    ASN1_INTEGER_free(serial);
    set_time(t, spec.this_update - 10);
    EXPECT_EQ(X509_REVOKED_set_revocationDate(r, t), 1);
    EXPECT_EQ(X509_CRL_add0_revoked(c, r), 1);
  }
  ASN1_TIME_free(t);
  if (spec.delta) {
    ASN1_INTEGER* base = ASN1_INTEGER_new();
    ASN1_INTEGER_set(base, 1);
    EXPECT_EQ(X509_CRL_add1_ext_i2d(c, NID_delta_crl, base, 1, 0), 1);
    ASN1_INTEGER_free(base);
  }
  EXPECT_EQ(X509_CRL_sort(c), 1);
  EXPECT_GT(X509_CRL_sign(c, signing_key, EVP_sha256()), 0);
  return crl;
}

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

inline std::string to_pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_X509(bio, cert), 1);
  return bio_text(bio);
}

inline std::string to_pem(X509_CRL* crl) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_X509_CRL(bio, crl), 1);
  return bio_text(bio);
}

inline std::vector<unsigned char> to_der(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  EXPECT_GT(len, 0);
  std::vector<unsigned char> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// The base64 body of a PEM block without the armour lines, still line-wrapped.
inline std::string pem_body(const std::string& pem) {
  size_t start = pem.find('\n') + 1;
  size_t end = pem.find("-----END");
  return pem.substr(start, end - start);
}

inline std::string hex(const unsigned char* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

inline std::string hex(const std::vector<unsigned char>& v) {
  return hex(v.data(), v.size());
}

// SHA-1 fingerprint as OpenSSL computes it (X509_digest), independent of the code under test.
inline std::string x509_digest_sha1(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(X509_digest(cert, EVP_sha1(), md, &len), 1);
  return hex(md, len);
}

// SHA-1 over the subjectPublicKey BIT STRING contents, done by hand (RFC 5280 method 1).
inline std::string public_key_bits_sha1(X509* cert) {
  const unsigned char* bits = nullptr;
  int len = 0;
  EXPECT_EQ(X509_PUBKEY_get0_param(nullptr, &bits, &len, nullptr, X509_get_X509_PUBKEY(cert)), 1);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EXPECT_EQ(EVP_Digest(bits, static_cast<size_t>(len), md, &md_len, EVP_sha1(), nullptr), 1);
  return hex(md, md_len);
}

}  // namespace c8y::testing::pki
