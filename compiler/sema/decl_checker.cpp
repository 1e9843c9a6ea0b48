// Type checking of declarations: each sets up the names its expressions may use (fields in record
// checks, `actor`/`resource` in policies, pattern variables in rules) and checks its parts.
#include <functional>
#include <set>

#include "compiler/driver/compilation.h"
#include "compiler/sema/type_checker.h"

namespace orgos::sema {

using namespace ast;

TypeChecker::TypeChecker(driver::Compilation& c, Symbols& symbols)
    : c_(c), prog_(*c.program), types_(c.program->types), sym_(symbols) {}

diag::Diagnostic& TypeChecker::report(diag::Code code, source::Span s, const std::string& m) {
  return c_.diags.report(code, s, m);
}

void TypeChecker::bind(const Name& n, Local l) {
  if (n.empty()) return;
  if (scopes_.empty()) push();
  auto& top = scopes_.back();
  auto it = top.find(n.text);
  if (it != top.end() && it->second.span.valid() && !(it->second.span.begin == n.span.begin)) {
    report(diag::Code::E0201, n.span, "`" + n.text + "` is already defined here")
        .note(it->second.span, "first defined here")
        .with_hint("choose another name");
  }
  if (!l.binding) {
    auto b = std::make_unique<Binding>();
    b->name = n.text;
    b->kind = l.kind;
    b->type = l.type;
    b->fields = l.fields;
    b->owner = current_decl_;
    b->index = l.index;
    b->span = n.span;
    l.binding = b.get();
    prog_.bindings.push_back(std::move(b));
  }
  top[n.text] = std::move(l);
}

const TypeChecker::Local* TypeChecker::local(const std::string& n) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto f = it->find(n);
    if (f != it->end()) return &f->second;
  }
  return nullptr;
}

const Decl* TypeChecker::lookup(const QualifiedName& q) {
  const Decl* d = sym_.lookup(file_, q);
  if (d) {
    sym_.use(d);
    prog_.names[&q] = d;
  }
  return d;
}

const Decl* TypeChecker::lookup_kind(const QualifiedName& q, DeclKind kind, const char* what) {
  if (q.empty()) return nullptr;
  const Decl* d = lookup(q);
  if (!d) {
    if (!sym_.is_broken(file_, q.str())) unknown(what, q.str(), q.span);
    return nullptr;
  }
  if (d->kind != kind) {
    report(diag::Code::E0202, q.span,
           "`" + q.str() + "` is a " + keyword(d->kind) + ", but a" + (what[0] == 'e' ? "n " : " ") + what +
               " is needed here")
        .note(d->name.span, "defined here");
    return nullptr;
  }
  return d;
}

void TypeChecker::check_all() {
  for (size_t fi = 0; fi < c_.files.size(); ++fi) {
    file_ = fi;
    for (const DeclPtr& d : c_.files[fi].module->decls) {
      scopes_.clear();
      ctx_ = Context::Other;
      resource_ = nullptr;
      current_decl_ = d.get();
      decl(d.get());
    }
  }
}

