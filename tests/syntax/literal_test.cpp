#include "compiler/syntax/literal.h"

#include <gtest/gtest.h>

using namespace orgos::syntax;

TEST(Literal, IntegersAcceptSeparatorsAndRejectOverflow) {
  EXPECT_EQ(parse_int("10_000"), 10000);
  EXPECT_EQ(parse_int("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(parse_int("9223372036854775808"));
  EXPECT_FALSE(parse_int(""));
}

TEST(Literal, DurationsConvertToSeconds) {
  EXPECT_EQ(parse_duration("2d"), 2 * 86400);
  EXPECT_EQ(parse_duration("3h"), 3 * 3600);
  EXPECT_EQ(parse_duration("30m"), 1800);
  EXPECT_EQ(parse_duration("1w"), 7 * 86400);
  EXPECT_FALSE(parse_duration("99999999999999999w"));
}

TEST(Literal, DatesAreCheckedAgainstTheCalendar) {
  EXPECT_EQ(parse_date("1970-01-01"), 0);
  EXPECT_EQ(parse_date("2024-02-29"), 19782);
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_FALSE(parse_date("2026-13-01"));
  EXPECT_FALSE(parse_date("2026-04-31"));
  EXPECT_EQ(format_date(*parse_date("2026-01-31")), "2026-01-31");
}

TEST(Literal, StringEscapesAreDecoded) {
  EXPECT_EQ(unescape("\"a\\n\\\"b\\\\\""), "a\n\"b\\");
  EXPECT_EQ(unescape("\"\""), "");
}
