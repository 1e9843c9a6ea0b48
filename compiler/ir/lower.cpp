// AST + sema facts → OrgIR. Sema has already resolved every name (expr_bindings, expr_decls) and typed
// every expression (expr_types); lowering only decides where values live and makes implicit
// conversions explicit (Int→Decimal widening, operand order for Money and Duration products).
#include "compiler/ir/lower.h"

#include <cassert>
#include <cstdio>
#include <functional>

#include "compiler/driver/compilation.h"
#include "compiler/interp/evaluator.h"
#include "compiler/ir/step_shape.h"

namespace orgos::ir {

using sema::Binding;
using sema::BindingKind;
using sema::TypeKind;

namespace {

class Lowerer {
 public:
  Lowerer(const driver::Compilation& c, Lowered& out) : c_(c), p_(*c.program), out_(out), m_(out.module) {}

  void run() {
    builtin_layouts();
    // Layouts first: expressions anywhere may read fields of any record.
    for_each_decl([&](const ast::Decl* d) { declare_layout(d); });
    for_each_decl([&](const ast::Decl* d) { declare_callable(d); });
    for_each_decl([&](const ast::Decl* d) { lower_decl(d); });
  }

 private:
  // How names bound in the current piece of code become IR.
  struct Ctx {
    std::function<NodePtr(const Binding*, source::Span)> binding;
    std::unordered_map<const Binding*, uint32_t> locals;  // comprehension variables
    uint32_t nlocals = 0;
    bool policy = false;  // `actor` = Param 0, `resource` = Param 1
  };

  void for_each_decl(const std::function<void(const ast::Decl*)>& fn) {
    for (const auto& f : c_.files)
      for (const auto& d : f.module->decls) {
        fn(d.get());
        if (d->kind == ast::DeclKind::Template)
          for (const auto& inner : ast::as<ast::TemplateDecl>(d.get())->decls) fn(inner.get());
      }
  }

  // ---------------------------------------------------------------- types and layouts

  uint32_t add_layout(std::string name, std::vector<std::string> fields, std::vector<IType> types) {
    m_.layouts.push_back({std::move(name), std::move(fields), std::move(types), {}});
    return static_cast<uint32_t>(m_.layouts.size() - 1);
  }

  void builtin_layouts() {
    IType str = IType::of(Kind::Str);
    IType unit = IType::of(Kind::Rec);
    unit.id = kUnitLayout;
    IType units = IType::of(Kind::List);
    units.elem = std::make_shared<IType>(unit);
    IType roles = IType::of(Kind::List);
    roles.elem = std::make_shared<IType>(str);
    IType parent = unit;
    parent.optional = true;
    add_layout("Actor", {"id", "name", "units", "roles"}, {str, str, units, roles});
    add_layout("Unit", {"name", "kind", "parent"}, {str, str, parent});
    add_layout("Org", {"name", "state", "currency"}, {str, str, str});
  }

  void declare_layout(const ast::Decl* d) {
    switch (d->kind) {
      case ast::DeclKind::Record:
      case ast::DeclKind::Event:
      case ast::DeclKind::Process:
        out_.layout_of[d] = add_layout(d->name.text, {}, {});  // filled once every id exists
        pending_.push_back(d);
        break;
      case ast::DeclKind::Enum: {
        auto* e = ast::as<ast::EnumDecl>(d);
        EnumInfo info{e->name.text, {}};
        for (auto& v : e->values) info.values.push_back(v.text);
        enum_of_[d] = static_cast<uint32_t>(m_.enums.size());
        m_.enums.push_back(std::move(info));
        break;
      }
      default:
        break;
    }
  }

  void fill_layouts() {
    for (const ast::Decl* d : pending_) {
      RecordLayout& l = m_.layouts[out_.layout_of[d]];
      auto add = [&](const std::string& n, IType t) {
        l.fields.push_back(n);
        l.types.push_back(std::move(t));
      };
      if (d->kind == ast::DeclKind::Record) {
        for (auto& f : ast::as<ast::RecordDecl>(d)->fields) add(f.name.text, field_type(f.type));
        add("id", IType::of(Kind::Str));
        add("state", IType::of(Kind::Str));
      } else if (d->kind == ast::DeclKind::Event) {
        for (auto& f : ast::as<ast::EventDecl>(d)->fields) add(f.name.text, field_type(f.type));
        add("at", IType::of(Kind::Date));
      } else {
        for (auto& prm : ast::as<ast::ProcessDecl>(d)->params) add(prm.name.text, field_type(prm.type));
        add("duration", IType::of(Kind::Dur));
        add("started_at", IType::of(Kind::Date));
        IType ended = IType::of(Kind::Date);
        ended.optional = true;
        add("ended_at", ended);
        add("status", IType::of(Kind::Str));
      }
    }
    pending_.clear();
  }

  // The type of a declared field, parameter or result, as sema resolved it.
  IType field_type(const ast::TypeExpr& t) {
    auto it = p_.type_exprs.find(&t);
    return it == p_.type_exprs.end() ? IType::of(Kind::None) : itype(it->second);
  }

  IType itype(const sema::Type* t) {
    IType r;
    if (!t) return IType::of(Kind::None);
    switch (t->kind) {
      case TypeKind::Int:
        return IType::of(Kind::Int);
      case TypeKind::Decimal:
        return IType::of(Kind::Dec);
      case TypeKind::Money:
        r = IType::of(Kind::Money);
        r.currency = currency_code(t->currency);
        return r;
      case TypeKind::Bool:
        return IType::of(Kind::Bool);
      case TypeKind::String:
      case TypeKind::Role:
        return IType::of(Kind::Str);
      case TypeKind::Date:
        return IType::of(Kind::Date);
      case TypeKind::Duration:
        return IType::of(Kind::Dur);
      case TypeKind::None:
        r = IType::of(Kind::None);
        r.optional = true;
        return r;
      case TypeKind::Enum:
        r = IType::of(Kind::Enum);
        r.id = enum_of_.count(t->decl) ? enum_of_[t->decl] : 0;
        return r;
      case TypeKind::Record:
      case TypeKind::Event:
      case TypeKind::Process:
        r = IType::of(Kind::Rec);
        r.id = out_.layout_of.count(t->decl) ? out_.layout_of[t->decl] : 0;
        return r;
      case TypeKind::Table:
        r = IType::of(Kind::Rec);
        r.id = table_layout_.count(t->decl) ? table_layout_[t->decl] : 0;
        return r;
      case TypeKind::Unit:
        r = IType::of(Kind::Rec);
        r.id = kUnitLayout;
        return r;
      case TypeKind::Actor:
        r = IType::of(Kind::Rec);
        r.id = kActorLayout;
        return r;
      case TypeKind::Org:
        r = IType::of(Kind::Rec);
        r.id = kOrgLayout;
        return r;
      case TypeKind::List:
        r = IType::of(Kind::List);
        r.elem = std::make_shared<IType>(itype(t->elem));
        return r;
      case TypeKind::Optional:
        r = itype(t->elem);
        r.optional = true;
        return r;
      default:
        return IType::of(Kind::None);
    }
  }

