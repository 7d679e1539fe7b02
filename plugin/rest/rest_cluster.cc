// /cluster/...: what the nodes of a cluster ask one another while a tenant is created, deleted
// or moved (cluster_control.h, plugin/cluster/tenant_control.h). Open routes: each call carries,
// in X-C8y-Ticket, the ticket of the change under way that the tenant's placement in etcd holds,
// and the cluster checks it before anything happens (403 otherwise). HAProxy's configuration
// (scripts/cluster/haproxy-cfg.py) does not let these paths in from outside. A single node has
// none of this (404).
#include <filesystem>
#include <fstream>

#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::cluster {
namespace {

bool clustered(RestContext& ctx, Response& res) {
  if (ctx.cluster) return true;
  send_error(res, {404, "general/404", "No such resource"});
  return false;
}

std::string ticket(const Request& req) {
  return req.get_header_value("X-C8y-Ticket");
}

void answer(Response& res, const common::Status& st, int ok_status) {
  if (st.ok()) {
    res.status = ok_status;
    return;
  }
  switch (st.code) {
    case common::Status::kInvalid:
      return send_error(res, {403, "cluster/forbidden", st.message});
    case common::Status::kNotFound:
      return send_error(res, {404, "tenant/Not Found", st.message});
    case common::Status::kConflict:
      return send_error(res, {409, "tenant/Conflict", st.message});
    case common::Status::kUnavailable:
      return send_error(res, {503, "cluster/unavailable", st.message});
    default:
      return send_error(res, {500, "general/internalError", st.message});
  }
}

}  // namespace

// POST /cluster/tenants/{id}: the create spec as the body.
void create_tenant(RestContext& ctx, const Caller&, const Request& req, Response& res) {
  if (!clustered(ctx, res)) return;
  answer(res, ctx.cluster->peer_create(req.matches[1], ticket(req), req.body), 201);
}

void delete_tenant(RestContext& ctx, const Caller&, const Request& req, Response& res) {
  if (!clustered(ctx, res)) return;
  answer(res, ctx.cluster->peer_delete(req.matches[1], ticket(req)), 204);
}

// POST /cluster/moves/{id}: the tenant's node hands it over to the placement's moveTo.
void move_tenant(RestContext& ctx, const Caller&, const Request& req, Response& res) {
  if (!clustered(ctx, res)) return;
  auto ch = ctx.cluster->peer_move(req.matches[1], ticket(req));
  if (!ch.status.ok()) return answer(res, ch.status, 200);
  send_json(res, 200,
            {{"node", ch.node},
             {"from", ch.from},
             {"epoch", ch.epoch},
             {"bytes", ch.bytes},
             {"seconds", ch.seconds}});
}

// POST /cluster/imports/{id} {"from": "<host:port>", "files": [...]}: the receiving node fetches
// the export and imports it.
void import_tenant(RestContext& ctx, const Caller&, const Request& req, Response& res) {
  if (!clustered(ctx, res)) return;
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) return send_error(res, err);
  auto from = body->value("from", json());
  auto files = body->value("files", json());
  if (!from.is_string() || !files.is_array())
    return send_error(res, {422, "validationError", "from and files are required"});
  std::vector<std::string> names;
  for (const auto& f : files) {
    if (!f.is_string()) return send_error(res, {422, "validationError", "files are names"});
    names.push_back(f.get<std::string>());
  }
  answer(res, ctx.cluster->peer_import(req.matches[1], ticket(req), from.get<std::string>(), names),
         201);
}

// GET /cluster/exports/{id}/{file}: one file of an export under way.
void export_file(RestContext& ctx, const Caller&, const Request& req, Response& res) {
  if (!clustered(ctx, res)) return;
  const std::string path = ctx.cluster->export_file(req.matches[1], ticket(req), req.matches[2]);
  if (path.empty()) return send_error(res, {403, "cluster/forbidden", "No such export under way"});
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  std::string data(ec ? 0 : size, '\0');
  if (ec || !in || !in.read(data.data(), static_cast<std::streamsize>(data.size())))
    return send_error(res, {500, "general/internalError", "cannot read " + path});
  res.status = 200;
  res.set_content(data, "application/octet-stream");
}

}  // namespace c8y::rest::cluster
