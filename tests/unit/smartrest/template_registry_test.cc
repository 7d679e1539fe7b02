// The registry of static templates (static_templates.cc) against the decoders: every row is
// recognised by the decoder of its kind, and nothing outside the table is.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "plugin/smartrest/alarm_event_templates.h"
#include "plugin/smartrest/csv.h"
#include "plugin/smartrest/inventory_templates.h"
#include "plugin/smartrest/static_templates.h"

namespace c8y::smartrest {
namespace {

CsvRecord record_of(const std::string& id) {
  CsvRecord rec;
  rec.fields = {id};
  return rec;
}

// Whether the decoder of `kind` takes `id` as one of its templates (any answer but code 40).
bool decoder_takes(TemplateKind kind, const std::string& id) {
  const CsvRecord rec = record_of(id);
  std::optional<TemplateError> e;
  switch (kind) {
    case TemplateKind::kInventory: {
      InventoryCommand c;
      e = decode_inventory(rec, 0, c);
      break;
    }
    case TemplateKind::kAlarm: {
      AlarmCommand c;
      e = decode_alarm(rec, 0, c);
      break;
    }
    case TemplateKind::kEvent: {
      EventCommand c;
      e = decode_event(rec, 0, c);
      break;
    }
    default:
      return true;  // decoded by the app (operations, capabilities) or by id alone
  }
  return !e || e->code != 40;
}

TEST(TemplateRegistry, SortedUniqueThreeDigitIds) {
  std::set<int> seen;
  int last = 0;
  for (auto& t : static_templates()) {
    EXPECT_GT(t.id, last);
    EXPECT_GE(t.id, 100);
    EXPECT_LE(t.id, 999);
    EXPECT_NE(t.kind, TemplateKind::kUnknown) << t.id;
    EXPECT_TRUE(seen.insert(t.id).second);
    last = t.id;
  }
  EXPECT_EQ(seen.size(), 53u);  // 603 lists 53 templates
}

TEST(TemplateRegistry, EveryRowIsTakenByTheDecoderOfItsKind) {
  for (auto& t : static_templates()) {
    const std::string id = std::to_string(t.id);
    EXPECT_EQ(template_kind(id), t.kind) << id;
    EXPECT_TRUE(decoder_takes(t.kind, id)) << id;
    EXPECT_EQ(is_inventory_template(id), t.kind == TemplateKind::kInventory) << id;
    EXPECT_EQ(is_alarm_template(id), t.kind == TemplateKind::kAlarm) << id;
    EXPECT_EQ(is_event_template(id), t.kind == TemplateKind::kEvent) << id;
  }
}

TEST(TemplateRegistry, NothingElseIsTaken) {
  std::set<int> ids;
  for (auto& t : static_templates()) ids.insert(t.id);
  for (int n = 0; n < 1000; ++n) {
    if (ids.count(n)) continue;
    const std::string id = std::to_string(n);
    EXPECT_EQ(template_kind(id), TemplateKind::kUnknown) << id;
    for (auto k : {TemplateKind::kInventory, TemplateKind::kAlarm, TemplateKind::kEvent})
      EXPECT_FALSE(decoder_takes(k, id)) << id;
  }
  for (const char* id : {"0301", "+301", "30", "3O1", " 301", "301 ", ""})
    for (auto k : {TemplateKind::kInventory, TemplateKind::kAlarm, TemplateKind::kEvent})
      EXPECT_FALSE(decoder_takes(k, id)) << '"' << id << '"';
}

}  // namespace
}  // namespace c8y::smartrest