  const sema::Type* type_of(const ast::Expr* e) const {
    auto it = p_.expr_types.find(e);
    return it == p_.expr_types.end() ? nullptr : it->second;
  }

  // ---------------------------------------------------------------- functions

  void declare_callable(const ast::Decl* d) {
    fill_layouts();
    if (d->kind == ast::DeclKind::Function || d->kind == ast::DeclKind::Metric) {
      Function f;
      f.name = d->name.text;
      f.kind = d->kind == ast::DeclKind::Function ? FunctionKind::Fn : FunctionKind::Metric;
      f.span = d->span;
      out_.function_of[d] = static_cast<uint32_t>(m_.functions.size());
      m_.functions.push_back(std::move(f));
    } else if (d->kind == ast::DeclKind::Table) {
      auto* t = ast::as<ast::TableDecl>(d);
      Table tab;
      tab.name = t->name.text;
      tab.span = t->span;
      out_.table_of[d] = static_cast<uint32_t>(m_.tables.size());
      if (t->outputs.size() > 1) {
        std::vector<std::string> names;
        std::vector<IType> types;
        for (auto& o : t->outputs) {
          names.push_back(o.name.text);
          types.push_back(field_type(o.type));
        }
        table_layout_[d] = add_layout(t->name.text + ".result", names, types);
      }
      m_.tables.push_back(std::move(tab));
    }
  }

  uint32_t add_function(std::string name, FunctionKind kind, std::vector<IType> params, const ast::Expr* body,
                        Ctx& ctx) {
    Function f;
    f.name = std::move(name);
    f.kind = kind;
    f.params = std::move(params);
    f.span = body ? body->span : source::Span{};
    f.body = expr(body, ctx);
    f.result = f.body->type;
    f.nlocals = ctx.nlocals;
    m_.functions.push_back(std::move(f));
    return static_cast<uint32_t>(m_.functions.size() - 1);
  }

  static std::string where(const ast::Expr* e) {
    return "@" + std::to_string(e->span.line) + ":" + std::to_string(e->span.col);
  }

  void lower_decl(const ast::Decl* d) {
    switch (d->kind) {
      case ast::DeclKind::Function: {
        auto* fd = ast::as<ast::FunctionDecl>(d);
        Ctx ctx = param_ctx();
        Function& f = m_.functions[out_.function_of[d]];
        for (auto& prm : fd->params) {
          f.params.push_back(field_type(prm.type));
          f.param_names.push_back(prm.name.text);
        }
        NodePtr body = expr(fd->body.get(), ctx);
        Function& g = m_.functions[out_.function_of[d]];
        g.result = field_type(fd->result);
        g.body = widen(std::move(body), g.result);
        g.nlocals = ctx.nlocals;
        break;
      }
      case ast::DeclKind::Metric: {
        auto* md = ast::as<ast::MetricDecl>(d);
        Ctx ctx = param_ctx();
        NodePtr body = expr(md->formula.get(), ctx);
        Function& g = m_.functions[out_.function_of[d]];
        g.result = body->type;
        g.body = std::move(body);
        g.nlocals = ctx.nlocals;
        for (const ast::ExprPtr* bound : {&md->target, &md->warn, &md->alert, &md->window})
          if (*bound) {
            Ctx c2 = param_ctx();
            out_.expr_function[bound->get()] = add_function(md->name.text + ".bound" + where(bound->get()),
                                                            FunctionKind::Expr, {}, bound->get(), c2);
          }
        break;
      }
      case ast::DeclKind::Record: {
        auto* rd = ast::as<ast::RecordDecl>(d);
        IType self = IType::of(Kind::Rec);
        self.id = out_.layout_of[d];
        for (size_t i = 0; i < rd->checks.size(); ++i) {
          Ctx ctx = self_ctx(self);
          out_.checks_of[d].push_back(add_function(rd->name.text + ".check#" + std::to_string(i),
                                                   FunctionKind::Check, {self}, rd->checks[i].cond.get(),
                                                   ctx));
          m_.functions.back().message = rd->checks[i].message;
        }
        for (auto& f : rd->fields)
          if (f.default_value) {
            Ctx ctx = param_ctx();
            out_.expr_function[f.default_value.get()] =
                add_function(rd->name.text + "." + f.name.text + ".default", FunctionKind::Expr, {},
                             f.default_value.get(), ctx);
            auto& lay = m_.layouts[out_.layout_of[d]];
            lay.defaults.resize(lay.fields.size(), kNone);
            lay.defaults[static_cast<size_t>(&f - rd->fields.data())] =
                static_cast<uint32_t>(m_.functions.size() - 1);
          }
        break;
      }
      case ast::DeclKind::Lifecycle: {
        auto* ld = ast::as<ast::LifecycleDecl>(d);
        IType self = IType::of(Kind::Rec);
        self.id = kOrgLayout;
        if (!ld->of_org)
          for (auto& [decl, id] : out_.layout_of)
            if (!ld->subject.empty() && decl->kind == ast::DeclKind::Record &&
                decl->name.text == ld->subject.parts.back().text)
              self.id = id;
        for (auto& t : ld->transitions) {
          if (t.guard) {
            Ctx ctx = self_ctx(self);
            out_.guard_of[&t] = add_function(ld->name.text + "." + t.name.text + ".guard",
                                             FunctionKind::Guard, {self}, t.guard.get(), ctx);
          }
          lower_block(
              t.effects, [&]() { return self_ctx(self); }, {self}, ld->name.text + "." + t.name.text);
        }
        break;
      }
      case ast::DeclKind::Policy: {
        auto* pd = ast::as<ast::PolicyDecl>(d);
        if (pd->when) {
          Ctx ctx = param_ctx();
          ctx.policy = true;
          out_.policy_of[d] = add_function(pd->name.text + ".when", FunctionKind::Condition,
                                           policy_params(pd->resource), pd->when.get(), ctx);
        }
        break;
      }
      case ast::DeclKind::Role: {
        auto* rd = ast::as<ast::RoleDecl>(d);
        for (auto& g : rd->grants)
          if (g.where) {
            Ctx ctx = param_ctx();
            ctx.policy = true;
            out_.expr_function[g.where.get()] =
                add_function(rd->name.text + ".may." + g.action.text + where(g.where.get()),
                             FunctionKind::Condition, policy_params(g.resource), g.where.get(), ctx);
          }
        break;
      }
      case ast::DeclKind::Rule:
        lower_rule(ast::as<ast::RuleDecl>(d));
        break;
      case ast::DeclKind::Table:
        lower_table(ast::as<ast::TableDecl>(d));
        break;
      case ast::DeclKind::Process:
        lower_process(ast::as<ast::ProcessDecl>(d));
        break;
      default:
        break;
    }
  }

