// A GoogleTest fixture over one real etcd member, started once per test suite: each test gets a
// client and a key prefix of its own (named after the test), so no test sees another's records.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "plugin/cluster/etcd_client.h"
#include "plugin/cluster/registry.h"
#include "tests/cluster/etcd_cluster.h"

namespace c8y::cluster {

class OneEtcdMemberTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    etcd_ = new testing::EtcdCluster(1);
    std::string error;
    ASSERT_TRUE(etcd_->start(std::chrono::seconds(20), &error)) << error;
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(etcd_->restore(std::chrono::seconds(20), &error)) << error;
    EtcdOptions o;
    o.endpoints = etcd_->endpoints();
    client_ = std::make_unique<EtcdClient>(o);
    keys_ =
        Keys("/t-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }
  // The tenant's placement as stored now.
  std::optional<Placement> stored(const std::string& tenant) {
    KeyValue kv;
    if (!client_->get(keys_.tenant(tenant), &kv).ok()) return std::nullopt;
    return decode_placement(kv.value);
  }

  static inline testing::EtcdCluster* etcd_ = nullptr;
  std::unique_ptr<EtcdClient> client_;
  Keys keys_;
};

}  // namespace c8y::cluster
