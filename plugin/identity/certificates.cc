#include "plugin/identity/certificates.h"

#include "plugin/common/base64.h"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>  // renameat2 (glibc, _GNU_SOURCE)
#include <cstring>
#include <ctime>

namespace c8y::identity {
namespace {

using Bytes = std::vector<unsigned char>;

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

// OpenSSL reports failures on a per-thread queue as well as by return value. Mosquitto inspects
// that queue after TLS reads and writes, so anything left behind by a failed parse here could
// later be taken for a TLS error on an unrelated connection. Each entry point removes exactly the
// entries it added, leaving older ones (not ours to drop) in place.
class ErrorMark {
 public:
  ErrorMark() { ERR_set_mark(); }
  ~ErrorMark() { ERR_pop_to_mark(); }
  ErrorMark(const ErrorMark&) = delete;
  ErrorMark& operator=(const ErrorMark&) = delete;
};

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

std::string hex(const unsigned char* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

std::string hex(const ASN1_STRING* s) {
  return hex(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s)));
}

// Certificate fields quoted in error messages are attacker-chosen; keep them to one printable
// line so they cannot forge log entries.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c != 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// Lowercase hex of the magnitude without leading zeros, "-" for negative values. OpenSSL keeps
// INTEGERs as big-endian magnitude plus a sign in the type, so no bignum is needed.
std::string serial_text(const ASN1_INTEGER* serial) {
  std::string digits = hex(serial);
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return "0";
  digits.erase(0, first);
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) digits.insert(0, "-");
  return digits;
}

// The same form for a caller's text; nullopt unless it is hex (with an optional '-').
std::optional<std::string> canonical_serial(std::string_view s) {
  bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    if (out.empty() && c == '0') continue;
    out += c;
  }
  if (out.empty()) return "0";
  if (negative) out.insert(0, "-");
  return out;
}

std::optional<int64_t> seconds_of(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{tm.tm_year + 1900},
                                        std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                        std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
  if (!ymd.ok()) return std::nullopt;
  const int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

std::string iso8601(int64_t s) {
  int64_t days = s / 86400;
  int64_t rest = s % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.000Z", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  return buf;
}

std::string name_text(const X509_NAME* name) {
  // RFC 2253 escaping, but UTF-8 left as is (as Java prints it) instead of \XX per byte.
  constexpr unsigned long kFlags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

std::string fingerprint_of(const X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x, EVP_sha1(), md, &len) != 1) return {};
  return hex(md, len);
}

std::string key_id_of(X509* x) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(x);
  if (ski != nullptr && ASN1_STRING_length(ski) > 0) return hex(ski);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(x, EVP_sha1(), md, &len) != 1) return {};
  return hex(md, len);
}

const char* java_digest_name(int nid) {
  switch (nid) {
    case NID_md5:
      return "MD5";
    case NID_sha1:
      return "SHA1";
    case NID_sha224:
      return "SHA224";
    case NID_sha256:
      return "SHA256";
    case NID_sha384:
      return "SHA384";
    case NID_sha512:
      return "SHA512";
    case NID_sha3_224:
      return "SHA3-224";
    case NID_sha3_256:
      return "SHA3-256";
    case NID_sha3_384:
      return "SHA3-384";
    case NID_sha3_512:
      return "SHA3-512";
    default:
      return nullptr;
  }
}

const char* java_key_name(int nid) {
  switch (nid) {
    case NID_rsaEncryption:
      return "RSA";
    case NID_X9_62_id_ecPublicKey:
      return "ECDSA";
    case NID_dsa:
      return "DSA";
    default:
      return nullptr;
  }
}