  // Policies and grants are functions of (actor, resource).
  std::vector<IType> policy_params(const ast::QualifiedName& resource_name) {
    IType actor = IType::of(Kind::Rec);
    actor.id = kActorLayout;
    IType resource = IType::of(Kind::Rec);
    if (auto it = p_.names.find(&resource_name); it != p_.names.end())
      if (auto l = out_.layout_of.find(it->second); l != out_.layout_of.end()) resource.id = l->second;
    return {actor, resource};
  }

  Ctx param_ctx() {
    Ctx ctx;
    ctx.binding = [this](const Binding* b, source::Span s) {
      auto n = leaf(Op::Param, itype(b->type), s);
      n->index = b->index;
      return n;
    };
    return ctx;
  }

  // Record checks and lifecycle code: fields are read from the record in Param 0.
  Ctx self_ctx(const IType& self) {
    Ctx ctx;
    ctx.binding = [this, self](const Binding* b, source::Span s) {
      auto p = leaf(Op::Param, self, s);
      p->index = 0;
      if (b->kind == BindingKind::Self) return p;
      auto f = leaf(Op::Field, itype(b->type), s);
      f->index = b->index;
      f->kids.push_back(std::move(p));
      return f;
    };
    return ctx;
  }

  void lower_rule(const ast::RuleDecl* r) {
    // Pattern k's condition sees the facts bound by patterns 0..k (as parameters in that order).
    std::vector<IType> params;
    std::vector<const Binding*> bound;
    auto ctx_for = [&]() {
      Ctx ctx;
      ctx.binding = [this, &bound](const Binding* b, source::Span s) {
        auto n = leaf(Op::Param, itype(b->type), s);
        for (size_t i = 0; i < bound.size(); ++i)
          if (bound[i] == b) n->index = static_cast<uint32_t>(i);
        if (b->kind == BindingKind::PatternVar || b->kind == BindingKind::Accumulate) n->index = b->index;
        return n;
      };
      return ctx;
    };
    for (size_t k = 0; k < r->patterns.size(); ++k) {
      const ast::Pattern& p = r->patterns[k];
      std::vector<IType> ps = params;
      if (p.kind == ast::PatternKind::Accumulate) {
        Ctx ctx = ctx_for();
        out_.pattern_of[&p] = add_function(r->name.text + ".let." + p.var.text, FunctionKind::Condition, ps,
                                           p.where.get(), ctx);
        params.push_back(m_.functions.back().result);
        continue;
      }
      IType fact = IType::of(Kind::Rec);
      for (auto& [decl, id] : out_.layout_of)
        if (!p.type.empty() && decl->name.text == p.type.str()) fact.id = id;
      ps.push_back(fact);
      if (p.where) {
        Ctx ctx = ctx_for();
        out_.pattern_of[&p] = add_function(r->name.text + ".when#" + std::to_string(k),
                                           FunctionKind::Condition, ps, p.where.get(), ctx);
      }
      if (p.kind == ast::PatternKind::Fact) params = ps;
    }
    lower_block(r->actions, ctx_for, params, r->name.text);
  }

  void lower_table(const ast::TableDecl* t) {
    Table& tab = m_.tables[out_.table_of[t]];
    switch (t->hit) {
      case ast::HitPolicy::Unique:
        tab.hit = HitPolicy::Unique;
        break;
      case ast::HitPolicy::First:
        tab.hit = HitPolicy::First;
        break;
      case ast::HitPolicy::Priority:
        tab.hit = HitPolicy::Priority;
        break;
      case ast::HitPolicy::Any:
        tab.hit = HitPolicy::Any;
        break;
      case ast::HitPolicy::Collect:
        tab.hit = HitPolicy::Collect;
        break;
    }
    const std::string& agg = t->aggregate.text;
    tab.collect = agg == "sum"     ? CollectAgg::Sum
                  : agg == "count" ? CollectAgg::Count
                  : agg == "min"   ? CollectAgg::Min
                  : agg == "max"   ? CollectAgg::Max
                                   : CollectAgg::List;
    for (auto& i : t->inputs) tab.inputs.push_back(field_type(i.type));
    for (auto& o : t->outputs) tab.outputs.push_back(field_type(o.type));
    if (t->outputs.size() > 1) {
      tab.result_layout = table_layout_[t];
      tab.result = IType::of(Kind::Rec);
      tab.result.id = tab.result_layout;
    } else if (!tab.outputs.empty()) {
      tab.result = tab.outputs[0];
    }
    for (const ast::TableRow& row : t->rows) {
      TableRow r;
      r.span = row.span;
      Ctx ctx = param_ctx();
      for (size_t i = 0; i < row.inputs.size() && i < t->inputs.size(); ++i) {
        NodePtr cond = entry(row.inputs[i], static_cast<uint32_t>(i), tab.inputs[i], ctx);
        if (!cond) continue;
        r.condition = r.condition ? logic(Op::And, std::move(r.condition), std::move(cond)) : std::move(cond);
      }
      for (size_t o = 0; o < row.outputs.size() && o < tab.outputs.size(); ++o)
        r.outputs.push_back(widen(expr(row.outputs[o].get(), ctx), tab.outputs[o]));
      tab.rows.push_back(std::move(r));
    }
  }

