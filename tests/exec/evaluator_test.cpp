// The interpreter on hand-built IR: each operator's meaning and edge cases (overflow, currency
// mismatch at run time, none, empty aggregates).
#include "compiler/interp/evaluator.h"

#include <gtest/gtest.h>

using namespace orgos;
using namespace orgos::ir;

namespace {

NodePtr cnst(Value v, Kind k) {
  auto n = std::make_unique<Node>();
  n->op = Op::Const;
  n->value = v;
  n->type = IType::of(k);
  return n;
}
NodePtr i64(int64_t x) {
  return cnst(Value::of_int(x), Kind::Int);
}
NodePtr money(const char* amount, const char* cur) {
  auto n = cnst(Value::of_money(*interp::dec::parse(amount), currency_code(cur)), Kind::Money);
  n->type.currency = currency_code(cur);
  return n;
}
NodePtr bin(Op op, NodePtr a, NodePtr b, Kind result) {
  auto n = std::make_unique<Node>();
  n->op = op;
  n->type = IType::of(result);
  n->kids.push_back(std::move(a));
  n->kids.push_back(std::move(b));
  return n;
}

interp::Outcome run(NodePtr body, std::vector<Value> args = {}, uint32_t nlocals = 0) {
  static Module m;  // kept alive: results may point into the evaluator's arena only while it lives
  m.functions.clear();
  Function f;
  f.name = "t";
  f.body = std::move(body);
  f.nlocals = nlocals;
  m.functions.push_back(std::move(f));
  interp::Evaluator ev(m);
  return ev.call(0, args);
}

}  // namespace

TEST(Evaluator, IntegerArithmeticIsChecked) {
  EXPECT_EQ(run(bin(Op::Add, i64(2), i64(3), Kind::Int)).value.u.i, 5);
  auto o = run(bin(Op::Add, i64(INT64_MAX), i64(1), Kind::Int));
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error->kind, interp::ErrorKind::Overflow);
  auto z = run(bin(Op::Mod, i64(7), i64(0), Kind::Int));
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.error->kind, interp::ErrorKind::DivisionByZero);
  EXPECT_FALSE(run(bin(Op::Mul, i64(INT64_MIN), i64(-1), Kind::Int)).ok());
}

TEST(Evaluator, MoneyNeedsOneCurrencyAtRunTime) {
  auto ok = run(bin(Op::Add, money("10.50", "USD"), money("0.25", "USD"), Kind::Money));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(interp::to_string(ok.value), "10.75 USD");
  auto bad = run(bin(Op::Add, money("10", "USD"), money("1", "EUR"), Kind::Money));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error->kind, interp::ErrorKind::CurrencyMismatch);
  auto cmp = run(bin(Op::Lt, money("10", "USD"), money("1", "EUR"), Kind::Bool));
  EXPECT_EQ(cmp.error->kind, interp::ErrorKind::CurrencyMismatch);
}

TEST(Evaluator, ComparisonsWithNone) {
  auto eq = run(bin(Op::Eq, cnst(Value::none(), Kind::None), cnst(Value::none(), Kind::None), Kind::Bool));
  EXPECT_TRUE(eq.value.u.i);
  auto ne = run(bin(Op::Eq, i64(1), cnst(Value::none(), Kind::None), Kind::Bool));
  EXPECT_FALSE(ne.value.u.i);
  auto lt = run(bin(Op::Lt, i64(1), cnst(Value::none(), Kind::None), Kind::Bool));
  ASSERT_FALSE(lt.ok());
  EXPECT_EQ(lt.error->kind, interp::ErrorKind::NoneValue);
}

TEST(Evaluator, AggregatesOverEmptyLists) {
  auto agg = [](AggKind k, Kind result) {
    auto n = std::make_unique<Node>();
    n->op = Op::Agg;
    n->agg = k;
    n->type = IType::of(result);
    auto list = std::make_unique<Node>();
    list->op = Op::ListLit;
    list->type = IType::of(Kind::List);
    list->type.elem = std::make_shared<IType>(IType::of(Kind::Int));
    n->kids.push_back(std::move(list));
    return run(std::move(n), {}, 1);
  };
  EXPECT_EQ(agg(AggKind::Count, Kind::Int).value.u.i, 0);
  EXPECT_EQ(agg(AggKind::Sum, Kind::Int).value.u.i, 0);
  EXPECT_TRUE(agg(AggKind::All, Kind::Bool).value.u.i);
  EXPECT_FALSE(agg(AggKind::Any, Kind::Bool).value.u.i);
  EXPECT_EQ(agg(AggKind::Min, Kind::Int).error->kind, interp::ErrorKind::EmptyAggregate);
  EXPECT_EQ(agg(AggKind::Avg, Kind::Dec).error->kind, interp::ErrorKind::EmptyAggregate);
}

TEST(Evaluator, ShortCircuitSkipsTheRightSide) {
  // false and (1/0 == 0): the division never runs.
  auto div0 = bin(Op::Eq, bin(Op::Mod, i64(1), i64(0), Kind::Int), i64(0), Kind::Bool);
  auto n = bin(Op::And, cnst(Value::of_bool(false), Kind::Bool), std::move(div0), Kind::Bool);
  auto o = run(std::move(n));
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o.value.u.i);
}

TEST(Evaluator, DatesMoveByWholeDays) {
  auto n = bin(Op::Add, cnst(Value::of_date(100), Kind::Date),
               cnst(Value::of_duration(2 * 86400 + 5), Kind::Dur), Kind::Date);
  EXPECT_EQ(run(std::move(n)).value.u.i, 102);
  auto d =
      bin(Op::Sub, cnst(Value::of_date(100), Kind::Date), cnst(Value::of_date(97), Kind::Date), Kind::Dur);
  EXPECT_EQ(run(std::move(d)).value.u.i, 3 * 86400);
}
