// Type checking of process steps (also used by rule actions and lifecycle effects): what each step
// refers to exists and has the right kind, field values fit, and each step is allowed where it stands.
#include "compiler/driver/compilation.h"
#include "compiler/sema/type_checker.h"

namespace orgos::sema {

using namespace ast;

void TypeChecker::block(const Block& b) {
  push();
  for (const StmtPtr& s : b) stmt(s.get());
  pop();
}

bool TypeChecker::allowed(const Stmt* s) {
  bool human_or_wait = s->kind == StmtKind::Task || s->kind == StmtKind::Approval ||
                       s->kind == StmtKind::WaitEvent || s->kind == StmtKind::WaitTimer ||
                       s->kind == StmtKind::WaitUntil || s->kind == StmtKind::Parallel ||
                       s->kind == StmtKind::Run || s->kind == StmtKind::Complete || s->kind == StmtKind::Fail;
  bool working_memory = s->kind == StmtKind::Insert || s->kind == StmtKind::Derive ||
                        s->kind == StmtKind::Modify || s->kind == StmtKind::Retract;
  if ((ctx_ == Context::Rule || ctx_ == Context::Lifecycle) && human_or_wait) {
    report(diag::Code::E0402, s->span,
           std::string("`") + keyword(s->kind) + "` cannot be used in a " +
               (ctx_ == Context::Rule ? "rule's actions" : "lifecycle transition"))
        .with_hint("put it in a process and `start` that process from here");
    return false;
  }
  if (ctx_ != Context::Rule && working_memory) {
    report(diag::Code::E0402, s->span,
           std::string("`") + keyword(s->kind) + "` is only allowed in a rule's actions")
        .with_hint(s->kind == StmtKind::Modify ? "use `update` to change a record from a process"
                                               : "use `create` to make a record from a process");
    return false;
  }
  return true;
}

void TypeChecker::assignee(const Assignee& a) {
  const Decl* d = lookup_kind(a.role, DeclKind::Role, "role");
  if (!d) {
    if (a.scope) expr(a.scope.get());
    return;
  }
  auto* r = as<RoleDecl>(d);
  if (a.scope) {
    const Type* t = need_value(a.scope.get(), expr(a.scope.get()));
    if (r->scope.empty()) {
      report(diag::Code::E0401, a.scope->span,
             "role `" + r->name.text + "` is not held per unit, so `of` has no meaning")
          .note(r->name.span, "declared here without `scope unit`")
          .with_hint("add `scope unit` to the role, or drop `of …`");
    } else {
      expect(a.scope.get(), t, types_.unit(), "the scope of `" + r->name.text + "`");
    }
  }
}

void TypeChecker::field_inits(const std::vector<FieldInit>& inits, const std::vector<FieldDecl>& decl_fields,
                              const std::string& what, source::Span where, bool require_all) {
  std::set<std::string> given;
  for (const FieldInit& fi : inits) {
    if (!given.insert(fi.field.text).second) {
      report(diag::Code::E0201, fi.field.span, "field `" + fi.field.text + "` is given twice");
      expr(fi.value.get());
      continue;
    }
    const FieldDecl* fd = nullptr;
    std::vector<std::string> names;
    for (const FieldDecl& f : decl_fields) {
      names.push_back(f.name.text);
      if (f.name.text == fi.field.text) fd = &f;
    }
    if (!fd) {
      auto& d = report(diag::Code::E0203, fi.field.span, what + " has no field `" + fi.field.text + "`");
      std::string near = closest(fi.field.text, names);
      if (!near.empty()) d.with_hint("did you mean `" + near + "`?");
      expr(fi.value.get());
      continue;
    }
    const Type* want = type_of(fd->type);
    expect(fi.value.get(), expr(fi.value.get(), want), want, "field `" + fi.field.text + "`");
  }
  if (!require_all) return;
  std::string missing;
  for (const FieldDecl& f : decl_fields)
    if (!given.count(f.name.text) && !f.default_value && !f.type.optional)
      missing += (missing.empty() ? "`" : ", `") + f.name.text + "`";
  if (!missing.empty())
    report(diag::Code::E0307, where, what + " needs a value for " + missing)
        .with_hint("give every field without a default (optional fields may be left out)");
}

void TypeChecker::args(const std::vector<Arg>& as, const std::vector<Param>& ps, const std::string& callee,
                       source::Span where) {
  std::vector<bool> given(ps.size(), false);
  size_t pos = 0;
  bool labelled = false;
  for (const Arg& a : as) {
    size_t idx = ps.size();
    if (!a.label.empty()) {
      labelled = true;
      for (size_t i = 0; i < ps.size(); ++i)
        if (ps[i].name.text == a.label.text) idx = i;
      if (idx == ps.size()) {
        std::vector<std::string> names;
        for (auto& p : ps) names.push_back(p.name.text);
        auto& d = report(diag::Code::E0303, a.label.span,
                         "`" + callee + "` has no parameter `" + a.label.text + "`");
        std::string near = closest(a.label.text, names);
        if (!near.empty()) d.with_hint("did you mean `" + near + "`?");
        expr(a.value.get());
        continue;
      }
    } else {
      if (labelled) {
        report(diag::Code::E0303, a.value->span, "a positional argument cannot follow named ones")
            .with_hint("name this argument too");
        expr(a.value.get());
        continue;
      }
      idx = pos++;
      if (idx >= ps.size()) {
        report(diag::Code::E0303, a.value->span,
               "`" + callee + "` takes " + std::to_string(ps.size()) + " argument" +
                   (ps.size() == 1 ? "" : "s"));
        expr(a.value.get());
        continue;
      }
    }
    if (given[idx])
      report(diag::Code::E0303, a.value->span, "parameter `" + ps[idx].name.text + "` is given twice");
    given[idx] = true;
    const Type* want = type_of(ps[idx].type);
    expect(a.value.get(), expr(a.value.get(), want), want, "argument `" + ps[idx].name.text + "`");
  }
  for (size_t i = 0; i < ps.size(); ++i)
    if (!given[i] && !ps[i].default_value && !ps[i].type.optional)
      report(diag::Code::E0303, where,
             "`" + callee + "` needs a value for parameter `" + ps[i].name.text + "`");
}

void TypeChecker::construct(const ConstructStmt* s) {
  bool is_event = s->kind == StmtKind::Emit;
  const Decl* d =
      lookup_kind(s->type, is_event ? DeclKind::Event : DeclKind::Record, is_event ? "event" : "record");
  if (!d) {
    for (auto& f : s->fields) expr(f.value.get());
    return;
  }
  const auto& fs = is_event ? as<EventDecl>(d)->fields : as<RecordDecl>(d)->fields;
  field_inits(s->fields, fs, std::string(is_event ? "event `" : "record `") + d->name.text + "`", s->span,
              true);
  if (!s->bind.empty()) {
    Local l;
    l.type = type_of_decl(d);
    l.span = s->bind.span;
    l.kind = BindingKind::Bound;
    bind(s->bind, l);
  }
}

void TypeChecker::call(const CallStmt* s) {
  const Decl* d = lookup(s->callee);
  std::string name = s->callee.str();
  const ConnectorOp* op = nullptr;
  // connector.op: the connector is the path without its last part.
  if (!d && s->callee.parts.size() >= 2) {
    QualifiedName conn = s->callee;
    conn.parts.pop_back();
    if (const Decl* c = sym_.lookup(file_, conn); c && c->kind == DeclKind::Connector) {
      sym_.use(c);
      prog_.names[&s->callee] = c;  // the step names connector.op: remember the connector
      for (const ConnectorOp& o : as<ConnectorDecl>(c)->ops)
        if (o.name.text == s->callee.parts.back().text) op = &o;
      if (!op) {
        std::vector<std::string> names;
        for (auto& o : as<ConnectorDecl>(c)->ops) names.push_back(o.name.text);
        auto& diag =
            report(diag::Code::E0203, s->callee.parts.back().span,
                   "connector `" + c->name.text + "` has no operation `" + s->callee.parts.back().text + "`");
        std::string near = closest(s->callee.parts.back().text, names);
        if (!near.empty()) diag.with_hint("did you mean `" + near + "`?");
        for (auto& a : s->args) expr(a.value.get());
        return;
      }
    }
  }
  if (op) {
    if (s->kind == StmtKind::Run || s->kind == StmtKind::Start) {
      report(diag::Code::E0202, s->callee.span, "`" + name + "` is a connector operation, not a process")
          .with_hint("use `call " + name + "(…)`");
    }
    args(s->args, op->params, name, s->span);
    if (!s->bind.empty()) {
      Local l;
      l.type = types_.error();
      l.is_step = true;
      l.span = s->bind.span;
      for (const FieldDecl& f : op->result) l.fields[f.name.text] = type_of(f.type);
      if (l.fields.empty()) l.fields["ok"] = types_.bool_();
      l.kind = BindingKind::Step;
      bind(s->bind, l);
    }
    return;
  }
  if (!d) {
    for (auto& a : s->args) expr(a.value.get());
    if (!sym_.is_broken(file_, name))
      unknown(s->kind == StmtKind::Call && !s->bare ? "connector operation" : "process", name,
              s->callee.span);
    return;
  }
  sym_.use(d);
  if (d->kind == DeclKind::Process) {
    if (s->kind == StmtKind::Call && !s->bare) {
      report(diag::Code::E0202, s->callee.span, "`" + name + "` is a process, not a connector operation")
          .with_hint("use `run " + name + "(…)` to wait for it, or `start` to start it alongside");
    }
    args(s->args, as<ProcessDecl>(d)->params, name, s->span);
    if (!s->bind.empty()) {
      Local l;
      l.type = type_of_decl(d);
      l.span = s->bind.span;
      l.kind = BindingKind::Bound;
      bind(s->bind, l);
    }
    return;
  }
  if (d->kind == DeclKind::Function && s->bare) {
    args(s->args, as<FunctionDecl>(d)->params, name, s->span);
    return;
  }
  report(diag::Code::E0202, s->callee.span,
         "`" + name + "` is a " + keyword(d->kind) + "; a step can call a process or a connector operation")
      .note(d->name.span, "defined here");
  for (auto& a : s->args) expr(a.value.get());
}

void TypeChecker::stmt(const Stmt* s) {
  if (!s) return;
  if (!allowed(s)) return;
  switch (s->kind) {
    case StmtKind::Task: {
      auto* t = as<TaskStmt>(s);
      assignee(t->assignee);
      if (t->within) expect(t->within.get(), expr(t->within.get()), types_.duration(), "a deadline");
      if (t->escalate) assignee(*t->escalate);
      std::set<std::string> seen;
      for (auto& o : t->outcomes)
        if (!seen.insert(o.text).second)
          report(diag::Code::W0001, o.span, "outcome `" + o.text + "` is listed twice");
      fields(t->returns, "task result");
      if (t->has_on_timeout) block(t->on_timeout);
      Local l;
      l.type = types_.error();
      l.is_step = true;
      l.span = t->name.span;
      l.fields["outcome"] = types_.string();
      l.outcomes = t->outcomes.empty() ? nullptr : &t->outcomes;
      for (auto& f : t->returns) l.fields[f.name.text] = type_of(f.type);
      l.fields["completed_by"] = types_.actor();
      l.kind = BindingKind::Step;
      bind(t->name, l);
      break;
    }
    case StmtKind::Approval: {
      auto* a = as<ApprovalStmt>(s);
      assignee(a->assignee);
      if (a->within) expect(a->within.get(), expr(a->within.get()), types_.duration(), "a deadline");
      if (a->escalate) assignee(*a->escalate);
      if (a->has_on_timeout) block(a->on_timeout);
      if (!a->name.empty()) {
        Local l;
        l.type = types_.error();
        l.is_step = true;
        l.span = a->name.span;
        l.fields["approved"] = types_.bool_();
        l.fields["approvals"] = types_.int_();
        l.kind = BindingKind::Step;
        bind(a->name, l);
      }
      break;
    }
    case StmtKind::Emit:
    case StmtKind::Create:
    case StmtKind::Insert:
    case StmtKind::Derive:
      construct(as<ConstructStmt>(s));
      break;
    case StmtKind::Update:
    case StmtKind::Modify: {
      auto* u = as<UpdateStmt>(s);
      const Type* t = need_value(u->target.get(), expr(u->target.get()));
      if (t->is_error()) {
        for (auto& f : u->fields) expr(f.value.get());
        break;
      }
      if (t->kind != TypeKind::Record) {
        report(diag::Code::E0300, u->target->span,
               std::string("`") + keyword(s->kind) + "` needs a record, not " + t->str());
        for (auto& f : u->fields) expr(f.value.get());
        break;
      }
      field_inits(u->fields, as<RecordDecl>(t->decl)->fields, "record `" + t->decl->name.text + "`", s->span,
                  false);
      break;
    }
    case StmtKind::Set: {
      auto* st = as<SetStmt>(s);
      if (!dyn<FieldExpr>(st->target.get()) && !dyn<NameExpr>(st->target.get())) {
        report(diag::Code::E0300, st->target->span, "`set` needs a field or a name on its left");
      }
      const Type* t = expr(st->target.get());
      expect(st->value.get(), expr(st->value.get(), t), t, "the new value");
      break;
    }
    case StmtKind::Call:
    case StmtKind::Run:
    case StmtKind::Start:
      call(as<CallStmt>(s));
      break;
    case StmtKind::Notify: {
      auto* n = as<NotifyStmt>(s);
      const Type* who = need_value(n->who.get(), expr(n->who.get()));
      bool ok = who->is_error() || who->kind == TypeKind::Actor || who->kind == TypeKind::Record ||
                who->kind == TypeKind::Unit || who->kind == TypeKind::String || who->kind == TypeKind::Role ||
                (who->kind == TypeKind::List &&
                 (who->elem->kind == TypeKind::Actor || who->elem->kind == TypeKind::Record));
      if (!ok)
        report(diag::Code::E0300, n->who->span,
               "`notify` needs a person, role, unit or address, not " + who->str());
      expect(n->message.get(), expr(n->message.get()), types_.string(), "the message");
      break;
    }
    case StmtKind::WaitEvent: {
      auto* w = as<WaitEventStmt>(s);
      const Decl* d = lookup_kind(w->event, DeclKind::Event, "event");
      Local l;
      l.type = d ? type_of_decl(d) : types_.error();
      l.span = w->bind.span;
      l.kind = BindingKind::Bound;
      push();
      if (!w->bind.empty()) {
        bind(w->bind, l);
        l = *local(w->bind.text);  // the same binding after the wait as inside its `where`
      }
      if (w->where) expect_bool(w->where.get(), "the `where` condition");
      pop();
      if (w->within) expect(w->within.get(), expr(w->within.get()), types_.duration(), "a deadline");
      if (w->has_on_timeout) block(w->on_timeout);
      if (!w->bind.empty()) bind(w->bind, l);
      break;
    }
    case StmtKind::WaitUntil: {
      auto* w = as<WaitTimeStmt>(s);
      expect(w->time.get(), expr(w->time.get()), types_.date(), "`wait until`");
      break;
    }
    case StmtKind::WaitTimer: {
      auto* w = as<WaitTimeStmt>(s);
      expect(w->time.get(), expr(w->time.get()), types_.duration(), "`wait`");
      break;
    }
    case StmtKind::If: {
      auto* i = as<IfStmt>(s);
      expect_bool(i->cond.get(), "the condition of `if`");
      std::set<std::string> then_paths, else_paths;
      narrowings(i->cond.get(), true, then_paths);
      narrowings(i->cond.get(), false, else_paths);
      narrowed_.push_back(std::move(then_paths));
      block(i->then_block);
      narrowed_.pop_back();
      if (i->has_else) {
        narrowed_.push_back(std::move(else_paths));
        block(i->else_block);
        narrowed_.pop_back();
      }
      break;
    }
    case StmtKind::Switch: {
      auto* sw = as<SwitchStmt>(s);
      const Type* t = expr(sw->subject.get());
      for (auto& c : sw->cases) {
        for (auto& v : c.values) {
          // Reuse the `==` check so outcome names and enum values are handled the same way.
          BinaryExpr probe(BinaryOp::Eq, nullptr, nullptr, v->span, v->span);
          const Type* vt = expr(v.get(), t->kind == TypeKind::Enum ? t : nullptr);
          if (!comparable(t, vt))
            report(diag::Code::E0300, v->span, "a case of " + vt->str() + " can never match " + t->str());
          if (auto* f = dyn<FieldExpr>(sw->subject.get()); f && f->field.text == "outcome") {
            auto* n = dyn<NameExpr>(f->object.get());
            auto* lit = dyn<LiteralExpr>(v.get());
            const Local* loc = n ? local(n->name) : nullptr;
            if (loc && loc->outcomes && lit && lit->lit == LiteralKind::String) {
              bool found = false;
              std::string list;
              for (auto& o : *loc->outcomes) {
                found = found || o.text == lit->text;
                list += (list.empty() ? "" : ", ") + o.text;
              }
              if (!found)
                report(diag::Code::E0505, lit->span, "`" + n->name + "` has no outcome \"" + lit->text + "\"")
                    .with_hint("its outcomes are: " + list);
            }
          }
        }
        block(c.body);
      }
      if (sw->has_else) block(sw->else_block);
      break;
    }
    case StmtKind::Parallel: {
      auto* p = as<ParallelStmt>(s);
      // With `join all` every branch has run when the parallel ends, so what the branches bind (task
      // results, lets) is visible after it. With `join any` / `join N` a branch may not have run: its
      // names stay inside it.
      for (auto& b : p->branches) {
        if (p->join == JoinKind::All)
          for (const StmtPtr& st : b.body) stmt(st.get());
        else
          block(b.body);
      }
      break;
    }
    case StmtKind::ForEach: {
      auto* f = as<ForEachStmt>(s);
      const Type* t = need_value(f->source.get(), expr(f->source.get()));
      Local l;
      l.span = f->var.span;
      l.type = types_.error();
      l.kind = BindingKind::LoopVar;
      if (t->kind == TypeKind::List)
        l.type = t->elem;
      else if (!t->is_error())
        report(diag::Code::E0300, f->source->span, "`for each` needs a list, not " + t->str());
      push();
      bind(f->var, l);
      block(f->body);
      pop();
      break;
    }
    case StmtKind::Let: {
      auto* l = as<LetStmt>(s);
      const Type* declared = l->type ? type_of(*l->type) : nullptr;
      const Type* t = expr(l->value.get(), declared);
      if (declared) expect(l->value.get(), t, declared, "`" + l->name.text + "`");
      Local loc;
      loc.type = declared ? declared : t;
      loc.span = l->name.span;
      loc.kind = BindingKind::Let;
      bind(l->name, loc);
      break;
    }
    case StmtKind::Fail: {
      auto* f = as<SimpleStmt>(s);
      if (f->value) expect(f->value.get(), expr(f->value.get()), types_.string(), "the reason for failing");
      break;
    }
    case StmtKind::Complete:
      break;
    case StmtKind::Retract: {
      auto* r = as<SimpleStmt>(s);
      const Type* t = expr(r->value.get());
      if (!t->is_error() && t->kind != TypeKind::Record && t->kind != TypeKind::Event)
        report(diag::Code::E0300, r->value->span,
               "`retract` needs a fact (a record or an event), not " + t->str());
      break;
    }
    case StmtKind::Signal: {
      auto* sg = as<SignalStmt>(s);
      const Decl* p = lookup_kind(sg->process, DeclKind::Process, "process");
      push();
      if (p) {
        // The target's parameters, as they are in each candidate instance: bindings of that process.
        const Decl* outer = current_decl_;
        current_decl_ = p;
        for (auto& prm : as<ProcessDecl>(p)->params) {
          Local l;
          l.type = type_of(prm.type);
          l.span = prm.name.span;
          l.kind = BindingKind::SignalParam;
          l.index = static_cast<uint32_t>(&prm - as<ProcessDecl>(p)->params.data());
          bind(prm.name, l);
        }
        current_decl_ = outer;
      }
      if (sg->where) expect_bool(sg->where.get(), "the `where` condition");
      pop();
      const Decl* ev = lookup_kind(sg->event, DeclKind::Event, "event");
      if (ev)
        field_inits(sg->fields, as<EventDecl>(ev)->fields, "event `" + ev->name.text + "`", s->span, true);
      else
        for (auto& f : sg->fields) expr(f.value.get());
      break;
    }
  }
  if (!s->compensation.empty()) block(s->compensation);
}

}  // namespace orgos::sema
