// Parsing of the names a client presents at CONNECT: the user name "<tenant>/<user>" and the
// client id "[d:]<serial>[:<default X-ID>]". Pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace c8y::identity {

// Tenant ids are [a-z0-9]{1,32}: they appear in column-family names and in topics.
bool is_valid_tenant_id(std::string_view id);

// User names inside a tenant: 1..128 bytes, printable ASCII without '/', '+', '#', space.
bool is_valid_user_name(std::string_view name);

struct QualifiedUser {
  std::string_view tenant;
  std::string_view user;
};
// "<tenant>/<user>"; nullopt for a bare name, an invalid tenant id or user name.
std::optional<QualifiedUser> parse_username(std::string_view username);

// Client id "[d:]<serial>[:<default X-ID>]". The serial (the device's c8y_Serial external id) is
// 1..128 bytes without ':', '/', '+', '#', NUL or control characters. A default X-ID requires the
// "d:" prefix.
struct ClientId {
  std::string_view serial;
  std::string_view default_xid;  // empty when none
};
std::optional<ClientId> parse_client_id(std::string_view client_id);

}  // namespace c8y::identity
