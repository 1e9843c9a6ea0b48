// The workflow engine on a real SQLite file (WAL, synchronous=FULL), one engine thread: how many durable
// inputs it applies per second, with and without group commit, and how many 5-step approval instances it
// completes per second. Each input here is one step transition of one instance (an event that starts an
// instance and runs it to its first approval, or a decision that moves it to the next), applied, audited
// and persisted. Figures: bench/RESULTS-runtime.md.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <filesystem>
#include <string>

#include "bench/approval_org.h"
#include "runtime/workflow/engine.h"

using namespace orgos;
namespace fs = std::filesystem;

namespace {

// One fresh store file per benchmark run, removed afterwards.
struct Bench {
  fs::path path;
  bundle::Bundle bundle = bench::approval_bundle();
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> engine;
  int64_t key = 0;
  explicit Bench(workflow::ExecEngine exec) {
    path = fs::temp_directory_path() / ("orgos-runtime-bench-" + std::to_string(getpid()) + ".db");
    clean();
    store = std::make_unique<store::Store>(path.string(), /*synchronous_full=*/true);
    workflow::EngineOptions o;
    o.start_time = 1767225600;
    o.exec = exec;
    engine = std::make_unique<workflow::Engine>(bundle, *store, o);
  }
  ~Bench() {
    engine.reset();
    store.reset();
    clean();
  }
  void clean() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
  }
  // One instance from its event to its end: 1 + 5 inputs. Returns the inputs applied.
  int instance() {
    auto started =
        engine->post_event("claim.filed", bench::claim_payload(key), "system", "e" + std::to_string(key));
    ++key;
    if (!started.ok) throw std::runtime_error(started.error);
    int inputs = 1;
    for (int step = 0; step < 5; ++step) {
      auto open = engine->tasks();
      if (open.size() != 1) throw std::runtime_error("expected one open approval");
      auto d =
          engine->decide(open[0].id, "ann", true, "d" + std::to_string(key) + "." + std::to_string(step));
      if (!d.ok) throw std::runtime_error(d.error);
      ++inputs;
    }
    return inputs;
  }
};

// Inputs per second of wall time (an fsync is waiting, not computing); range(0) inputs share one commit (1:
// every input is its own fsync'd transaction).
void BM_DurableTransitions(benchmark::State& state) {
  Bench b(workflow::ExecEngine::Jit);
  const int64_t group = state.range(0);
  int64_t inputs = 0, instances = 0;
  if (group > 1) b.engine->begin_group();
  int64_t in_group = 0;
  for (auto _ : state) {
    int n = b.instance();
    inputs += n;
    ++instances;
    in_group += n;
    if (group > 1 && in_group >= group) {
      b.engine->commit_group();
      b.engine->begin_group();
      in_group = 0;
    }
  }
  if (group > 1) b.engine->commit_group();
  state.counters["transitions/s"] =
      benchmark::Counter(static_cast<double>(inputs), benchmark::Counter::kIsRate);
  state.counters["instances/s"] =
      benchmark::Counter(static_cast<double>(instances), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DurableTransitions)
    ->Arg(1)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0)
    ->UseRealTime();

// The same with the interpreter instead of native code, to show what the JIT is worth end to end.
void BM_DurableTransitions_Interp(benchmark::State& state) {
  Bench b(workflow::ExecEngine::Interp);
  int64_t inputs = 0, instances = 0, in_group = 0;
  b.engine->begin_group();
  for (auto _ : state) {
    int n = b.instance();
    inputs += n;
    ++instances;
    if ((in_group += n) >= state.range(0)) {
      b.engine->commit_group();
      b.engine->begin_group();
      in_group = 0;
    }
  }
  b.engine->commit_group();
  state.counters["transitions/s"] =
      benchmark::Counter(static_cast<double>(inputs), benchmark::Counter::kIsRate);
  state.counters["instances/s"] =
      benchmark::Counter(static_cast<double>(instances), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DurableTransitions_Interp)->Arg(256)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();

}  // namespace

// The allocator as orgctl sets it (tools/orgctl/main.cpp): without fastbins the engine's many short-lived
// strings and JSON nodes cost less in consolidation.
int main(int argc, char** argv) {
  mallopt(M_MXFAST, 0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
