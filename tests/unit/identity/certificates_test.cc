#include "plugin/identity/certificates.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/identity/test_pki.h"

namespace c8y::identity {
namespace {

namespace pki = c8y::testing::pki;

// verify_leaf and match_device_cn as the assertions below read them: true when OK, the reason of
// a refusal (always kInvalid) in `error`.
bool verify_leaf(X509* leaf, const TrustedCa& ca, int64_t now_s, std::string* error) {
  auto st = identity::verify_leaf(leaf, ca, now_s);
  EXPECT_TRUE(st.ok() || st.invalid()) << st.message;
  if (error && !st.ok()) *error = st.message;
  return st.ok();
}
bool match_device_cn(std::string_view common_name, std::string_view serial, std::string* error) {
  auto st = identity::match_device_cn(common_name, serial);
  EXPECT_TRUE(st.ok() || st.invalid()) << st.message;
  if (error && !st.ok()) *error = st.message;
  return st.ok();
}

::testing::AssertionResult Contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

constexpr int64_t kNotBefore = 1700000000;  // 2023-11-14T22:13:20Z
constexpr int64_t kNotAfter = 2000000000;   // 2033-05-18T03:33:20Z
constexpr int64_t kDuring = 1800000000;

pki::CertSpec fixed_ca_spec(std::string cn = "Test CA") {
  pki::CertSpec s = pki::ca_spec(std::move(cn));
  s.not_before = kNotBefore;
  s.not_after = kNotAfter;
  return s;
}

pki::CertSpec fixed_leaf_spec(std::string cn = "device-0001") {
  pki::CertSpec s = pki::leaf_spec(std::move(cn));
  s.not_before = kNotBefore + 100;
  s.not_after = kNotAfter - 100;
  return s;
}

std::string base64(const std::vector<unsigned char>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::set<std::string> list_dir(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/c8y_cert_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Parses `pem` expecting a refusal; returns the message.
std::string refusal(std::string_view pem) {
  std::string error;
  auto info = parse_ca_certificate(pem, &error);
  EXPECT_FALSE(info) << "accepted";
  EXPECT_FALSE(error.empty());
  return error;
}

TrustedCa load(const pki::Identity& ca) {
  std::string error;
  auto trusted = TrustedCa::load(pki::to_pem(ca.cert.get()), &error);
  EXPECT_TRUE(trusted) << error;
  if (!trusted) std::abort();
  return std::move(*trusted);
}

// --- parse_ca_certificate ---

TEST(ParseCaCertificate, ReportsEveryField) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.serial_hex = "0A1B2C3D4E5F60";
  pki::Identity ca = pki::make_root(spec);
  const std::string pem = pki::to_pem(ca.cert.get());

  std::string error;
  auto info = parse_ca_certificate(pem, &error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->pem, pem);
  EXPECT_EQ(info->fingerprint, pki::x509_digest_sha1(ca.cert.get()));
  EXPECT_EQ(info->fingerprint.size(), 40u);
  // Also by hashing the DER directly.
  const std::vector<unsigned char> der = pki::to_der(ca.cert.get());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ASSERT_EQ(EVP_Digest(der.data(), der.size(), md, &md_len, EVP_sha1(), nullptr), 1);
  EXPECT_EQ(info->fingerprint, pki::hex(md, md_len));
  EXPECT_EQ(info->subject, "CN=Test CA,O=Acme Devices,C=DE");
  EXPECT_EQ(info->issuer, "CN=Test CA,O=Acme Devices,C=DE");
  EXPECT_EQ(info->serial_number, "a1b2c3d4e5f60");
  EXPECT_EQ(info->not_before, "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(info->not_after, "2033-05-18T03:33:20.000Z");
  EXPECT_EQ(info->not_before_s, kNotBefore);
  EXPECT_EQ(info->not_after_s, kNotAfter);
  EXPECT_EQ(info->version, 3);
  EXPECT_EQ(info->algorithm_name, "SHA256withECDSA");
  EXPECT_EQ(info->subject_key_id, pki::public_key_bits_sha1(ca.cert.get()));
  EXPECT_EQ(info->subject_hash, X509_subject_name_hash(ca.cert.get()));
}

TEST(ParseCaCertificate, SubjectKeyIdComesFromTheExtensionWhenPresent) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.ski_bytes = {0xde, 0xad, 0xbe, 0xef, 0x01};
  pki::Identity ca = pki::make_root(spec);
  auto info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->subject_key_id, "deadbeef01");
}

TEST(ParseCaCertificate, SubjectKeyIdIsComputedWhenTheExtensionIsAbsent) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.subject_key_id = false;
  pki::Identity ca = pki::make_root(spec);
  ASSERT_EQ(X509_get_ext_by_NID(ca.cert.get(), NID_subject_key_identifier, -1), -1);
  auto info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->subject_key_id, pki::public_key_bits_sha1(ca.cert.get()));
}

TEST(ParseCaCertificate, SubjectWithUtf8AndSpecialCharacters) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.subject = {{"C", "DE"}, {"O", "M\xC3\xBCller, Inc."}, {"CN", "CA+1"}};
  pki::Identity ca = pki::make_root(spec);
  auto info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->subject, "CN=CA\\+1,O=M\xC3\xBCller\\, Inc.,C=DE");
}

TEST(ParseCaCertificate, GeneralizedTimeFarFuture) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.not_after = 253402300799;  // RFC 5280's "no well-defined expiration date"
  pki::Identity ca = pki::make_root(spec);
  auto info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->not_after, "9999-12-31T23:59:59.000Z");
  EXPECT_EQ(info->not_after_s, 253402300799);
}

