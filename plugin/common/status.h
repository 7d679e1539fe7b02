// Status: the one result type of operations that can fail, from storage up to the handlers.
// A code says what kind of failure it is, so callers decide by code, never by message text:
//   kNotFound     the object (or what the request names) does not exist
//   kConflict     the change contradicts what is stored (an id taken, a name that exists)
//   kInvalid      the input is refused (a bad status, a field of the wrong type): the caller's
//                 fault, answered as such (an s/e line, an HTTP 4xx)
//   kUnavailable  a resource is exhausted for now (the ingest log is full): retry later
//   kIo           storage or the system failed (RocksDB, files, randomness)
// The message is for people (logs, error answers). Results must not be ignored ([[nodiscard]]);
// where one really does not matter, the call says why with a (void) cast and a comment.
#pragma once

#include <string>
#include <utility>

namespace c8y::common {

struct [[nodiscard]] Status {
  enum Code { kOk, kNotFound, kConflict, kInvalid, kUnavailable, kIo } code = kOk;
  std::string message;

  bool ok() const { return code == kOk; }
  bool not_found() const { return code == kNotFound; }
  bool conflict() const { return code == kConflict; }
  bool invalid() const { return code == kInvalid; }
  bool unavailable() const { return code == kUnavailable; }

  static Status NotFound(std::string m) { return {kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {kConflict, std::move(m)}; }
  static Status Invalid(std::string m) { return {kInvalid, std::move(m)}; }
  static Status Unavailable(std::string m) { return {kUnavailable, std::move(m)}; }
  static Status Io(std::string m) { return {kIo, std::move(m)}; }
};

}  // namespace c8y::common
