// A RestServer on a real store in a temporary directory, driven without a socket: a request is
// built as the HTTP server builds it (path and query from the target, headers, body), admitted on
// its head when it has a body, and dispatched through the router.
//
// Tenants: management (user admin), t1 (admin, a device user `dev` and a device `dev-1` whose
// managed object carries c8y_Serial dev-1, another device `other-1`), t2 (admin).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "plugin/common/base64.h"
#include "plugin/common/outbox.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/identity/authenticator.h"
#include "plugin/identity/device_token.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/password_hash.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/trusted_cas.h"
#include "plugin/rest/http.h"
#include "plugin/rest/rest_server.h"
#include "tests/unit/temp_dir.h"

namespace c8y::rest::testing {

using nlohmann::json;

struct Answer {
  int status = 0;
  json body;         // null when the body is not JSON
  std::string text;  // the body as sent
  Headers headers;
};

class RestFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    directory_ = std::make_unique<identity::Directory>(*store_);
    ASSERT_TRUE(directory_->load().ok());
    for (const char* t : {"management", "t1", "t2"}) {
      identity::TenantRecord rec;
      rec.id = t;
      ASSERT_TRUE(directory_->put_tenant(rec).ok());
      add_user(t, "admin", policy::Role::kAdmin);
    }
    add_user("t1", "dev", policy::Role::kDevice);
    authenticator_ = std::make_unique<identity::Authenticator>(*directory_);
    spaces_ = std::make_unique<domain::TenantSpaces>(*store_, 1);
    registrations_ = std::make_unique<identity::Registrations>(*store_);
    ASSERT_TRUE(registrations_->load().ok());
    trusted_cas_ = std::make_unique<identity::TrustedCas>(*store_, "");
    secret_ = identity::new_token_secret();
    server_ =
        std::make_unique<RestServer>(*store_, *directory_, *authenticator_, *spaces_,
                                     *registrations_, *trusted_cas_, secret_, outbox_, metrics_);
    own_ = make_device("t1", "dev-1");
    other_ = make_device("t1", "other-1");
    outbox_.take();
  }

  void add_user(const std::string& tenant, const std::string& name, policy::Role role) {
    identity::UserRecord u;
    u.tenant = tenant;
    u.name = name;
    u.role = role;
    u.password_hash = identity::hash_password(password(tenant, name), 1).value();
    ASSERT_TRUE(directory_->put_user(u).ok());
  }
  static std::string password(const std::string& tenant, const std::string& name) {
    return tenant + "-" + name + "-pass";
  }

  // A managed object with the external id c8y_Serial `serial`; its id as the API writes it.
  std::string make_device(const std::string& tenant, const std::string& serial) {
    domain::Inventory inv(*store_, *spaces_->get(tenant));
    json mo;
    EXPECT_TRUE(
        inv.create({{"name", serial}, {"c8y_IsDevice", json::object()}}, "admin", &mo).ok());
    const uint64_t id = *domain::parse_id(mo["id"].get<std::string>());
    EXPECT_TRUE(inv.add_external_id(id, domain::kSerialType, serial).ok());
    return domain::format_id(id);
  }

  static std::string basic(const std::string& tenant, const std::string& name,
                           const std::string& pass) {
    return "Basic " + common::base64_encode(tenant + "/" + name + ":" + pass,
                                            common::Base64Alphabet::kStandard, true);
  }
  static std::string basic(const std::string& tenant, const std::string& name) {
    return basic(tenant, name, password(tenant, name));
  }
  // A device token of t1/dev for `serial`.
  std::string bearer(const std::string& serial = "dev-1") const {
    identity::DeviceTokenClaims c;
    c.tenant = "t1";
    c.user = "dev";
    c.serial = serial;
    c.issued_at = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    c.expires_at = c.issued_at + 600;
    std::string token = identity::issue_device_token(c, secret_);
    EXPECT_FALSE(token.empty());
    return "Bearer " + token;
  }

  // The request `method target` as the HTTP server would handle it.
  Answer call(const std::string& method, const std::string& target, const std::string& auth,
              const std::string& body = "") {
    Request req;
    req.method = method;
    EXPECT_TRUE(parse_target(target, &req.path, &req.params)) << target;
    req.target = target;
    if (!auth.empty()) req.headers.emplace("Authorization", auth);
    req.headers.emplace("Host", "c8y.test");
    req.remote_addr = "127.0.0.1";
    req.body = body;
    Response res;
    // A request with a body is admitted on its head (credentials only) before the body counts.
    if (!body.empty() && !server_->admit(req, res)) return answer(res);
    server_->dispatch(req, res);
    return answer(res);
  }
  Answer admin(const std::string& method, const std::string& target, const json& body = nullptr) {
    return call(method, target, basic("t1", "admin"), body.is_null() ? "" : body.dump());
  }
  Answer device(const std::string& method, const std::string& target, const json& body = nullptr) {
    return call(method, target, bearer(), body.is_null() ? "" : body.dump());
  }

  static Answer answer(const Response& res) {
    Answer a;
    a.status = res.status;
    a.text = res.body;
    a.body = json::parse(res.body, nullptr, false);
    if (a.body.is_discarded()) a.body = nullptr;
    a.headers = res.headers;
    return a;
  }
  static json error(const std::string& error, const std::string& message) {
    return {{"error", error}, {"message", message}};
  }

  // The items of kind T the handlers pushed to the outbox since the last call.
  template <class T>
  std::vector<T> pushed() {
    std::vector<T> out;
    for (auto& item : outbox_.take())
      if (auto* t = std::get_if<T>(&item)) out.push_back(*t);
    return out;
  }

  c8y::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<identity::Directory> directory_;
  std::unique_ptr<identity::Authenticator> authenticator_;
  std::unique_ptr<domain::TenantSpaces> spaces_;
  std::unique_ptr<identity::Registrations> registrations_;
  std::unique_ptr<identity::TrustedCas> trusted_cas_;
  std::string secret_;
  common::Outbox outbox_;
  common::NodeMetrics metrics_;
  std::unique_ptr<RestServer> server_;
  std::string own_, other_;  // t1's devices dev-1 and other-1
};

}  // namespace c8y::rest::testing