std::string algorithm_name_of(const X509* x) {
  const int nid = X509_get_signature_nid(x);
  int md = NID_undef;
  int pk = NID_undef;
  if (nid != NID_undef && OBJ_find_sigid_algs(nid, &md, &pk) == 1) {
    const char* md_name = java_digest_name(md);
    const char* pk_name = java_key_name(pk);
    if (md_name != nullptr && pk_name != nullptr) return std::string(md_name) + "with" + pk_name;
  }
  switch (nid) {
    case NID_rsassaPss:
      return "RSASSA-PSS";
    case NID_ED25519:
      return "Ed25519";
    case NID_ED448:
      return "Ed448";
    default:
      break;
  }
  if (nid != NID_undef) {
    if (const char* ln = OBJ_nid2ln(nid)) return ln;
  }
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, x);
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (n <= 0) return "unknown";
  return std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

size_t count_of(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// Standard alphabet. Whitespace anywhere is skipped (PEM wraps lines; pasted bodies carry CRs and
// indentation). Padding may be omitted but, when present, only ends the input. Strictness about
// the rest is left to the DER parser, which rejects anything that is not one exact structure.
std::optional<Bytes> decode_base64(std::string_view s) {
  common::Base64Rules rules;
  rules.padding = common::Base64Rules::Padding::kOptional;
  rules.skip_whitespace = true;
  rules.canonical = false;
  auto d = common::base64_decode(s, rules);
  if (!d) return std::nullopt;
  return Bytes(d->begin(), d->end());
}

struct Kind {
  std::string_view label;  // PEM label
  std::string_view noun;   // for messages
  std::string_view plural;
};
constexpr Kind kCertificate{"CERTIFICATE", "certificate", "certificates"};
constexpr Kind kCrl{"X509 CRL", "CRL", "CRLs"};

// The DER inside `text`: one armoured block of `kind`, or the bare base64 of its body.
std::optional<Bytes> unarmour(std::string_view text, const Kind& kind, std::string& err) {
  const std::string noun(kind.noun);
  if (text.size() > kMaxPemBytes) {
    err = noun + " is larger than " + std::to_string(kMaxPemBytes) + " bytes";
    return std::nullopt;
  }
  std::string_view t = trim(text);
  if (t.empty()) {
    err = noun + " is empty";
    return std::nullopt;
  }
  const std::string begin = "-----BEGIN " + std::string(kind.label) + "-----";
  const std::string end = "-----END " + std::string(kind.label) + "-----";
  std::string_view body = t;
  const size_t blocks = count_of(t, "-----BEGIN ");
  if (blocks == 0) {
    if (t.find("-----") != std::string_view::npos) {
      err = "malformed PEM: " + begin + " line missing";
      return std::nullopt;
    }
  } else {
    if (size_t same = count_of(t, begin); same > 1) {
      err = "input contains " + std::to_string(same) + " " + std::string(kind.plural) +
            "; expected exactly one";
      return std::nullopt;
    }
    if (blocks > 1) {
      err =
          "input contains " + std::to_string(blocks) + " PEM blocks; expected exactly one " + noun;
      return std::nullopt;
    }
    if (!t.starts_with("-----BEGIN ")) {
      err = "unexpected text before the PEM block";
      return std::nullopt;
    }
    if (!t.starts_with(begin)) {
      size_t eol = t.find_first_of("\r\n");
      err = "PEM block " + printable(t.substr(0, std::min<size_t>(eol, 64))) + " is not a " + noun +
            " (expected " + begin + ")";
      return std::nullopt;
    }
    size_t end_pos = t.find(end);
    if (end_pos == std::string_view::npos) {
      err = "truncated PEM: " + end + " line missing";
      return std::nullopt;
    }
    if (end_pos + end.size() != t.size()) {
      err = "unexpected text after " + end;
      return std::nullopt;
    }
    body = t.substr(begin.size(), end_pos - begin.size());
  }
  auto der = decode_base64(body);
  if (!der || der->empty()) {
    err = "not a PEM " + noun + ": invalid base64";
    return std::nullopt;
  }
  return der;
}

std::string pem_of(const X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

std::string pem_of(X509_CRL* crl) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

struct LoadedCa {
  X509Ptr cert;
  CaInfo info;
};

std::optional<LoadedCa> load_ca(std::string_view text, std::string& err) {
  auto der = unarmour(text, kCertificate, err);
  if (!der) return std::nullopt;
  const unsigned char* p = der->data();
  const unsigned char* const end = der->data() + der->size();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der->size())));
  if (!cert) {
    err = "not an X.509 certificate (PEM or base64 DER expected): DER decoding failed";
    return std::nullopt;
  }
  if (p != end) {
    const unsigned char* q = p;
    X509Ptr second(d2i_X509(nullptr, &q, static_cast<long>(end - p)));
    err = second ? "input contains more than one certificate; expected exactly one"
                 : "unexpected data after the certificate";
    return std::nullopt;
  }
  X509* x = cert.get();
  if (long v = X509_get_version(x); v != X509_VERSION_3) {
    err = "not an X.509 v3 certificate (version " + std::to_string(v + 1) + ")";
    return std::nullopt;
  }
  // Caches the extensions as a side effect; after this the object is only read.
  const uint32_t flags = X509_get_extension_flags(x);
  if (flags & EXFLAG_INVALID) {
    err = "certificate has invalid or duplicate extensions";
    return std::nullopt;
  }
  if (!(flags & EXFLAG_BCONS)) {
    err = "not a CA certificate: no basicConstraints extension (CA:TRUE required)";
    return std::nullopt;
  }
  if (!(flags & EXFLAG_CA)) {
    err = "not a CA certificate: basicConstraints has CA:FALSE";
    return std::nullopt;
  }
  // Both are refused by OpenSSL when it builds the chain during the TLS handshake, so such a CA
  // could never admit a device; better to say so at upload.
  if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) & KU_KEY_CERT_SIGN)) {
    err = "not a CA certificate: keyUsage does not include keyCertSign";
    return std::nullopt;
  }
  if (flags & EXFLAG_CRITICAL) {
    err = "certificate has an unsupported critical extension";
    return std::nullopt;
  }
  if (X509_get0_pubkey(x) == nullptr) {
    err = "the certificate's public key cannot be decoded";
    return std::nullopt;
  }
  auto not_before = seconds_of(X509_get0_notBefore(x));
  auto not_after = seconds_of(X509_get0_notAfter(x));
  if (!not_before || !not_after) {
    err = "certificate has invalid validity dates";
    return std::nullopt;
  }
  CaInfo info;
  info.pem = pem_of(x);
  info.fingerprint = fingerprint_of(x);
  info.subject_key_id = key_id_of(x);
  if (info.pem.empty() || info.fingerprint.empty() || info.subject_key_id.empty()) {
    err = "cannot encode or hash the certificate";
    return std::nullopt;
  }
  info.subject = name_text(X509_get_subject_name(x));
  info.issuer = name_text(X509_get_issuer_name(x));
  info.serial_number = serial_text(X509_get0_serialNumber(x));
  info.not_before_s = *not_before;
  info.not_after_s = *not_after;
  info.not_before = iso8601(*not_before);
  info.not_after = iso8601(*not_after);
  info.version = 3;
  info.algorithm_name = algorithm_name_of(x);
  info.subject_hash = X509_subject_name_hash(x);
  return LoadedCa{std::move(cert), std::move(info)};
}

