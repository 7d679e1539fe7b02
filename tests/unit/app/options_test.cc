#include "plugin/app/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace c8y::app {
namespace {

TEST(Options, Defaults) {
  Options o;
  EXPECT_EQ(o.data_dir, "/var/lib/mosquitto-c8y");
  EXPECT_EQ(o.node_id, 1u);
  EXPECT_EQ(o.provisioning_file, "");
  EXPECT_EQ(o.rest_port, 8111u);
  EXPECT_EQ(o.rest_bind, "");  // chosen at start: 127.0.0.1 for HTTP, 0.0.0.0 for HTTPS
  EXPECT_EQ(o.trust_dir, "");
  EXPECT_EQ(o.device_token_lifetime_s, 3600u);
  EXPECT_EQ(o.message_size_limit, 16184u);
  EXPECT_EQ(o.bootstrap_secret_file, "");
  EXPECT_EQ(o.durability, storage::Durability::kWal);
  EXPECT_EQ(o.session_expiry_s, 86400u);
  EXPECT_TRUE(o.credential_cache);
  EXPECT_EQ(o.rest_max_connections_per_address, 64u);
  EXPECT_EQ(o.rest_request_timeout_s, 30u);
  EXPECT_EQ(o.limits, common::Limits{});  // no limits
  EXPECT_EQ(o.limit_burst_s, 5u);
  EXPECT_EQ(o.memtable_mb, 32u);  // RocksDB's own defaults of the store (storage/store.h)
  EXPECT_EQ(size_t{o.memtable_mb} << 20, storage::StoreOptions{}.family_write_buffer);
  EXPECT_EQ(size_t{o.memtable_budget_mb} << 20, storage::StoreOptions{}.write_buffer_bytes);
  EXPECT_EQ(size_t{o.block_cache_mb} << 20, storage::StoreOptions{}.block_cache_bytes);
}

// Applies a valid option, failing the test on an error.
void ok(Options& o, std::string_view key, std::string_view value) {
  auto e = apply_option(o, key, value);
  EXPECT_FALSE(e) << key << "=" << value << ": " << *e;
}

// Applies an invalid option: the error names plugin_opt_<key> and the options are unchanged.
void bad(std::string_view key, std::string_view value) {
  Options o;
  auto e = apply_option(o, key, value);
  ASSERT_TRUE(e) << key << "=" << value << " accepted";
  EXPECT_NE(e->find("plugin_opt_" + std::string(key)), std::string::npos) << *e;
  Options fresh;
  EXPECT_EQ(o.data_dir, fresh.data_dir);
  EXPECT_EQ(o.node_id, fresh.node_id);
  EXPECT_EQ(o.rest_port, fresh.rest_port);
  EXPECT_EQ(o.message_size_limit, fresh.message_size_limit);
  EXPECT_EQ(o.durability, fresh.durability);
  EXPECT_EQ(o.session_expiry_s, fresh.session_expiry_s);
  EXPECT_EQ(o.credential_cache, fresh.credential_cache);
  EXPECT_EQ(o.rest_max_connections_per_address, fresh.rest_max_connections_per_address);
  EXPECT_EQ(o.rest_request_timeout_s, fresh.rest_request_timeout_s);
  EXPECT_EQ(o.limits, fresh.limits);
  EXPECT_EQ(o.limit_burst_s, fresh.limit_burst_s);
  EXPECT_EQ(o.memtable_mb, fresh.memtable_mb);
  EXPECT_EQ(o.memtable_budget_mb, fresh.memtable_budget_mb);
  EXPECT_EQ(o.block_cache_mb, fresh.block_cache_mb);
}

TEST(Options, DataDir) {
  Options o;
  ok(o, "data_dir", "/srv/c8y");
  EXPECT_EQ(o.data_dir, "/srv/c8y");
  ok(o, "data_dir", "/");
  EXPECT_EQ(o.data_dir, "/");
  bad("data_dir", "");
  bad("data_dir", "relative/path");
  bad("data_dir", "./x");
  bad("data_dir", " /x");
}

TEST(Options, NodeId) {
  Options o;
  ok(o, "node_id", "0");
  EXPECT_EQ(o.node_id, 0u);
  ok(o, "node_id", "999");
  EXPECT_EQ(o.node_id, 999u);
  ok(o, "node_id", "42");
  EXPECT_EQ(o.node_id, 42u);
  for (const char* v :
       {"1000", "-1", "", "abc", "1x", " 1", "1 ", "+1", "0x10", "1.0", "99999999999999999999999"})
    bad("node_id", v);
}

TEST(Options, RestPort) {
  Options o;
  ok(o, "rest_port", "0");
  EXPECT_EQ(o.rest_port, 0u);
  ok(o, "rest_port", "65535");
  EXPECT_EQ(o.rest_port, 65535u);
  ok(o, "rest_port", "8080");
  EXPECT_EQ(o.rest_port, 8080u);
  for (const char* v : {"65536", "-1", "", "http", "80 ", "4294967296"}) bad("rest_port", v);
}

TEST(Options, RestConnectionLimits) {
  Options o;
  ok(o, "rest_max_connections_per_address", "1");
  EXPECT_EQ(o.rest_max_connections_per_address, 1u);
  ok(o, "rest_max_connections_per_address", "1024");
  EXPECT_EQ(o.rest_max_connections_per_address, 1024u);
  for (const char* v : {"0", "1025", "-1", "", "many", "64 "})
    bad("rest_max_connections_per_address", v);
  ok(o, "rest_request_timeout", "1");
  EXPECT_EQ(o.rest_request_timeout_s, 1u);
  ok(o, "rest_request_timeout", "3600");
  EXPECT_EQ(o.rest_request_timeout_s, 3600u);
  for (const char* v : {"0", "3601", "-5", "", "30s"}) bad("rest_request_timeout", v);
}

TEST(Options, MessageSizeLimit) {
  Options o;
  ok(o, "message_size_limit", "64");
  EXPECT_EQ(o.message_size_limit, 64u);
  ok(o, "message_size_limit", "268435455");
  EXPECT_EQ(o.message_size_limit, 268435455u);
  ok(o, "message_size_limit", "16384");
  EXPECT_EQ(o.message_size_limit, 16384u);
  for (const char* v : {"63", "0", "268435456", "", "16k", "-100", "18446744073709551616"})
    bad("message_size_limit", v);
}

TEST(Options, Durability) {
  Options o;
  ok(o, "durability", "batched");
  EXPECT_EQ(o.durability, storage::Durability::kBatched);
  ok(o, "durability", "wal");
  EXPECT_EQ(o.durability, storage::Durability::kWal);
  for (const char* v : {"", "WAL", "Batched", "sync", "none", "wal "}) bad("durability", v);
}

TEST(Options, RocksDbMemory) {
  Options o;
  ok(o, "memtable_mb", "4");
  EXPECT_EQ(o.memtable_mb, 4u);
  ok(o, "memtable_mb", "1024");
  EXPECT_EQ(o.memtable_mb, 1024u);
  ok(o, "memtable_budget_mb", "64");
  EXPECT_EQ(o.memtable_budget_mb, 64u);
  ok(o, "block_cache_mb", "16");
  EXPECT_EQ(o.block_cache_mb, 16u);
  for (const char* v : {"0", "", "-1", "32M", "1.5", "4294967297"}) {
    bad("memtable_mb", v);
    bad("memtable_budget_mb", v);
    bad("block_cache_mb", v);
  }
  bad("memtable_mb", "1025");
  bad("memtable_budget_mb", "65537");
  bad("block_cache_mb", "65537");
}

TEST(Options, SessionExpiry) {
  Options o;
  ok(o, "session_expiry", "1");
  EXPECT_EQ(o.session_expiry_s, 1u);
  ok(o, "session_expiry", "3600");
  EXPECT_EQ(o.session_expiry_s, 3600u);
  ok(o, "session_expiry", "4294967295");
  EXPECT_EQ(o.session_expiry_s, 4294967295u);
  for (const char* v : {"0", "", "-1", "1h", "1.5"}) bad("session_expiry", v);
  // Values that do not fit the field are refused, not wrapped (4294967296 would become 0).
  bad("session_expiry", "4294967296");
  bad("session_expiry", "4294971696");  // 2^32 + 4400 would become 4400
}

TEST(Options, BootstrapPollInterval) {
  Options o;
  EXPECT_EQ(o.bootstrap_poll_interval_ms, 1000u);
  ok(o, "bootstrap_poll_interval", "0");
  EXPECT_EQ(o.bootstrap_poll_interval_ms, 0u);
  ok(o, "bootstrap_poll_interval", "3600000");
  EXPECT_EQ(o.bootstrap_poll_interval_ms, 3600000u);
  for (const char* v : {"", "-1", "3600001", "1s", "1.5"}) bad("bootstrap_poll_interval", v);
}

TEST(Options, CredentialCache) {
  Options o;
  ok(o, "credential_cache", "false");
  EXPECT_FALSE(o.credential_cache);
  ok(o, "credential_cache", "true");
  EXPECT_TRUE(o.credential_cache);
  for (const char* v : {"", "0", "1", "yes", "no", "TRUE", "False", "off"})
    bad("credential_cache", v);
}

TEST(Options, FreeTextOptions) {
  Options o;
  ok(o, "provisioning_file", "/etc/mosquitto/c8y.json");
  EXPECT_EQ(o.provisioning_file, "/etc/mosquitto/c8y.json");
  ok(o, "provisioning_file", "");
  EXPECT_EQ(o.provisioning_file, "");
  ok(o, "rest_bind", "127.0.0.1");
  EXPECT_EQ(o.rest_bind, "127.0.0.1");
  ok(o, "bootstrap_secret_file", "/run/secrets/bootstrap");
  EXPECT_EQ(o.bootstrap_secret_file, "/run/secrets/bootstrap");
}

TEST(Options, CertificatesTokensAndRestTls) {
  Options o;
  ok(o, "trust_dir", "/var/lib/mosquitto-c8y/trust");
  EXPECT_EQ(o.trust_dir, "/var/lib/mosquitto-c8y/trust");
  for (const char* v : {"", "relative/dir"}) bad("trust_dir", v);
  ok(o, "device_token_lifetime", "300");
  EXPECT_EQ(o.device_token_lifetime_s, 300u);
  ok(o, "device_token_lifetime", "2592000");
  EXPECT_EQ(o.device_token_lifetime_s, 2592000u);
  for (const char* v : {"299", "0", "2592001", "", "1h"}) bad("device_token_lifetime", v);
  ok(o, "rest_tls_cert_file", "/etc/c8y/rest.crt");
  ok(o, "rest_tls_key_file", "/etc/c8y/rest.key");
  EXPECT_EQ(o.rest_tls_cert_file, "/etc/c8y/rest.crt");
  EXPECT_EQ(o.rest_tls_key_file, "/etc/c8y/rest.key");
  for (const char* v : {"", "rest.crt"}) {
    bad("rest_tls_cert_file", v);
    bad("rest_tls_key_file", v);
  }
}

TEST(Options, ErrorTextNamesTheValue) {
  Options o;
  auto e = apply_option(o, "node_id", "1000");
  ASSERT_TRUE(e);
  EXPECT_NE(e->find("plugin_opt_node_id"), std::string::npos) << *e;
  EXPECT_NE(e->find("1000"), std::string::npos) << *e;
}

TEST(Options, UnknownKey) {
  for (const char* k : {"unknown", "", "NODE_ID", "node_id ", "plugin_opt_node_id", "data-dir"}) {
    Options o;
    auto e = apply_option(o, k, "1");
    ASSERT_TRUE(e) << k;
    EXPECT_NE(e->find("unknown option plugin_opt_" + std::string(k)), std::string::npos) << *e;
    EXPECT_EQ(o.node_id, 1u);
  }
}

TEST(Options, LaterValueWins) {
  Options o;
  ok(o, "node_id", "5");
  ok(o, "node_id", "7");
  EXPECT_EQ(o.node_id, 7u);
  // An invalid later value keeps the earlier valid one.
  EXPECT_TRUE(apply_option(o, "node_id", "x"));
  EXPECT_EQ(o.node_id, 7u);
}

TEST(Options, Limits) {
  Options o;
  ok(o, "limit_devices", "1000");
  ok(o, "limit_device_messages_per_second", "10");
  ok(o, "limit_tenant_messages_per_second", "5000");
  ok(o, "limit_stored_bytes", "10737418240");
  ok(o, "limit_rest_requests_per_second", "50");
  ok(o, "limit_burst_seconds", "2");
  EXPECT_EQ(o.limits, (common::Limits{1000, 10, 5000, 10737418240ull, 50}));
  EXPECT_EQ(o.limit_burst_s, 2u);
  ok(o, "limit_devices", "0");
  EXPECT_EQ(o.limits.devices, 0u);
  bad("limit_devices", "-1");
  bad("limit_devices", "many");
  bad("limit_device_messages_per_second", "1.5");
  bad("limit_tenant_messages_per_second", "2000000000");
  bad("limit_rest_requests_per_second", "");
  bad("limit_burst_seconds", "0");
  bad("limit_burst_seconds", "3601");
}

TEST(Options, Retention) {
  Options o;
  EXPECT_EQ(o.retention_days, 0u);
  EXPECT_EQ(o.retention_interval_s, 3600u);
  EXPECT_FALSE(apply_option(o, "retention_days", "90"));
  EXPECT_FALSE(apply_option(o, "retention_interval", "0"));
  EXPECT_EQ(o.retention_days, 90u);
  EXPECT_EQ(o.retention_interval_s, 0u);
  EXPECT_TRUE(apply_option(o, "retention_days", "-1"));
  EXPECT_TRUE(apply_option(o, "retention_days", "1000001"));
  EXPECT_TRUE(apply_option(o, "retention_interval", "1h"));
  EXPECT_TRUE(apply_option(o, "retention_interval", "31536001"));
  EXPECT_EQ(o.retention_days, 90u);
}

TEST(Options, Cluster) {
  Options o;
  EXPECT_TRUE(o.cluster_etcd.empty());  // a single node by default
  EXPECT_FALSE(check_options(o));
  ok(o, "cluster_etcd", "http://127.0.0.1:2379,http://10.0.0.2:2379");
  EXPECT_EQ(o.cluster_etcd,
            (std::vector<std::string>{"http://127.0.0.1:2379", "http://10.0.0.2:2379"}));
  auto e = check_options(o);  // etcd without a node name
  ASSERT_TRUE(e);
  EXPECT_NE(e->find("plugin_opt_cluster_node"), std::string::npos) << *e;
  ok(o, "cluster_node", "node-2_b");
  EXPECT_FALSE(check_options(o));
  ok(o, "cluster_prefix", "/prod/c8y");
  EXPECT_EQ(o.cluster_prefix, "/prod/c8y/");
  EXPECT_EQ(o.cluster_lease_ttl_s, 5u);
  ok(o, "cluster_lease_ttl", "10");
  EXPECT_EQ(o.cluster_lease_ttl_s, 10u);
  ok(o, "cluster_rest_advertise", "10.0.0.1:8111");
  EXPECT_EQ(o.cluster_rest_advertise, "10.0.0.1:8111");
  for (auto v : {"", "127.0.0.1:2379", "http://a,", ",http://a", "http://a,,http://b"})
    bad("cluster_etcd", v);
  for (auto v : {"", "N1", "n.1", "n/1", "a23456789012345678901234567890123"})
    bad("cluster_node", v);
  bad("cluster_prefix", "c8y/");
  bad("cluster_lease_ttl", "1");
  bad("cluster_lease_ttl", "301");
  bad("cluster_rest_advertise", "10.0.0.1");
  Options kept;  // a refused URL list leaves the one before
  ok(kept, "cluster_etcd", "http://a:1");
  EXPECT_TRUE(apply_option(kept, "cluster_etcd", "http://b:1,x"));
  EXPECT_EQ(kept.cluster_etcd, std::vector<std::string>{"http://a:1"});
}

TEST(Options, ClusterClaimTimeout) {
  Options o;
  EXPECT_EQ(o.cluster_claim_timeout_ms, 250u);
  ok(o, "cluster_claim_timeout_ms", "100");
  EXPECT_EQ(o.cluster_claim_timeout_ms, 100u);
  for (auto v : {"", "9", "5001", "-1", "1s"}) bad("cluster_claim_timeout_ms", v);
  EXPECT_EQ(o.cluster_claim_budget_ms, 200u);
  ok(o, "cluster_claim_budget_ms", "0");  // no limit
  EXPECT_EQ(o.cluster_claim_budget_ms, 0u);
  ok(o, "cluster_claim_budget_ms", "1000");
  EXPECT_EQ(o.cluster_claim_budget_ms, 1000u);
  for (auto v : {"", "1001", "-1", "x"}) bad("cluster_claim_budget_ms", v);
}

}  // namespace
}  // namespace c8y::app