TEST(ParseCaCertificate, SerialFormat) {
  for (const auto& [given, expected] : std::vector<std::pair<std::string, std::string>>{
           {"01", "1"},
           {"FF", "ff"},
           {"00FF", "ff"},
           {"7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "7fffffffffffffffffffffffffffffff"}}) {
    pki::CertSpec spec = fixed_ca_spec();
    spec.serial_hex = given;
    pki::Identity ca = pki::make_root(spec);
    auto info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
    ASSERT_TRUE(info) << given;
    EXPECT_EQ(info->serial_number, expected) << given;
  }
}

TEST(ParseCaCertificate, AlgorithmNamesUseJavaNames) {
  {
    pki::CertSpec spec = fixed_ca_spec();
    spec.digest = EVP_sha384();
    pki::Identity ca = pki::make_root(spec);
    auto info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->algorithm_name, "SHA384withECDSA");
  }
  {
    pki::KeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    ASSERT_TRUE(rsa);
    pki::Identity ca = pki::make_root(fixed_ca_spec(), std::move(rsa));
    auto info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->algorithm_name, "SHA256withRSA");
  }
  {
    pki::CertSpec spec = fixed_ca_spec();
    spec.digest = nullptr;  // EdDSA signs the message itself
    pki::Identity ca = pki::make_root(spec, pki::make_key("ED25519"));
    auto info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->algorithm_name, "Ed25519");
  }
}

TEST(ParseCaCertificate, AcceptsTheBase64BodyWithoutArmour) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  const std::string pem = pki::to_pem(ca.cert.get());
  const std::string body = pki::pem_body(pem);
  std::string one_line;
  for (char c : body) {
    if (c != '\n') one_line += c;
  }
  std::string crlf;
  for (char c : body) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  for (const std::string& input :
       {body, one_line, "  \r\n" + crlf + "\r\n\t ", base64(pki::to_der(ca.cert.get()))}) {
    std::string error;
    auto info = parse_ca_certificate(input, &error);
    ASSERT_TRUE(info) << error << "\n" << input;
    EXPECT_EQ(info->pem, pem) << "normalized with armour";
    EXPECT_EQ(info->fingerprint, pki::x509_digest_sha1(ca.cert.get()));
  }
}

TEST(ParseCaCertificate, AcceptsWhitespaceAroundAndCrlfInsideArmouredPem) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  const std::string pem = pki::to_pem(ca.cert.get());
  std::string crlf;
  for (char c : pem) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  for (const std::string& input : {"\n\n  " + pem + "\n\n", crlf, pem.substr(0, pem.size() - 1)}) {
    std::string error;
    auto info = parse_ca_certificate(input, &error);
    ASSERT_TRUE(info) << error;
    EXPECT_EQ(info->pem, pem);
  }
}

TEST(ParseCaCertificate, RefusesEmptyInput) {
  EXPECT_TRUE(Contains(refusal(""), "empty"));
  EXPECT_TRUE(Contains(refusal(" \r\n\t "), "empty"));
}

TEST(ParseCaCertificate, RefusesGarbage) {
  EXPECT_TRUE(Contains(refusal("hello world"), "not an X.509 certificate"));
  EXPECT_TRUE(Contains(refusal("this is not a certificate!"), "invalid base64"));
  EXPECT_TRUE(Contains(refusal("AAAA"), "not an X.509 certificate"));
  EXPECT_TRUE(Contains(refusal(std::string("\x00\x01\x02", 3)), "invalid base64"));
  EXPECT_TRUE(Contains(refusal("-----END CERTIFICATE-----"), "malformed PEM"));
  EXPECT_TRUE(Contains(refusal("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"),
                       "invalid base64"));
  EXPECT_TRUE(Contains(refusal("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----"),
                       "invalid base64"));
}

TEST(ParseCaCertificate, RefusesTruncatedPem) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  const std::string pem = pki::to_pem(ca.cert.get());
  // Cut in the middle: the END line is gone.
  EXPECT_TRUE(Contains(refusal(pem.substr(0, pem.size() / 2)), "truncated PEM"));
  // Armour intact, body short by some lines.
  const size_t second_line = pem.find('\n') + 1;
  const size_t cut_to = pem.find('\n', pem.find('\n', second_line) + 1) + 1;
  const std::string short_body = pem.substr(0, second_line) + pem.substr(cut_to);
  EXPECT_TRUE(Contains(refusal(short_body), "DER decoding failed"));
  // Body without armour cut short.
  const std::string body = pki::pem_body(pem);
  EXPECT_TRUE(Contains(refusal(body.substr(0, body.size() - 10)), "not an X.509 certificate"));
}

TEST(ParseCaCertificate, RefusesTwoCertificates) {
  pki::Identity a = pki::make_root(fixed_ca_spec("CA A"));
  pki::Identity b = pki::make_root(fixed_ca_spec("CA B"));
  const std::string pa = pki::to_pem(a.cert.get());
  const std::string pb = pki::to_pem(b.cert.get());
  EXPECT_TRUE(Contains(refusal(pa + pb), "2 certificates"));
  EXPECT_TRUE(Contains(refusal(pa + pa + pb), "3 certificates"));
  // Two DER structures in one base64 body.
  std::vector<unsigned char> both = pki::to_der(a.cert.get());
  const std::vector<unsigned char> db = pki::to_der(b.cert.get());
  both.insert(both.end(), db.begin(), db.end());
  EXPECT_TRUE(Contains(refusal(base64(both)), "more than one certificate"));
}

TEST(ParseCaCertificate, RefusesOtherPemBlocksAndSurroundingText) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  const std::string pem = pki::to_pem(ca.cert.get());
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, ca.key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  const std::string key_pem = pki::bio_text(bio);

  EXPECT_TRUE(Contains(refusal(key_pem), "is not a certificate"));
  EXPECT_TRUE(Contains(refusal(pem + key_pem), "2 PEM blocks"));
  EXPECT_TRUE(Contains(refusal("subject=CN = Test CA\n" + pem), "unexpected text before"));
  EXPECT_TRUE(Contains(refusal(pem + "trailer\n"), "unexpected text after"));
  std::string request = pem;
  request.replace(request.find("BEGIN CERTIFICATE"), 17, "BEGIN CERTIFICATE REQUEST");
  request.replace(request.find("END CERTIFICATE"), 15, "END CERTIFICATE REQUEST");
  EXPECT_TRUE(Contains(refusal(request), "is not a certificate"));
}