// --- capath files ---

enum class Slot { kFree, kSame, kOther, kError };

// Whether `path` is free, holds `cert` (among possibly several certificates in any PEM framing,
// as OpenSSL would load them), or holds something else.
Slot examine_slot(const std::string& path, X509* cert, std::string& err) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Slot::kFree;
    err = "cannot inspect " + path + ": " + std::strerror(errno);
    return Slot::kError;
  }
  if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return Slot::kOther;
  // A symlink (c_rehash writes those) is followed; a dangling one stays "other".
  BioPtr file(BIO_new_file(path.c_str(), "r"));
  if (!file) return Slot::kOther;
  // Bounded: a stray huge file must not be read whole.
  std::string text(kMaxPemBytes * 4, '\0');
  int n = BIO_read(file.get(), text.data(), static_cast<int>(text.size()));
  if (n <= 0) return Slot::kOther;
  text.resize(static_cast<size_t>(n));
  BioPtr mem(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!mem) return Slot::kOther;
  while (X509Ptr other{PEM_read_bio_X509(mem.get(), nullptr, nullptr, nullptr)}) {
    if (X509_cmp(other.get(), cert) == 0) return Slot::kSame;
  }
  return Slot::kOther;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

enum class Written { kOk, kExists, kError };

// Creates `path` with `content`, never replacing an existing file: concurrent writers racing for
// the same name cannot overwrite each other's certificate.
Written create_file_atomically(const std::string& dir, const std::string& path,
                               std::string_view content, std::string& err) {
  std::string tmp = dir + "/.c8y-ca-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    err = "cannot create a temporary file in " + dir + ": " + std::strerror(errno);
    return Written::kError;
  }
  bool ok = ::fchmod(fd, 0644) == 0 && write_all(fd, content) && ::fsync(fd) == 0;
  int saved = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    err = "cannot write " + tmp + ": " + std::strerror(saved);
    return Written::kError;
  }
  int r = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
    // Filesystem without RENAME_NOREPLACE: link() is the classic atomic no-replace create.
    r = ::link(tmp.c_str(), path.c_str());
    saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
  }
  if (r != 0) {
    saved = errno;
    ::unlink(tmp.c_str());
    if (saved == EEXIST) return Written::kExists;
    err = "cannot create " + path + ": " + std::strerror(saved);
    return Written::kError;
  }
  // The new name is durable only once the directory itself is synced.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    err = "cannot open " + dir + ": " + std::strerror(errno);
    return Written::kError;
  }
  r = ::fsync(dfd);
  saved = errno;
  ::close(dfd);
  if (r != 0 && saved != EINVAL) {
    err = "cannot sync " + dir + ": " + std::strerror(saved);
    return Written::kError;
  }
  return Written::kOk;
}

}  // namespace

