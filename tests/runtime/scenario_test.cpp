// Bad scenario files get clear errors with file:line and change nothing they should not: every problem
// a scenario author can make, once.
#include "runtime/scenario/scenario.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"

using namespace orgos;

namespace {

struct Env {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  store::Store s{":memory:"};
  std::unique_ptr<workflow::Engine> e;
  std::string path;
  Env() {
    c = driver::check_text(
        "s.org",
        "role Ops {}\norg O { units { department D } position o: Ops in D held by \"op\" }\n"
        "event ping { n: Int }\nprocess P(n: Int) { task work by Ops }\n"
        "rule r when ping e then start P(e.n)\n");
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    e = std::make_unique<workflow::Engine>(b, s);
    path = (std::filesystem::temp_directory_path() / ("orgos-scn-" + std::to_string(::getpid()) + ".yaml"))
               .string();
  }
  ~Env() { std::filesystem::remove(path); }
  scenario::Result play(const std::string& yaml) {
    std::ofstream(path) << yaml;
    return scenario::run(path, *e);
  }
};

std::string all(const scenario::Result& r) {
  std::string s;
  for (auto& f : r.failures) s += f + "\n";
  return s;
}

}  // namespace

TEST(Scenario, InvalidYamlNamesTheLine) {
  Env env;
  auto r = env.play("name: x\nsteps:\n  - event: ping\n    payload: {n: [1, 2\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(all(r).find(".yaml:"), std::string::npos) << all(r);
  EXPECT_NE(all(r).find("not valid YAML"), std::string::npos) << all(r);
}

TEST(Scenario, UnknownKeysStepsAndTasksAreReported) {
  Env env;
  auto r = env.play("name: x\nsteeps: []\n");
  EXPECT_NE(all(r).find("unknown key `steeps`"), std::string::npos) << all(r);
  Env env2;
  auto r2 = env2.play(
      "name: y\nsteps:\n  - jump: high\n  - complete: nothing_open\n    as: op\n  - decide: x\n    decision: "
      "maybe\n");
  std::string t = all(r2);
  EXPECT_NE(t.find(":3: a step needs one of event, start, complete, decide, transition, advance"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("no open task named `nothing_open`"), std::string::npos) << t;
  EXPECT_NE(t.find("`decision` is approve or reject"), std::string::npos) << t;
}

TEST(Scenario, TimesMustMoveForwardAndBeTimes) {
  Env env;
  auto r = env.play(
      "name: t\nstart: 2026-01-10\nsteps:\n  - at: 2026-01-12\n    event: ping\n    payload: {n: 1}\n"
      "  - at: 2026-01-11\n    event: ping\n    payload: {n: 2}\n  - at: tomorrow\n    advance: +1d\n"
      "  - advance: 2026-02-30\n");
  std::string t = all(r);
  EXPECT_NE(t.find("`at` goes back in time"), std::string::npos) << t;
  EXPECT_NE(t.find("`at: tomorrow` is not a time"), std::string::npos) << t;
  EXPECT_NE(t.find("`advance: 2026-02-30` is not a later time"), std::string::npos) << t;
}

TEST(Scenario, PayloadErrorsAndFailedExpectationsAreClear) {
  Env env;
  auto r = env.play(
      "name: p\nsteps:\n  - event: ping\n    payload: {n: \"seven\"}\n  - event: ping\n    payload: {n: 1}\n"
      "expect:\n  instances: {P: {completed: 1}}\n  open_tasks: 0\n  metrics: {nope: \"1\"}\n");
  std::string t = all(r);
  EXPECT_NE(t.find("ping.n: expected a whole number"), std::string::npos) << t;
  EXPECT_NE(t.find("expected 1 completed P, got 0"), std::string::npos) << t;
  EXPECT_NE(t.find("expected 0 open tasks, got 1"), std::string::npos) << t;
  EXPECT_NE(t.find("metric nope is (no such metric)"), std::string::npos) << t;
}

TEST(Scenario, MissingFile) {
  Env env;
  auto r = scenario::run("/nonexistent/scenario.yaml", *env.e);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(all(r).empty());
}
