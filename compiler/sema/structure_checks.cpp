// Checks over the shape of the program rather than single expressions: lifecycle state graphs,
// ownership between orgs, roles that nobody can hold, overlapping rows in unique tables, and the
// warnings for definitions and imports nobody uses.
#include "compiler/sema/structure_checks.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <functional>
#include <optional>
#include <set>

#include "compiler/driver/compilation.h"

namespace orgos::sema {

using namespace ast;

namespace {

void lifecycle_checks(const LifecycleDecl* d, diag::DiagnosticEngine& de) {
  std::map<std::string, size_t> index;
  std::vector<const Name*> states;
  auto declare = [&](const Name& n) {
    if (n.empty()) return;
    if (index.count(n.text)) return;
    index[n.text] = states.size();
    states.push_back(&n);
  };
  declare(d->initial);
  std::set<std::string> listed;
  for (auto& s : d->states) {
    if (!listed.insert(s.text).second)
      de.report(diag::Code::W0001, s.span, "state `" + s.text + "` is listed twice");
    declare(s);
  }
  for (auto& s : d->finals) declare(s);
  if (d->initial.empty()) {
    de.report(diag::Code::E0602, d->name.span, "lifecycle `" + d->name.text + "` has no initial state")
        .with_hint("add `initial STATE`");
    return;
  }
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  Graph g(states.size());
  std::vector<bool> has_out(states.size(), false);
  auto known = [&](const Name& n) {
    if (index.count(n.text)) return true;
    de.report(diag::Code::E0600, n.span,
              "`" + n.text + "` is not a state of lifecycle `" + d->name.text + "`")
        .with_hint("declare it with `state " + n.text + "`");
    return false;
  };
  for (auto& t : d->transitions) {
    bool to_ok = known(t.to);
    for (auto& f : t.from) {
      if (!known(f) || !to_ok) continue;
      boost::add_edge(index[f.text], index[t.to.text], g);
      has_out[index[f.text]] = true;
    }
  }
  std::vector<boost::default_color_type> colour(states.size(), boost::white_color);
  boost::breadth_first_search(g, index[d->initial.text],
                              boost::color_map(boost::make_iterator_property_map(
                                  colour.begin(), boost::get(boost::vertex_index, g))));
  std::set<std::string> finals;
  for (auto& f : d->finals) finals.insert(f.text);
  for (size_t i = 0; i < states.size(); ++i) {
    if (colour[i] == boost::white_color)
      de.report(diag::Code::E0601, states[i]->span,
                "state `" + states[i]->text + "` cannot be reached from `" + d->initial.text + "`")
          .with_hint("add a transition into it, or remove it");
    else if (!has_out[i] && !finals.count(states[i]->text))
      de.report(diag::Code::W0004, states[i]->span,
                "state `" + states[i]->text + "` has no transition out and is not final")
          .with_hint("mark it `final`, or add a transition from it");
  }
}

// Ownership: a percentage in (0, 100], no org owning itself, and no more than 100% of one org owned.
void ownership_checks(const std::vector<const OrgDecl*>& orgs, diag::DiagnosticEngine& de) {
  std::map<std::string, double> owned;
  std::map<std::string, source::Span> first;
  for (const OrgDecl* o : orgs) {
    for (const OrgRelation& r : o->relations) {
      if (r.target.str() == o->name.text) {
        de.report(diag::Code::E0750, r.span,
                  "org `" + o->name.text + "` cannot own, control or manage itself");
        continue;
      }
      if (r.kind != RelationKind::Owns) continue;
      double pct = std::strtod(r.percent.c_str(), nullptr);
      if (pct <= 0 || pct > 100) {
        de.report(diag::Code::E0750, r.span, "an ownership share must be more than 0% and at most 100%");
        continue;
      }
      owned[r.target.str()] += pct;
      if (!first.count(r.target.str())) first[r.target.str()] = r.span;
      if (owned[r.target.str()] > 100.0 + 1e-9)
        de.report(diag::Code::E0750, r.span,
                  "the shares of `" + r.target.str() + "` add up to more than 100%")
            .note(first[r.target.str()], "first share declared here");
    }
  }
}

// Literal bounds of a table cell, for overlap detection: nullopt when the cell is not literal.
struct Interval {
  double lo = -1e308, hi = 1e308;
  bool lo_open = false, hi_open = false;
  std::set<std::string> values;  // equality cells on strings, enums, booleans
  bool any = false;
};

std::optional<double> number(const Expr* e) {
  auto* l = dyn<LiteralExpr>(e);
  if (!l) {
    if (auto* u = dyn<UnaryExpr>(e); u && u->op == UnaryOp::Neg)
      if (auto v = number(u->operand.get())) return -*v;
    return std::nullopt;
  }
  switch (l->lit) {
    case LiteralKind::Int:
    case LiteralKind::Decimal:
    case LiteralKind::Money:
      return std::strtod(l->number.c_str(), nullptr);
    case LiteralKind::Percent:
      return std::strtod(l->number.c_str(), nullptr) / 100;
    case LiteralKind::Duration:
    case LiteralKind::Date:
      return static_cast<double>(l->int_value);
    default:
      return std::nullopt;
  }
}

std::optional<std::string> symbol(const Expr* e) {
  if (auto* l = dyn<LiteralExpr>(e)) {
    if (l->lit == LiteralKind::String) return "\"" + l->text;
    if (l->lit == LiteralKind::Bool) return l->bool_value ? "true" : "false";
  }
  if (auto* n = dyn<NameExpr>(e)) return n->name;
  if (auto* f = dyn<FieldExpr>(e)) return f->field.text;
  return std::nullopt;
}

std::optional<Interval> interval(const TableEntry& e) {
  Interval iv;
  switch (e.kind) {
    case EntryKind::Any:
      iv.any = true;
      return iv;
    case EntryKind::NotValues:
      return std::nullopt;
    case EntryKind::Range: {
      auto a = number(e.values[0].get()), b = number(e.values[1].get());
      if (!a || !b) return std::nullopt;
      iv.lo = *a;
      iv.hi = *b;
      return iv;
    }
    case EntryKind::Compare: {
      auto v = number(e.values[0].get());
      if (!v) {
        if (e.cmp != BinaryOp::Eq) return std::nullopt;
        auto s = symbol(e.values[0].get());
        if (!s) return std::nullopt;
        iv.values.insert(*s);
        return iv;
      }
      switch (e.cmp) {
        case BinaryOp::Lt:
          iv.hi = *v;
          iv.hi_open = true;
          break;
        case BinaryOp::Le:
          iv.hi = *v;
          break;
        case BinaryOp::Gt:
          iv.lo = *v;
          iv.lo_open = true;
          break;
        case BinaryOp::Ge:
          iv.lo = *v;
          break;
        case BinaryOp::Eq:
          iv.lo = iv.hi = *v;
          break;
        default:
          return std::nullopt;
      }
      return iv;
    }
    case EntryKind::Values: {
      if (e.values.size() == 1)
        if (auto v = number(e.values[0].get())) {
          iv.lo = iv.hi = *v;
          return iv;
        }
      for (auto& v : e.values) {
        auto s = symbol(v.get());
        if (!s) return std::nullopt;
        iv.values.insert(*s);
      }
      return iv;
    }
  }
  return std::nullopt;
}

bool overlaps(const Interval& a, const Interval& b) {
  if (a.any || b.any) return true;
  if (!a.values.empty() || !b.values.empty()) {
    if (a.values.empty() || b.values.empty()) return false;
    for (auto& v : a.values)
      if (b.values.count(v)) return true;
    return false;
  }
  if (a.hi < b.lo || b.hi < a.lo) return false;
  if (a.hi == b.lo && (a.hi_open || b.lo_open)) return false;
  if (b.hi == a.lo && (b.hi_open || a.lo_open)) return false;
  return true;
}

// Completeness: when every input has a finite domain (an enum or Bool), each combination of input values
// should match some row; the first that does not is named. Collect tables may legitimately match none.
void completeness(const TableDecl* d, const sema::Program& prog, diag::DiagnosticEngine& de) {
  if (d->hit == HitPolicy::Collect || d->inputs.empty()) return;
  std::vector<std::vector<std::string>> domains;
  size_t combos = 1;
  for (const Param& in : d->inputs) {
    auto it = prog.type_exprs.find(&in.type);
    const sema::Type* t = it == prog.type_exprs.end() ? nullptr : it->second;
    if (!t) return;
    std::vector<std::string> dom;
    if (t->kind == sema::TypeKind::Bool)
      dom = {"true", "false"};
    else if (t->kind == sema::TypeKind::Enum)
      for (auto& v : as<EnumDecl>(t->decl)->values) dom.push_back(v.text);
    else
      return;  // numbers, money, strings: not enumerable
    combos *= dom.size();
    if (dom.empty() || combos > 10000) return;
    domains.push_back(std::move(dom));
  }
  auto cell_matches = [](const TableEntry& e, const std::string& v) {
    auto names = [](const ExprPtr& x) -> std::string {
      if (auto* n = dyn<NameExpr>(x.get())) return n->name;
      if (auto* f = dyn<FieldExpr>(x.get())) return f->field.text;
      if (auto* l = dyn<LiteralExpr>(x.get()); l && l->lit == LiteralKind::Bool)
        return l->bool_value ? "true" : "false";
      return "\x01";  // not a literal value: cannot tell, treated as matching below
    };
    switch (e.kind) {
      case EntryKind::Any:
        return true;
      case EntryKind::Values:
      case EntryKind::NotValues: {
        bool in = false;
        for (auto& x : e.values) {
          std::string n = names(x);
          if (n == "\x01") return true;
          in = in || n == v;
        }
        return e.kind == EntryKind::Values ? in : !in;
      }
      case EntryKind::Compare:
        if (e.cmp == BinaryOp::Eq) {
          std::string n = names(e.values[0]);
          return n == "\x01" || n == v;
        }
        return true;  // an order on enums: assume it covers
      case EntryKind::Range:
        return true;
    }
    return true;
  };
  std::vector<size_t> idx(domains.size(), 0);
  for (size_t c = 0; c < combos; ++c) {
    bool covered = false;
    for (const TableRow& row : d->rows) {
      if (row.inputs.size() != domains.size()) return;  // E0710 already
      bool all = true;
      for (size_t k = 0; k < domains.size() && all; ++k)
        all = cell_matches(row.inputs[k], domains[k][idx[k]]);
      if (all) {
        covered = true;
        break;
      }
    }
    if (!covered) {
      std::string combo;
      for (size_t k = 0; k < domains.size(); ++k)
        combo += (k ? ", " : "") + d->inputs[k].name.text + " = " + domains[k][idx[k]];
      de.report(diag::Code::W0005, d->name.span, "table `" + d->name.text + "` has no row for " + combo)
          .with_hint("add a row for it, or end the table with a catch-all row `| - | … || … |`");
      return;
    }
    for (size_t k = 0; k < idx.size(); ++k) {
      if (++idx[k] < domains[k].size()) break;
      idx[k] = 0;
    }
  }
}

void table_checks(const TableDecl* d, diag::DiagnosticEngine& de) {
  if (d->hit != HitPolicy::Unique) return;
  std::vector<std::optional<std::vector<Interval>>> rows;
  for (auto& r : d->rows) {
    if (r.inputs.size() != d->inputs.size()) {
      rows.push_back(std::nullopt);
      continue;
    }
    std::vector<Interval> cells;
    bool literal = true;
    for (auto& e : r.inputs) {
      auto iv = interval(e);
      if (!iv) {
        literal = false;
        break;
      }
      cells.push_back(*iv);
    }
    rows.push_back(literal ? std::optional(cells) : std::nullopt);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i]) continue;
    for (size_t j = i + 1; j < rows.size(); ++j) {
      if (!rows[j]) continue;
      bool all = true;
      for (size_t k = 0; k < rows[i]->size() && all; ++k) all = overlaps((*rows[i])[k], (*rows[j])[k]);
      if (all) {
        de.report(diag::Code::E0712, d->rows[j].span,
                  "in unique table `" + d->name.text + "`, rows " + std::to_string(i + 1) + " and " +
                      std::to_string(j + 1) + " can match the same input")
            .note(d->rows[i].span, "this row overlaps")
            .with_hint(
                "narrow one of the rows, or use `hit first` / `hit priority` if overlaps are intended");
        break;
      }
    }
  }
}

}  // namespace

