// The kinds the program IR carries as enums (an approval's quorum, a rule pattern's kind, a metric's
// comparisons): lowering gives each source form its enumerator, and the names the runtime prints come from
// one switch per enum (no default, so a new enumerator without a name does not compile).
#include <gtest/gtest.h>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/dump.h"
#include "compiler/ir/lower.h"
#include "runtime/store/store.h"
#include "runtime/workflow/engine.h"

using namespace orgos;

namespace {

ir::Lowered lowered(const std::string& src) {
  auto c = driver::check_text("t.org", src);
  EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  return ir::lower(*c);
}

const ir::ProcessIR& process(const ir::Program& p, const std::string& name) {
  for (auto& pr : p.processes)
    if (pr.name == name) return pr;
  ADD_FAILURE() << "no process " << name;
  return p.processes.front();
}

}  // namespace

TEST(IrKinds, EachQuorumOfTheSourceLowersToItsEnumerator) {
  auto l = lowered(
      "role Director {}\n"
      "org Co { position board: Director held by \"a\", \"b\", \"c\" }\n"
      "process Vote(topic: String) {\n"
      "  approval one by Director\n"
      "  approval most by Director quorum majority\n"
      "  approval everyone by Director quorum unanimous\n"
      "  approval two by Director quorum 2 of 3\n"
      "  approval part by Director quorum 60%\n"
      "}\n");
  std::vector<std::pair<ir::Quorum, int64_t>> got;
  // In the order they run (steps are lowered back to front): from the start along next[0].
  const ir::ProcessIR& vote = process(l.program, "Vote");
  for (uint32_t i = vote.start; i != ir::kNone && i < vote.steps.size();) {
    const ir::Step& s = vote.steps[i];
    if (s.kind == ir::StepKind::Approval) got.emplace_back(s.quorum_kind, s.quorum_n);
    i = s.next.empty() ? ir::kNone : s.next[0];
  }
  std::vector<std::pair<ir::Quorum, int64_t>> want = {{ir::Quorum::All, 0},
                                                      {ir::Quorum::Majority, 0},
                                                      {ir::Quorum::Unanimous, 0},
                                                      {ir::Quorum::Count, 2},
                                                      {ir::Quorum::Percent, 60}};
  EXPECT_EQ(got, want);
  EXPECT_STREQ(ir::quorum_name(ir::Quorum::Percent), "percent");
  // `orgctl compile --dump` shows each approval's quorum as the source wrote it.
  std::string dump = ir::dump(l.module, l.program);
  for (const char* q :
       {"approval most by Director quorum majority", "approval everyone by Director quorum unanimous",
        "approval two by Director quorum 2 of 3", "approval part by Director quorum 60%"})
    EXPECT_NE(dump.find(q), std::string::npos) << q << " in\n" << dump;
  EXPECT_EQ(dump.find("approval one by Director quorum"), std::string::npos) << dump;
}

TEST(IrKinds, EachPatternOfTheSourceLowersToItsKind) {
  auto l = lowered(
      "record Stock { sku: String  on_hand: Int }\n"
      "record Hold { sku: String }\n"
      "record Note { text: String }\n"
      "rule r when Hold h, not Stock s where s.sku == h.sku, exists Stock t where t.on_hand > 0,\n"
      "  n = count(x in Stock where x.on_hand == 0) then insert Note { text: h.sku }\n");
  ASSERT_EQ(l.program.rules.size(), 1u);
  std::vector<ir::PatternKind> got;
  std::vector<std::string> names;
  for (const ir::PatternIR& p : l.program.rules[0].patterns) {
    got.push_back(p.kind);
    names.emplace_back(ir::pattern_kind_name(p.kind));
  }
  EXPECT_EQ(got, (std::vector<ir::PatternKind>{ir::PatternKind::Fact, ir::PatternKind::Not,
                                               ir::PatternKind::Exists, ir::PatternKind::Accumulate}));
  EXPECT_EQ(names, (std::vector<std::string>{"fact", "not", "exists", "accumulate"}));
  std::string dump = ir::dump(l.module, l.program);
  EXPECT_NE(dump.find("rule r: 4 patterns (fact Hold, not Stock, exists Stock, accumulate)\n"),
            std::string::npos)
      << dump;
}

