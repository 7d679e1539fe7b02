#include "plugin/rest/local_tenants.h"

#include <filesystem>
#include <future>
#include <thread>

#include "plugin/rest/rest_handlers.h"

namespace c8y::rest {

namespace fs = std::filesystem;

void TenantRequests::enter(const std::string& tenant) {
  std::lock_guard lock(mutex_);
  ++running_[tenant];
}

void TenantRequests::leave(const std::string& tenant) {
  std::lock_guard lock(mutex_);
  auto it = running_.find(tenant);
  if (it != running_.end() && --it->second <= 0) running_.erase(it);
}

int TenantRequests::running(const std::string& tenant) const {
  std::lock_guard lock(mutex_);
  auto it = running_.find(tenant);
  return it == running_.end() ? 0 : it->second;
}

LocalTenants::LocalTenants(RestContext& ctx, const TenantRequests& requests, std::string staging)
    : ctx_(ctx), requests_(requests), staging_(std::move(staging)) {}

common::Status LocalTenants::create(const std::string& tenant, const std::string& spec) {
  auto j = nlohmann::json::parse(spec, nullptr, false);
  if (!j.is_object()) return common::Status::Invalid("the create spec is not a JSON object");
  if (auto st = tenants::make_local(ctx_, tenant, j); !st.ok()) return st;
  ctx_.outbox.log(common::LogLevel::kNotice, "c8y: tenant " + tenant + " made on this node");
  return {};
}

common::Status LocalTenants::remove(const std::string& tenant) {
  if (auto st = tenants::drop_local(ctx_, tenant); !st.ok()) return st;
  ctx_.outbox.log(common::LogLevel::kNotice, "c8y: tenant " + tenant + " dropped from this node");
  return {};
}

common::Status LocalTenants::quiesce(const std::string& tenant, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The broker thread takes the outbox in order: once it reaches the barrier, the tenant's
  // sessions are disconnected and every message they sent before is written (and the fence
  // refuses them at CONNECT already).
  auto reached = std::make_shared<std::promise<void>>();
  auto done = reached->get_future();
  ctx_.kick_users(tenant, "");
  ctx_.outbox.push(common::outbox::Barrier{reached});
  if (done.wait_until(deadline) != std::future_status::ready)
    return common::Status::Unavailable("the broker did not disconnect tenant " + tenant +
                                       "'s clients in time");
  while (requests_.running(tenant) > 0) {
    if (std::chrono::steady_clock::now() > deadline)
      return common::Status::Unavailable("REST requests of tenant " + tenant +
                                         " still run after the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return {};
}

common::Status LocalTenants::export_tenant(const std::string& tenant, const std::string& dir,
                                           std::vector<std::string>* files, uint64_t* bytes) {
  if (!ctx_.directory.has_tenant(tenant) || !ctx_.store.tenant(tenant))
    return common::Status::NotFound("Tenant " + tenant + " not found");
  std::error_code ec;
  fs::create_directories(fs::path(dir).parent_path(), ec);
  if (auto st = backups::write_tenant(ctx_, tenant, dir, bytes); !st.ok()) return st;
  files->clear();
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) files->push_back(fs::relative(it->path(), dir, ec).string());
  if (ec) return common::Status::Io("cannot list " + dir + ": " + ec.message());
  return {};
}

common::Status LocalTenants::import_tenant(const std::string& tenant, const std::string& dir) {
  return backups::read_tenant(ctx_, tenant, dir);
}

}  // namespace c8y::rest
