#include "plugin/domain/tenant_space.h"

#include "storage/keys.h"

namespace c8y::domain {

IdAllocator::IdAllocator(storage::Store& store, const storage::Family* family, unsigned node_id)
    : store_(store), family_(family), node_id_(node_id) {}

uint64_t IdAllocator::next() {
  std::lock_guard lock(mutex_);
  if (next_ == limit_) {
    uint64_t high = 1;
    std::string v;
    if (store_.get(family_, storage::key::kIdHighWater, &v).ok() && v.size() == 8)
      high = storage::read_u64(v, 0);
    std::string nv;
    storage::append_u64(nv, high + kBlock);
    if (!store_.put(family_, storage::key::kIdHighWater, nv, storage::Store::When::kNow).ok())
      return 0;
    next_ = high;
    limit_ = high + kBlock;
  }
  return next_++ * 1000 + node_id_;
}

TenantSpace* TenantSpaces::get(std::string_view tenant_id) {
  {
    std::shared_lock lock(mutex_);
    auto it = spaces_.find(std::string(tenant_id));
    if (it != spaces_.end()) return it->second.get();
  }
  const storage::Family* f = store_.tenant(tenant_id);
  if (!f) return nullptr;
  std::unique_lock lock(mutex_);
  auto& slot = spaces_[std::string(tenant_id)];
  if (!slot) slot = std::make_unique<TenantSpace>(store_, std::string(tenant_id), f, node_id_);
  return slot.get();
}

std::vector<TenantSpace*> TenantSpaces::all() {
  std::vector<TenantSpace*> out;
  for (auto& id : store_.tenant_ids())
    if (auto* space = get(id)) out.push_back(space);
  return out;
}

void TenantSpaces::remove(std::string_view tenant_id) {
  std::unique_lock lock(mutex_);
  auto it = spaces_.find(std::string(tenant_id));
  if (it == spaces_.end()) return;
  removed_.push_back(std::move(it->second));
  spaces_.erase(it);
}

}  // namespace c8y::domain