void TypeChecker::decl(const Decl* d) {
  switch (d->kind) {
    case DeclKind::Org:
      org(as<OrgDecl>(d));
      break;
    case DeclKind::Role:
      role(as<RoleDecl>(d));
      break;
    case DeclKind::Record:
      record(as<RecordDecl>(d));
      break;
    case DeclKind::Enum: {
      std::set<std::string> seen;
      for (auto& v : as<EnumDecl>(d)->values)
        if (!seen.insert(v.text).second)
          report(diag::Code::W0001, v.span, "enum value `" + v.text + "` is listed twice");
      break;
    }
    case DeclKind::Event:
      event(as<EventDecl>(d));
      break;
    case DeclKind::Process:
      process(as<ProcessDecl>(d));
      break;
    case DeclKind::Lifecycle:
      lifecycle(as<LifecycleDecl>(d));
      break;
    case DeclKind::Rule:
      rule(as<RuleDecl>(d));
      break;
    case DeclKind::Table:
      table(as<TableDecl>(d));
      break;
    case DeclKind::Policy:
      policy(as<PolicyDecl>(d));
      break;
    case DeclKind::Metric:
      metric(as<MetricDecl>(d));
      break;
    case DeclKind::Template:
      templ(as<TemplateDecl>(d));
      break;
    case DeclKind::Connector:
      connector(as<ConnectorDecl>(d));
      break;
    case DeclKind::Peer: {
      auto* p = as<PeerDecl>(d);
      if (!p->address.empty() && p->address.rfind("tcp://", 0) != 0 && p->address.rfind("ipc://", 0) != 0 &&
          p->address.rfind("tls+tcp://", 0) != 0)
        report(diag::Code::E0770, d->span, "peer address `" + p->address + "` is not an nng address")
            .with_hint("write it as tcp://host:port (or tls+tcp://, ipc://)");
      break;
    }
    case DeclKind::Agreement:
      agreement(as<AgreementDecl>(d));
      break;
    case DeclKind::Function:
      function(as<FunctionDecl>(d));
      break;
  }
}

void TypeChecker::fields(const std::vector<FieldDecl>& fs, const char* what) {
  std::set<std::string> seen;
  for (const FieldDecl& f : fs) {
    if (!seen.insert(f.name.text).second)
      report(diag::Code::E0201, f.name.span,
             std::string("the ") + what + " already has a field `" + f.name.text + "`");
    const Type* t = type_of(f.type);
    if (f.default_value)
      expect(f.default_value.get(), expr(f.default_value.get(), t), t,
             "the default of `" + f.name.text + "`");
  }
}

void TypeChecker::params(const std::vector<Param>& ps, bool bind_them) {
  std::set<std::string> seen;
  for (const Param& p : ps) {
    if (!seen.insert(p.name.text).second)
      report(diag::Code::E0201, p.name.span, "parameter `" + p.name.text + "` is declared twice");
    const Type* t = type_of(p.type);
    if (p.default_value)
      expect(p.default_value.get(), expr(p.default_value.get(), t), t,
             "the default of `" + p.name.text + "`");
    if (bind_them) {
      Local l;
      l.type = t;
      l.span = p.name.span;
      l.kind = BindingKind::Param;
      l.index = static_cast<uint32_t>(&p - ps.data());
      bind(p.name, l);
    }
  }
}

