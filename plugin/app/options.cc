#include "plugin/app/options.h"

#include <charconv>
#include <limits>

namespace c8y::app {
namespace {

std::optional<unsigned long> parse_unsigned(std::string_view v) {
  unsigned long out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return out;
}

std::string bad(std::string_view key, std::string_view value, std::string_view why) {
  return "plugin_opt_" + std::string(key) + ": invalid value '" + std::string(value) + "' (" +
         std::string(why) + ")";
}

bool valid_cluster_node_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

std::optional<std::string> check_options(const Options& o) {
  if (!o.cluster_etcd.empty() && o.cluster_node.empty())
    return "plugin_opt_cluster_etcd needs plugin_opt_cluster_node (this node's name in the "
           "cluster)";
  return std::nullopt;
}

std::optional<std::string> apply_option(Options& o, std::string_view key, std::string_view value) {
  if (key == "data_dir") {
    if (value.empty() || value[0] != '/') return bad(key, value, "an absolute path is required");
    o.data_dir = std::string(value);
  } else if (key == "node_id") {
    auto n = parse_unsigned(value);
    if (!n || *n > 999) return bad(key, value, "a number 0..999 is required");
    o.node_id = static_cast<unsigned>(*n);
  } else if (key == "provisioning_file") {
    o.provisioning_file = std::string(value);
  } else if (key == "rest_port") {
    auto n = parse_unsigned(value);
    if (!n || *n > 65535) return bad(key, value, "a port 0..65535 is required, 0 disables REST");
    o.rest_port = static_cast<unsigned>(*n);
  } else if (key == "rest_bind") {
    o.rest_bind = std::string(value);
  } else if (key == "rest_tls_cert_file" || key == "rest_tls_key_file") {
    if (value.empty() || value[0] != '/') return bad(key, value, "an absolute path is required");
    (key == "rest_tls_cert_file" ? o.rest_tls_cert_file : o.rest_tls_key_file) = std::string(value);
  } else if (key == "rest_max_connections_per_address") {
    auto n = parse_unsigned(value);
    if (!n || *n < 1 || *n > 1024) return bad(key, value, "connections, 1..1024");
    o.rest_max_connections_per_address = static_cast<unsigned>(*n);
  } else if (key == "rest_request_timeout") {
    auto n = parse_unsigned(value);
    if (!n || *n < 1 || *n > 3600) return bad(key, value, "seconds, 1..3600");
    o.rest_request_timeout_s = static_cast<unsigned>(*n);
  } else if (key == "message_size_limit") {
    auto n = parse_unsigned(value);
    if (!n || *n < 64 || *n > 268435455) return bad(key, value, "bytes, 64..268435455");
    o.message_size_limit = *n;
  } else if (key == "bootstrap_secret_file") {
    o.bootstrap_secret_file = std::string(value);
  } else if (key == "backup_dir") {
    if (value.empty() || value[0] != '/') return bad(key, value, "an absolute path is required");
    o.backup_dir = std::string(value);
  } else if (key == "retention_days") {
    auto n = parse_unsigned(value);
    if (!n || *n > 1'000'000) return bad(key, value, "days, 0..1000000, 0 = no node default");
    o.retention_days = static_cast<unsigned>(*n);
  } else if (key == "retention_interval") {
    auto n = parse_unsigned(value);
    if (!n || *n > 31'536'000)
      return bad(key, value, "seconds, 0..31536000, 0 = passes only on demand");
    o.retention_interval_s = static_cast<unsigned>(*n);
  } else if (key == "trust_dir") {
    if (value.empty() || value[0] != '/') return bad(key, value, "an absolute path is required");
    o.trust_dir = std::string(value);
  } else if (key == "device_token_lifetime") {
    auto n = parse_unsigned(value);
    if (!n || *n < 300 || *n > 2'592'000) return bad(key, value, "seconds, 300..2592000");
    o.device_token_lifetime_s = static_cast<unsigned>(*n);
  } else if (key == "bootstrap_poll_interval") {
    auto n = parse_unsigned(value);
    if (!n || *n > 3'600'000) return bad(key, value, "milliseconds, 0..3600000");
    o.bootstrap_poll_interval_ms = static_cast<unsigned>(*n);
  } else if (key == "durability") {
    if (value == "wal")
      o.durability = storage::Durability::kWal;
    else if (value == "batched")
      o.durability = storage::Durability::kBatched;
    else
      return bad(key, value, "'wal' or 'batched'");
  } else if (key == "memtable_mb" || key == "memtable_budget_mb" || key == "block_cache_mb") {
    auto n = parse_unsigned(value);
    const unsigned long most = key == "memtable_mb" ? 1024 : 65536;
    if (!n || *n < 1 || *n > most) return bad(key, value, "MiB, 1.." + std::to_string(most));
    (key == "memtable_mb"          ? o.memtable_mb
     : key == "memtable_budget_mb" ? o.memtable_budget_mb
                                   : o.block_cache_mb) = static_cast<unsigned>(*n);
  } else if (key == "session_expiry") {
    auto n = parse_unsigned(value);
    if (!n || *n == 0 || *n > std::numeric_limits<unsigned>::max())
      return bad(key, value, "seconds, 1..4294967295");
    o.session_expiry_s = static_cast<unsigned>(*n);
  } else if (key == "credential_cache") {
    if (value == "true")
      o.credential_cache = true;
    else if (value == "false")
      o.credential_cache = false;
    else
      return bad(key, value, "'true' or 'false'");
  } else if (key == "limit_devices" || key == "limit_stored_bytes") {
    auto n = parse_unsigned(value);
    if (!n) return bad(key, value, "a non-negative integer is required, 0: no limit");
    (key == "limit_devices" ? o.limits.devices : o.limits.stored_bytes) = *n;
  } else if (key == "limit_device_messages_per_second" ||
             key == "limit_tenant_messages_per_second" || key == "limit_rest_requests_per_second") {
    auto n = parse_unsigned(value);
    if (!n || *n > 1'000'000'000) return bad(key, value, "per second, 0..1000000000, 0: no limit");
    double& into = key == "limit_device_messages_per_second"   ? o.limits.device_messages_per_s
                   : key == "limit_tenant_messages_per_second" ? o.limits.tenant_messages_per_s
                                                               : o.limits.rest_requests_per_s;
    into = static_cast<double>(*n);
  } else if (key == "limit_burst_seconds") {
    auto n = parse_unsigned(value);
    if (!n || *n < 1 || *n > 3600) return bad(key, value, "seconds, 1..3600");
    o.limit_burst_s = static_cast<unsigned>(*n);
  } else if (key == "cluster_etcd") {
    std::vector<std::string> urls;
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(',', start);
      std::string_view url = value.substr(start, end == std::string_view::npos ? end : end - start);
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        return bad(key, value, "comma-separated etcd client URLs (http://host:port) are required");
      urls.emplace_back(url);
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    o.cluster_etcd = std::move(urls);
  } else if (key == "cluster_node") {
    if (!valid_cluster_node_name(value)) return bad(key, value, "1-32 of a-z 0-9 _ - are required");
    o.cluster_node = std::string(value);
  } else if (key == "cluster_prefix") {
    if (value.empty() || value[0] != '/') return bad(key, value, "a key prefix starting with /");
    o.cluster_prefix = std::string(value);
    if (o.cluster_prefix.back() != '/') o.cluster_prefix += '/';
  } else if (key == "cluster_lease_ttl") {
    auto n = parse_unsigned(value);
    if (!n || *n < 2 || *n > 300) return bad(key, value, "seconds, 2..300");
    o.cluster_lease_ttl_s = static_cast<unsigned>(*n);
  } else if (key == "cluster_claim_budget_ms") {
    auto n = parse_unsigned(value);
    if (!n || *n > 1000) return bad(key, value, "milliseconds per second, 0..1000 (0: no limit)");
    o.cluster_claim_budget_ms = static_cast<unsigned>(*n);
  } else if (key == "cluster_claim_timeout_ms") {
    auto n = parse_unsigned(value);
    if (!n || *n < 10 || *n > 5000) return bad(key, value, "milliseconds, 10..5000");
    o.cluster_claim_timeout_ms = static_cast<unsigned>(*n);
  } else if (key == "cluster_rest_advertise") {
    if (value.find(':') == std::string_view::npos) return bad(key, value, "host:port is required");
    o.cluster_rest_advertise = std::string(value);
  } else {
    return "unknown option plugin_opt_" + std::string(key);
  }
  return std::nullopt;
}

}  // namespace c8y::app
