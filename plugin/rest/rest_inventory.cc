// REST routes that change the inventory, identity and measurements (Cumulocity's
// /inventory, /identity and /measurement APIs, writing side).
#include "plugin/domain/inventory.h"
#include "plugin/domain/json_input.h"
#include "plugin/domain/measurement.h"
#include "plugin/policy/streams.h"
#include "plugin/rest/rest_server.h"
#include "plugin/rest/rest_util.h"
#include "plugin/smartrest/custom_templates.h"

namespace c8y::rest {

namespace {

// Why `mo`, if it carries a template collection, is not a valid one (nullopt: fine or none).
std::optional<std::string> template_collection_error(const json& mo) {
  if (!mo.contains(smartrest::kTemplateCollectionFragment)) return std::nullopt;
  std::vector<smartrest::CustomTemplateError> errors;
  const std::string name = mo.contains("name") && mo["name"].is_string()
                               ? mo["name"].get<std::string>()
                               : std::string("collection");
  if (smartrest::from_managed_object(mo, name, 1, &errors)) return std::nullopt;
  if (errors.empty()) return "invalid template collection";
  return "invalid template collection: " + errors[0].id + ": " + errors[0].text;
}

}  // namespace
namespace {

HttpError not_found(const std::string& raw) {
  return {404, "inventory/Not Found",
          "Finding device data from database failed : No managedObject for id '" + raw + "'!"};
}

std::optional<uint64_t> json_id(const json& j) {
  if (j.is_string()) return domain::parse_id(j.get<std::string>());
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  return std::nullopt;
}

// The reference-list routes: /inventory/managedObjects/{id}/<list>[/{childId}].
constexpr const char* kChildLists = "(childDevices|childAdditions|childAssets)";

domain::Inventory::Relation relation_of(const std::string& list) {
  for (auto r : domain::Inventory::kRelations)
    if (list == domain::Inventory::children_list(r)) return r;
  return domain::Inventory::Relation::kDevice;
}

}  // namespace

void RestServer::object_changed(const Caller& c, uint64_t id, bool deleted) {
  outbox_.push(common::outbox::ObjectChanged{c.tenant, domain::format_id(id), deleted});
}

void RestServer::routes_inventory() {
  auto& srv = router_;

  srv.Post("/inventory/managedObjects", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    for (const char* k : {"name", "type"})
      if (body->contains(k) && !(*body)[k].is_string())
        return send_error(res, {422, "validationError", std::string(k) + " must be a string"});
    // A SmartREST 2.0 custom template collection is checked as an s/ut definition is.
    if (auto e = template_collection_error(*body))
      return send_error(res, {422, "validationError", *e});
    domain::Inventory inv(store_, *c->space);
    json mo;
    if (auto st = inv.create(*body, c->user, &mo); !st.ok())
      return send_error(res, {500, "general/internalError", st.message});
    notify(*c, "inventory", domain::parse_id(mo["id"].get<std::string>()).value_or(0), "CREATE",
           mo);
    add_self_links(*c, mo);
    send_json(res, 201, mo);
  });

