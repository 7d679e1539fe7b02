// /tenant/tenants/{tenant}/trusted-certificates: the CA certificates whose device certificates
// log in on the certificate listener (issuing CA -> tenant, CN -> serial), plus a CRL per CA.
#include "plugin/domain/json_input.h"
#include "plugin/identity/trusted_cas.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::certificates {
namespace {

// Cumulocity shows the certificate as the base64 of its DER, without the armour lines.
std::string pem_body(const std::string& pem) {
  std::string out;
  size_t at = 0;
  while (at < pem.size()) {
    size_t nl = pem.find('\n', at);
    if (nl == std::string::npos) nl = pem.size();
    std::string_view line(pem.data() + at, nl - at);
    if (!line.starts_with("-----")) out.append(line);
    at = nl + 1;
  }
  return out;
}

json certificate_out(const Caller& c, const std::string& tenant,
                     const identity::TrustedCaRecord& r) {
  const auto& i = r.info;
  json out = {
      {"name", r.name},
      {"status", r.enabled ? "ENABLED" : "DISABLED"},
      {"autoRegistrationEnabled", r.auto_registration},
      {"certInPemFormat", pem_body(i.pem)},
      {"fingerprint", i.fingerprint},
      {"serialNumber", i.serial_number},
      {"subject", i.subject},
      {"issuer", i.issuer},
      {"notBefore", i.not_before},
      {"notAfter", i.not_after},
      {"algorithmName", i.algorithm_name},
      {"version", i.version},
      {"self", c.base + "/tenant/tenants/" + tenant + "/trusted-certificates/" + i.fingerprint}};
  if (r.crl)
    out["crl"] = {{"issuer", r.crl->issuer},
                  {"thisUpdate", common::format_iso8601_ms(r.crl->this_update_s * 1000)},
                  {"revokedCertificates", r.crl->revoked_serials.size()}};
  return out;
}

HttpError change_error(const identity::TrustedCaChange& ch) {
  const std::string& message = ch.status.message;
  if (ch.status.not_found()) return {404, "tenant/Not Found", message};
  if (ch.status.invalid()) return {422, "validationError", message};
  if (ch.status.conflict()) return {409, "tenant/Conflict", message};
  return {500, "general/internalError", message};
}

// The "status" field: ENABLED / DISABLED / absent, or invalid.
struct StatusField {
  bool valid = true;
  std::optional<bool> enabled;
};
StatusField status_field(const json& body) {
  StatusField out;
  auto it = body.find("status");
  if (it == body.end()) return out;
  if (*it == "ENABLED")
    out.enabled = true;
  else if (*it == "DISABLED")
    out.enabled = false;
  else
    out.valid = false;
  return out;
}

domain::AuditEntry certificate_audit(const Caller& c, const std::string& tenant,
                                     const char* activity, const identity::TrustedCaRecord& r) {
  domain::AuditEntry e;
  e.type = "TrustedCertificates";
  e.activity = activity;
  e.text = std::string(activity) + ": '" + r.name + "' fingerprint " + r.info.fingerprint +
           ", subject '" + r.info.subject + "', status " + (r.enabled ? "ENABLED" : "DISABLED");
  e.user = actor_in(c, tenant);
  return e;
}

}  // namespace

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "tenant/Not Found");
  if (!tenant) return;
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  auto all = ctx.trusted_cas.list(*tenant);
  send_json(
      res, 200,
      list_page(c, "/tenant/tenants/" + *tenant + "/trusted-certificates", req, "certificates", all,
                *paging, [&](auto& r) { return certificate_out(c, *tenant, r); }));
}

void get(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "tenant/Not Found");
  if (!tenant) return;
  auto r = ctx.trusted_cas.get(*tenant, std::string(req.matches[2]));
  if (!r)
    return send_error(
        res, {404, "tenant/Not Found", "No trusted certificate " + std::string(req.matches[2])});
  send_json(res, 200, certificate_out(c, *tenant, *r));
}

