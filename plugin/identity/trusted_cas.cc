#include "plugin/identity/trusted_cas.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>

#include "storage/keys.h"

namespace c8y::identity {

using nlohmann::json;

namespace {

bool is_trust_file_name(const std::string& name) {
  static const std::regex re("^[0-9a-f]{8}\\.[0-9]+$");
  return std::regex_match(name, re);
}

}  // namespace

// The tenant's CA with this fingerprint (another tenant's looks absent), or end().
std::map<std::string, TrustedCas::Entry>::const_iterator TrustedCas::find_own(
    std::string_view tenant, std::string_view fingerprint) const {
  auto it = by_fingerprint_.find(std::string(fingerprint));
  return it != by_fingerprint_.end() && it->second.record.tenant == tenant ? it
                                                                           : by_fingerprint_.end();
}

std::map<std::string, TrustedCas::Entry>::iterator TrustedCas::find_own(
    std::string_view tenant, std::string_view fingerprint) {
  auto it = by_fingerprint_.find(std::string(fingerprint));
  return it != by_fingerprint_.end() && it->second.record.tenant == tenant ? it
                                                                           : by_fingerprint_.end();
}

storage::StoreStatus TrustedCas::persist(const Entry& e) {
  const auto& r = e.record;
  json j = {{"tenant", r.tenant},      {"name", r.name},
            {"enabled", r.enabled},    {"autoRegistration", r.auto_registration},
            {"created", r.created_ms}, {"pem", r.info.pem}};
  if (!r.crl_pem.empty()) j["crl"] = r.crl_pem;
  return store_.put(store_.system(), storage::key::trusted_ca(r.info.fingerprint), j.dump(),
                    storage::Store::When::kNow);
}

std::string TrustedCas::install(const Entry& e) {
  if (trust_dir_.empty() || !e.record.enabled) return "";
  std::string error;
  if (!install_trust_file(trust_dir_, *e.ca, &error))
    return "cannot install CA " + e.record.info.fingerprint + " in " + trust_dir_ + ": " + error;
  return "";
}

storage::StoreStatus TrustedCas::load(std::vector<std::string>* warnings) {
  std::unique_lock lock(mutex_);
  auto st = store_.scan(store_.system(), "K", "", false, [&](auto k, auto v) {
    auto j = json::parse(v, nullptr, false);
    if (!j.is_object()) return true;
    std::string error;
    auto ca = TrustedCa::load(j.value("pem", ""), &error);
    if (!ca) {
      warnings->push_back("trusted CA " + std::string(k.substr(1)) + " unreadable: " + error);
      return true;
    }
    Entry e;
    e.record.tenant = j.value("tenant", "");
    e.record.name = j.value("name", "");
    e.record.enabled = j.value("enabled", true);
    e.record.auto_registration = j.value("autoRegistration", false);
    e.record.created_ms = j.value("created", int64_t{0});
    e.record.info = ca->info();
    e.record.crl_pem = j.value("crl", "");
    e.ca = std::make_shared<const TrustedCa>(std::move(*ca));
    if (!e.record.crl_pem.empty()) {
      e.record.crl = parse_crl(e.record.crl_pem, *e.ca, &error);
      if (!e.record.crl)
        warnings->push_back("CRL of trusted CA " + e.record.info.fingerprint +
                            " unreadable: " + error);
    }
    by_fingerprint_[e.record.info.fingerprint] = std::move(e);
    return true;
  });
  if (!st.ok() || trust_dir_.empty()) return st;
  // The directory is the plugin's: it is rebuilt from the enabled CAs, so a CA disabled or
  // deleted while the broker ran is no longer offered to OpenSSL after a restart.
  std::error_code ec;
  std::filesystem::create_directories(trust_dir_, ec);
  for (auto& f : std::filesystem::directory_iterator(trust_dir_, ec))
    if (is_trust_file_name(f.path().filename().string())) std::filesystem::remove(f.path(), ec);
  if (ec) warnings->push_back("trust directory " + trust_dir_ + ": " + ec.message());
  for (auto& [fp, e] : by_fingerprint_)
    if (auto w = install(e); !w.empty()) warnings->push_back(w);
  return st;
}

TrustedCaChange TrustedCas::add(std::string_view tenant, std::string_view pem,
                                std::string_view name, bool enabled, bool auto_registration,
                                int64_t now_ms) {
  TrustedCaChange out;
  std::string error;
  auto ca = TrustedCa::load(pem, &error);
  if (!ca) {
    out.status = common::Status::Invalid("certInPemFormat: " + error);
    return out;
  }
  std::unique_lock lock(mutex_);
  for (auto& [fp, e] : by_fingerprint_) {
    if (fp == ca->info().fingerprint) {
      out.status = common::Status::Conflict("The certificate " + fp + " is already trusted");
      return out;
    }
    if (e.record.info.subject == ca->info().subject && e.record.tenant != tenant) {
      out.status = common::Status::Conflict("A CA with the subject " + ca->info().subject +
                                            " belongs to another tenant");
      return out;
    }
  }
  Entry e;
  e.record.tenant = std::string(tenant);
  e.record.name = name.empty() ? ca->info().subject : std::string(name);
  e.record.enabled = enabled;
  e.record.auto_registration = auto_registration;
  e.record.created_ms = now_ms;
  e.record.info = ca->info();
  e.ca = std::make_shared<const TrustedCa>(std::move(*ca));
  if (auto st = persist(e); !st.ok()) {
    out.status = st;
    return out;
  }
  out.warning = install(e);  // a warning only: the record is stored, a restart retries
  out.value = e.record;
  by_fingerprint_[e.record.info.fingerprint] = std::move(e);
  return out;
}

TrustedCaChange TrustedCas::update(std::string_view tenant, std::string_view fingerprint,
                                   std::optional<std::string> name, std::optional<bool> enabled,
                                   std::optional<bool> auto_registration) {
  TrustedCaChange out;
  std::unique_lock lock(mutex_);
  auto it = find_own(tenant, fingerprint);
  if (it == by_fingerprint_.end()) {
    out.status = common::Status::NotFound("No trusted certificate " + std::string(fingerprint));
    return out;
  }
  Entry next = it->second;
  if (name) next.record.name = *name;
  if (enabled) next.record.enabled = *enabled;
  if (auto_registration) next.record.auto_registration = *auto_registration;
  if (auto st = persist(next); !st.ok()) {
    out.status = st;
    return out;
  }
  if (next.record.enabled && !it->second.record.enabled) out.warning = install(next);
  it->second = std::move(next);
  out.value = it->second.record;
  return out;
}

TrustedCaChange TrustedCas::remove(std::string_view tenant, std::string_view fingerprint) {
  TrustedCaChange out;
  std::unique_lock lock(mutex_);
  auto it = find_own(tenant, fingerprint);
  if (it == by_fingerprint_.end()) {
    out.status = common::Status::NotFound("No trusted certificate " + std::string(fingerprint));
    return out;
  }
  storage::Batch b;
  b.del(store_.system(), storage::key::trusted_ca(fingerprint));
  if (auto st = store_.write(b); !st.ok()) {
    out.status = st;
    return out;
  }
  out.value = it->second.record;
  by_fingerprint_.erase(it);
  return out;
}

TrustedCaChange TrustedCas::set_crl(std::string_view tenant, std::string_view fingerprint,
                                    std::string_view crl) {
  TrustedCaChange out;
  std::unique_lock lock(mutex_);
  auto it = find_own(tenant, fingerprint);
  if (it == by_fingerprint_.end()) {
    out.status = common::Status::NotFound("No trusted certificate " + std::string(fingerprint));
    return out;
  }
  Entry next = it->second;
  if (crl.empty()) {
    next.record.crl_pem.clear();
    next.record.crl.reset();
  } else {
    std::string error;
    auto parsed = parse_crl(crl, *next.ca, &error);
    if (!parsed) {
      out.status = common::Status::Invalid("CRL: " + error);
      return out;
    }
    next.record.crl_pem = parsed->pem;
    next.record.crl = std::move(parsed);
  }
  if (auto st = persist(next); !st.ok()) {
    out.status = st;
    return out;
  }
  it->second = std::move(next);
  out.value = it->second.record;
  return out;
}

std::optional<TrustedCaRecord> TrustedCas::get(std::string_view tenant,
                                               std::string_view fingerprint) const {
  std::shared_lock lock(mutex_);
  auto it = find_own(tenant, fingerprint);
  if (it == by_fingerprint_.end()) return std::nullopt;
  return it->second.record;
}

std::vector<TrustedCaRecord> TrustedCas::list(std::string_view tenant) const {
  std::vector<TrustedCaRecord> out;
  std::shared_lock lock(mutex_);
  for (auto& [fp, e] : by_fingerprint_)
    if (e.record.tenant == tenant) out.push_back(e.record);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.created_ms < b.created_ms; });
  return out;
}

