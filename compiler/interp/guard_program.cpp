#include "compiler/interp/guard_program.h"

namespace orgos::interp {

using namespace ir;

namespace {

bool integer_like(Kind k) {
  return k == Kind::Int || k == Kind::Bool || k == Kind::Date || k == Kind::Dur || k == Kind::Enum;
}

// Loads an operand without building a Value; false means "bail" (a none, or a shape not expected).
inline const Value* load(const Value* params, uint32_t param, uint32_t slot, bool field) {
  const Value* v = &params[param];
  if (!field) return v;
  if (v->tag != kTagRecord || slot >= v->u.r->nslots) return nullptr;
  return &v->u.r->slots[slot];
}

uint8_t op_mask(Op op);

}  // namespace

bool GuardProgram::operand(const ir::Node& n, Operand& out, bool decimal) {
  if (n.type.optional) return false;
  switch (n.op) {
    case Op::Const:
      if (n.value.is_none()) return false;
      out.src = Operand::Const;
      if (decimal)
        out.d = n.value.u.d;
      else
        out.i = n.value.u.i;
      out.aux = n.value.aux;
      return true;
    case Op::Param:
      out.src = Operand::Param;
      out.param = n.index;
      return true;
    case Op::Field:
      if (n.kids.size() != 1 || n.kids[0]->op != Op::Param || n.kids[0]->type.optional) return false;
      out.src = Operand::ParamField;
      out.param = n.kids[0]->index;
      out.slot = n.index;
      return true;
    default:
      return false;
  }
}

int32_t GuardProgram::build(const ir::Node& n) {
  Node node{};
  switch (n.op) {
    case Op::And:
    case Op::Or: {
      // a and b and c and d: one node with four operands, evaluated in a loop.
      node.kind = n.op == Op::And ? Node::And : Node::Or;
      std::vector<uint32_t> ops;
      if (!collect(n, n.op, ops)) return -1;
      node.left = static_cast<uint32_t>(kids_.size());
      kids_.insert(kids_.end(), ops.begin(), ops.end());
      node.right = static_cast<uint32_t>(kids_.size());
      break;
    }
    case Op::Not: {
      node.kind = Node::Not;
      int32_t l = build(*n.kids[0]);
      if (l < 0) return -1;
      node.left = static_cast<uint32_t>(l);
      break;
    }
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
      Kind ka = n.kids[0]->type.kind, kb = n.kids[1]->type.kind;
      if (ka != kb) return -1;
      node.op = n.op;
      node.mask = op_mask(n.op);
      if (integer_like(ka))
        node.kind = Node::CmpInt;
      else if (ka == Kind::Dec)
        node.kind = Node::CmpDec;
      else if (ka == Kind::Money)
        node.kind = Node::CmpMoney;
      else
        return -1;
      bool dec = node.kind != Node::CmpInt;
      if (!operand(*n.kids[0], node.a, dec) || !operand(*n.kids[1], node.b, dec)) return -1;
      break;
    }
    default:
      if (n.type.kind != Kind::Bool || !operand(n, node.a, false)) return -1;
      node.kind = Node::BoolOperand;
      break;
  }
  if (node.kind >= Node::CmpInt) node.fn = pick(node);
  nodes_.push_back(node);
  return static_cast<int32_t>(nodes_.size() - 1);
}

bool GuardProgram::collect(const ir::Node& n, ir::Op op, std::vector<uint32_t>& out) {
  if (n.op == op) return collect(*n.kids[0], op, out) && collect(*n.kids[1], op, out);
  int32_t i = build(n);
  if (i < 0) return false;
  out.push_back(static_cast<uint32_t>(i));
  return true;
}

std::optional<GuardProgram> GuardProgram::compile(const ir::Function& f) {
  if (!f.body || f.result.kind != Kind::Bool || f.result.optional) return std::nullopt;
  GuardProgram g;
  int32_t root = g.build(*f.body);
  if (root < 0) return std::nullopt;
  g.root_ = static_cast<uint32_t>(root);
  return g;
}

namespace {

// Comparison results as bit masks over (less, equal, greater): one shift instead of a switch.
uint8_t op_mask(Op op) {
  switch (op) {
    case Op::Eq:
      return 0b010;
    case Op::Ne:
      return 0b101;
    case Op::Lt:
      return 0b001;
    case Op::Le:
      return 0b011;
    case Op::Gt:
      return 0b100;
    default:
      return 0b110;  // Ge
  }
}

template <typename T>
inline bool test(uint8_t mask, T a, T b) {
  int c = (a > b) - (a < b);  // -1, 0, 1
  return (mask >> (c + 1)) & 1;
}

}  // namespace

