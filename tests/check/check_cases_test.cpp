// Runs every case program under tests/check/cases/. A case's first lines say which diagnostics it must
// produce (`// expect: E0300 E0301`, or `// expect: none`); the test fails on any missing or extra code.
// Together with the catalogue test below, every diagnostic code has at least one case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"

namespace fs = std::filesystem;
using namespace orgos;

namespace {

fs::path cases_dir() {
  return fs::path(ORGOS_SOURCE_DIR) / "tests" / "check" / "cases";
}

std::multiset<std::string> expected_codes(const std::string& text) {
  std::multiset<std::string> out;
  std::istringstream in(text);
  std::string line;

  while (std::getline(in, line) && line.rfind("//", 0) == 0) {
    auto pos = line.find("expect:");
    if (pos == std::string::npos) continue;
    std::string rest = line.substr(pos + 7);
    // Codes are a capital E or W and four digits.
    for (size_t i = 0; i + 5 <= rest.size(); ++i)
      if ((rest[i] == 'E' || rest[i] == 'W') &&
          std::all_of(rest.begin() + i + 1, rest.begin() + i + 5, ::isdigit) &&
          (i + 5 == rest.size() || !std::isdigit(static_cast<unsigned char>(rest[i + 5]))))
        out.insert(rest.substr(i, 5));
  }
  return out;
}

std::vector<fs::path> case_files() {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(cases_dir()))
    if (e.path().extension() == ".org" || (fs::is_directory(e.path()) && e.path().filename() != "stdlib"))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(CheckCases, EveryCaseProducesExactlyItsExpectedCodes) {
  auto files = case_files();
  ASSERT_FALSE(files.empty());
  for (const fs::path& p : files) {
    // A folder is a project case: its expectations are in main.org.
    fs::path spec = fs::is_directory(p) ? p / "main.org" : p;
    std::ifstream in(spec);
    std::stringstream ss;
    ss << in.rdbuf();
    auto want = expected_codes(ss.str());
    driver::CheckOptions o;
    o.inputs = {p.string()};
    o.stdlib_dir = (cases_dir() / "stdlib").string();
    auto c = driver::check(o);
    std::multiset<std::string> got;
    for (auto& d : c->diags.all()) got.insert(std::string(diag::info(d.code).name));
    // Process-graph cases (E05xx files written with those checks) only pin the E05xx codes.
    if (p.filename().string().rfind("E05", 0) == 0 && p.filename().string() != "E0505_outcome.org") {
      std::multiset<std::string> filtered;
      for (auto& g : got)
        if (g.rfind("E05", 0) == 0) filtered.insert(g);
      got = filtered;
    }
    EXPECT_EQ(got, want) << p.filename() << "\n" << diag::render_all_text(c->sources, c->diags);
  }
}

TEST(CheckCases, EveryDiagnosticCodeHasACase) {
  std::set<std::string> covered;
  for (const fs::path& p : case_files()) {
    fs::path spec = fs::is_directory(p) ? p / "main.org" : p;
    std::ifstream in(spec);
    std::stringstream ss;
    ss << in.rdbuf();
    for (auto& c : expected_codes(ss.str())) covered.insert(c);
  }
  for (auto& ci : diag::all_codes()) {
    std::string code(ci.name);
    EXPECT_TRUE(covered.count(code)) << "no case under tests/check/cases/ expects " << code;
  }
}

TEST(CheckCases, EveryDiagnosticCodeIsDocumented) {
  std::ifstream in(std::string(ORGOS_SOURCE_DIR) + "/docs/diagnostics.md");
  std::stringstream ss;
  ss << in.rdbuf();
  for (auto& ci : diag::all_codes())
    EXPECT_NE(ss.str().find("| " + std::string(ci.name) + " |"), std::string::npos)
        << "docs/diagnostics.md has no row for " << ci.name;
}
