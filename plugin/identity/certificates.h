// X.509 device certificates checked against the CA certificates a tenant uploads (Cumulocity's
// /tenant/tenants/{tenant}/trusted-certificates), plus the CRL a tenant may upload per CA.
//
// The TLS listener runs with `require_certificate true`, so OpenSSL has already seen a chain
// when CONNECT arrives; the plugin then repeats the checks that bind the certificate to a tenant:
//
//   leaf = mosquitto_client_certificate(client)            // caller owns and frees it
//   info = inspect_leaf(leaf)                              // CN, AKI, issuer, serial
//   ca   = the tenant CA whose subject_key_id == info.authority_key_id
//          (when the leaf has no AKI: whose subject_hash == info.issuer_hash)
//   verify_leaf(leaf, ca, now)                             // issuer, signature, dates
//   !is_revoked(crl of ca, info.serial_number)
//   match_device_cn(info.common_name, serial from the client id)
//
// Only the direct issuer is checked: a tenant whose devices are issued by an intermediate CA
// uploads that intermediate (its own issuer need not be known here).
//
// Formats shared by every struct below:
//   hex           lowercase, no separators
//   serial        lowercase hex of the magnitude without leading zeros ("0" for zero; "-" prefix
//                 for the negative serials RFC 5280 forbids but OpenSSL parses), i.e. what Java's
//                 BigInteger.toString(16) prints
//   names         RFC 2253 text, most specific RDN first ("CN=x,O=y,C=DE"), non-ASCII as UTF-8
//   times         seconds since the Unix epoch, UTC
//
// Nothing here throws (but std::bad_alloc); failures return nullopt/false and describe the cause in
// `*error` (which may be null). Every function leaves the thread's OpenSSL error queue as it found
// it, so a failed parse here cannot surface later as a spurious TLS error in the broker.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/common/status.h"

namespace c8y::identity {

// Upload size limit for one certificate or one CRL (the text as received). A CRL of a large
// fleet can exceed it; such a tenant must split its CAs.
inline constexpr size_t kMaxPemBytes = 64 * 1024;

// What Cumulocity reports for a trusted certificate, plus the two keys used to find it again.
struct CaInfo {
  std::string pem;          // normalized: one armoured block, 64-column base64, final newline
  std::string fingerprint;  // SHA-1 of the DER, hex
  std::string subject;
  std::string issuer;
  std::string serial_number;
  std::string not_before;  // ISO 8601 "YYYY-MM-DDTHH:MM:SS.000Z"
  std::string not_after;
  int64_t not_before_s = 0;
  int64_t not_after_s = 0;
  int version = 3;  // always 3: other versions are refused
  // Java's name as Cumulocity shows it ("SHA256withECDSA", "SHA256withRSA", "RSASSA-PSS",
  // "Ed25519"); for a pairing Java has no name for, OpenSSL's long name ("ecdsa-with-SHA256"),
  // or the dotted OID when OpenSSL does not know the algorithm either.
  std::string algorithm_name;
  // The subjectKeyIdentifier extension, hex; when absent, SHA-1 of the subjectPublicKey bit
  // string (RFC 5280 method 1, what OpenSSL's "hash" writes), which is what a leaf's AKI holds.
  std::string subject_key_id;
  unsigned long subject_hash = 0;  // X509_subject_name_hash: the capath file name
};

// Parses an uploaded CA certificate: exactly one certificate, either armoured PEM or the bare
// base64 body (Cumulocity clients often drop the BEGIN/END lines); whitespace around and inside
// the base64 is ignored, nothing else is. Refused: empty or > kMaxPemBytes input, other PEM
// types, text around the block, several certificates, broken base64 or DER, trailing bytes,
// versions other than v3, no basicConstraints CA:TRUE, a keyUsage without keyCertSign, invalid
// extensions and unknown critical extensions (the TLS handshake would refuse the last three).
// Expiry is not checked here: an expired CA is reported by its dates and by verify_leaf.
std::optional<CaInfo> parse_ca_certificate(std::string_view pem, std::string* error);

// A parsed CA kept for verification at every CONNECT. Immutable after load (OpenSSL's caches
// are filled during load), so const use from several threads is safe. Move-only.
class TrustedCa {
 public:
  // Same input and checks as parse_ca_certificate().
  static std::optional<TrustedCa> load(std::string_view pem, std::string* error);

