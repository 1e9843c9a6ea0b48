// Parse tree → AST. After a syntax error ANTLR's tree can miss any child, so every accessor result is
// checked; a declaration whose subtree holds an error is dropped (its name is remembered) rather than
// half-built, so later stages never see a partial construct.
#include "compiler/syntax/ast_builder.h"

#include "compiler/syntax/literal.h"
#include "compiler/syntax/parser.h"

namespace orgos::syntax {

using namespace ast;
using P = grammar::OrgParser;

source::Span AstBuilder::span(antlr4::ParserRuleContext* ctx) {
  if (!ctx || !ctx->getStart()) return {};
  antlr4::Token* stop = ctx->getStop();
  if (!stop || stop->getTokenIndex() < ctx->getStart()->getTokenIndex()) stop = ctx->getStart();
  return to_span_(ctx->getStart(), stop);
}

source::Span AstBuilder::span(antlr4::tree::TerminalNode* t) {
  if (!t) return {};
  return to_span_(t->getSymbol(), t->getSymbol());
}

// The text of a subtree: its tokens' texts, concatenated (what ParseTree::getText returns). Written out
// because the runtime's version builds a std::stringstream per call, which showed up in profiles: most
// calls are for a one-token identifier.
std::string AstBuilder::text(antlr4::ParserRuleContext* c) {
  std::string out;
  if (!c) return out;
  if (c->getStart() && c->getStart() == c->getStop()) return c->getStart()->getText();
  append_text(c, out);
  return out;
}

void AstBuilder::append_text(antlr4::tree::ParseTree* t, std::string& out) {
  if (auto* leaf = dynamic_cast<antlr4::tree::TerminalNode*>(t)) {
    out += leaf->getSymbol()->getText();
    return;
  }
  for (auto* ch : t->children) append_text(ch, out);
}

bool AstBuilder::has_error(antlr4::tree::ParseTree* t) const {
  if (clean_) return false;
  if (!t) return true;
  if (dynamic_cast<antlr4::tree::ErrorNode*>(t)) return true;
  if (auto* r = dynamic_cast<antlr4::ParserRuleContext*>(t)) {
    if (r->exception) return true;
    // A token conjured by single-token insertion inside a set rule (like `ident`) is not put in the
    // tree: the rule context is left empty. No rule of the grammar matches empty input, so an empty
    // context always means a repaired error.
    if (r->children.empty()) return true;
    for (auto* ch : r->children)
      if (has_error(ch)) return true;
  }
  return false;
}

Name AstBuilder::name(P::IdentContext* c) {
  if (!c) return {};
  return Name{text(c), span(c)};
}

Name AstBuilder::name(antlr4::tree::TerminalNode* t) {
  if (!t) return {};
  return Name{t->getText(), span(t)};
}

QualifiedName AstBuilder::qname(P::QualifiedNameContext* c) {
  QualifiedName q;
  if (!c) return q;
  for (auto* id : c->ident()) q.parts.push_back(name(id));
  q.span = span(c);
  return q;
}

TypeExpr AstBuilder::type(P::TypeContext* c) {
  TypeExpr t;
  if (!c) return t;
  if (c->typeRef()) t.name = qname(c->typeRef()->qualifiedName());
  for (auto* a : c->type()) t.args.push_back(type(a));
  t.optional = c->QUESTION() != nullptr;
  t.span = span(c);
  return t;
}

std::string AstBuilder::string_lit(antlr4::tree::TerminalNode* t) {
  return t ? unescape(t->getText()) : "";
}

std::unique_ptr<Module> AstBuilder::build(P::FileContext* ctx, std::vector<std::string>& broken) {
  auto m = std::make_unique<Module>();
  m->file = file_;
  if (!ctx) return m;
  if (auto* p = ctx->packageDecl()) {
    m->package = qname(p->qualifiedName());
    if (p->STRING()) m->version = string_lit(p->STRING());
  }
  for (auto* ic : ctx->importDecl()) {
    if (has_error(ic)) continue;
    Import imp;
    imp.path = qname(ic->qualifiedName());
    imp.span = span(ic);
    imp.selective = ic->LBRACE() != nullptr;
    for (auto* item : ic->importItem()) {
      auto ids = item->ident();
      ImportItem ii;
      if (!ids.empty()) ii.name = name(ids[0]);
      if (ids.size() > 1) ii.alias = name(ids[1]);
      imp.items.push_back(ii);
    }
    if (ic->AS()) imp.alias = name(ic->ident());
    m->imports.push_back(std::move(imp));
  }
  for (auto* dc : ctx->declaration()) {
    if (has_error(dc)) {
      // Remember what the broken declaration was called, if that much parsed.
      if (dc->children.size() == 1) {
        auto* inner = dynamic_cast<antlr4::ParserRuleContext*>(dc->children[0]);
        if (inner) {
          for (auto* ch : inner->children) {
            if (auto* id = dynamic_cast<P::IdentContext*>(ch)) {
              broken.push_back(text(id));
              break;
            }
            if (auto* q = dynamic_cast<P::QualifiedNameContext*>(ch)) {
              broken.push_back(text(q));
              break;
            }
          }
        }
      }
      continue;
    }
    too_deep_in_decl_ = false;
    auto d = decl(dc);
    // A declaration cut short at the depth limit is dropped like a broken one, so later stages do not
    // report on its partial tree (a bogus type error before the real "too deeply nested").
    if (d && too_deep_in_decl_) {
      broken.push_back(d->name.text);
      continue;
    }
    if (d) m->decls.push_back(std::move(d));
  }
  return m;
}

// ------------------------------------------------------------------ declarations

DeclPtr AstBuilder::decl(P::DeclarationContext* c) {
  if (auto* x = c->processDecl()) return process(x);
  if (auto* x = c->recordDecl()) return record(x);
  if (auto* x = c->eventDecl()) return event(x);
  if (auto* x = c->roleDecl()) return role(x);
  if (auto* x = c->ruleDecl()) return rule(x);
  if (auto* x = c->policyDecl()) return policy(x);
  if (auto* x = c->metricDecl()) return metric(x);
  if (auto* x = c->enumDecl()) return enumeration(x);
  if (auto* x = c->tableDecl()) return table(x);
  if (auto* x = c->lifecycleDecl()) return lifecycle(x);
  if (auto* x = c->orgDecl()) return org(x);
  if (auto* x = c->templateDecl()) return templ(x);
  if (auto* x = c->connectorDecl()) return connector(x);
  if (auto* x = c->peerDecl()) return peer(x);
  if (auto* x = c->agreementDecl()) return agreement(x);
  if (auto* x = c->functionDecl()) return function(x);
  return nullptr;
}

DeclPtr AstBuilder::org(P::OrgDeclContext* c) {
  auto d = std::make_unique<OrgDecl>(span(c));
  d->name = name(c->ident());
  if (c->FROM()) {
    d->from_template = qname(c->typeRef()->qualifiedName());
    if (c->argList()) d->template_args = args(c->argList());
  }
  for (auto* item : c->orgItem()) {
    if (auto* x = dynamic_cast<P::OrgPurposeContext*>(item))
      d->purpose = name(x->ident());
    else if (auto* x = dynamic_cast<P::OrgLegalFormContext*>(item))
      d->legal_form = name(x->ident());
    else if (auto* x = dynamic_cast<P::OrgJurisdictionContext*>(item)) {
      d->jurisdiction = string_lit(x->STRING());
      d->jurisdiction_span = span(x->STRING());
    } else if (auto* x = dynamic_cast<P::OrgCurrencyContext*>(item))
      d->currency = name(x->ident());
    else if (auto* x = dynamic_cast<P::OrgUnitsContext*>(item)) {
      for (auto* u : x->unitDecl()) d->units.push_back(unit(u));
    } else if (auto* x = dynamic_cast<P::OrgPositionContext*>(item)) {
      PositionDecl p;
      p.name = name(x->ident());
      p.role = qname(x->typeRef()->qualifiedName());
      if (x->qualifiedName()) p.unit = qname(x->qualifiedName());
      for (auto* s : x->STRING()) p.holders.push_back(string_lit(s));
      p.span = span(x);
      d->positions.push_back(std::move(p));
    } else if (auto* x = dynamic_cast<P::OrgOwnsContext*>(item)) {
      std::string pct = x->PERCENT()->getText();
      pct.pop_back();
      d->relations.push_back(
          {RelationKind::Owns, qname(x->typeRef()->qualifiedName()), strip_separators(pct), span(x)});
    } else if (auto* x = dynamic_cast<P::OrgControlsContext*>(item)) {
      d->relations.push_back({RelationKind::Controls, qname(x->typeRef()->qualifiedName()), {}, span(x)});
    } else if (auto* x = dynamic_cast<P::OrgManagesContext*>(item)) {
      d->relations.push_back({RelationKind::Manages, qname(x->typeRef()->qualifiedName()), {}, span(x)});
    } else if (auto* x = dynamic_cast<P::OrgLicensesContext*>(item)) {
      d->relations.push_back({RelationKind::LicensesIpTo, qname(x->typeRef()->qualifiedName()), {}, span(x)});
    } else if (auto* x = dynamic_cast<P::OrgLifecycleContext*>(item)) {
      d->lifecycle = qname(x->typeRef()->qualifiedName());
    }
  }
  return d;
}

UnitDecl AstBuilder::unit(P::UnitDeclContext* c) {
  UnitDecl u;
  u.kind = name(c->kind);
  u.name = name(c->name);
  u.span = span(c);
  for (auto* ch : c->unitDecl()) u.children.push_back(unit(ch));
  return u;
}

DeclPtr AstBuilder::role(P::RoleDeclContext* c) {
  auto d = std::make_unique<RoleDecl>(span(c));
  d->name = name(c->ident());
  for (auto* t : c->typeRef()) d->extends.push_back(qname(t->qualifiedName()));
  for (auto* item : c->roleItem()) {
    if (auto* g = dynamic_cast<P::RoleGrantContext*>(item)) {
      Grant gr;
      if (g->action) gr.action = Name{g->action->getText(), span(g->action)};
      if (g->typeRef()) gr.resource = qname(g->typeRef()->qualifiedName());
      if (g->expr()) gr.where = expr(g->expr());
      gr.span = span(g);
      d->grants.push_back(std::move(gr));
    } else if (auto* s = dynamic_cast<P::RoleScopeContext*>(item)) {
      d->scope = name(s->ident());
    }
  }
  return d;
}

FieldDecl AstBuilder::field(P::FieldDeclContext* c) {
  FieldDecl f;
  f.name = name(c->ident());
  f.type = type(c->type());
  if (c->expr()) f.default_value = expr(c->expr());
  f.span = span(c);
  return f;
}

DeclPtr AstBuilder::record(P::RecordDeclContext* c) {
  auto d = std::make_unique<RecordDecl>(span(c));
  d->name = name(c->ident());
  for (auto* item : c->recordItem()) {
    if (auto* f = dynamic_cast<P::RecordFieldContext*>(item))
      d->fields.push_back(field(f->fieldDecl()));
    else if (auto* k = dynamic_cast<P::RecordCheckContext*>(item)) {
      Invariant inv;
      inv.cond = expr(k->expr());
      if (k->STRING()) inv.message = string_lit(k->STRING());
      inv.span = span(k);
      d->checks.push_back(std::move(inv));
    }
  }
  return d;
}

DeclPtr AstBuilder::enumeration(P::EnumDeclContext* c) {
  auto d = std::make_unique<EnumDecl>(span(c));
  auto ids = c->ident();
  if (!ids.empty()) d->name = name(ids[0]);
  for (size_t i = 1; i < ids.size(); ++i) d->values.push_back(name(ids[i]));
  return d;
}

DeclPtr AstBuilder::event(P::EventDeclContext* c) {
  auto d = std::make_unique<EventDecl>(span(c));
  auto q = qname(c->qualifiedName());
  d->name = Name{q.str(), q.span};
  for (auto* f : c->fieldDecl()) d->fields.push_back(field(f));
  return d;
}

Param AstBuilder::param(P::ParamContext* c) {
  Param p;
  p.name = name(c->ident());
  p.type = type(c->type());
  if (c->expr()) p.default_value = expr(c->expr());
  p.span = span(c);
  return p;
}

std::vector<Param> AstBuilder::params(P::ParamListContext* c) {
  std::vector<Param> out;
  if (!c) return out;
  for (auto* p : c->param()) out.push_back(param(p));
  return out;
}

DeclPtr AstBuilder::process(P::ProcessDeclContext* c) {
  auto d = std::make_unique<ProcessDecl>(span(c));
  d->name = name(c->ident());
  d->params = params(c->paramList());
  for (auto* item : c->processItem()) {
    if (auto* s = dynamic_cast<P::ProcessStepContext*>(item)) {
      if (auto st = step(s->step())) d->body.push_back(std::move(st));
    } else if (auto* t = dynamic_cast<P::ProcessTimeoutContext*>(item)) {
      d->timeout = expr(t->expr());
    } else if (auto* f = dynamic_cast<P::ProcessOnFailureContext*>(item)) {
      d->on_failure = block(f->block());
      d->has_on_failure = true;
    } else if (auto* t = dynamic_cast<P::ProcessOnTimeoutContext*>(item)) {
      d->on_timeout = block(t->block());
      d->has_on_timeout = true;
    }
  }
  return d;
}

DeclPtr AstBuilder::lifecycle(P::LifecycleDeclContext* c) {
  auto d = std::make_unique<LifecycleDecl>(span(c));
  d->name = name(c->ident());
  d->of_org = c->ORG() != nullptr;
  if (c->typeRef()) d->subject = qname(c->typeRef()->qualifiedName());
  for (auto* item : c->lifecycleItem()) {
    if (auto* x = dynamic_cast<P::LifecycleInitialContext*>(item)) {
      d->initial = name(x->ident());
    } else if (auto* x = dynamic_cast<P::LifecycleStatesContext*>(item)) {
      for (auto* id : x->ident()) d->states.push_back(name(id));
    } else if (auto* x = dynamic_cast<P::LifecycleFinalContext*>(item)) {
      for (auto* id : x->ident()) d->finals.push_back(name(id));
    } else if (auto* x = dynamic_cast<P::LifecycleTransitionContext*>(item)) {
      Transition t;
      auto ids = x->ident();
      // ident[0] is the transition's name, then the source states, and the target last.
      if (ids.size() >= 3) {
        t.name = name(ids[0]);
        for (size_t i = 1; i + 1 < ids.size(); ++i) t.from.push_back(name(ids[i]));
        t.to = name(ids.back());
      }
      if (x->expr()) t.guard = expr(x->expr());
      if (x->block()) t.effects = block(x->block());
      t.span = span(x);
      d->transitions.push_back(std::move(t));
    }
  }
  return d;
}

Pattern AstBuilder::pattern(P::PatternContext* c) {
  Pattern p;
  p.span = span(c);
  if (auto* a = dynamic_cast<P::AccumulatePatternContext*>(c)) {
    p.kind = PatternKind::Accumulate;
    p.var = name(a->name);
    p.where = expr(a->expr());
  } else if (auto* f = dynamic_cast<P::FactPatternContext*>(c)) {
    p.kind = f->NOT() ? PatternKind::Not : f->EXISTS() ? PatternKind::Exists : PatternKind::Fact;
    p.type = qname(f->qualifiedName());
    if (f->ident()) p.var = name(f->ident());
    if (f->expr()) p.where = expr(f->expr());
  }
  return p;
}

DeclPtr AstBuilder::rule(P::RuleDeclContext* c) {
  auto d = std::make_unique<RuleDecl>(span(c));
  d->name = name(c->ident());
  if (auto* s = c->signedInt()) {
    auto v = parse_int(s->INT()->getText());
    if (!v) diags_.report(diag::Code::E0004, span(s), "salience does not fit in 64 bits");
    d->salience = v ? (s->MINUS() ? -*v : *v) : 0;
  }
  if (auto* ps = c->patterns())
    for (auto* p : ps->pattern()) d->patterns.push_back(pattern(p));
  if (auto* a = c->ruleActions()) d->actions = steps(a->step());
  return d;
}

TableEntry AstBuilder::entry(P::InputEntryContext* c) {
  TableEntry e;
  e.span = span(c);
  if (dynamic_cast<P::AnyEntryContext*>(c)) {
    e.kind = EntryKind::Any;
  } else if (auto* x = dynamic_cast<P::CompareEntryContext*>(c)) {
    e.kind = EntryKind::Compare;
    e.cmp = cmp_op(x->cmpOp());
    e.values.push_back(expr(x->expr()));
  } else if (auto* x = dynamic_cast<P::RangeEntryContext*>(c)) {
    e.kind = EntryKind::Range;
    e.values.push_back(expr(x->expr(0)));
    e.values.push_back(expr(x->expr(1)));
  } else if (auto* x = dynamic_cast<P::ValuesEntryContext*>(c)) {
    e.kind = x->NOT() ? EntryKind::NotValues : EntryKind::Values;
    for (auto* v : x->expr()) e.values.push_back(expr(v));
  }
  return e;
}

DeclPtr AstBuilder::table(P::TableDeclContext* c) {
  auto d = std::make_unique<TableDecl>(span(c));
  d->name = name(c->ident());
  if (auto* h = c->hitPolicy()) {
    d->hit_span = span(h);
    if (h->UNIQUE())
      d->hit = HitPolicy::Unique;
    else if (h->FIRST())
      d->hit = HitPolicy::First;
    else if (h->PRIORITY())
      d->hit = HitPolicy::Priority;
    else if (h->ANY())
      d->hit = HitPolicy::Any;
    else if (h->COLLECT()) {
      d->hit = HitPolicy::Collect;
      if (h->ident()) d->aggregate = name(h->ident());
    }
  }
  for (auto* p : c->tableInputs()->param()) d->inputs.push_back(param(p));
  for (auto* p : c->tableOutputs()->param()) d->outputs.push_back(param(p));
  for (auto* r : c->tableRow()) {
    TableRow row;
    row.span = span(r);
    for (auto* e : r->inputEntry()) row.inputs.push_back(entry(e));
    for (auto* o : r->expr()) row.outputs.push_back(expr(o));
    d->rows.push_back(std::move(row));
  }
  return d;
}

DeclPtr AstBuilder::policy(P::PolicyDeclContext* c) {
  auto d = std::make_unique<PolicyDecl>(span(c));
  d->name = name(c->ident());
  d->forbid = c->effect && c->effect->getType() == P::FORBID;
  if (c->action) d->action = Name{c->action->getText(), span(c->action)};
  if (c->typeRef()) d->resource = qname(c->typeRef()->qualifiedName());
  if (c->expr()) d->when = expr(c->expr());
  return d;
}

DeclPtr AstBuilder::metric(P::MetricDeclContext* c) {
  auto d = std::make_unique<MetricDecl>(span(c));
  d->name = name(c->ident());
  if (c->type()) d->type = type(c->type());
  d->formula = expr(c->expr());
  for (auto* cl : c->metricClause()) {
    if (auto* w = dynamic_cast<P::MetricWindowContext*>(cl))
      d->window = expr(w->expr());
    else if (auto* t = dynamic_cast<P::MetricTargetContext*>(cl)) {
      d->target_op = cmp_op(t->cmpOp());
      d->target = expr(t->expr());
    } else if (auto* w2 = dynamic_cast<P::MetricWarnContext*>(cl)) {
      d->warn_op = cmp_op(w2->cmpOp());
      d->warn = expr(w2->expr());
    } else if (auto* a = dynamic_cast<P::MetricAlertContext*>(cl)) {
      d->alert_op = cmp_op(a->cmpOp());
      d->alert = expr(a->expr());
      if (a->qualifiedName()) d->alert_event = qname(a->qualifiedName());
    }
  }
  return d;
}

DeclPtr AstBuilder::templ(P::TemplateDeclContext* c) {
  auto d = std::make_unique<TemplateDecl>(span(c));
  d->name = name(c->ident());
  d->params = params(c->paramList());
  for (auto* dc : c->declaration())
    if (auto x = decl(dc)) d->decls.push_back(std::move(x));
  return d;
}

DeclPtr AstBuilder::connector(P::ConnectorDeclContext* c) {
  auto d = std::make_unique<ConnectorDecl>(span(c));
  d->name = name(c->ident());
  for (auto* op : c->connectorOp()) {
    ConnectorOp o;
    o.name = name(op->ident());
    o.params = params(op->paramList());
    for (auto* f : op->fieldDecl()) o.result.push_back(field(f));
    o.span = span(op);
    d->ops.push_back(std::move(o));
  }
  return d;
}

DeclPtr AstBuilder::peer(P::PeerDeclContext* c) {
  auto d = std::make_unique<PeerDecl>(span(c));
  d->name = name(c->ident());
  auto strs = c->STRING();
  size_t i = 0;
  if (c->AT() && i < strs.size()) d->address = string_lit(strs[i++]);
  if (c->KEY() && i < strs.size()) d->key = string_lit(strs[i++]);
  return d;
}

DeclPtr AstBuilder::agreement(P::AgreementDeclContext* c) {
  auto d = std::make_unique<AgreementDecl>(span(c));
  d->name = name(c->ident());
  d->peer = qname(c->typeRef()->qualifiedName());
  for (auto* item : c->agreementItem()) {
    AgreementItem it;
    it.span = span(item);
    if (auto* x = dynamic_cast<P::AgreementSendContext*>(item)) {
      it.kind = AgreementItemKind::Send;
      it.name = qname(x->qualifiedName());
    } else if (auto* x = dynamic_cast<P::AgreementReceiveContext*>(item)) {
      it.kind = AgreementItemKind::Receive;
      it.name = qname(x->qualifiedName());
    } else if (auto* x = dynamic_cast<P::AgreementShareRecordContext*>(item)) {
      it.kind = AgreementItemKind::ShareRecord;
      it.name = qname(x->typeRef()->qualifiedName());
    } else if (auto* x = dynamic_cast<P::AgreementShareProcessContext*>(item)) {
      it.kind = AgreementItemKind::ShareProcess;
      it.name = qname(x->typeRef()->qualifiedName());
    }
    d->items.push_back(std::move(it));
  }
  return d;
}

DeclPtr AstBuilder::function(P::FunctionDeclContext* c) {
  auto d = std::make_unique<FunctionDecl>(span(c));
  d->name = name(c->ident());
  d->params = params(c->paramList());
  d->result = type(c->type());
  d->body = expr(c->expr());
  return d;
}

// ------------------------------------------------------------------ statements

Block AstBuilder::block(P::BlockContext* c) {
  if (!c) return {};
  return steps(c->step());
}

Block AstBuilder::steps(const std::vector<P::StepContext*>& list) {
  Block out;
  for (auto* s : list)
    if (auto st = step(s)) out.push_back(std::move(st));
  return out;
}

StmtPtr AstBuilder::step(P::StepContext* c) {
  if (!c) return nullptr;
  auto s = stmt(c->stmt());
  if (s && c->COMPENSATE()) s->compensation = block(c->block());
  return s;
}

Assignee AstBuilder::assignee(P::AssigneeContext* c) {
  Assignee a;
  if (!c) return a;
  a.role = qname(c->typeRef()->qualifiedName());
  if (c->expr()) a.scope = expr(c->expr());
  a.span = span(c);
  return a;
}

std::vector<FieldInit> AstBuilder::record_lit(P::RecordLitContext* c) {
  std::vector<FieldInit> out;
  if (!c) return out;
  for (auto* f : c->fieldInit()) out.push_back(FieldInit{name(f->ident()), expr(f->expr())});
  return out;
}

std::vector<Arg> AstBuilder::args(P::ArgListContext* c) {
  std::vector<Arg> out;
  if (!c) return out;
  for (auto* a : c->arg()) {
    Arg arg;
    if (a->ident()) arg.label = name(a->ident());
    arg.value = expr(a->expr());
    out.push_back(std::move(arg));
  }
  return out;
}

StmtPtr AstBuilder::if_stmt(P::IfStmtContext* c) {
  auto s = std::make_unique<IfStmt>(span(c));
  s->cond = expr(c->expr());
  auto blocks = c->block();
  if (!blocks.empty()) s->then_block = block(blocks[0]);
  if (c->ELSE()) {
    s->has_else = true;
    if (c->ifStmt())
      s->else_block.push_back(if_stmt(c->ifStmt()));
    else if (blocks.size() > 1)
      s->else_block = block(blocks[1]);
  }
  return s;
}

StmtPtr AstBuilder::stmt(P::StmtContext* c) {
  if (!c) return nullptr;
  source::Span sp = span(c);
  if (auto* x = dynamic_cast<P::TaskStmtContext*>(c)) {
    auto s = std::make_unique<TaskStmt>(sp);
    s->name = name(x->ident());
    s->assignee = assignee(x->assignee());
    for (auto* cl : x->taskClause()) {
      if (auto* w = dynamic_cast<P::TaskWithinContext*>(cl))
        s->within = expr(w->expr());
      else if (auto* e = dynamic_cast<P::TaskEscalateContext*>(cl))
        s->escalate = assignee(e->assignee());
      else if (auto* o = dynamic_cast<P::TaskOutcomesContext*>(cl))
        for (auto* id : o->ident()) s->outcomes.push_back(name(id));
      else if (auto* r = dynamic_cast<P::TaskReturnsContext*>(cl))
        for (auto* f : r->fieldDecl()) s->returns.push_back(field(f));
      else if (auto* t = dynamic_cast<P::TaskOnTimeoutContext*>(cl)) {
        s->on_timeout = block(t->block());
        s->has_on_timeout = true;
      }
    }
    return s;
  }
  if (auto* x = dynamic_cast<P::ApprovalStmtContext*>(c)) {
    auto s = std::make_unique<ApprovalStmt>(sp);
    if (x->ident()) s->name = name(x->ident());
    s->assignee = assignee(x->assignee());
    for (auto* cl : x->approvalClause()) {
      if (auto* q = dynamic_cast<P::ApprovalQuorumContext*>(cl)) {
        auto* qc = q->quorum();
        s->quorum.span = span(qc);
        if (dynamic_cast<P::QuorumMajorityContext*>(qc))
          s->quorum.kind = QuorumKind::Majority;
        else if (dynamic_cast<P::QuorumUnanimousContext*>(qc))
          s->quorum.kind = QuorumKind::Unanimous;
        else if (auto* n = dynamic_cast<P::QuorumCountContext*>(qc)) {
          s->quorum.kind = QuorumKind::Count;
          auto ints = n->INT();
          s->quorum.n = parse_int(ints[0]->getText()).value_or(0);
          if (ints.size() > 1) s->quorum.of = parse_int(ints[1]->getText()).value_or(0);
        } else if (auto* p = dynamic_cast<P::QuorumPercentContext*>(qc)) {
          s->quorum.kind = QuorumKind::Percent;
          std::string t = p->PERCENT()->getText();
          t.pop_back();
          s->quorum.n = parse_int(strip_separators(t)).value_or(0);
        }
      } else if (auto* w = dynamic_cast<P::ApprovalWithinContext*>(cl)) {
        s->within = expr(w->expr());
      } else if (auto* e = dynamic_cast<P::ApprovalEscalateContext*>(cl)) {
        s->escalate = assignee(e->assignee());
      } else if (auto* t = dynamic_cast<P::ApprovalOnTimeoutContext*>(cl)) {
        s->on_timeout = block(t->block());
        s->has_on_timeout = true;
      }
    }
    return s;
  }
  if (auto* x = dynamic_cast<P::EmitStmtContext*>(c)) {
    auto s = std::make_unique<ConstructStmt>(StmtKind::Emit, sp);
    s->type = qname(x->qualifiedName());
    s->has_fields = x->recordLit() != nullptr;
    s->fields = record_lit(x->recordLit());
    return s;
  }
  if (auto* x = dynamic_cast<P::SetStmtContext*>(c)) {
    auto s = std::make_unique<SetStmt>(sp);
    s->target = expr(x->expr(0));
    s->value = expr(x->expr(1));
    return s;
  }
  if (auto* x = dynamic_cast<P::CallStmtContext*>(c)) {
    auto s = std::make_unique<CallStmt>(StmtKind::Call, sp);
    s->callee = qname(x->qualifiedName());
    s->args = args(x->argList());
    if (x->ident()) s->bind = name(x->ident());
    return s;
  }
  if (auto* x = dynamic_cast<P::BareCallStmtContext*>(c)) {
    auto s = std::make_unique<CallStmt>(StmtKind::Call, sp);
    s->callee = qname(x->qualifiedName());
    s->args = args(x->argList());
    if (x->ident()) s->bind = name(x->ident());
    s->bare = true;
    return s;
  }
  if (auto* x = dynamic_cast<P::RunStmtContext*>(c)) {
    auto s = std::make_unique<CallStmt>(StmtKind::Run, sp);
    s->callee = qname(x->typeRef()->qualifiedName());
    s->args = args(x->argList());
    if (x->ident()) s->bind = name(x->ident());
    return s;
  }
  if (auto* x = dynamic_cast<P::StartStmtContext*>(c)) {
    auto s = std::make_unique<CallStmt>(StmtKind::Start, sp);
    s->callee = qname(x->typeRef()->qualifiedName());
    s->args = args(x->argList());
    return s;
  }
  if (auto* x = dynamic_cast<P::IfStepContext*>(c)) {
    auto s = if_stmt(x->ifStmt());
    return s;
  }
  if (auto* x = dynamic_cast<P::NotifyStmtContext*>(c)) {
    auto s = std::make_unique<NotifyStmt>(sp);
    s->who = expr(x->expr(0));
    s->message = expr(x->expr(1));
    return s;
  }
  if (auto* x = dynamic_cast<P::CreateStmtContext*>(c)) {
    auto s = std::make_unique<ConstructStmt>(StmtKind::Create, sp);
    s->type = qname(x->typeRef()->qualifiedName());
    s->has_fields = true;
    s->fields = record_lit(x->recordLit());
    if (x->ident()) s->bind = name(x->ident());
    return s;
  }
  if (auto* x = dynamic_cast<P::UpdateStmtContext*>(c)) {
    auto s = std::make_unique<UpdateStmt>(StmtKind::Update, sp);
    s->target = expr(x->expr());
    s->fields = record_lit(x->recordLit());
    return s;
  }
  if (auto* x = dynamic_cast<P::WaitEventStmtContext*>(c)) {
    auto s = std::make_unique<WaitEventStmt>(sp);
    s->event = qname(x->qualifiedName());
    if (x->ident()) s->bind = name(x->ident());
    // expr(0) is the `where` condition when present, the `within` deadline follows it.
    auto es = x->expr();
    size_t i = 0;
    if (x->WHERE() && i < es.size()) s->where = expr(es[i++]);
    if (x->WITHIN() && i < es.size()) s->within = expr(es[i++]);
    if (x->block()) {
      s->on_timeout = block(x->block());
      s->has_on_timeout = true;
    }
    return s;
  }
  if (auto* x = dynamic_cast<P::WaitUntilStmtContext*>(c)) {
    auto s = std::make_unique<WaitTimeStmt>(StmtKind::WaitUntil, sp);
    s->time = expr(x->expr());
    return s;
  }
  if (auto* x = dynamic_cast<P::WaitTimerStmtContext*>(c)) {
    auto s = std::make_unique<WaitTimeStmt>(StmtKind::WaitTimer, sp);
    s->time = expr(x->expr());
    return s;
  }
  if (auto* x = dynamic_cast<P::SwitchStmtContext*>(c)) {
    auto s = std::make_unique<SwitchStmt>(sp);
    s->subject = expr(x->expr());
    for (auto* sc : x->switchCase()) {
      SwitchCase k;
      for (auto* v : sc->expr()) k.values.push_back(expr(v));
      k.body = block(sc->block());
      k.span = span(sc);
      s->cases.push_back(std::move(k));
    }
    if (x->ELSE()) {
      s->has_else = true;
      s->else_block = block(x->block());
    }
    return s;
  }
  if (auto* x = dynamic_cast<P::ParallelStmtContext*>(c)) {
    auto s = std::make_unique<ParallelStmt>(sp);
    if (auto* j = x->joinKind()) {
      s->join_span = span(j);
      if (j->ANY())
        s->join = JoinKind::Any;
      else if (j->INT()) {
        s->join = JoinKind::Count;
        s->join_count = parse_int(j->INT()->getText()).value_or(0);
      }
    }
    for (auto* b : x->parallelBranch()) {
      Branch br;
      br.span = span(b);
      if (auto* nb = dynamic_cast<P::NamedBranchContext*>(b)) {
        if (nb->ident()) br.name = name(nb->ident());
        br.body = block(nb->block());
      } else if (auto* sb = dynamic_cast<P::StepBranchContext*>(b)) {
        if (auto st = step(sb->step())) br.body.push_back(std::move(st));
      }
      s->branches.push_back(std::move(br));
    }
    return s;
  }
  if (auto* x = dynamic_cast<P::ForEachStmtContext*>(c)) {
    auto s = std::make_unique<ForEachStmt>(sp);
    s->var = name(x->ident());
    s->source = expr(x->expr());
    s->parallel = x->PARALLEL() != nullptr;
    if (x->INT()) {
      s->max_span = span(x->INT());
      auto v = parse_int(x->INT()->getText());
      if (!v) diags_.report(diag::Code::E0004, s->max_span, "bound does not fit in 64 bits");
      s->max = v.value_or(0);
      if (s->max == 0 && v) s->max = -1;  // an explicit `max 0`, reported by the checks
    }
    s->body = block(x->block());
    return s;
  }
  if (auto* x = dynamic_cast<P::LetStmtContext*>(c)) {
    auto s = std::make_unique<LetStmt>(sp);
    s->name = name(x->ident());
    if (x->type()) s->type = type(x->type());
    s->value = expr(x->expr());
    return s;
  }
  if (auto* x = dynamic_cast<P::FailStmtContext*>(c)) {
    auto s = std::make_unique<SimpleStmt>(StmtKind::Fail, sp);
    if (x->expr()) s->value = expr(x->expr());
    return s;
  }
  if (dynamic_cast<P::CompleteStmtContext*>(c)) return std::make_unique<SimpleStmt>(StmtKind::Complete, sp);
  if (auto* x = dynamic_cast<P::InsertStmtContext*>(c)) {
    auto s = std::make_unique<ConstructStmt>(StmtKind::Insert, sp);
    s->type = qname(x->typeRef()->qualifiedName());
    s->has_fields = true;
    s->fields = record_lit(x->recordLit());
    return s;
  }
  if (auto* x = dynamic_cast<P::DeriveStmtContext*>(c)) {
    auto s = std::make_unique<ConstructStmt>(StmtKind::Derive, sp);
    s->type = qname(x->typeRef()->qualifiedName());
    s->has_fields = true;
    s->fields = record_lit(x->recordLit());
    return s;
  }
  if (auto* x = dynamic_cast<P::ModifyStmtContext*>(c)) {
    auto s = std::make_unique<UpdateStmt>(StmtKind::Modify, sp);
    s->target = expr(x->expr());
    s->fields = record_lit(x->recordLit());
    return s;
  }
  if (auto* x = dynamic_cast<P::RetractStmtContext*>(c)) {
    auto s = std::make_unique<SimpleStmt>(StmtKind::Retract, sp);
    s->value = expr(x->expr());
    return s;
  }
  if (auto* x = dynamic_cast<P::SignalStmtContext*>(c)) {
    auto s = std::make_unique<SignalStmt>(sp);
    s->process = qname(x->typeRef()->qualifiedName());
    if (x->expr()) s->where = expr(x->expr());
    s->event = qname(x->qualifiedName());
    s->fields = record_lit(x->recordLit());
    return s;
  }
  return nullptr;
}

// ------------------------------------------------------------------ expressions

ExprPtr AstBuilder::error_expr(source::Span s) {
  auto e = std::make_unique<LiteralExpr>(LiteralKind::None, s);
  return e;
}

BinaryOp AstBuilder::cmp_op(P::CmpOpContext* c) {
  if (!c) return BinaryOp::Eq;
  if (c->NE()) return BinaryOp::Ne;
  if (c->LT()) return BinaryOp::Lt;
  if (c->LE()) return BinaryOp::Le;
  if (c->GT()) return BinaryOp::Gt;
  if (c->GE()) return BinaryOp::Ge;
  return BinaryOp::Eq;
}

ExprPtr AstBuilder::expr(P::ExprContext* c) {
  if (!c) return error_expr({});
  // Long operator chains make deep left spines; past the limit, report once and stop descending so
  // neither this builder nor later recursive passes can exhaust the stack.
  if (depth_ >= kMaxExprDepth) {
    too_deep_in_decl_ = true;
    if (!too_deep_reported_) {
      diags_.report(diag::Code::E0001, span(c), "expression is too deeply nested")
          .with_hint("split it with `let` steps or helper functions");
      too_deep_reported_ = true;
    }
    return error_expr(span(c));
  }
  ++depth_;
  ExprPtr e = expr_inner(c);
  --depth_;
  return e;
}

ExprPtr AstBuilder::expr_inner(P::ExprContext* c) {
  source::Span sp = span(c);
  if (auto* x = dynamic_cast<P::PrimaryExprContext*>(c)) return primary(x->primary());
  if (auto* x = dynamic_cast<P::FieldExprContext*>(c))
    return std::make_unique<FieldExpr>(expr(x->expr()), name(x->ident()), false, sp);
  if (auto* x = dynamic_cast<P::CmpExprContext*>(c))
    return std::make_unique<BinaryExpr>(cmp_op(x->cmpOp()), expr(x->expr(0)), expr(x->expr(1)), sp,
                                        span(x->cmpOp()));
  if (auto* x = dynamic_cast<P::AndExprContext*>(c))
    return std::make_unique<BinaryExpr>(BinaryOp::And, expr(x->expr(0)), expr(x->expr(1)), sp,
                                        span(x->AND()));
  if (auto* x = dynamic_cast<P::OrExprContext*>(c))
    return std::make_unique<BinaryExpr>(BinaryOp::Or, expr(x->expr(0)), expr(x->expr(1)), sp, span(x->OR()));
  if (auto* x = dynamic_cast<P::AddExprContext*>(c)) {
    auto op = x->op && x->op->getType() == P::MINUS ? BinaryOp::Sub : BinaryOp::Add;
    return std::make_unique<BinaryExpr>(op, expr(x->expr(0)), expr(x->expr(1)), sp,
                                        x->op ? to_span_(x->op, x->op) : sp);
  }
  if (auto* x = dynamic_cast<P::MulExprContext*>(c)) {
    BinaryOp op = BinaryOp::Mul;
    if (x->op && x->op->getType() == P::SLASH) op = BinaryOp::Div;
    if (x->op && x->op->getType() == P::PERCENT_SIGN) op = BinaryOp::Mod;
    return std::make_unique<BinaryExpr>(op, expr(x->expr(0)), expr(x->expr(1)), sp,
                                        x->op ? to_span_(x->op, x->op) : sp);
  }
  if (auto* x = dynamic_cast<P::CallExprContext*>(c))
    return std::make_unique<CallExpr>(expr(x->expr()), args(x->argList()), sp);
  if (auto* x = dynamic_cast<P::NotExprContext*>(c))
    return std::make_unique<UnaryExpr>(UnaryOp::Not, expr(x->expr()), sp);
  if (auto* x = dynamic_cast<P::NegExprContext*>(c))
    return std::make_unique<UnaryExpr>(UnaryOp::Neg, expr(x->expr()), sp);
  if (auto* x = dynamic_cast<P::InExprContext*>(c))
    return std::make_unique<BinaryExpr>(x->NOT() ? BinaryOp::NotIn : BinaryOp::In, expr(x->expr(0)),
                                        expr(x->expr(1)), sp, span(x->IN()));
  if (auto* x = dynamic_cast<P::CoalesceExprContext*>(c))
    return std::make_unique<BinaryExpr>(BinaryOp::Coalesce, expr(x->expr(0)), expr(x->expr(1)), sp,
                                        span(x->COALESCE()));
  if (auto* x = dynamic_cast<P::OptFieldExprContext*>(c))
    return std::make_unique<FieldExpr>(expr(x->expr()), name(x->ident()), true, sp);
  if (auto* x = dynamic_cast<P::IsNoneExprContext*>(c))
    return std::make_unique<BinaryExpr>(x->NOT() ? BinaryOp::IsSome : BinaryOp::IsNone, expr(x->expr()),
                                        nullptr, sp, span(x->IS()));
  if (auto* x = dynamic_cast<P::IndexExprContext*>(c))
    return std::make_unique<IndexExpr>(expr(x->expr(0)), expr(x->expr(1)), sp);
  return error_expr(sp);
}

ExprPtr AstBuilder::primary(P::PrimaryContext* c) {
  if (!c) return error_expr({});
  source::Span sp = span(c);
  if (auto* x = dynamic_cast<P::NamePrimaryContext*>(c)) return std::make_unique<NameExpr>(text(x), sp);
  if (auto* x = dynamic_cast<P::LiteralPrimaryContext*>(c)) return literal(x->literal());
  if (auto* x = dynamic_cast<P::ParenPrimaryContext*>(c)) return expr(x->expr());
  if (auto* x = dynamic_cast<P::ListPrimaryContext*>(c)) {
    std::vector<ExprPtr> items;
    for (auto* e : x->expr()) items.push_back(expr(e));
    return std::make_unique<ListExpr>(std::move(items), sp);
  }
  if (auto* x = dynamic_cast<P::ComprehensionPrimaryContext*>(c)) {
    auto e = std::make_unique<ComprehensionExpr>(sp);
    e->aggregate = Name{x->aggregate->getText(), span(x->aggregate)};
    auto es = x->expr();
    size_t i = 0;
    if (x->FOR() && i < es.size()) e->element = expr(es[i++]);
    e->var = name(x->ident());
    if (i < es.size()) e->source = expr(es[i++]);
    if (x->WHERE() && i < es.size()) e->filter = expr(es[i++]);
    if (!e->source) e->source = error_expr(sp);
    return e;
  }
  return error_expr(sp);
}

ExprPtr AstBuilder::literal(P::LiteralContext* c) {
  source::Span sp = span(c);
  auto* tok = c->getStart();
  std::string t = tok->getText();
  switch (tok->getType()) {
    case P::INT: {
      auto e = std::make_unique<LiteralExpr>(LiteralKind::Int, sp);
      e->number = strip_separators(t);
      auto v = parse_int(t);
      if (!v)
        diags_.report(diag::Code::E0004, sp, "integer literal `" + t + "` does not fit in 64 bits")
            .with_hint("use a Decimal (e.g. `" + e->number + ".0`) for larger values");
      e->int_value = v.value_or(0);
      return e;
    }
    case P::DECIMAL: {
      auto e = std::make_unique<LiteralExpr>(LiteralKind::Decimal, sp);
      e->number = strip_separators(t);
      return e;
    }
    case P::MONEY: {
      auto e = std::make_unique<LiteralExpr>(LiteralKind::Money, sp);
      e->currency = t.substr(t.size() - 3);
      e->number = strip_separators(t.substr(0, t.size() - 3));
      return e;
    }
    case P::DURATION: {
      auto e = std::make_unique<LiteralExpr>(LiteralKind::Duration, sp);
      auto v = parse_duration(t);
      if (!v) diags_.report(diag::Code::E0004, sp, "duration `" + t + "` is too long");
      e->int_value = v.value_or(0);
      e->number = t;
      return e;
    }
    case P::PERCENT: {
      auto e = std::make_unique<LiteralExpr>(LiteralKind::Percent, sp);
      e->number = strip_separators(t.substr(0, t.size() - 1));
      return e;
    }
    case P::DATE: {
      auto e = std::make_unique<LiteralExpr>(LiteralKind::Date, sp);
      auto v = parse_date(t);
      if (!v)
        diags_.report(diag::Code::E0004, sp, "`" + t + "` is not a calendar date")
            .with_hint("dates are written YYYY-MM-DD with a valid month and day");
      e->int_value = v.value_or(0);
      e->text = t;
      return e;
    }
    case P::STRING: {
      auto e = std::make_unique<LiteralExpr>(LiteralKind::String, sp);
      e->text = unescape(t);
      return e;
    }
    case P::TRUE:
    case P::FALSE: {
      auto e = std::make_unique<LiteralExpr>(LiteralKind::Bool, sp);
      e->bool_value = tok->getType() == P::TRUE;
      return e;
    }
    default:
      return std::make_unique<LiteralExpr>(LiteralKind::None, sp);
  }
}

}  // namespace orgos::syntax
