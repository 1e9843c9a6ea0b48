// The JIT against the reference interpreter. Random well-typed expressions are written as OrgOS source,
// checked and lowered like any program, compiled to native code in batches, and run on random arguments
// (extreme integers, zero divisors, foreign currencies, missing optionals) through both paths: results and
// error kinds must agree. ORGOS_DIFF_CASES sets the number of cases (default sized for CI); the full run
// is documented in bench/RESULTS-jit.md.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "compiler/bundle/bundle.h"
#include "compiler/codegen/jit.h"
#include "compiler/diag/renderer.h"
#include "compiler/driver/build.h"
#include "compiler/driver/compilation.h"
#include "compiler/interp/evaluator.h"
#include "compiler/ir/lower.h"
#include "compiler/sema/manifest.h"

using namespace orgos;
using ir::Kind;
namespace fs = std::filesystem;

namespace {

enum class T { Int, Dec, Money, Bool, Date, Dur, Str, OptInt };

// Writes random expressions of a requested type over the parameters of `kParams`.
class ExprGen {
 public:
  explicit ExprGen(uint64_t seed) : rng_(seed) {}

  std::string gen(T t, int depth) {
    if (depth <= 0 || pick(4) == 0) return leaf(t);
    switch (t) {
      case T::Int:
        return int_expr(depth - 1);
      case T::Dec:
        return dec_expr(depth - 1);
      case T::Money:
        return money_expr(depth - 1);
      case T::Bool:
        return bool_expr(depth - 1);
      case T::Date:
        return pick(2) ? "(" + gen(T::Date, depth - 1) + " + " + gen(T::Dur, depth - 1) + ")"
                       : "(" + gen(T::Date, depth - 1) + " - " + gen(T::Dur, depth - 1) + ")";
      case T::Dur:
        switch (pick(4)) {
          case 0:
            return "(" + gen(T::Dur, depth - 1) + " + " + gen(T::Dur, depth - 1) + ")";
          case 1:
            return "(" + gen(T::Dur, depth - 1) + " - " + gen(T::Dur, depth - 1) + ")";
          case 2:
            return "(" + gen(T::Dur, depth - 1) + " * " + gen(T::Int, depth - 1) + ")";
          default:
            return "(" + gen(T::Date, depth - 1) + " - " + gen(T::Date, depth - 1) + ")";
        }
      case T::Str:
        switch (pick(3)) {
          case 0:
            return "(" + gen(T::Str, depth - 1) + " + " + gen(T::Str, depth - 1) + ")";
          case 1:
            return "lower(" + gen(T::Str, depth - 1) + ")";
          default:
            return "upper(" + gen(T::Str, depth - 1) + ")";
        }
      case T::OptInt:
        return leaf(T::OptInt);
    }
    return leaf(t);
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  size_t pick(size_t n) { return static_cast<size_t>(rng_() % n); }
  template <size_t N>
  const char* one(const char* const (&xs)[N]) {
    return xs[pick(N)];
  }

  std::string leaf(T t) {
    switch (t) {
      case T::Int: {
        static const char* const xs[] = {"a",
                                         "b",
                                         "r.x",
                                         "0",
                                         "1",
                                         "2",
                                         "-3",
                                         "7",
                                         "1000000",
                                         "9223372036854775807",
                                         "4611686018427387904",
                                         "c"};
        return one(xs);
      }
      case T::Dec: {
        static const char* const xs[] = {"d", "e", "r.y", "0.5", "2.25", "0.001", "100.0", "0.0"};
        return one(xs);
      }
      case T::Money: {
        static const char* const xs[] = {"m", "n", "r.z", "12.50 USD", "0 USD", "1000 USD"};
        return one(xs);
      }
      case T::Bool: {
        static const char* const xs[] = {"ok", "true", "false", "r.flag"};
        return one(xs);
      }
      case T::Date: {
        static const char* const xs[] = {"t", "2026-01-31", "1970-01-01", "r.due"};
        return one(xs);
      }
      case T::Dur: {
        static const char* const xs[] = {"u", "3d", "12h", "0d", "90m"};
        return one(xs);
      }
      case T::Str: {
        static const char* const xs[] = {"s", "\"abc\"", "\"\"", "\"Zed\""};
        return one(xs);
      }
      case T::OptInt: {
        static const char* const xs[] = {"o", "r.w"};
        return one(xs);
      }
    }
    return "0";
  }

  std::string bin(T t, const char* op, int depth) {
    return "(" + gen(t, depth) + " " + op + " " + gen(t, depth) + ")";
  }

  std::string int_expr(int d) {
    switch (pick(13)) {
      case 0:
        return bin(T::Int, "+", d);
      case 1:
        return bin(T::Int, "-", d);
      case 2:
        return bin(T::Int, "*", d);
      case 3:
        return bin(T::Int, "%", d);
      case 4:
        return "(-" + gen(T::Int, d) + ")";
      case 5:
        return "abs(" + gen(T::Int, d) + ")";
      case 6:
        return "len(" + gen(T::Str, d) + ")";
      case 7:
        return "(" + gen(T::OptInt, d) + " ?? " + gen(T::Int, d) + ")";
      case 8:
        return std::string(pick(2) ? "year(" : "day(") + gen(T::Date, d) + ")";
      case 9:
        return "days_between(" + gen(T::Date, d) + ", " + gen(T::Date, d) + ")";
      case 10:
        return std::string(pick(2) ? "min(" : "max(") + gen(T::Int, d) + ", " + gen(T::Int, d) + ")";
      case 11:
        return "twice(" + gen(T::Int, d) + ")";
      default:
        return "sum(x * " + gen(T::Int, d) + " for x in [" + gen(T::Int, d) + ", " + gen(T::Int, d) + "])";
    }
  }

  std::string dec_expr(int d) {
    switch (pick(10)) {
      case 0:
        return bin(T::Dec, "+", d);
      case 1:
        return bin(T::Dec, "-", d);
      case 2:
        return bin(T::Dec, "*", d);
      case 3:
        return bin(T::Dec, "/", d);
      case 4:
        return "(" + gen(T::Int, d) + " / " + gen(T::Int, d) + ")";
      case 5:
        return "(" + gen(T::Dec, d) + " + " + gen(T::Int, d) + ")";
      case 6:
        return "(-" + gen(T::Dec, d) + ")";
      case 7:
        return "round(" + gen(T::Dec, d) + ", " + std::to_string(pick(4)) + ")";
      case 8:
        return "(" + gen(T::Money, d) + ").amount";
      default:
        return "(" + gen(T::Money, d) + " / " + gen(T::Money, d) + ")";
    }
  }

  std::string money_expr(int d) {
    switch (pick(7)) {
      case 0:
        return bin(T::Money, "+", d);
      case 1:
        return bin(T::Money, "-", d);
      case 2:
        return "(" + gen(T::Money, d) + " * " + gen(T::Dec, d) + ")";
      case 3:
        return "(" + gen(T::Money, d) + " * " + gen(T::Int, d) + ")";
      case 4:
        return "(-" + gen(T::Money, d) + ")";
      case 5:
        return "(" + gen(T::Money, d) + " / " + gen(T::Dec, d) + ")";
      default:
        return std::string(pick(2) ? "min(" : "max(") + gen(T::Money, d) + ", " + gen(T::Money, d) + ")";
    }
  }

  std::string cmp(T t, int d) {
    static const char* const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    return "(" + gen(t, d) + " " + one(ops) + " " + gen(t, d) + ")";
  }

  std::string bool_expr(int d) {
    switch (pick(14)) {
      case 0:
        return cmp(T::Int, d);
      case 1:
        return cmp(T::Dec, d);
      case 2:
        return cmp(T::Money, d);
      case 3:
        return cmp(T::Date, d);
      case 4:
        return cmp(T::Dur, d);
      case 5:
        return cmp(T::Str, d);
      case 6:
        return "(" + gen(T::Int, d) + " < " + gen(T::Dec, d) + ")";
      case 7:
        return bin(T::Bool, "and", d);
      case 8:
        return bin(T::Bool, "or", d);
      case 9:
        return "(not " + gen(T::Bool, d) + ")";
      case 10:
        return "(" + gen(T::OptInt, d) + (pick(2) ? " is none)" : " is not none)");
      case 11:
        return "(" + gen(T::OptInt, d) + " == " + (pick(2) ? "none" : gen(T::Int, d)) + ")";
      case 12:
        return "(" + gen(T::Int, d) + " in [" + gen(T::Int, d) + ", " + gen(T::Int, d) + "])";
      default:
        return "positive(" + gen(T::Dec, d) + ")";
    }
  }

  std::mt19937_64 rng_;
};

const char* kPrelude =
    "record R { x: Int  y: Decimal  z: Money  w: Int?  flag: Bool  due: Date }\n"
    "fn twice(v: Int) -> Int = v * 2\n"
    "fn positive(v: Decimal) -> Bool = v > 0\n";
const char* kParams =
    "(a: Int, b: Int, c: Int, d: Decimal, e: Decimal, m: Money, n: Money, t: Date, u: Duration, s: String, "
    "o: Int?, ok: Bool, r: R)";
const char* kTypeName[] = {"Int", "Decimal", "Money", "Bool", "Date", "Duration", "String", "Int?"};

// Random arguments, biased toward the edges where the two paths could differ.
std::vector<ir::Value> random_args(std::mt19937_64& rng, interp::Arena& arena) {
  auto pick = [&](uint64_t n) { return rng() % n; };
  // Small ranges make equal operands common, so every comparison's boundary is exercised.
  auto an_int = [&]() -> int64_t {
    switch (pick(10)) {
      case 0:
        return INT64_MAX;
      case 1:
        return INT64_MIN;
      case 2:
        return static_cast<int64_t>(rng());
      case 3:
        return static_cast<int64_t>(pick(2000)) - 1000;
      default:
        return static_cast<int64_t>(pick(7)) - 3;
    }
  };
  auto a_dec = [&]() -> ir::Dec {
    switch (pick(8)) {
      case 0:
        return static_cast<ir::Dec>(INT64_MAX) * static_cast<ir::Dec>(INT64_MAX);
      case 1:
        return static_cast<ir::Dec>(static_cast<int64_t>(pick(2'000'000'000'000)) - 1'000'000'000'000) * 1000;
      default:
        return static_cast<ir::Dec>(static_cast<int64_t>(pick(9)) - 4) * ir::kDecOne / 2;
    }
  };
  auto money = [&]() { return ir::Value::of_money(a_dec(), ir::currency_code(pick(6) ? "USD" : "EUR")); };
  auto str = [&]() {
    static const char* const xs[] = {"", "abc", "Zed", "hello world"};
    return ir::Value::of_string(arena.string(xs[pick(4)]));
  };
  auto opt = [&]() { return pick(3) ? ir::Value::of_int(an_int()) : ir::Value::none(); };
  ir::Record* r = arena.record(0, 6);
  r->slots[0] = ir::Value::of_int(an_int());
  r->slots[1] = ir::Value::of_dec(a_dec());
  r->slots[2] = money();
  r->slots[3] = opt();
  r->slots[4] = pick(9) ? ir::Value::of_bool(pick(2)) : ir::Value::none();
  r->slots[5] = ir::Value::of_date(20000 + static_cast<int64_t>(pick(4)));
  int64_t a = an_int();
  return {ir::Value::of_int(a),
          ir::Value::of_int(pick(3) ? an_int() : a),
          ir::Value::of_int(static_cast<int64_t>(pick(5))),
          ir::Value::of_dec(a_dec()),
          ir::Value::of_dec(pick(5) ? a_dec() : 0),
          money(),
          money(),
          ir::Value::of_date(pick(5) ? 20000 + static_cast<int64_t>(pick(4))
                                     : static_cast<int64_t>(pick(40000)) - 5000),
          ir::Value::of_duration(pick(3) ? static_cast<int64_t>(pick(4)) * 43200
                                         : static_cast<int64_t>(pick(2'000'000)) - 1'000'000),
          str(),
          opt(),
          pick(9) ? ir::Value::of_bool(pick(2)) : ir::Value::none(),
          pick(20) ? ir::Value::of_record(r) : ir::Value::none()};
}

std::string show(const interp::Outcome& o, const ir::Module& m) {
  if (!o.ok()) return std::string("error ") + interp::error_kind_name(o.error->kind);
  return interp::to_string(o.value, &m) + " (tag " + std::to_string(o.value.tag) + ")";
}

struct Tally {
  size_t cases = 0, errors = 0, functions = 0;
};

// Runs every function of `m` (those taking the generator's parameters) through both paths on `runs`
// argument sets each. Returns false at the first disagreement, described in `why`.
bool agree(const ir::Module& m, std::mt19937_64& rng, int runs, size_t first_fn, Tally& tally,
           std::string& why) {
  auto code = codegen::compile(m, {}, nullptr, &why);
  if (!code) return false;
  interp::Evaluator jit(m);
  jit.attach_native(code);
  interp::Evaluator ref(m, {}, /*fast_guards=*/false);
  for (size_t f = first_fn; f < m.functions.size(); ++f) {
    if (m.functions[f].params.size() != 13) continue;
    ++tally.functions;
    for (int i = 0; i < runs; ++i) {
      interp::Arena arena;
      auto args = random_args(rng, arena);
      auto want = ref.call_reference(static_cast<uint32_t>(f), args);
      auto got = jit.call_native(static_cast<uint32_t>(f), args);
      ++tally.cases;
      if (!want.ok()) ++tally.errors;
      if (!got || show(*got, m) != show(want, m)) {
        why = m.functions[f].name + ": jit " + (got ? show(*got, m) : "no code") + ", interpreter " +
              show(want, m);
        return false;
      }
      // The public entry point (native first, the evaluator wording its errors) agrees as well.
      auto via_call = jit.call(static_cast<uint32_t>(f), args);
      if (show(via_call, m) != show(want, m) ||
          (!want.ok() && via_call.error->message != want.error->message)) {
        why = m.functions[f].name + ": call() " + show(via_call, m) + ", interpreter " + show(want, m);
        return false;
      }
    }
    if (tally.functions % 50 == 0) {
      jit.arena().clear();
      ref.arena().clear();
    }
  }
  return true;
}

size_t cases_wanted() {
  if (const char* e = std::getenv("ORGOS_DIFF_CASES"))
    return static_cast<size_t>(std::strtoull(e, nullptr, 10));
  return 20'000;
}

}  // namespace

TEST(JitDifferential, RandomExpressionsAgreeWithTheInterpreter) {
  const size_t want = cases_wanted();
  const int kFunctions = 200, kRuns = 20;
  Tally tally;
  uint64_t seed = 20261125;
  if (const char* e = std::getenv("ORGOS_DIFF_SEED")) seed = std::strtoull(e, nullptr, 10);
  ExprGen gen(seed);
  for (int batch = 0; tally.cases < want; ++batch) {
    std::ostringstream src;
    src << kPrelude;
    for (int i = 0; i < kFunctions; ++i) {
      T t = static_cast<T>(gen.rng()() % 8);
      src << "fn f" << i << kParams << " -> " << kTypeName[static_cast<int>(t)] << " = " << gen.gen(t, 4)
          << "\n";
    }
    auto c = driver::check_text("diff.org", src.str());
    ASSERT_FALSE(c->diags.has_errors()) << "seed " << seed << " batch " << batch << ": the generator wrote "
                                        << "an ill-typed program\n"
                                        << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    size_t first = static_cast<size_t>(lw.module.find_function("f0"));
    std::string why;
    ASSERT_TRUE(agree(lw.module, gen.rng(), kRuns, first, tally, why))
        << "seed " << seed << " batch " << batch << ": " << why;
  }
  std::printf("differential: %zu cases over %zu functions, %zu of them errors, all agree\n", tally.cases,
              tally.functions, tally.errors);
  EXPECT_GT(tally.errors, tally.cases / 50) << "the generator should reach runtime errors too";
  EXPECT_LT(tally.errors, tally.cases / 2) << "and mostly values";
}

namespace {

// A random value of an IR type, records filled field by field (to a bounded depth).
ir::Value random_value(const ir::IType& t, const ir::Module& m, interp::Arena& arena, std::mt19937_64& rng,
                       int depth) {
  auto pick = [&](uint64_t n) { return rng() % n; };
  if (t.optional && pick(4) == 0) return ir::Value::none();
  switch (t.kind) {
    case Kind::Int:
      return ir::Value::of_int(pick(8) ? static_cast<int64_t>(pick(9)) - 4
                                       : (pick(2) ? INT64_MAX : static_cast<int64_t>(rng())));
    case Kind::Dec:
      return ir::Value::of_dec(static_cast<ir::Dec>(static_cast<int64_t>(pick(9)) - 4) * ir::kDecOne / 2);
    case Kind::Money: {
      uint32_t cur = t.currency ? t.currency : ir::currency_code("USD");
      if (pick(8) == 0) cur = ir::currency_code("EUR");
      return ir::Value::of_money(static_cast<ir::Dec>(static_cast<int64_t>(pick(40000)) - 1000) * ir::kDecOne,
                                 cur);
    }
    case Kind::Bool:
      return ir::Value::of_bool(pick(2));
    case Kind::Str: {
      static const char* const xs[] = {"", "abc", "travel", "completed", "a@b.c"};
      return ir::Value::of_string(arena.string(xs[pick(5)]));
    }
    case Kind::Date:
      return ir::Value::of_date(20000 + static_cast<int64_t>(pick(400)));
    case Kind::Dur:
      return ir::Value::of_duration(static_cast<int64_t>(pick(30)) * 86400);
    case Kind::Enum: {
      size_t n = t.id < m.enums.size() ? std::max<size_t>(1, m.enums[t.id].values.size()) : 1;
      return ir::Value::of_enum(static_cast<int64_t>(pick(n)), t.id);
    }
    case Kind::Rec: {
      if (t.id >= m.layouts.size() || depth <= 0) return ir::Value::none();
      const ir::RecordLayout& l = m.layouts[t.id];
      ir::Record* r = arena.record(t.id, static_cast<uint32_t>(std::max<size_t>(1, l.types.size())));
      r->id = static_cast<int64_t>(pick(3));
      for (size_t i = 0; i < l.types.size(); ++i)
        r->slots[i] = random_value(l.types[i], m, arena, rng, depth - 1);
      return ir::Value::of_record(r);
    }
    case Kind::List: {
      uint32_t n = static_cast<uint32_t>(pick(4));
      ir::List* l = arena.list(n);
      for (uint32_t i = 0; i < n; ++i)
        l->items[i] = t.elem ? random_value(*t.elem, m, arena, rng, depth - 1) : ir::Value::none();
      return ir::Value::of_list(l);
    }
    default:
      return ir::Value::none();
  }
}

}  // namespace

// Every function of every shipped program: stdlib packages, templates and examples.
TEST(JitDifferential, EveryShippedFunctionAgreesWithTheInterpreter) {
  size_t modules = 0, functions = 0, tables = 0, cases = 0;
  std::mt19937_64 rng(11);
  for (const char* root : {"stdlib", "templates", "examples"}) {
    for (auto& e : fs::recursive_directory_iterator(fs::path(ORGOS_SOURCE_DIR) / root)) {
      if (e.path().filename() != sema::kManifestName) continue;
      driver::BuildOptions bo;
      bo.check.inputs = {e.path().parent_path().string()};
      bo.check.stdlib_dir = std::string(ORGOS_SOURCE_DIR) + "/stdlib";
      bo.write = false;
      bo.force = true;
      auto r = driver::build_or_load(bo);
      auto* built = std::get_if<driver::Built>(&r);
      ASSERT_NE(built, nullptr) << e.path();
      const ir::Module& m = built->bundle.module;
      std::string why;
      auto code = codegen::compile(m, {}, nullptr, &why);
      ASSERT_NE(code, nullptr) << e.path() << ": " << why;
      interp::Evaluator jit(m);
      jit.attach_native(code);
      interp::Evaluator ref(m, {}, false);
      ++modules;
      for (uint32_t f = 0; f < m.functions.size(); ++f) {
        ++functions;
        for (int i = 0; i < 30; ++i) {
          interp::Arena arena;
          std::vector<ir::Value> args;
          for (auto& pt : m.functions[f].params) args.push_back(random_value(pt, m, arena, rng, 3));
          auto want = ref.call_reference(f, args);
          auto got = jit.call_native(f, args);
          ++cases;
          ASSERT_TRUE(got.has_value());
          ASSERT_EQ(show(*got, m), show(want, m)) << e.path() << " " << m.functions[f].name;
        }
      }
      // Decision tables: the rows' conditions run natively in `jit`, in the interpreter in `ref`.
      for (uint32_t t = 0; t < m.tables.size(); ++t) {
        ++tables;
        ASSERT_EQ(code->table_rows.at(t).size(), m.tables[t].rows.size());
        for (int i = 0; i < 60; ++i) {
          interp::Arena arena;
          std::vector<ir::Value> args;
          for (auto& it : m.tables[t].inputs) args.push_back(random_value(it, m, arena, rng, 3));
          auto want = ref.call_table(t, args);
          auto got = jit.call_table(t, args);
          ++cases;
          ASSERT_EQ(show(got, m), show(want, m)) << e.path() << " table " << m.tables[t].name;
        }
      }
    }
  }
  std::printf("shipped: %zu modules, %zu functions, %zu tables, %zu cases agree\n", modules, functions,
              tables, cases);
  EXPECT_GT(tables, 0u);
  EXPECT_GE(modules, 8u);
}

// A bundle carries the object code; loading it runs no code generation and gives the same answers, and
// an object that is damaged or made for another machine is refused with a reason.
TEST(JitBundle, ObjectCodeRoundTripsThroughABundleAndBadObjectsAreRefused) {
  driver::BuildOptions bo;
  bo.check.inputs = {std::string(ORGOS_SOURCE_DIR) + "/examples/acme"};
  bo.check.stdlib_dir = std::string(ORGOS_SOURCE_DIR) + "/stdlib";
  bo.write = false;
  bo.force = true;
  bo.make_object = codegen::bundle_object_maker();
  auto r = driver::build_or_load(bo);
  auto* built = std::get_if<driver::Built>(&r);
  ASSERT_NE(built, nullptr);
  ASSERT_FALSE(built->bundle.object.empty());
  auto back = bundle::deserialize(bundle::serialize(built->bundle));
  auto* b = std::get_if<bundle::Bundle>(&back);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->object, built->bundle.object);

