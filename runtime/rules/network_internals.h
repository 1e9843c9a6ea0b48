// The match network's memories (network.h), shared by its implementation and the explanations.
#pragma once
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/rules/network.h"

namespace orgos::rules {

using ir::kNone;
using ir::Record;
using ir::Value;

// The bytes of a value such that equal bytes means `==` (records by identity). False for lists.
inline bool encode(const Value& v, std::string& out) {
  out.push_back(static_cast<char>(v.tag));
  switch (v.tag) {
    case ir::kTagNone:
      return true;
    case ir::kTagInt:
    case ir::kTagBool:
    case ir::kTagDate:
    case ir::kTagDuration:
    case ir::kTagEnum:
      out.append(reinterpret_cast<const char*>(&v.u.i), sizeof v.u.i);
      return true;
    case ir::kTagMoney:
      out.append(reinterpret_cast<const char*>(&v.aux), sizeof v.aux);
      [[fallthrough]];
    case ir::kTagDec:
      out.append(reinterpret_cast<const char*>(&v.u.d), sizeof v.u.d);
      return true;
    case ir::kTagString:
      out.append(v.u.s->view());
      return true;
    case ir::kTagRecord: {
      int64_t id = v.u.r->id;
      if (id)
        out.append(reinterpret_cast<const char*>(&id), sizeof id);
      else
        out.append(reinterpret_cast<const char*>(&v.u.r), sizeof v.u.r);
      return true;
    }
    default:
      return false;
  }
}

struct Network::Node {
  uint32_t rule = 0, index = 0;
  const ir::PatternIR* p = nullptr;
  std::string eq_key;                                                // the alpha index constant
  size_t alpha_count = 0;                                            // facts in the alpha memory
  std::unordered_map<std::string, std::set<int64_t>> right;          // join key → facts, in id order
  std::unordered_map<std::string, std::map<uint64_t, Token*>> left;  // join key → partial matches
  std::unordered_map<int64_t, std::vector<Token*>> blocks;           // not/exists: fact → matches it meets
};

struct Network::Token {
  Token* parent = nullptr;
  uint32_t rule = 0, level = 0;  // patterns 0..level-1 are matched
  uint64_t seq = 0;
  // What this level bound (a fact or an accumulated value; `not` and `exists` bind nothing). The rule's
  // parameters are gathered up the parent chain (bound_values): a copy of them in every token was a heap
  // block per match and most of a token's size.
  Value val = Value::none();
  bool bound = false;
  int64_t fact = 0;  // the fact this level bound (0: none)
  std::string lkey;  // key in the next node's beta memory
  bool in_left = false, dead = false, terminal = false, on_agenda = false, fired = false;
  // The children, in creation order, as an intrusive list: a partial match high in the network (a rule's
  // root) can hold one child per fact, and removing one must not cost a scan of its siblings.
  Token *first_child = nullptr, *last_child = nullptr, *prev_sibling = nullptr, *next_sibling = nullptr;
  bool linked = false;  // in its parent's list
  // On the agenda: the list of its salience, in activation order (appended as they are created).
  Token *agenda_prev = nullptr, *agenda_next = nullptr;
  std::vector<int64_t> blockers;  // not/exists: the facts that match it
};

// The rule's parameters a partial match has bound, in order.
inline void bound_values(const Network::Token* t, std::vector<Value>& out) {
  out.clear();
  for (; t; t = t->parent)
    if (t->bound) out.push_back(t->val);
  std::reverse(out.begin(), out.end());
}

}  // namespace orgos::rules