void TrustedCa::Free::operator()(X509* x) const {
  X509_free(x);
}

std::optional<CaInfo> parse_ca_certificate(std::string_view pem, std::string* error) {
  ErrorMark mark;
  std::string err;
  auto loaded = load_ca(pem, err);
  if (!loaded) {
    set_error(error, std::move(err));
    return std::nullopt;
  }
  return std::move(loaded->info);
}

std::optional<TrustedCa> TrustedCa::load(std::string_view pem, std::string* error) {
  ErrorMark mark;
  std::string err;
  auto loaded = load_ca(pem, err);
  if (!loaded) {
    set_error(error, std::move(err));
    return std::nullopt;
  }
  return TrustedCa(loaded->cert.release(), std::move(loaded->info));
}

std::optional<CrlInfo> parse_crl(std::string_view pem, const TrustedCa& ca, std::string* error) {
  ErrorMark mark;
  std::string err;
  auto der = unarmour(pem, kCrl, err);
  if (!der) {
    set_error(error, std::move(err));
    return std::nullopt;
  }
  const unsigned char* p = der->data();
  CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der->size())));
  if (!crl) {
    set_error(error, "not an X.509 CRL (PEM or base64 DER expected): DER decoding failed");
    return std::nullopt;
  }
  if (p != der->data() + der->size()) {
    set_error(error, "unexpected data after the CRL");
    return std::nullopt;
  }
  X509* issuer = ca.certificate();
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0) {
    set_error(error, "CRL issuer " + printable(name_text(X509_CRL_get_issuer(crl.get()))) +
                         " is not the CA " + printable(ca.info().subject));
    return std::nullopt;
  }
  if (X509_CRL_get_ext_by_NID(crl.get(), NID_delta_crl, -1) >= 0) {
    set_error(error, "delta CRLs are not supported; upload the complete CRL");
    return std::nullopt;
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_CRL_verify(crl.get(), key) != 1) {
    set_error(error, "CRL signature does not verify with the CA's public key");
    return std::nullopt;
  }
  auto this_update = seconds_of(X509_CRL_get0_lastUpdate(crl.get()));
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
  auto next_update = seconds_of(next);
  if (!this_update || (next != nullptr && !next_update)) {
    set_error(error, "CRL has invalid update times");
    return std::nullopt;
  }
  CrlInfo info;
  info.pem = pem_of(crl.get());
  if (info.pem.empty()) {
    set_error(error, "cannot encode the CRL");
    return std::nullopt;
  }
  info.issuer = name_text(X509_CRL_get_issuer(crl.get()));
  info.this_update_s = *this_update;
  info.next_update_s = next_update;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  const int n = revoked != nullptr ? sk_X509_REVOKED_num(revoked) : 0;
  info.revoked_serials.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(revoked, i);
    info.revoked_serials.push_back(serial_text(X509_REVOKED_get0_serialNumber(r)));
  }
  std::sort(info.revoked_serials.begin(), info.revoked_serials.end());
  info.revoked_serials.erase(std::unique(info.revoked_serials.begin(), info.revoked_serials.end()),
                             info.revoked_serials.end());
  return info;
}

