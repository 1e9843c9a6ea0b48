// Bad scenario files get clear errors with file:line and change nothing they should not: every problem
// a scenario author can make, once.
#include "runtime/scenario/scenario.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compiler/diag/diagnostic.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "compiler/sema/manifest.h"
#include "compiler/source/safe_yaml.h"
#include "tests/temp_dir.h"

using namespace orgos;

namespace {

struct Env {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  store::Store s;
  std::unique_ptr<workflow::Engine> e;
  std::string path;
  explicit Env(const std::string& db = ":memory:") : s(db) {
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
      "name: y\nsteps:\n  - as: op\n  - complete: nothing_open\n    as: op\n  - decide: x\n    decision: "
      "maybe\n");
  std::string t = all(r2);
  EXPECT_NE(t.find(":3:5: a step needs one of event, start, complete, decide, transition, advance"),
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
      "expect:\n  instances: {P: {completed: 1}}\n  open_tasks: 0\n");
  std::string t = all(r);
  EXPECT_NE(t.find("ping.n: expected a whole number"), std::string::npos) << t;
  EXPECT_NE(t.find("expected 1 completed P, got 0"), std::string::npos) << t;
  EXPECT_NE(t.find("expected 0 open tasks, got 1"), std::string::npos) << t;
  // (A metric the program does not have is an error before anything plays: see
  // ExpectationsNameProcessesAndMetricsThatExist.)
}

TEST(Scenario, MissingFile) {
  Env env;
  auto r = scenario::run("/nonexistent/scenario.yaml", *env.e);
  EXPECT_FALSE(r.ok);
  // It says the file is missing (it used to say `…:0: bad file:`).
  EXPECT_NE(all(r).find("/nonexistent/scenario.yaml: no such file"), std::string::npos) << all(r);
  ASSERT_EQ(r.found.size(), 1u);
  EXPECT_EQ(r.found[0].kind, scenario::FailureKind::File);
  std::string err;
  scenario::start_time("/nonexistent/scenario.yaml", err);
  EXPECT_NE(err.find("no such file"), std::string::npos) << err;
}

// ---- unsafe YAML: refused before a node is built

// A "billion laughs": nine levels of nine aliases, 9^9 strings if expanded. The anchors sit where the runner
// never looks (`description`) and the last alias in a payload, which the runner converts: yaml-cpp builds
// every expanded node as it is walked, so the old runner asked for gigabytes there.
std::string alias_bomb() {
  std::string y = "name: bomb\ndescription:\n  - &x0 lol\n";
  for (int i = 1; i <= 9; ++i) {
    y += "  - &x" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) y += std::string(k ? ", " : "") + "*x" + std::to_string(i - 1);
    y += "]\n";
  }
  return y + "steps:\n  - event: ping\n    payload: {n: 1, boom: *x9}\n";
}

TEST(Scenario, AliasesAreRefusedAtTheFirstAlias) {
  Env env;
  auto r = env.play(alias_bomb());
  EXPECT_FALSE(r.ok);
  // The first alias is on line 4, column 10: `  - &x1 [*x0`.
  EXPECT_NE(all(r).find(".yaml:4:10: YAML aliases (`*name`) are not accepted"), std::string::npos) << all(r);
  ASSERT_EQ(r.found.size(), 1u);
  EXPECT_EQ(r.found[0].kind, scenario::FailureKind::File);
  EXPECT_EQ(r.steps, 0u);
  std::string err;
  scenario::start_time(env.path, err);
  EXPECT_NE(err.find("aliases"), std::string::npos) << err;
}

