// Source → check → lower → interpret: the meaning of expressions as users write them.
#include "compiler/ir/lower.h"

#include <gtest/gtest.h>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/interp/evaluator.h"

using namespace orgos;

namespace {

struct Program {
  std::unique_ptr<driver::Compilation> c;
  ir::Lowered lowered;
};

Program build(const std::string& src) {
  Program p;
  p.c = driver::check_text("t.org", src);
  EXPECT_FALSE(p.c->diags.has_errors()) << diag::render_all_text(p.c->sources, p.c->diags);
  p.lowered = ir::lower(*p.c);
  return p;
}

// Evaluates `fn NAME(...)` with the given arguments.
std::string eval_fn(Program& p, const std::string& name, std::vector<ir::Value> args = {}) {
  int idx = p.lowered.module.find_function(name);
  EXPECT_GE(idx, 0) << name;
  interp::Evaluator ev(p.lowered.module);
  auto o = ev.call(static_cast<uint32_t>(idx), args);
  if (!o.ok()) return std::string("error: ") + interp::error_kind_name(o.error->kind);
  return interp::to_string(o.value, &p.lowered.module);
}

}  // namespace

TEST(Lower, ArithmeticWithWideningAndMoney) {
  auto p = build(
      "fn a() -> Decimal = 7 / 2\n"
      "fn b() -> Money = 10 USD * 3 + 0.5 * 2 USD\n"
      "fn c() -> Decimal = 60% * 200\n"
      "fn d() -> Duration = 2d + 3h * 2\n"
      "fn e() -> Date = 2026-01-31 + 1d\n"
      "fn f() -> Int = 17 % 5 - -3\n");
  EXPECT_EQ(eval_fn(p, "a"), "3.5");
  EXPECT_EQ(eval_fn(p, "b"), "31 USD");
  EXPECT_EQ(eval_fn(p, "c"), "120");
  EXPECT_EQ(eval_fn(p, "d"), "54h");
  EXPECT_EQ(eval_fn(p, "e"), "2026-02-01");
  EXPECT_EQ(eval_fn(p, "f"), "5");
}

TEST(Lower, RuntimeErrorsCarryTheirKind) {
  auto p = build(
      "fn big() -> Int = 9_223_372_036_854_775_807 + 1\n"
      "fn zero(x: Int) -> Decimal = 1 / x\n"
      "fn mix(a: Money, b: Money) -> Money = a + b\n");
  EXPECT_EQ(eval_fn(p, "big"), "error: overflow");
  EXPECT_EQ(eval_fn(p, "zero", {ir::Value::of_int(0)}), "error: division by zero");
  auto usd = ir::Value::of_money(5 * ir::kDecOne, ir::currency_code("USD"));
  auto eur = ir::Value::of_money(5 * ir::kDecOne, ir::currency_code("EUR"));
  EXPECT_EQ(eval_fn(p, "mix", {usd, eur}), "error: currency mismatch");
  EXPECT_EQ(eval_fn(p, "mix", {usd, usd}), "10 USD");
}

TEST(Lower, ListsComprehensionsAndOptionals) {
  auto p = build(
      "fn total() -> Int = sum(x * 2 for x in [1, 2, 3] where x > 1)\n"
      "fn n() -> Int = count(x in [1, 2, 3, 4] where x % 2 == 0)\n"
      "fn ok() -> Bool = all(x > 0 for x in [1, 2]) and not any(x > 5 for x in [1, 2])\n"
      "fn biggest() -> Int = max([3, 9, 4])\n"
      "fn none_list() -> Int = min(x for x in [1] where x > 5)\n"
      "fn name(n: String?) -> String = n ?? \"nobody\"\n"
      "fn has(n: String?) -> Bool = n is not none and len(n) > 2\n"
      "fn member() -> Bool = 2 in [1, 2] and \"b\" in \"abc\" and 5 not in [1]\n");
  EXPECT_EQ(eval_fn(p, "total"), "10");
  EXPECT_EQ(eval_fn(p, "n"), "2");
  EXPECT_EQ(eval_fn(p, "ok"), "true");
  EXPECT_EQ(eval_fn(p, "biggest"), "9");
  EXPECT_EQ(eval_fn(p, "none_list"), "error: empty aggregate");
  EXPECT_EQ(eval_fn(p, "name", {ir::Value::none()}), "\"nobody\"");
  EXPECT_EQ(eval_fn(p, "has", {ir::Value::none()}), "false");
  EXPECT_EQ(eval_fn(p, "member"), "true");
}

TEST(Lower, DecisionTablesFollowTheirHitPolicy) {
  auto p = build(
      "table level hit first {\n"
      "  input amount: Money, category: String\n"
      "  output who: String, days: Int\n"
      "  | < 1000 USD | - || \"manager\" | 2 |\n"
      "  | 1000 USD .. 10_000 USD | \"travel\", \"meals\" || \"director\" | 3 |\n"
      "  | - | - || \"cfo\" | 5 |\n"
      "}\n"
      "table points hit collect sum {\n"
      "  input n: Int\n"
      "  output p: Int\n"
      "  | > 0 || 1 |\n"
      "  | > 10 || 10 |\n"
      "}\n"
      "fn who(a: Money, c: String) -> String = level(a, c).who\n"
      "fn pts(n: Int) -> Int = points(n)\n");
  auto usd = [](int64_t x) { return ir::Value::of_money(x * ir::kDecOne, ir::currency_code("USD")); };
  interp::Arena arena;
  auto str = [&](const char* s) { return ir::Value::of_string(arena.string(s)); };
  EXPECT_EQ(eval_fn(p, "who", {usd(500), str("other")}), "\"manager\"");
  EXPECT_EQ(eval_fn(p, "who", {usd(5000), str("meals")}), "\"director\"");
  EXPECT_EQ(eval_fn(p, "who", {usd(5000), str("hardware")}), "\"cfo\"");
  EXPECT_EQ(eval_fn(p, "pts", {ir::Value::of_int(20)}), "11");
  EXPECT_EQ(eval_fn(p, "pts", {ir::Value::of_int(0)}), "0");
}

TEST(Lower, RecordChecksReadFieldsBySlot) {
  auto p = build(
      "record Expense {\n  amount: Money<USD>\n  purpose: String\n  check amount > 0 USD and len(purpose) > "
      "0\n}\n");
  auto& lw = p.lowered;
  ASSERT_EQ(lw.checks_of.size(), 1u);
  uint32_t fn = lw.checks_of.begin()->second.at(0);
  interp::Evaluator ev(lw.module);
  interp::Arena& a = ev.arena();
  ir::Record* r = a.record(lw.module.functions[fn].params[0].id, 4);
  r->slots[0] = ir::Value::of_money(5 * ir::kDecOne, ir::currency_code("USD"));
  r->slots[1] = ir::Value::of_string(a.string("taxi"));
  auto o = ev.call(fn, {ir::Value::of_record(r)});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(interp::to_string(o.value), "true");
  r->slots[0] = ir::Value::of_money(0, ir::currency_code("USD"));
  EXPECT_EQ(interp::to_string(ev.call(fn, {ir::Value::of_record(r)}).value), "false");
}
