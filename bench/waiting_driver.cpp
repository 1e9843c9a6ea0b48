// A million waiting instances: how big the store gets, how much memory the engine holds them in, and how
// long a restart takes until the engine can take the next input. One phase per process, so each phase's
// memory is its own:
//   orgos_waiting_driver create DB N   — N instances of the 5-approval process, each waiting at its first
//                                         approval (group commit, 4,096 inputs per transaction)
//   orgos_waiting_driver open DB       — restart: open the store, load every instance, then decide one
//                                         approval to show the engine is live
// Figures: bench/RESULTS-runtime.md.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench/approval_org.h"
#include "runtime/workflow/engine.h"

using namespace orgos;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Resident and peak resident memory in MiB, from the kernel's own accounting.
std::pair<double, double> rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  double rss = 0, hwm = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atof(line.c_str() + 6) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::atof(line.c_str() + 6) / 1024;
  }
  return {rss, hwm};
}

workflow::EngineOptions options() {
  workflow::EngineOptions o;
  o.start_time = 1767225600;
  return o;
}

int usage() {
  std::fprintf(stderr, "usage: orgos_waiting_driver create DB N | open DB\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_MXFAST, 0);  // as orgctl does
  if (argc < 3) return usage();
  std::string mode = argv[1], db = argv[2];
  bundle::Bundle b = bench::approval_bundle();
  if (mode == "create" && argc == 4) {
    int64_t n = std::atoll(argv[3]);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
    auto t0 = std::chrono::steady_clock::now();
    store::Store s(db);
    workflow::Engine e(b, s, options());
    e.begin_group();
    for (int64_t i = 0; i < n; ++i) {
      auto o = e.post_event("claim.filed", bench::claim_payload(i), "system", "e" + std::to_string(i));
      if (!o.ok) {
        std::fprintf(stderr, "input %lld refused: %s\n", static_cast<long long>(i), o.error.c_str());
        return 1;
      }
      if (i % 4096 == 4095) {
        e.commit_group();
        e.begin_group();
      }
    }
    e.commit_group();
    double secs = since(t0);
    auto [rss, hwm] = rss_mib();
    std::printf(
        "created %lld waiting instances in %.1f s (%.0f inputs/s); engine RSS %.0f MiB (peak %.0f MiB)\n",
        static_cast<long long>(n), secs, static_cast<double>(n) / secs, rss, hwm);
    return 0;
  }
  if (mode == "open" && argc == 3) {
    if (!std::filesystem::exists(db)) {
      std::fprintf(stderr, "no store at %s: run `create` first\n", db.c_str());
      return 1;
    }
    auto t0 = std::chrono::steady_clock::now();
    store::Store s(db);
    workflow::Engine e(b, s, options());
    double ready = since(t0);
    auto [rss, hwm] = rss_mib();
    auto open = e.tasks();
    auto t1 = std::chrono::steady_clock::now();
    auto o = e.decide(open.front().id, "ann", true, "restart-check");
    double decide_ms = since(t1) * 1000;
    std::uintmax_t bytes = std::filesystem::file_size(db);
    std::printf(
        "restart to ready: %.2f s; %zu open approvals; engine RSS %.0f MiB (peak %.0f MiB); store %.0f MiB; "
        "next decision %s in %.2f ms\n",
        ready, open.size(), rss, hwm, static_cast<double>(bytes) / (1 << 20), o.ok ? "applied" : "refused",
        decide_ms);
    return o.ok ? 0 : 1;
  }
  return usage();
}
