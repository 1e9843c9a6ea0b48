// Step graphs and the other executable descriptions. Blocks are lowered back to front, so every step
// is built knowing where control goes next: structured control flow (if, switch, parallel, for each)
// becomes explicit successor lists, and the runtime walks them without knowing the source syntax.
#include <functional>
#include <map>

#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "compiler/ir/pattern_split.h"

namespace orgos::ir {

namespace {

using sema::Binding;

// The source's kinds as the program's: spelled out (not cast) so that reordering either enum cannot
// silently change what a bundle means.
Quorum quorum_of(ast::QuorumKind k) {
  switch (k) {
    case ast::QuorumKind::All:
      return Quorum::All;
    case ast::QuorumKind::Majority:
      return Quorum::Majority;
    case ast::QuorumKind::Unanimous:
      return Quorum::Unanimous;
    case ast::QuorumKind::Count:
      return Quorum::Count;
    case ast::QuorumKind::Percent:
      return Quorum::Percent;
  }
  return Quorum::All;
}

PatternKind pattern_kind_of(ast::PatternKind k) {
  switch (k) {
    case ast::PatternKind::Fact:
      return PatternKind::Fact;
    case ast::PatternKind::Not:
      return PatternKind::Not;
    case ast::PatternKind::Exists:
      return PatternKind::Exists;
    case ast::PatternKind::Accumulate:
      return PatternKind::Accumulate;
  }
  return PatternKind::Fact;
}

// A metric's comparison (the checker admits only ==, !=, <, <=, >, >= there; lowering maps the rest to ==
// as comparison_op does).
Comparison comparison_of(ast::BinaryOp op) {
  switch (comparison_op(op)) {
    case Op::Ne:
      return Comparison::Ne;
    case Op::Lt:
      return Comparison::Lt;
    case Op::Le:
      return Comparison::Le;
    case Op::Gt:
      return Comparison::Gt;
    case Op::Ge:
      return Comparison::Ge;
    default:
      return Comparison::Eq;
  }
}

class ProgramLowerer {
 public:
  ProgramLowerer(const driver::Compilation& c, Lowered& out)
      : c_(c), p_(*c.program), out_(out), prog_(out.program) {
    for (const auto& b : p_.bindings) binding_at_.insert({{b->span.file, b->span.begin}, b.get()});
  }

  void run() {
    for (const auto& f : c_.files)
      for (const auto& d : f.module->decls) lower(d.get());
  }