TEST(IrKinds, AMetricsComparisonsLowerToThemAndMeanWhatTheySay) {
  auto l = lowered(
      "event spend.alert\n"
      "record Expense { amount: Money<USD> }\n"
      "metric total: Money<USD> = sum(x.amount for x in Expense)\n"
      "  target < 50_000 USD warn >= 40_000 USD alert != 60_000 USD emit spend.alert\n"
      "metric n = count(x in Expense) target <= 3 warn > 2 alert == 9\n");
  ASSERT_EQ(l.program.metrics.size(), 2u);
  const ir::MetricIR& a = l.program.metrics[0];
  const ir::MetricIR& b = l.program.metrics[1];
  EXPECT_EQ(a.target_op, ir::Comparison::Lt);
  EXPECT_EQ(a.warn_op, ir::Comparison::Ge);
  EXPECT_EQ(a.alert_op, ir::Comparison::Ne);
  EXPECT_EQ(b.target_op, ir::Comparison::Le);
  EXPECT_EQ(b.warn_op, ir::Comparison::Gt);
  EXPECT_EQ(b.alert_op, ir::Comparison::Eq);
  // Stored as the byte of the ir::Op they name, which is also how they print.
  EXPECT_EQ(ir::op_of(ir::Comparison::Ge), ir::Op::Ge);
  EXPECT_STREQ(ir::op_name(ir::op_of(a.target_op)), ir::op_name(ir::Op::Lt));
  struct Case {
    ir::Comparison c;
    bool lt, eq, gt;  // holds for 1 c 2, 2 c 2, 3 c 2
  };
  for (const Case& k :
       {Case{ir::Comparison::Eq, false, true, false}, Case{ir::Comparison::Ne, true, false, true},
        Case{ir::Comparison::Lt, true, false, false}, Case{ir::Comparison::Le, true, true, false},
        Case{ir::Comparison::Gt, false, false, true}, Case{ir::Comparison::Ge, false, true, true}}) {
    EXPECT_EQ(ir::compare(k.c, 1, 2), k.lt) << ir::op_name(ir::op_of(k.c));
    EXPECT_EQ(ir::compare(k.c, 2, 2), k.eq) << ir::op_name(ir::op_of(k.c));
    EXPECT_EQ(ir::compare(k.c, 3, 2), k.gt) << ir::op_name(ir::op_of(k.c));
  }
}

namespace {

// Four directors decide one approval of the given quorum, all the same way, one after another: how many
// decisions it took until the approval was decided (0: never), and how the process ended.
std::pair<int, std::string> decisions_until_decided(const std::string& quorum, bool approve) {
  auto c = driver::check_text("q.org",
                              "role Director {}\n"
                              "org Co { position board: Director held by \"a\", \"b\", \"c\", \"d\" }\n"
                              "process Vote(topic: String) { approval by Director " +
                                  quorum + " }\n");
  EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  auto lw = ir::lower(*c);
  bundle::Bundle b;
  b.module = std::move(lw.module);
  b.program = std::move(lw.program);
  b.source_hash = "test";
  b.files = {"q.org"};
  store::Store s(":memory:");
  workflow::Engine e(b, s, {1767225600, 10000, 1000000, nullptr});
  auto started = e.start("Vote", {{"topic", "budget"}}, "system", "start");
  EXPECT_TRUE(started.ok) << started.error;
  auto tasks = e.tasks();
  EXPECT_EQ(tasks.size(), 1u);
  if (tasks.size() != 1) return {0, ""};
  int n = 0;
  for (const char* who : {"a", "b", "c", "d"}) {
    auto o = e.decide(tasks[0].id, who, approve, std::string("decide-") + who);
    EXPECT_TRUE(o.ok) << quorum << ": " << o.error;
    ++n;
    std::string status = e.instances().at(0).status;
    if (status != "running") return {n, status};
  }
  return {0, e.instances().at(0).status};
}

}  // namespace

// What each quorum needs of four holders, approving and rejecting (docs/language.md, approval): one
// approval without a quorum; more than half; all (one rejection rejects); N; a percentage rounded up. An
// approval is rejected once so many rejected that the quorum can no longer be reached.
TEST(IrKinds, EachQuorumDecidesAfterAsManyDecisionsAsItNeeds) {
  using R = std::pair<int, std::string>;
  EXPECT_EQ(decisions_until_decided("", true), R(1, "completed"));
  EXPECT_EQ(decisions_until_decided("quorum majority", true), R(3, "completed"));
  EXPECT_EQ(decisions_until_decided("quorum unanimous", true), R(4, "completed"));
  EXPECT_EQ(decisions_until_decided("quorum 2 of 4", true), R(2, "completed"));
  EXPECT_EQ(decisions_until_decided("quorum 60%", true), R(3, "completed"));
  EXPECT_EQ(decisions_until_decided("", false), R(4, "failed"));
  EXPECT_EQ(decisions_until_decided("quorum majority", false), R(2, "failed"));
  EXPECT_EQ(decisions_until_decided("quorum unanimous", false), R(1, "failed"));
  EXPECT_EQ(decisions_until_decided("quorum 2 of 4", false), R(3, "failed"));
  EXPECT_EQ(decisions_until_decided("quorum 60%", false), R(2, "failed"));
}
