#include "plugin/identity/token_key.h"

#include "plugin/identity/device_token.h"
#include "storage/keys.h"

namespace c8y::identity {

storage::StoreStatus load_token_secret(storage::Store& store, std::string* secret) {
  std::string stored;
  auto st = store.get(store.system(), storage::key::token_secret(), &stored);
  if (st.ok() && stored.size() == kTokenSecretBytes) {
    *secret = std::move(stored);
    return {};
  }
  if (!st.ok() && !st.not_found())
    return storage::StoreStatus::Io("cannot read the device-token key: " + st.message);
  std::string fresh = new_token_secret();
  if (fresh.empty())
    return storage::StoreStatus::Io("cannot make a device-token key: the random generator failed");
  st = store.put(store.system(), storage::key::token_secret(), fresh, storage::Store::When::kNow);
  if (!st.ok()) return storage::StoreStatus::Io("cannot store the device-token key: " + st.message);
  *secret = std::move(fresh);
  return {};
}

}  // namespace c8y::identity