  std::string why;
  codegen::JitStats st;
  auto code = codegen::load_object(b->module, b->object, &st, &why);
  ASSERT_NE(code, nullptr) << why;
  EXPECT_EQ(st.codegen_ms, 0.0);  // nothing was generated
  interp::Evaluator jit(b->module), ref(b->module, {}, false);
  jit.attach_native(code);
  std::mt19937_64 rng(5);
  for (uint32_t f = 0; f < b->module.functions.size(); ++f) {
    interp::Arena arena;
    std::vector<ir::Value> args;
    for (auto& pt : b->module.functions[f].params) args.push_back(random_value(pt, b->module, arena, rng, 3));
    auto got = jit.call_native(f, args);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(show(*got, b->module), show(ref.call_reference(f, args), b->module))
        << b->module.functions[f].name;
  }

  std::vector<uint8_t> garbage(b->object.begin(), b->object.begin() + 64);
  EXPECT_EQ(codegen::load_object(b->module, garbage, nullptr, &why), nullptr);
  EXPECT_NE(why.find("not a valid object file"), std::string::npos) << why;

  std::vector<uint8_t> foreign = b->object;
  ASSERT_GT(foreign.size(), 20u);
  foreign[18] = 183;  // ELF e_machine: AArch64
  foreign[19] = 0;
  EXPECT_EQ(codegen::load_object(b->module, foreign, nullptr, &why), nullptr);
  EXPECT_NE(why.find("another machine"), std::string::npos) << why;

