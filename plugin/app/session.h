// A client connection as the core knows it: who it is (tenant, user, role, device serial), what it
// subscribed to, and the small per-connection caches of the handlers. Plain data, owned by the
// SessionTable (sessions.h); handlers get a Session& for the connection a message came from.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/common/limits.h"
#include "plugin/domain/tenant_space.h"
#include "plugin/policy/topic_policy.h"

namespace c8y::app {

using ConnId = const void*;

struct ConnectInfo {
  ConnId conn = nullptr;
  std::string_view client_id;
  std::string_view username;
  std::string_view password;
  std::string_view address;
  bool clean_session = true;
  int protocol_version = 4;  // 3: MQTT 3.1, 4: 3.1.1, 5: 5
  // The client certificate of a listener with require_certificate (borrowed for the call).
  X509* certificate = nullptr;
};

enum class MessageDecision {
  kAccept,  // handled: acknowledge (and let the broker route it; nobody may read device topics)
  kDrop,    // acknowledge but do not route (over the cap, or not for the broker to deliver)
  kRefuse,  // storage failure: no acknowledgement, the client resends (the connection closes)
};

// What only some sessions need, made on a session's first use of it (Session::extra_mut): a
// certificate login's CA and certificate serial, s/uat tokens, bootstrap polls, the child devices
// named in topics, and a device rate limit's token bucket and notices. A device that logs in with
// a password, publishes for itself and has no rate limit never has one (memory per connected
// device, README "Memory per connected device").
struct SessionExtra {
  std::string ca_fingerprint;  // certificate login: the issuing CA and the certificate serial
  std::string cert_serial;
  int64_t last_token_s = 0;  // s/uat: when the last token was issued, and the token
  std::string last_token;
  int64_t last_poll_ms = 0;                            // bootstrap: the last s/ucr poll answered
  int excess_polls = 0;                                // bootstrap: polls faster than allowed since
  bool limit_noticed = false;                          // a refusal by a limit was reported to it,
  int64_t limit_notice_ns = 0;                         // then
  common::TokenBucket message_bucket;                  // the device's message rate (app/quotas.h)
  std::unordered_map<std::string, uint64_t> children;  // child serial -> id
};

struct Session {
  ConnId conn = nullptr;
  std::string client_id;
  std::string tenant;
  std::string user;
  std::string serial;
  std::string default_xid;
  domain::TenantSpace* space = nullptr;
  uint64_t device_id = 0;
  std::vector<std::pair<std::string, int>> subscriptions;  // filter, granted qos
  uint64_t noted_device = 0;  // availability: the device and time last noted (note_data)
  int64_t noted_ms = 0;
  uint64_t json_messages = 0;  // messageId of JSON errors: the n-th publish on a JSON topic
  policy::Role role = policy::Role::kDevice;
  bool persistent = false;

  // The rarely used part: read without making it (an empty one when there is none), or made.
  const SessionExtra& extra() const { return extra_ ? *extra_ : kNoExtra; }
  SessionExtra& extra_mut() {
    if (!extra_) extra_ = std::make_unique<SessionExtra>();
    return *extra_;
  }
  bool has_extra() const { return extra_ != nullptr; }

 private:
  static const SessionExtra kNoExtra;
  std::unique_ptr<SessionExtra> extra_;
};

// Wall-clock time, in the units the handlers store.
int64_t now_ms();
int64_t wall_seconds();

}  // namespace c8y::app
