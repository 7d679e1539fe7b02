// The tenants' trusted CA certificates (REST /tenant/tenants/{t}/trusted-certificates)
// and the certificate check of a CONNECT on the client-certificate listener.
//
// A CA belongs to one tenant; its subject too (no other tenant may upload a CA with the same
// subject, so a device certificate's issuer names one tenant). Records are persisted in the
// system family ("K" <fingerprint>) with the optional CRL.
//
// The trust directory (the listener's `capath`) is kept current for the TLS handshake: an
// enabled CA is installed as <subject hash>.N when it is added or enabled, and at start the
// directory is rebuilt from the enabled CAs. OpenSSL keeps a CA it once loaded, so disabling or
// deleting a CA is enforced here, at CONNECT and by disconnecting its live sessions, not by the
// directory.
//
// Contract: thread-safe (REST threads write, the broker thread checks at CONNECT).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/identity/certificates.h"
#include "storage/store.h"

namespace c8y::identity {

struct TrustedCaRecord {
  std::string tenant;
  std::string name;
  bool enabled = true;
  bool auto_registration = false;
  int64_t created_ms = 0;
  CaInfo info;          // parsed from the PEM (fingerprint, subject, dates, ...)
  std::string crl_pem;  // empty: no CRL
  std::optional<CrlInfo> crl;
};

struct TrustedCaChange {
  // kNotFound, kInvalid (a certificate or CRL refused, with the reason), kConflict (already
  // trusted, or the subject belongs to another tenant), or a storage code.
  common::Status status;
  std::string warning;  // with success: the capath file could not be written (a restart retries)
  std::optional<TrustedCaRecord> value;
};

// What a CONNECT with a client certificate amounts to.
struct CertificateCheck {
  bool ok = false;
  std::string error;  // why not (for the log; the client sees CONNACK 5)
  std::string tenant;
  std::string fingerprint;  // of the issuing CA
  bool auto_registration = false;
  std::string common_name;
  std::string serial_number;  // of the device certificate
};

class TrustedCas {
 public:
  // `trust_dir`: the capath of the certificate listener; empty: no directory is kept.
  TrustedCas(storage::Store& store, std::string trust_dir)
      : store_(store), trust_dir_(std::move(trust_dir)) {}

  // Loads the records and rebuilds the trust directory; problems with single records or files
  // are appended to `warnings` (the broker still starts).
  storage::StoreStatus load(std::vector<std::string>* warnings);

  TrustedCaChange add(std::string_view tenant, std::string_view pem, std::string_view name,
                      bool enabled, bool auto_registration, int64_t now_ms);
  // Any of name, enabled, auto-registration; nullopt leaves it.
  TrustedCaChange update(std::string_view tenant, std::string_view fingerprint,
                         std::optional<std::string> name, std::optional<bool> enabled,
                         std::optional<bool> auto_registration);
  TrustedCaChange remove(std::string_view tenant, std::string_view fingerprint);
  // Replaces the CA's CRL (empty text removes it); the CRL must be signed by the CA.
  TrustedCaChange set_crl(std::string_view tenant, std::string_view fingerprint,
                          std::string_view crl);

  std::optional<TrustedCaRecord> get(std::string_view tenant, std::string_view fingerprint) const;
  std::vector<TrustedCaRecord> list(std::string_view tenant) const;
  void forget_tenant(std::string_view tenant);

  // CONNECT: finds the issuing CA of `leaf` among all tenants' CAs (by authority key id, else by
  // issuer name), verifies the signature and dates, the CA's status and CRL, and that the CN is
  // the client id's serial.
  CertificateCheck check(X509* leaf, std::string_view serial, int64_t now_s) const;
  // A live session authenticated by CA `fingerprint` with certificate `serial_number`: is it
  // still acceptable (CA present and enabled, certificate not revoked)?
  bool still_valid(std::string_view fingerprint, std::string_view serial_number) const;

 private:
  struct Entry {
    TrustedCaRecord record;
    std::shared_ptr<const TrustedCa> ca;
  };
  std::map<std::string, Entry>::const_iterator find_own(std::string_view tenant,
                                                        std::string_view fingerprint) const;
  std::map<std::string, Entry>::iterator find_own(std::string_view tenant,
                                                  std::string_view fingerprint);
  storage::StoreStatus persist(const Entry& e);
  std::string install(const Entry& e);  // "" or a warning
  storage::Store& store_;
  std::string trust_dir_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, Entry> by_fingerprint_;
};

}  // namespace c8y::identity
