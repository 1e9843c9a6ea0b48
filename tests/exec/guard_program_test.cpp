// The guard fast path must give exactly the tree-walker's answers, and hand back (bail) whenever the
// walker would raise an error, so errors always come from the reference semantics.
#include "compiler/interp/guard_program.h"

#include <gtest/gtest.h>

#include <random>

#include "compiler/driver/compilation.h"
#include "compiler/interp/evaluator.h"
#include "compiler/ir/lower.h"

using namespace orgos;

TEST(GuardProgram, AgreesWithTheTreeWalkerOnRandomRecords) {
  auto c = driver::check_text(
      "g.org",
      "record R { a: Int  b: Int  m: Money  d: Decimal  ok: Bool  due: Date  note: Int? }\n"
      "fn g1(r: R) -> Bool = r.a < 10 and r.b != 3 and (r.m >= 100 USD or not r.ok)\n"
      "fn g2(r: R, limit: Int) -> Bool = r.a <= limit or r.d > 2.5 and r.due < 2026-06-01\n"
      "fn g3(r: R) -> Bool = not (r.a == r.b) and r.ok\n"
      "fn g4(r: R) -> Bool = r.note == none or r.a > 0\n");
  ASSERT_FALSE(c->diags.has_errors());
  auto lw = ir::lower(*c);
  std::mt19937_64 rng(42);
  int fast = 0;
  for (const char* name : {"g1", "g2", "g3", "g4"}) {
    uint32_t f = static_cast<uint32_t>(lw.module.find_function(name));
    auto g = interp::GuardProgram::compile(lw.module.functions[f]);
    if (std::string(name) != "g4") {
      ASSERT_TRUE(g.has_value()) << name;  // g4 compares an optional: walker only
    }
    for (int i = 0; i < 20000; ++i) {
      interp::Arena arena;
      ir::Record* r = arena.record(0, 9);
      r->slots[0] = ir::Value::of_int(static_cast<int64_t>(rng() % 20) - 5);
      r->slots[1] = ir::Value::of_int(static_cast<int64_t>(rng() % 6));
      // Some amounts in EUR: the walker raises a currency error, the fast path must bail.
      r->slots[2] = ir::Value::of_money(static_cast<ir::Dec>(rng() % 300) * ir::kDecOne,
                                        ir::currency_code(rng() % 5 ? "USD" : "EUR"));
      r->slots[3] = ir::Value::of_dec(static_cast<ir::Dec>(rng() % 6) * ir::kDecOne / 2);
      r->slots[4] =
          rng() % 7 ? ir::Value::of_bool(rng() % 2) : ir::Value::none();  // none: walker errors on `not`
      r->slots[5] = ir::Value::of_date(20500 + static_cast<int64_t>(rng() % 200));
      r->slots[6] = rng() % 2 ? ir::Value::of_int(1) : ir::Value::none();
      std::vector<ir::Value> args = {ir::Value::of_record(r),
                                     ir::Value::of_int(static_cast<int64_t>(rng() % 10))};
      // The walker's answer, with the fast path switched off.
      interp::Evaluator ev(lw.module, {}, /*fast_guards=*/false);
      auto reference = ev.call(f, args);
      if (g) {
        auto got = g->run(args.data());
        if (got == interp::GuardProgram::Result::Bail) continue;
        ++fast;
        ASSERT_TRUE(reference.ok()) << name << ": fast path answered where the walker raises "
                                    << reference.error->message;
        EXPECT_EQ(got == interp::GuardProgram::Result::True, reference.value.u.i != 0) << name;
      }
    }
  }
  EXPECT_GT(fast, 40000);
}