void structure_checks(driver::Compilation& c, Symbols& sym) {
  auto& de = c.diags;
  std::vector<const OrgDecl*> orgs;
  std::set<std::string> held;  // role names held by some position, with what they extend
  std::map<std::string, const RoleDecl*> roles;
  for (auto& f : c.files)
    for (auto& d : f.module->decls) {
      if (d->kind == DeclKind::Org) orgs.push_back(as<OrgDecl>(d.get()));
      if (d->kind == DeclKind::Role) roles[d->name.text] = as<RoleDecl>(d.get());
      if (d->kind == DeclKind::Lifecycle) lifecycle_checks(as<LifecycleDecl>(d.get()), de);
      if (d->kind == DeclKind::Table) {
        table_checks(as<TableDecl>(d.get()), de);
        completeness(as<TableDecl>(d.get()), *c.program, de);
      }
    }
  ownership_checks(orgs, de);

  // A role is held by a position naming it, or by a position holding a role that extends it.
  std::function<void(const std::string&, int)> hold = [&](const std::string& r, int depth) {
    if (depth > 32 || !held.insert(r).second) return;
    auto it = roles.find(r);
    if (it == roles.end()) return;
    for (auto& e : it->second->extends) hold(e.parts.back().text, depth + 1);
  };
  bool root_org = false;
  for (auto& f : c.files)
    for (auto& d : f.module->decls)
      if (d->kind == DeclKind::Org && f.root) {
        root_org = true;
        for (auto& p : as<OrgDecl>(d.get())->positions)
          hold(p.role.parts.empty() ? "" : p.role.parts.back().text, 0);
      }
  if (root_org) {
    // Only the root project's processes are checked: a library package cannot know who staffs it.
    std::function<void(const Block&)> walk = [&](const Block& b) {
      for (auto& s : b) {
        auto check = [&](const Assignee& a) {
          if (a.role.empty() || held.count(a.role.parts.back().text)) return;
          auto it = roles.find(a.role.parts.back().text);
          if (it == roles.end()) return;  // unknown role: already reported
          de.report(diag::Code::E0400, a.role.span, "nobody in the org holds role `" + a.role.str() + "`")
              .note(it->second->name.span, "role declared here")
              .with_hint("add a position: `position NAME: " + a.role.str() + " in UNIT held by \"…\"`");
          held.insert(a.role.parts.back().text);  // report each role once
        };
        if (s->kind == StmtKind::Task) {
          auto* t = as<TaskStmt>(s.get());
          check(t->assignee);
          if (t->escalate) check(*t->escalate);
          walk(t->on_timeout);
        } else if (s->kind == StmtKind::Approval) {
          auto* a = as<ApprovalStmt>(s.get());
          check(a->assignee);
          if (a->escalate) check(*a->escalate);
          walk(a->on_timeout);
        } else if (s->kind == StmtKind::If) {
          walk(as<IfStmt>(s.get())->then_block);
          walk(as<IfStmt>(s.get())->else_block);
        } else if (s->kind == StmtKind::Switch) {
          for (auto& k : as<SwitchStmt>(s.get())->cases) walk(k.body);
          walk(as<SwitchStmt>(s.get())->else_block);
        } else if (s->kind == StmtKind::Parallel) {
          for (auto& br : as<ParallelStmt>(s.get())->branches) walk(br.body);
        } else if (s->kind == StmtKind::ForEach) {
          walk(as<ForEachStmt>(s.get())->body);
        } else if (s->kind == StmtKind::WaitEvent) {
          walk(as<WaitEventStmt>(s.get())->on_timeout);
        }
        walk(s->compensation);
      }
    };
    for (auto& f : c.files) {
      if (!f.root) continue;
      for (auto& d : f.module->decls)
        if (d->kind == DeclKind::Process) {
          auto* p = as<ProcessDecl>(d.get());
          walk(p->body);
          walk(p->on_failure);
          walk(p->on_timeout);
        }
    }
  }

  // Unused definitions and imports, in the packages the user asked to check. A library package (one
  // without an org) exports its functions and tables for others, so only applications warn about them.
  std::set<std::string> applications;
  for (auto& f : c.files)
    for (auto& d : f.module->decls)
      if (d->kind == DeclKind::Org) applications.insert(f.package);
  for (size_t fi = 0; fi < c.files.size(); ++fi) {
    auto& f = c.files[fi];
    if (!f.root) continue;
    for (auto& d : f.module->decls) {
      if (!applications.count(f.package)) break;
      bool reportable = d->kind == DeclKind::Enum || d->kind == DeclKind::Function ||
                        d->kind == DeclKind::Table || d->kind == DeclKind::Connector;
      if (reportable && !sym.used(d.get()))
        de.report(diag::Code::W0002, d->name.span,
                  std::string(keyword(d->kind)) + " `" + d->name.text + "` is never used")
            .with_hint("remove it, or use it");
    }
    for (auto& imp : f.module->imports) {
      if (sym.used_imports().count(&imp)) continue;
      const FileScope& fs = sym.scope(fi);
      bool resolved = false;
      for (auto& [k, v] : fs.alias_imports) resolved = resolved || v == &imp;
      for (auto& [k, v] : fs.name_imports) resolved = resolved || v == &imp;
      if (resolved)
        de.report(diag::Code::W0003, imp.span, "nothing from `" + imp.path.str() + "` is used")
            .with_hint("remove the import");
    }
  }
}

}  // namespace orgos::sema