TEST(ParseCaCertificate, RefusesBytesAfterTheDer) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  std::vector<unsigned char> der = pki::to_der(ca.cert.get());
  der.push_back(0);
  der.push_back(0);
  EXPECT_TRUE(Contains(refusal(base64(der)), "unexpected data after the certificate"));
}

TEST(ParseCaCertificate, RefusesVersion1) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.version = 1;
  spec.ca.reset();
  spec.key_usage.clear();
  spec.subject_key_id = false;
  spec.aki = pki::Aki::kNone;
  pki::Identity ca = pki::make_root(spec);
  ASSERT_EQ(X509_get_version(ca.cert.get()), X509_VERSION_1);
  const std::string error = refusal(pki::to_pem(ca.cert.get()));
  EXPECT_TRUE(Contains(error, "v3"));
  EXPECT_TRUE(Contains(error, "version 1"));
}

TEST(ParseCaCertificate, RefusesNonCaCertificates) {
  pki::CertSpec no_bc = fixed_ca_spec();
  no_bc.ca.reset();
  EXPECT_TRUE(
      Contains(refusal(pki::to_pem(pki::make_root(no_bc).cert.get())), "no basicConstraints"));

  pki::CertSpec ca_false = fixed_ca_spec();
  ca_false.ca = false;
  EXPECT_TRUE(Contains(refusal(pki::to_pem(pki::make_root(ca_false).cert.get())), "CA:FALSE"));

  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), ca);
  EXPECT_TRUE(Contains(refusal(pki::to_pem(leaf.cert.get())), "not a CA certificate"));
}

TEST(ParseCaCertificate, RefusesCaWhoseKeyUsageForbidsCertificateSigning) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.key_usage = "critical,digitalSignature,cRLSign";
  EXPECT_TRUE(Contains(refusal(pki::to_pem(pki::make_root(spec).cert.get())), "keyCertSign"));
  // No keyUsage at all is fine (RFC 5280 leaves all uses open then).
  spec.key_usage.clear();
  EXPECT_TRUE(parse_ca_certificate(pki::to_pem(pki::make_root(spec).cert.get()), nullptr));
}

TEST(ParseCaCertificate, RefusesUnknownCriticalExtension) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.unknown_critical_extension = true;
  EXPECT_TRUE(
      Contains(refusal(pki::to_pem(pki::make_root(spec).cert.get())), "critical extension"));
}

TEST(ParseCaCertificate, RefusesDuplicateExtensions) {
  pki::CertSpec spec = fixed_ca_spec();
  spec.duplicate_basic_constraints = true;
  EXPECT_TRUE(Contains(refusal(pki::to_pem(pki::make_root(spec).cert.get())),
                       "invalid or duplicate extensions"));
}

TEST(ParseCaCertificate, SizeLimit) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  const std::string pem = pki::to_pem(ca.cert.get());
  std::string at_limit = pem + std::string(kMaxPemBytes - pem.size(), '\n');
  ASSERT_EQ(at_limit.size(), kMaxPemBytes);
  EXPECT_TRUE(parse_ca_certificate(at_limit, nullptr));
  EXPECT_TRUE(Contains(refusal(at_limit + "\n"), "larger than 65536 bytes"));
}

TEST(ParseCaCertificate, NullErrorPointerIsAllowed) {
  EXPECT_FALSE(parse_ca_certificate("garbage", nullptr));
}

TEST(ParseCaCertificate, LeavesTheOpenSslErrorQueueAsItWas) {
  ERR_clear_error();
  EXPECT_FALSE(parse_ca_certificate("hello world", nullptr));
  EXPECT_FALSE(parse_ca_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                                    nullptr));
  EXPECT_EQ(ERR_peek_error(), 0ul);
  // An error that was there before stays.
  ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE);
  const unsigned long before = ERR_peek_last_error();
  EXPECT_FALSE(parse_ca_certificate("hello world", nullptr));
  EXPECT_EQ(ERR_peek_last_error(), before);
  ERR_clear_error();
}

// --- TrustedCa ---

TEST(TrustedCa, HoldsTheCertificateAndItsInfo) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  const std::string pem = pki::to_pem(ca.cert.get());
  std::string error;
  auto trusted = TrustedCa::load(pem, &error);
  ASSERT_TRUE(trusted) << error;
  ASSERT_NE(trusted->certificate(), nullptr);
  EXPECT_EQ(X509_cmp(trusted->certificate(), ca.cert.get()), 0);
  auto info = parse_ca_certificate(pem, nullptr);
  ASSERT_TRUE(info);
  EXPECT_EQ(trusted->info().fingerprint, info->fingerprint);
  EXPECT_EQ(trusted->info().pem, info->pem);
  EXPECT_EQ(trusted->info().subject_key_id, info->subject_key_id);

  // Move-only, and usable after moving into a container.
  std::vector<TrustedCa> cas;
  cas.push_back(std::move(*trusted));
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), ca);
  EXPECT_TRUE(verify_leaf(leaf.cert.get(), cas.front(), kDuring, &error)) << error;
}

TEST(TrustedCa, RefusesWhatParseRefuses) {
  std::string error;
  EXPECT_FALSE(TrustedCa::load("garbage", &error));
  EXPECT_TRUE(Contains(error, "not an X.509 certificate"));
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), ca);
  EXPECT_FALSE(TrustedCa::load(pki::to_pem(leaf.cert.get()), &error));
  EXPECT_TRUE(Contains(error, "CA:FALSE"));
}

// --- inspect_leaf ---

