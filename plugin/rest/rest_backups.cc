// /admin/backups (the management tenant's admin only): online backups of the node into
// plugin_opt_backup_dir, and the list of what is there. A node backup is a RocksDB checkpoint
// taken after the ingest log settled: a complete data directory (scripts/restore.sh copies one
// into the data directory of a stopped node). A tenant backup ({"tenant": "<id>"}) is that
// tenant alone: its column family exported (`family/`, Store::export_tenant) and its records of
// the system family (tenant, users, trusted CAs, bootstrap registrations) in `system.json`;
// POST /admin/backups/{id}/restore brings it back on a running node that does not have the
// tenant (after a delete, or on another node).
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::backups {

namespace {

namespace fs = std::filesystem;

bool configured(RestContext& ctx, Response& res) {
  if (!ctx.backup_dir.empty()) return true;
  send_error(res, {409, "backup/notConfigured",
                   "Backups are off: set plugin_opt_backup_dir to a directory for them"});
  return false;
}

// "20261207T171600.123Z": sorts by time, unique per millisecond (a second backup within the same
// millisecond is refused by the existing directory).
std::string backup_name() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[80];
  std::snprintf(b, sizeof b, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return b;
}

uint64_t dir_bytes(const fs::path& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

constexpr const char* kSystemFile = "system.json";

// The tenant's records in the system family: "T" <id>, "U" <id> "/" ..., and the trusted CAs
// ("K") and registrations ("R") whose record names the tenant. Client ids are not kept (they
// are claimed again at the next CONNECT).
storage::StoreStatus system_records(RestContext& ctx, const std::string& tenant, json* out) {
  *out = json::array();
  auto add = [&](std::string_view k, std::string_view v) {
    out->push_back({{"key", std::string(k)}, {"value", std::string(v)}});
    return true;
  };
  std::string value;
  if (auto st = ctx.store.get(ctx.store.system(), "T" + tenant, &value); !st.ok()) return st;
  add("T" + tenant, value);
  if (auto st = ctx.store.scan(ctx.store.system(), "U" + tenant + "/", "", false, add); !st.ok())
    return st;
  for (const char* prefix : {"K", "R"}) {
    auto st = ctx.store.scan(ctx.store.system(), prefix, "", false, [&](auto k, auto v) {
      auto j = json::parse(v, nullptr, false);
      if (j.is_object() && j.value("tenant", "") == tenant) add(k, v);
      return true;
    });
    if (!st.ok()) return st;
  }
  return {};
}

}  // namespace

// The family export and the system records next to it (a tenant backup, a tenant handed over).
common::Status write_tenant(RestContext& ctx, const std::string& tenant, const std::string& dir,
                            uint64_t* bytes) {
  const fs::path path(dir);
  std::error_code ec;
  if (!fs::create_directory(path, ec))
    return common::Status{common::Status::kIo, "cannot create " + path.string()};
  json records;
  *bytes = 0;
  auto st = system_records(ctx, tenant, &records);
  if (st.ok()) st = ctx.store.export_tenant(tenant, (path / "family").string(), bytes);
  if (st.ok()) {
    const std::string text = json{{"tenant", tenant}, {"records", records}}.dump();
    std::ofstream out(path / kSystemFile, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out)
      st = common::Status{common::Status::kIo, "cannot write " + (path / kSystemFile).string()};
    *bytes += text.size();
  }
  if (!st.ok()) fs::remove_all(path, ec);
  return st;
}

namespace {

// A tenant backup: the family export and the system records next to it.
void create_tenant_backup(RestContext& ctx, const Caller& c, const std::string& tenant,
                          Response& res) {
  if (!ctx.directory.has_tenant(tenant) || !ctx.store.tenant(tenant))
    return send_error(res, {404, "tenant/Not Found", "Tenant " + tenant + " not found"});
  const std::string name = backup_name() + "-" + tenant;
  const fs::path path = fs::path(ctx.backup_dir) / name;
  const auto start = std::chrono::steady_clock::now();
  uint64_t bytes = 0;
  if (auto st = write_tenant(ctx, tenant, path.string(), &bytes); !st.ok()) {
    ctx.outbox.log(common::LogLevel::kError,
                   "c8y: backup of tenant " + tenant + " failed: " + st.message);
    return send_error(res, {500, "backup/failed", "Backup failed: " + st.message});
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ctx.outbox.log(common::LogLevel::kNotice, "c8y: backup of tenant " + tenant + " " +
                                                path.string() + " made by " + c.tenant + "/" +
                                                c.user + " (" + std::to_string(bytes) + " bytes)");
  send_json(res, 201,
            {{"id", name},
             {"tenant", tenant},
             {"path", path.string()},
             {"bytes", bytes},
             {"seconds", seconds}});
}

// The tenant a backup directory holds ("" for a node backup or something else).
std::string backup_tenant(const fs::path& dir, json* system = nullptr) {
  std::ifstream in(dir / kSystemFile, std::ios::binary);
  if (!in) return "";
  auto j = json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("tenant") || !j["tenant"].is_string() ||
      !j.contains("records") || !j["records"].is_array())
    return "";
  if (system) *system = j;
  return j["tenant"].get<std::string>();
}

}  // namespace

// Optional body {"tenant": "<id>"}: a tenant backup instead of the node's.
void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  if (!configured(ctx, res)) return;
  if (!req.body.empty()) {
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    if (body->contains("tenant")) {
      const json& t = (*body)["tenant"];
      if (!t.is_string())
        return send_error(res, {422, "validationError", "tenant must be a tenant id"});
      return create_tenant_backup(ctx, c, t.get<std::string>(), res);
    }
  }
  const std::string name = backup_name();
  const fs::path path = fs::path(ctx.backup_dir) / name;
  const auto start = std::chrono::steady_clock::now();
  uint64_t bytes = 0;
  if (auto st = ctx.store.checkpoint(path.string(), &bytes); !st.ok()) {
    ctx.outbox.log(common::LogLevel::kError,
                   "c8y: backup into " + path.string() + " failed: " + st.message);
    return send_error(res, {500, "backup/failed", "Backup failed: " + st.message});
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ctx.outbox.log(common::LogLevel::kNotice,
                 "c8y: backup " + path.string() + " made by " + c.tenant + "/" + c.user + " (" +
                     std::to_string(bytes) + " bytes, " + std::to_string(seconds) + " s)");
  send_json(res, 201,
            {{"id", name}, {"path", path.string()}, {"bytes", bytes}, {"seconds", seconds}});
}

void list(RestContext& ctx, const Caller&, const Request&, Response& res) {
  if (!configured(ctx, res)) return;
  std::vector<std::string> names;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(ctx.backup_dir, ec))
    if (e.is_directory(ec) &&
        (fs::exists(e.path() / "CURRENT", ec) || !backup_tenant(e.path()).empty()))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  json out = json::array();
  for (auto& n : names) {
    const fs::path p = fs::path(ctx.backup_dir) / n;
    const std::string tenant = backup_tenant(p);
    json b = {{"id", n},
              {"path", p.string()},
              {"bytes", dir_bytes(p) + (tenant.empty() ? 0 : dir_bytes(p / "family"))}};
    if (!tenant.empty()) b["tenant"] = tenant;
    out.push_back(std::move(b));
  }
  send_json(res, 200, {{"backups", out}});
}

// Makes `tenant` on this node from a directory write_tenant wrote (`system`: its system.json,
// read already). kConflict when the tenant exists here.
common::Status read_tenant(RestContext& ctx, const std::string& tenant, const std::string& dir,
                           const json& system) {
  const fs::path path(dir);
  if (ctx.directory.has_tenant(tenant) || ctx.store.tenant(tenant))
    return common::Status::Conflict("Tenant " + tenant + " exists on this node: delete it first");
  storage::Batch batch;
  for (const json& r : system["records"]) {
    if (!r.is_object() || !r.value("key", json()).is_string() ||
        !r.value("value", json()).is_string())
      return common::Status::Invalid("bad system record in " + dir);
    batch.put(ctx.store.system(), r["key"].get<std::string>(), r["value"].get<std::string>());
  }
  if (auto st = ctx.store.import_tenant(tenant, (path / "family").string()); !st.ok()) return st;
  if (auto st = ctx.store.write(batch); !st.ok()) return st;
  std::vector<std::string> warnings;
  auto st = ctx.directory.load();
  if (st.ok()) st = ctx.trusted_cas.load(&warnings);
  if (st.ok()) st = ctx.registrations.load();
  for (auto& w : warnings) ctx.outbox.log(common::LogLevel::kWarning, "c8y: " + w);
  return st;
}

common::Status read_tenant(RestContext& ctx, const std::string& tenant, const std::string& dir) {
  json system;
  if (backup_tenant(dir, &system) != tenant)
    return common::Status::Invalid(dir + " holds no export of tenant " + tenant);
  return read_tenant(ctx, tenant, dir, system);
}

// POST /admin/backups/{id}/restore: a tenant backup back onto this running node, which must not
// have the tenant (409). Its family is imported, its records written, and the directory, the
// trusted CAs and the registrations reloaded: its users log in at once.
void restore(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  if (!configured(ctx, res)) return;
  const std::string id = req.matches[1];
  if (id.empty() || id.find('/') != std::string::npos || id[0] == '.')
    return send_error(res, {404, "backup/Not Found", "No backup " + id});
  const fs::path path = fs::path(ctx.backup_dir) / id;
  json system;
  const std::string tenant = backup_tenant(path, &system);
  if (tenant.empty()) return send_error(res, {404, "backup/Not Found", "No tenant backup " + id});
  if (ctx.directory.has_tenant(tenant) || ctx.store.tenant(tenant))
    return send_error(res, {409, "tenant/Conflict",
                            "Tenant " + tenant + " exists on this node: delete it first"});
  if (auto st = read_tenant(ctx, tenant, path.string(), system); !st.ok())
    return send_error(res, {st.code == common::Status::kInvalid ? 422 : 500, "backup/failed",
                            "Restore failed: " + st.message});
  ctx.outbox.log(common::LogLevel::kNotice, "c8y: tenant " + tenant + " restored from " +
                                                path.string() + " by " + c.tenant + "/" + c.user);
  send_json(res, 201, {{"id", id}, {"tenant", tenant}});
}

}  // namespace c8y::rest::backups
