// Each step kind carries only its own fields (compiler/ir/step_shape.h): everything the compiler lowers
// fits, and a field set on a kind that never reads it is named.
#include "compiler/ir/step_shape.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"

using namespace orgos;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The ```org blocks of docs/language.md that are whole programs meant to check (no `expect`, no
// `fragment`).
std::vector<std::string> doc_programs() {
  std::istringstream in(read(fs::path(ORGOS_SOURCE_DIR) / "docs" / "language.md"));
  std::vector<std::string> out;
  std::string line;
  bool open = false, other = false;
  while (std::getline(in, line)) {
    bool fence = line.rfind("```", 0) == 0;
    if (open) {
      if (fence)
        open = false;
      else
        out.back() += line + "\n";
    } else if (fence && other) {
      other = false;
    } else if (fence) {
      if (line == "```org") {
        out.emplace_back();
        open = true;
      } else {
        other = true;
      }
    }
  }
  return out;
}

ir::Step step(ir::StepKind k) {
  ir::Step s;
  s.kind = k;
  if (k == ir::StepKind::Task) s.outcomes = {"done"};
  if (k == ir::StepKind::Fork) s.join = 1;
  if (k == ir::StepKind::Branch || k == ir::StepKind::ForEach) s.next = {1, 2};
  if (k == ir::StepKind::Switch) s.next = {1};
  return s;
}

}  // namespace

TEST(StepShape, EveryStepTheCompilerLowersFitsItsKind) {
  size_t lowered = 0;
  for (const std::string& src : doc_programs()) {
    auto c = driver::check_text("language.md", src);
    if (c->diags.has_errors()) continue;  // the language doc's own test keeps these honest
    auto l = ir::lower(*c);
    EXPECT_EQ(ir::program_shape_error(l.program), "") << src;
    ++lowered;
  }
  EXPECT_GT(lowered, 20u) << "docs/language.md lost its examples";
  for (const char* project : {"acme", "language-tour"}) {
    driver::CheckOptions o;
    o.inputs = {(fs::path(ORGOS_SOURCE_DIR) / "examples" / project).string()};
    auto c = driver::check(o);
    ASSERT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto l = ir::lower(*c);
    EXPECT_FALSE(l.program.processes.empty()) << project;
    EXPECT_EQ(ir::program_shape_error(l.program), "") << project;
  }
}

TEST(StepShape, AFieldOnAKindThatNeverReadsItIsNamed) {
  for (int k = 0; k <= static_cast<int>(ir::StepKind::End); ++k)
    EXPECT_EQ(ir::step_shape_error(step(static_cast<ir::StepKind>(k))), "")
        << ir::step_kind_name(static_cast<ir::StepKind>(k));

  ir::Step s = step(ir::StepKind::Switch);
  s.quorum_kind = ir::Quorum::Majority;
  EXPECT_EQ(ir::step_shape_error(s), "a quorum on a step of kind `switch`");
  s = step(ir::StepKind::Task);
  s.join = 3;
  EXPECT_EQ(ir::step_shape_error(s), "a join on a step of kind `task`");
  s = step(ir::StepKind::Fork);
  s.join_count = 2;
  EXPECT_EQ(ir::step_shape_error(s), "a join count on a step of kind `parallel`");
  s = step(ir::StepKind::Approval);
  s.outcomes = {"done"};
  EXPECT_EQ(ir::step_shape_error(s), "outcomes on a step of kind `approval`");
  s = step(ir::StepKind::Emit);
  s.escalate_role = "CFO";
  EXPECT_EQ(ir::step_shape_error(s), "an escalation on a step of kind `emit`");
  s = step(ir::StepKind::Let);
  s.set_slot = 0;
  EXPECT_EQ(ir::step_shape_error(s), "a set target on a step of kind `let`");
  s = step(ir::StepKind::Branch);
  s.cases = {0};
  s.case_target = {0};
  EXPECT_EQ(ir::step_shape_error(s), "cases on a step of kind `if`");
  s = step(ir::StepKind::Run);
  s.parallel = true;
  EXPECT_EQ(ir::step_shape_error(s), "a for-each bound on a step of kind `run`");
  s = step(ir::StepKind::Fork);
  s.join = ir::kNone;
  EXPECT_EQ(ir::step_shape_error(s), "a step of kind `parallel` without its join");
  s = step(ir::StepKind::Switch);
  s.cases = {0, 1};
  s.case_target = {0};
  EXPECT_EQ(ir::step_shape_error(s), "a step of kind `switch` with 2 case values but 1 case targets");
  s = step(ir::StepKind::Branch);
  s.next = {1};
  EXPECT_EQ(ir::step_shape_error(s), "a step of kind `if` with 1 successors, not 2");

  // In a program, the step is named by where it is.
  ir::Program p;
  ir::RuleIR r;
  r.name = "route";
  r.actions.name = "route";
  r.actions.steps = {step(ir::StepKind::Emit), step(ir::StepKind::Emit)};
  r.actions.steps[1].quorum_n = 2;
  p.rules.push_back(r);
  EXPECT_EQ(ir::program_shape_error(p), "rule route, step 1: a quorum on a step of kind `emit`");
}
