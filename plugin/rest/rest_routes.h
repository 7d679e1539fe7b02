// The REST API's route table (internal to plugin/rest): every route once, with what a caller
// needs to be let through to its handler.
//
// A route's access says whose HTTP Basic credentials it takes: none (open), a tenant's admin, or
// the admin of the management tenant. Its device scope says what a device token (Bearer) may do
// on it: the token reaches only its own device's data, and a route answers 403 to a token unless
// its scope lets the request through. RestServer authenticates every request against its route's
// row before the handler runs; the handler gets the caller.
#pragma once

#include <string>
#include <vector>

#include "plugin/rest/http.h"
#include "plugin/rest/rest_context.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {

enum class Access {
  kOpen,        // no credentials (GET /health)
  kAdmin,       // a tenant's admin, or a device token within the route's device scope
  kManagement,  // the management tenant's admin (403 for another tenant's admin)
};

// What a device token may do on a route. The request must use the route's own method (a HEAD on a
// GET route is refused to a token), and "own device" is the managed object that carries the
// token's serial as its c8y_Serial external id.
enum class DeviceScope {
  kNone,           // nothing: 403
  kAlways,         // any request (the current tenant)
  kOwnSerial,      // the path's external id is the token's own: type c8y_Serial, its serial
  kOwnObject,      // the path's first id is the own device's
  kSourceParam,    // the query's `source` is the own device
  kDeviceIdParam,  // the query's `deviceId` is the own device
  kBodySource,     // the body is a JSON object whose source.id is the own device's id (a string)
  kOwnOperation,   // the path's operation exists and its deviceId is the own device
};

// A handler: runs once the caller is authenticated and within the route's scope (for an open
// route, `c` is an empty Caller).
using RouteFn = void(RestContext& ctx, const Caller& c, const Request& req, Response& res);

struct RouteRow {
  const char* method;   // GET, POST, PUT or DELETE (HEAD takes the GET routes)
  std::string pattern;  // std::regex over the whole percent-decoded path; captures in req.matches
  Access access;
  DeviceScope device;
  RouteFn* handler;
};

// Every route of the REST API. Rows of one method are tried in table order: a fixed path that a
// pattern would also match (".../count") comes before the pattern.
const std::vector<RouteRow>& route_table();

// Whether a device token `c` may make `req` on a route with scope `scope` and method `method`
// (req.matches holds the route's captures). Reads the operation for kOwnOperation.
bool device_scope_allows(DeviceScope scope, const char* method, const Caller& c, const Request& req,
                         storage::Store& store);

}  // namespace c8y::rest