void TypeChecker::org(const OrgDecl* d) {
  static const std::set<std::string> purposes = {"for_profit", "non_profit", "foundation", "general"};
  static const std::set<std::string> forms = {"operating_company",
                                              "holding_company",
                                              "management_company",
                                              "subsidiary",
                                              "ip_company",
                                              "fund",
                                              "trust",
                                              "cooperative",
                                              "partnership",
                                              "sole_proprietorship",
                                              "public_company"};
  static const std::set<std::string> unit_kinds = {"division",  "department", "team",   "unit",
                                                   "committee", "office",     "branch", "group"};
  auto one_of = [&](const Name& n, const std::set<std::string>& allowed, const char* what) {
    if (n.empty() || allowed.count(n.text)) return;
    std::string list;
    for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    report(diag::Code::E0751, n.span, "`" + n.text + "` is not a known " + what)
        .with_hint("use one of: " + list);
  };
  one_of(d->purpose, purposes, "purpose");
  one_of(d->legal_form, forms, "legal form");
  if (!d->currency.empty() && !is_currency_code(d->currency.text))
    report(diag::Code::E0306, d->currency.span,
           "`" + d->currency.text + "` is not an ISO 4217 currency code");
  // Units: kinds are known words and names are unique across the tree (positions refer to them by name).
  std::map<std::string, const UnitDecl*> units;
  std::function<void(const UnitDecl&)> walk = [&](const UnitDecl& u) {
    one_of(u.kind, unit_kinds, "unit kind");
    auto [it, fresh] = units.emplace(u.name.text, &u);
    if (!fresh)
      report(diag::Code::E0201, u.name.span, "unit `" + u.name.text + "` is already defined")
          .note(it->second->name.span, "first defined here");
    for (auto& ch : u.children) walk(ch);
  };
  for (auto& u : d->units) walk(u);
  std::set<std::string> positions;
  for (auto& p : d->positions) {
    if (!positions.insert(p.name.text).second)
      report(diag::Code::E0201, p.name.span, "position `" + p.name.text + "` is already defined");
    lookup_kind(p.role, DeclKind::Role, "role");
    if (!p.unit.empty() && !units.count(p.unit.str())) {
      std::vector<std::string> names;
      for (auto& [k, v] : units) names.push_back(k);
      auto& diag = report(diag::Code::E0200, p.unit.span, "unknown unit `" + p.unit.str() + "`");
      std::string near = closest(p.unit.str(), names);
      if (!near.empty()) diag.with_hint("did you mean `" + near + "`?");
    }
  }
  for (auto& r : d->relations) lookup_kind(r.target, DeclKind::Org, "org");
  if (!d->lifecycle.empty()) {
    if (const Decl* l = lookup_kind(d->lifecycle, DeclKind::Lifecycle, "lifecycle"))
      if (!as<LifecycleDecl>(l)->of_org)
        report(diag::Code::E0202, d->lifecycle.span,
               "lifecycle `" + l->name.text + "` is for a record, not for an org")
            .note(l->name.span, "declared here")
            .with_hint("declare it as `lifecycle " + l->name.text + " for org { … }`");
  }
  if (!d->from_template.empty()) {
    if (const Decl* t = lookup_kind(d->from_template, DeclKind::Template, "template")) {
      auto* td = as<TemplateDecl>(t);
      size_t errors = c_.diags.error_count();
      args(d->template_args, td->params, t->name.text, d->from_template.span);
      // Argument problems of a template are E0752 so they read as such; reuse the argument checks.
      if (c_.diags.error_count() > errors)
        report(diag::Code::E0752, d->from_template.span,
               "the arguments do not match template `" + t->name.text + "`")
            .note(t->name.span, "template declared here");
    }
  }
}

void TypeChecker::role(const RoleDecl* d) {
  for (auto& e : d->extends) lookup_kind(e, DeclKind::Role, "role");
  if (!d->scope.empty() && d->scope.text != "unit")
    report(diag::Code::E0401, d->scope.span,
           "roles can only be scoped by `unit`, not `" + d->scope.text + "`");
  std::set<std::string> seen;
  for (auto& g : d->grants) {
    std::string key = g.action.text + " " + g.resource.str() + (g.where ? "?" : "");
    if (!g.where && !seen.insert(key).second)
      report(diag::Code::W0001, g.span, "this grant is listed twice").with_hint("remove one");
    ctx_ = Context::Policy;
    resource_ = types_.error();
    if (!g.resource.empty()) {
      if (const Decl* r = lookup(g.resource)) {
        const Type* t = type_of_decl(r);
        resource_ = t ? t : types_.error();
      } else if (!sym_.is_broken(file_, g.resource.str())) {
        unknown("resource type", g.resource.str(), g.resource.span);
      }
    }
    if (g.where) expect_bool(g.where.get(), "the `where` condition of a grant");
    resource_ = nullptr;
    ctx_ = Context::Other;
  }
}

void TypeChecker::record(const RecordDecl* d) {
  ctx_ = Context::Record;
  fields(d->fields, "record");
  push();
  for (auto& f : d->fields) {
    Local l;
    l.type = type_of(f.type);
    l.span = f.name.span;
    l.kind = BindingKind::Field;
    l.index = static_cast<uint32_t>(&f - d->fields.data());
    bind(f.name, l);
  }
  Local self;
  self.type = types_.of_decl(TypeKind::Record, d);
  self.kind = BindingKind::Self;
  bind(Name{"self", {}}, self);
  for (auto& c : d->checks) expect_bool(c.cond.get(), "a `check`");
  pop();
}