 private:
  void lower(const ast::Decl* d) {
    switch (d->kind) {
      case ast::DeclKind::Process:
        prog_.processes.push_back(process(ast::as<ast::ProcessDecl>(d)));
        break;
      case ast::DeclKind::Lifecycle:
        prog_.lifecycles.push_back(lifecycle(ast::as<ast::LifecycleDecl>(d)));
        break;
      case ast::DeclKind::Rule:
        prog_.rules.push_back(rule(ast::as<ast::RuleDecl>(d)));
        break;
      case ast::DeclKind::Policy: {
        auto* pd = ast::as<ast::PolicyDecl>(d);
        PolicyIR p{pd->name.text, pd->forbid, pd->action.text, resource_name(pd->resource),
                   fn(out_.policy_of, d)};
        prog_.policies.push_back(std::move(p));
        break;
      }
      case ast::DeclKind::Role: {
        auto* rd = ast::as<ast::RoleDecl>(d);
        RoleIR r;
        r.name = rd->name.text;
        r.scoped = !rd->scope.empty();
        for (auto& e : rd->extends) r.extends.push_back(e.parts.back().text);
        for (auto& g : rd->grants)
          r.grants.push_back(
              {g.action.text, resource_name(g.resource), g.where ? expr_fn(g.where.get()) : kNone});
        prog_.roles.push_back(std::move(r));
        break;
      }
      case ast::DeclKind::Org:
        prog_.orgs.push_back(org(ast::as<ast::OrgDecl>(d)));
        break;
      case ast::DeclKind::Metric: {
        auto* md = ast::as<ast::MetricDecl>(d);
        MetricIR m;
        m.name = md->name.text;
        m.formula = fn(out_.function_of, d);
        m.window = md->window ? expr_fn(md->window.get()) : kNone;
        m.target = md->target ? expr_fn(md->target.get()) : kNone;
        m.warn = md->warn ? expr_fn(md->warn.get()) : kNone;
        m.alert = md->alert ? expr_fn(md->alert.get()) : kNone;
        m.target_op = comparison_of(md->target_op);
        m.warn_op = comparison_of(md->warn_op);
        m.alert_op = comparison_of(md->alert_op);
        m.alert_event = md->alert_event.str();
        prog_.metrics.push_back(std::move(m));
        break;
      }
      case ast::DeclKind::Connector: {
        auto* cd = ast::as<ast::ConnectorDecl>(d);
        for (auto& op : cd->ops) {
          ConnectorOpIR o;
          o.connector = cd->name.text;
          o.op = op.name.text;
          for (auto& prm : op.params) o.params.push_back(prm.name.text);
          prog_.connector_ops.push_back(std::move(o));
        }
        break;
      }
      case ast::DeclKind::Event:
        prog_.events.push_back(d->name.text);
        prog_.event_layouts.push_back(layout(d));
        break;
      case ast::DeclKind::Record: {
        prog_.record_layouts.push_back(layout(d));
        auto it = out_.checks_of.find(d);
        prog_.record_checks.push_back(it == out_.checks_of.end() ? std::vector<uint32_t>{} : it->second);
        break;
      }
      case ast::DeclKind::Template:
        for (const auto& inner : ast::as<ast::TemplateDecl>(d)->decls) lower(inner.get());
        break;
      default:
        break;
    }
  }

  template <typename Map, typename Key>
  static uint32_t fn(const Map& m, const Key& k) {
    auto it = m.find(k);
    return it == m.end() ? kNone : it->second;
  }
  uint32_t expr_fn(const ast::Expr* e) const { return e ? fn(out_.expr_function, e) : kNone; }
  uint32_t layout(const ast::Decl* d) const { return d ? fn(out_.layout_of, d) : kNone; }
  const ast::Decl* resolved(const ast::QualifiedName& q) const {
    auto it = p_.names.find(&q);
    return it == p_.names.end() ? nullptr : it->second;
  }
  // The resource a grant or policy names, as the engine compares it with what is acted on: an event by its
  // whole dotted name (`may read order.placed`; its last part alone, `placed`, matched no event), anything
  // else by the last part of the name.
  std::string resource_name(const ast::QualifiedName& q) const {
    if (q.empty()) return "";
    if (const ast::Decl* d = resolved(q); d && d->kind == ast::DeclKind::Event) return d->name.text;
    return q.parts.back().text;
  }
  // A name can be bound more than once at one place: `signal P where …` binds P's parameters again for its
  // condition. The binding that lives in a process frame is the one a step's slot refers to.
  uint32_t slot_of(const ast::Name& n) const {
    auto [lo, hi] = binding_at_.equal_range({n.span.file, n.span.begin});
    for (auto it = lo; it != hi; ++it)
      if (auto f = out_.frame_slot.find(it->second); f != out_.frame_slot.end()) return f->second;
    return kNone;
  }
  uint32_t field_slot(uint32_t layout_id, const std::string& field) const {
    if (layout_id >= out_.module.layouts.size()) return kNone;
    const auto& fs = out_.module.layouts[layout_id].fields;
    for (size_t i = 0; i < fs.size(); ++i)
      if (fs[i] == field) return static_cast<uint32_t>(i);
    return kNone;
  }

  // ---- steps

  uint32_t add(ProcessIR& p, Step s) {
    p.steps.push_back(std::move(s));
    return static_cast<uint32_t>(p.steps.size() - 1);
  }

  uint32_t block(ProcessIR& p, const ast::Block& b, uint32_t exit) {
    uint32_t next = exit;
    for (auto it = b.rbegin(); it != b.rend(); ++it) next = stmt(p, it->get(), next);
    return next;
  }