  const CaInfo& info() const { return info_; }
  // Borrowed; valid as long as this object.
  X509* certificate() const { return cert_.get(); }

 private:
  struct Free {
    void operator()(X509* x) const;
  };
  TrustedCa(X509* cert, CaInfo info) : cert_(cert), info_(std::move(info)) {}

  std::unique_ptr<X509, Free> cert_;
  CaInfo info_;
};

struct CrlInfo {
  std::string pem;  // normalized "-----BEGIN X509 CRL-----" block
  std::string issuer;
  int64_t this_update_s = 0;
  std::optional<int64_t> next_update_s;  // absent in the CRL; the caller decides about staleness
  std::vector<std::string> revoked_serials;  // serial format, sorted, unique
};

// Parses a CRL (armoured PEM or the bare base64 of its DER, same rules as for certificates) and
// refuses it unless it is issued by `ca` (issuer name) and signed with `ca`'s key. Delta CRLs
// are refused: read as complete lists they would un-revoke everything not repeated in them.
std::optional<CrlInfo> parse_crl(std::string_view pem, const TrustedCa& ca, std::string* error);

// True when `serial_hex` (any case, leading zeros allowed) is listed in `crl`.
bool is_revoked(const CrlInfo& crl, std::string_view serial_hex);

struct LeafInfo {
  std::string common_name;       // UTF-8; may contain ':' - see match_device_cn
  std::string authority_key_id;  // hex; empty when the leaf has no AKI key identifier
  std::string issuer;
  unsigned long issuer_hash = 0;  // X509_issuer_name_hash; equals the issuer's subject_hash
  std::string serial_number;
  std::string fingerprint;  // SHA-1 of the DER, hex
  int64_t not_before_s = 0;
  int64_t not_after_s = 0;
};

// Reads what authentication needs from the client's certificate; does not verify anything and
// does not take ownership of `leaf`. Refused: no CN, several CNs, an empty CN, a CN with a NUL
// or not convertible to UTF-8, invalid extensions. A ':' in the CN is NOT refused here (the CN
// is returned so it can be logged); match_device_cn refuses it.
std::optional<LeafInfo> inspect_leaf(X509* leaf, std::string* error);

// OK when `leaf` was issued by `ca` (kInvalid with the reason otherwise): the leaf's issuer name
// equals the CA's subject (X509_NAME_cmp, as OpenSSL compares), the leaf's AKI key id equals the
// CA's subjectKeyIdentifier extension (compared only when both are present, as OpenSSL does), the
// leaf's signature verifies with the CA's public key, and `now_s` lies within the validity of both
// the leaf and the CA (bounds inclusive). Revocation is separate: is_revoked().
common::Status verify_leaf(X509* leaf, const TrustedCa& ca, int64_t now_s);

// OK when the certificate's CN names the device `serial` (the serial of the MQTT client id):
// byte-equal, and without ':' (the client-id separator, so such a CN could never be a serial
// and may only appear through a misissued certificate; refused with its own message).
common::Status match_device_cn(std::string_view common_name, std::string_view serial);

// "<8 hex digits>.<n>", the name OpenSSL's capath lookup expects: "0a1b2c3d.0".
std::string trust_file_name(unsigned long subject_hash, int n);

// Stores `ca` in the capath directory `dir` (which must exist) under the first name
// <subject_hash>.N that is free, or returns the name that already holds this certificate
// (compared by DER, so a copy written by another tool counts), making it idempotent. Names are
// dense because OpenSSL stops looking at the first missing N; whoever removes a file must
// renumber. The file appears atomically (temp file, fsync, no-replace rename, directory fsync).
// Returns the path written or found.
std::optional<std::string> install_trust_file(const std::string& dir, const TrustedCa& ca,
                                              std::string* error);

}  // namespace c8y::identity
