// Key encoding helpers and the key layout of every column family.
//
// System family ("system"):
//   "T" <tenant id>                      -> tenant record (JSON)
//   "U" <tenant id> "/" <user name>      -> user record (JSON: hash, roles, enabled, generation)
//   "C" <mqtt client id>                 -> client-id directory entry (JSON)
//   "R" <device serial>                  -> new-device (bootstrap) request (JSON)
//   "K" <CA fingerprint (hex)>           -> trusted CA certificate of a tenant (JSON)
//   "S" <name>                           -> plugin secrets (e.g. "Sjwt": the device-token key)
//
// Tenant family ("t_<tenant id>"):
//   "#ids"                               -> high-water mark of the id allocator (8 bytes BE)
//   "M" <id:8 BE>                        -> managed object (JSON)
//   "X" <type> "\0" <external id>        -> managed-object id (8 bytes BE)
//   "x" <id:8 BE> <type> "\0" <external id> -> "" (reverse index: the external ids of an object)
//   "m" <source:8 BE> <time:8 BE> <id:8 BE> -> measurement (compact binary, domain/measurement.h)
//   "v" <source:8 BE> <fragment> "\0" <series> -> "" (a series the source has measured)
//   "h" <source:8 BE> <hour:8 BE>        -> min and max of every series of that source in that
//                                           closed hour ("" = voided; domain/measurement.h)
//   "P" <id:8 BE>                        -> presence marker: device shown CONNECTED
//   "e" <source:8 BE> <time:8 BE> <id:8 BE> -> event (JSON, domain/events.h)
//   "E" <id:8 BE>                        -> <source:8 BE> <time:8 BE> of that event
//   "a" <source:8 BE> <time:8 BE> <id:8 BE> -> alarm (JSON, domain/alarms.h)
//   "A" <id:8 BE>                        -> <source:8 BE> <time:8 BE> of that alarm
//   "k" <source:8 BE> <alarm type>       -> id of the open (not CLEARED) alarm of that type
//   "o" <device:8 BE> <created:8 BE> <id:8 BE> -> operation (JSON, domain/operations.h)
//   "O" <id:8 BE>                        -> <device:8 BE> <created:8 BE> of that operation
//   "r" <0:8 BE> <time:8 BE> <id:8 BE>   -> audit record (JSON, domain/audit.h)
//   "R" <id:8 BE>                        -> <0:8 BE> <time:8 BE> of that audit record
//   "s" <source:8 BE> <time:8 BE> <id:8 BE> -> the same audit record, by the object it is about
//   "D" <id:8 BE>                        -> retention rule (JSON, domain/retention.h)
//
// Times are milliseconds since the epoch, stored with the sign bit flipped so that big-endian
// byte order is time order (negative times sort first). The id suffix keeps two measurements of
// one device in the same millisecond apart.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace c8y::storage {

inline void append_u64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out.append(b, 8);
}

inline uint64_t read_u64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

inline uint64_t time_key(int64_t ms) {
  return static_cast<uint64_t>(ms) ^ (1ull << 63);
}
inline int64_t time_from_key(uint64_t k) {
  return static_cast<int64_t>(k ^ (1ull << 63));
}

namespace key {
inline std::string tenant(std::string_view id) {
  return "T" + std::string(id);
}
inline std::string user(std::string_view tenant, std::string_view name) {
  return "U" + std::string(tenant) + "/" + std::string(name);
}
inline std::string client(std::string_view client_id) {
  return "C" + std::string(client_id);
}
inline std::string registration(std::string_view serial) {
  return "R" + std::string(serial);
}
inline std::string trusted_ca(std::string_view fingerprint) {
  return "K" + std::string(fingerprint);
}
inline constexpr std::string_view kIdHighWater = "#ids";
inline std::string managed_object_prefix() {
  return "M";
}
inline std::string managed_object(uint64_t id) {
  std::string k = "M";
  append_u64(k, id);
  return k;
}
inline std::string external_id(std::string_view type, std::string_view value) {
  std::string k = "X";
  k.append(type);
  k.push_back('\0');
  k.append(value);
  return k;
}
inline std::string measurement_prefix(uint64_t source) {
  std::string k = "m";
  append_u64(k, source);
  return k;
}
inline void measurement(std::string& k, uint64_t source, int64_t time_ms, uint64_t id) {
  k.clear();
  k.push_back('m');
  append_u64(k, source);
  append_u64(k, time_key(time_ms));
  append_u64(k, id);
}
inline std::string measurement_series_prefix(uint64_t source) {
  std::string k = "v";
  append_u64(k, source);
  return k;
}
inline void measurement_series(std::string& k, uint64_t source, std::string_view fragment,
                               std::string_view series) {
  k.clear();
  k.push_back('v');
  append_u64(k, source);
  k.append(fragment);
  k.push_back('\0');
  k.append(series);
}
inline std::string retention_rule_prefix() {
  return "D";
}
inline std::string retention_rule(uint64_t id) {
  std::string k = "D";
  append_u64(k, id);
  return k;
}
inline std::string_view token_secret() {
  return "Sjwt";
}
inline std::string presence_prefix() {
  return "P";
}
inline std::string presence(uint64_t id) {
  std::string k = "P";
  append_u64(k, id);
  return k;
}
}  // namespace key

}  // namespace c8y::storage
