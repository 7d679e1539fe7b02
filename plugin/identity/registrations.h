// Bootstrap registration of non-personalized devices: the new-device requests a
// tenant admin makes over REST and the state the polling device moves them through.
//
//   REST POST              device's first s/ucr poll      REST PUT status=ACCEPTED
//   WAITING_FOR_CONNECTION ----------------------------> PENDING_ACCEPTANCE ----------> ACCEPTED
//
// An ACCEPTED request answers every poll with fresh credentials (the caller makes the password and
// stores only its hash in the device user) until the device logs in with them once; then the
// request is done and removed, and further polls get nothing.
//
// A serial has at most one request across all tenants: the key is the serial alone, so no tenant
// can register (and so capture) a device another tenant is waiting for. Requests are persisted in
// the system family ("R" <serial>).
//
// Contract: thread-safe (REST threads and the broker thread). Pure state decisions are in
// `next_status`; everything else is bookkeeping around it.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plugin/common/status.h"
#include "storage/store.h"

namespace c8y::identity {

enum class RegistrationStatus { kWaitingForConnection, kPendingAcceptance, kAccepted };

std::string_view to_string(RegistrationStatus s);
std::optional<RegistrationStatus> parse_registration_status(std::string_view s);

struct Registration {
  std::string serial;
  std::string tenant;
  RegistrationStatus status = RegistrationStatus::kWaitingForConnection;
  std::string owner;  // the admin who made the request
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  bool credentials_issued = false;  // a 70 line went out (the device user exists)
};

// Outcome of a REST change: kNotFound, kInvalid (a bad serial or transition, with the reason),
// kConflict (the serial already has a request, in this tenant or another), or a storage code.
struct RegistrationChange {
  common::Status status;
  std::optional<Registration> value;
};

class Registrations {
 public:
  explicit Registrations(storage::Store& store) : store_(store) {}

  storage::StoreStatus load();

  // REST: a new request in WAITING_FOR_CONNECTION. kInvalid if the serial is not a valid device
  // serial, kConflict if it already has a request (in this tenant or another: the message does
  // not say which).
  RegistrationChange create(std::string_view tenant, std::string_view serial,
                            std::string_view owner, int64_t now_ms);
  // The tenant's own requests (another tenant's serial is not found).
  std::optional<Registration> get(std::string_view tenant, std::string_view serial) const;
  std::vector<Registration> list(std::string_view tenant) const;
  // Every tenant's requests (in no particular order).
  std::vector<Registration> all() const;
  // REST PUT: only PENDING_ACCEPTANCE -> ACCEPTED is a change; ACCEPTED again is accepted as is.
  RegistrationChange set_status(std::string_view tenant, std::string_view serial,
                                RegistrationStatus to, int64_t now_ms);
  RegistrationChange remove(std::string_view tenant, std::string_view serial);

  // A poll on s/ucr by the device `serial`. The first poll moves WAITING_FOR_CONNECTION to
  // PENDING_ACCEPTANCE. Returns the request as it is after the poll, or nullopt when no tenant
  // registered the serial.
  std::optional<Registration> poll(std::string_view serial, int64_t now_ms,
                                   storage::StoreStatus* st);
  // Credentials were sent to the device (70 line).
  void mark_issued(std::string_view serial);
  // The device logged in with its issued credentials: the request is finished and removed.
  // True if there was an ACCEPTED request whose credentials had been issued.
  bool complete(std::string_view tenant, std::string_view serial);
  // Whether a bootstrap connection with this serial has anything to poll for.
  bool exists(std::string_view serial) const;
  // Drops every request of a deleted tenant.
  void forget_tenant(std::string_view tenant);

 private:
  storage::StoreStatus persist(const Registration& r);
  storage::StoreStatus erase(std::string_view serial);
  storage::Store& store_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Registration> by_serial_;
};

}  // namespace c8y::identity