  // An object for another module (here: one function fewer) does not match the IR.
  auto small = driver::check_text("s.org", "fn only(a: Int) -> Int = a + 1\n");
  auto lw = ir::lower(*small);
  auto small_obj = codegen::emit_object(lw.module);
  ASSERT_TRUE(small_obj.has_value());
  EXPECT_EQ(codegen::load_object(b->module, *small_obj, nullptr, &why), nullptr);
  EXPECT_NE(why.find("another program"), std::string::npos) << why;
  // Same function names and count, another body: the symbols would all resolve, the fingerprint does not.
  auto twin = driver::check_text("t.org", "fn only(a: Int) -> Int = a * 2 + 1\n");
  auto twin_lw = ir::lower(*twin);
  EXPECT_EQ(codegen::load_object(twin_lw.module, *small_obj, nullptr, &why), nullptr);
  EXPECT_NE(why.find("another program"), std::string::npos) << why;
  EXPECT_NE(codegen::load_object(lw.module, *small_obj, nullptr, &why), nullptr) << why;

  // The engine's entry point falls back to fresh code generation when the object is refused.
  auto fresh = codegen::native_for_bundle(b->module, garbage, b->host, &why);
  EXPECT_NE(fresh, nullptr) << why;
}

// Decision tables run their row conditions as native code: a sweep across every threshold, under each hit
// policy, gives the same hits, outputs and errors (no match, two rows of a unique table) as the interpreter.
TEST(JitDifferential, DecisionTablesMatchNativelyAsTheInterpreterDoes) {
  const char* src = R"org(
enum Category { travel, meals, office }
table route hit first {
  input amount: Money<USD>, category: Category
  output level: Int, deadline: Duration
  | < 1_000 USD             | -                 || 1 | 2d |
  | 1_000 USD .. 10_000 USD | travel, meals     || 2 | 3d |
  | < 10_000 USD            | not travel, meals || 2 | 2d |
  | >= 50_000 USD           | office            || 4 | 9d |
}
table band hit unique {
  input score: Int
  output label: String
  | < 10       || "low" |
  | 10 .. 19   || "mid" |
  | 20 .. 29   || "high" |
}
table points hit collect sum {
  input score: Int, ratio: Decimal
  output points: Int
  | > 5  | -     || 3 |
  | -    | > 0.5 || 2 |
  | -    | -     || 1 |
}
)org";
  auto c = driver::check_text("tables.org", src);
  ASSERT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  ir::Module m = std::move(ir::lower(*c).module);
  std::string why;
  auto code = codegen::compile(m, {}, nullptr, &why);
  ASSERT_NE(code, nullptr) << why;
  for (size_t t = 0; t < m.tables.size(); ++t)
    for (size_t r = 0; r < m.tables[t].rows.size(); ++r)
      EXPECT_EQ(code->table_rows.at(t).at(r) != nullptr, m.tables[t].rows[r].condition != nullptr)
          << "every row with a condition has native code";
  interp::Evaluator jit(m);
  jit.attach_native(code);
  interp::Evaluator ref(m, {}, false);
  interp::Arena arena;
  size_t cases = 0, errors = 0;
  auto check = [&](uint32_t t, const std::vector<ir::Value>& args) {
    auto want = ref.call_table(t, args);
    auto got = jit.call_table(t, args);
    ++cases;
    errors += !want.ok();
    ASSERT_EQ(show(got, m), show(want, m)) << m.tables[t].name << " case " << cases;
  };
  uint32_t usd = ir::currency_code("USD");
  for (int64_t amount : {0, 999, 1000, 5000, 10000, 10001, 49999, 50000, 80000})
    for (int64_t cat = 0; cat < 3; ++cat)
      check(0, {ir::Value::of_money(amount * ir::kDecOne, usd), ir::Value::of_enum(cat, 0)});
  check(0, {ir::Value::none(), ir::Value::of_enum(0, 0)});
  for (int64_t score = -1; score <= 31; ++score) check(1, {ir::Value::of_int(score)});
  for (int64_t score : {0, 5, 6})
    for (int64_t ratio_pct : {0, 50, 51, 100})
      check(2, {ir::Value::of_int(score), ir::Value::of_dec(ratio_pct * ir::kDecOne / 100)});
  EXPECT_GT(errors, 0u) << "the sweep reaches the no-match and overlap errors";
}