TEST(InspectLeaf, ReportsEveryField) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::CertSpec spec = fixed_leaf_spec("device-0001");
  spec.serial_hex = "00C0FFEE";
  pki::Identity leaf = pki::make_issued(spec, ca);
  auto ca_info = parse_ca_certificate(pki::to_pem(ca.cert.get()), nullptr);
  ASSERT_TRUE(ca_info);

  std::string error;
  auto info = inspect_leaf(leaf.cert.get(), &error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->common_name, "device-0001");
  EXPECT_EQ(info->authority_key_id, ca_info->subject_key_id);
  EXPECT_EQ(info->issuer, "CN=Test CA,O=Acme Devices,C=DE");
  EXPECT_EQ(info->issuer, ca_info->subject);
  EXPECT_EQ(info->issuer_hash, ca_info->subject_hash);
  EXPECT_EQ(info->serial_number, "c0ffee");
  EXPECT_EQ(info->fingerprint, pki::x509_digest_sha1(leaf.cert.get()));
  EXPECT_EQ(info->not_before_s, kNotBefore + 100);
  EXPECT_EQ(info->not_after_s, kNotAfter - 100);
}

TEST(InspectLeaf, AuthorityKeyIdIsEmptyWhenAbsent) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::CertSpec spec = fixed_leaf_spec();
  spec.aki = pki::Aki::kNone;
  pki::Identity leaf = pki::make_issued(spec, ca);
  auto info = inspect_leaf(leaf.cert.get(), nullptr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->authority_key_id, "");
  EXPECT_EQ(info->issuer_hash, X509_subject_name_hash(ca.cert.get()));
}

TEST(InspectLeaf, RefusesMissingOrRepeatedCn) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  std::string error;

  pki::CertSpec none = fixed_leaf_spec();
  none.subject = {{"O", "Acme Devices"}, {"serialNumber", "device-0001"}};
  EXPECT_FALSE(inspect_leaf(pki::make_issued(none, ca).cert.get(), &error));
  EXPECT_TRUE(Contains(error, "no CN"));

  pki::CertSpec two = fixed_leaf_spec();
  two.subject = {{"CN", "device-0001"}, {"O", "Acme Devices"}, {"CN", "device-0002"}};
  EXPECT_FALSE(inspect_leaf(pki::make_issued(two, ca).cert.get(), &error));
  EXPECT_TRUE(Contains(error, "more than one CN"));

  pki::CertSpec empty = fixed_leaf_spec("");
  EXPECT_FALSE(inspect_leaf(pki::make_issued(empty, ca).cert.get(), &error));
  EXPECT_TRUE(Contains(error, "CN is empty"));
}

TEST(InspectLeaf, RefusesCnWithNul) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(std::string("device\0evil", 11)), ca);
  std::string error;
  EXPECT_FALSE(inspect_leaf(leaf.cert.get(), &error));
  EXPECT_TRUE(Contains(error, "NUL"));
}

TEST(InspectLeaf, ReturnsCnWithColonForTheCallerToRefuse) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec("d:device-0001"), ca);
  std::string error;
  auto info = inspect_leaf(leaf.cert.get(), &error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->common_name, "d:device-0001");
  EXPECT_FALSE(match_device_cn(info->common_name, "device-0001", &error));
  EXPECT_TRUE(Contains(error, "contains ':'"));
  // Even when the caller's "serial" carries the very same text.
  EXPECT_FALSE(match_device_cn(info->common_name, "d:device-0001", &error));
  EXPECT_TRUE(Contains(error, "contains ':'"));
}

TEST(InspectLeaf, Utf8Cn) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec("ger\xC3\xA4t-1"), ca);
  auto info = inspect_leaf(leaf.cert.get(), nullptr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->common_name, "ger\xC3\xA4t-1");
}

TEST(InspectLeaf, RefusesNull) {
  std::string error;
  EXPECT_FALSE(inspect_leaf(nullptr, &error));
  EXPECT_TRUE(Contains(error, "no client certificate"));
}

TEST(InspectLeaf, DoesNotTakeOwnership) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), ca);
  ASSERT_TRUE(inspect_leaf(leaf.cert.get(), nullptr));
  ASSERT_TRUE(inspect_leaf(leaf.cert.get(), nullptr));
  // leaf.cert is freed once by its owner at scope exit (ASan would flag a double free).
}

// --- match_device_cn ---

TEST(MatchDeviceCn, ExactMatchOnly) {
  std::string error;
  EXPECT_TRUE(match_device_cn("device-0001", "device-0001", &error)) << error;
  EXPECT_FALSE(match_device_cn("device-0001", "device-0002", &error));
  EXPECT_TRUE(Contains(error, "does not match the device serial"));
  EXPECT_FALSE(match_device_cn("device-0001", "device-000", nullptr));
  EXPECT_FALSE(match_device_cn("device-000", "device-0001", nullptr));
  EXPECT_FALSE(match_device_cn("Device-0001", "device-0001", nullptr));
  EXPECT_FALSE(match_device_cn("", "", &error));
  EXPECT_TRUE(Contains(error, "empty"));
}

TEST(MatchDeviceCn, MessagesQuoteTheCnPrintably) {
  std::string error;
  EXPECT_FALSE(match_device_cn("evil\nINFO forged", "device", &error));
  EXPECT_EQ(error.find('\n'), std::string::npos);
  EXPECT_TRUE(Contains(error, "evil\\x0aINFO forged"));
}

// --- verify_leaf ---

TEST(VerifyLeaf, AcceptsALeafOfTheCa) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), ca);
  TrustedCa trusted = load(ca);
  std::string error;
  EXPECT_TRUE(verify_leaf(leaf.cert.get(), trusted, kDuring, &error)) << error;
  // Also without an AKI in the leaf.
  pki::CertSpec spec = fixed_leaf_spec();
  spec.aki = pki::Aki::kNone;
  pki::Identity no_aki = pki::make_issued(spec, ca);
  EXPECT_TRUE(verify_leaf(no_aki.cert.get(), trusted, kDuring, &error)) << error;
}