void TypeChecker::event(const EventDecl* d) {
  fields(d->fields, "event");
}

void TypeChecker::process(const ProcessDecl* d) {
  ctx_ = Context::Process;
  push();
  params(d->params, true);
  if (d->timeout) expect(d->timeout.get(), expr(d->timeout.get()), types_.duration(), "the process timeout");
  block(d->body);
  if (d->has_on_failure) {
    push();
    Local err;
    err.type = types_.string();
    err.kind = BindingKind::Error;
    bind(Name{"error", {}}, err);
    block(d->on_failure);
    pop();
  }
  if (d->has_on_timeout) block(d->on_timeout);
  pop();
}

void TypeChecker::lifecycle(const LifecycleDecl* d) {
  ctx_ = Context::Lifecycle;
  push();
  if (d->of_org) {
    Local o;
    o.type = types_.org();
    o.kind = BindingKind::Self;
    bind(Name{"self", {}}, o);
  } else if (const Decl* r = lookup_kind(d->subject, DeclKind::Record, "record")) {
    const auto& fs = as<RecordDecl>(r)->fields;
    for (auto& f : fs) {
      Local l;
      l.type = type_of(f.type);
      l.span = f.name.span;
      l.kind = BindingKind::Field;
      l.index = static_cast<uint32_t>(&f - fs.data());
      bind(f.name, l);
    }
    Local self;
    self.type = type_of_decl(r);
    self.kind = BindingKind::Self;
    bind(Name{"self", {}}, self);
  }
  for (auto& t : d->transitions) {
    if (t.guard) expect_bool(t.guard.get(), "a transition guard");
    block(t.effects);
  }
  pop();
}

void TypeChecker::rule(const RuleDecl* d) {
  ctx_ = Context::Rule;
  push();
  uint32_t order = 0;
  for (const Pattern& p : d->patterns) {
    if (p.kind == PatternKind::Accumulate) {
      const Type* t = expr(p.where.get());
      if (!dyn<ComprehensionExpr>(p.where.get()) && !dyn<CallExpr>(p.where.get()))
        report(diag::Code::E0700, p.where->span,
               "an accumulation is an aggregate like `count(x in Expense where …)`");
      Local l;
      l.type = t;
      l.span = p.var.span;
      l.kind = BindingKind::Accumulate;
      l.index = order++;
      bind(p.var, l);
      continue;
    }
    const Decl* td = lookup(p.type);
    const Type* t = types_.error();
    if (!td) {
      if (!sym_.is_broken(file_, p.type.str())) unknown("record or event", p.type.str(), p.type.span);
    } else if (td->kind != DeclKind::Record && td->kind != DeclKind::Event) {
      report(diag::Code::E0700, p.type.span,
             "`" + p.type.str() + "` is a " + keyword(td->kind) + "; rules match records and events")
          .note(td->name.span, "defined here");
    } else {
      t = type_of_decl(td);
    }
    Local l;
    l.type = t;
    l.span = p.var.span;
    l.kind = BindingKind::PatternVar;
    // A not/exists fact is a parameter of its own condition only: the facts after it do not count it.
    l.index = p.kind == PatternKind::Fact ? order++ : order;
    // `not`/`exists` patterns bind their variable only inside their own condition.
    if (p.kind != PatternKind::Fact) push();
    if (!p.var.empty()) bind(p.var, l);
    if (p.where) expect_bool(p.where.get(), "a pattern condition");
    if (p.kind != PatternKind::Fact) pop();
  }
  block(d->actions);
  pop();
}

