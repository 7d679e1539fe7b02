// The provisioning file: tenants, users and tenant options applied idempotently at start.
//
// {"tenants": [{"id": "demo", "options": {...},
//               "users": [{"name": "admin", "password": "...", "roles": ["admin"]},
//                         {"name": "device_x", "password_hash": "$7$...", "roles": ["device"],
//                          "enabled": true}]}]}
//
// A plain "password" (for development) is hashed only when the stored hash does not already
// verify it, so re-applying the file at every start changes nothing.
#pragma once

#include <string>

#include "plugin/common/status.h"
#include "plugin/identity/directory.h"

namespace c8y::identity {

struct ProvisioningReport {
  int tenants_created = 0;
  int users_written = 0;
  int users_unchanged = 0;
};

// Applies the file. kInvalid names the offending entry; validation happens before anything is
// written, so an invalid file changes nothing. kIo: storage failed part way.
common::Status apply_provisioning(Directory& directory, const std::string& json_text,
                                  ProvisioningReport* report);

}  // namespace c8y::identity