void TrustedCas::forget_tenant(std::string_view tenant) {
  std::unique_lock lock(mutex_);
  for (auto it = by_fingerprint_.begin(); it != by_fingerprint_.end();) {
    if (it->second.record.tenant == tenant) {
      storage::Batch b;
      b.del(store_.system(), storage::key::trusted_ca(it->first));
      (void)store_.write(b);
      it = by_fingerprint_.erase(it);
    } else {
      ++it;
    }
  }
}

CertificateCheck TrustedCas::check(X509* leaf, std::string_view serial, int64_t now_s) const {
  CertificateCheck out;
  auto info = inspect_leaf(leaf, &out.error);
  if (!info) return out;
  out.common_name = info->common_name;
  out.serial_number = info->serial_number;
  if (auto st = match_device_cn(info->common_name, serial); !st.ok()) {
    out.error = std::move(st.message);
    return out;
  }
  std::shared_lock lock(mutex_);
  // A handful of CAs per tenant: a linear pass is cheaper than keeping indexes in step.
  std::string last_error = "certificate issued by an unknown CA (" + info->issuer + ")";
  for (auto& [fp, e] : by_fingerprint_) {
    const auto& ca = e.record.info;
    const bool candidate = info->authority_key_id.empty()
                               ? ca.subject_hash == info->issuer_hash
                               : ca.subject_key_id == info->authority_key_id;
    if (!candidate) continue;
    if (auto st = verify_leaf(leaf, *e.ca, now_s); !st.ok()) {
      last_error = std::move(st.message);
      continue;  // another CA with the same name or key id may be the issuer
    }
    if (!e.record.enabled) {
      out.error = "the issuing CA " + fp + " of tenant " + e.record.tenant + " is disabled";
      return out;
    }
    if (e.record.crl && is_revoked(*e.record.crl, info->serial_number)) {
      out.error = "certificate " + info->serial_number + " is revoked by the CRL of CA " + fp;
      return out;
    }
    out.ok = true;
    out.error.clear();
    out.tenant = e.record.tenant;
    out.fingerprint = fp;
    out.auto_registration = e.record.auto_registration;
    return out;
  }
  out.error = last_error;
  return out;
}

bool TrustedCas::still_valid(std::string_view fingerprint, std::string_view serial_number) const {
  std::shared_lock lock(mutex_);
  auto it = by_fingerprint_.find(std::string(fingerprint));
  if (it == by_fingerprint_.end() || !it->second.record.enabled) return false;
  return !(it->second.record.crl && is_revoked(*it->second.record.crl, serial_number));
}

}  // namespace c8y::identity