TEST(VerifyLeaf, RefusesALeafOfAnotherCa) {
  pki::Identity ca = pki::make_root(fixed_ca_spec("CA A"));
  pki::Identity other = pki::make_root(fixed_ca_spec("CA B"));
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), other);
  std::string error;
  EXPECT_FALSE(verify_leaf(leaf.cert.get(), load(ca), kDuring, &error));
  EXPECT_TRUE(Contains(error, "is not the CA"));
  EXPECT_TRUE(Contains(error, "CN=CA B"));
}

TEST(VerifyLeaf, RefusesALeafOfASameNamedCaWithAnotherKey) {
  pki::Identity genuine = pki::make_root(fixed_ca_spec());
  pki::Identity impostor = pki::make_root(fixed_ca_spec());
  ASSERT_EQ(X509_NAME_cmp(X509_get_subject_name(genuine.cert.get()),
                          X509_get_subject_name(impostor.cert.get())),
            0);
  TrustedCa trusted = load(genuine);
  std::string error;

  // The impostor's own key id: caught by the identifier comparison.
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), impostor);
  EXPECT_FALSE(verify_leaf(leaf.cert.get(), trusted, kDuring, &error));
  EXPECT_TRUE(Contains(error, "authority key identifier"));

  // The genuine CA's key id copied into the forged leaf: only the signature check can tell.
  pki::CertSpec copied = fixed_leaf_spec();
  copied.aki = pki::Aki::kExplicit;
  copied.aki_bytes = pki::key_sha1(genuine.cert.get());
  pki::Identity forged = pki::make_issued(copied, impostor);
  auto info = inspect_leaf(forged.cert.get(), nullptr);
  ASSERT_TRUE(info);
  ASSERT_EQ(info->authority_key_id, trusted.info().subject_key_id);
  EXPECT_FALSE(verify_leaf(forged.cert.get(), trusted, kDuring, &error));
  EXPECT_TRUE(Contains(error, "signature does not verify"));

  // No AKI at all: likewise.
  pki::CertSpec bare = fixed_leaf_spec();
  bare.aki = pki::Aki::kNone;
  pki::Identity unnamed = pki::make_issued(bare, impostor);
  EXPECT_FALSE(verify_leaf(unnamed.cert.get(), trusted, kDuring, &error));
  EXPECT_TRUE(Contains(error, "signature does not verify"));
}

TEST(VerifyLeaf, RefusesATamperedLeaf) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec("device-0001"), ca);
  TrustedCa trusted = load(ca);
  // Another CN with the original signature, edited in the DER as a forger would.
  std::vector<unsigned char> der = pki::to_der(leaf.cert.get());
  const std::string original = "device-0001";
  auto at = std::search(der.begin(), der.end(), original.begin(), original.end());
  ASSERT_NE(at, der.end());
  std::copy_n("device-9999", original.size(), at);
  const unsigned char* p = der.data();
  pki::CertPtr tampered(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(tampered);
  auto info = inspect_leaf(tampered.get(), nullptr);
  ASSERT_TRUE(info);
  ASSERT_EQ(info->common_name, "device-9999");
  std::string error;
  EXPECT_FALSE(verify_leaf(tampered.get(), trusted, kDuring, &error));
  EXPECT_TRUE(Contains(error, "signature does not verify"));
}

TEST(VerifyLeaf, ValidityBoundsAreInclusive) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::CertSpec spec = fixed_leaf_spec();
  pki::Identity leaf = pki::make_issued(spec, ca);
  TrustedCa trusted = load(ca);
  std::string error;
  EXPECT_TRUE(verify_leaf(leaf.cert.get(), trusted, spec.not_before, &error)) << error;
  EXPECT_TRUE(verify_leaf(leaf.cert.get(), trusted, spec.not_after, &error)) << error;

  EXPECT_FALSE(verify_leaf(leaf.cert.get(), trusted, spec.not_before - 1, &error));
  EXPECT_TRUE(Contains(error, "not yet valid"));
  EXPECT_TRUE(Contains(error, "2023-11-14T22:15:00.000Z"));

  EXPECT_FALSE(verify_leaf(leaf.cert.get(), trusted, spec.not_after + 1, &error));
  EXPECT_TRUE(Contains(error, "has expired"));
  EXPECT_TRUE(Contains(error, "2033-05-18T03:31:40.000Z"));
}

TEST(VerifyLeaf, RefusesExpiredAndNotYetValidLeavesAtTheRealTime) {
  pki::Identity ca = pki::make_root(pki::ca_spec());
  TrustedCa trusted = load(ca);
  const int64_t now = pki::now_s();
  std::string error;

  pki::CertSpec expired = pki::leaf_spec();
  expired.not_before = now - 2 * 86400;
  expired.not_after = now - 86400;
  EXPECT_FALSE(verify_leaf(pki::make_issued(expired, ca).cert.get(), trusted, now, &error));
  EXPECT_TRUE(Contains(error, "certificate has expired"));

  pki::CertSpec future = pki::leaf_spec();
  future.not_before = now + 86400;
  future.not_after = now + 2 * 86400;
  EXPECT_FALSE(verify_leaf(pki::make_issued(future, ca).cert.get(), trusted, now, &error));
  EXPECT_TRUE(Contains(error, "certificate is not yet valid"));

  EXPECT_TRUE(verify_leaf(pki::make_issued(pki::leaf_spec(), ca).cert.get(), trusted, now, &error))
      << error;
}

