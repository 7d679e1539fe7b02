// /measurement/measurements: a device's measurements, and their series as chart data
// (Cumulocity's measurement API).
#include "plugin/domain/json_input.h"
#include "plugin/domain/measurement.h"
#include "plugin/rest/rest_docs.h"
#include "plugin/rest/rest_handlers.h"

namespace c8y::rest::measurements {

void list(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  if (refuse_unsupported(req, {"valueFragmentType", "valueFragmentSeries", "fragmentType"}, &err))
    return send_error(res, err);
  auto paging = param_paging(req, &err);
  if (!paging) return send_error(res, err);
  domain::MeasurementQuery q;
  q.page_size = paging->page_size;
  q.page = paging->page;
  q.type = req.get_param_value("type");
  std::optional<bool> revert;
  if (!param_source_window(req, &q, &revert, &err)) return send_error(res, err);
  q.revert = revert.value_or(false);  // measurements: oldest first unless revert=true
  std::vector<domain::Measurement> found;
  bool more = false;
  q.count_total = paging->count_total();
  size_t counted = 0;
  domain::Measurements ms(ctx.store, *c.space);
  auto st = ms.query(q, &found, &more, &counted);
  if (!st.ok()) return send_error(res, storage_error(st));
  json items = json::array();
  for (auto& m : found) items.push_back(measurement_out(c, m));
  send_json(res, 200,
            paged(c, "/measurement/measurements", req, "measurements", std::move(items), *paging,
                  more, q.count_total ? std::optional<size_t>(counted) : std::nullopt));
}

// Chart data (@c8y/client measurement.listSeries): one range scan of the source's measurements.
// Another tenant's device id finds nothing in this tenant's family: an empty answer, as for
// GET /measurement/measurements.
void series(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  HttpError err;
  domain::SeriesQuery q;
  if (!req.has_param("source"))
    return send_error(res, {400, "general/badRequest", "Query parameter source is mandatory"});
  if (!param_id(req, "source", &q.source, &err) ||
      !param_time(req, "dateFrom", &q.date_from, &err) ||
      !param_time(req, "dateTo", &q.date_to, &err))
    return send_error(res, err);
  if (q.date_from > q.date_to)
    return send_error(res, {400, "general/badRequest", "dateFrom must not be after dateTo"});
  if (req.has_param("aggregationType")) {
    auto v = req.get_param_value("aggregationType");
    auto a = domain::parse_aggregation(v);
    if (!a)
      return send_error(res, {400, "general/badRequest",
                              "Invalid value of query parameter aggregationType: '" + v +
                                  "' (DAILY, HOURLY or MINUTELY)"});
    q.aggregation = *a;
  }
  // Repeated parameter (series=a.x&series=b.y), in request order; read through req.params as
  // paged() does.
  for (auto& [k, v] : req.params) {
    if (k != "series") continue;
    if (q.wanted.size() == 100)
      return send_error(res, {400, "general/badRequest", "At most 100 series per request"});
    auto key = domain::parse_series_key(v);
    if (!key)
      return send_error(res, {400, "general/badRequest",
                              "Invalid value of query parameter series: '" + v +
                                  "' (expected <fragment>.<series>)"});
    q.wanted.push_back(std::move(*key));
  }
  domain::Measurements ms(ctx.store, *c.space);
  domain::SeriesResult r;
  if (auto st = ms.series(q, &r); !st.ok()) return send_error(res, storage_error(st));
  send_json(res, 200, domain::series_json(r));
}

// {"source": {"id"}, "time", "type", <fragment>: {<series>: {value, unit}}}.
void create(RestContext& ctx, const Caller& c, const Request& req, Response& res) {
  domain::Measurement m;
  uint64_t source = 0;
  auto body = new_data_body(
      ctx, c, req, res,
      [&](const json& b, std::string* why) {
        return domain::measurement_input(b, &m, why, nullptr, domain::SourceField::kMandatory);
      },
      &source);
  if (!body) return;
  m.source = source;
  domain::Measurements ms(ctx.store, *c.space);
  auto st = ms.store(m);
  if (!st.ok())
    return send_error(
        res, st.invalid() ? HttpError{422, "validationError", st.message} : storage_error(st));
  json out = domain::measurement_json(m);
  ctx.notify(c, "measurements", source, "CREATE", out);
  out["self"] = c.base + "/measurement/measurements/" + out["id"].get<std::string>();
  send_json(res, 201, out);
}

}  // namespace c8y::rest::measurements