void TypeChecker::table(const TableDecl* d) {
  ctx_ = Context::Table;
  push();
  params(d->inputs, true);
  std::vector<const Type*> in, out;
  for (auto& p : d->inputs) in.push_back(type_of(p.type));
  for (auto& p : d->outputs) out.push_back(type_of(p.type));
  std::set<std::string> outs;
  for (auto& p : d->outputs)
    if (!outs.insert(p.name.text).second)
      report(diag::Code::E0201, p.name.span, "output `" + p.name.text + "` is declared twice");
  if (d->hit == HitPolicy::Collect && !d->aggregate.empty()) {
    static const std::set<std::string> aggs = {"sum", "count", "min", "max"};
    if (!aggs.count(d->aggregate.text)) {
      report(diag::Code::E0711, d->aggregate.span, "`collect " + d->aggregate.text + "` is not a hit policy")
          .with_hint("use collect sum, collect count, collect min, collect max, or plain collect");
    } else if (d->outputs.size() != 1 && d->aggregate.text != "count") {
      report(diag::Code::E0711, d->hit_span,
             "`collect " + d->aggregate.text + "` needs exactly one output column");
    } else if (d->aggregate.text != "count" && !out.empty()) {
      const Type* t = out[0];
      bool ok = t->is_error() || t->is_numeric() || t->kind == TypeKind::Money ||
                t->kind == TypeKind::Duration ||
                (d->aggregate.text != "sum" && (t->kind == TypeKind::Date || t->kind == TypeKind::String));
      if (!ok)
        report(diag::Code::E0711, d->hit_span,
               "`collect " + d->aggregate.text + "` cannot aggregate " + t->str());
    }
  }
  for (const TableRow& row : d->rows) {
    if (row.inputs.size() != d->inputs.size() || row.outputs.size() != d->outputs.size()) {
      report(diag::Code::E0710, row.span,
             "this row has " + std::to_string(row.inputs.size()) + " input and " +
                 std::to_string(row.outputs.size()) + " output cells; the table has " +
                 std::to_string(d->inputs.size()) + " inputs and " + std::to_string(d->outputs.size()) +
                 " outputs")
          .with_hint("write one cell per column: | in | in || out |");
      continue;
    }
    for (size_t i = 0; i < row.inputs.size(); ++i) {
      const TableEntry& e = row.inputs[i];
      const Type* col = in[i];
      const Type* base = col->kind == TypeKind::Optional ? col->elem : col;
      for (auto& v : e.values) {
        const Type* t = expr(v.get(), base);
        if (t->kind == TypeKind::Money && base->kind == TypeKind::Money && !t->currency.empty() &&
            !base->currency.empty() && t->currency != base->currency) {
          report(diag::Code::E0301, v->span,
                 "column `" + d->inputs[i].name.text + "` is " + base->str() + ", this is " + t->str());
        } else if (!comparable(t, base)) {
          report(diag::Code::E0710, v->span,
                 "column `" + d->inputs[i].name.text + "` is " + col->str() + ", so this cell cannot be " +
                     t->str());
        }
      }
      bool ordered = base->is_error() || base->is_numeric() || base->kind == TypeKind::Money ||
                     base->kind == TypeKind::Date || base->kind == TypeKind::Duration ||
                     base->kind == TypeKind::String;
      if ((e.kind == EntryKind::Compare && e.cmp != BinaryOp::Eq && e.cmp != BinaryOp::Ne) ||
          e.kind == EntryKind::Range)
        if (!ordered)
          report(diag::Code::E0710, e.span,
                 "column `" + d->inputs[i].name.text + "` is " + col->str() +
                     ", which has no order for comparisons or ranges");
    }
    for (size_t i = 0; i < row.outputs.size(); ++i)
      expect(row.outputs[i].get(), expr(row.outputs[i].get(), out[i]), out[i],
             "output `" + d->outputs[i].name.text + "`");
  }
  pop();
}

void TypeChecker::policy(const PolicyDecl* d) {
  ctx_ = Context::Policy;
  resource_ = types_.error();
  if (!d->resource.empty()) {
    if (const Decl* r = lookup(d->resource)) {
      const Type* t = type_of_decl(r);
      resource_ = t ? t : types_.error();
    } else if (!sym_.is_broken(file_, d->resource.str())) {
      unknown("resource type", d->resource.str(), d->resource.span);
    }
  }
  if (d->when) expect_bool(d->when.get(), "the `when` condition of a policy");
  resource_ = nullptr;
}

