#include "compiler/ir/dump.h"

#include "compiler/interp/evaluator.h"

namespace orgos::ir {

std::string dump_node(const Node& n, const Module& m) {
  switch (n.op) {
    case Op::Const:
      return interp::to_string(n.value, &m);
    case Op::Param:
      return "$" + std::to_string(n.index);
    case Op::Local:
      return "%" + std::to_string(n.index);
    case Op::Today:
      return "today";
    case Op::AllOf:
      return "(all " + (n.index < m.layouts.size() ? m.layouts[n.index].name : std::to_string(n.index)) + ")";
    default:
      break;
  }
  std::string s = "(" + std::string(op_name(n.op));
  if (n.op == Op::Field || n.op == Op::OptField) {
    const Node& obj = *n.kids[0];
    uint32_t lid = obj.type.id;
    s += lid < m.layouts.size() && n.index < m.layouts[lid].fields.size()
             ? " ." + m.layouts[lid].fields[n.index]
             : " #" + std::to_string(n.index);
  }
  if (n.op == Op::CallFn && n.index < m.functions.size()) s += " " + m.functions[n.index].name;
  if (n.op == Op::CallTable && n.index < m.tables.size()) s += " " + m.tables[n.index].name;
  if (n.op == Op::Agg) {
    static const char* aggs[] = {"count", "sum", "min", "max", "avg", "all", "any", "list"};
    s += std::string(" ") + aggs[static_cast<int>(n.agg)] + " %" + std::to_string(n.index);
  }
  for (auto& k : n.kids) s += " " + (k ? dump_node(*k, m) : std::string("_"));
  return s + ")";
}

std::string dump_function(const Function& f, const Module& m) {
  std::string s = "fn " + f.name + "(";
  for (size_t i = 0; i < f.params.size(); ++i)
    s += (i ? ", " : "") + std::string(kind_name(f.params[i].kind));
  s += ") -> " + std::string(kind_name(f.result.kind)) + " = ";
  return s + (f.body ? dump_node(*f.body, m) : "?") + "\n";
}

namespace {

// An approval's quorum as the source writes it ("" for the default: one approval).
std::string quorum(const Step& st) {
  switch (st.quorum_kind) {
    case Quorum::All:
      return "";
    case Quorum::Majority:
      return " quorum majority";
    case Quorum::Unanimous:
      return " quorum unanimous";
    case Quorum::Count:
      return " quorum " + std::to_string(st.quorum_n) +
             (st.quorum_of ? " of " + std::to_string(st.quorum_of) : std::string());
    case Quorum::Percent:
      return " quorum " + std::to_string(st.quorum_n) + "%";
  }
  return "";
}

}  // namespace

std::string dump_process(const ProcessIR& p, const Module& m) {
  std::string s = "process " + p.name + " (start " + std::to_string(p.start) + ")\n";
  auto fname = [&](uint32_t f) { return f < m.functions.size() ? m.functions[f].name : std::string("?"); };
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step& st = p.steps[i];
    s += "  " + std::to_string(i) + ": " + step_kind_name(st.kind);
    if (!st.name.empty()) s += " " + st.name;
    if (!st.role.empty()) s += " by " + st.role;
    if (st.kind == StepKind::Approval) s += quorum(st);
    if (st.value != kNone) s += " value=" + fname(st.value);
    if (st.bind_slot != kNone) s += " -> slot " + std::to_string(st.bind_slot);
    if (st.on_timeout != kNone) s += " timeout->" + std::to_string(st.on_timeout);
    if (st.compensation != kNone) s += " compensate->" + std::to_string(st.compensation);
    if (st.join != kNone) s += " join=" + std::to_string(st.join);
    if (st.kind == StepKind::Join && st.join_count != 0) s += " of " + std::to_string(st.join_count);
    if (!st.next.empty()) {
      s += " next";
      for (auto n : st.next) s += " " + (n == kNone ? std::string("-") : std::to_string(n));
    }
    s += "\n";
  }
  return s;
}

std::string dump(const Module& m, const Program& p) {
  std::string s;
  for (auto& f : m.functions) s += dump_function(f, m);
  for (auto& pr : p.processes) s += dump_process(pr, m);
  for (auto& r : p.rules) {
    s += "rule " + r.name + ": " + std::to_string(r.patterns.size()) + " patterns";
    for (size_t i = 0; i < r.patterns.size(); ++i) {
      const PatternIR& pt = r.patterns[i];
      s += std::string(i ? ", " : " (") + pattern_kind_name(pt.kind);
      if (pt.layout < m.layouts.size()) s += " " + m.layouts[pt.layout].name;
      if (i + 1 == r.patterns.size()) s += ")";
    }
    s += "\n" + dump_process(r.actions, m);
  }
  return s;
}

}  // namespace orgos::ir