namespace {

using Result = GuardProgram::Result;
using GNode = GuardProgram::Node;
using Src = GuardProgram::Operand::Src;

// One operand, read according to where it comes from (a compile-time choice in each specialisation).
template <int S>
inline const Value* fetch(const GuardProgram::Operand& o, const Value* params) {
  if constexpr (S == Src::Const)
    return nullptr;
  else {
    const Value* v = load(params, o.param, o.slot, S == Src::ParamField);
    return (v && v->tag != kTagNone) ? v : reinterpret_cast<const Value*>(1);  // 1: bail marker
  }
}

template <int K, int M, int SA, int SB>
Result leaf_t(const GNode& n, const Value* params) {
  const Value* a = fetch<SA>(n.a, params);
  const Value* b = fetch<SB>(n.b, params);
  if (reinterpret_cast<uintptr_t>(a) == 1 || reinterpret_cast<uintptr_t>(b) == 1) return Result::Bail;
  bool r;
  if constexpr (K == GNode::CmpInt) {
    r = test(M, SA == Src::Const ? n.a.i : a->u.i, SB == Src::Const ? n.b.i : b->u.i);
  } else if constexpr (K == GNode::BoolOperand) {
    r = (SA == Src::Const ? n.a.i : a->u.i) != 0;
  } else {
    if constexpr (K == GNode::CmpMoney)
      if ((SA == Src::Const ? n.a.aux : a->aux) != (SB == Src::Const ? n.b.aux : b->aux)) return Result::Bail;
    r = test(M, SA == Src::Const ? n.a.d : a->u.d, SB == Src::Const ? n.b.d : b->u.d);
  }
  return r ? Result::True : Result::False;
}

using LeafFn = Result (*)(const GNode&, const Value*);

template <int K, int M, int SA>
LeafFn pick_b(int sb) {
  switch (sb) {
    case Src::Const:
      return &leaf_t<K, M, SA, Src::Const>;
    case Src::Param:
      return &leaf_t<K, M, SA, Src::Param>;
    default:
      return &leaf_t<K, M, SA, Src::ParamField>;
  }
}
template <int K, int M>
LeafFn pick_a(int sa, int sb) {
  switch (sa) {
    case Src::Const:
      return pick_b<K, M, Src::Const>(sb);
    case Src::Param:
      return pick_b<K, M, Src::Param>(sb);
    default:
      return pick_b<K, M, Src::ParamField>(sb);
  }
}
template <int K>
LeafFn pick_m(int m, int sa, int sb) {
  switch (m) {
    case 0b010:
      return pick_a<K, 0b010>(sa, sb);
    case 0b101:
      return pick_a<K, 0b101>(sa, sb);
    case 0b001:
      return pick_a<K, 0b001>(sa, sb);
    case 0b011:
      return pick_a<K, 0b011>(sa, sb);
    case 0b100:
      return pick_a<K, 0b100>(sa, sb);
    default:
      return pick_a<K, 0b110>(sa, sb);
  }
}

}  // namespace

Result (*GuardProgram::pick(const Node& n))(const Node&, const ir::Value*) {
  switch (n.kind) {
    case Node::CmpInt:
      return pick_m<Node::CmpInt>(n.mask, n.a.src, n.b.src);
    case Node::CmpDec:
      return pick_m<Node::CmpDec>(n.mask, n.a.src, n.b.src);
    case Node::CmpMoney:
      return pick_m<Node::CmpMoney>(n.mask, n.a.src, n.b.src);
    default:
      return pick_a<Node::BoolOperand, 0>(n.a.src, Src::Const);
  }
}

GuardProgram::Result GuardProgram::eval_node(uint32_t i, const ir::Value* params) const {
  const Node& n = nodes_[i];
  switch (n.kind) {
    case Node::And:
    case Node::Or: {
      // And stops at the first non-True operand, Or at the first non-False one.
      Result stop_unless = n.kind == Node::And ? Result::True : Result::False;
      for (uint32_t k = n.left; k < n.right; ++k) {
        const Node& c = nodes_[kids_[k]];
        Result r = c.fn ? c.fn(c, params) : eval_node(kids_[k], params);
        if (r != stop_unless) return r;
      }
      return stop_unless;
    }
    case Node::Not: {
      Result l = eval_node(n.left, params);
      return l == Result::Bail ? l : (l == Result::True ? Result::False : Result::True);
    }
    default:
      return n.fn(n, params);
  }
}

}  // namespace orgos::interp
