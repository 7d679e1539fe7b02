#include "plugin/identity/credential_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace c8y::identity {
namespace {

TEST(CredentialCache, IsOnWithAWorkingLibcrypto) {
  CredentialCache cache(10);
  EXPECT_TRUE(cache.enabled());
}

TEST(CredentialCache, EmptyMatchesNothing) {
  CredentialCache cache;
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.matches("t1/dev", 1, "pw"));
  EXPECT_FALSE(cache.matches("", 0, ""));
}

TEST(CredentialCache, RememberedPasswordMatches) {
  CredentialCache cache;
  cache.remember("t1/dev", 7, "pw");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.matches("t1/dev", 7, "pw"));
  EXPECT_TRUE(cache.matches("t1/dev", 7, "pw"));  // repeatable
}

TEST(CredentialCache, WrongPasswordAfterSuccessDoesNotMatch) {
  CredentialCache cache;
  cache.remember("t1/dev", 7, "pw");
  EXPECT_FALSE(cache.matches("t1/dev", 7, "pw2"));
  EXPECT_FALSE(cache.matches("t1/dev", 7, "p"));
  EXPECT_FALSE(cache.matches("t1/dev", 7, ""));
  EXPECT_FALSE(cache.matches("t1/dev", 7, "PW"));
  EXPECT_FALSE(cache.matches("t1/dev", 7, std::string_view("pw\0", 3)));
  // The failed checks do not disturb the entry.
  EXPECT_TRUE(cache.matches("t1/dev", 7, "pw"));
}

TEST(CredentialCache, GenerationChangeInvalidates) {
  CredentialCache cache;
  cache.remember("t1/dev", 7, "pw");
  EXPECT_FALSE(cache.matches("t1/dev", 8, "pw"));  // password/roles/enabled changed
  EXPECT_FALSE(cache.matches("t1/dev", 6, "pw"));
  EXPECT_FALSE(cache.matches("t1/dev", 0, "pw"));
  cache.remember("t1/dev", 8, "pw");  // re-verified against the new record
  EXPECT_TRUE(cache.matches("t1/dev", 8, "pw"));
  EXPECT_FALSE(cache.matches("t1/dev", 7, "pw"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(CredentialCache, OtherUserDoesNotMatch) {
  CredentialCache cache;
  cache.remember("t1/dev", 1, "pw");
  EXPECT_FALSE(cache.matches("t2/dev", 1, "pw"));
  EXPECT_FALSE(cache.matches("t1/dev2", 1, "pw"));
  EXPECT_FALSE(cache.matches("t1/de", 1, "pw"));
  EXPECT_FALSE(cache.matches("T1/dev", 1, "pw"));
}

TEST(CredentialCache, UserPasswordBoundaryIsUnambiguous) {
  // "ab" + "c" and "a" + "bc" must not collide; the digest is keyed by user as well.
  CredentialCache cache;
  cache.remember("ab", 1, "c");
  EXPECT_FALSE(cache.matches("a", 1, "bc"));
  cache.remember("a", 1, "bc");
  EXPECT_TRUE(cache.matches("ab", 1, "c"));
  EXPECT_TRUE(cache.matches("a", 1, "bc"));
  EXPECT_FALSE(cache.matches("a", 1, "c"));
}

TEST(CredentialCache, NewPasswordReplacesOld) {
  CredentialCache cache;
  cache.remember("t1/dev", 1, "old");
  cache.remember("t1/dev", 1, "new");
  EXPECT_TRUE(cache.matches("t1/dev", 1, "new"));
  EXPECT_FALSE(cache.matches("t1/dev", 1, "old"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(CredentialCache, Forget) {
  CredentialCache cache;
  cache.remember("t1/a", 1, "pw");
  cache.remember("t1/b", 1, "pw");
  cache.forget("t1/a");
  EXPECT_FALSE(cache.matches("t1/a", 1, "pw"));
  EXPECT_TRUE(cache.matches("t1/b", 1, "pw"));
  EXPECT_EQ(cache.size(), 1u);
  cache.forget("t1/a");     // idempotent
  cache.forget("missing");  // harmless
  EXPECT_EQ(cache.size(), 1u);
  cache.remember("t1/a", 1, "pw");
  EXPECT_TRUE(cache.matches("t1/a", 1, "pw"));
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.matches("t1/b", 1, "pw"));
}

TEST(CredentialCache, CapacityEvictsOldest) {
  CredentialCache cache(3);
  EXPECT_EQ(cache.capacity(), 3u);
  cache.remember("u1", 1, "p1");
  cache.remember("u2", 1, "p2");
  cache.remember("u3", 1, "p3");
  EXPECT_EQ(cache.size(), 3u);
  cache.remember("u1", 2, "p1");  // refreshed: now the newest
  cache.remember("u4", 1, "p4");  // evicts u2, the oldest
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.matches("u1", 2, "p1"));
  EXPECT_FALSE(cache.matches("u2", 1, "p2"));
  EXPECT_TRUE(cache.matches("u3", 1, "p3"));
  EXPECT_TRUE(cache.matches("u4", 1, "p4"));
  for (int i = 0; i < 100; ++i) cache.remember("x" + std::to_string(i), 1, "p");
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.matches("x99", 1, "p"));
  EXPECT_TRUE(cache.matches("x97", 1, "p"));
  EXPECT_FALSE(cache.matches("x96", 1, "p"));
}

TEST(CredentialCache, ForgetThenEvictStaysConsistent) {
  CredentialCache cache(2);
  cache.remember("a", 1, "p");
  cache.remember("b", 1, "p");
  cache.forget("a");
  cache.remember("c", 1, "p");
  cache.remember("d", 1, "p");  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.matches("b", 1, "p"));
  EXPECT_TRUE(cache.matches("c", 1, "p"));
  EXPECT_TRUE(cache.matches("d", 1, "p"));
}

TEST(CredentialCache, ZeroCapacityRemembersNothing) {
  CredentialCache cache(0);
  cache.remember("a", 1, "p");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.matches("a", 1, "p"));
}

TEST(CredentialCache, InstancesUseDifferentKeys) {
  // Not observable through the interface except that two caches are independent.
  CredentialCache a, b;
  a.remember("u", 1, "p");
  EXPECT_TRUE(a.matches("u", 1, "p"));
  EXPECT_FALSE(b.matches("u", 1, "p"));
}

TEST(CredentialCache, ConcurrentUse) {
  CredentialCache cache(64);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string user = "u" + std::to_string((t * 7 + i) % 100);
        const std::string pw = "pw-" + user;
        cache.remember(user, 1, pw);
        if (cache.matches(user, 1, "wrong")) ++wrong;
        (void)cache.matches(user, 1, pw);  // may have been evicted by another thread
        if (i % 50 == 0) cache.forget(user);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache.size(), 64u);
}

}  // namespace
}  // namespace c8y::identity
