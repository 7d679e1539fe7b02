// RegistrationOwner: what the node holding a new-device request does when another node of the
// cluster polled for it (common::BootstrapOwner over this node's Registrations and Directory):
// a contact moves the request to PENDING_ACCEPTANCE, and credentials issued elsewhere become the
// device user (`device_<serial>`, bound to its serial) with the issuer's password hash. The
// password itself never reaches this node. Thread-safe (called on the cluster's thread).
// Also: the device user a bootstrap pairing makes, shared with the single-node path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugin/common/bootstrap_registry.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/registrations.h"

namespace c8y::identity {

// The device user of a paired device: `device_<serial>` of `tenant`, enabled, bound to the serial,
// with `password_hash`; other fields of an existing user of that name are kept.
UserRecord bootstrap_device_user(const Directory& directory, std::string_view tenant,
                                 std::string_view serial, std::string password_hash);

class RegistrationOwner : public common::BootstrapOwner {
 public:
  using NowFn = int64_t (*)();
  RegistrationOwner(Directory& directory, Registrations& registrations, NowFn now_ms)
      : directory_(directory), registrations_(registrations), now_ms_(now_ms) {}

  std::vector<common::BootstrapRequest> requests() const override;
  bool holds(std::string_view serial, std::string_view tenant) const override;
  void contacted(std::string_view serial, std::string_view tenant) override;
  bool install(std::string_view serial, std::string_view tenant, std::string_view hash,
               std::string* why) override;

 private:
  Directory& directory_;
  Registrations& registrations_;
  NowFn now_ms_;
};

}  // namespace c8y::identity
