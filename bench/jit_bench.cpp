// Native code against the interpreter and against the same predicate written in C++, in one run; and what
// code generation costs (per function, batched, and for the whole example organization) and what loading a
// bundle's cached object costs. Figures: bench/RESULTS-jit.md.
#include <benchmark/benchmark.h>

#include "compiler/bundle/bundle.h"
#include "compiler/codegen/jit.h"
#include "compiler/driver/build.h"
#include "compiler/driver/compilation.h"
#include "compiler/interp/evaluator.h"
#include "compiler/ir/lower.h"

using namespace orgos;

namespace {

// A typical guard: five comparisons over record fields, one of them on Money.
const char* kGuard =
    "record Claim { amount: Money  level: Int  category: Int  days: Int  due: Date  urgent: Bool }\n"
    "fn guard(c: Claim) -> Bool = c.level >= 2 and c.category != 3 and c.days < 30 and "
    "c.due < 2026-06-01 and c.amount >= 100 USD\n";

struct GuardFixture {
  ir::Module module;
  uint32_t fn = 0;
  interp::Arena arena;
  std::vector<ir::Value> args;
  GuardFixture() {
    auto c = driver::check_text("guard.org", kGuard);
    module = std::move(ir::lower(*c).module);
    fn = static_cast<uint32_t>(module.find_function("guard"));
    ir::Record* r = arena.record(0, 6);
    r->slots[0] = ir::Value::of_money(250 * ir::kDecOne, ir::currency_code("USD"));
    r->slots[1] = ir::Value::of_int(2);
    r->slots[2] = ir::Value::of_int(1);
    r->slots[3] = ir::Value::of_int(12);
    r->slots[4] = ir::Value::of_date(20400);
    r->slots[5] = ir::Value::of_bool(false);
    args = {ir::Value::of_record(r)};
  }
};

// The same predicate by hand, over the same values, with the same none and currency checks.
__attribute__((noinline)) int hand_guard(const ir::Value* args, bool* out) {
  const ir::Value& c = args[0];
  if (c.is_none()) return 1;
  const ir::Record* r = c.u.r;
  const ir::Value &amount = r->slots[0], &level = r->slots[1], &category = r->slots[2], &days = r->slots[3],
                  &due = r->slots[4];
  static const uint32_t usd = ir::currency_code("USD");
  if (level.is_none() || level.u.i < 2) return *out = false, 0;
  if (category.is_none() || category.u.i == 3) return *out = false, 0;
  if (days.is_none() || days.u.i >= 30) return *out = false, 0;
  if (due.is_none() || due.u.i >= 20605) return *out = false, 0;
  if (amount.is_none()) return 1;
  if (amount.aux != usd) return 2;
  *out = amount.u.d >= 100 * ir::kDecOne;
  return 0;
}

void BM_Guard_HandWrittenCpp(benchmark::State& state) {
  GuardFixture g;
  bool out = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(hand_guard(g.args.data(), &out));
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Guard_HandWrittenCpp);

void BM_Guard_JitNative(benchmark::State& state) {
  GuardFixture g;
  codegen::JitOptions o;
  o.opt_level = static_cast<int>(state.range(0));
  auto code = codegen::compile(g.module, o);
  interp::Evaluator ev(g.module);
  int32_t depth = 0;
  interp::NativeCtx ctx{&ev, 0, &depth, code->nodes.data()};
  interp::NativeFn f = code->functions[g.fn];
  ir::Value out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(g.args.data(), &out, &ctx));
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Guard_JitNative)->Arg(0)->Arg(1)->Arg(2);

// Through the evaluator's public entry point (what the engine calls), with native code attached.
void BM_Guard_JitViaEvaluator(benchmark::State& state) {
  GuardFixture g;
  interp::Evaluator ev(g.module);
  ev.attach_native(codegen::compile(g.module));
  for (auto _ : state) benchmark::DoNotOptimize(ev.call(g.fn, g.args));
}
BENCHMARK(BM_Guard_JitViaEvaluator);