TEST(VerifyLeaf, RefusesWhenTheCaIsOutsideItsValidity) {
  pki::CertSpec ca_spec = fixed_ca_spec();
  ca_spec.not_after = kDuring;
  pki::Identity ca = pki::make_root(ca_spec);
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), ca);  // outlives its CA
  TrustedCa trusted = load(ca);
  std::string error;
  EXPECT_TRUE(verify_leaf(leaf.cert.get(), trusted, kDuring, &error)) << error;
  EXPECT_FALSE(verify_leaf(leaf.cert.get(), trusted, kDuring + 1, &error));
  EXPECT_TRUE(Contains(error, "CA certificate has expired"));

  pki::CertSpec late = fixed_ca_spec();
  late.not_before = kDuring;
  pki::Identity late_ca = pki::make_root(late);
  pki::Identity late_leaf = pki::make_issued(fixed_leaf_spec(), late_ca);
  EXPECT_FALSE(verify_leaf(late_leaf.cert.get(), load(late_ca), kDuring - 1, &error));
  EXPECT_TRUE(Contains(error, "CA certificate is not yet valid"));
}

TEST(VerifyLeaf, OnlyTheDirectIssuerCounts) {
  pki::Identity root = pki::make_root(fixed_ca_spec("Root CA"));
  pki::CertSpec mid_spec = fixed_ca_spec("Issuing CA");
  mid_spec.serial_hex = "02";
  pki::Identity mid = pki::make_issued(mid_spec, root);
  pki::Identity leaf = pki::make_issued(fixed_leaf_spec(), mid);

  std::string error;
  auto mid_info = parse_ca_certificate(pki::to_pem(mid.cert.get()), &error);
  ASSERT_TRUE(mid_info) << error;
  EXPECT_EQ(mid_info->subject, "CN=Issuing CA,O=Acme Devices,C=DE");
  EXPECT_EQ(mid_info->issuer, "CN=Root CA,O=Acme Devices,C=DE");

  EXPECT_TRUE(verify_leaf(leaf.cert.get(), load(mid), kDuring, &error)) << error;
  EXPECT_FALSE(verify_leaf(leaf.cert.get(), load(root), kDuring, &error));
  EXPECT_TRUE(Contains(error, "is not the CA"));
}

TEST(VerifyLeaf, RefusesNull) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  std::string error;
  EXPECT_FALSE(verify_leaf(nullptr, load(ca), kDuring, &error));
  EXPECT_TRUE(Contains(error, "no client certificate"));
}

TEST(VerifyLeaf, LeavesTheOpenSslErrorQueueEmpty) {
  pki::Identity genuine = pki::make_root(fixed_ca_spec());
  pki::Identity impostor = pki::make_root(fixed_ca_spec());
  pki::CertSpec bare = fixed_leaf_spec();
  bare.aki = pki::Aki::kNone;
  pki::Identity leaf = pki::make_issued(bare, impostor);
  TrustedCa trusted = load(genuine);
  ERR_clear_error();
  EXPECT_FALSE(verify_leaf(leaf.cert.get(), trusted, kDuring, nullptr));
  EXPECT_EQ(ERR_peek_error(), 0ul);
}

// --- parse_crl / is_revoked ---

TEST(ParseCrl, ListsTheRevokedSerials) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  TrustedCa trusted = load(ca);
  pki::CrlSpec spec;
  spec.revoked_hex = {"1000", "0ABC", "00C0FFEE"};
  spec.this_update = kDuring;
  spec.next_update = kDuring + 86400;
  pki::CrlPtr crl = pki::make_crl(spec, ca.cert.get(), ca.key.get());
  const std::string pem = pki::to_pem(crl.get());

  std::string error;
  auto info = parse_crl(pem, trusted, &error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->pem, pem);
  EXPECT_EQ(info->issuer, "CN=Test CA,O=Acme Devices,C=DE");
  EXPECT_EQ(info->this_update_s, kDuring);
  EXPECT_EQ(info->next_update_s, kDuring + 86400);
  EXPECT_EQ(info->revoked_serials, (std::vector<std::string>{"1000", "abc", "c0ffee"}));

  EXPECT_TRUE(is_revoked(*info, "1000"));
  EXPECT_TRUE(is_revoked(*info, "abc"));
  EXPECT_TRUE(is_revoked(*info, "ABC"));
  EXPECT_TRUE(is_revoked(*info, "000abc"));
  EXPECT_TRUE(is_revoked(*info, "C0FFEE"));
  EXPECT_FALSE(is_revoked(*info, "1001"));
  EXPECT_FALSE(is_revoked(*info, "100"));
  EXPECT_FALSE(is_revoked(*info, ""));
  EXPECT_FALSE(is_revoked(*info, "xyz"));
  EXPECT_FALSE(is_revoked(*info, "-1000"));
}

TEST(ParseCrl, RevokedLeafIsFoundThroughItsInspectedSerial) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::CertSpec revoked_spec = fixed_leaf_spec("device-0001");
  revoked_spec.serial_hex = "00A1";
  pki::CertSpec good_spec = fixed_leaf_spec("device-0002");
  good_spec.serial_hex = "A2";
  pki::Identity revoked = pki::make_issued(revoked_spec, ca);
  pki::Identity good = pki::make_issued(good_spec, ca);
  pki::CrlSpec spec;
  spec.revoked_hex = {"A1"};
  auto crl = parse_crl(pki::to_pem(pki::make_crl(spec, ca.cert.get(), ca.key.get()).get()),
                       load(ca), nullptr);
  ASSERT_TRUE(crl);
  auto revoked_info = inspect_leaf(revoked.cert.get(), nullptr);
  auto good_info = inspect_leaf(good.cert.get(), nullptr);
  ASSERT_TRUE(revoked_info && good_info);
  EXPECT_TRUE(is_revoked(*crl, revoked_info->serial_number));
  EXPECT_FALSE(is_revoked(*crl, good_info->serial_number));
}

TEST(ParseCrl, EmptyCrlWithoutNextUpdate) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::CrlSpec spec;
  spec.next_update.reset();
  auto info = parse_crl(pki::to_pem(pki::make_crl(spec, ca.cert.get(), ca.key.get()).get()),
                        load(ca), nullptr);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->revoked_serials.empty());
  EXPECT_FALSE(info->next_update_s.has_value());
  EXPECT_FALSE(is_revoked(*info, "1"));
}

