#include "plugin/identity/registration_owner.h"

#include "plugin/identity/password_hash.h"

namespace c8y::identity {

UserRecord bootstrap_device_user(const Directory& directory, std::string_view tenant,
                                 std::string_view serial, std::string password_hash) {
  UserRecord u;
  const std::string name = "device_" + std::string(serial);
  if (auto existing = directory.user(tenant, name)) u = *existing;
  u.tenant = std::string(tenant);
  u.name = name;
  u.role = policy::Role::kDevice;
  u.enabled = true;
  u.device_serial = std::string(serial);
  u.password_hash = std::move(password_hash);
  return u;
}

std::vector<common::BootstrapRequest> RegistrationOwner::requests() const {
  std::vector<common::BootstrapRequest> out;
  for (auto& r : registrations_.all()) {
    common::BootstrapRequest b;
    b.serial = r.serial;
    b.tenant = r.tenant;
    b.status = std::string(to_string(r.status));
    out.push_back(std::move(b));
  }
  return out;
}

bool RegistrationOwner::holds(std::string_view serial, std::string_view tenant) const {
  return registrations_.get(tenant, serial).has_value();
}

void RegistrationOwner::contacted(std::string_view serial, std::string_view tenant) {
  if (!holds(serial, tenant)) return;
  storage::StoreStatus st;
  (void)registrations_.poll(serial, now_ms_(), &st);  // WAITING -> PENDING; else unchanged
}

bool RegistrationOwner::install(std::string_view serial, std::string_view tenant,
                                std::string_view hash, std::string* why) {
  auto r = registrations_.get(tenant, serial);
  if (!r || r->status != RegistrationStatus::kAccepted) {
    *why = "the request is not accepted on this node";
    return false;
  }
  if (!is_valid_password_hash(hash)) {
    *why = "the password hash is malformed";
    return false;
  }
  if (auto st =
          directory_.put_user(bootstrap_device_user(directory_, tenant, serial, std::string(hash)));
      !st.ok()) {
    *why = "cannot store the device user: " + st.message;
    return false;
  }
  registrations_.mark_issued(serial);
  return true;
}

}  // namespace c8y::identity
