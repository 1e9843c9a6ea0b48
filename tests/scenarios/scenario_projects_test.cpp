// Every scenario project in stdlib/, templates/ and examples/ (a folder whose orgos.yaml names a
// `scenario:`) is checked, compiled and played; every expectation it states must hold. Adding a package
// scenario adds a test case here without touching this file.
#include <gtest/gtest.h>

#include <filesystem>

#include "compiler/diag/renderer.h"
#include "compiler/driver/build.h"
#include "compiler/sema/manifest.h"
#include "runtime/scenario/scenario.h"
#include "runtime/store/store.h"
#include "runtime/workflow/engine.h"

namespace fs = std::filesystem;
using namespace orgos;

namespace {

struct Project {
  std::string dir, scenario;
};
void PrintTo(const Project& p, std::ostream* os) {
  *os << p.dir;
}

std::vector<Project> projects() {
  std::vector<Project> out;
  for (const char* root : {"stdlib", "templates", "examples"}) {
    fs::path base = fs::path(ORGOS_SOURCE_DIR) / root;
    if (!fs::exists(base)) continue;
    for (auto it = fs::recursive_directory_iterator(base); it != fs::recursive_directory_iterator(); ++it) {
      if (it->path().filename() != sema::kManifestName) continue;
      source::SourceManager sm;
      diag::DiagnosticEngine de;
      auto m = sema::read_manifest(it->path().parent_path().string(), sm, de);
      if (m && !m->scenario.empty())
        out.push_back({it->path().parent_path().string(), (it->path().parent_path() / m->scenario).string()});
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.dir < b.dir; });
  return out;
}

}  // namespace

class ScenarioProjects : public ::testing::TestWithParam<Project> {};

TEST_P(ScenarioProjects, PlaysWithEveryExpectationMet) {
  const Project& p = GetParam();
  driver::BuildOptions bo;
  bo.check.inputs = {p.dir};
  bo.check.stdlib_dir = std::string(ORGOS_SOURCE_DIR) + "/stdlib";
  bo.write = false;
  bo.force = true;
  auto r = driver::build_or_load(bo);
  if (auto* f = std::get_if<driver::BuildFailure>(&r)) {
    FAIL() << p.dir << ": "
           << (f->compilation ? diag::render_all_text(f->compilation->sources, f->compilation->diags)
                              : f->message);
  }
  auto& built = std::get<driver::Built>(r);
  std::string err;
  int64_t start = scenario::start_time(p.scenario, err);
  ASSERT_TRUE(err.empty()) << err;
  // Once with native code, once with the reference interpreter: every expectation holds under both, and
  // the two traces are the same line for line.
  std::string traces[2];
  for (auto exec : {workflow::ExecEngine::Jit, workflow::ExecEngine::Interp}) {
    SCOPED_TRACE(exec == workflow::ExecEngine::Jit ? "engine jit" : "engine interp");
    store::Store s(":memory:");
    std::vector<std::string> trace;
    workflow::EngineOptions eo;
    eo.start_time = start;
    eo.trace = [&](const std::string& l) { trace.push_back(l); };
    eo.exec = exec;
    workflow::Engine e(built.bundle, s, eo);
    EXPECT_EQ(e.jit_error(), "");
    auto res = scenario::run(p.scenario, e);
    std::string& t = traces[exec == workflow::ExecEngine::Jit ? 0 : 1];
    for (auto& l : trace) t += l + "\n";
    std::string why;
    for (auto& f : res.failures) why += f + "\n";
    EXPECT_TRUE(res.ok) << why << "\ntrace:\n" << t;
    EXPECT_FALSE(s.verify_audit(why)) << why;
  }
  EXPECT_EQ(traces[0], traces[1]);
}

INSTANTIATE_TEST_SUITE_P(All, ScenarioProjects, ::testing::ValuesIn(projects()),
                         [](const ::testing::TestParamInfo<Project>& info) {
                           std::string n = fs::relative(info.param.dir, ORGOS_SOURCE_DIR).string();
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
