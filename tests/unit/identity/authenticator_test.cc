// Username/password authentication (plugin/identity/authenticator.h) over a real directory.
#include "plugin/identity/authenticator.h"

#include <gtest/gtest.h>

#include <string>

#include "plugin/identity/password_hash.h"
#include "tests/unit/temp_dir.h"

namespace c8y::identity {
namespace {

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.open_store();
    ASSERT_TRUE(store_);
    directory_ = std::make_unique<Directory>(*store_);
    ASSERT_TRUE(directory_->load().ok());
    ASSERT_TRUE(directory_->put_tenant(TenantRecord{"t1", nlohmann::json::object()}).ok());
    UserRecord u;
    u.tenant = "t1";
    u.name = "dev";
    u.password_hash = hash_password("right-pass", 1000).value();
    ASSERT_TRUE(directory_->put_user(u).ok());
    auth_ = std::make_unique<Authenticator>(*directory_);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, RightAndWrongPassword) {
  auto r = auth_->authenticate("t1/dev", "right-pass", "10.0.0.1");
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.cached);
  r = auth_->authenticate("t1/dev", "right-pass", "10.0.0.1");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.cached);
  EXPECT_EQ(auth_->authenticate("t1/dev", "wrong", "10.0.0.1").outcome, AuthResult::kBadPassword);
}

// A password never holds a NUL byte: the right password followed by NUL (and more) is wrong,
// whether or not the right one is cached.
TEST_F(AuthenticatorTest, PasswordsWithNulAreWrong) {
  using namespace std::string_literals;
  EXPECT_EQ(auth_->authenticate("t1/dev", "right-pass\0"s, "").outcome, AuthResult::kBadPassword);
  EXPECT_EQ(auth_->authenticate("t1/dev", "right-pass\0xyz"s, "").outcome,
            AuthResult::kBadPassword);
  ASSERT_TRUE(auth_->authenticate("t1/dev", "right-pass", "").ok());  // now cached
  EXPECT_EQ(auth_->authenticate("t1/dev", "right-pass\0"s, "").outcome, AuthResult::kBadPassword);
  EXPECT_EQ(auth_->authenticate("t1/dev", "\0right-pass"s, "").outcome, AuthResult::kBadPassword);
}

// A user in back-off is refused whatever the password, even one the credential cache knows:
// otherwise a guesser at full speed learns the right password from the one answer that differs.
TEST_F(AuthenticatorTest, BackOffRefusesACachedRightPassword) {
  ASSERT_TRUE(auth_->authenticate("t1/dev", "right-pass", "10.0.0.1").ok());
  ASSERT_TRUE(auth_->authenticate("t1/dev", "right-pass", "10.0.0.1").cached);
  int throttled = 0;
  for (int i = 0; i < 10; ++i)
    if (auth_->authenticate("t1/dev", "guess" + std::to_string(i), "10.0.0.9").outcome ==
        AuthResult::kThrottled)
      ++throttled;
  ASSERT_GT(throttled, 0);  // the back-off window is open
  auto r = auth_->authenticate("t1/dev", "right-pass", "10.0.0.9");
  EXPECT_EQ(r.outcome, AuthResult::kThrottled);
  // The user's window holds from any address.
  EXPECT_EQ(auth_->authenticate("t1/dev", "right-pass", "10.0.0.1").outcome,
            AuthResult::kThrottled);
}

TEST_F(AuthenticatorTest, AddressBackOffRefusesACachedRightPassword) {
  for (int i = 0; i < 8; ++i) {
    UserRecord other;
    other.tenant = "t1";
    other.name = "u" + std::to_string(i);
    other.password_hash = hash_password("other-pass", 1000).value();
    ASSERT_TRUE(directory_->put_user(other).ok());
  }
  ASSERT_TRUE(auth_->authenticate("t1/dev", "right-pass", "10.0.0.5").ok());
  // Guesses spread over many users from one address open the address's window.
  for (int i = 0; i < 64; ++i)
    auth_->authenticate("t1/u" + std::to_string(i % 8), "guess" + std::to_string(i), "10.0.0.5");
  EXPECT_EQ(auth_->authenticate("t1/dev", "right-pass", "10.0.0.5").outcome,
            AuthResult::kThrottled);
  // Another address is not affected.
  EXPECT_TRUE(auth_->authenticate("t1/dev", "right-pass", "10.0.0.6").ok());
}

}  // namespace
}  // namespace c8y::identity
