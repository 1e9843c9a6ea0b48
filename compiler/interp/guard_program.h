// A specialised form of the commonest code in an organization: guards and conditions that compare
// record fields and parameters with constants or each other, joined by and/or/not. Such a function is
// turned into a compact tree of fused "load and compare" nodes, evaluated without building Values.
// Anything unusual at run time (a none, a currency mismatch) makes it bail out, and the reference
// tree-walker evaluates the call instead, so results and errors are always the walker's.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "compiler/ir/ir.h"

namespace orgos::interp {

class GuardProgram {
 public:
  enum class Result : uint8_t { False, True, Bail };
  struct Node;
  // Nullopt when the function is not a pure comparison tree over supported kinds.
  static std::optional<GuardProgram> compile(const ir::Function& f);

  Result run(const ir::Value* params) const { return eval_node(root_, params); }

 public:
  // Where an operand comes from.
  struct Operand {
    enum Src : uint8_t { Const, Param, ParamField } src = Const;
    uint32_t param = 0, slot = 0;
    int64_t i = 0;     // Const of an integer-like kind
    ir::Dec d = 0;     // Const of a decimal-like kind
    uint32_t aux = 0;  // Const Money: currency
  };
  struct Node {
    // Leaves (comparisons and plain booleans) come after the connectives: `kind >= CmpInt` is a leaf.
    enum Kind : uint8_t { And, Or, Not, CmpInt, CmpDec, CmpMoney, BoolOperand } kind;
    ir::Op op = ir::Op::Eq;
    uint8_t mask = 0;  // which of (less, equal, greater) make the comparison true
    // Leaves: the comparison specialised for its kind, operator and operand sources (chosen once).
    Result (*fn)(const Node&, const ir::Value*) = nullptr;
    uint32_t left = 0, right = 0;  // Not: child in `left`; And/Or: children are kids_[left, right)
    Operand a, b;
  };

 private:
  Result eval_node(uint32_t n, const ir::Value* params) const;
  static Result (*pick(const Node& n))(const Node&, const ir::Value*);
  static bool operand(const ir::Node& n, Operand& out, bool decimal);
  int32_t build(const ir::Node& n);
  bool collect(const ir::Node& n, ir::Op op, std::vector<uint32_t>& out);

  std::vector<Node> nodes_;     // children before parents; the root is built last
  std::vector<uint32_t> kids_;  // the operands of n-ary And/Or nodes (chains are flattened)
  uint32_t root_ = 0;
};

}  // namespace orgos::interp
