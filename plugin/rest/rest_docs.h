// What the handlers of stored documents share (internal to plugin/rest): events, alarms,
// operations and audit records are read, listed and answered the same way; new measurements,
// events and alarms name their source the same way.
#pragma once

#include <optional>
#include <string>

#include "plugin/domain/documents.h"
#include "plugin/domain/inventory.h"
#include "plugin/domain/json_input.h"
#include "plugin/rest/rest_context.h"
#include "plugin/rest/rest_util.h"

namespace c8y::rest {

// One kind of stored document as the REST API shows it.
struct DocKind {
  const char* path;        // the collection ("/event/events"); a document is <path>/<id>
  const char* collection;  // the list's field ("events")
  const char* not_found;   // the 404's error ("event/Not Found")
  const char* noun;        // the 404's message: "<noun> with id '<id>' not found"
  bool source_link;        // the document's source gets a self link
};

inline constexpr DocKind kEventDocs{"/event/events", "events", "event/Not Found", "Event", true};
inline constexpr DocKind kAlarmDocs{"/alarm/alarms", "alarms", "alarm/Not Found", "Alarm", true};
inline constexpr DocKind kOperationDocs{"/devicecontrol/operations", "operations",
                                        "devicecontrol/Not Found", "Operation", false};
inline constexpr DocKind kAuditDocs{"/audit/auditRecords", "auditRecords", "audit/Not Found",
                                    "Audit record", true};

inline HttpError storage_error(const storage::StoreStatus& st) {
  return {500, "general/internalError", st.message};
}

inline HttpError doc_not_found(const DocKind& kind, const std::string& raw_id) {
  return {404, kind.not_found, std::string(kind.noun) + " with id '" + raw_id + "' not found"};
}

// A document as answered: its self link, and its source's.
inline json doc_out(const DocKind& kind, const Caller& c, json d) {
  d["self"] = c.base + kind.path + "/" + d.value("id", "");
  if (kind.source_link && d.contains("source")) d["source"]["self"] = source_self(c, d);
  return d;
}

// The path's document id (the route's first capture).
inline std::optional<uint64_t> path_id(const Request& req) {
  return domain::parse_id(std::string(req.matches[1]));
}

// The document's source id (0 when it has none).
inline uint64_t source_of(const json& doc) {
  return domain::parse_id(doc["source"].value("id", "")).value_or(0);
}

// GET <path>/<id>: the document, or the kind's 404.
template <class Docs>
void send_doc(const DocKind& kind, RestContext& ctx, const Caller& c, const Request& req,
              Response& res) {
  auto id = path_id(req);
  Docs docs(ctx.store, *c.space);
  auto d = id ? docs.get(*id) : std::nullopt;
  if (!d) return send_error(res, doc_not_found(kind, std::string(req.matches[1])));
  send_json(res, 200, doc_out(kind, c, std::move(*d)));
}

// GET <path>: the page `paging` of the documents `q` selects (its other filters already set).
template <class Docs, class Query>
void send_doc_list(const DocKind& kind, RestContext& ctx, const Caller& c, const Request& req,
                   Response& res, const Paging& paging, Query& q) {
  q.page_size = paging.page_size;
  q.page = paging.page;
  q.count_total = paging.count_total();
  Docs docs(ctx.store, *c.space);
  domain::DocPage page;
  if (auto st = docs.query(q, &page); !st.ok()) return send_error(res, storage_error(st));
  send_json(res, 200,
            doc_page(c, kind.path, req, kind.collection, page, paging,
                     [&](const Caller& c, json d) { return doc_out(kind, c, std::move(d)); }));
}

// The source of new device data: {"source": {"id": "<existing managed object>"}}.
inline std::optional<uint64_t> body_source(const json& body, domain::Inventory& inv,
                                           HttpError* err) {
  auto src = body.find("source");
  if (src == body.end() || !src->is_object() || !src->contains("id")) {
    *err = {422, "validationError", "source.id is mandatory"};
    return std::nullopt;
  }
  const json& idj = (*src)["id"];
  auto id = idj.is_string()            ? domain::parse_id(idj.get<std::string>())
            : idj.is_number_unsigned() ? std::optional<uint64_t>(idj.get<uint64_t>())
                                       : std::nullopt;
  if (!id || !inv.get(*id)) {
    *err = {422, "validationError", "source.id is not the id of a managed object"};
    return std::nullopt;
  }
  return id;
}

// The body of a new measurement, event or alarm: a JSON object that `input(body, &why)` accepts
// (it names every missing field in one answer, source.id among them, before the source is looked
// up) and whose source.id is an existing managed object, put in *source. nullopt after answering
// 400 or 422.
// PUT of the path's document: `change(id, body)` (an AlarmChange, OperationChange, ...); answers
// 404 naming the id, 422 for a refused change (kInvalid), 500 for storage failures, and returns
// the change only when it succeeded.
template <class Change, class Fn>
std::optional<Change> update_doc(const DocKind& kind, const Request& req, Response& res,
                                 Fn change) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) {
    send_error(res, err);
    return std::nullopt;
  }
  auto id = path_id(req);
  Change r;
  if (id) r = change(*id, *body);
  if (!id || r.status.not_found()) {
    send_error(res, doc_not_found(kind, req.matches[1]));
  } else if (r.status.invalid()) {
    send_error(res, {422, "validationError", r.status.message});
  } else if (!r.status.ok()) {
    send_error(res, storage_error(r.status));
  } else {
    return r;
  }
  return std::nullopt;
}

template <class Input>
std::optional<json> new_data_body(RestContext& ctx, const Caller& c, const Request& req,
                                  Response& res, Input input, uint64_t* source) {
  HttpError err;
  auto body = body_object(req, &err);
  if (!body) {
    send_error(res, err);
    return std::nullopt;
  }
  if (std::string why; !input(*body, &why)) {
    send_error(res, {422, "validationError", why});
    return std::nullopt;
  }
  domain::Inventory inv(ctx.store, *c.space);
  auto id = body_source(*body, inv, &err);
  if (!id) {
    send_error(res, err);
    return std::nullopt;
  }
  *source = *id;
  return body;
}

// The same for an event or alarm, whose input function (domain/json_input.h) fills `in`.
template <class In>
std::optional<json> new_data_body(
    RestContext& ctx, const Caller& c, const Request& req, Response& res,
    bool (*input)(const json&, In*, std::string*, domain::SourceField), In* in, uint64_t* source) {
  return new_data_body(
      ctx, c, req, res,
      [&](const json& b, std::string* why) {
        return input(b, in, why, domain::SourceField::kMandatory);
      },
      source);
}

}  // namespace c8y::rest
