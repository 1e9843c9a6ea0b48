// The fields each step kind owns (see lower_program.cpp, which sets them): a field owned by one family of
// kinds must be at its default on every other kind.
#include "compiler/ir/step_shape.h"

namespace orgos::ir {

namespace {

bool human(StepKind k) {
  return k == StepKind::Task || k == StepKind::Approval;
}

std::string on(const char* field, StepKind k) {
  return std::string(field) + " on a step of kind `" + step_kind_name(k) + "`";
}

std::string process_error(const std::string& what, const ProcessIR& p) {
  for (size_t i = 0; i < p.steps.size(); ++i) {
    std::string e = step_shape_error(p.steps[i]);
    if (!e.empty()) return what + " " + p.name + ", step " + std::to_string(i) + ": " + e;
  }
  return "";
}

}  // namespace

std::string step_shape_error(const Step& s) {
  const StepKind k = s.kind;
  if (k != StepKind::Approval && (s.quorum_kind != Quorum::All || s.quorum_n != 0 || s.quorum_of != 0))
    return on("a quorum", k);
  if (k != StepKind::Task && !s.outcomes.empty()) return on("outcomes", k);
  if (k == StepKind::Task && s.outcomes.empty()) return "a step of kind `task` without outcomes";
  if (!human(k) && (!s.escalate_role.empty() || s.escalate_scope != kNone)) return on("an escalation", k);
  if (k != StepKind::Fork && s.join != kNone) return on("a join", k);
  if (k == StepKind::Fork && s.join == kNone) return "a step of kind `parallel` without its join";
  if (k != StepKind::Join && s.join_count != 0) return on("a join count", k);
  if (k != StepKind::Switch && (!s.cases.empty() || !s.case_target.empty())) return on("cases", k);
  if (k == StepKind::Switch && s.cases.size() != s.case_target.size())
    return "a step of kind `switch` with " + std::to_string(s.cases.size()) + " case values but " +
           std::to_string(s.case_target.size()) + " case targets";
  if (k == StepKind::Switch && s.next.empty()) return "a step of kind `switch` without its else";
  if (k != StepKind::ForEach && (s.max_items != 0 || s.parallel)) return on("a for-each bound", k);
  if (k != StepKind::Set && (s.set_slot != kNone || s.set_target != kNone)) return on("a set target", k);
  if ((k == StepKind::Branch || k == StepKind::ForEach) && s.next.size() != 2)
    return std::string("a step of kind `") + step_kind_name(k) + "` with " + std::to_string(s.next.size()) +
           " successors, not 2";
  return "";
}

std::string program_shape_error(const Program& p) {
  for (const ProcessIR& pr : p.processes)
    if (auto e = process_error("process", pr); !e.empty()) return e;
  for (const LifecycleIR& l : p.lifecycles)
    for (const ProcessIR& fx : l.effects)
      if (auto e = process_error("lifecycle " + l.name + " effects", fx); !e.empty()) return e;
  for (const RuleIR& r : p.rules)
    if (auto e = process_error("rule", r.actions); !e.empty()) return e;
  return "";
}

}  // namespace orgos::ir
