// libFuzzer target for SmartREST 2.0 custom template collections and their JSONPath subset.
// The input is split at NUL bytes into up to three parts:
//   <definition lines (s/ut body)> \0 <usage lines (s/uc body)> \0 <JSON object>
// (a missing part is empty; a third part that is not JSON is replaced by a fixed object).
// Properties checked (abort on violation):
//  * parse_collection and from_managed_object either return a collection and no error, or no
//    collection, at least one error and min(count, limit) errors;
//  * to_managed_object dumps as strict UTF-8 JSON, and from_managed_object reads it (also after
//    a text round trip) back into an equal collection whose managed object is equal again;
//  * apply_request never throws; an accepted usage line yields an object body that dumps as
//    strict UTF-8 JSON;
//  * render_responses never truncates: either nothing and an error, or lines whose joined size
//    is at most the limit; the exact size is accepted and one byte less refused; every line
//    reads back as one CSV record starting with a response msgId;
//  * every field that compiles as a JsonPath has a canonical text that compiles to an equal
//    path; select/find/set never crash and set on a wildcard path is refused.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/custom_templates.h"
#include "plugin/smartrest/json_path.h"

namespace {

namespace sr = c8y::smartrest;
using nlohmann::json;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "template_fuzz: %s: [%.*s]\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

constexpr size_t kMaxErrors = 10;

void check_errors(bool ok, const std::vector<sr::CustomTemplateError>& errors, size_t count,
                  std::string_view input) {
  if (ok && (!errors.empty() || count != 0)) fail("collection with errors", input);
  if (!ok && count == 0) fail("refused without error", input);
  if (!ok && errors.size() != std::min(count, kMaxErrors)) fail("wrong error count", input);
  for (const auto& e : errors) {
    if (e.text.empty()) fail("empty error text", input);
    if (e.code != 41 && e.code != 42) fail("unexpected definition error code", input);
  }
}

// Strict dump: throws on invalid UTF-8, which must never be in what we produce.
std::string strict_dump(const json& j, std::string_view input) {
  try {
    return j.dump();
  } catch (const std::exception&) {
    fail("JSON that does not dump strictly", input);
  }
}

void check_render(const sr::Collection& c, const json& obj, std::string_view input) {
  std::vector<std::string> lines;
  for (std::optional<std::string_view> device :
       {std::optional<std::string_view>(), std::optional<std::string_view>("dev,\"1\"")}) {
    if (sr::render_responses(c, obj, device, 1 << 20, &lines)) continue;  // too large: fine
    size_t total = lines.empty() ? 0 : lines.size() - 1;                  // the separators
    for (const auto& line : lines) {
      total += line.size();
      sr::CsvReader reader(line);
      sr::CsvRecord rec;
      if (!reader.next(rec) || rec.malformed) fail("rendered line does not read back", line);
      bool known = false;
      for (const auto& r : c.responses) known = known || rec.fields[0] == r.msg_id;
      if (!known) fail("rendered line with an unknown msgId", line);
      if (reader.next(rec)) fail("rendered line reads as several records", line);
    }
    if (lines.empty()) continue;
    std::vector<std::string> again;
    if (sr::render_responses(c, obj, device, total, &again) || again != lines)
      fail("exact size refused or different", input);
    if (!sr::render_responses(c, obj, device, total - 1, &again) || !again.empty())
      fail("one byte too many accepted", input);
  }
}

void check_paths(std::string_view field, const json& obj) {
  auto p = sr::JsonPath::compile(field, nullptr);
  if (!p) return;
  auto again = sr::JsonPath::compile(p->text(), nullptr);
  if (!again || !(*again == *p)) fail("canonical text does not compile back", field);
  const auto nodes = p->select(obj);
  if (nodes.empty() != (p->find(obj) == nullptr)) fail("find and select disagree", field);
  json copy = obj;
  std::string err;
  const bool set = p->set(copy, 1, &err);
  if (p->has_wildcard() && set) fail("set through a wildcard", field);
  if (set && !p->has_wildcard() && (p->find(copy) == nullptr || *p->find(copy) != 1))
    fail("set value not found", field);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  size_t start = 0;
  for (int i = 0; i < 3 && start <= input.size(); ++i) {
    const size_t nul = i < 2 ? input.find('\0', start) : std::string_view::npos;
    parts[i] = input.substr(start, nul == std::string_view::npos ? input.npos : nul - start);
    start = nul == std::string_view::npos ? input.size() + 1 : nul + 1;
  }
  json obj = json::parse(parts[2], nullptr, false);
  if (obj.is_discarded())
    obj = json::parse(R"({"id": "1", "type": "t", "c8y_IsDevice": {}, "status": "PENDING",
        "list": [{"a": 1, "b": "x,y"}, {"a": [true, null]}], "s": "line\nbreak"})");

  std::vector<sr::CustomTemplateError> errors;
  size_t count = 99;
  const auto c = sr::parse_collection("fuzz", parts[0], kMaxErrors, &errors, &count);
  check_errors(c.has_value(), errors, count, input);

  // JSONPath on every field of the definitions and usage lines.
  for (int i = 0; i < 2; ++i) {
    sr::CsvReader reader(parts[i]);
    sr::CsvRecord rec;
    while (reader.next(rec))
      for (const auto& f : rec.fields) check_paths(f, obj);
  }
  if (!c) return 0;

  // Managed object round trip.
  const json mo = sr::to_managed_object(*c);
  const std::string text = strict_dump(mo, input);
  for (const json& m : {mo, json::parse(text)}) {
    count = 99;
    const auto back = sr::from_managed_object(m, "fuzz", kMaxErrors, &errors, &count);
    check_errors(back.has_value(), errors, count, input);
    if (!back) fail("managed object refused", errors.empty() ? text : errors[0].text);
    if (!(*back == *c)) fail("managed object round trip differs", text);
    if (sr::to_managed_object(*back) != mo) fail("managed object not stable", text);
  }

  // Usage lines, and responses for the results and the object.
  sr::CsvReader reader(parts[1]);
  sr::CsvRecord rec;
  sr::RequestAction action;
  while (reader.next(rec)) {
    if (rec.malformed) continue;
    const auto e = sr::apply_request(*c, rec, 1700000000123, action);
    if (e) {
      if (e->code != 40 && e->code != 45) fail("unexpected usage error code", e->text);
      continue;
    }
    if (!action.body.is_object()) fail("body is not an object", input);
    (void)strict_dump(action.body, input);
    if (action.response) check_render(*c, action.body, input);
  }
  check_render(*c, obj, input);
  return 0;
}
