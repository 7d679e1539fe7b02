#include "plugin/domain/operation_state.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace c8y::domain {
namespace {

constexpr OpStatus P = OpStatus::kPending;
constexpr OpStatus E = OpStatus::kExecuting;
constexpr OpStatus S = OpStatus::kSuccessful;
constexpr OpStatus F = OpStatus::kFailed;

const std::vector<OpStatus> kAllStatuses = {P, E, S, F};
const std::vector<StatusTemplate> kAllTemplates = {
    StatusTemplate::k501, StatusTemplate::k502, StatusTemplate::k503, StatusTemplate::k504,
    StatusTemplate::k505, StatusTemplate::k506, StatusTemplate::k507};

// Checks that apply(t, from) moves the operation to `expected`.
void expect_to(StatusTemplate t, OpStatus from, OpStatus expected) {
  const Transition tr = apply(t, from);
  ASSERT_TRUE(tr.to.has_value()) << template_id(t) << " on " << to_string(from) << ": " << tr.error;
  EXPECT_EQ(*tr.to, expected) << template_id(t) << " on " << to_string(from);
  EXPECT_TRUE(tr.error.empty()) << tr.error;
}

// Checks that apply(t, from) is refused with an error text holding `fragment`.
void expect_error(StatusTemplate t, OpStatus from, std::string_view fragment) {
  const Transition tr = apply(t, from);
  EXPECT_FALSE(tr.to.has_value()) << template_id(t) << " on " << to_string(from);
  EXPECT_FALSE(tr.error.empty()) << template_id(t) << " on " << to_string(from);
  EXPECT_NE(tr.error.find(fragment), std::string::npos)
      << template_id(t) << " on " << to_string(from) << ": " << tr.error;
}

constexpr std::string_view kFinal = "cannot change any more";

// ---------------------------------------------------------------------------------------------
// Status names

TEST(OpStatus, ToString) {
  EXPECT_EQ(to_string(P), "PENDING");
  EXPECT_EQ(to_string(E), "EXECUTING");
  EXPECT_EQ(to_string(S), "SUCCESSFUL");
  EXPECT_EQ(to_string(F), "FAILED");
}

TEST(OpStatus, ParseRoundTrips) {
  for (OpStatus s : kAllStatuses) EXPECT_EQ(parse_op_status(to_string(s)), s);
}

TEST(OpStatus, ParseRejectsEverythingElse) {
  using namespace std::string_view_literals;
  for (std::string_view s :
       {""sv, "pending"sv, "Pending"sv, " PENDING"sv, "PENDING "sv, "PENDING\n"sv, "EXECUTE"sv,
        "SUCCESS"sv, "SUCCEEDED"sv, "FAIL"sv, "CANCELLED"sv, "DONE"sv, "0"sv, "PENDINGX"sv,
        "PEN\0DING"sv, "PENDING\0"sv}) {
    EXPECT_EQ(parse_op_status(s), std::nullopt) << "[" << s << "]";
  }
}

TEST(OpStatus, IsFinal) {
  EXPECT_FALSE(is_final(P));
  EXPECT_FALSE(is_final(E));
  EXPECT_TRUE(is_final(S));
  EXPECT_TRUE(is_final(F));
}

// ---------------------------------------------------------------------------------------------
// Template ids

TEST(StatusTemplate, Ids) {
  EXPECT_EQ(template_id(StatusTemplate::k501), 501);
  EXPECT_EQ(template_id(StatusTemplate::k502), 502);
  EXPECT_EQ(template_id(StatusTemplate::k503), 503);
  EXPECT_EQ(template_id(StatusTemplate::k504), 504);
  EXPECT_EQ(template_id(StatusTemplate::k505), 505);
  EXPECT_EQ(template_id(StatusTemplate::k506), 506);
  EXPECT_EQ(template_id(StatusTemplate::k507), 507);
}

TEST(StatusTemplate, ParseRoundTrips) {
  for (StatusTemplate t : kAllTemplates) {
    EXPECT_EQ(parse_status_template(std::to_string(template_id(t))), t);
  }
}

TEST(StatusTemplate, ParseRejectsOtherIds) {
  for (std::string_view s : {"", "5", "50", "500", "508", "509", "510", "0501", "5011", "+501",
                             " 501", "501 ", "401", "601", "50a", "5O1"}) {
    EXPECT_EQ(parse_status_template(s), std::nullopt) << "[" << s << "]";
  }
}

TEST(StatusTemplate, ErrorCodeIs45) {
  EXPECT_EQ(kTransitionErrorCode, 45);
}

// ---------------------------------------------------------------------------------------------
// selects

TEST(Selects, FragmentAddressedTemplates) {
  EXPECT_EQ(selects(StatusTemplate::k501), P);
  EXPECT_EQ(selects(StatusTemplate::k502), E);
  EXPECT_EQ(selects(StatusTemplate::k503), E);
  EXPECT_EQ(selects(StatusTemplate::k507), E);
}

TEST(Selects, IdAddressedTemplatesSelectByIdNotStatus) {
  EXPECT_EQ(selects(StatusTemplate::k504), std::nullopt);
  EXPECT_EQ(selects(StatusTemplate::k505), std::nullopt);
  EXPECT_EQ(selects(StatusTemplate::k506), std::nullopt);
}

TEST(Selects, ASelectedOperationIsAlwaysAccepted) {
  // Whatever a fragment-addressed template selects, apply() moves it.
  for (StatusTemplate t : kAllTemplates) {
    if (const auto sel = selects(t)) {
      EXPECT_TRUE(apply(t, *sel).to.has_value()) << template_id(t);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// apply: every cell of the table in the header, one test per row.

TEST(Apply, Row501) {
  expect_to(StatusTemplate::k501, P, E);
  expect_error(StatusTemplate::k501, E, "Template 501 acts on PENDING operations");
  expect_error(StatusTemplate::k501, S, kFinal);
  expect_error(StatusTemplate::k501, F, kFinal);
}

TEST(Apply, Row502) {
  expect_error(StatusTemplate::k502, P, "Template 502 acts on EXECUTING operations");
  expect_to(StatusTemplate::k502, E, F);
  expect_error(StatusTemplate::k502, S, kFinal);
  expect_error(StatusTemplate::k502, F, kFinal);
}

TEST(Apply, Row503) {
  expect_error(StatusTemplate::k503, P, "Template 503 acts on EXECUTING operations");
  expect_to(StatusTemplate::k503, E, S);
  expect_error(StatusTemplate::k503, S, kFinal);
  expect_error(StatusTemplate::k503, F, kFinal);
}

TEST(Apply, Row504) {
  expect_to(StatusTemplate::k504, P, E);
  expect_to(StatusTemplate::k504, E, E);  // idempotent
  expect_error(StatusTemplate::k504, S, kFinal);
  expect_error(StatusTemplate::k504, F, kFinal);
}

TEST(Apply, Row505) {
  expect_to(StatusTemplate::k505, P, F);  // a device may decline a PENDING operation
  expect_to(StatusTemplate::k505, E, F);
  expect_error(StatusTemplate::k505, S, kFinal);
  expect_error(StatusTemplate::k505, F, kFinal);  // not even the same status again
}

TEST(Apply, Row506) {
  expect_to(StatusTemplate::k506, P, S);  // completing a PENDING operation directly
  expect_to(StatusTemplate::k506, E, S);
  expect_error(StatusTemplate::k506, S, kFinal);  // not even the same status again
  expect_error(StatusTemplate::k506, F, kFinal);
}

TEST(Apply, Row507) {
  expect_error(StatusTemplate::k507, P, "Template 507 acts on EXECUTING operations");
  expect_to(StatusTemplate::k507, E, F);
  expect_error(StatusTemplate::k507, S, kFinal);
  expect_error(StatusTemplate::k507, F, kFinal);
}

// The same table as data, checked cell by cell (nullopt: refused).
TEST(Apply, FullTable) {
  struct Row {
    StatusTemplate t;
    std::optional<OpStatus> from_p, from_e, from_s, from_f;
  };
  const std::vector<Row> table = {
      {StatusTemplate::k501, E, std::nullopt, std::nullopt, std::nullopt},
      {StatusTemplate::k502, std::nullopt, F, std::nullopt, std::nullopt},
      {StatusTemplate::k503, std::nullopt, S, std::nullopt, std::nullopt},
      {StatusTemplate::k504, E, E, std::nullopt, std::nullopt},
      {StatusTemplate::k505, F, F, std::nullopt, std::nullopt},
      {StatusTemplate::k506, S, S, std::nullopt, std::nullopt},
      {StatusTemplate::k507, std::nullopt, F, std::nullopt, std::nullopt},
  };
  ASSERT_EQ(table.size(), kAllTemplates.size());
  int cells = 0;
  for (const Row& row : table) {
    const std::optional<OpStatus> expected[] = {row.from_p, row.from_e, row.from_s, row.from_f};
    for (size_t i = 0; i < kAllStatuses.size(); ++i) {
      const OpStatus from = kAllStatuses[i];
      const Transition tr = apply(row.t, from);
      EXPECT_EQ(tr.to, expected[i]) << template_id(row.t) << " on " << to_string(from);
      // Exactly one of `to` and `error`.
      EXPECT_NE(tr.to.has_value(), !tr.error.empty())
          << template_id(row.t) << " on " << to_string(from);
      ++cells;
    }
  }
  EXPECT_EQ(cells, 28);
}

TEST(Apply, NothingLeavesAFinalState) {
  for (StatusTemplate t : kAllTemplates) {
    for (OpStatus from : {S, F}) {
      const Transition tr = apply(t, from);
      EXPECT_FALSE(tr.to.has_value()) << template_id(t) << " on " << to_string(from);
      EXPECT_EQ(tr.error, "Operation is already " + std::string(to_string(from)) +
                              " and cannot change any more");
    }
  }
}

TEST(Apply, NothingReturnsToPending) {
  for (StatusTemplate t : kAllTemplates) {
    for (OpStatus from : kAllStatuses) {
      const Transition tr = apply(t, from);
      if (tr.to) {
        EXPECT_NE(*tr.to, P) << template_id(t) << " on " << to_string(from);
      }
    }
  }
}

TEST(Apply, ErrorTextsAreSingleCsvFields) {
  // The caller writes them as the third field of a 45 line; keep them free of what needs quotes.
  for (StatusTemplate t : kAllTemplates) {
    for (OpStatus from : kAllStatuses) {
      const std::string e = apply(t, from).error;
      EXPECT_EQ(e.find_first_of(",\"\r\n\t"), std::string::npos) << e;
      if (!e.empty()) {
        EXPECT_NE(e.front(), ' ');
        EXPECT_NE(e.back(), ' ');
      }
    }
  }
}

TEST(Apply, ExactErrorTexts) {
  EXPECT_EQ(apply(StatusTemplate::k501, E).error,
            "Template 501 acts on PENDING operations but the operation is EXECUTING");
  EXPECT_EQ(apply(StatusTemplate::k503, P).error,
            "Template 503 acts on EXECUTING operations but the operation is PENDING");
  EXPECT_EQ(apply(StatusTemplate::k506, S).error,
            "Operation is already SUCCESSFUL and cannot change any more");
  EXPECT_EQ(apply(StatusTemplate::k505, F).error,
            "Operation is already FAILED and cannot change any more");
}

TEST(Apply, HappyPaths) {
  // 501 -> 503 and 501 -> 502, by fragment.
  OpStatus s = P;
  s = *apply(StatusTemplate::k501, s).to;
  EXPECT_EQ(*apply(StatusTemplate::k503, s).to, S);
  EXPECT_EQ(*apply(StatusTemplate::k502, s).to, F);
  // 504 -> 506 and 504 -> 505, by id.
  s = *apply(StatusTemplate::k504, P).to;
  EXPECT_EQ(*apply(StatusTemplate::k506, s).to, S);
  EXPECT_EQ(*apply(StatusTemplate::k505, s).to, F);
  // Mixed: 501 then 506 by id, 504 then 503 by fragment.
  EXPECT_EQ(*apply(StatusTemplate::k506, *apply(StatusTemplate::k501, P).to).to, S);
  EXPECT_EQ(*apply(StatusTemplate::k503, *apply(StatusTemplate::k504, P).to).to, S);
}

// ---------------------------------------------------------------------------------------------
// REST: every cell.

TEST(RestTransition, FromPending) {
  EXPECT_TRUE(rest_transition_allowed(P, P));
  EXPECT_TRUE(rest_transition_allowed(P, E));
  EXPECT_TRUE(rest_transition_allowed(P, S));
  EXPECT_TRUE(rest_transition_allowed(P, F));  // cancelling
}

TEST(RestTransition, FromExecuting) {
  EXPECT_TRUE(rest_transition_allowed(E, P));  // re-queue
  EXPECT_TRUE(rest_transition_allowed(E, E));
  EXPECT_TRUE(rest_transition_allowed(E, S));
  EXPECT_TRUE(rest_transition_allowed(E, F));
}

TEST(RestTransition, FromSuccessful) {
  EXPECT_FALSE(rest_transition_allowed(S, P));
  EXPECT_FALSE(rest_transition_allowed(S, E));
  EXPECT_TRUE(rest_transition_allowed(S, S));  // same status: edits of other fields
  EXPECT_FALSE(rest_transition_allowed(S, F));
}

TEST(RestTransition, FromFailed) {
  EXPECT_FALSE(rest_transition_allowed(F, P));
  EXPECT_FALSE(rest_transition_allowed(F, E));
  EXPECT_FALSE(rest_transition_allowed(F, S));
  EXPECT_TRUE(rest_transition_allowed(F, F));
}

TEST(RestTransition, EveryDeviceTransitionIsAlsoAllowedByRest) {
  // Anything a device may do through 501-507 an application may do through REST too.
  for (StatusTemplate t : kAllTemplates) {
    for (OpStatus from : kAllStatuses) {
      if (const auto to = apply(t, from).to) {
        EXPECT_TRUE(rest_transition_allowed(from, *to))
            << template_id(t) << ": " << to_string(from) << " -> " << to_string(*to);
      }
    }
  }
}

}  // namespace
}  // namespace c8y::domain