TEST(Scenario, RecursiveAliasIsRefused) {
  Env env;
  // An alias inside its own anchor: a cycle, which overflowed the stack when the payload was walked.
  auto r = env.play("name: loop\nsteps:\n  - event: ping\n    payload: &p {n: 1, self: [*p]}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(all(r).find(".yaml:4:31: YAML aliases"), std::string::npos) << all(r);
  EXPECT_TRUE(env.e->instances().empty());
}

TEST(Scenario, OversizedAndDeepFilesAreRefused) {
  Env env;
  auto big = env.play("name: big\nsteps: []\n# " + std::string(source::kMaxYamlBytes, 'x') + "\n");
  EXPECT_NE(all(big).find("more than the limit"), std::string::npos) << all(big);
  std::string deep = "name: deep\nsteps: []\nx: " + std::string(100, '[') + std::string(100, ']') + "\n";
  auto d = env.play(deep);
  EXPECT_NE(all(d).find("nests deeper than 64 levels"), std::string::npos) << all(d);
  // Not a regular file: a folder (a FIFO or /dev/zero is refused the same way, without reading it).
  auto dir = scenario::run(std::filesystem::temp_directory_path().string(), *env.e);
  EXPECT_NE(all(dir).find("a folder, not a YAML file"), std::string::npos) << all(dir);
  auto dev = scenario::run("/dev/zero", *env.e);
  EXPECT_NE(all(dev).find("not a regular file"), std::string::npos) << all(dev);
}

TEST(SafeYaml, ManifestWithAnAliasIsRefused) {
  orgos_test::TempDir tmp("orgos-manifest");  // removed also after the failed ASSERT below
  auto dir = tmp.path();
  std::ofstream(dir / "orgos.yaml") << "name: &n acme\nversion: 1.0.0\ndescription: *n\n";
  source::SourceManager sm;
  diag::DiagnosticEngine de;
  auto m = sema::read_manifest(dir.string(), sm, de);
  EXPECT_FALSE(m.has_value());
  ASSERT_TRUE(de.has_errors());
  bool said = false;
  for (auto& d : de.all())
    said = said || (d.message.find("aliases") != std::string::npos && d.span.line == 3 && d.span.col == 14);
  EXPECT_TRUE(said);
}

// ---- misspelt keys

TEST(Scenario, MisspeltKeysAreErrorsWithASuggestion) {
  Env env;
  auto r = env.play(
      "name: typo\nsteps:\n  - event: ping\n    paylod: {n: 1}\n  - compelte: work\n    as: op\n"
      "expect:\n  open_task: 0\n");
  std::string t = all(r);
  EXPECT_NE(t.find(".yaml:4:5: unknown key `paylod` in a step (did you mean `payload`?)"), std::string::npos)
      << t;
  EXPECT_NE(t.find(".yaml:5:5: unknown key `compelte` in a step (did you mean `complete`?)"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find(".yaml:8:3: unknown key `open_task` in `expect` (did you mean `open_tasks`?)"),
            std::string::npos)
      << t;
  // Nothing was played: a scenario with a misspelt key would test less than it says.
  EXPECT_TRUE(env.e->instances().empty());
}

TEST(Scenario, KeysOfAnotherKindOfStepAreErrors) {
  Env env;
  auto r = env.play(
      "name: mix\nsteps:\n  - event: ping\n    payload: {n: 1}\n    decision: reject\n"
      "  - event: ping\n    start: P\n");
  std::string t = all(r);
  EXPECT_NE(t.find(":5:5: `decision` belongs to a `decide` step, not to a `event` step"), std::string::npos)
      << t;
  EXPECT_NE(t.find(":7:5: a step does one thing: it has both `event` and `start`"), std::string::npos) << t;
}

// ---- incomplete inputs

TEST(Scenario, MissingPayloadFieldsAndArgumentsAreRefused) {
  Env env;
  auto r = env.play(
      "name: miss\nsteps:\n  - event: ping\n  - event: ping\n    payload: {n: null}\n  - start: P\n"
      "  - start: P\n    args: {}\n");
  std::string t = all(r);
  EXPECT_NE(t.find(":3:5: ping.n: missing"), std::string::npos) << t;
  EXPECT_NE(t.find(":4:5: ping.n: missing"), std::string::npos) << t;
  EXPECT_NE(t.find(":6:5: P(n): missing"), std::string::npos) << t;
  EXPECT_NE(t.find(":7:5: P(n): missing"), std::string::npos) << t;
  // Nothing with a none in a non-optional field was stored.
  EXPECT_TRUE(env.e->instances().empty());
  EXPECT_FALSE(env.e->logged("scenario:miss:1").has_value());
}

// ---- how failures are reported, and again on a rerun

TEST(Scenario, ARefusedStepIsARefusalNotAFailedExpectation) {
  Env env;
  auto r = env.play(
      "name: ref\nsteps:\n  - event: ping\n    payload: {n: 1}\n    as: op\n  - event: ping\n"
      "    payload: {n: 2}\n    expect_error: nope\nexpect:\n  open_tasks: 5\n");
  ASSERT_EQ(r.found.size(), 3u) << all(r);
  EXPECT_EQ(r.found[0].kind, scenario::FailureKind::Refused);
  EXPECT_NE(r.found[0].text.find("op may not post ping"), std::string::npos) << all(r);
  EXPECT_EQ(r.found[1].kind, scenario::FailureKind::Accepted);
  EXPECT_EQ(r.found[2].kind, scenario::FailureKind::Expectation);
  EXPECT_STREQ(scenario::label(r.found[0].kind), "refused");
  EXPECT_STREQ(scenario::label(r.found[2].kind), "expectation failed");
}

TEST(Scenario, RerunOnTheSameStoreGivesTheSameVerdict) {
  orgos_test::TempDir tmp("orgos-scn-rerun");  // the store and its -wal, -shm: also after a failed ASSERT
  std::string db = (tmp / "rerun.db").string();
  const std::string yaml =
      "name: rerun\nsteps:\n  - event: ping\n    payload: {n: 1}\n    as: op\n"
      "  - event: ping\n    payload: {n: 2}\n    expect_error: nope\n"
      "  - event: ping\n    payload: {n: 3}\n";
  std::vector<std::string> verdicts;
  for (int run = 0; run < 2; ++run) {
    Env env(db);
    auto r = env.play(yaml);
    EXPECT_FALSE(r.ok) << "run " << run;
    ASSERT_EQ(r.found.size(), 2u) << "run " << run << ": " << all(r);
    EXPECT_EQ(r.found[0].kind, scenario::FailureKind::Refused);
    EXPECT_EQ(r.found[1].kind, scenario::FailureKind::Accepted);
    if (run == 1) {
      EXPECT_EQ(r.skipped, 3u);
      EXPECT_NE(all(r).find("in an earlier run on this store"), std::string::npos) << all(r);
    }
    EXPECT_EQ(env.e->instances().size(), 2u);  // the accepted pings started P once each, never twice
  }
}

TEST(Scenario, TimesPastTheEndOfTheCalendarAreRefusedNotPlayedEarlier) {
  Env env;
  // 3,000,000 days from 2026 is past 9999-12-31: the step is not played at the old clock.
  auto r = env.play(
      "name: far\nstart: 2026-01-01\nsteps:\n  - at: +3000000d\n    event: ping\n    payload: {n: 1}\n"
      "  - advance: +3000000d\n");
  ASSERT_EQ(r.found.size(), 2u) << all(r);
  EXPECT_EQ(r.found[0].kind, scenario::FailureKind::Refused);
  EXPECT_NE(r.found[0].text.find(":4:5: `at`: the clock cannot go past 9999-12-31"), std::string::npos)
      << all(r);
  EXPECT_NE(r.found[1].text.find(":7:5: the clock cannot go past 9999-12-31"), std::string::npos) << all(r);
  EXPECT_TRUE(env.e->instances().empty());  // the ping was not posted at 2026-01-01
  EXPECT_LT(env.e->now(), workflow::kMaxClock);
}

TEST(Scenario, MalformedExpectationsAreErrorsNotVacuousPasses) {
  Env env;
  auto r = env.play(
      "name: exp\nsteps: []\nexpect:\n  instances:\n    P: {complted: 0}\n    Q: 3\n  open_tasks: many\n"
      "  metrics: [a, b]\n");
  std::string t = all(r);
  // `complted: 0` held before: no instance has a status nobody gives.
  EXPECT_NE(t.find(":5:9: unknown key `complted` in the statuses of `P` (did you mean `completed`?)"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find(":6:8: `Q` maps statuses to counts"), std::string::npos) << t;
  EXPECT_NE(t.find(":7:15: `open_tasks` is a count"), std::string::npos) << t;
  EXPECT_NE(t.find(":8:12: `metrics` maps metric names to values"), std::string::npos) << t;
  for (auto& f : r.found) EXPECT_EQ(f.kind, scenario::FailureKind::Structure) << f.text;
}

// An expectation must name a process or metric the program has: `Recrut: {running: 0}` counted 0 of a
// process that does not exist and passed; an unknown metric failed only after the whole scenario played.
TEST(Scenario, ExpectationsNameProcessesAndMetricsThatExist) {
  Env env;
  auto r = env.play(
      "name: names\nsteps:\n  - start: P\n    args: {n: 1}\nexpect:\n  instances:\n    Q: {running: 0}\n"
      "    P: {running: 1}\n  metrics:\n    peple: 1\n");
  std::string t = all(r);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(t.find(":7:5: unknown key `Q` in `expect: instances` (a process)"), std::string::npos) << t;
  EXPECT_NE(t.find(":10:5: unknown key `peple` in `expect: metrics` (a metric)"), std::string::npos) << t;
  for (auto& f : r.found) EXPECT_EQ(f.kind, scenario::FailureKind::Structure) << f.text;
  EXPECT_TRUE(env.e->instances().empty()) << "a scenario with a misnamed expectation plays nothing";
}
