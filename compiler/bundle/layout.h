// The serialized layout of every struct in a bundle's IR and program sections: one `fields(v, x)` per
// struct, in the order of the bytes, walked by the Writer, the Reader and the Validator (codec.h). A new
// field of an IR struct goes here once, with what it points at (Ref), and is then written, read and
// checked; changing the order or the set of fields changes the bytes, so it needs a new kFormatVersion
// (bundle.h).
#pragma once
#include "compiler/bundle/codec.h"

namespace orgos::bundle::codec {

// The header, after the magic number and the format version: what the bundle was made from, for which
// host, by which orgctl, and the source files by id.
template <typename V>
void header(V& v, std::string& source_hash, std::string& host, std::string& compiler,
            std::vector<std::string>& files) {
  v.str("source_hash", source_hash);
  v.str("host", host);
  v.str("compiler", compiler);
  list(v, "files", files, [&](std::string& f) { v.str("files", f); });
}

template <typename V>
void fields(V& v, source::Span& s) {
  v.file("file", s.file);
  v.u32("begin", s.begin);
  v.u32("end", s.end);
  v.u32("line", s.line);
  v.u32("col", s.col);
}

template <typename V>
void fields(V& v, ir::IType& t) {
  auto at = v.in("a type");
  auto deeper = v.nest(Nesting::Type);
  v.choice("kind", t.kind, ir::Kind::None);
  v.flag("optional", t.optional);
  v.u32("id", t.id);
  v.u32("currency", t.currency);
  if (v.present("elem", t.elem != nullptr)) {
    if constexpr (V::kReads) {
      auto elem = std::make_shared<ir::IType>();
      fields(v, *elem);
      t.elem = std::move(elem);
    } else {
      fields(v, const_cast<ir::IType&>(*t.elem));  // the Writer and the Validator only look
    }
  }
}

template <typename V>
void fields(V& v, ir::NodePtr& n);

template <typename V>
void fields(V& v, ir::Node& n) {
  auto at = v.in("an expression");
  v.choice("op", n.op, ir::Op::CallTable);
  fields(v, n.type);
  v.u32("index", n.index,
        n.op == ir::Op::CallFn      ? Ref::Callee
        : n.op == ir::Op::CallTable ? Ref::Table
                                    : Ref::None);
  v.choice("agg", n.agg, ir::AggKind::List);
  v.choice("fn", n.fn, ir::BuiltinFn::DurSeconds);
  if (n.op == ir::Op::Const) v.constant("value", n);
  fields(v, n.span);
  list(v, "kids", n.kids, [&](ir::NodePtr& k) { fields(v, k); });
}

// An expression that may be absent: a presence byte, then the node.
template <typename V>
void fields(V& v, ir::NodePtr& n) {
  if (!v.present("expression", n != nullptr)) return;
  auto deeper = v.nest(Nesting::Node);
  if constexpr (V::kReads) n = std::make_unique<ir::Node>();
  fields(v, *n);
}

template <typename V>
void fields(V& v, ir::RecordLayout& l) {
  auto at = v.in("a record layout");
  v.str("name", l.name);
  zip(v, "fields", l.fields, l.types, [&](std::string& name, ir::IType& type) {
    v.str("fields", name);
    fields(v, type);
  });
  list(v, "defaults", l.defaults, [&](uint32_t& f) { v.index("defaults", f, Ref::Function); });
}

template <typename V>
void fields(V& v, ir::EnumInfo& e) {
  auto at = v.in("an enum");
  v.str("name", e.name);
  list(v, "values", e.values, [&](std::string& s) { v.str("values", s); });
}

template <typename V>
void fields(V& v, ir::Function& f) {
  auto at = v.in("a function");
  v.str("name", f.name);
  v.choice("kind", f.kind, ir::FunctionKind::Expr);
  zip(v, "params", f.params, f.param_names, [&](ir::IType& type, std::string& name) {
    fields(v, type);
    v.str("param_names", name);
  });
  fields(v, f.result);
  v.u32("nlocals", f.nlocals);
  v.str("message", f.message);
  fields(v, f.span);
  fields(v, f.body);
  v.check(f.body != nullptr, "a function has no body");
}

template <typename V>
void fields(V& v, ir::TableRow& r) {
  auto at = v.in("a table row");
  fields(v, r.condition);
  list(v, "outputs", r.outputs, [&](ir::NodePtr& o) { fields(v, o); });
  fields(v, r.span);
}

template <typename V>
void fields(V& v, ir::Table& t) {
  auto at = v.in("a decision table");
  v.str("name", t.name);
  v.choice("hit", t.hit, ir::HitPolicy::Collect);
  v.choice("collect", t.collect, ir::CollectAgg::Max);
  list(v, "inputs", t.inputs, [&](ir::IType& x) { fields(v, x); });
  list(v, "outputs", t.outputs, [&](ir::IType& x) { fields(v, x); });
  v.u32("result_layout", t.result_layout);
  fields(v, t.result);
  fields(v, t.span);
  list(v, "rows", t.rows, [&](ir::TableRow& r) { fields(v, r); });
}

// The IR section.
template <typename V>
void fields(V& v, ir::Module& m) {
  auto at = v.in("the IR section");
  list(v, "layouts", m.layouts, [&](ir::RecordLayout& x) { fields(v, x); });
  list(v, "enums", m.enums, [&](ir::EnumInfo& x) { fields(v, x); });
  list(v, "functions", m.functions, [&](ir::Function& x) { fields(v, x); });
  list(v, "tables", m.tables, [&](ir::Table& x) { fields(v, x); });
}

// ---- the program section

template <typename V>
void strs(V& v, const char* name, std::vector<std::string>& xs) {
  list(v, name, xs, [&](std::string& s) { v.str(name, s); });
}

template <typename V>
void fields(V& v, ir::Step& s) {
  auto at = v.in("a step");
  auto targets = v.scope(Ref::Target, s.next.size());
  v.choice("kind", s.kind, ir::StepKind::End);
  v.str("name", s.name);
  v.str("role", s.role);
  v.index("layout", s.layout, Ref::Layout);
  v.index("value", s.value, Ref::Function);
  v.index("scope", s.scope, Ref::Function);
  v.index("within", s.within, Ref::Function);
  v.index("where", s.where, Ref::Function);
  v.index("escalate_scope", s.escalate_scope, Ref::Function);
  v.index("bind_slot", s.bind_slot, Ref::None);
  v.index("set_slot", s.set_slot, Ref::None);
  v.index("set_target", s.set_target, Ref::Function);
  v.index("join", s.join, Ref::Step);
  v.index("on_timeout", s.on_timeout, Ref::Step);
  v.index("compensation", s.compensation, Ref::Step);
  v.str("escalate_role", s.escalate_role);
  list(v, "fields", s.fields, [&](ir::FieldValue& f) {
    v.index("fields.slot", f.slot, Ref::None);
    v.index("fields.function", f.function, Ref::Function);
  });
  list(v, "args", s.args, [&](uint32_t& x) { v.index("args", x, Ref::Function); });
  list(v, "cases", s.cases, [&](uint32_t& x) { v.index("cases", x, Ref::Function); });
  list(v, "case_target", s.case_target, [&](uint32_t& x) { v.u32("case_target", x, Ref::Target); });
  strs(v, "outcomes", s.outcomes);
  v.choice("quorum_kind", s.quorum_kind, ir::Quorum::Percent);
  v.i64("quorum_n", s.quorum_n);
  v.i64("quorum_of", s.quorum_of);
  v.u32("join_count", s.join_count);
  v.i64("max_items", s.max_items);
  v.flag("parallel", s.parallel);
  list(v, "next", s.next, [&](uint32_t& x) { v.index("next", x, Ref::Step); });
  fields(v, s.span);
}

template <typename V>
void fields(V& v, ir::ProcessIR& p) {
  auto at = v.in("a process");
  auto steps = v.scope(Ref::Step, p.steps.size());
  v.str("name", p.name);
  v.index("frame_layout", p.frame_layout, Ref::Layout);
  v.index("instance_layout", p.instance_layout, Ref::Layout);
  list(v, "param_slots", p.param_slots, [&](uint32_t& x) { v.index("param_slots", x, Ref::None); });
  v.index("timeout", p.timeout, Ref::Function);
  v.index("start", p.start, Ref::Step);
  v.index("on_failure", p.on_failure, Ref::Step);
  v.index("on_timeout", p.on_timeout, Ref::Step);
  v.index("error_slot", p.error_slot, Ref::None);
  fields(v, p.span);
  list(v, "steps", p.steps, [&](ir::Step& s) { fields(v, s); });
}

template <typename V>
void fields(V& v, ir::TransitionIR& t) {
  auto at = v.in("a transition");
  v.str("name", t.name);
  strs(v, "from", t.from);
  v.str("to", t.to);
  v.index("guard", t.guard, Ref::Function);
  v.index("effects", t.effects, Ref::Effects);
}

template <typename V>
void fields(V& v, ir::LifecycleIR& l) {
  auto at = v.in("a lifecycle");
  auto effects = v.scope(Ref::Effects, l.effects.size());
  v.str("name", l.name);
  v.flag("of_org", l.of_org);
  v.index("subject_layout", l.subject_layout, Ref::Layout);
  v.str("initial", l.initial);
  strs(v, "states", l.states);
  strs(v, "finals", l.finals);
  list(v, "transitions", l.transitions, [&](ir::TransitionIR& t) { fields(v, t); });
  list(v, "effects", l.effects, [&](ir::ProcessIR& e) { fields(v, e); });
}

template <typename V>
void fields(V& v, ir::PatternIR& p) {
  auto at = v.in("a rule pattern");
  v.choice("kind", p.kind, ir::PatternKind::Accumulate);
  v.index("layout", p.layout, Ref::Layout);
  v.flag("is_event", p.is_event);
  v.index("condition", p.condition, Ref::Function);
  v.index("alpha", p.alpha, Ref::Function);
  v.index("eq_slot", p.eq_slot, Ref::None);
  v.index("eq_value", p.eq_value, Ref::Function);
  list(v, "keys", p.keys, [&](ir::JoinKeyIR& k) {
    v.index("keys.left", k.left, Ref::Function);
    v.index("keys.right", k.right, Ref::Function);
  });
  v.index("beta", p.beta, Ref::Function);
  list(v, "reads", p.reads, [&](uint32_t& x) { v.index("reads", x, Ref::Layout); });
}

template <typename V>
void fields(V& v, ir::RuleIR& r) {
  auto at = v.in("a rule");
  v.str("name", r.name);
  v.i64("salience", r.salience);
  list(v, "patterns", r.patterns, [&](ir::PatternIR& p) { fields(v, p); });
  fields(v, r.actions);
}

template <typename V>
void fields(V& v, ir::PolicyIR& p) {
  auto at = v.in("a policy");
  v.str("name", p.name);
  v.flag("forbid", p.forbid);
  v.str("action", p.action);
  v.str("resource", p.resource);
  v.index("when", p.when, Ref::Function);
}

template <typename V>
void fields(V& v, ir::RoleIR& r) {
  auto at = v.in("a role");
  v.str("name", r.name);
  strs(v, "extends", r.extends);
  v.flag("scoped", r.scoped);
  list(v, "grants", r.grants, [&](ir::GrantIR& g) {
    v.str("grants.action", g.action);
    v.str("grants.resource", g.resource);
    v.index("grants.where", g.where, Ref::Function);
  });
}

template <typename V>
void fields(V& v, ir::OrgIR& o) {
  auto at = v.in("an org");
  v.str("name", o.name);
  v.str("purpose", o.purpose);
  v.str("legal_form", o.legal_form);
  v.str("jurisdiction", o.jurisdiction);
  v.str("currency", o.currency);
  v.str("lifecycle", o.lifecycle);
  list(v, "units", o.units, [&](ir::UnitIR& u) {
    v.str("units.name", u.name);
    v.str("units.kind", u.kind);
    v.str("units.parent", u.parent);
  });
  list(v, "positions", o.positions, [&](ir::PositionIR& p) {
    v.str("positions.name", p.name);
    v.str("positions.role", p.role);
    v.str("positions.unit", p.unit);
    strs(v, "positions.holders", p.holders);
  });
}

template <typename V>
void fields(V& v, ir::MetricIR& m) {
  auto at = v.in("a metric");
  v.str("name", m.name);
  v.index("formula", m.formula, Ref::Function);
  v.index("window", m.window, Ref::Function);
  v.index("target", m.target, Ref::Function);
  v.index("warn", m.warn, Ref::Function);
  v.index("alert", m.alert, Ref::Function);
  v.choice("target_op", m.target_op, ir::Comparison::Ge, ir::Comparison::Eq);
  v.choice("warn_op", m.warn_op, ir::Comparison::Ge, ir::Comparison::Eq);
  v.choice("alert_op", m.alert_op, ir::Comparison::Ge, ir::Comparison::Eq);
  v.str("alert_event", m.alert_event);
}

template <typename V>
void fields(V& v, ir::ConnectorOpIR& c) {
  auto at = v.in("a connector operation");
  v.str("connector", c.connector);
  v.str("op", c.op);
  strs(v, "params", c.params);
  v.index("result_layout", c.result_layout, Ref::Layout);
}

// The program section.
template <typename V>
void fields(V& v, ir::Program& p) {
  auto at = v.in("the program section");
  list(v, "processes", p.processes, [&](ir::ProcessIR& x) { fields(v, x); });
  list(v, "lifecycles", p.lifecycles, [&](ir::LifecycleIR& x) { fields(v, x); });
  list(v, "rules", p.rules, [&](ir::RuleIR& x) { fields(v, x); });
  list(v, "policies", p.policies, [&](ir::PolicyIR& x) { fields(v, x); });
  list(v, "roles", p.roles, [&](ir::RoleIR& x) { fields(v, x); });
  list(v, "orgs", p.orgs, [&](ir::OrgIR& x) { fields(v, x); });
  list(v, "metrics", p.metrics, [&](ir::MetricIR& x) { fields(v, x); });
  list(v, "connector_ops", p.connector_ops, [&](ir::ConnectorOpIR& x) { fields(v, x); });
  strs(v, "events", p.events);
  list(v, "event_layouts", p.event_layouts, [&](uint32_t& x) { v.index("event_layouts", x, Ref::Layout); });
  list(v, "record_layouts", p.record_layouts,
       [&](uint32_t& x) { v.index("record_layouts", x, Ref::Layout); });
  list(v, "record_checks", p.record_checks, [&](std::vector<uint32_t>& fs) {
    list(v, "record_checks", fs, [&](uint32_t& f) { v.u32("record_checks", f, Ref::Function); });
  });
}

// A tripwire for the one edit this file asks for: a serialized struct whose size changes has gained, lost or
// changed a field, which must then be laid out above (kFormatVersion raised, and the field set in the
// round-trip test, tests/exec/bundle_codec_test.cpp). Checked where the sizes are known (x86-64 with
// libstdc++); a field that fits in padding slips through, which the round-trip test's values are for.
#if defined(__x86_64__) && defined(__GLIBCXX__)
#define ORGOS_LAID_OUT(T, size) \
  static_assert(sizeof(T) == (size), #T " changed: lay its fields out in compiler/bundle/layout.h")
ORGOS_LAID_OUT(source::Span, 20);
ORGOS_LAID_OUT(ir::IType, 32);
ORGOS_LAID_OUT(ir::Node, 160);
ORGOS_LAID_OUT(ir::RecordLayout, 104);
ORGOS_LAID_OUT(ir::EnumInfo, 56);
ORGOS_LAID_OUT(ir::Function, 192);
ORGOS_LAID_OUT(ir::TableRow, 56);
ORGOS_LAID_OUT(ir::Table, 176);
ORGOS_LAID_OUT(ir::Module, 120);
ORGOS_LAID_OUT(ir::Step, 376);
ORGOS_LAID_OUT(ir::FieldValue, 8);
ORGOS_LAID_OUT(ir::ProcessIR, 136);
ORGOS_LAID_OUT(ir::TransitionIR, 96);
ORGOS_LAID_OUT(ir::LifecycleIR, 168);
ORGOS_LAID_OUT(ir::JoinKeyIR, 8);
ORGOS_LAID_OUT(ir::PatternIR, 88);
ORGOS_LAID_OUT(ir::RuleIR, 200);
ORGOS_LAID_OUT(ir::PolicyIR, 112);
ORGOS_LAID_OUT(ir::GrantIR, 72);
ORGOS_LAID_OUT(ir::RoleIR, 88);
ORGOS_LAID_OUT(ir::UnitIR, 96);
ORGOS_LAID_OUT(ir::PositionIR, 120);
ORGOS_LAID_OUT(ir::OrgIR, 240);
ORGOS_LAID_OUT(ir::MetricIR, 88);
ORGOS_LAID_OUT(ir::ConnectorOpIR, 96);
ORGOS_LAID_OUT(ir::Program, 288);
#undef ORGOS_LAID_OUT
#endif

}  // namespace orgos::bundle::codec