  // A terminal End step: finishing a block that has nowhere else to go (process body, compensation).
  uint32_t end(ProcessIR& p) { return add(p, Step{}); }

  std::vector<FieldValue> fields(const std::vector<ast::FieldInit>& inits, uint32_t layout_id) {
    std::vector<FieldValue> out;
    for (const auto& f : inits) out.push_back({field_slot(layout_id, f.field.text), expr_fn(f.value.get())});
    return out;
  }

  uint32_t stmt(ProcessIR& p, const ast::Stmt* s, uint32_t next) {
    using ast::StmtKind;
    Step st;
    st.span = s->span;
    st.next = {next};
    if (!s->compensation.empty()) st.compensation = block(p, s->compensation, end(p));
    switch (s->kind) {
      case StmtKind::Task:
      case StmtKind::Approval: {
        bool task = s->kind == StmtKind::Task;
        const ast::Assignee& a =
            task ? ast::as<ast::TaskStmt>(s)->assignee : ast::as<ast::ApprovalStmt>(s)->assignee;
        const auto& esc =
            task ? ast::as<ast::TaskStmt>(s)->escalate : ast::as<ast::ApprovalStmt>(s)->escalate;
        st.kind = task ? StepKind::Task : StepKind::Approval;
        st.role = a.role.empty() ? "" : a.role.parts.back().text;
        st.scope = expr_fn(a.scope.get());
        if (esc) {
          st.escalate_role = esc->role.empty() ? "" : esc->role.parts.back().text;
          st.escalate_scope = expr_fn(esc->scope.get());
        }
        if (task) {
          auto* t = ast::as<ast::TaskStmt>(s);
          st.name = t->name.text;
          st.within = expr_fn(t->within.get());
          for (auto& o : t->outcomes) st.outcomes.push_back(o.text);
          if (st.outcomes.empty()) st.outcomes.push_back("done");
          st.bind_slot = slot_of(t->name);
          if (t->has_on_timeout) st.on_timeout = block(p, t->on_timeout, next);
        } else {
          auto* ap = ast::as<ast::ApprovalStmt>(s);
          st.name = ap->name.empty() ? "approval by " + st.role : ap->name.text;
          st.within = expr_fn(ap->within.get());
          st.quorum_kind = quorum_of(ap->quorum.kind);
          st.quorum_n = ap->quorum.n;
          st.quorum_of = ap->quorum.of;
          if (!ap->name.empty()) st.bind_slot = slot_of(ap->name);
          if (ap->has_on_timeout) st.on_timeout = block(p, ap->on_timeout, next);
        }
        break;
      }
      case StmtKind::Emit:
      case StmtKind::Create:
      case StmtKind::Insert:
      case StmtKind::Derive: {
        auto* c = ast::as<ast::ConstructStmt>(s);
        st.kind = s->kind == StmtKind::Emit     ? StepKind::Emit
                  : s->kind == StmtKind::Create ? StepKind::Create
                  : s->kind == StmtKind::Insert ? StepKind::Insert
                                                : StepKind::Derive;
        const ast::Decl* d = resolved(c->type);
        st.name = d ? d->name.text : c->type.str();
        st.layout = layout(d);
        st.fields = fields(c->fields, st.layout);
        if (!c->bind.empty()) st.bind_slot = slot_of(c->bind);
        break;
      }
      case StmtKind::Update:
      case StmtKind::Modify: {
        auto* u = ast::as<ast::UpdateStmt>(s);
        st.kind = s->kind == StmtKind::Update ? StepKind::Update : StepKind::Modify;
        st.value = expr_fn(u->target.get());
        auto t = p_.expr_types.find(u->target.get());
        uint32_t lid =
            t != p_.expr_types.end() && t->second && t->second->decl ? layout(t->second->decl) : kNone;
        st.layout = lid;
        st.fields = fields(u->fields, lid);
        break;
      }
      case StmtKind::Set: {
        auto* se = ast::as<ast::SetStmt>(s);
        st.kind = StepKind::Set;
        st.value = expr_fn(se->value.get());
        if (auto* fe = ast::dyn<ast::FieldExpr>(se->target.get())) {
          st.set_target = expr_fn(fe->object.get());
          auto t = p_.expr_types.find(fe->object.get());
          const sema::Type* ty = t == p_.expr_types.end() ? nullptr : t->second;
          if (ty && ty->kind == sema::TypeKind::Optional) ty = ty->elem;
          st.set_slot = ty && ty->decl ? field_slot(layout(ty->decl), fe->field.text) : kNone;
        } else if (auto* ne = ast::dyn<ast::NameExpr>(se->target.get())) {
          auto b = p_.expr_bindings.find(ne);
          st.set_slot = b == p_.expr_bindings.end() ? kNone : fn(out_.frame_slot, b->second);
        }
        break;
      }
      case StmtKind::Call:
      case StmtKind::Run:
      case StmtKind::Start: {
        auto* c = ast::as<ast::CallStmt>(s);
        const ast::Decl* d = resolved(c->callee);
        st.name = c->callee.str();
        if (d && d->kind == ast::DeclKind::Process) {
          st.kind = s->kind == StmtKind::Start ? StepKind::Start : StepKind::Run;
          st.name = d->name.text;
          st.layout = layout(d);
        } else {
          st.kind = StepKind::Call;
          if (d) st.name = d->name.text + "." + c->callee.parts.back().text;
        }
        // Arguments in parameter order (named ones placed by name).
        std::vector<std::string> params;
        if (d && d->kind == ast::DeclKind::Process)
          for (auto& prm : ast::as<ast::ProcessDecl>(d)->params) params.push_back(prm.name.text);
        if (d && d->kind == ast::DeclKind::Connector)
          for (auto& op : ast::as<ast::ConnectorDecl>(d)->ops)
            if (op.name.text == c->callee.parts.back().text)
              for (auto& prm : op.params) params.push_back(prm.name.text);
        st.args.assign(params.size(), kNone);
        size_t pos = 0;
        for (auto& a : c->args) {
          size_t idx = pos;
          if (!a.label.empty()) {
            for (size_t i = 0; i < params.size(); ++i)
              if (params[i] == a.label.text) idx = i;
          } else {
            ++pos;
          }
          if (idx < st.args.size()) st.args[idx] = expr_fn(a.value.get());
        }
        if (!c->bind.empty()) st.bind_slot = slot_of(c->bind);
        break;
      }
      case StmtKind::Notify: {
        auto* n = ast::as<ast::NotifyStmt>(s);
        st.kind = StepKind::Notify;
        st.scope = expr_fn(n->who.get());
        st.value = expr_fn(n->message.get());
        break;
      }
      case StmtKind::WaitEvent: {
        auto* w = ast::as<ast::WaitEventStmt>(s);
        st.kind = StepKind::WaitEvent;
        const ast::Decl* d = resolved(w->event);
        st.name = d ? d->name.text : w->event.str();
        st.layout = layout(d);
        st.where = expr_fn(w->where.get());
        st.within = expr_fn(w->within.get());
        if (!w->bind.empty()) st.bind_slot = slot_of(w->bind);
        if (w->has_on_timeout) st.on_timeout = block(p, w->on_timeout, next);
        break;
      }
      case StmtKind::WaitUntil:
      case StmtKind::WaitTimer:
        st.kind = s->kind == StmtKind::WaitUntil ? StepKind::WaitUntil : StepKind::WaitTimer;
        st.value = expr_fn(ast::as<ast::WaitTimeStmt>(s)->time.get());
        break;
      case StmtKind::If: {
        auto* i = ast::as<ast::IfStmt>(s);
        st.kind = StepKind::Branch;
        st.value = expr_fn(i->cond.get());
        st.next = {block(p, i->then_block, next), i->has_else ? block(p, i->else_block, next) : next};
        break;
      }
      case StmtKind::Switch: {
        auto* sw = ast::as<ast::SwitchStmt>(s);
        st.kind = StepKind::Switch;
        st.value = expr_fn(sw->subject.get());
        st.next.clear();
        for (size_t k = 0; k < sw->cases.size(); ++k) {
          st.next.push_back(block(p, sw->cases[k].body, next));
          for (auto& v : sw->cases[k].values) {
            st.cases.push_back(expr_fn(v.get()));
            st.case_target.push_back(static_cast<uint32_t>(k));
          }
        }
        st.next.push_back(sw->has_else ? block(p, sw->else_block, next) : next);
        break;
      }
      case StmtKind::Parallel: {
        auto* par = ast::as<ast::ParallelStmt>(s);
        Step join;
        join.kind = StepKind::Join;
        join.span = s->span;
        join.next = {next};
        join.join_count = par->join == ast::JoinKind::All   ? 0
                          : par->join == ast::JoinKind::Any ? 1
                                                            : static_cast<uint32_t>(par->join_count);
        uint32_t j = add(p, std::move(join));
        st.kind = StepKind::Fork;
        st.join = j;
        st.next.clear();
        for (auto& br : par->branches) st.next.push_back(block(p, br.body, j));
        break;
      }
      case StmtKind::ForEach: {
        auto* f = ast::as<ast::ForEachStmt>(s);
        // The head is created first so the body can loop back to it.
        Step head;
        head.kind = StepKind::ForEach;
        head.span = s->span;
        uint32_t h = add(p, std::move(head));
        uint32_t body = block(p, f->body, h);
        Step& hs = p.steps[h];
        hs.value = expr_fn(f->source.get());
        hs.bind_slot = slot_of(f->var);
        hs.max_items = f->max > 0 ? f->max : 0;
        hs.parallel = f->parallel;
        hs.next = {body, next};
        hs.compensation = st.compensation;
        return h;
      }
      case StmtKind::Let: {
        auto* l = ast::as<ast::LetStmt>(s);
        st.kind = StepKind::Let;
        st.value = expr_fn(l->value.get());
        st.bind_slot = slot_of(l->name);
        break;
      }
      case StmtKind::Fail:
        st.kind = StepKind::Fail;
        st.value = expr_fn(ast::as<ast::SimpleStmt>(s)->value.get());
        st.next.clear();
        break;
      case StmtKind::Complete:
        st.kind = StepKind::Complete;
        st.next.clear();
        break;
      case StmtKind::Retract:
        st.kind = StepKind::Retract;
        st.value = expr_fn(ast::as<ast::SimpleStmt>(s)->value.get());
        break;
      case StmtKind::Signal: {
        auto* sg = ast::as<ast::SignalStmt>(s);
        st.kind = StepKind::Signal;
        const ast::Decl* target = resolved(sg->process);
        st.name = target ? target->name.text : sg->process.str();
        const ast::Decl* ev = resolved(sg->event);
        st.role = ev ? ev->name.text : sg->event.str();  // the event sent
        st.layout = layout(ev);
        st.where = expr_fn(sg->where.get());
        st.fields = fields(sg->fields, st.layout);
        break;
      }
    }
    return add(p, std::move(st));
  }