TEST(ParseCrl, AcceptsTheBase64BodyWithoutArmour) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::CrlSpec spec;
  spec.revoked_hex = {"42"};
  const std::string pem = pki::to_pem(pki::make_crl(spec, ca.cert.get(), ca.key.get()).get());
  std::string error;
  auto info = parse_crl(pki::pem_body(pem), load(ca), &error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->pem, pem);
  EXPECT_TRUE(is_revoked(*info, "42"));
}

TEST(ParseCrl, RefusesACrlSignedWithAnotherKey) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::KeyPtr other = pki::make_key();
  pki::CrlSpec spec;
  spec.revoked_hex = {"1000"};
  std::string error;
  EXPECT_FALSE(parse_crl(pki::to_pem(pki::make_crl(spec, ca.cert.get(), other.get()).get()),
                         load(ca), &error));
  EXPECT_TRUE(Contains(error, "signature does not verify"));
}

TEST(ParseCrl, RefusesACrlOfAnotherCa) {
  pki::Identity ca = pki::make_root(fixed_ca_spec("CA A"));
  pki::Identity other = pki::make_root(fixed_ca_spec("CA B"));
  std::string error;
  EXPECT_FALSE(parse_crl(pki::to_pem(pki::make_crl({}, other.cert.get(), other.key.get()).get()),
                         load(ca), &error));
  EXPECT_TRUE(Contains(error, "CRL issuer CN=CA B"));
}

TEST(ParseCrl, RefusesDeltaCrls) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  pki::CrlSpec spec;
  spec.delta = true;
  std::string error;
  EXPECT_FALSE(parse_crl(pki::to_pem(pki::make_crl(spec, ca.cert.get(), ca.key.get()).get()),
                         load(ca), &error));
  EXPECT_TRUE(Contains(error, "delta CRL"));
}

TEST(ParseCrl, RefusesMalformedInput) {
  pki::Identity ca = pki::make_root(fixed_ca_spec());
  TrustedCa trusted = load(ca);
  const std::string crl = pki::to_pem(pki::make_crl({}, ca.cert.get(), ca.key.get()).get());
  std::string error;
  EXPECT_FALSE(parse_crl("", trusted, &error));
  EXPECT_TRUE(Contains(error, "CRL is empty"));
  EXPECT_FALSE(parse_crl("hello world", trusted, &error));
  EXPECT_TRUE(Contains(error, "not an X.509 CRL"));
  EXPECT_FALSE(parse_crl(crl + crl, trusted, &error));
  EXPECT_TRUE(Contains(error, "2 CRLs"));
  EXPECT_FALSE(parse_crl(crl.substr(0, crl.size() / 2), trusted, &error));
  EXPECT_TRUE(Contains(error, "truncated PEM"));
  EXPECT_FALSE(parse_crl(pki::to_pem(ca.cert.get()), trusted, &error));
  EXPECT_TRUE(Contains(error, "is not a CRL"));
  // A certificate's base64 without armour is not a CRL either.
  EXPECT_FALSE(parse_crl(pki::pem_body(pki::to_pem(ca.cert.get())), trusted, &error));
  EXPECT_TRUE(Contains(error, "not an X.509 CRL"));
  EXPECT_FALSE(parse_crl(crl + std::string(kMaxPemBytes, ' '), trusted, &error));
  EXPECT_TRUE(Contains(error, "larger than 65536 bytes"));
}

// --- trust files ---

TEST(TrustFileName, EightHexDigitsDotN) {
  EXPECT_EQ(trust_file_name(0x0a1b2c3d, 0), "0a1b2c3d.0");
  EXPECT_EQ(trust_file_name(0xffffffff, 12), "ffffffff.12");
  EXPECT_EQ(trust_file_name(0, 1), "00000000.1");
}

