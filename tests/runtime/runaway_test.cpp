// An input that does not settle is undone whole, with a message naming the limit it passed: processes that
// start themselves without waiting (the instance limit), a loop of steps longer than the step limit, and —
// as before — a rule cascade. Before, a self-starting process ran 500,000 instances in one input and the
// input was accepted.
#include <gtest/gtest.h>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/workflow/engine.h"

using namespace orgos;
using workflow::json;

namespace {

struct Org {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  store::Store s{":memory:"};
  std::unique_ptr<workflow::Engine> e;
  Org(const std::string& src, workflow::EngineOptions o) {
    c = driver::check_text("p.org", src);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    e = std::make_unique<workflow::Engine>(b, s, o);
  }
};

const char* kOps = "role Ops {}\norg O { units { department D } position o: Ops in D held by \"op\" }\n";

}  // namespace

TEST(Runaway, AProcessThatStartsItselfWithoutWaitingIsUndoneAtTheInstanceLimit) {
  workflow::EngineOptions o;
  o.max_instances_per_input = 500;
  Org org(std::string(kOps) + "process Spawn(n: Int) { start Spawn(n + 1) }\n", o);
  auto r = org.e->start("Spawn", {{"n", 0}}, "system", "k1");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("more than 500 process instances started by one input"), std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("nothing of the input was applied"), std::string::npos) << r.error;
  EXPECT_TRUE(org.e->instances().empty());
  // The engine goes on: a process that waits is started as usual.
  Org ok(std::string(kOps) + "process Fine() { task t by Ops }\n", o);
  EXPECT_TRUE(ok.e->start("Fine", json::object(), "system", "k1").ok);
}

TEST(Runaway, StartsWithinTheLimitAreApplied) {
  workflow::EngineOptions o;
  o.max_instances_per_input = 5;
  Org org(std::string(kOps) + "process Child(n: Int) { task t by Ops }\n" +
              "process Parent(xs: List<Int>) { for each x in xs max 10 { start Child(x) } }\n",
          o);
  EXPECT_TRUE(org.e->start("Parent", {{"xs", {1, 2, 3, 4}}}, "system", "k1").ok);  // 1 + 4 instances
  EXPECT_EQ(org.e->instances().size(), 5u);
  auto r = org.e->start("Parent", {{"xs", {1, 2, 3, 4, 5}}}, "system", "k2");  // 1 + 5: over
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(org.e->instances().size(), 5u) << "nothing of the refused input stays";
}

TEST(Runaway, ALoopLongerThanTheStepLimitIsUndoneWhole) {
  workflow::EngineOptions o;
  o.max_steps_per_input = 50;
  Org org(std::string(kOps) +
              "process Long(xs: List<Int>) { for each x in xs max 100 { notify \"op\" \"x\" } }\n",
          o);
  json xs = json::array();
  for (int i = 0; i < 100; ++i) xs.push_back(i);
  auto r = org.e->start("Long", {{"xs", xs}}, "system", "k1");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("more than 50 process steps for one input"), std::string::npos) << r.error;
  EXPECT_TRUE(org.e->instances().empty());
}

// The checker's hint for a `run` cycle does not recommend `start`: a process that starts itself without
// waiting loops just the same (in new instances, until the instance limit undoes the input).
TEST(Runaway, TheHintForARunCycleDoesNotRecommendStart) {
  auto c = driver::check_text("p.org", std::string(kOps) + "process A() { run A() }\n");
  ASSERT_TRUE(c->diags.has_errors());
  std::string text = diag::render_all_text(c->sources, c->diags);
  EXPECT_NE(text.find("E0501"), std::string::npos) << text;
  EXPECT_EQ(text.find("`start`"), std::string::npos) << text;
  EXPECT_NE(text.find("wait for something before the call"), std::string::npos) << text;
}
