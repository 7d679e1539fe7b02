#include "plugin/identity/registrations.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "plugin/identity/names.h"
#include "storage/keys.h"

namespace c8y::identity {

using nlohmann::json;

std::string_view to_string(RegistrationStatus s) {
  switch (s) {
    case RegistrationStatus::kWaitingForConnection:
      return "WAITING_FOR_CONNECTION";
    case RegistrationStatus::kPendingAcceptance:
      return "PENDING_ACCEPTANCE";
    case RegistrationStatus::kAccepted:
      return "ACCEPTED";
  }
  return "?";
}

std::optional<RegistrationStatus> parse_registration_status(std::string_view s) {
  for (auto v : {RegistrationStatus::kWaitingForConnection, RegistrationStatus::kPendingAcceptance,
                 RegistrationStatus::kAccepted})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

namespace {

// A serial the device can present as its MQTT client id.
bool valid_serial(std::string_view serial) {
  auto cid = parse_client_id(serial);
  return cid && cid->serial == serial;
}

}  // namespace

storage::StoreStatus Registrations::load() {
  std::lock_guard lock(mutex_);
  return store_.scan(store_.system(), "R", "", false, [&](auto k, auto v) {
    auto j = json::parse(v, nullptr, false);
    if (!j.is_object()) return true;
    Registration r;
    r.serial = std::string(k.substr(1));
    r.tenant = j.value("tenant", "");
    r.owner = j.value("owner", "");
    r.created_ms = j.value("created", int64_t{0});
    r.updated_ms = j.value("updated", int64_t{0});
    r.credentials_issued = j.value("issued", false);
    auto st = parse_registration_status(j.value("status", ""));
    if (r.tenant.empty() || !st) return true;
    r.status = *st;
    by_serial_[r.serial] = std::move(r);
    return true;
  });
}

storage::StoreStatus Registrations::persist(const Registration& r) {
  json j = {{"tenant", r.tenant},      {"status", to_string(r.status)},
            {"owner", r.owner},        {"created", r.created_ms},
            {"updated", r.updated_ms}, {"issued", r.credentials_issued}};
  return store_.put(store_.system(), storage::key::registration(r.serial), j.dump(),
                    storage::Store::When::kNow);
}

storage::StoreStatus Registrations::erase(std::string_view serial) {
  storage::Batch b;
  b.del(store_.system(), storage::key::registration(serial));
  return store_.write(b);
}

RegistrationChange Registrations::create(std::string_view tenant, std::string_view serial,
                                         std::string_view owner, int64_t now_ms) {
  RegistrationChange out;
  if (!valid_serial(serial)) {
    out.status = common::Status::Invalid(
        "id must be a device serial: 1 to 128 characters without ':', '/', '+', '#', "
        "spaces or control characters");
    return out;
  }
  std::lock_guard lock(mutex_);
  if (by_serial_.count(std::string(serial))) {
    out.status =
        common::Status::Conflict("A request for device " + std::string(serial) + " exists already");
    return out;
  }
  Registration r;
  r.serial = std::string(serial);
  r.tenant = std::string(tenant);
  r.owner = std::string(owner);
  r.created_ms = r.updated_ms = now_ms;
  if (auto st = persist(r); !st.ok()) {
    out.status = st;
    return out;
  }
  out.value = r;
  by_serial_.emplace(r.serial, std::move(r));
  return out;
}

std::optional<Registration> Registrations::get(std::string_view tenant,
                                               std::string_view serial) const {
  std::lock_guard lock(mutex_);
  auto it = by_serial_.find(std::string(serial));
  if (it == by_serial_.end() || it->second.tenant != tenant) return std::nullopt;
  return it->second;
}

std::vector<Registration> Registrations::list(std::string_view tenant) const {
  std::vector<Registration> out;
  {
    std::lock_guard lock(mutex_);
    for (auto& [serial, r] : by_serial_)
      if (r.tenant == tenant) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.serial < b.serial;
  });
  return out;
}

std::vector<Registration> Registrations::all() const {
  std::lock_guard lock(mutex_);
  std::vector<Registration> out;
  out.reserve(by_serial_.size());
  for (auto& [serial, r] : by_serial_) out.push_back(r);
  return out;
}

RegistrationChange Registrations::set_status(std::string_view tenant, std::string_view serial,
                                             RegistrationStatus to, int64_t now_ms) {
  RegistrationChange out;
  std::lock_guard lock(mutex_);
  auto it = by_serial_.find(std::string(serial));
  if (it == by_serial_.end() || it->second.tenant != tenant) {
    out.status = common::Status::NotFound("No request for device " + std::string(serial));
    return out;
  }
  Registration& r = it->second;
  if (r.status == to) {
    out.value = r;
    return out;
  }
  if (to != RegistrationStatus::kAccepted || r.status != RegistrationStatus::kPendingAcceptance) {
    out.status = common::Status::Invalid("Cannot change the status from " +
                                         std::string(to_string(r.status)) + " to " +
                                         std::string(to_string(to)) +
                                         (r.status == RegistrationStatus::kWaitingForConnection
                                              ? ": the device has not connected yet"
                                              : ""));
    return out;
  }
  Registration next = r;
  next.status = to;
  next.updated_ms = now_ms;
  if (auto st = persist(next); !st.ok()) {
    out.status = st;
    return out;
  }
  r = next;
  out.value = r;
  return out;
}

RegistrationChange Registrations::remove(std::string_view tenant, std::string_view serial) {
  RegistrationChange out;
  std::lock_guard lock(mutex_);
  auto it = by_serial_.find(std::string(serial));
  if (it == by_serial_.end() || it->second.tenant != tenant) {
    out.status = common::Status::NotFound("No request for device " + std::string(serial));
    return out;
  }
  if (auto st = erase(serial); !st.ok()) {
    out.status = st;
    return out;
  }
  out.value = it->second;
  by_serial_.erase(it);
  return out;
}

std::optional<Registration> Registrations::poll(std::string_view serial, int64_t now_ms,
                                                storage::StoreStatus* st) {
  std::lock_guard lock(mutex_);
  auto it = by_serial_.find(std::string(serial));
  if (it == by_serial_.end()) return std::nullopt;
  Registration& r = it->second;
  if (r.status == RegistrationStatus::kWaitingForConnection) {
    Registration next = r;
    next.status = RegistrationStatus::kPendingAcceptance;
    next.updated_ms = now_ms;
    *st = persist(next);
    if (st->ok()) r = next;
  }
  return r;
}

void Registrations::mark_issued(std::string_view serial) {
  std::lock_guard lock(mutex_);
  auto it = by_serial_.find(std::string(serial));
  if (it == by_serial_.end() || it->second.credentials_issued) return;
  it->second.credentials_issued = true;
  (void)persist(it->second);  // only decides whether a login completes the request
}

bool Registrations::complete(std::string_view tenant, std::string_view serial) {
  std::lock_guard lock(mutex_);
  auto it = by_serial_.find(std::string(serial));
  if (it == by_serial_.end() || it->second.tenant != tenant ||
      it->second.status != RegistrationStatus::kAccepted || !it->second.credentials_issued)
    return false;
  if (!erase(serial).ok()) return false;  // kept: the next login completes it
  by_serial_.erase(it);
  return true;
}

bool Registrations::exists(std::string_view serial) const {
  std::lock_guard lock(mutex_);
  return by_serial_.count(std::string(serial)) > 0;
}

void Registrations::forget_tenant(std::string_view tenant) {
  std::lock_guard lock(mutex_);
  for (auto it = by_serial_.begin(); it != by_serial_.end();) {
    if (it->second.tenant == tenant) {
      (void)erase(it->first);
      it = by_serial_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace c8y::identity