  ProcessIR process(const ast::ProcessDecl* d) {
    ProcessIR p;
    p.name = d->name.text;
    p.span = d->span;
    p.frame_layout = fn(out_.frame_of, d);
    p.instance_layout = layout(d);
    for (auto& prm : d->params) p.param_slots.push_back(slot_of(prm.name));
    p.timeout = expr_fn(d->timeout.get());
    for (const auto& b : p_.bindings)
      if (b->owner == d && b->kind == sema::BindingKind::Error) p.error_slot = fn(out_.frame_slot, b.get());
    p.start = block(p, d->body, end(p));
    if (d->has_on_failure) p.on_failure = block(p, d->on_failure, end(p));
    if (d->has_on_timeout) p.on_timeout = block(p, d->on_timeout, end(p));
    return p;
  }

  LifecycleIR lifecycle(const ast::LifecycleDecl* d) {
    LifecycleIR l;
    l.name = d->name.text;
    l.of_org = d->of_org;
    if (!d->of_org) l.subject_layout = layout(resolved(d->subject));
    l.initial = d->initial.text;
    for (auto& s : d->states) l.states.push_back(s.text);
    for (auto& s : d->finals) l.finals.push_back(s.text);
    for (auto& t : d->transitions) {
      TransitionIR tr;
      tr.name = t.name.text;
      for (auto& f : t.from) tr.from.push_back(f.text);
      tr.to = t.to.text;
      tr.guard = fn(out_.guard_of, &t);
      if (!t.effects.empty()) {
        ProcessIR e;
        e.name = d->name.text + "." + t.name.text;
        e.start = block(e, t.effects, end(e));
        tr.effects = static_cast<uint32_t>(l.effects.size());
        l.effects.push_back(std::move(e));
      }
      l.transitions.push_back(std::move(tr));
    }
    return l;
  }

