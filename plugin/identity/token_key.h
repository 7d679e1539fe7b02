// The HS256 key of device tokens (device_token.h), made once and kept in the system family, so
// tokens survive a restart (and work on every node that shares the store).
#pragma once

#include <string>

#include "storage/store.h"

namespace c8y::identity {

// Reads the stored key, or makes and stores a new one (durably, before it is used) when there is
// none or the stored one has the wrong size. An error names what failed.
storage::StoreStatus load_token_secret(storage::Store& store, std::string* secret);

}  // namespace c8y::identity