namespace {

// Random decision tables over an Int, a Decimal, a Money and an enum input: every cell form (any,
// comparisons, ranges, value lists, negated lists), every hit policy but `unique` (whose overlaps the checker
// refuses; the sweep above covers it), and outputs that are constants or arithmetic over the inputs (so
// some rows overflow at run time).
struct TableGen {
  std::mt19937_64 rng;
  explicit TableGen(uint64_t seed) : rng(seed) {}
  uint64_t pick(uint64_t n) { return rng() % n; }
  std::string num(int lo, int hi) {
    return std::to_string(lo + static_cast<int>(pick(static_cast<uint64_t>(hi - lo + 1))));
  }
  std::string cell(int column) {
    if (pick(4) == 0) return "-";
    auto scalar = [&](const std::string& v) { return column == 1 ? v + ".5" : column == 2 ? v + " USD" : v; };
    if (column == 3) {
      const char* names[] = {"p", "q", "r"};
      std::string list = names[pick(3)];
      if (pick(2)) list += std::string(", ") + names[pick(3)];
      return (pick(3) == 0 ? "not " : "") + list;
    }
    switch (pick(6)) {
      case 0:
        return "< " + scalar(num(-3, 20));
      case 1:
        return ">= " + scalar(num(-3, 20));
      case 2: {
        int lo = -3 + static_cast<int>(pick(20));
        return scalar(std::to_string(lo)) + " .. " + scalar(std::to_string(lo + static_cast<int>(pick(10))));
      }
      case 3:
        return column == 0 ? num(-3, 20) + ", " + num(-3, 20) : "<= " + scalar(num(-3, 20));
      case 4:
        return column == 0 ? "not " + num(-3, 20) : "> " + scalar(num(-3, 20));
      default:
        return column == 0 ? num(-3, 20) : "!= " + scalar(num(-3, 20));
    }
  }
  std::string output() {
    switch (pick(4)) {
      case 0:
        return "a * " + num(2, 9);
      case 1:
        return "a + " + num(-5, 5);
      default:
        return num(-10, 10);
    }
  }
  std::string table(int index) {
    const char* hits[] = {"first",         "priority",    "any",        "collect sum",
                          "collect count", "collect min", "collect max"};
    std::string s = "table t" + std::to_string(index) + " hit " + hits[pick(7)] +
                    " {\n  input a: Int, d: Decimal, m: Money<USD>, k: Kind\n  output v: Int\n";
    int rows = 1 + static_cast<int>(pick(6));
    for (int r = 0; r < rows; ++r) {
      s += " ";
      for (int c = 0; c < 4; ++c) s += " | " + cell(c);
      s += " || " + output() + " |\n";
    }
    if (pick(2)) s += "  | - | - | - | - || " + output() + " |\n";  // half the tables have a catch-all row
    return s + "}\n";
  }
};

}  // namespace

