// common::Status: each code answers its own question only, and a default status is success.
#include "plugin/common/status.h"

#include <gtest/gtest.h>

namespace c8y::common {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_FALSE(s.not_found() || s.conflict() || s.invalid() || s.unavailable());
  EXPECT_TRUE(s.message.empty());
}

TEST(StatusTest, EachFactoryMakesItsCodeOnly) {
  struct Case {
    Status s;
    Status::Code code;
  };
  for (const auto& c :
       {Case{Status::NotFound("a"), Status::kNotFound},
        Case{Status::Conflict("b"), Status::kConflict},
        Case{Status::Invalid("c"), Status::kInvalid},
        Case{Status::Unavailable("d"), Status::kUnavailable}, Case{Status::Io("e"), Status::kIo}}) {
    EXPECT_EQ(c.s.code, c.code);
    EXPECT_FALSE(c.s.ok());
    EXPECT_EQ(c.s.not_found(), c.code == Status::kNotFound);
    EXPECT_EQ(c.s.conflict(), c.code == Status::kConflict);
    EXPECT_EQ(c.s.invalid(), c.code == Status::kInvalid);
    EXPECT_EQ(c.s.unavailable(), c.code == Status::kUnavailable);
    EXPECT_EQ(c.s.message.size(), 1u);
  }
}

}  // namespace
}  // namespace c8y::common