// {"certInPemFormat", "name", "status", "autoRegistrationEnabled"}
void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "tenant/Not Found");
  if (!tenant) return;
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto pem = body->value("certInPemFormat", json());
  auto name = body->value("name", json(""));
  std::optional<bool> autoreg;  // Cumulocity's own example sends the string "true"
  std::string why;
  auto status = status_field(*body);
  if (!pem.is_string() || !name.is_string() ||
      !domain::json_bool(*body, "autoRegistrationEnabled", &autoreg, &why) || !status.valid)
    return send_error(res, {422, "validationError",
                            "certInPemFormat (string) is mandatory; name a string, status "
                            "ENABLED or DISABLED, autoRegistrationEnabled a boolean"});
  auto ch = ctx.trusted_cas.add(*tenant, pem.get<std::string>(), name.get<std::string>(),
                                status.enabled.value_or(true), autoreg.value_or(false), wall_ms());
  if (!ch.value) {
    if (ctx.upload_log_limit.allow()) {  // garbage uploads in a loop must not fill the log
      auto suppressed = ctx.upload_log_limit.take_suppressed();
      ctx.outbox.log(
          common::LogLevel::kNotice,
          "c8y: trusted certificate refused for tenant " + *tenant + " (" + c.user + " from " +
              req.remote_addr + "): " + ch.status.message +
              (suppressed ? " (" + std::to_string(suppressed) + " similar suppressed)" : ""));
    }
    return send_error(res, change_error(ch));
  }
  // In a cluster the subject must be this tenant's on every node: claimed in etcd, and the CA
  // taken back when another tenant holds it there (or etcd cannot say).
  if (ctx.cluster) {
    if (auto st = ctx.cluster->claim_ca_subject(ch.value->info.subject, *tenant); !st.ok()) {
      auto undo = ctx.trusted_cas.remove(*tenant, ch.value->info.fingerprint);
      if (!undo.value)
        ctx.outbox.log(common::LogLevel::kError,
                       "c8y: trusted CA " + ch.value->info.fingerprint +
                           " could not be taken back: " + undo.status.message);
      return send_error(
          res, st.conflict()
                   ? HttpError{409, "tenant/Conflict", st.message}
                   : HttpError{503, "cluster/unavailable",
                               "The cluster cannot check the CA's subject now: " + st.message});
    }
  }
  if (!ch.warning.empty()) ctx.outbox.log(common::LogLevel::kWarning, "c8y: " + ch.warning);
  ctx.outbox.log(common::LogLevel::kNotice, "c8y: trusted CA " + ch.value->info.fingerprint + " (" +
                                                ch.value->info.subject + ") added to tenant " +
                                                *tenant + " by " + c.user);
  ctx.audit(*tenant, certificate_audit(c, *tenant, "Trusted certificate added", *ch.value));
  send_json(res, 201, certificate_out(c, *tenant, *ch.value));
}

void update(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "tenant/Not Found");
  if (!tenant) return;
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto status = status_field(*body);
  std::optional<std::string> name;
  std::optional<bool> autoreg;
  if (auto n = body->find("name"); n != body->end()) {
    if (!n->is_string())
      status.valid = false;
    else
      name = n->get<std::string>();
  }
  if (std::string why; !domain::json_bool(*body, "autoRegistrationEnabled", &autoreg, &why))
    status.valid = false;
  if (!status.valid)
    return send_error(res, {422, "validationError",
                            "name must be a string, status ENABLED or DISABLED, "
                            "autoRegistrationEnabled a boolean"});
  const std::string fp = req.matches[2];
  const auto before = ctx.trusted_cas.get(*tenant, fp);
  auto ch = ctx.trusted_cas.update(*tenant, fp, name, status.enabled, autoreg);
  if (!ch.value) return send_error(res, change_error(ch));
  {
    auto e = certificate_audit(c, *tenant, "Trusted certificate updated", *ch.value);
    if (before && before->enabled != ch.value->enabled)
      e.changes.push_back(domain::audit_change("status", "java.lang.String",
                                               before->enabled ? "ENABLED" : "DISABLED",
                                               ch.value->enabled ? "ENABLED" : "DISABLED"));
    if (before && before->name != ch.value->name)
      e.changes.push_back(
          domain::audit_change("name", "java.lang.String", before->name, ch.value->name));
    if (before && before->auto_registration != ch.value->auto_registration)
      e.changes.push_back(domain::audit_change("autoRegistrationEnabled", "java.lang.Boolean",
                                               before->auto_registration,
                                               ch.value->auto_registration));
    ctx.audit(*tenant, e);
  }
  if (!ch.warning.empty()) ctx.outbox.log(common::LogLevel::kWarning, "c8y: " + ch.warning);
  if (!ch.value->enabled) ctx.ca_changed(ch.value->info.fingerprint);
  send_json(res, 200, certificate_out(c, *tenant, *ch.value));
}

void remove(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "tenant/Not Found");
  if (!tenant) return;
  auto ch = ctx.trusted_cas.remove(*tenant, std::string(req.matches[2]));
  if (!ch.value) return send_error(res, change_error(ch));
  ctx.audit(*tenant, certificate_audit(c, *tenant, "Trusted certificate removed", *ch.value));
  ctx.ca_changed(ch.value->info.fingerprint);
  // The subject stays the tenant's while another of its CAs has it (a renewed CA).
  if (ctx.cluster) {
    bool still = false;
    for (const auto& r : ctx.trusted_cas.list(*tenant))
      still = still || r.info.subject == ch.value->info.subject;
    if (!still) ctx.cluster->release_ca_subject(ch.value->info.subject, *tenant);
  }
  res.status = 204;
}

// {"crl": "<PEM or base64 DER>"}; "" removes the CRL.
void set_crl(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  auto tenant = ctx.administered_tenant(c, req, res, "tenant/Not Found");
  if (!tenant) return;
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto crl = body->value("crl", json());
  if (!crl.is_string())
    return send_error(res, {422, "validationError", "crl (string) is mandatory"});
  auto ch = ctx.trusted_cas.set_crl(*tenant, std::string(req.matches[2]), crl.get<std::string>());
  if (!ch.value) return send_error(res, change_error(ch));
  ctx.audit(*tenant,
            certificate_audit(c, *tenant,
                              crl.get<std::string>().empty() ? "Trusted certificate CRL removed"
                                                             : "Trusted certificate CRL updated",
                              *ch.value));
  ctx.ca_changed(ch.value->info.fingerprint);
  send_json(res, 200, certificate_out(c, *tenant, *ch.value));
}

}  // namespace c8y::rest::certificates
