// The platform around the data: /health (open), /tenant/currentTenant, /application/applications.
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::platform {

void health(RestContext&, const Caller&, const Request&, Response& res) {
  send_json(res, 200, {{"status", "UP"}});
}

void current_tenant(RestContext&, const Caller& c, const Request&, Response& res) {
  send_json(res, 200, {{"name", c.tenant}, {"self", c.base + "/tenant/currentTenant"}});
}

// Applications are not hosted here: an empty collection, so that clients listing them work.
void applications(RestContext&, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  send_json(res, 200,
            paged(c, "/application/applications", req, "applications", json::array(), *paging,
                  false, paging->count_total() ? std::optional<size_t>(0) : std::nullopt));
}

}  // namespace c8y::rest::platform
