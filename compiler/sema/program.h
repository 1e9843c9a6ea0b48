// The checked program: every package read for one compilation, its declarations by name, and what
// the checks worked out (the type of each expression, what each name refers to). Later stages (IR
// lowering, `orgctl graph`) read this instead of re-resolving names.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/sema/manifest.h"
#include "compiler/sema/types.h"
#include "compiler/syntax/ast/module.h"

namespace orgos::sema {

struct Package {
  std::string name;
  std::string version;
  std::string dir;            // empty for in-memory sources
  bool root = false;          // a package the user asked to check (not only imported)
  std::vector<size_t> files;  // indices into Compilation::files
  std::multimap<std::string, const ast::Decl*> decls;  // by declared name (events by dotted name)
  std::vector<std::string> imports;                    // packages this one imports (resolved names)
  std::vector<std::string> broken_names;               // declarations lost to syntax errors
};

// What a local name stands for: a parameter, a field seen directly (in record checks and lifecycle
// guards), a step's result, a loop or pattern variable. Lowering maps each to where its value lives.
enum class BindingKind {
  Param,
  Field,
  Self,
  Let,
  Step,
  LoopVar,
  CompVar,
  PatternVar,
  Accumulate,
  Error,
  Bound,
  SignalParam  // a target process's parameter as a `signal … where` condition sees it (not a frame slot)
};
struct Binding {
  std::string name;
  BindingKind kind = BindingKind::Let;
  const Type* type = nullptr;
  std::map<std::string, const Type*> fields;  // Step: the result's fields (outcome, returned data, …)
  const ast::Decl* owner = nullptr;           // the declaration whose code binds it
  uint32_t index = 0;  // Param/Field: position; PatternVar/Accumulate: order in the rule
  source::Span span;
};

struct Program {
  std::vector<Package> packages;  // dependencies before the packages that import them
  TypeTable types;
  // What the checker learnt, keyed by AST node.
  std::unordered_map<const ast::Expr*, const Type*> expr_types;
  std::unordered_map<const ast::Expr*, const ast::Decl*> expr_decls;      // names that denote declarations
  std::unordered_map<const ast::Expr*, const Binding*> expr_bindings;     // names that denote locals
  std::vector<std::unique_ptr<Binding>> bindings;                         // in the order they were bound
  std::unordered_map<const ast::TypeExpr*, const Type*> type_exprs;       // every written type, resolved
  std::unordered_map<const ast::QualifiedName*, const ast::Decl*> names;  // names in steps, patterns, orgs

  const Package* package(const std::string& name) const {
    for (auto& p : packages)
      if (p.name == name) return &p;
    return nullptr;
  }
  // Every declaration of a kind, in package order then file order.
  std::vector<const ast::Decl*> all(ast::DeclKind kind) const {
    std::vector<const ast::Decl*> out;
    for (auto& p : packages)
      for (auto& [n, d] : p.decls)
        if (d->kind == kind) out.push_back(d);
    return out;
  }
  // The package a declaration belongs to.
  std::unordered_map<const ast::Decl*, const Package*> owner;
};

}  // namespace orgos::sema
