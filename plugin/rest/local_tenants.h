// LocalTenants: what this node can do with one of its own tenants when the cluster changes where
// it lives (common::TenantHost): make it, drop it, stop all writing for it, export and import
// it. It works on the REST API's context and knows the REST requests running for each tenant
// (TenantRequests), which a tenant handed over waits for.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "plugin/common/cluster_control.h"
#include "plugin/rest/rest_context.h"

namespace c8y::rest {

// REST requests running now, per caller's tenant. Any thread.
class TenantRequests {
 public:
  void enter(const std::string& tenant);
  void leave(const std::string& tenant);
  int running(const std::string& tenant) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int> running_;
};

class LocalTenants : public common::TenantHost {
 public:
  // ctx and requests outlive this; staging: a directory for transfers (made when needed).
  LocalTenants(RestContext& ctx, const TenantRequests& requests, std::string staging);

  common::Status create(const std::string& tenant, const std::string& spec) override;
  common::Status remove(const std::string& tenant) override;
  common::Status quiesce(const std::string& tenant, std::chrono::milliseconds timeout) override;
  common::Status export_tenant(const std::string& tenant, const std::string& dir,
                               std::vector<std::string>* files, uint64_t* bytes) override;
  common::Status import_tenant(const std::string& tenant, const std::string& dir) override;
  std::string staging_dir() const override { return staging_; }

 private:
  RestContext& ctx_;
  const TenantRequests& requests_;
  std::string staging_;
};

}  // namespace c8y::rest