  RuleIR rule(const ast::RuleDecl* d) {
    RuleIR r;
    r.name = d->name.text;
    r.salience = d->salience;
    for (auto& pat : d->patterns) {
      PatternIR pi;
      pi.kind = pattern_kind_of(pat.kind);
      const ast::Decl* t = pat.kind == ast::PatternKind::Accumulate ? nullptr : resolved(pat.type);
      pi.layout = layout(t);
      pi.is_event = t && t->kind == ast::DeclKind::Event;
      pi.condition = fn(out_.pattern_of, &pat);
      if (pi.condition != kNone) {
        bool acc = pat.kind == ast::PatternKind::Accumulate;
        split_pattern(
            out_.module, pi,
            acc ? kNone : static_cast<uint32_t>(out_.module.functions[pi.condition].params.size() - 1));
      }
      r.patterns.push_back(pi);
    }
    r.actions.name = d->name.text;
    r.actions.start = block(r.actions, d->actions, end(r.actions));
    return r;
  }

  OrgIR org(const ast::OrgDecl* d) {
    OrgIR o;
    o.name = d->name.text;
    o.purpose = d->purpose.text;
    o.legal_form = d->legal_form.text;
    o.jurisdiction = d->jurisdiction;
    o.currency = d->currency.text;
    o.lifecycle = d->lifecycle.str();
    std::function<void(const ast::UnitDecl&, const std::string&)> walk = [&](const ast::UnitDecl& u,
                                                                             const std::string& parent) {
      o.units.push_back({u.name.text, u.kind.text, parent});
      for (auto& ch : u.children) walk(ch, u.name.text);
    };
    for (auto& u : d->units) walk(u, "");
    for (auto& pos : d->positions)
      o.positions.push_back(
          {pos.name.text, pos.role.empty() ? "" : pos.role.parts.back().text, pos.unit.str(), pos.holders});
    return o;
  }