TEST(InstallTrustFile, WritesIdempotentlyAndNumbersSameHashCas) {
  TempDir dir;
  pki::Identity a = pki::make_root(fixed_ca_spec());
  pki::Identity b = pki::make_root(fixed_ca_spec());  // same subject, other key
  TrustedCa ta = load(a);
  TrustedCa tb = load(b);
  ASSERT_EQ(ta.info().subject_hash, tb.info().subject_hash);
  ASSERT_NE(ta.info().fingerprint, tb.info().fingerprint);
  const std::string base = dir.path() + "/" + trust_file_name(ta.info().subject_hash, 0);
  const std::string name0 = trust_file_name(ta.info().subject_hash, 0);
  const std::string name1 = trust_file_name(ta.info().subject_hash, 1);

  std::string error;
  auto pa = install_trust_file(dir.path(), ta, &error);
  ASSERT_TRUE(pa) << error;
  EXPECT_EQ(*pa, dir.path() + "/" + name0);
  EXPECT_EQ(read_file(*pa), ta.info().pem);
  struct stat st {};
  ASSERT_EQ(::stat(pa->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  auto again = install_trust_file(dir.path(), ta, &error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(*again, *pa);

  auto pb = install_trust_file(dir.path(), tb, &error);
  ASSERT_TRUE(pb) << error;
  EXPECT_EQ(*pb, dir.path() + "/" + name1);
  EXPECT_EQ(read_file(*pb), tb.info().pem);

  EXPECT_EQ(install_trust_file(dir.path(), ta, nullptr), *pa);
  EXPECT_EQ(install_trust_file(dir.path(), tb, nullptr), *pb);
  EXPECT_EQ(list_dir(dir.path()), (std::set<std::string>{name0, name1})) << "no temp files left";
  EXPECT_EQ(read_file(*pa), ta.info().pem);
}

TEST(InstallTrustFile, RecognizesTheSameCertificateWrittenByAnotherTool) {
  TempDir dir;
  pki::Identity a = pki::make_root(fixed_ca_spec());
  TrustedCa ta = load(a);
  const std::string path = dir.path() + "/" + trust_file_name(ta.info().subject_hash, 0);
  std::string crlf = "subject=C = DE, O = Acme Devices, CN = Test CA\r\n";
  for (char c : ta.info().pem) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  write_file(path, crlf);
  std::string error;
  auto p = install_trust_file(dir.path(), ta, &error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(*p, path);
  EXPECT_EQ(read_file(path), crlf) << "left untouched";
}

TEST(InstallTrustFile, SkipsNamesHoldingSomethingElse) {
  TempDir dir;
  pki::Identity a = pki::make_root(fixed_ca_spec());
  TrustedCa ta = load(a);
  const std::string name0 = trust_file_name(ta.info().subject_hash, 0);
  write_file(dir.path() + "/" + name0, "not a certificate\n");
  std::string error;
  auto p = install_trust_file(dir.path(), ta, &error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(*p, dir.path() + "/" + trust_file_name(ta.info().subject_hash, 1));
  EXPECT_EQ(read_file(dir.path() + "/" + name0), "not a certificate\n");
}

TEST(InstallTrustFile, FailsForAMissingDirectory) {
  TempDir dir;
  pki::Identity a = pki::make_root(fixed_ca_spec());
  std::string error;
  EXPECT_FALSE(install_trust_file(dir.path() + "/missing", load(a), &error));
  EXPECT_TRUE(Contains(error, "missing"));
  EXPECT_FALSE(install_trust_file("", load(a), &error));
}

TEST(InstallTrustFile, OpenSslFindsTheInstalledCaThroughCapath) {
  TempDir dir;
  pki::Identity a = pki::make_root(pki::ca_spec());
  pki::Identity b = pki::make_root(pki::ca_spec());  // same name: installed as .1
  pki::Identity leaf = pki::make_issued(pki::leaf_spec(), b);
  ASSERT_TRUE(install_trust_file(dir.path(), load(a), nullptr));
  ASSERT_TRUE(install_trust_file(dir.path(), load(b), nullptr));

  X509_STORE* store = X509_STORE_new();
  ASSERT_EQ(X509_STORE_load_path(store, dir.path().c_str()), 1);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  ASSERT_EQ(X509_STORE_CTX_init(ctx, store, leaf.cert.get(), nullptr), 1);
  EXPECT_EQ(X509_verify_cert(ctx), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
}

// --- the CONNECT flow as the authenticator runs it ---

TEST(ConnectFlow, FindsTheCaByKeyIdOrIssuerAndChecksEverything) {
  pki::Identity ca1 = pki::make_root(pki::ca_spec("Fleet CA"));
  pki::Identity ca2 = pki::make_root(pki::ca_spec("Fleet CA"));  // rollover: same name
  std::vector<TrustedCa> cas;
  cas.push_back(load(ca1));
  cas.push_back(load(ca2));
  std::map<std::string, size_t> by_key_id;
  std::multimap<unsigned long, size_t> by_subject_hash;
  for (size_t i = 0; i < cas.size(); ++i) {
    by_key_id[cas[i].info().subject_key_id] = i;
    by_subject_hash.emplace(cas[i].info().subject_hash, i);
  }
  pki::CrlSpec crl_spec;
  crl_spec.revoked_hex = {"666"};
  auto crl2 = parse_crl(pki::to_pem(pki::make_crl(crl_spec, ca2.cert.get(), ca2.key.get()).get()),
                        cas[1], nullptr);
  ASSERT_TRUE(crl2);

  auto authenticate = [&](X509* leaf, std::string_view serial, std::string* error) {
    auto info = inspect_leaf(leaf, error);
    if (!info) return false;
    std::vector<size_t> candidates;
    if (!info->authority_key_id.empty()) {
      if (auto it = by_key_id.find(info->authority_key_id); it != by_key_id.end()) {
        candidates.push_back(it->second);
      }
    } else {
      auto [lo, hi] = by_subject_hash.equal_range(info->issuer_hash);
      for (auto it = lo; it != hi; ++it) candidates.push_back(it->second);
    }
    for (size_t i : candidates) {
      if (!verify_leaf(leaf, cas[i], pki::now_s(), error)) continue;
      if (i == 1 && is_revoked(*crl2, info->serial_number)) {
        *error = "revoked";
        return false;
      }
      return match_device_cn(info->common_name, serial, error);
    }
    if (candidates.empty()) *error = "no CA";
    return false;
  };

  std::string error;
  pki::Identity d1 = pki::make_issued(pki::leaf_spec("dev-1"), ca1);
  EXPECT_TRUE(authenticate(d1.cert.get(), "dev-1", &error)) << error;
  EXPECT_FALSE(authenticate(d1.cert.get(), "dev-2", &error));

  pki::CertSpec no_aki = pki::leaf_spec("dev-2");
  no_aki.aki = pki::Aki::kNone;
  pki::Identity d2 = pki::make_issued(no_aki, ca2);
  EXPECT_TRUE(authenticate(d2.cert.get(), "dev-2", &error)) << error;

  pki::CertSpec revoked = pki::leaf_spec("dev-3");
  revoked.serial_hex = "0666";
  pki::Identity d3 = pki::make_issued(revoked, ca2);
  EXPECT_FALSE(authenticate(d3.cert.get(), "dev-3", &error));
  EXPECT_EQ(error, "revoked");

  pki::Identity stranger_ca = pki::make_root(pki::ca_spec("Fleet CA"));
  pki::Identity d4 = pki::make_issued(pki::leaf_spec("dev-4"), stranger_ca);
  EXPECT_FALSE(authenticate(d4.cert.get(), "dev-4", &error));
  EXPECT_EQ(error, "no CA");
  no_aki.subject = {{"CN", "dev-5"}};
  pki::Identity d5 = pki::make_issued(no_aki, stranger_ca);
  EXPECT_FALSE(authenticate(d5.cert.get(), "dev-5", &error));
  EXPECT_TRUE(Contains(error, "signature does not verify"));
}

}  // namespace
}  // namespace c8y::identity
