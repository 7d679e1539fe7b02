// The components of the plugin core (plugin/app/components.h) over a FakeBrokerPort and real
// storage and identity in a temporary directory, for unit tests of one component at a time:
// tests call the component under test directly and look at what reached the fake broker and
// the store. Tenants t1, t2 and management exist; session() makes a device session as the core
// would after CONNECT.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/app/components.h"
#include "plugin/domain/inventory.h"
#include "plugin/identity/password_hash.h"
#include "tests/unit/app/fake_broker_port.h"
#include "tests/unit/temp_dir.h"

namespace c8y::testing {

class ComponentRig {
 public:
  explicit ComponentRig(app::Options options = {}) : options_(std::move(options)) {
    store_ = dir_.open_store();
    directory_ = std::make_unique<identity::Directory>(*store_);
    EXPECT_TRUE(directory_->load().ok());
    for (const char* t : {"t1", "t2", "management"}) {  // management: the bootstrap user's
      identity::TenantRecord rec;
      rec.id = t;
      EXPECT_TRUE(directory_->put_tenant(rec).ok());
    }
    registrations_ = std::make_unique<identity::Registrations>(*store_);
    trusted_cas_ = std::make_unique<identity::TrustedCas>(*store_, "");
    client_ids_ = std::make_unique<identity::ClientIdDirectory>(*store_, 3600);
    spaces_ = std::make_unique<domain::TenantSpaces>(*store_, 0);
    parts_ = std::make_unique<app::Components>(
        app::Components::Deps{options_, port, *store_, *spaces_, *directory_, *registrations_,
                              *trusted_cas_, token_secret_, *client_ids_, outbox, metrics});
  }
  ~ComponentRig() {
    parts_.reset();
    store_.reset();
  }

  app::Components& c() { return *parts_; }
  storage::Store& store() { return *store_; }
  identity::Directory& directory() { return *directory_; }
  identity::Registrations& registrations() { return *registrations_; }
  domain::TenantSpace& space(std::string_view tenant) {
    auto* space = spaces_->get(tenant);
    if (!space) ADD_FAILURE() << "no tenant " << tenant << " in the rig";
    return space ? *space : *spaces_->get("t1");
  }
  domain::TenantSpaces& spaces() { return *spaces_; }
  domain::Inventory inventory(std::string_view tenant) {
    return domain::Inventory(*store_, space(tenant));
  }
  std::optional<uint64_t> device_id(std::string_view tenant, std::string_view serial) {
    return inventory(tenant).find_external(domain::kSerialType, serial);
  }

  // A session of `serial` (client id = serial) as the user `user` of `tenant`, subscribed to
  // `filters` (qos 1) without the subscription hooks; owned by the rig.
  app::Session& session(std::string_view serial, std::string_view tenant = "t1",
                        policy::Role role = policy::Role::kDevice,
                        std::initializer_list<std::string_view> filters = {"s/e", "s/ds",
                                                                           "error"}) {
    auto s = std::make_unique<app::Session>();
    s->conn = s.get();
    s->client_id = std::string(serial);
    s->tenant = std::string(tenant);
    s->user = "dev";
    s->role = role;
    s->serial = std::string(serial);
    s->space = &space(tenant);
    for (auto f : filters) s->subscriptions.emplace_back(std::string(f), 1);
    owned_.push_back(std::move(s));
    return *owned_.back();
  }

  TempDir dir_;
  app::Options options_;
  FakeBrokerPort port;
  common::Outbox outbox;
  common::NodeMetrics metrics;

 private:
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<identity::Directory> directory_;
  std::unique_ptr<identity::Registrations> registrations_;
  std::unique_ptr<identity::TrustedCas> trusted_cas_;
  std::unique_ptr<identity::ClientIdDirectory> client_ids_;
  std::unique_ptr<domain::TenantSpaces> spaces_;
  std::string token_secret_ = "0123456789abcdef0123456789abcdef";
  std::unique_ptr<app::Components> parts_;
  std::vector<std::unique_ptr<app::Session>> owned_;
};

}  // namespace c8y::testing