bool is_revoked(const CrlInfo& crl, std::string_view serial_hex) {
  auto serial = canonical_serial(serial_hex);
  return serial &&
         std::binary_search(crl.revoked_serials.begin(), crl.revoked_serials.end(), *serial);
}

std::optional<LeafInfo> inspect_leaf(X509* leaf, std::string* error) {
  ErrorMark mark;
  if (leaf == nullptr) {
    set_error(error, "no client certificate");
    return std::nullopt;
  }
  // Also fills the extension cache that X509_get0_authority_key_id reads; with invalid
  // extensions OpenSSL reports no AKI at all, which would silently change the CA lookup.
  if (X509_get_extension_flags(leaf) & EXFLAG_INVALID) {
    set_error(error, "certificate has invalid or duplicate extensions");
    return std::nullopt;
  }
  const X509_NAME* subject = X509_get_subject_name(leaf);
  const int first = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (first < 0) {
    set_error(error, "certificate subject has no CN");
    return std::nullopt;
  }
  if (X509_NAME_get_index_by_NID(subject, NID_commonName, first) >= 0) {
    set_error(error, "certificate subject has more than one CN");
    return std::nullopt;
  }
  const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, first));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, cn);
  if (len < 0) {
    set_error(error, "certificate CN is not valid text");
    return std::nullopt;
  }
  LeafInfo info;
  info.common_name.assign(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  if (info.common_name.empty()) {
    set_error(error, "certificate CN is empty");
    return std::nullopt;
  }
  // A NUL lets "serial\0anything" pass C-string comparisons elsewhere.
  if (info.common_name.find('\0') != std::string::npos) {
    set_error(error, "certificate CN contains a NUL byte");
    return std::nullopt;
  }
  auto not_before = seconds_of(X509_get0_notBefore(leaf));
  auto not_after = seconds_of(X509_get0_notAfter(leaf));
  if (!not_before || !not_after) {
    set_error(error, "certificate has invalid validity dates");
    return std::nullopt;
  }
  info.fingerprint = fingerprint_of(leaf);
  if (info.fingerprint.empty()) {
    set_error(error, "cannot hash the certificate");
    return std::nullopt;
  }
  if (const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(leaf)) {
    info.authority_key_id = hex(aki);
  }
  info.issuer = name_text(X509_get_issuer_name(leaf));
  info.issuer_hash = X509_issuer_name_hash(leaf);
  info.serial_number = serial_text(X509_get0_serialNumber(leaf));
  info.not_before_s = *not_before;
  info.not_after_s = *not_after;
  return info;
}