void TypeChecker::metric(const MetricDecl* d) {
  ctx_ = Context::Metric;
  const Type* t = need_value(d->formula.get(), expr(d->formula.get()));
  if (d->type) expect(d->formula.get(), t, type_of(*d->type), "metric `" + d->name.text + "`");
  bool ok = t->is_error() || t->is_numeric() || t->kind == TypeKind::Money || t->kind == TypeKind::Duration;
  if (!ok)
    report(
        diag::Code::E0730, d->formula->span,
        "metric `" + d->name.text + "` is " + t->str() + "; a metric must be a number, money or a duration")
        .with_hint("count or sum something, e.g. `count(x in Expense where …)`");
  if (d->window) expect(d->window.get(), expr(d->window.get()), types_.duration(), "the window after `over`");
  auto bound = [&](const ExprPtr& e, const char* what) {
    if (!e) return;
    const Type* b = expr(e.get());
    if (!ok || b->is_error()) return;
    if (t->kind == TypeKind::Money && b->kind == TypeKind::Money && !t->currency.empty() &&
        !b->currency.empty() && t->currency != b->currency)
      report(diag::Code::E0301, e->span,
             std::string("the ") + what + " is " + b->str() + " but the metric is " + t->str());
    else if (!comparable(t, b) && !(t->is_numeric() && b->is_numeric()))
      report(diag::Code::E0300, e->span,
             std::string("the ") + what + " is " + b->str() + " but the metric is " + t->str());
  };
  bound(d->target, "target");
  bound(d->warn, "warning threshold");
  bound(d->alert, "alert threshold");
  if (!d->alert_event.empty()) lookup_kind(d->alert_event, DeclKind::Event, "event");
}

void TypeChecker::templ(const TemplateDecl* d) {
  push();
  params(d->params, true);
  auto outer = scopes_;
  for (const DeclPtr& inner : d->decls) {
    scopes_ = outer;
    ctx_ = Context::Other;
    resource_ = nullptr;
    current_decl_ = inner.get();
    decl(inner.get());
  }
  scopes_.clear();
}

void TypeChecker::connector(const ConnectorDecl* d) {
  std::set<std::string> seen;
  for (auto& op : d->ops) {
    if (!seen.insert(op.name.text).second)
      report(diag::Code::E0201, op.name.span, "operation `" + op.name.text + "` is declared twice");
    params(op.params, false);
    fields(op.result, "operation result");
  }
}

void TypeChecker::agreement(const AgreementDecl* d) {
  if (const Decl* p = lookup(d->peer); !p || p->kind != DeclKind::Peer) {
    report(diag::Code::E0770, d->peer.span,
           "an agreement needs a declared `peer`, and `" + d->peer.str() + "` is " +
               (p ? std::string("a ") + keyword(p->kind) : std::string("unknown")))
        .with_hint("declare it: peer " + d->peer.str() + " at \"tcp://host:port\"");
  }
  for (auto& item : d->items) {
    DeclKind want = item.kind == AgreementItemKind::ShareRecord    ? DeclKind::Record
                    : item.kind == AgreementItemKind::ShareProcess ? DeclKind::Process
                                                                   : DeclKind::Event;
    const Decl* x = lookup(item.name);
    if (!x || x->kind != want)
      report(diag::Code::E0770, item.name.span,
             "`" + item.name.str() + "` must be a" + (want == DeclKind::Event ? "n " : " ") + keyword(want) +
                 " declared in this program")
          .with_hint("agreements name the events, records and processes that may cross to the peer");
  }
}

void TypeChecker::function(const FunctionDecl* d) {
  ctx_ = Context::Function;
  push();
  params(d->params, true);
  const Type* r = type_of(d->result);
  expect(d->body.get(), expr(d->body.get(), r), r, "the result of `" + d->name.text + "`");
  pop();
}

}  // namespace orgos::sema
