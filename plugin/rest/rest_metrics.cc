// GET /metrics: the Prometheus text exposition of what the node and each tenant did (open, like
// /health: scrapers carry no credentials; the REST port's bind address and firewall keep it
// from the public). Names and units follow Prometheus's conventions: counters end in _total,
// times are seconds, sizes bytes.
#include "plugin/common/metrics.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::metrics {

namespace {

using common::MetricsText;

// One family with one sample per tenant.
template <typename Get>
void per_tenant(MetricsText& out, const std::vector<domain::TenantSpace*>& spaces,
                std::string_view name, std::string_view type, std::string_view help, Get get) {
  out.family(name, type, help);
  for (auto* s : spaces) out.sample(name, {{"tenant", s->id}}, get(s->metrics));
}

void tenants(MetricsText& out, std::vector<domain::TenantSpace*> spaces) {
  std::sort(spaces.begin(), spaces.end(), [](auto* a, auto* b) { return a->id < b->id; });
  out.family("c8y_messages_received_total", "counter",
             "Items devices sent over MQTT: SmartREST lines and JSON items, by kind.");
  for (auto* s : spaces)
    for (size_t k = 0; k < common::kMessageKinds; ++k)
      out.sample(
          "c8y_messages_received_total",
          {{"tenant", s->id}, {"kind", common::kind_name(static_cast<common::MessageKind>(k))}},
          s->metrics.received[k].get());
  per_tenant(out, spaces, "c8y_received_bytes_total", "counter",
             "Payload bytes of the PUBLISH packets devices sent.",
             [](auto& m) { return m.received_bytes.get(); });
  per_tenant(out, spaces, "c8y_sent_bytes_total", "counter",
             "Payload bytes sent to devices (answers, errors, operations).",
             [](auto& m) { return m.sent_bytes.get(); });
  per_tenant(out, spaces, "c8y_errors_sent_total", "counter",
             "Errors reported to devices: s/e lines and JSON error messages.",
             [](auto& m) { return m.errors_sent.get(); });
  per_tenant(out, spaces, "c8y_connections_accepted_total", "counter",
             "MQTT connections accepted (devices, admins, bootstrap).",
             [](auto& m) { return m.connections_accepted.get(); });
  per_tenant(out, spaces, "c8y_devices_connected", "gauge", "Device connections open now.",
             [](auto& m) { return m.devices_connected.get(); });
  out.family("c8y_operations_total", "counter",
             "Operations that reached a status (PENDING: created).");
  for (auto* s : spaces)
    for (size_t i = 0; i < common::kOperationStatuses.size(); ++i)
      out.sample("c8y_operations_total",
                 {{"tenant", s->id}, {"status", common::kOperationStatuses[i]}},
                 s->metrics.operations[i].get());
}

// Each tenant's effective limits (0: none) and what they refused.
void limits(MetricsText& out, const std::vector<domain::TenantSpace*>& spaces) {
  out.family("c8y_limit", "gauge",
             "A tenant's effective limit (its own or the node's default; 0: no limit).");
  for (auto* s : spaces) {
    const common::Limits l = s->limits.get();
    const double values[common::kLimitKinds] = {
        static_cast<double>(l.devices), l.device_messages_per_s, l.tenant_messages_per_s,
        static_cast<double>(l.stored_bytes), l.rest_requests_per_s};
    for (size_t k = 0; k < common::kLimitKinds; ++k)
      out.sample(
          "c8y_limit",
          {{"tenant", s->id}, {"limit", common::limit_name(static_cast<common::LimitKind>(k))}},
          values[k]);
  }
  out.family("c8y_limited_total", "counter",
             "What a limit refused: CONNECTs (devices), PUBLISHes (rates, stored bytes), REST "
             "requests (rest rate), by limit.");
  for (auto* s : spaces)
    for (size_t k = 0; k < common::kLimitKinds; ++k)
      out.sample(
          "c8y_limited_total",
          {{"tenant", s->id}, {"limit", common::limit_name(static_cast<common::LimitKind>(k))}},
          s->metrics.limited[k].get());
}

void retention(MetricsText& out, const std::vector<domain::TenantSpace*>& spaces) {
  out.family("c8y_retention_removed_total", "counter",
             "Data the retention passes removed, by kind.");
  for (auto* s : spaces)
    for (size_t k = 0; k < common::kRetentionKinds.size(); ++k)
      out.sample("c8y_retention_removed_total",
                 {{"tenant", s->id}, {"kind", common::kRetentionKinds[k]}},
                 s->metrics.retention_removed[k].get());
}

void refusals(MetricsText& out, const std::vector<domain::TenantSpace*>& spaces,
              const common::NodeMetrics& node) {
  constexpr std::string_view name = "c8y_connections_refused_total";
  out.family(name, "counter",
             "MQTT connections refused, by reason; tenant \"\" when the user name names no tenant "
             "of this node.");
  for (size_t r = 0; r < common::kRefusalReasons; ++r) {
    const char* reason = common::reason_name(static_cast<common::RefusalReason>(r));
    out.sample(name, {{"tenant", ""}, {"reason", reason}}, node.refused_without_tenant[r].get());
    for (auto* s : spaces)
      out.sample(name, {{"tenant", s->id}, {"reason", reason}},
                 s->metrics.connections_refused[r].get());
  }
}

void node(MetricsText& out, RestContext& ctx) {
  const auto& n = ctx.metrics;
  out.family("c8y_rest_requests_total", "counter", "REST requests answered, by status class.");
  for (size_t i = 0; i < n.rest_requests.size(); ++i) {
    const std::string code = std::to_string(i + 1) + "xx";
    out.sample("c8y_rest_requests_total", {{"code", code}}, n.rest_requests[i].get());
  }
  out.family("c8y_rest_request_duration_seconds", "histogram",
             "Time from a routed request read whole to its answer ready.");
  out.histogram("c8y_rest_request_duration_seconds", {}, n.rest_duration);
  const auto& a = ctx.authenticator.stats();
  out.single("c8y_credential_cache_hits_total", "counter",
             "Password logins the credential cache accepted without hashing.", a.cache_hits.get());
  out.single("c8y_password_checks_total", "counter",
             "Password hashes computed (credential cache misses).", a.password_checks.get());
  out.single("c8y_auth_backoffs_total", "counter",
             "Logins (MQTT and REST) refused unheard: the user or address is in back-off.",
             a.backoffs.get());
  out.single("c8y_bootstrap_polls_total", "counter", "s/ucr polls of the bootstrap user.",
             n.bootstrap_polls.get());

  const storage::StoreMetrics s = ctx.store.metrics();
  out.single("c8y_ingest_log_records", "gauge",
             "Records acknowledged to devices and not yet in RocksDB.", s.ingest_records);
  out.single("c8y_ingest_log_bytes", "gauge", "Ring space those records take.", s.ingest_bytes);
  out.single("c8y_ingest_log_capacity_bytes", "gauge", "Size of the ingest log's ring.",
             s.ingest_capacity_bytes);
  out.single("c8y_storage_writer_lag_seconds", "gauge",
             "Since the storage writer last had every appended record in RocksDB (0: idle).",
             s.writer_lag_seconds);
  out.single("c8y_rocksdb_flushes_total", "counter", "Memtable flushes finished.", s.flushes);
  out.single("c8y_rocksdb_compactions_total", "counter", "Compactions finished.", s.compactions);
  out.single("c8y_rocksdb_stall_seconds_total", "counter",
             "Time writes were delayed or stopped by RocksDB's write controller.",
             static_cast<double>(s.stall_micros) / 1e6);
  out.single("c8y_rocksdb_block_cache_hits_total", "counter", "Block cache hits.",
             s.block_cache_hits);
  out.single("c8y_rocksdb_block_cache_misses_total", "counter", "Block cache misses.",
             s.block_cache_misses);
  out.single("c8y_rocksdb_memtable_bytes", "gauge",
             "Memory of every column family's memtables (active, immutable and flushing).",
             s.memtable_bytes);
  out.single("c8y_rocksdb_block_cache_bytes", "gauge",
             "Block cache usage: blocks read plus the memtables' reservations in it.",
             s.block_cache_bytes);
  out.single("c8y_rocksdb_block_cache_capacity_bytes", "gauge", "Block cache capacity.",
             s.block_cache_capacity_bytes);
  out.family("c8y_storage_bytes", "gauge",
             "A tenant's data in RocksDB: SST files plus memtables (its column family).");
  for (auto& [tenant, bytes] : s.tenant_bytes)
    out.sample("c8y_storage_bytes", {{"tenant", tenant}}, bytes);
}

}  // namespace

void render(RestContext& ctx, const Caller&, const Request&, Response& res) {
  MetricsText out;
  auto spaces = ctx.spaces.all();
  tenants(out, spaces);
  limits(out, spaces);
  retention(out, spaces);
  refusals(out, spaces, ctx.metrics);
  node(out, ctx);
  res.status = 200;
  res.set_content(out.take(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace c8y::rest::metrics