TEST(JitDifferential, RandomDecisionTablesAgreeWithTheInterpreter) {
  const size_t want = cases_wanted();
  uint64_t seed = 20261130;
  if (const char* e = std::getenv("ORGOS_DIFF_SEED")) seed = std::strtoull(e, nullptr, 10);
  TableGen gen(seed);
  size_t cases = 0, errors = 0, tables = 0, rejected = 0;
  uint32_t usd = ir::currency_code("USD");
  for (int batch = 0; cases < want; ++batch) {
    std::string src = "enum Kind { p, q, r }\n";
    for (int i = 0; i < 50; ++i) src += gen.table(i);
    auto c = driver::check_text("tables.org", src);
    if (c->diags.has_errors()) {  // a cell the checker refuses (e.g. an empty range): the generator's slip
      ++rejected;
      ASSERT_LT(rejected, 20u) << "the table generator writes mostly refused tables:\n"
                               << diag::render_all_text(c->sources, c->diags);
      continue;
    }
    ir::Module m = std::move(ir::lower(*c).module);
    std::string why;
    auto code = codegen::compile(m, {}, nullptr, &why);
    ASSERT_NE(code, nullptr) << "seed " << seed << " batch " << batch << ": " << why;
    interp::Evaluator jit(m);
    jit.attach_native(code);
    interp::Evaluator ref(m, {}, false);
    for (uint32_t t = 0; t < m.tables.size(); ++t, ++tables) {
      for (int run = 0; run < 50; ++run) {
        interp::Arena arena;
        auto small = [&](int lo, int hi) {
          return static_cast<int64_t>(lo + static_cast<int>(gen.pick(static_cast<uint64_t>(hi - lo + 1))));
        };
        int64_t a = gen.pick(12) == 0 ? (gen.pick(2) ? INT64_MAX : INT64_MIN) : small(-5, 25);
        std::vector<ir::Value> args = {
            ir::Value::of_int(a),
            ir::Value::of_dec(small(-5, 25) * ir::kDecOne + ir::kDecOne / 2 * small(0, 1)),
            ir::Value::of_money(small(-5, 25) * ir::kDecOne, usd), ir::Value::of_enum(small(0, 2), 0)};
        if (gen.pick(25) == 0) args[gen.pick(4)] = ir::Value::none();
        auto want_o = ref.call_table(t, args);
        auto got = jit.call_table(t, args);
        ++cases;
        errors += !want_o.ok();
        ASSERT_EQ(show(got, m), show(want_o, m))
            << "seed " << seed << " batch " << batch << " table " << m.tables[t].name << " a=" << a;
      }
    }
  }
  std::printf(
      "differential tables: %zu cases over %zu tables, %zu of them errors, all agree (%zu batches refused)\n",
      cases, tables, errors, rejected);
  EXPECT_GT(errors, cases / 50) << "the generator should reach no-match and overflow errors too";
  EXPECT_LT(errors, cases / 2) << "and mostly values";
}
