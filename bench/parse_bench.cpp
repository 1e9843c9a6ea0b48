// Front-end throughput: source lines per second through parse alone and through parse + check, on a warm
// parser, over the generated program (bench/program_generator.h). Figures: bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <algorithm>

#include "bench/program_generator.h"
#include "compiler/driver/compilation.h"

namespace {

template <class Stage>
void run_lines(benchmark::State& state, Stage stage) {
  std::string text = orgos::bench::generate_program(static_cast<size_t>(state.range(0)));
  size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  {
    auto warm = stage("warmup.org", text);  // the first run pays ANTLR's static initialisation
    if (warm->diags.has_errors()) state.SkipWithError("the generated program has errors");
  }
  for (auto _ : state) {
    auto c = stage("bench.org", text);
    benchmark::DoNotOptimize(c);
  }
  state.counters["lines"] = static_cast<double>(lines);
  state.counters["lines/s"] =
      benchmark::Counter(static_cast<double>(lines * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Parse(benchmark::State& state) {
  run_lines(state, orgos::driver::parse_text);
}
void BM_ParseAndCheck(benchmark::State& state) {
  run_lines(state, orgos::driver::check_text);
}

BENCHMARK(BM_Parse)->Arg(100'000)->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_ParseAndCheck)->Arg(100'000)->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace

BENCHMARK_MAIN();
