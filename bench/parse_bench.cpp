// Front-end throughput: parse (and later check) source lines per second on a warm parser.
#include <benchmark/benchmark.h>

#include "compiler/driver/compilation.h"

namespace {

std::string generate(int records) {
  std::string s;
  for (int i = 0; i < records; ++i) {
    s += "record R" + std::to_string(i) + " {\n  amount: Money\n  unit: Unit\n  note: String?\n";
    s += "  check amount > 0 USD and amount < 1_000_000 USD\n}\n";
  }
  return s;
}

void BM_ParseLines(benchmark::State& state) {
  std::string text = generate(static_cast<int>(state.range(0)));
  size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  orgos::driver::parse_text("warmup.org", text);  // the first parse pays ANTLR's static initialisation
  for (auto _ : state) {
    auto c = orgos::driver::parse_text("bench.org", text);
    benchmark::DoNotOptimize(c);
  }
  state.counters["lines/s"] =
      benchmark::Counter(static_cast<double>(lines * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseLines)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
