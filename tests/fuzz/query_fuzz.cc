// libFuzzer target for the inventory query language (domain/inventory_query.h).
// Input: <query text> [NUL <managed object JSON>].
// Properties checked (abort on violation):
//  * parse never crashes, never throws, and refuses with a non-empty message; any input longer
//    than kMaxQueryLength is refused;
//  * an accepted query evaluates (matches, sort_key, before) on any JSON without throwing;
//  * before() is irreflexive, and asymmetric for the object against a fixed second object;
//  * require_fragment only narrows: a match with it is a match without it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "plugin/domain/inventory_query.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "query_fuzz: %s\n", what);
  std::abort();
}

const nlohmann::json& reference_object() {
  static const nlohmann::json mo = nlohmann::json::parse(R"({
    "id": "1007", "name": "Dev_001", "type": "c8y_Linux", "num": 1.5, "ok": true,
    "creationTime": "2026-01-02T10:00:00.000Z", "c8y_IsDevice": {},
    "c8y_Hardware": {"serialNumber": "SN-1"}, "tags": ["a", {"k": 1}],
    "assetParents": {"references": [{"managedObject": {"id": "5007"}}]}})");
  return mo;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view text = in.substr(0, nul);
  const std::string_view doc = nul == std::string_view::npos ? "" : in.substr(nul + 1);
  try {
    std::string error;
    auto q = c8y::domain::InventoryQuery::parse(text, &error);
    if (!q) {
      if (error.empty()) fail("refused without a message");
      return 0;
    }
    if (text.size() > c8y::domain::kMaxQueryLength) fail("accepted an over-long query");
    bool too_deep = false;
    nlohmann::json mo = nlohmann::json::parse(
        doc,
        [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
          if (depth > 32) too_deep = true;
          return !too_deep;
        },
        false);
    if (mo.is_discarded()) mo = reference_object();
    const bool matched = q->matches(mo);
    const auto key = q->sort_key(mo);
    const auto ref = q->sort_key(reference_object());
    if (q->before(key, key)) fail("before() is not irreflexive");
    if (q->before(key, ref) && q->before(ref, key)) fail("before() is not asymmetric");
    q->require_fragment("c8y_IsDevice");
    if (q->matches(mo) && !matched) fail("require_fragment widened the filter");
  } catch (...) {
    fail("an exception escaped");
  }
  return 0;
}
