#include "compiler/codegen/native_abi.h"

namespace orgos::codegen {

using ir::Kind;
using ir::Node;
using ir::Op;

// What is compiled inline; every other node goes to runtime support (the evaluator). Constants that are
// pointers (strings) go too: object code must hold no addresses, so that a bundle can cache it.
bool compiled_inline(const Node& n) {
  switch (n.op) {
    case Op::Const:
      return n.type.kind != Kind::Str && n.type.kind != Kind::List && n.type.kind != Kind::Rec;
    case Op::Param:
    case Op::Today:
    case Op::Field:
    case Op::OptField:
    case Op::IntToDec:
    case Op::And:
    case Op::Or:
    case Op::Not:
    case Op::IsNone:
    case Op::CallFn:
      return true;
    case Op::Coalesce:
      return n.type.kind != Kind::None;
    case Op::Neg:
      return n.type.kind == Kind::Int || n.type.kind == Kind::Dur || wide(n.type.kind);
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod: {
      Kind ka = n.kids[0]->type.kind, kb = n.kids[1]->type.kind;
      if (!numeric(kb)) return false;
      switch (ka) {
        case Kind::Int:
        case Kind::Date:
          return true;
        case Kind::Dur:
          return kb == Kind::Dur || kb == Kind::Int;
        case Kind::Dec:
        case Kind::Money:
          return n.op != Op::Mod;
        default:
          return false;
      }
    }
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
      return numeric(n.kids[0]->type.kind) && numeric(n.kids[1]->type.kind);
    default:
      return false;
  }
}

namespace {

// The nodes generated code hands to the evaluator, numbered in the order Gen meets them: a pre-order walk
// that stops at each such node (every inline operation generates its operands in order).
void collect_fallbacks(const Node& n, std::vector<const Node*>& out) {
  if (!compiled_inline(n)) {
    out.push_back(&n);
    return;
  }
  for (auto& k : n.kids) collect_fallbacks(*k, out);
}

}  // namespace

void collect_all_fallbacks(const ir::Module& m, std::vector<const Node*>& out) {
  for (const ir::Function& f : m.functions)
    if (f.body) collect_fallbacks(*f.body, out);
  for (const ir::Table& t : m.tables)
    for (const ir::TableRow& r : t.rows)
      if (r.condition) collect_fallbacks(*r.condition, out);
}

// A fingerprint of everything the generated code depends on: functions (name, arity, locals) and the shape
// of every body and row condition (operations, indexes, result kinds, constants). Object code carries it, and
// load_object refuses code whose fingerprint differs from the program it is asked to run: symbols of the
// same names from another program would otherwise be called with the wrong frames.
namespace {

struct Fingerprint {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bits
  void add(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  void add(const std::string& t) {
    add(t.size());
    for (unsigned char c : t) {
      h ^= c;
      h *= 1099511628211ull;
    }
  }
  void add(const Node& n) {
    add(static_cast<uint64_t>(n.op));
    add(n.index);
    add(static_cast<uint64_t>(n.type.kind));
    add(static_cast<uint64_t>(n.agg));
    add(static_cast<uint64_t>(n.fn));
    add(n.value.tag);
    add(n.value.aux);
    // Constants by value; strings, lists and records are pointers (the text is added below).
    if (n.value.tag == ir::kTagDec || n.value.tag == ir::kTagMoney) {
      add(static_cast<uint64_t>(n.value.u.d));
      add(static_cast<uint64_t>(n.value.u.d >> 64));
    } else if (n.value.tag != ir::kTagString && n.value.tag != ir::kTagRecord &&
               n.value.tag != ir::kTagList) {
      add(static_cast<uint64_t>(n.value.u.i));
    }
    add(n.text);
    add(n.kids.size());
    for (auto& k : n.kids) {  // some operations leave an optional operand empty
      add(k ? 1 : 0);
      if (k) add(*k);
    }
  }
};

}  // namespace

uint64_t ir_fingerprint(const ir::Module& m) {
  Fingerprint f;
  f.add(m.functions.size());
  for (const ir::Function& fn : m.functions) {
    f.add(fn.name);
    f.add(fn.params.size());
    f.add(fn.nlocals);
    if (fn.body) f.add(*fn.body);
  }
  f.add(m.tables.size());
  for (const ir::Table& t : m.tables) {
    f.add(t.name);
    f.add(t.inputs.size());
    f.add(t.rows.size());
    for (const ir::TableRow& r : t.rows) {
      f.add(r.condition ? 1 : 0);
      if (r.condition) f.add(*r.condition);
    }
  }
  return f.h;
}

std::string row_symbol(size_t table, size_t row) {
  return "orgos_row_" + std::to_string(table) + "_" + std::to_string(row);
}

}  // namespace orgos::codegen