  srv.Put(R"(/inventory/managedObjects/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    std::string raw = req.matches[1];
    auto id = domain::parse_id(raw);
    if (!id) return send_error(res, not_found(raw));
    json changes = json::object();
    for (auto& [k, v] : body->items())
      if (!domain::Inventory::is_relation_list(k) && k != "lastUpdated") changes[k] = v;
    domain::Inventory inv(store_, *c->space);
    if (changes.contains(smartrest::kTemplateCollectionFragment)) {
      auto current = inv.get(*id);
      if (!current) return send_error(res, not_found(raw));
      json next = *current;
      for (auto& [k, v] : changes.items()) next[k] = v;
      if (auto e = template_collection_error(next))
        return send_error(res, {422, "validationError", *e});
    }
    auto st = inv.merge(*id, changes);
    if (st.not_found()) return send_error(res, not_found(raw));
    if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
    auto mo = inv.get(*id);
    if (!mo) return send_error(res, not_found(raw));
    object_changed(*c, *id, false);
    notify(*c, "inventory", *id, "UPDATE", *mo);
    add_self_links(*c, *mo);
    send_json(res, 200, *mo);
  });

  srv.Delete(R"(/inventory/managedObjects/([^/]+))", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    std::string raw = req.matches[1];
    auto id = domain::parse_id(raw);
    domain::Inventory inv(store_, *c->space);
    auto st =
        id ? inv.remove(*id) : storage::StoreStatus{storage::StoreStatus::kNotFound, "not found"};
    if (st.not_found()) return send_error(res, not_found(raw));
    if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
    object_changed(*c, *id, true);
    notify(*c, "inventory", *id, "DELETE", {{"id", raw}});
    res.status = 204;
  });

  srv.Get(std::string(R"(/inventory/managedObjects/([^/]+)/)") + kChildLists,
          [this](const Request& req, Response& res) {
            auto c = authenticate(req, res);
            if (!c) return;
            std::string raw = req.matches[1];
            auto id = domain::parse_id(raw);
            domain::Inventory inv(store_, *c->space);
            auto mo = id ? inv.get(*id) : std::nullopt;
            if (!mo) return send_error(res, not_found(raw));
            add_self_links(*c, *mo);
            const std::string list = req.matches[2];
            json refs = mo->contains(list) && (*mo)[list].is_object()
                            ? (*mo)[list].value("references", json::array())
                            : json::array();
            if (!refs.is_array()) refs = json::array();
            const size_t n = refs.size();
            send_json(res, 200,
                      {{"references", std::move(refs)},
                       {"statistics", {{"currentPage", 1}, {"pageSize", std::max<size_t>(n, 1)}}},
                       {"self", c->base + "/inventory/managedObjects/" + raw + "/" + list}});
          });

  srv.Post(std::string(R"(/inventory/managedObjects/([^/]+)/)") + kChildLists,
           [this](const Request& req, Response& res) {
             auto c = authenticate(req, res);
             if (!c) return;
             HttpError err;
             auto body = body_object(req, &err);
             if (!body) return send_error(res, err);
             std::string raw = req.matches[1];
             auto parent = domain::parse_id(raw);
             std::optional<uint64_t> child;
             if (auto m = body->find("managedObject");
                 m != body->end() && m->is_object() && m->contains("id"))
               child = json_id((*m)["id"]);
             if (!child)
               return send_error(res, {422, "validationError", "managedObject.id is mandatory"});
             domain::Inventory inv(store_, *c->space);
             const auto relation = relation_of(req.matches[2]);
             uint64_t missing = 0;
             auto st = parent ? inv.add_child(*parent, *child, relation, &missing)
                              : storage::StoreStatus{storage::StoreStatus::kNotFound, "not found"};
             // A missing child is named as such: the parent exists.
             if (st.not_found())
               return send_error(
                   res, not_found(missing && missing == *child ? domain::format_id(missing) : raw));
             if (!st.ok()) return send_error(res, {422, "validationError", st.message});
             object_changed(*c, *parent, false);
             object_changed(*c, *child, false);
             json ref = {
                 {"managedObject",
                  {{"id", domain::format_id(*child)},
                   {"self", c->base + "/inventory/managedObjects/" + domain::format_id(*child)}}}};
             send_json(res, 201, ref);
           });

  // Removes the reference (both objects stay). 404 names the parent when it is missing, else the
  // child (missing, or not in that list).
  srv.Delete(std::string(R"(/inventory/managedObjects/([^/]+)/)") + kChildLists + "/([^/]+)",
             [this](const Request& req, Response& res) {
               auto c = authenticate(req, res);
               if (!c) return;
               std::string raw = req.matches[1], raw_child = req.matches[3];
               auto parent = domain::parse_id(raw);
               auto child = domain::parse_id(raw_child);
               domain::Inventory inv(store_, *c->space);
               if (!parent || !inv.get(*parent)) return send_error(res, not_found(raw));
               if (!child) return send_error(res, not_found(raw_child));
               uint64_t missing = 0;
               auto st = inv.remove_child(*parent, *child, relation_of(req.matches[2]), &missing);
               if (st.not_found())
                 return send_error(res, not_found(missing == *parent ? raw : raw_child));
               if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
               object_changed(*c, *parent, false);
               object_changed(*c, *child, false);
               res.status = 204;
             });

  // The measurement fragments / series a device has sent (domain::Measurements::supported_series).
  srv.Get(R"(/inventory/managedObjects/([^/]+)/(supportedMeasurements|supportedSeries))",
          [this](const Request& req, Response& res) {
            auto c = authenticate(req, res);
            if (!c) return;
            std::string raw = req.matches[1];
            auto id = domain::parse_id(raw);
            domain::Inventory inv(store_, *c->space);
            if (!id || !inv.get(*id)) return send_error(res, not_found(raw));
            std::vector<std::pair<std::string, std::string>> series;
            domain::Measurements ms(store_, *c->space);
            if (auto st = ms.supported_series(*id, &series); !st.ok())
              return send_error(res, {500, "general/internalError", st.message});
            json list = json::array();
            if (req.matches[2] == "supportedSeries") {
              for (auto& [fragment, name] : series) list.push_back(fragment + "." + name);
              return send_json(res, 200, {{"c8y_SupportedSeries", std::move(list)}});
            }
            for (size_t i = 0; i < series.size(); ++i)  // sorted: equal fragments are adjacent
              if (i == 0 || series[i].first != series[i - 1].first) list.push_back(series[i].first);
            send_json(res, 200, {{"c8y_SupportedMeasurements", std::move(list)}});
          });

  srv.Get(R"(/identity/globalIds/([^/]+)/externalIds)", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    std::string raw = req.matches[1];
    auto id = domain::parse_id(raw);
    domain::Inventory inv(store_, *c->space);
    if (!id || !inv.get(*id)) return send_error(res, not_found(raw));
    json list = json::array();
    for (auto& [type, value] : inv.external_ids_of(*id))
      list.push_back({{"type", type},
                      {"externalId", value},
                      {"self", c->base + "/identity/externalIds/" + type + "/" + value},
                      {"managedObject", {{"id", raw}}}});
    send_json(
        res, 200,
        {{"externalIds", list}, {"self", c->base + "/identity/globalIds/" + raw + "/externalIds"}});
  });

  srv.Post(R"(/identity/globalIds/([^/]+)/externalIds)", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    std::string raw = req.matches[1];
    auto id = domain::parse_id(raw);
    auto type = body->value("type", json()), value = body->value("externalId", json());
    if (!type.is_string() || !value.is_string() || type.get<std::string>().empty() ||
        value.get<std::string>().empty() || type.get<std::string>().size() > 127 ||
        value.get<std::string>().size() > 255 ||
        type.get<std::string>().find('\0') != std::string::npos ||
        !common::is_valid_utf8(type.get<std::string>()) ||
        !common::is_valid_utf8(value.get<std::string>()))
      return send_error(
          res, {422, "validationError", "type and externalId are mandatory non-empty strings"});
    domain::Inventory inv(store_, *c->space);
    auto st = id ? inv.add_external_id(*id, type.get<std::string>(), value.get<std::string>())
                 : storage::StoreStatus{storage::StoreStatus::kNotFound, "not found"};
    if (st.not_found()) return send_error(res, not_found(raw));
    if (st.conflict())
      return send_error(res, {409, "identity/Conflict",
                              "External id " + value.get<std::string>() + " of type " +
                                  type.get<std::string>() + " belongs to another object"});
    if (!st.ok()) return send_error(res, {500, "general/internalError", st.message});
    send_json(
        res, 201,
        {{"type", type},
         {"externalId", value},
         {"self", c->base + "/identity/externalIds/" + type.get<std::string>() + "/" +
                      value.get<std::string>()},
         {"managedObject", {{"id", raw}, {"self", c->base + "/inventory/managedObjects/" + raw}}}});
  });

  // POST a measurement: {"source": {"id"}, "time", "type", <fragment>: {<series>: {value, unit}}}.
  srv.Post("/measurement/measurements", [this](const Request& req, Response& res) {
    auto c = authenticate(req, res);
    if (!c) return;
    HttpError err;
    auto body = body_object(req, &err);
    if (!body) return send_error(res, err);
    // Every missing field in one answer (source.id among them) before the source is looked up.
    domain::Measurement m;
    std::string why;
    if (!domain::measurement_input(*body, &m, &why, nullptr, domain::SourceField::kMandatory))
      return send_error(res, {422, "validationError", why});
    const auto source = json_id((*body)["source"]["id"]);
    domain::Inventory inv(store_, *c->space);
    if (!source || !inv.get(*source))
      return send_error(res,
                        {422, "validationError", "source.id is not the id of a managed object"});
    m.source = *source;
    domain::Measurements ms(store_, *c->space);
    auto st = ms.store(m);
    if (!st.ok()) return send_error(res, {422, "validationError", st.message});
    json out = domain::measurement_json(m);
    notify(*c, "measurements", *source, "CREATE", out);
    out["self"] = c->base + "/measurement/measurements/" + out["id"].get<std::string>();
    send_json(res, 201, out);
  });
}

}  // namespace c8y::rest