  const driver::Compilation& c_;
  const sema::Program& p_;
  Lowered& out_;
  Program& prog_;
  std::multimap<std::pair<source::FileId, uint32_t>, const Binding*> binding_at_;
};

}  // namespace

const char* step_kind_name(StepKind k) {
  static const char* names[] = {"task",   "approval", "emit",   "create",   "update",     "set",  "call",
                                "run",    "start",    "notify", "wait for", "wait until", "wait", "if",
                                "switch", "parallel", "join",   "for each", "let",        "fail", "complete",
                                "insert", "derive",   "modify", "retract",  "signal",     "end"};
  return names[static_cast<size_t>(k)];
}

const char* quorum_name(Quorum q) {
  switch (q) {
    case Quorum::All:
      return "all";
    case Quorum::Majority:
      return "majority";
    case Quorum::Unanimous:
      return "unanimous";
    case Quorum::Count:
      return "count";
    case Quorum::Percent:
      return "percent";
  }
  return "?";  // not reached: the bundle reader refuses any other value
}

const char* pattern_kind_name(PatternKind k) {
  switch (k) {
    case PatternKind::Fact:
      return "fact";
    case PatternKind::Not:
      return "not";
    case PatternKind::Exists:
      return "exists";
    case PatternKind::Accumulate:
      return "accumulate";
  }
  return "?";  // not reached: the bundle reader refuses any other value
}

void lower_program(const driver::Compilation& c, Lowered& out) {
  ProgramLowerer(c, out).run();
}

}  // namespace orgos::ir
