#include "plugin/identity/names.h"

namespace c8y::identity {
namespace {

bool is_serial_char(unsigned char c) {
  return c > 0x20 && c != 0x7f && c != ':' && c != '/' && c != '+' && c != '#';
}

bool is_valid_serial(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s)
    if (!is_serial_char(c) && c < 0x80) return false;
  return true;
}

}  // namespace

bool is_valid_tenant_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

bool is_valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '+' || c == '#') return false;
  return true;
}

std::optional<QualifiedUser> parse_username(std::string_view username) {
  auto slash = username.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  QualifiedUser q{username.substr(0, slash), username.substr(slash + 1)};
  if (!is_valid_tenant_id(q.tenant) || !is_valid_user_name(q.user)) return std::nullopt;
  return q;
}

std::optional<ClientId> parse_client_id(std::string_view id) {
  ClientId out;
  if (id.starts_with("d:")) {
    id.remove_prefix(2);
    auto colon = id.find(':');
    if (colon != std::string_view::npos) {
      out.default_xid = id.substr(colon + 1);
      id = id.substr(0, colon);
      if (out.default_xid.empty() || !is_valid_serial(out.default_xid)) return std::nullopt;
    }
  }
  if (!is_valid_serial(id)) return std::nullopt;
  out.serial = id;
  return out;
}

}  // namespace c8y::identity
