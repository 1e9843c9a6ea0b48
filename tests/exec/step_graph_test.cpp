// Step graphs: structured control flow lowered to explicit successors the runtime can walk.
#include <gtest/gtest.h>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/dump.h"
#include "compiler/ir/lower.h"

using namespace orgos;

namespace {
const ir::ProcessIR& process(const ir::Lowered& lw, const std::string& name) {
  for (auto& p : lw.program.processes)
    if (p.name == name) return p;
  ADD_FAILURE() << "no process " << name;
  return lw.program.processes.front();
}
}  // namespace

TEST(StepGraph, ParallelLoopsSwitchAndCompensation) {
  auto c = driver::check_text(
      "p.org",
      "role Clerk {}\n"
      "connector bank { op pay(amount: Money) -> { ref: String } op refund(ref: String) }\n"
      "event paid { ref: String }\n"
      "process Pay(items: List<Money>, mode: String) {\n"
      "  for each x in items max 10 {\n"
      "    call bank.pay(amount: x) as r compensate { call bank.refund(ref: r.ref) }\n"
      "  }\n"
      "  parallel join any {\n"
      "    task review by Clerk outcomes ok, bad\n"
      "    wait 2d\n"
      "  }\n"
      "  switch mode { case \"fast\" => { emit paid { ref: \"f\" } } else => { fail \"slow\" } }\n"
      "}\n");
  ASSERT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  auto lw = ir::lower(*c);
  const ir::ProcessIR& p = process(lw, "Pay");
  SCOPED_TRACE(ir::dump_process(p, lw.module));
  const ir::Step& head = p.steps[p.start];
  ASSERT_EQ(head.kind, ir::StepKind::ForEach);
  EXPECT_EQ(head.max_items, 10);
  ASSERT_EQ(head.next.size(), 2u);
  // The loop body (the payment) comes back to the head and carries its compensation.
  const ir::Step& pay = p.steps[head.next[0]];
  EXPECT_EQ(pay.kind, ir::StepKind::Call);
  EXPECT_EQ(pay.name, "bank.pay");
  EXPECT_EQ(pay.next, std::vector<uint32_t>{p.start});
  ASSERT_NE(pay.compensation, ir::kNone);
  EXPECT_EQ(p.steps[pay.compensation].name, "bank.refund");
  EXPECT_NE(pay.bind_slot, ir::kNone);
  // After the loop: a fork whose two branches end at a join that needs one of them.
  const ir::Step& fork = p.steps[head.next[1]];
  ASSERT_EQ(fork.kind, ir::StepKind::Fork);
  ASSERT_EQ(fork.next.size(), 2u);
  const ir::Step& join = p.steps[fork.join];
  EXPECT_EQ(join.kind, ir::StepKind::Join);
  EXPECT_EQ(join.join_count, 1u);
  EXPECT_EQ(p.steps[fork.next[0]].kind, ir::StepKind::Task);
  EXPECT_EQ(p.steps[fork.next[0]].next, std::vector<uint32_t>{fork.join});
  EXPECT_EQ(p.steps[fork.next[1]].kind, ir::StepKind::WaitTimer);
  // Then the switch: one case and the else branch, which fails (no successor).
  const ir::Step& sw = p.steps[join.next[0]];
  ASSERT_EQ(sw.kind, ir::StepKind::Switch);
  ASSERT_EQ(sw.next.size(), 2u);
  EXPECT_EQ(sw.case_target, std::vector<uint32_t>{0});
  EXPECT_EQ(p.steps[sw.next[0]].kind, ir::StepKind::Emit);
  EXPECT_EQ(p.steps[sw.next[1]].kind, ir::StepKind::Fail);
  EXPECT_TRUE(p.steps[sw.next[1]].next.empty());
}
