// A fresh directory under $TMPDIR (or /tmp) for tests that open a real storage::Store; removed
// with everything in it when the object goes out of scope.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/store.h"

namespace c8y::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/c8y_unit_XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    if (!p) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Opens (creating) a store in this directory; fails the test if it cannot.
  std::unique_ptr<storage::Store> open_store(
      storage::Durability durability = storage::Durability::kWal) const {
    storage::StoreOptions o;
    o.path = path_ + "/db";
    o.durability = durability;
    o.block_cache_bytes = 1u << 20;
    o.write_buffer_bytes = 8u << 20;
    o.family_write_buffer = 1u << 20;
    o.ingest_log_bytes = 1u << 20;
    std::string error;
    auto store = storage::Store::open(o, &error);
    if (!store) ADD_FAILURE() << "cannot open store: " << error;
    return store;
  }

 private:
  std::string path_;
};

}  // namespace c8y::testing
