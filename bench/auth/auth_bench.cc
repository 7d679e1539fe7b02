// Authentications per second of identity::Authenticator, with and without the credential cache:
// N device users with mosquitto_passwd's default hash (PBKDF2-SHA512, 101 iterations) in a real
// RocksDB-backed directory; every user authenticates once (cold) and then again (a reconnect
// storm). Usage: c8y_auth_bench [users=10000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "plugin/identity/authenticator.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/password_hash.h"
#include "storage/store.h"

using namespace c8y;

int main(int argc, char** argv) {
  const int users = argc > 1 ? std::atoi(argv[1]) : 10000;
  char tmpl[] = "/tmp/c8y-auth-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string error;
  storage::StoreOptions so;
  so.path = tmpl;
  auto store = storage::Store::open(so, &error);
  if (!store) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  identity::Directory dir(*store);
  auto put = dir.put_tenant({"bench", {}});
  for (int i = 0; i < users && put.ok(); ++i) {
    identity::UserRecord u;
    u.tenant = "bench";
    u.name = "device_" + std::to_string(i);
    u.password_hash = identity::hash_password("secret-" + std::to_string(i)).value_or("");
    put = dir.put_user(u);
  }
  if (!put.ok()) {
    std::fprintf(stderr, "cannot store the bench users: %s\n", put.message.c_str());
    return 1;
  }
  for (bool cache : {false, true}) {
    identity::Authenticator auth(dir, cache);
    for (int round = 0; round < 2; ++round) {
      auto t0 = std::chrono::steady_clock::now();
      int ok = 0;
      for (int i = 0; i < users; ++i) {
        auto r = auth.authenticate("bench/device_" + std::to_string(i),
                                   "secret-" + std::to_string(i), "");
        ok += r.ok();
      }
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("cache=%-5s round=%d (%s): %d/%d ok, %.0f auth/s, %.1f us each\n",
                  cache ? "on" : "off", round + 1, round ? "reconnect storm" : "first connect", ok,
                  users, users / s, s * 1e6 / users);
    }
  }
  store.reset();
  std::filesystem::remove_all(tmpl);
  return 0;
}
