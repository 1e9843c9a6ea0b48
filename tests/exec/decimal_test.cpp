#include <gtest/gtest.h>

#include "compiler/interp/evaluator.h"

using namespace orgos;
using interp::dec::parse;
using interp::dec::to_string;

namespace {
ir::Dec D(const char* s) {
  return *parse(s);
}
}  // namespace

TEST(Decimal, ParseAndPrintRoundTrip) {
  EXPECT_EQ(to_string(D("12.5")), "12.5");
  EXPECT_EQ(to_string(D("-0.000000001")), "-0.000000001");
  EXPECT_EQ(to_string(D("100")), "100");
  EXPECT_FALSE(parse("1.0000000001"));  // more than 9 places
  EXPECT_FALSE(parse("1e5"));
}

TEST(Decimal, MultiplyRoundsHalfAwayFromZero) {
  ir::Dec r;
  ASSERT_TRUE(interp::dec::mul(D("0.000000005"), D("0.1"), r));  // 5e-10 → 1e-9
  EXPECT_EQ(to_string(r), "0.000000001");
  ASSERT_TRUE(interp::dec::mul(D("-0.000000005"), D("0.1"), r));
  EXPECT_EQ(to_string(r), "-0.000000001");
  ASSERT_TRUE(interp::dec::mul(D("1234567.89"), D("3"), r));
  EXPECT_EQ(to_string(r), "3703703.67");
}

TEST(Decimal, WideProductsAreExactOrOverflow) {
  ir::Dec r;
  // 1e15 * 1e12 = 1e27 needs a 256-bit intermediate (raw operands 1e24 and 1e21) but fits the result.
  ASSERT_TRUE(interp::dec::mul(D("1000000000000000"), D("1000000000000"), r));
  EXPECT_EQ(to_string(r), "1000000000000000000000000000");
  EXPECT_FALSE(interp::dec::mul(D("100000000000000000000"), D("100000000000000000000"), r));
}

TEST(Decimal, DivisionRoundsAndReportsZero) {
  ir::Dec r;
  EXPECT_EQ(interp::dec::div(D("1"), D("3"), r), 0);
  EXPECT_EQ(to_string(r), "0.333333333");
  EXPECT_EQ(interp::dec::div(D("2"), D("3"), r), 0);
  EXPECT_EQ(to_string(r), "0.666666667");
  EXPECT_EQ(interp::dec::div(D("-2"), D("3"), r), 0);
  EXPECT_EQ(to_string(r), "-0.666666667");
  EXPECT_EQ(interp::dec::div(D("1"), D("0"), r), 2);
}

TEST(Decimal, AddOverflowIsDetected) {
  ir::Dec big = *parse("170000000000000000000000000000");
  ir::Dec r;
  EXPECT_FALSE(interp::dec::add(big, big, r));
}

TEST(Decimal, RoundToPlaces) {
  ir::Dec r;
  ASSERT_TRUE(interp::dec::round(D("2.345"), 2, r));
  EXPECT_EQ(to_string(r), "2.35");
  ASSERT_TRUE(interp::dec::round(D("-2.345"), 2, r));
  EXPECT_EQ(to_string(r), "-2.35");
  ASSERT_TRUE(interp::dec::round(D("2.5"), 0, r));
  EXPECT_EQ(to_string(r), "3");
}
