// Plugin options (plugin_opt_* lines of mosquitto.conf), their defaults and validation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/common/limits.h"
#include "storage/store.h"

namespace c8y::app {

struct Options {
  std::string data_dir = "/var/lib/mosquitto-c8y";
  unsigned node_id = 1;           // 0..999, part of every generated id
  std::string provisioning_file;  // empty: none
  unsigned rest_port = 8111;      // 0: REST disabled
  // "" (default): 127.0.0.1 for plain HTTP, 0.0.0.0 with TLS (plain HTTP is not offered to
  // the network unless configured so).
  std::string rest_bind;
  std::string rest_tls_cert_file;  // both set: the REST API speaks HTTPS only
  std::string rest_tls_key_file;
  // Open REST connections of one client address (more are closed at once); 1..1024. Clients
  // behind one NAT or proxy share an address.
  unsigned rest_max_connections_per_address = 64;
  // Seconds a REST request may take to arrive whole (head and body), counted from the connection
  // opening or the previous answer on it; a slower one is disconnected. 1..3600.
  unsigned rest_request_timeout_s = 30;
  size_t message_size_limit = 16184;  // whole PUBLISH packet, bytes (upstream, wills, downstream)
  std::string bootstrap_secret_file;  // empty: bootstrap user disabled
  // Bootstrap polls (s/ucr) of one connection closer together than this are ignored, and a
  // connection that keeps polling that fast is disconnected (the platform documents no interval).
  unsigned bootstrap_poll_interval_ms = 1000;
  storage::Durability durability = storage::Durability::kWal;
  // RocksDB's fixed memory, MiB: one column family's memtable (a tenant's writes are buffered up
  // to this before a flush; up to three while flushes lag), the memtables of all families
  // together (a flush of the largest is forced beyond it), and the block cache shared by all.
  unsigned memtable_mb = 32;
  unsigned memtable_budget_mb = 256;
  unsigned block_cache_mb = 64;
  unsigned session_expiry_s = 86400;  // like persistent_client_expiration: frees client ids
  bool credential_cache = true;       // off only for measuring its effect
  // The capath of the client-certificate listener (8884), kept current from the tenants'
  // trusted CAs; empty: no directory is written (CAs are still checked at CONNECT).
  std::string trust_dir;
  unsigned device_token_lifetime_s = 3600;  // s/uat tokens; 300..2592000
  // Where POST /admin/backups puts its backups (writable by user mosquitto); empty: off.
  std::string backup_dir;
  // Node-wide defaults of the per-tenant limits (0: none); a tenant's options.limits override
  // them (identity/limits.h).
  common::Limits limits;
  // A token bucket holds this many seconds of its rate (at least one message): a device may
  // send a burst at its start, or after a quiet spell, without being refused. 1..3600.
  unsigned limit_burst_s = 5;
  // Retention (domain/retention.h): the node-wide default age in days of every tenant without a
  // catch-all rule of its own (0: none), and the seconds between automatic passes (0: only
  // POST /admin/retention).
  unsigned retention_days = 0;
  unsigned retention_interval_s = 3600;
  // Cluster (README "Cluster"): etcd's client URLs (empty: a single node, no etcd), this node's
  // name in the cluster (required with etcd; [a-z0-9_-], also its HAProxy backend name), the key
  // prefix of the cluster's records, the TTL of the node's lease in seconds (the time after
  // which a dead node is reported down), and the host:port other nodes reach its REST API on
  // (default: rest_bind:rest_port).
  std::vector<std::string> cluster_etcd;
  std::string cluster_node;
  std::string cluster_prefix = "/c8y/";
  unsigned cluster_lease_ttl_s = 5;
  std::string cluster_rest_advertise;
  // How long a CONNECT may wait on the broker thread for etcd when it claims a client id for
  // the first time (ms; then the connection is accepted and the claim made in the background).
  unsigned cluster_claim_timeout_ms = 250;
  // How long first claims may wait for etcd on the broker thread per second in all (ms; past it
  // they are provisional for the rest of the second; 0: no limit).
  unsigned cluster_claim_budget_ms = 200;
};

// Checks the options together, after the last one was applied (an error text, or nullopt).
std::optional<std::string> check_options(const Options& options);

// Applies one option. Returns an error text naming the option when the key is unknown or the
// value is invalid.
std::optional<std::string> apply_option(Options& options, std::string_view key,
                                        std::string_view value);

}  // namespace c8y::app