  // One cell of a decision table as a condition on input `i`.
  NodePtr entry(const ast::TableEntry& e, uint32_t i, const IType& column, Ctx& ctx) {
    auto input = [&]() {
      auto n = leaf(Op::Param, column, e.span);
      n->index = i;
      return n;
    };
    auto cmp = [&](Op op, NodePtr value) { return compare(op, input(), std::move(value), e.span); };
    switch (e.kind) {
      case ast::EntryKind::Any:
        return nullptr;
      case ast::EntryKind::Compare:
        return cmp(comparison_op(e.cmp), expr(e.values[0].get(), ctx));
      case ast::EntryKind::Range:
        return logic(Op::And, cmp(Op::Ge, expr(e.values[0].get(), ctx)),
                     cmp(Op::Le, expr(e.values[1].get(), ctx)));
      case ast::EntryKind::Values:
      case ast::EntryKind::NotValues: {
        NodePtr any;
        for (auto& v : e.values) {
          NodePtr eq = cmp(Op::Eq, expr(v.get(), ctx));
          any = any ? logic(Op::Or, std::move(any), std::move(eq)) : std::move(eq);
        }
        if (e.kind == ast::EntryKind::NotValues) {
          auto n = leaf(Op::Not, IType::of(Kind::Bool), e.span);
          n->kids.push_back(std::move(any));
          return n;
        }
        return any;
      }
    }
    return nullptr;
  }

  // ---------------------------------------------------------------- processes

  void lower_process(const ast::ProcessDecl* p) {
    // The frame: every variable the process binds, each in its own slot.
    std::vector<std::string> names;
    std::vector<IType> types;
    for (const auto& b : p_.bindings) {
      if (b->owner != p || b->kind == BindingKind::LoopVar || b->kind == BindingKind::CompVar ||
          b->kind == BindingKind::SignalParam)
        continue;
      out_.frame_slot[b.get()] = static_cast<uint32_t>(names.size());
      names.push_back(b->name);
      if (b->kind == BindingKind::Step) {
        std::vector<std::string> fnames;
        std::vector<IType> ftypes;
        for (auto& [fname, ft] : b->fields) {
          fnames.push_back(fname);
          ftypes.push_back(itype(ft));
        }
        IType step = IType::of(Kind::Rec);
        step.id = add_layout(p->name.text + "." + b->name, fnames, ftypes);
        step_layout_[b.get()] = step.id;
        types.push_back(step);
      } else {
        types.push_back(itype(b->type));
      }
    }
    // Loop variables of `for each` also live in the frame (the loop may wait between iterations);
    // comprehension variables do not (they are locals of one evaluation).
    for (const auto& b : p_.bindings)
      if (b->owner == p && b->kind == BindingKind::LoopVar) {
        out_.frame_slot[b.get()] = static_cast<uint32_t>(names.size());
        names.push_back(b->name);
        types.push_back(itype(b->type));
      }
    uint32_t frame = add_layout(p->name.text + ".frame", names, types);
    out_.frame_of[p] = frame;
    IType frame_t = IType::of(Kind::Rec);
    frame_t.id = frame;
    auto ctx = [this, frame_t]() {
      Ctx c;
      c.binding = [this, frame_t](const Binding* b, source::Span s) {
        auto p0 = leaf(Op::Param, frame_t, s);
        auto it = out_.frame_slot.find(b);
        if (it == out_.frame_slot.end()) return p0;  // a variable of another process (signal): see below
        IType t = itype(b->type);
        if (b->kind == BindingKind::Step) {
          t = IType::of(Kind::Rec);
          t.id = step_layout_[b];
        }
        auto f = leaf(Op::Field, t, s);
        f->index = it->second;
        f->kids.push_back(std::move(p0));
        return f;
      };
      return c;
    };
    if (p->timeout) {
      Ctx c = ctx();
      out_.expr_function[p->timeout.get()] =
          add_function(p->name.text + ".timeout", FunctionKind::Expr, {frame_t}, p->timeout.get(), c);
    }
    lower_block(p->body, ctx, {frame_t}, p->name.text);
    lower_block(p->on_failure, ctx, {frame_t}, p->name.text);
    lower_block(p->on_timeout, ctx, {frame_t}, p->name.text);
  }

  // Every expression of every step becomes a function of the code's parameters.
  void lower_block(const ast::Block& b, const std::function<Ctx()>& mk, const std::vector<IType>& params,
                   const std::string& prefix) {
    for (const auto& s : b) lower_stmt(s.get(), mk, params, prefix);
  }

  void lower_expr_fn(const ast::Expr* e, const std::function<Ctx()>& mk, const std::vector<IType>& params,
                     const std::string& prefix) {
    if (!e || out_.expr_function.count(e)) return;
    Ctx c = mk();
    out_.expr_function[e] = add_function(prefix + where(e), FunctionKind::Expr, params, e, c);
  }

