// Type checking of expressions: literals, names, field access, calls, operators, comprehensions.
// Money keeps its currency in the type when it is known, so `5 USD + 3 EUR` is rejected here rather
// than at run time.
#include <set>

#include "compiler/driver/compilation.h"
#include "compiler/sema/type_checker.h"

namespace orgos::sema {

using namespace ast;

bool is_builtin_function(const std::string& n) {
  static const std::set<std::string> fns = {"abs",   "min",      "max",  "round", "len", "lower",
                                            "upper", "contains", "year", "month", "day", "days_between"};
  return fns.count(n) > 0;
}

bool is_aggregate(const std::string& n) {
  static const std::set<std::string> aggs = {"count", "sum", "min", "max", "avg", "all", "any", "list"};
  return aggs.count(n) > 0;
}

const Type* TypeChecker::expr(const Expr* e, const Type* expected) {
  if (!e) return types_.error();
  const Type* t = expr_inner(e, expected);
  if (t->kind == TypeKind::Optional && !narrowed_.empty()) {
    if (auto p = path_of(e); p && is_narrowed(*p)) t = t->elem;
  }
  prog_.expr_types[e] = t;
  return t;
}

std::optional<std::string> TypeChecker::path_of(const Expr* e) {
  if (auto* n = dyn<NameExpr>(e)) return n->name;
  if (auto* f = dyn<FieldExpr>(e)) {
    if (f->optional_chain) return std::nullopt;
    if (auto base = path_of(f->object.get())) return *base + "." + f->field.text;
  }
  return std::nullopt;
}

void TypeChecker::narrowings(const Expr* cond, bool when_true, std::set<std::string>& out) {
  auto* b = dyn<BinaryExpr>(cond);
  if (auto* u = dyn<UnaryExpr>(cond); u && u->op == UnaryOp::Not)
    return narrowings(u->operand.get(), !when_true, out);
  if (!b) return;
  auto none = [](const Expr* x) {
    auto* l = dyn<LiteralExpr>(x);
    return l && l->lit == LiteralKind::None;
  };
  bool some_test =
      (b->op == BinaryOp::IsSome) || (b->op == BinaryOp::Ne && (none(b->rhs.get()) || none(b->lhs.get())));
  bool none_test =
      (b->op == BinaryOp::IsNone) || (b->op == BinaryOp::Eq && (none(b->rhs.get()) || none(b->lhs.get())));
  if ((some_test && when_true) || (none_test && !when_true)) {
    const Expr* subject = b->rhs && none(b->lhs.get()) ? b->rhs.get() : b->lhs.get();
    if (auto p = path_of(subject)) out.insert(*p);
    return;
  }
  // `a and b` is true only when both are; `a or b` is false only when both are.
  if ((b->op == BinaryOp::And && when_true) || (b->op == BinaryOp::Or && !when_true)) {
    narrowings(b->lhs.get(), when_true, out);
    narrowings(b->rhs.get(), when_true, out);
  }
}

bool TypeChecker::is_narrowed(const std::string& path) const {
  for (auto& frame : narrowed_)
    if (frame.count(path)) return true;
  return false;
}

const Type* TypeChecker::need_value(const Expr* e, const Type* t) {
  if (t->kind != TypeKind::Optional) return t;
  report(diag::Code::E0302, e->span, "this value is optional (" + t->str() + ") and may be none")
      .with_hint("give a default with `?? value`, or test it with `is not none` first");
  return t->elem;
}

void TypeChecker::expect(const Expr* e, const Type* got, const Type* want, const std::string& what) {
  if (got->is_error() || want->is_error() || assignable(got, want)) return;
  if (got->kind == TypeKind::Money && want->kind == TypeKind::Money) {
    report(diag::Code::E0301, e->span, what + " must be " + want->str() + ", but this is " + got->str())
        .with_hint("convert explicitly; OrgOS never mixes currencies silently");
    return;
  }
  if (got->kind == TypeKind::Optional && assignable(got->elem, want)) {
    need_value(e, got);
    return;
  }
  report(diag::Code::E0300, e->span, what + " must be " + want->str() + ", but this is " + got->str());
}

void TypeChecker::expect_bool(const Expr* e, const std::string& what) {
  const Type* t = expr(e, types_.bool_());
  expect(e, t, types_.bool_(), what);
}

bool TypeChecker::assignable(const Type* from, const Type* to) const {
  if (from == to || from->is_error() || to->is_error()) return true;
  if (to->kind == TypeKind::Optional) return from->kind == TypeKind::None || assignable(from, to->elem);
  if (from->kind == TypeKind::Int && to->kind == TypeKind::Decimal) return true;
  if (from->kind == TypeKind::Money && to->kind == TypeKind::Money)
    return from->currency.empty() || to->currency.empty() || from->currency == to->currency;
  if (from->kind == TypeKind::List && to->kind == TypeKind::List) return assignable(from->elem, to->elem);
  // An actor is who a person record stands for in commands: `actor == resource.submitter`.
  if (from->kind == TypeKind::Actor && to->kind == TypeKind::Record) return true;
  if (from->kind == TypeKind::Record && to->kind == TypeKind::Actor) return true;
  return false;
}

bool TypeChecker::comparable(const Type* a, const Type* b) const {
  if (a->kind == TypeKind::None || b->kind == TypeKind::None) return true;
  auto base = [](const Type* t) { return t->kind == TypeKind::Optional ? t->elem : t; };
  return assignable(base(a), base(b)) || assignable(base(b), base(a));
}

const Type* TypeChecker::unify(const Type* a, const Type* b) {
  if (a->is_error()) return b;
  if (b->is_error()) return a;
  if (assignable(a, b)) return b->kind == TypeKind::Money && b->currency.empty() ? a : b;
  if (assignable(b, a)) return a;
  return nullptr;
}

const Type* TypeChecker::expr_inner(const Expr* e, const Type* expected) {
  switch (e->kind) {
    case ExprKind::Literal:
      return literal(static_cast<const LiteralExpr*>(e));
    case ExprKind::Name:
      return name(static_cast<const NameExpr*>(e), expected);
    case ExprKind::Field:
      return field(static_cast<const FieldExpr*>(e));
    case ExprKind::Call:
      return call_expr(static_cast<const CallExpr*>(e));
    case ExprKind::Binary:
      return binary(static_cast<const BinaryExpr*>(e));
    case ExprKind::List:
      return list(static_cast<const ListExpr*>(e), expected);
    case ExprKind::Comprehension:
      return comprehension(static_cast<const ComprehensionExpr*>(e));
    case ExprKind::Index: {
      auto* x = static_cast<const IndexExpr*>(e);
      const Type* t = need_value(x->object.get(), expr(x->object.get()));
      const Type* i = expr(x->index.get());
      expect(x->index.get(), i, types_.int_(), "a list index");
      if (t->is_error()) return t;
      if (t->kind != TypeKind::List) {
        report(diag::Code::E0305, e->span, "only lists can be indexed, and this is " + t->str());
        return types_.error();
      }
      return t->elem;
    }
    case ExprKind::Unary: {
      auto* x = static_cast<const UnaryExpr*>(e);
      if (x->op == UnaryOp::Not) {
        expect_bool(x->operand.get(), "the operand of `not`");
        return types_.bool_();
      }
      const Type* t = need_value(x->operand.get(), expr(x->operand.get(), expected));
      if (t->is_error() || t->is_numeric() || t->kind == TypeKind::Money || t->kind == TypeKind::Duration)
        return t;
      report(diag::Code::E0305, e->span, "`-` is not defined for " + t->str());
      return types_.error();
    }
  }
  return types_.error();
}

const Type* TypeChecker::literal(const LiteralExpr* e) {
  switch (e->lit) {
    case LiteralKind::Int:
      return types_.int_();
    case LiteralKind::Decimal:
    case LiteralKind::Percent:
      return types_.decimal();
    case LiteralKind::Money:
      if (!is_currency_code(e->currency)) {
        report(diag::Code::E0306, e->span, "`" + e->currency + "` is not an ISO 4217 currency code")
            .with_hint("use a code like USD, EUR, GBP, JPY");
        return types_.error();
      }
      return types_.money(e->currency);
    case LiteralKind::Duration:
      return types_.duration();
    case LiteralKind::Date:
      return types_.date();
    case LiteralKind::String:
      return types_.string();
    case LiteralKind::Bool:
      return types_.bool_();
    case LiteralKind::None:
      return types_.none();
  }
  return types_.error();
}

const Type* TypeChecker::type_of_decl(const Decl* d) {
  switch (d->kind) {
    case DeclKind::Record:
      return types_.of_decl(TypeKind::Record, d);
    case DeclKind::Enum:
      return types_.of_decl(TypeKind::Enum, d);
    case DeclKind::Event:
      return types_.of_decl(TypeKind::Event, d);
    case DeclKind::Role:
      return types_.of_decl(TypeKind::Role, d);
    case DeclKind::Process:
      return types_.of_decl(TypeKind::Process, d);
    default:
      return nullptr;
  }
}

const Type* TypeChecker::type_of(const TypeExpr& t) {
  auto cached = type_cache_.find(&t);
  if (cached != type_cache_.end()) return cached->second;
  const Type* r = resolve_type(t);
  type_cache_[&t] = r;
  prog_.type_exprs[&t] = r;
  return r;
}

const Type* TypeChecker::resolve_type(const TypeExpr& t) {
  if (t.name.empty()) return types_.error();
  const Type* base = nullptr;
  std::string n = t.name.str();
  auto args_count = [&](size_t want) {
    if (t.args.size() != want) {
      report(diag::Code::E0304, t.span,
             "`" + n + "` takes " + std::to_string(want) + " type argument" + (want == 1 ? "" : "s") +
                 ", not " + std::to_string(t.args.size()));
      return false;
    }
    return true;
  };
  if (n == "Int")
    base = types_.int_();
  else if (n == "Decimal")
    base = types_.decimal();
  else if (n == "Bool")
    base = types_.bool_();
  else if (n == "String")
    base = types_.string();
  else if (n == "Date")
    base = types_.date();
  else if (n == "Duration")
    base = types_.duration();
  else if (n == "Unit")
    base = types_.unit();
  else if (n == "Actor")
    base = types_.actor();
  else if (n == "Org")
    base = types_.org();
  else if (n == "Money") {
    if (t.args.empty())
      base = types_.money("");
    else if (args_count(1)) {
      std::string cur = t.args[0].name.str();
      if (!is_currency_code(cur)) {
        report(diag::Code::E0306, t.args[0].span, "`" + cur + "` is not an ISO 4217 currency code")
            .with_hint("write Money<USD>, Money<EUR>, …, or plain Money for any currency");
        base = types_.error();
      } else {
        base = types_.money(cur);
      }
    } else {
      base = types_.error();
    }
    return t.optional ? types_.optional(base) : base;
  } else if (n == "List") {
    base = args_count(1) ? types_.list(type_of(t.args[0])) : types_.error();
    return t.optional ? types_.optional(base) : base;
  } else {
    const Decl* d = sym_.lookup(file_, t.name);
    if (!d) {
      if (!sym_.is_broken(file_, n)) {
        auto& diag = report(diag::Code::E0304, t.name.span, "unknown type `" + n + "`");
        std::vector<std::string> cands = {"Int",      "Decimal", "Money", "Bool",  "String", "Date",
                                          "Duration", "List",    "Unit",  "Actor", "Org"};
        for (auto& v : sym_.visible_names(file_)) cands.push_back(v);
        std::string near = closest(n, cands);
        if (!near.empty()) diag.with_hint("did you mean `" + near + "`?");
      }
      return types_.error();
    }
    sym_.use(d);
    base = type_of_decl(d);
    if (!base) {
      report(diag::Code::E0202, t.name.span, "`" + n + "` is a " + keyword(d->kind) + ", not a type")
          .note(d->name.span, "defined here");
      return types_.error();
    }
  }
  if (!t.args.empty() && n != "Money" && n != "List") {
    report(diag::Code::E0304, t.span, "`" + n + "` takes no type arguments");
  }
  return t.optional ? types_.optional(base) : base;
}

const Decl* TypeChecker::decl_of(const Expr* e) {
  if (auto* n = dyn<NameExpr>(e)) {
    if (local(n->name)) return nullptr;
    return sym_.lookup(file_, n->name);
  }
  if (auto* f = dyn<FieldExpr>(e)) {
    // pkg.Name or a dotted event name: build the dotted path if the object is a pure name chain.
    std::string path = f->field.text;
    const Expr* o = f->object.get();
    while (auto* ff = dyn<FieldExpr>(o)) {
      path = ff->field.text + "." + path;
      o = ff->object.get();
    }
    if (auto* n = dyn<NameExpr>(o)) {
      if (local(n->name)) return nullptr;
      return sym_.lookup(file_, n->name + "." + path);
    }
  }
  return nullptr;
}

const Type* TypeChecker::name(const NameExpr* e, const Type* expected) {
  if (const Local* l = local(e->name)) {
    prog_.expr_bindings[e] = l->binding;
    if (l->is_step && l->fields.size() > 0 && l->type->is_error()) return types_.error();
    return l->type;
  }
  // A bare enum value where an enum is expected: `status == approved`.
  if (expected && expected->kind == TypeKind::Enum) {
    auto* en = as<EnumDecl>(expected->decl);
    for (auto& v : en->values)
      if (v.text == e->name) return expected;
  }
  if (e->name == "today") return types_.date();
  if (e->name == "actor" && (ctx_ == Context::Policy || resource_)) return types_.actor();
  if (e->name == "resource" && resource_) return resource_;
  if (e->name == "org") return types_.org();
  if (const Decl* d = sym_.lookup(file_, e->name)) {
    sym_.use(d);
    prog_.expr_decls[e] = d;
    switch (d->kind) {
      case DeclKind::Record:
      case DeclKind::Event:
      case DeclKind::Process:
        // A type name as a value means all its instances (in metrics, rules and comprehensions).
        return types_.list(type_of_decl(d));
      case DeclKind::Enum:
        return types_.of_decl(TypeKind::Enum, d);
      case DeclKind::Table:
        return types_.of_decl(TypeKind::Table, d);
      case DeclKind::Function:
        return types_.of_decl(TypeKind::Function, d);
      case DeclKind::Connector:
        return types_.of_decl(TypeKind::Connector, d);
      case DeclKind::Role:
        return types_.of_decl(TypeKind::Role, d);
      case DeclKind::Metric: {
        auto* m = as<MetricDecl>(d);
        if (m->type) return type_of(*m->type);
        return prog_.expr_types.count(m->formula.get()) ? prog_.expr_types[m->formula.get()] : types_.error();
      }
      default:
        report(diag::Code::E0202, e->span,
               std::string("`") + e->name + "` is a " + keyword(d->kind) + " and cannot be used as a value")
            .note(d->name.span, "defined here");
        return types_.error();
    }
  }
  if (sym_.is_broken(file_, e->name)) return types_.error();
  // An enum value written bare where no enum is expected: find it in the visible enums.
  unknown("name", e->name, e->span);
  return types_.error();
}

void TypeChecker::unknown(const std::string& what, const std::string& n, source::Span where) {
  auto& d = report(diag::Code::E0200, where, "unknown " + what + " `" + n + "`");
  std::vector<std::string> cands = sym_.visible_names(file_);
  for (auto& s : scopes_)
    for (auto& [k, v] : s) cands.push_back(k);
  std::string near = closest(n, cands);
  if (!near.empty()) d.with_hint("did you mean `" + near + "`?");
}

const Type* TypeChecker::field_of(const Type* t, const Name& f, source::Span where) {
  static const std::map<TypeKind, std::map<std::string, int>> builtin;  // (unused: see switch)
  (void)builtin;
  const std::string& n = f.text;
  auto missing = [&](const std::vector<std::string>& known) {
    auto& d =
        report(diag::Code::E0203, f.span.valid() ? f.span : where, t->str() + " has no field `" + n + "`");
    std::string near = closest(n, known);
    if (!near.empty()) d.with_hint("did you mean `" + near + "`?");
    return types_.error();
  };
  switch (t->kind) {
    case TypeKind::Error:
      return t;
    case TypeKind::Optional:
      report(diag::Code::E0302, where, "cannot read `" + n + "` of an optional value (" + t->str() + ")")
          .with_hint("use `?.` to read it as an optional, or `??` to give a default");
      return types_.error();
    case TypeKind::Record:
    case TypeKind::Event: {
      const std::vector<FieldDecl>& fs =
          t->kind == TypeKind::Record ? as<RecordDecl>(t->decl)->fields : as<EventDecl>(t->decl)->fields;
      std::vector<std::string> known;
      for (auto& fd : fs) {
        if (fd.name.text == n) return type_of(fd.type);
        known.push_back(fd.name.text);
      }
      if (t->kind == TypeKind::Record && (n == "id" || n == "state")) return types_.string();
      if (t->kind == TypeKind::Event && n == "at") return types_.date();
      return missing(known);
    }
    case TypeKind::Process: {
      auto* p = as<ProcessDecl>(t->decl);
      std::vector<std::string> known = {"duration", "started_at", "ended_at", "status"};
      for (auto& prm : p->params) {
        if (prm.name.text == n) return type_of(prm.type);
        known.push_back(prm.name.text);
      }
      if (n == "duration") return types_.duration();
      if (n == "started_at") return types_.date();
      if (n == "ended_at") return types_.optional(types_.date());
      if (n == "status") return types_.string();
      return missing(known);
    }
    case TypeKind::Table: {
      // A decision table with several outputs returns them as named fields.
      std::vector<std::string> known;
      for (auto& o : as<TableDecl>(t->decl)->outputs) {
        if (o.name.text == n) return type_of(o.type);
        known.push_back(o.name.text);
      }
      return missing(known);
    }
    case TypeKind::Actor:
      if (n == "id" || n == "name") return types_.string();
      if (n == "units") return types_.list(types_.unit());
      if (n == "roles") return types_.list(types_.string());
      return missing({"id", "name", "units", "roles"});
    case TypeKind::Unit:
      if (n == "name" || n == "kind") return types_.string();
      if (n == "parent") return types_.optional(types_.unit());
      return missing({"name", "kind", "parent"});
    case TypeKind::Org:
      if (n == "name" || n == "state" || n == "currency") return types_.string();
      return missing({"name", "state", "currency"});
    case TypeKind::Money:
      if (n == "amount") return types_.decimal();
      if (n == "currency") return types_.string();
      return missing({"amount", "currency"});
    case TypeKind::Date:
      if (n == "year" || n == "month" || n == "day") return types_.int_();
      return missing({"year", "month", "day"});
    case TypeKind::Duration:
      if (n == "days" || n == "hours" || n == "minutes" || n == "seconds") return types_.int_();
      return missing({"days", "hours", "minutes", "seconds"});
    case TypeKind::List:
      // Reading a field of "all instances" (Expense.amount, ApproveExpense.duration) gives the list of
      // that field's values: the shorthand metrics use.
      if (t->elem->kind == TypeKind::Record || t->elem->kind == TypeKind::Event ||
          t->elem->kind == TypeKind::Process) {
        const Type* ft = field_of(t->elem, f, where);
        return ft->is_error() ? ft : types_.list(ft);
      }
      [[fallthrough]];
    default:
      report(diag::Code::E0203, f.span.valid() ? f.span : where,
             t->str() + " has no fields (reading `" + n + "`)");
      return types_.error();
  }
}

const Type* TypeChecker::field(const FieldExpr* e) {
  // A dotted name that denotes a declaration (pkg.Type, finance.expense.approved) or an enum value.
  if (const Decl* d = decl_of(e)) {
    sym_.use(d);
    prog_.expr_decls[e] = d;
    auto n = std::make_unique<NameExpr>(d->name.text, e->span);
    if (const Type* t = type_of_decl(d)) {
      if (d->kind == DeclKind::Enum) return t;
      return types_.list(t);
    }
    if (d->kind == DeclKind::Table) return types_.of_decl(TypeKind::Table, d);
    if (d->kind == DeclKind::Function) return types_.of_decl(TypeKind::Function, d);
    if (d->kind == DeclKind::Connector) return types_.of_decl(TypeKind::Connector, d);
  }
  // A step's result (task outcome and returned fields, call results).
  if (auto* n = dyn<NameExpr>(e->object.get())) {
    if (const Local* l = local(n->name)) {
      if (l->is_step) {
        prog_.expr_types[e->object.get()] = l->type;
        prog_.expr_bindings[e->object.get()] = l->binding;
        auto it = l->fields.find(e->field.text);
        if (it != l->fields.end()) return it->second;
        if (!l->type->is_error() && l->type->kind != TypeKind::Error && l->fields.empty())
          return field_of(l->type, e->field, e->span);
        std::vector<std::string> known;
        for (auto& [k, v] : l->fields) known.push_back(k);
        auto& d = report(diag::Code::E0203, e->field.span,
                         "`" + n->name + "` has no field `" + e->field.text + "`");
        std::string near = closest(e->field.text, known);
        if (!near.empty()) d.with_hint("did you mean `" + near + "`?");
        return types_.error();
      }
    }
  }
  const Type* obj = expr(e->object.get());
  if (obj->kind == TypeKind::Enum) {
    auto* en = as<EnumDecl>(obj->decl);
    if (prog_.expr_decls.count(e->object.get())) {  // Status.approved
      for (auto& v : en->values)
        if (v.text == e->field.text) return obj;
      report(diag::Code::E0203, e->field.span,
             "enum `" + en->name.text + "` has no value `" + e->field.text + "`");
      return types_.error();
    }
  }
  if (e->optional_chain) {
    if (obj->kind == TypeKind::Optional) return types_.optional(field_of(obj->elem, e->field, e->span));
    return types_.optional(field_of(obj, e->field, e->span));
  }
  return field_of(obj, e->field, e->span);
}

const Type* TypeChecker::list(const ListExpr* e, const Type* expected) {
  const Type* want = expected && expected->kind == TypeKind::List ? expected->elem : nullptr;
  const Type* elem = want;
  for (auto& item : e->items) {
    const Type* t = expr(item.get(), elem);
    if (!elem) {
      elem = t;
      continue;
    }
    const Type* u = unify(elem, t);
    if (!u) {
      report(diag::Code::E0300, item->span,
             "list items must have one type: this is " + t->str() + ", earlier items are " + elem->str());
      continue;
    }
    elem = u;
  }
  return types_.list(elem ? elem : types_.error());
}

const Type* TypeChecker::comprehension(const ComprehensionExpr* e) {
  const std::string& agg = e->aggregate.text;
  if (!is_aggregate(agg)) {
    report(diag::Code::E0200, e->aggregate.span, "unknown aggregate `" + agg + "`")
        .with_hint("aggregates are count, sum, min, max, avg, all, any, list");
  }
  const Type* src = need_value(e->source.get(), expr(e->source.get()));
  const Type* elem = types_.error();
  if (src->kind == TypeKind::List)
    elem = src->elem;
  else if (!src->is_error())
    report(diag::Code::E0300, e->source->span,
           "`in` needs a list or a record, event or process type, not " + src->str());
  push();
  Local var;
  var.type = elem;
  var.span = e->var.span;
  var.kind = BindingKind::CompVar;
  bind(e->var, var);
  // The comprehension itself maps to its variable, so lowering finds the variable's slot directly.
  if (const Local* l = local(e->var.text)) prog_.expr_bindings[e] = l->binding;
  if (e->filter) expect_bool(e->filter.get(), "the `where` condition");
  const Type* value = elem;
  if (e->element) value = expr(e->element.get());
  pop();
  value = need_value(e->element ? e->element.get() : e->source.get(), value);
  if (agg == "count") {
    if (e->element) expect(e->element.get(), value, types_.bool_(), "what `count` counts");
    return types_.int_();
  }
  if (agg == "all" || agg == "any") {
    if (e->element)
      expect(e->element.get(), value, types_.bool_(), std::string("the condition of `") + agg + "`");
    return types_.bool_();
  }
  if (agg == "list") return types_.list(value);
  bool summable = value->is_error() || value->is_numeric() || value->kind == TypeKind::Money ||
                  value->kind == TypeKind::Duration;
  bool orderable = summable || value->kind == TypeKind::Date || value->kind == TypeKind::String;
  if ((agg == "sum" || agg == "avg") && !summable) {
    report(diag::Code::E0305, e->span,
           "`" + agg + "` needs numbers, money or durations, not " + value->str());
    return types_.error();
  }
  if ((agg == "min" || agg == "max") && !orderable) {
    report(diag::Code::E0305, e->span, "`" + agg + "` needs values that can be ordered, not " + value->str());
    return types_.error();
  }
  if (agg == "avg" && value->kind == TypeKind::Int) return types_.decimal();
  return value;
}

const Type* TypeChecker::builtin_call(const std::string& fn, const CallExpr* e, bool& handled) {
  handled = true;
  auto argc = [&](size_t lo, size_t hi) {
    if (e->args.size() < lo || e->args.size() > hi) {
      report(diag::Code::E0303, e->span,
             "`" + fn + "` takes " +
                 (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                 " argument" + (hi == 1 ? "" : "s") + ", not " + std::to_string(e->args.size()));
      for (auto& a : e->args) expr(a.value.get());
      return false;
    }
    return true;
  };
  auto arg = [&](size_t i) { return need_value(e->args[i].value.get(), expr(e->args[i].value.get())); };
  // Aggregates over a list value: count(xs), sum(xs), avg(ApproveExpense.duration), min(a, b).
  if (is_aggregate(fn) && !(e->args.size() == 2 && (fn == "min" || fn == "max"))) {
    if (!argc(1, 1)) return types_.error();
    const Type* t = arg(0);
    if (t->is_error()) return t;
    if (t->kind != TypeKind::List) {
      report(diag::Code::E0300, e->args[0].value->span, "`" + fn + "` needs a list, not " + t->str());
      return types_.error();
    }
    const Type* el = t->elem;
    if (fn == "count") return types_.int_();
    if (fn == "list") return t;
    if (fn == "all" || fn == "any") {
      expect(e->args[0].value.get(), el, types_.bool_(), std::string("the items of `") + fn + "`");
      return types_.bool_();
    }
    bool summable =
        el->is_error() || el->is_numeric() || el->kind == TypeKind::Money || el->kind == TypeKind::Duration;
    if (!summable && !(fn == "min" || fn == "max")) {
      report(diag::Code::E0305, e->span, "`" + fn + "` needs numbers, money or durations, not " + el->str());
      return types_.error();
    }
    if (fn == "avg" && el->kind == TypeKind::Int) return types_.decimal();
    return el;
  }
  if (fn == "min" || fn == "max") {
    const Type* a = arg(0);
    const Type* b = arg(1);
    const Type* u = unify(a, b);
    if (!u) {
      report(diag::Code::E0300, e->span,
             "`" + fn + "` needs two values of one type, not " + a->str() + " and " + b->str());
      return types_.error();
    }
    return u;
  }
  if (fn == "abs") {
    if (!argc(1, 1)) return types_.error();
    const Type* t = arg(0);
    if (!(t->is_error() || t->is_numeric() || t->kind == TypeKind::Money || t->kind == TypeKind::Duration))
      report(diag::Code::E0305, e->span, "`abs` is not defined for " + t->str());
    return t;
  }
  if (fn == "round") {
    if (!argc(1, 2)) return types_.error();
    const Type* t = arg(0);
    if (e->args.size() == 2) expect(e->args[1].value.get(), arg(1), types_.int_(), "the number of places");
    if (!(t->is_error() || t->is_numeric() || t->kind == TypeKind::Money))
      report(diag::Code::E0305, e->span, "`round` is not defined for " + t->str());
    return t;
  }
  if (fn == "len") {
    if (!argc(1, 1)) return types_.error();
    const Type* t = arg(0);
    if (!(t->is_error() || t->kind == TypeKind::String || t->kind == TypeKind::List))
      report(diag::Code::E0305, e->span, "`len` needs a string or a list, not " + t->str());
    return types_.int_();
  }
  if (fn == "lower" || fn == "upper") {
    if (!argc(1, 1)) return types_.error();
    expect(e->args[0].value.get(), arg(0), types_.string(), "the argument of `" + fn + "`");
    return types_.string();
  }
  if (fn == "contains") {
    if (!argc(2, 2)) return types_.error();
    expect(e->args[0].value.get(), arg(0), types_.string(), "the text searched by `contains`");
    expect(e->args[1].value.get(), arg(1), types_.string(), "the text `contains` looks for");
    return types_.bool_();
  }
  if (fn == "year" || fn == "month" || fn == "day") {
    if (!argc(1, 1)) return types_.error();
    expect(e->args[0].value.get(), arg(0), types_.date(), "the argument of `" + fn + "`");
    return types_.int_();
  }
  if (fn == "days_between") {
    if (!argc(2, 2)) return types_.error();
    expect(e->args[0].value.get(), arg(0), types_.date(), "the first date");
    expect(e->args[1].value.get(), arg(1), types_.date(), "the second date");
    return types_.int_();
  }
  handled = false;
  return types_.error();
}

const Type* TypeChecker::call_expr(const CallExpr* e) {
  std::string fn;
  if (auto* n = dyn<NameExpr>(e->callee.get())) fn = n->name;
  const Decl* d = decl_of(e->callee.get());
  if (!d && !fn.empty() && !local(fn) && (is_builtin_function(fn) || is_aggregate(fn))) {
    bool handled = false;
    const Type* t = builtin_call(fn, e, handled);
    if (handled) return t;
  }
  if (!d) {
    const Type* t = expr(e->callee.get());
    if (!t->is_error())
      report(diag::Code::E0308, e->callee->span, "a " + t->str() + " cannot be called")
          .with_hint(
              "only functions (`fn`), decision tables and built-in functions are called in expressions");
    for (auto& a : e->args) expr(a.value.get());
    return types_.error();
  }
  sym_.use(d);
  prog_.expr_decls[e->callee.get()] = d;
  if (d->kind == DeclKind::Function) {
    auto* f = as<FunctionDecl>(d);
    args(e->args, f->params, d->name.text, e->span);
    return type_of(f->result);
  }
  if (d->kind == DeclKind::Table) {
    auto* t = as<TableDecl>(d);
    args(e->args, t->inputs, d->name.text, e->span);
    const Type* out =
        t->outputs.size() == 1 ? type_of(t->outputs[0].type) : types_.of_decl(TypeKind::Table, d);
    if (t->hit == HitPolicy::Collect) {
      if (t->aggregate.text == "count") return types_.int_();
      if (!t->aggregate.empty()) return out;
      return types_.list(out);
    }
    return out;
  }
  report(diag::Code::E0308, e->callee->span,
         std::string("`") + d->name.text + "` is a " + keyword(d->kind) +
             " and cannot be called in an expression")
      .note(d->name.span, "defined here")
      .with_hint(d->kind == DeclKind::Process
                     ? "start it with `run` or `start` as a step"
                     : "only functions and decision tables are called in expressions");
  for (auto& a : e->args) expr(a.value.get());
  return types_.error();
}

void TypeChecker::currency_mismatch(const BinaryExpr* e, const Type* l, const Type* r) {
  report(diag::Code::E0301, e->op_span.valid() ? e->op_span : e->span,
         std::string("cannot combine ") + l->str() + " and " + r->str() + " with `" + spelling(e->op) + "`")
      .note(e->lhs->span, "this is " + l->str())
      .note(e->rhs->span, "this is " + r->str())
      .with_hint("convert one amount explicitly; OrgOS never mixes currencies silently");
}

const Type* TypeChecker::binary(const BinaryExpr* e) {
  BinaryOp op = e->op;
  if (op == BinaryOp::And || op == BinaryOp::Or) {
    expect_bool(e->lhs.get(), std::string("the left side of `") + spelling(op) + "`");
    // The right side runs only when the left is true (and) or false (or): narrow by what that implies.
    std::set<std::string> implied;
    narrowings(e->lhs.get(), op == BinaryOp::And, implied);
    narrowed_.push_back(std::move(implied));
    expect_bool(e->rhs.get(), std::string("the right side of `") + spelling(op) + "`");
    narrowed_.pop_back();
    return types_.bool_();
  }
  if (op == BinaryOp::IsNone || op == BinaryOp::IsSome) {
    const Type* t = expr(e->lhs.get());
    if (!t->is_error() && t->kind != TypeKind::Optional)
      report(diag::Code::E0305, e->span,
             "`" + std::string(spelling(op)) + "` tests an optional value, and this is " + t->str() +
                 " (never none)");
    return types_.bool_();
  }
  // Let an enum on one side give meaning to a bare value name on the other.
  const Type* l = expr(e->lhs.get());
  const Type* r =
      expr(e->rhs.get(), l->kind == TypeKind::Enum ? l : (l->kind == TypeKind::Optional ? l->elem : nullptr));
  if (l->is_error() || r->is_error()) {
    switch (op) {
      case BinaryOp::Eq:
      case BinaryOp::Ne:
      case BinaryOp::Lt:
      case BinaryOp::Le:
      case BinaryOp::Gt:
      case BinaryOp::Ge:
      case BinaryOp::In:
      case BinaryOp::NotIn:
        return types_.bool_();
      default:
        return types_.error();
    }
  }
  if (op == BinaryOp::Coalesce) {
    if (l->kind != TypeKind::Optional) {
      report(diag::Code::E0305, e->lhs->span,
             "`??` gives a default for an optional value, and this is " + l->str() + " (never none)");
      return l;
    }
    expect(e->rhs.get(), r, l->elem, "the default after `??`");
    return r->kind == TypeKind::Optional ? l : l->elem;
  }
  if (op == BinaryOp::Eq || op == BinaryOp::Ne) {
    if (l->kind == TypeKind::Money && r->kind == TypeKind::Money && !l->currency.empty() &&
        !r->currency.empty() && l->currency != r->currency) {
      currency_mismatch(e, l, r);
    } else if (!comparable(l, r)) {
      report(diag::Code::E0300, e->op_span, "cannot compare " + l->str() + " with " + r->str());
    }
    // A task's outcome compared with a name that is not one of its outcomes can never be true.
    if (auto* lf = dyn<FieldExpr>(e->lhs.get())) {
      auto* ln = dyn<NameExpr>(lf->object.get());
      auto* lit = dyn<LiteralExpr>(e->rhs.get());
      if (ln && lit && lit->lit == LiteralKind::String && lf->field.text == "outcome") {
        const Local* loc = local(ln->name);
        if (loc && loc->outcomes) {
          bool found = false;
          std::vector<std::string> names;
          for (auto& o : *loc->outcomes) {
            names.push_back(o.text);
            found = found || o.text == lit->text;
          }
          if (!found) {
            std::string list;
            for (auto& nm : names) list += (list.empty() ? "" : ", ") + nm;
            report(diag::Code::E0505, lit->span, "`" + ln->name + "` has no outcome \"" + lit->text + "\"")
                .with_hint("its outcomes are: " + list);
          }
        }
      }
    }
    return types_.bool_();
  }
  if (op == BinaryOp::In || op == BinaryOp::NotIn) {
    l = need_value(e->lhs.get(), l);
    r = need_value(e->rhs.get(), r);
    if (r->kind == TypeKind::String) {
      expect(e->lhs.get(), l, types_.string(), "the text looked for");
      return types_.bool_();
    }
    if (r->kind != TypeKind::List) {
      report(diag::Code::E0305, e->rhs->span,
             "`in` needs a list (or a string) on its right, not " + r->str());
      return types_.bool_();
    }
    if (!comparable(l, r->elem))
      report(diag::Code::E0300, e->lhs->span, "a " + l->str() + " is never in a " + r->str());
    return types_.bool_();
  }
  l = need_value(e->lhs.get(), l);
  r = need_value(e->rhs.get(), r);
  auto bad = [&]() {
    report(diag::Code::E0305, e->op_span.valid() ? e->op_span : e->span,
           std::string("`") + spelling(op) + "` is not defined for " + l->str() + " and " + r->str());
    return types_.error();
  };
  bool lm = l->kind == TypeKind::Money, rm = r->kind == TypeKind::Money;
  auto money_result = [&]() -> const Type* {
    if (!l->currency.empty() && !r->currency.empty() && l->currency != r->currency) {
      currency_mismatch(e, l, r);
      return types_.error();
    }
    return l->currency.empty() ? r : l;
  };
  switch (op) {
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge: {
      if (lm && rm) {
        money_result();
        return types_.bool_();
      }
      bool ok = (l->is_numeric() && r->is_numeric()) ||
                (l == r &&
                 (l->kind == TypeKind::Duration || l->kind == TypeKind::Date || l->kind == TypeKind::String));
      if (!ok) bad();
      return types_.bool_();
    }
    case BinaryOp::Add:
    case BinaryOp::Sub:
      if (l->is_numeric() && r->is_numeric()) return l == r ? l : types_.decimal();
      if (lm && rm) return money_result();
      if (l->kind == TypeKind::Duration && r->kind == TypeKind::Duration) return l;
      if (l->kind == TypeKind::Date && r->kind == TypeKind::Duration) return l;
      if (op == BinaryOp::Add && l->kind == TypeKind::Duration && r->kind == TypeKind::Date) return r;
      if (op == BinaryOp::Sub && l->kind == TypeKind::Date && r->kind == TypeKind::Date)
        return types_.duration();
      if (op == BinaryOp::Add && l->kind == TypeKind::String && r->kind == TypeKind::String) return l;
      return bad();
    case BinaryOp::Mul:
      if (l->is_numeric() && r->is_numeric()) return l == r ? l : types_.decimal();
      if (lm && r->is_numeric()) return l;
      if (l->is_numeric() && rm) return r;
      if (l->kind == TypeKind::Duration && r->kind == TypeKind::Int) return l;
      if (l->kind == TypeKind::Int && r->kind == TypeKind::Duration) return r;
      return bad();
    case BinaryOp::Div:
      // Int / Int is a Decimal: business arithmetic never truncates silently.
      if (l->is_numeric() && r->is_numeric()) return types_.decimal();
      if (lm && r->is_numeric()) return l;
      if (lm && rm) {
        money_result();
        return types_.decimal();
      }
      if (l->kind == TypeKind::Duration && r->kind == TypeKind::Int) return l;
      if (l->kind == TypeKind::Duration && r->kind == TypeKind::Duration) return types_.decimal();
      return bad();
    case BinaryOp::Mod:
      if (l->kind == TypeKind::Int && r->kind == TypeKind::Int) return l;
      return bad();
    default:
      return bad();
  }
}

}  // namespace orgos::sema
