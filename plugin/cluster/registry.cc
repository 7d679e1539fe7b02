#include "plugin/cluster/registry.h"

#include <nlohmann/json.hpp>

namespace c8y::cluster {
namespace {

std::string_view below(std::string_view key, const std::string& dir) {
  if (key.size() <= dir.size() || key.compare(0, dir.size(), dir) != 0) return {};
  std::string_view rest = key.substr(dir.size());
  return rest.find('/') == std::string_view::npos ? rest : std::string_view{};
}

template <typename T>
std::optional<T> field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return std::nullopt;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return std::nullopt;
  } else {
    if (!it->is_number_integer()) return std::nullopt;
  }
  return it->template get<T>();
}

}  // namespace

Keys::Keys(std::string prefix) : prefix_(std::move(prefix)) {
  if (prefix_.empty() || prefix_.back() != '/') prefix_ += '/';
}

std::string Keys::ca_subject(std::string_view subject) const {
  static const char* hex = "0123456789abcdef";
  std::string out = ca_subjects();
  for (unsigned char c : subject) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string_view Keys::node_of(std::string_view key) const {
  return below(key, nodes());
}
std::string_view Keys::tenant_of(std::string_view key) const {
  return below(key, tenants());
}

std::string encode(const Placement& p) {
  nlohmann::json j{{"node", p.node}, {"epoch", p.epoch}};
  if (!p.change.empty()) j["change"] = p.change;
  if (!p.move_to.empty()) j["moveTo"] = p.move_to;
  if (!p.ticket.empty()) j["ticket"] = p.ticket;
  return j.dump();
}

std::optional<Placement> decode_placement(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto node = field<std::string>(j, "node");
  auto epoch = field<int64_t>(j, "epoch");
  if (!node || !epoch || !valid_node_name(*node) || *epoch < 1) return std::nullopt;
  Placement p{*node, *epoch};
  p.change = field<std::string>(j, "change").value_or("");
  p.move_to = field<std::string>(j, "moveTo").value_or("");
  p.ticket = field<std::string>(j, "ticket").value_or("");
  if (!p.change.empty() && p.change != "create" && p.change != "delete" && p.change != "move")
    return std::nullopt;
  if ((p.change == "move") != !p.move_to.empty()) return std::nullopt;
  if (!p.move_to.empty() && !valid_node_name(p.move_to)) return std::nullopt;
  return p;
}

std::string encode(const NodeRecord& n) {
  return nlohmann::json{
      {"name", n.name}, {"rest", n.rest}, {"started", n.started_ms}, {"devices", n.devices}}
      .dump();
}

std::optional<NodeRecord> decode_node(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto name = field<std::string>(j, "name");
  if (!name || !valid_node_name(*name)) return std::nullopt;
  NodeRecord n;
  n.name = *name;
  n.rest = field<std::string>(j, "rest").value_or("");
  n.started_ms = field<int64_t>(j, "started").value_or(0);
  n.devices = field<int64_t>(j, "devices").value_or(0);
  return n;
}

bool valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace c8y::cluster