  void lower_stmt(const ast::Stmt* s, const std::function<Ctx()>& mk, const std::vector<IType>& params,
                  const std::string& prefix) {
    auto E = [&](const ast::ExprPtr& e) { lower_expr_fn(e.get(), mk, params, prefix); };
    auto B = [&](const ast::Block& blk) { lower_block(blk, mk, params, prefix); };
    auto A = [&](const ast::Assignee& a) { E(a.scope); };
    using ast::StmtKind;
    switch (s->kind) {
      case StmtKind::Task: {
        auto* t = ast::as<ast::TaskStmt>(s);
        A(t->assignee);
        E(t->within);
        if (t->escalate) A(*t->escalate);
        for (auto& f : t->returns) E(f.default_value);
        B(t->on_timeout);
        break;
      }
      case StmtKind::Approval: {
        auto* a = ast::as<ast::ApprovalStmt>(s);
        A(a->assignee);
        E(a->within);
        if (a->escalate) A(*a->escalate);
        B(a->on_timeout);
        break;
      }
      case StmtKind::Emit:
      case StmtKind::Create:
      case StmtKind::Insert:
      case StmtKind::Derive:
        for (auto& f : ast::as<ast::ConstructStmt>(s)->fields) E(f.value);
        break;
      case StmtKind::Update:
      case StmtKind::Modify: {
        auto* u = ast::as<ast::UpdateStmt>(s);
        E(u->target);
        for (auto& f : u->fields) E(f.value);
        break;
      }
      case StmtKind::Set: {
        auto* st = ast::as<ast::SetStmt>(s);
        // The target's object (the record being changed) is computed; the field is written by the runtime.
        if (auto* fe = ast::dyn<ast::FieldExpr>(st->target.get()))
          lower_expr_fn(fe->object.get(), mk, params, prefix);
        E(st->value);
        break;
      }
      case StmtKind::Call:
      case StmtKind::Run:
      case StmtKind::Start:
        for (auto& a : ast::as<ast::CallStmt>(s)->args) E(a.value);
        break;
      case StmtKind::Notify: {
        auto* n = ast::as<ast::NotifyStmt>(s);
        E(n->who);
        E(n->message);
        break;
      }
      case StmtKind::WaitEvent: {
        auto* w = ast::as<ast::WaitEventStmt>(s);
        E(w->where);
        E(w->within);
        B(w->on_timeout);
        break;
      }
      case StmtKind::WaitUntil:
      case StmtKind::WaitTimer:
        E(ast::as<ast::WaitTimeStmt>(s)->time);
        break;
      case StmtKind::If: {
        auto* i = ast::as<ast::IfStmt>(s);
        E(i->cond);
        B(i->then_block);
        B(i->else_block);
        break;
      }
      case StmtKind::Switch: {
        auto* sw = ast::as<ast::SwitchStmt>(s);
        E(sw->subject);
        for (auto& c : sw->cases) {
          for (auto& v : c.values) E(v);
          B(c.body);
        }
        B(sw->else_block);
        break;
      }
      case StmtKind::Parallel:
        for (auto& br : ast::as<ast::ParallelStmt>(s)->branches) B(br.body);
        break;
      case StmtKind::ForEach: {
        auto* f = ast::as<ast::ForEachStmt>(s);
        E(f->source);
        B(f->body);
        break;
      }
      case StmtKind::Let:
        E(ast::as<ast::LetStmt>(s)->value);
        break;
      case StmtKind::Fail:
      case StmtKind::Retract:
        E(ast::as<ast::SimpleStmt>(s)->value);
        break;
      case StmtKind::Complete:
        break;
      case StmtKind::Signal: {
        auto* sg = ast::as<ast::SignalStmt>(s);
        // `where` is evaluated against each candidate instance: Param 0 is the instance (the target's
        // parameters are its fields); the names of the code around the signal follow, shifted by one.
        if (sg->where && !out_.expr_function.count(sg->where.get())) {
          const ast::Decl* target = nullptr;
          if (auto it = p_.names.find(&sg->process); it != p_.names.end()) target = it->second;
          IType inst = IType::of(Kind::Rec);
          inst.id = target && out_.layout_of.count(target) ? out_.layout_of[target] : 0;
          Ctx outer = mk();
          Ctx c;
          c.binding = [this, inst, outer](const Binding* b, source::Span sp) {
            if (b->kind == BindingKind::SignalParam) {
              auto p0 = leaf(Op::Param, inst, sp);
              auto f = leaf(Op::Field, itype(b->type), sp);
              f->index = b->index;
              f->kids.push_back(std::move(p0));
              return f;
            }
            NodePtr n = outer.binding(b, sp);
            shift_params(*n);
            return n;
          };
          std::vector<IType> ps = {inst};
          ps.insert(ps.end(), params.begin(), params.end());
          out_.expr_function[sg->where.get()] = add_function(prefix + ".signal" + where(sg->where.get()),
                                                             FunctionKind::Condition, ps, sg->where.get(), c);
        }
        for (auto& f : sg->fields) E(f.value);
        break;
      }
    }
    B(s->compensation);
  }

  // ---------------------------------------------------------------- expressions

  static void shift_params(Node& n) {
    if (n.op == Op::Param) ++n.index;
    for (auto& k : n.kids)
      if (k) shift_params(*k);
  }

  NodePtr leaf(Op op, IType t, source::Span s) {
    auto n = std::make_unique<Node>();
    n->op = op;
    n->type = std::move(t);
    n->span = s;
    return n;
  }

  NodePtr constant(Value v, IType t, source::Span s) {
    auto n = leaf(Op::Const, std::move(t), s);
    n->value = v;
    return n;
  }

