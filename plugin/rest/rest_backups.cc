// /admin/backups (the management tenant's admin only): online backups of the node into
// plugin_opt_backup_dir, and the list of what is there. A backup is a RocksDB checkpoint taken
// after the ingest log settled: a complete data directory (scripts/restore.sh copies one into
// the data directory of a stopped node).
#include <chrono>
#include <ctime>
#include <filesystem>

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

}  // namespace

void create(RestContext& ctx, const Caller& c, const Request&, Response& res) {
  if (!configured(ctx, res)) return;
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
    if (e.is_directory(ec) && fs::exists(e.path() / "CURRENT", ec))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  json out = json::array();
  for (auto& n : names) {
    const fs::path p = fs::path(ctx.backup_dir) / n;
    out.push_back({{"id", n}, {"path", p.string()}, {"bytes", dir_bytes(p)}});
  }
  send_json(res, 200, {{"backups", out}});
}

}  // namespace c8y::rest::backups
