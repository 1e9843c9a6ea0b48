// The fuzzing harness in the ordinary suite: every seed of the fuzz corpus (each .org file of the
// repository) and every input a fuzzing run ever found (fuzz/regressions/) goes through the whole front-end
// again, so a fixed finding stays fixed. Under the asan preset this replays them with the sanitizers on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/frontend_harness.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void replay(const fs::path& p) {
  SCOPED_TRACE(p.string());
  std::string data = slurp(p);
  orgos::fuzz::run_frontend(reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

}  // namespace

TEST(FuzzRegression, EveryPastFindingStillPassesTheFrontEnd) {
  fs::path dir = fs::path(ORGOS_SOURCE_DIR) / "fuzz" / "regressions";
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
    replay(e.path());
    ++n;
  }
  EXPECT_GT(n, 0u) << "fuzz/regressions/ should hold the inputs past fuzzing runs found";
}

TEST(FuzzRegression, EverySeedOfTheCorpusPassesTheFrontEnd) {
  size_t n = 0;
  for (const char* top : {"stdlib", "templates", "examples", "tests/check/cases"}) {
    for (auto& e : fs::recursive_directory_iterator(fs::path(ORGOS_SOURCE_DIR) / top)) {
      if (!e.is_regular_file() || e.path().extension() != ".org") continue;
      if (e.path().string().find("/.orgos/") != std::string::npos) continue;
      replay(e.path());
      ++n;
    }
  }
  EXPECT_GT(n, 50u);
}