  NodePtr logic(Op op, NodePtr a, NodePtr b) {
    auto n = leaf(op, IType::of(Kind::Bool), a->span);
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  // Int → Decimal where a Decimal (or Money factor) is wanted.
  NodePtr widen(NodePtr n, const IType& want) {
    if (n->type.kind == Kind::Int && want.kind == Kind::Dec) {
      auto w = leaf(Op::IntToDec, IType::of(Kind::Dec), n->span);
      w->type.optional = n->type.optional;
      w->kids.push_back(std::move(n));
      return w;
    }
    return n;
  }

  NodePtr compare(Op op, NodePtr a, NodePtr b, source::Span s) {
    if (a->type.kind == Kind::Int && b->type.kind == Kind::Dec) a = widen(std::move(a), b->type);
    if (b->type.kind == Kind::Int && a->type.kind == Kind::Dec) b = widen(std::move(b), a->type);
    auto n = leaf(op, IType::of(Kind::Bool), s);
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  NodePtr expr(const ast::Expr* e, Ctx& ctx) {
    if (!e) return constant(Value::none(), IType::of(Kind::None), {});
    NodePtr n = expr_inner(e, ctx);
    n->span = e->span;
    return n;
  }

  NodePtr expr_inner(const ast::Expr* e, Ctx& ctx) {
    IType t = itype(type_of(e));
    switch (e->kind) {
      case ast::ExprKind::Literal:
        return literal(static_cast<const ast::LiteralExpr*>(e), t);
      case ast::ExprKind::Name:
        return name(static_cast<const ast::NameExpr*>(e), t, ctx);
      case ast::ExprKind::Field:
        return field(static_cast<const ast::FieldExpr*>(e), t, ctx);
      case ast::ExprKind::Call:
        return call(static_cast<const ast::CallExpr*>(e), t, ctx);
      case ast::ExprKind::Index: {
        auto* x = static_cast<const ast::IndexExpr*>(e);
        auto n = leaf(Op::Index, t, e->span);
        n->kids.push_back(expr(x->object.get(), ctx));
        n->kids.push_back(expr(x->index.get(), ctx));
        return n;
      }
      case ast::ExprKind::Unary: {
        auto* x = static_cast<const ast::UnaryExpr*>(e);
        auto n = leaf(x->op == ast::UnaryOp::Not ? Op::Not : Op::Neg, t, e->span);
        n->kids.push_back(expr(x->operand.get(), ctx));
        return n;
      }
      case ast::ExprKind::Binary:
        return binary(static_cast<const ast::BinaryExpr*>(e), t, ctx);
      case ast::ExprKind::List: {
        auto* x = static_cast<const ast::ListExpr*>(e);
        auto n = leaf(Op::ListLit, t, e->span);
        IType elem = t.elem ? *t.elem : IType::of(Kind::None);
        for (auto& item : x->items) n->kids.push_back(widen(expr(item.get(), ctx), elem));
        return n;
      }
      case ast::ExprKind::Comprehension:
        return comprehension(static_cast<const ast::ComprehensionExpr*>(e), t, ctx);
    }
    return constant(Value::none(), t, e->span);
  }

  NodePtr literal(const ast::LiteralExpr* l, IType t) {
    switch (l->lit) {
      case ast::LiteralKind::Int:
        return constant(Value::of_int(l->int_value), t, l->span);
      case ast::LiteralKind::Decimal:
        return constant(Value::of_dec(interp::dec::parse(l->number).value_or(0)), t, l->span);
      case ast::LiteralKind::Percent: {
        Dec pct = interp::dec::parse(l->number).value_or(0), r = 0;
        interp::dec::div(pct, Dec(100) * kDecOne, r);
        return constant(Value::of_dec(r), t, l->span);
      }
      case ast::LiteralKind::Money:
        return constant(
            Value::of_money(interp::dec::parse(l->number).value_or(0), currency_code(l->currency)), t,
            l->span);
      case ast::LiteralKind::Duration:
        return constant(Value::of_duration(l->int_value), t, l->span);
      case ast::LiteralKind::Date:
        return constant(Value::of_date(l->int_value), t, l->span);
      case ast::LiteralKind::String: {
        auto n = constant(Value::of_string(m_.intern(l->text)), t, l->span);
        n->text = l->text;
        return n;
      }
      case ast::LiteralKind::Bool:
        return constant(Value::of_bool(l->bool_value), t, l->span);
      case ast::LiteralKind::None:
        return constant(Value::none(), t, l->span);
    }
    return constant(Value::none(), t, l->span);
  }

  NodePtr enum_value(const ast::Decl* en, const std::string& value, IType t, source::Span s) {
    auto* ed = ast::as<ast::EnumDecl>(en);
    for (size_t i = 0; i < ed->values.size(); ++i)
      if (ed->values[i].text == value) return constant(Value::of_enum(static_cast<int64_t>(i), t.id), t, s);
    return constant(Value::none(), t, s);
  }

  NodePtr name(const ast::NameExpr* e, IType t, Ctx& ctx) {
    if (auto it = p_.expr_bindings.find(e); it != p_.expr_bindings.end() && it->second) {
      const Binding* b = it->second;
      if (auto l = ctx.locals.find(b); l != ctx.locals.end()) {
        auto n = leaf(Op::Local, t, e->span);
        n->index = l->second;
        return n;
      }
      return ctx.binding(b, e->span);
    }
    if (auto it = p_.expr_decls.find(e); it != p_.expr_decls.end()) return decl_value(it->second, t, e->span);
    if (t.kind == Kind::Enum) {
      for (auto& [d, id] : enum_of_)
        if (id == t.id) return enum_value(d, e->name, t, e->span);
    }
    if (e->name == "today") return leaf(Op::Today, t, e->span);
    if (ctx.policy && (e->name == "actor" || e->name == "resource")) {
      auto n = leaf(Op::Param, t, e->span);
      n->index = e->name == "actor" ? 0 : 1;
      return n;
    }
    if (e->name == "org") {
      auto all = leaf(Op::AllOf, IType::of(Kind::List), e->span);
      all->index = kOrgLayout;
      auto n = leaf(Op::Index, t, e->span);
      n->kids.push_back(std::move(all));
      n->kids.push_back(constant(Value::of_int(0), IType::of(Kind::Int), e->span));
      return n;
    }
    return constant(Value::none(), t, e->span);
  }

  NodePtr decl_value(const ast::Decl* d, IType t, source::Span s) {
    switch (d->kind) {
      case ast::DeclKind::Record:
      case ast::DeclKind::Event:
      case ast::DeclKind::Process: {
        auto n = leaf(Op::AllOf, t, s);
        n->index = out_.layout_of[d];
        return n;
      }
      case ast::DeclKind::Metric: {
        auto n = leaf(Op::CallFn, t, s);
        n->index = out_.function_of[d];
        return n;
      }
      default:
        return constant(Value::none(), t, s);
    }
  }

  NodePtr field(const ast::FieldExpr* e, IType t, Ctx& ctx) {
    if (auto it = p_.expr_decls.find(e); it != p_.expr_decls.end()) {
      if (it->second->kind == ast::DeclKind::Enum) return enum_value(it->second, e->field.text, t, e->span);
      return decl_value(it->second, t, e->span);
    }
    const sema::Type* ot = type_of(e->object.get());
    // Enum.value
    if (ot && ot->kind == TypeKind::Enum && p_.expr_decls.count(e->object.get()))
      return enum_value(ot->decl, e->field.text, t, e->span);
    // A step result: its own layout, fields in name order.
    if (auto it = p_.expr_bindings.find(e->object.get());
        it != p_.expr_bindings.end() && it->second && it->second->kind == BindingKind::Step) {
      const Binding* b = it->second;
      auto obj = ctx.binding(b, e->span);
      uint32_t slot = 0, i = 0;
      for (auto& [fname, ft] : b->fields) {
        if (fname == e->field.text) slot = i;
        ++i;
      }
      auto n = leaf(Op::Field, t, e->span);
      n->index = slot;
      n->kids.push_back(std::move(obj));
      return n;
    }
    NodePtr obj = expr(e->object.get(), ctx);
    const sema::Type* base = ot && ot->kind == TypeKind::Optional ? ot->elem : ot;
    if (!base) return constant(Value::none(), t, e->span);
    auto builtin = [&](BuiltinFn fn) {
      auto n = leaf(Op::Builtin, t, e->span);
      n->fn = fn;
      n->kids.push_back(std::move(obj));
      return n;
    };
    const std::string& f = e->field.text;
    switch (base->kind) {
      case TypeKind::Money:
        return builtin(f == "amount" ? BuiltinFn::MoneyAmount : BuiltinFn::MoneyCurrency);
      case TypeKind::Date:
        return builtin(f == "year" ? BuiltinFn::Year : f == "month" ? BuiltinFn::Month : BuiltinFn::Day);
      case TypeKind::Duration:
        return builtin(f == "days"      ? BuiltinFn::DurDays
                       : f == "hours"   ? BuiltinFn::DurHours
                       : f == "minutes" ? BuiltinFn::DurMinutes
                                        : BuiltinFn::DurSeconds);
      case TypeKind::List: {
        // Expense.amount: the field of every instance, as a list.
        auto agg = leaf(Op::Agg, t, e->span);
        agg->agg = AggKind::List;
        agg->index = ctx.nlocals++;
        IType elem = obj->type.elem ? *obj->type.elem : IType::of(Kind::Rec);
        auto var = leaf(Op::Local, elem, e->span);
        var->index = agg->index;
        auto fld = leaf(Op::Field, t.elem ? *t.elem : IType::of(Kind::None), e->span);
        fld->index = slot_of(elem.id, f);
        fld->kids.push_back(std::move(var));
        agg->kids.push_back(std::move(obj));
        agg->kids.push_back(nullptr);
        agg->kids.push_back(std::move(fld));
        return agg;
      }
      default: {
        auto n = leaf(e->optional_chain ? Op::OptField : Op::Field, t, e->span);
        n->index = slot_of(obj->type.id, f);
        n->kids.push_back(std::move(obj));
        return n;
      }
    }
  }

  uint32_t slot_of(uint32_t layout, const std::string& field) {
    if (layout >= m_.layouts.size()) return 0;
    const auto& fs = m_.layouts[layout].fields;
    for (size_t i = 0; i < fs.size(); ++i)
      if (fs[i] == field) return static_cast<uint32_t>(i);
    return 0;
  }

  NodePtr call(const ast::CallExpr* e, IType t, Ctx& ctx) {
    const ast::Decl* d = nullptr;
    if (auto it = p_.expr_decls.find(e->callee.get()); it != p_.expr_decls.end()) d = it->second;
    std::vector<NodePtr> args;
    if (d && (d->kind == ast::DeclKind::Function || d->kind == ast::DeclKind::Table)) {
      const auto& params = d->kind == ast::DeclKind::Function ? ast::as<ast::FunctionDecl>(d)->params
                                                              : ast::as<ast::TableDecl>(d)->inputs;
      args.resize(params.size());
      size_t pos = 0;
      for (auto& a : e->args) {
        size_t idx = pos;
        if (!a.label.empty()) {
          for (size_t i = 0; i < params.size(); ++i)
            if (params[i].name.text == a.label.text) idx = i;
        } else {
          ++pos;
        }
        if (idx < params.size()) args[idx] = widen(expr(a.value.get(), ctx), field_type(params[idx].type));
      }
      for (size_t i = 0; i < params.size(); ++i) {
        if (args[i]) continue;
        Ctx c2 = param_ctx();
        args[i] = params[i].default_value
                      ? widen(expr(params[i].default_value.get(), c2), field_type(params[i].type))
                      : constant(Value::none(), IType::of(Kind::None), e->span);
      }
      auto n = leaf(d->kind == ast::DeclKind::Function ? Op::CallFn : Op::CallTable, t, e->span);
      n->index = d->kind == ast::DeclKind::Function ? out_.function_of[d] : out_.table_of[d];
      n->kids = std::move(args);
      return n;
    }
    std::string fn;
    if (auto* nm = ast::dyn<ast::NameExpr>(e->callee.get())) fn = nm->name;
    for (auto& a : e->args) args.push_back(expr(a.value.get(), ctx));
    static const std::map<std::string, AggKind> aggs = {
        {"count", AggKind::Count}, {"sum", AggKind::Sum}, {"min", AggKind::Min}, {"max", AggKind::Max},
        {"avg", AggKind::Avg},     {"all", AggKind::All}, {"any", AggKind::Any}, {"list", AggKind::List}};
    if (aggs.count(fn) && args.size() == 1) {
      auto n = leaf(Op::Agg, t, e->span);
      n->agg = aggs.at(fn);
      n->index = ctx.nlocals++;
      n->kids.push_back(std::move(args[0]));
      return n;
    }
    static const std::map<std::string, BuiltinFn> fns = {
        {"abs", BuiltinFn::Abs},     {"round", BuiltinFn::Round}, {"len", BuiltinFn::Len},
        {"lower", BuiltinFn::Lower}, {"upper", BuiltinFn::Upper}, {"year", BuiltinFn::Year},
        {"month", BuiltinFn::Month}, {"day", BuiltinFn::Day},     {"days_between", BuiltinFn::DaysBetween},
        {"min", BuiltinFn::Min2},    {"max", BuiltinFn::Max2}};
    if (fn == "contains") {
      auto n = leaf(Op::Contains, t, e->span);
      n->kids = std::move(args);
      return n;
    }
    auto n = leaf(Op::Builtin, t, e->span);
    n->fn = fns.count(fn) ? fns.at(fn) : BuiltinFn::Abs;
    if ((n->fn == BuiltinFn::Min2 || n->fn == BuiltinFn::Max2) && args.size() == 2) {
      if (args[0]->type.kind == Kind::Int && args[1]->type.kind == Kind::Dec)
        args[0] = widen(std::move(args[0]), args[1]->type);
      if (args[1]->type.kind == Kind::Int && args[0]->type.kind == Kind::Dec)
        args[1] = widen(std::move(args[1]), args[0]->type);
    }
    n->kids = std::move(args);
    return n;
  }

  NodePtr binary(const ast::BinaryExpr* e, IType t, Ctx& ctx) {
    using ast::BinaryOp;
    switch (e->op) {
      case BinaryOp::And:
        return logic(Op::And, expr(e->lhs.get(), ctx), expr(e->rhs.get(), ctx));
      case BinaryOp::Or:
        return logic(Op::Or, expr(e->lhs.get(), ctx), expr(e->rhs.get(), ctx));
      case BinaryOp::IsNone:
      case BinaryOp::IsSome: {
        auto n = leaf(Op::IsNone, IType::of(Kind::Bool), e->span);
        n->kids.push_back(expr(e->lhs.get(), ctx));
        if (e->op == BinaryOp::IsNone) return n;
        auto neg = leaf(Op::Not, IType::of(Kind::Bool), e->span);
        neg->kids.push_back(std::move(n));
        return neg;
      }
      case BinaryOp::Coalesce: {
        auto n = leaf(Op::Coalesce, t, e->span);
        n->kids.push_back(expr(e->lhs.get(), ctx));
        n->kids.push_back(widen(expr(e->rhs.get(), ctx), t));
        return n;
      }
      case BinaryOp::In:
      case BinaryOp::NotIn: {
        NodePtr x = expr(e->lhs.get(), ctx), l = expr(e->rhs.get(), ctx);
        NodePtr n;
        if (l->type.kind == Kind::Str) {
          n = leaf(Op::Contains, IType::of(Kind::Bool), e->span);
          n->kids.push_back(std::move(l));
          n->kids.push_back(std::move(x));
        } else {
          if (l->type.elem) x = widen(std::move(x), *l->type.elem);
          n = leaf(Op::In, IType::of(Kind::Bool), e->span);
          n->kids.push_back(std::move(x));
          n->kids.push_back(std::move(l));
        }
        if (e->op == BinaryOp::In) return n;
        auto neg = leaf(Op::Not, IType::of(Kind::Bool), e->span);
        neg->kids.push_back(std::move(n));
        return neg;
      }
      case BinaryOp::Eq:
      case BinaryOp::Ne:
      case BinaryOp::Lt:
      case BinaryOp::Le:
      case BinaryOp::Gt:
      case BinaryOp::Ge:
        return compare(comparison_op(e->op), expr(e->lhs.get(), ctx), expr(e->rhs.get(), ctx), e->span);
      default:
        break;
    }
    NodePtr a = expr(e->lhs.get(), ctx), b = expr(e->rhs.get(), ctx);
    Op op = e->op == BinaryOp::Add   ? Op::Add
            : e->op == BinaryOp::Sub ? Op::Sub
            : e->op == BinaryOp::Mul ? Op::Mul
            : e->op == BinaryOp::Div ? Op::Div
                                     : Op::Mod;
    Kind ka = a->type.kind, kb = b->type.kind;
    // Put the Money or Duration operand first, so the kind of the left operand decides the meaning.
    if (op == Op::Mul && ((kb == Kind::Money && ka != Kind::Money) || (kb == Kind::Dur && ka == Kind::Int))) {
      std::swap(a, b);
      std::swap(ka, kb);
    }
    if (ka == Kind::Int && kb == Kind::Dec) a = widen(std::move(a), b->type);
    if (kb == Kind::Int && (ka == Kind::Dec || ka == Kind::Money))
      b = widen(std::move(b), IType::of(Kind::Dec));
    if (op == Op::Div && ka == Kind::Int && kb == Kind::Int) {  // Int / Int is Decimal division
      a = widen(std::move(a), IType::of(Kind::Dec));
      b = widen(std::move(b), IType::of(Kind::Dec));
    }
    auto n = leaf(op, t, e->span);
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  NodePtr comprehension(const ast::ComprehensionExpr* e, IType t, Ctx& ctx) {
    static const std::map<std::string, AggKind> aggs = {
        {"count", AggKind::Count}, {"sum", AggKind::Sum}, {"min", AggKind::Min}, {"max", AggKind::Max},
        {"avg", AggKind::Avg},     {"all", AggKind::All}, {"any", AggKind::Any}, {"list", AggKind::List}};
    auto n = leaf(Op::Agg, t, e->span);
    n->agg = aggs.count(e->aggregate.text) ? aggs.at(e->aggregate.text) : AggKind::Count;
    n->index = ctx.nlocals++;
    n->kids.push_back(expr(e->source.get(), ctx));
    // Sema maps the comprehension to the binding of its variable.
    if (auto it = p_.expr_bindings.find(e); it != p_.expr_bindings.end()) ctx.locals[it->second] = n->index;
    n->kids.push_back(e->filter ? expr(e->filter.get(), ctx) : nullptr);
    n->kids.push_back(e->element ? expr(e->element.get(), ctx) : nullptr);
    return n;
  }

  const driver::Compilation& c_;
  const sema::Program& p_;
  Lowered& out_;
  Module& m_;
  std::vector<const ast::Decl*> pending_;
  std::unordered_map<const ast::Decl*, uint32_t> enum_of_, table_layout_;
  std::unordered_map<const Binding*, uint32_t> step_layout_;
};

}  // namespace

Op comparison_op(ast::BinaryOp op) {
  switch (op) {
    case ast::BinaryOp::Ne:
      return Op::Ne;
    case ast::BinaryOp::Lt:
      return Op::Lt;
    case ast::BinaryOp::Le:
      return Op::Le;
    case ast::BinaryOp::Gt:
      return Op::Gt;
    case ast::BinaryOp::Ge:
      return Op::Ge;
    default:
      return Op::Eq;
  }
}

Lowered lower(const driver::Compilation& c) {
  Lowered out;
  Lowerer(c, out).run();
  lower_program(c, out);
  // Debug builds: each step carries only the fields of its kind (step_shape.h); a misfit is a lowering
  // bug that the runtime would silently ignore.
#ifndef NDEBUG
  if (std::string e = program_shape_error(out.program); !e.empty()) {
    std::fprintf(stderr, "lowering produced a step that does not fit its kind: %s\n", e.c_str());
    assert(!"a step does not fit its kind");
  }
#endif
  return out;
}

}  // namespace orgos::ir