void BM_Guard_InterpreterFastPath(benchmark::State& state) {
  GuardFixture g;
  interp::Evaluator ev(g.module);
  for (auto _ : state) benchmark::DoNotOptimize(ev.call(g.fn, g.args));
}
BENCHMARK(BM_Guard_InterpreterFastPath);

void BM_Guard_InterpreterTreeWalker(benchmark::State& state) {
  GuardFixture g;
  interp::Evaluator ev(g.module, {}, false);
  for (auto _ : state) benchmark::DoNotOptimize(ev.call_reference(g.fn, g.args));
}
BENCHMARK(BM_Guard_InterpreterTreeWalker);

// Code generation for N guard-shaped functions in one module, per function.
void BM_CodegenBatched(benchmark::State& state) {
  std::string src = "record Claim { amount: Money  level: Int  category: Int  days: Int  due: Date }\n";
  for (int i = 0; i < state.range(0); ++i)
    src += "fn g" + std::to_string(i) +
           "(c: Claim, k: Int) -> Bool = c.level >= k and c.category != " + std::to_string(i % 7) +
           " and c.days < k * 3 and c.amount >= " + std::to_string(100 + i) + " USD\n";
  auto c = driver::check_text("batch.org", src);
  ir::Module m = std::move(ir::lower(*c).module);
  codegen::JitOptions o;
  o.opt_level = static_cast<int>(state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(codegen::emit_object(m, o));
  state.counters["us/function"] =
      benchmark::Counter(static_cast<double>(state.iterations() * static_cast<uint64_t>(m.functions.size())),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CodegenBatched)->Args({100, 0})->Args({100, 1})->Args({100, 2})->Unit(benchmark::kMillisecond);

bundle::Bundle& example_bundle() {
  static bundle::Bundle b = [] {
    driver::BuildOptions bo;
    bo.check.inputs = {std::string(ORGOS_SOURCE_DIR) + "/examples/acme"};
    bo.check.stdlib_dir = std::string(ORGOS_SOURCE_DIR) + "/stdlib";
    bo.write = false;
    bo.force = true;
    return std::move(std::get<driver::Built>(driver::build_or_load(bo)).bundle);
  }();
  return b;
}
ir::Module& example_module() {
  return example_bundle().module;
}

void BM_CodegenExampleOrganization(benchmark::State& state) {
  ir::Module& m = example_module();
  codegen::JitOptions o;
  o.opt_level = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(codegen::emit_object(m, o));
  state.counters["functions"] = static_cast<double>(m.functions.size());
}
BENCHMARK(BM_CodegenExampleOrganization)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// What a run from a cached bundle pays instead: linking the object and resolving every function.
void BM_LoadCachedObjectExampleOrganization(benchmark::State& state) {
  ir::Module& m = example_module();
  auto object = *codegen::emit_object(m);
  for (auto _ : state) benchmark::DoNotOptimize(codegen::load_object(m, object));
  state.counters["object_bytes"] = static_cast<double>(object.size());
}
BENCHMARK(BM_LoadCachedObjectExampleOrganization)->Unit(benchmark::kMillisecond);

// Reading a bundle (checksum, decoding and validating its IR and program), which every run from a cached
// bundle pays before it links the object; and writing one.
void BM_BundleReadExampleOrganization(benchmark::State& state) {
  auto bytes = bundle::serialize(example_bundle());
  for (auto _ : state) benchmark::DoNotOptimize(bundle::deserialize(bytes));
  state.counters["bundle_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_BundleReadExampleOrganization)->Unit(benchmark::kMicrosecond);

void BM_BundleWriteExampleOrganization(benchmark::State& state) {
  bundle::Bundle& b = example_bundle();
  for (auto _ : state) benchmark::DoNotOptimize(bundle::serialize(b));
}
BENCHMARK(BM_BundleWriteExampleOrganization)->Unit(benchmark::kMicrosecond);

}  // namespace