common::Status verify_leaf(X509* leaf, const TrustedCa& ca, int64_t now_s) {
  ErrorMark mark;
  if (leaf == nullptr) {
    return common::Status::Invalid("no client certificate");
  }
  X509* issuer = ca.certificate();
  if (X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(issuer)) != 0) {
    return common::Status::Invalid("certificate issuer " +
                                   printable(name_text(X509_get_issuer_name(leaf))) +
                                   " is not the CA " + printable(ca.info().subject));
  }
  // As OpenSSL's X509_check_akid: compared only when both sides carry a key identifier. A
  // mismatch means the lookup picked a same-named CA with another key.
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(leaf);
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(issuer);
  if (aki != nullptr && ski != nullptr && ASN1_OCTET_STRING_cmp(aki, ski) != 0) {
    return common::Status::Invalid("certificate's authority key identifier " + hex(aki) +
                                   " does not match the CA's subject key identifier " + hex(ski));
  }
  // The decisive check: everything above is a name or an identifier anyone can copy.
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_verify(leaf, key) != 1) {
    return common::Status::Invalid(
        "certificate signature does not verify with the CA's public key");
  }
  auto not_before = seconds_of(X509_get0_notBefore(leaf));
  auto not_after = seconds_of(X509_get0_notAfter(leaf));
  if (!not_before || !not_after) {
    return common::Status::Invalid("certificate has invalid validity dates");
  }
  if (now_s < *not_before) {
    return common::Status::Invalid("certificate is not yet valid (notBefore " +
                                   iso8601(*not_before) + ")");
  }
  if (now_s > *not_after) {
    return common::Status::Invalid("certificate has expired (notAfter " + iso8601(*not_after) +
                                   ")");
  }
  const CaInfo& info = ca.info();
  if (now_s < info.not_before_s) {
    return common::Status::Invalid("CA certificate is not yet valid (notBefore " + info.not_before +
                                   ")");
  }
  if (now_s > info.not_after_s) {
    return common::Status::Invalid("CA certificate has expired (notAfter " + info.not_after + ")");
  }
  return {};
}

common::Status match_device_cn(std::string_view common_name, std::string_view serial) {
  if (common_name.empty()) {
    return common::Status::Invalid("certificate CN is empty");
  }
  if (common_name.find(':') != std::string_view::npos) {
    return common::Status::Invalid("certificate CN \"" + printable(common_name) +
                                   "\" contains ':', which no device serial may contain");
  }
  if (common_name != serial) {
    return common::Status::Invalid("certificate CN \"" + printable(common_name) +
                                   "\" does not match the device serial \"" + printable(serial) +
                                   "\"");
  }
  return {};
}

std::string trust_file_name(unsigned long subject_hash, int n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%08lx.%d", subject_hash, n);
  return buf;
}

std::optional<std::string> install_trust_file(const std::string& dir, const TrustedCa& ca,
                                              std::string* error) {
  ErrorMark mark;
  if (dir.empty()) {
    set_error(error, "no capath directory given");
    return std::nullopt;
  }
  // Same-subject CAs are rare (key rollover keeps the name); the bound only stops a runaway.
  constexpr int kMaxNames = 1000;
  std::string err;
  int retries = 3;
  for (int n = 0; n < kMaxNames; ++n) {
    const std::string path = dir + "/" + trust_file_name(ca.info().subject_hash, n);
    Slot slot = examine_slot(path, ca.certificate(), err);
    if (slot == Slot::kFree) {
      switch (create_file_atomically(dir, path, ca.info().pem, err)) {
        case Written::kOk:
          return path;
        case Written::kExists:
          // Someone else took the name meanwhile, possibly with this very certificate.
          slot = examine_slot(path, ca.certificate(), err);
          break;
        case Written::kError:
          slot = Slot::kError;
          break;
      }
    }
    if (slot == Slot::kFree && retries-- > 0) {
      --n;  // taken and removed again meanwhile: try the same name, keeping names dense
      continue;
    }
    if (slot == Slot::kSame) return path;
    if (slot == Slot::kError) {
      set_error(error, std::move(err));
      return std::nullopt;
    }
  }
  set_error(error, "no free capath name for " + trust_file_name(ca.info().subject_hash, 0));
  return std::nullopt;
}

}  // namespace c8y::identity
