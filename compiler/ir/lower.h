// Lowering: the checked AST → OrgIR. Every expression that computes something at run time becomes
// (part of) an ir::Function — record invariants, lifecycle guards, rule conditions, policies, metric
// formulas, functions, decision tables and each expression of a process step — with fixed record
// layouts so compiled code reads fields by slot.
#pragma once
#include <unordered_map>
#include <vector>

#include "compiler/ir/ir.h"
#include "compiler/ir/program.h"
#include "compiler/sema/program.h"

namespace orgos::driver {
struct Compilation;
}

namespace orgos::ir {

// Layout ids reserved for built-in types.
inline constexpr uint32_t kActorLayout = 0;  // id, name, units, roles
inline constexpr uint32_t kUnitLayout = 1;   // name, kind, parent
inline constexpr uint32_t kOrgLayout = 2;    // name, state, currency

struct Lowered {
  Module module;
  Program program;  // processes, lifecycles, rules, policies, roles, orgs, metrics (lower_program.cpp)
  // Where each piece of source ended up.
  std::unordered_map<const ast::Expr*, uint32_t> expr_function;   // step/effect/action expressions
  std::unordered_map<const ast::Decl*, uint32_t> layout_of;       // record, event, process instance
  std::unordered_map<const ast::Decl*, uint32_t> frame_of;        // process → layout of its variables
  std::unordered_map<const sema::Binding*, uint32_t> frame_slot;  // process variable → slot in its frame
  std::unordered_map<const ast::Decl*, uint32_t> function_of;     // fn and metric declarations
  std::unordered_map<const ast::Decl*, uint32_t> table_of;
  std::unordered_map<const ast::Decl*, std::vector<uint32_t>> checks_of;  // record → its invariants
  std::unordered_map<const ast::Decl*, uint32_t> policy_of;               // policy → its `when`
  std::unordered_map<const ast::Transition*, uint32_t> guard_of;
  std::unordered_map<const ast::Pattern*, uint32_t> pattern_of;  // rule pattern → condition/accumulation
};

// The IR comparison for a source comparison operator (== for anything that is not one).
Op comparison_op(ast::BinaryOp op);

// Lowers every declaration of a compilation that checked without errors.
Lowered lower(const driver::Compilation& c);

// The second half of lowering: step graphs and the other executable descriptions, built from the
// functions and layouts the first half made. Called by lower().
void lower_program(const driver::Compilation& c, Lowered& out);

}  // namespace orgos::ir
