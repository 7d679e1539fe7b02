// Device credentials the broker hands out or checks beyond passwords: certificate login (the
// issuing CA names the tenant, the CN the device user, created on first use when the CA allows
// auto-registration), bootstrap pairing (an accepted device polling on s/ucr gets fresh
// credentials on s/dcr) and device tokens (s/uat answered on s/dat). One job. Broker thread only.
// Depends on: identity (directory, registrations, trusted CAs, tokens), the DeviceReplies, the
// outbox (kicks of pollers that poll too fast), a log function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/app/broker_port.h"
#include "plugin/app/options.h"
#include "plugin/app/replies.h"
#include "plugin/app/session.h"
#include "plugin/common/bootstrap_registry.h"
#include "plugin/common/metrics.h"
#include "plugin/common/outbox.h"
#include "plugin/identity/authenticator.h"
#include "plugin/identity/directory.h"
#include "plugin/identity/failure_throttle.h"
#include "plugin/identity/registrations.h"
#include "plugin/identity/trusted_cas.h"

namespace c8y::app {

class DeviceCredentials {
 public:
  DeviceCredentials(const Options& options, identity::Directory& directory,
                    identity::Registrations& registrations, identity::TrustedCas& trusted_cas,
                    const std::string& token_secret, DeviceReplies& replies, common::Outbox& outbox,
                    common::NodeMetrics& metrics, Log log)
      : options_(options),
        directory_(directory),
        registrations_(registrations),
        trusted_cas_(trusted_cas),
        token_secret_(token_secret),
        replies_(replies),
        outbox_(outbox),
        metrics_(metrics),
        log_(std::move(log)) {}

  // The result of a certificate login.
  struct CertificateLogin {
    identity::AuthResult auth;
    std::string ca_fingerprint;  // the issuing CA
    std::string cert_serial;     // the certificate's serial number
  };
  // Certificate login: the tenant and device user of `info.certificate` for the device `serial`,
  // or a reason to refuse (`why`).
  std::optional<CertificateLogin> certificate_login(const ConnectInfo& info,
                                                    std::string_view serial, std::string* why);
  // An (empty) publish on s/ucr by the bootstrap user.
  void bootstrap_poll(Session& s);
  // In a cluster: the registrations of every node (outlives this; nullptr: a single node). A
  // poll for a serial another node registered is answered through it.
  void set_registry(common::BootstrapRegistry* registry) { registry_ = registry; }
  // An (empty) publish on s/uat by a certificate device: `71,<JWT>` on s/dat.
  void token_request(Session& s);

 private:
  // A poll for a request another node holds (cluster only).
  void remote_poll(Session& s, const common::BootstrapRequest& r);
  static std::string credentials_line(std::string_view tenant, std::string_view user,
                                      std::string_view password);
  const Options& options_;
  identity::Directory& directory_;
  identity::Registrations& registrations_;
  identity::TrustedCas& trusted_cas_;
  const std::string& token_secret_;
  DeviceReplies& replies_;
  common::Outbox& outbox_;
  common::NodeMetrics& metrics_;
  Log log_;
  common::BootstrapRegistry* registry_ = nullptr;
  identity::LogRateLimiter poll_log_limit_{identity::steady_now, 1, 10};
};

}  // namespace c8y::app
