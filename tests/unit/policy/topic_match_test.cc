#include "plugin/policy/topic_match.h"

#include <gtest/gtest.h>

namespace c8y::policy {
namespace {

struct Case {
  const char* filter;
  const char* topic;
  bool match;
};

void check(std::initializer_list<Case> cases) {
  for (const auto& c : cases)
    EXPECT_EQ(topic_matches(c.filter, c.topic), c.match)
        << "filter '" << c.filter << "' topic '" << c.topic << "'";
}

TEST(TopicMatch, Literal) {
  check({
      {"a", "a", true},
      {"a/b", "a/b", true},
      {"s/us", "s/us", true},
      {"a", "b", false},
      {"a/b", "a/c", false},
      {"a/b", "a", false},
      {"a", "a/b", false},
      {"a/b", "a/b/c", false},
      {"a/b/c", "a/b", false},
      {"a", "ab", false},
      {"ab", "a", false},
      {"a/b", "a/bc", false},
      {"A", "a", false},  // case-sensitive
  });
}

TEST(TopicMatch, SingleLevelWildcard) {
  check({
      {"+", "a", true},
      {"a/+", "a/b", true},
      {"+/b", "a/b", true},
      {"a/+/c", "a/b/c", true},
      {"+/+", "a/b", true},
      {"+/+/+", "a/b/c", true},
      {"s/dc/+", "s/dc/xid", true},
      {"+", "a/b", false},
      {"a/+", "a", false},
      {"a/+", "a/b/c", false},
      {"+/+", "a", false},
      {"+/+", "a/b/c", false},
      {"a/+/c", "a/b/d", false},
      {"+/b", "a/c", false},
  });
}

TEST(TopicMatch, MultiLevelWildcard) {
  check({
      {"#", "a", true},       {"#", "a/b/c", true},      {"#", "/", true},
      {"#", "/a", true},      {"a/#", "a/b", true},      {"a/#", "a/b/c/d", true},
      {"a/#", "a", true},  // '#' includes the parent level
      {"a/b/#", "a/b", true}, {"a/b/#", "a/b/c", true},  {"+/#", "a", true},
      {"+/#", "a/b/c", true}, {"a/+/#", "a/b", true},    {"a/+/#", "a/b/c/d", true},
      {"a/#", "b", false},    {"a/#", "ab", false},      {"a/#", "ab/c", false},
      {"a/b/#", "a", false},  {"a/b/#", "a/c/b", false}, {"a/+/#", "a", false},
  });
}

TEST(TopicMatch, EmptyLevels) {
  check({
      {"a//b", "a//b", true},
      {"a/+/b", "a//b", true},  // '+' matches an empty level
      {"a/b", "a//b", false},
      {"a//b", "a/b", false},
      {"a/+", "a/", true},
      {"a/", "a/", true},
      {"a/", "a", false},
      {"a", "a/", false},
      {"a/#", "a/", true},
      {"a//#", "a/", true},
      {"a/+/+", "a//", true},
      {"+/+", "/", true},
      {"+", "/", false},
  });
}

TEST(TopicMatch, LeadingSlash) {
  check({
      {"/a", "/a", true},
      {"/+", "/a", true},
      {"+/+", "/a", true},  // the first level is empty
      {"+/a", "/a", true},
      {"/#", "/a/b", true},
      {"/#", "/", true},
      {"/a", "a", false},
      {"a", "/a", false},
      {"+", "/a", false},
      {"/+", "a", false},
      {"/#", "a", false},
  });
}

TEST(TopicMatch, WildcardCharactersInTopicAreLiteral) {
  // Only the filter's '+' and '#' are wildcards.
  check({
      {"a/+", "a/+", true},
      {"a/b", "a/+", false},
      {"a/b", "a/#", false},
  });
}

}  // namespace
}  // namespace c8y::policy
