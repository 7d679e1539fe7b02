#include "plugin/rest/rest_context.h"

#include "plugin/domain/inventory.h"
#include "plugin/policy/streams.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {

std::optional<std::string> RestContext::administered_tenant(const Caller& c, const Request& req,
                                                            Response& res, const char* error) {
  std::string tenant = req.matches[1];
  if ((tenant != c.tenant && c.tenant != kManagementTenant) || !directory.has_tenant(tenant)) {
    send_error(res, {404, error, "Tenant " + tenant + " not found"});
    return std::nullopt;
  }
  return tenant;
}

void RestContext::notify(const Caller& c, std::string_view api, uint64_t device,
                         std::string_view action, const nlohmann::json& data) {
  const std::string payload = policy::stream_payload(action, data);
  for (bool processing : {false, true}) {
    outbox.push(common::outbox::Publish{"", policy::stream_topic(c.tenant, processing, api, device),
                                        payload, 0});
  }
}

void RestContext::audit(const std::string& tenant, const domain::AuditEntry& e) {
  auto* space = spaces.get(tenant);
  if (!space) return;  // the tenant is gone (deleted meanwhile): nothing left to audit
  domain::AuditLog log(store, *space);
  if (auto st = log.record(e); !st.ok())
    outbox.log(common::LogLevel::kWarning, "c8y: audit record '" + e.activity + "' of tenant " +
                                               tenant + " lost: " + st.message);
}

void RestContext::kick_users(const std::string& tenant, const std::string& user) {
  outbox.push(common::outbox::KickUsers{tenant, user});
}

void RestContext::object_changed(const Caller& c, uint64_t id, bool deleted) {
  outbox.push(common::outbox::ObjectChanged{c.tenant, domain::format_id(id), deleted});
}

void RestContext::deliver_operation(const Caller& c, const nlohmann::json& op) {
  outbox.push(common::outbox::DeliverOperation{c.tenant, op.value("id", "")});
}

void RestContext::ca_changed(const std::string& fingerprint) {
  outbox.push(common::outbox::CaChanged{fingerprint});
}

}  // namespace c8y::rest
