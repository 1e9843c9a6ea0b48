#include "compiler/ir/pattern_split.h"

#include <set>

namespace orgos::ir {

namespace {

NodePtr clone(const Node& n) {
  auto c = std::make_unique<Node>();
  c->op = n.op;
  c->type = n.type;
  c->index = n.index;
  c->agg = n.agg;
  c->fn = n.fn;
  c->text = n.text;
  c->value = n.value;  // constant strings are interned in the module: the copy may share them
  c->span = n.span;
  for (auto& k : n.kids) c->kids.push_back(k ? clone(*k) : nullptr);
  return c;
}

void params_of(const Node& n, std::set<uint32_t>& out) {
  if (n.op == Op::Param) out.insert(n.index);
  for (auto& k : n.kids)
    if (k) params_of(*k, out);
}

void types_read(const Node& n, std::set<uint32_t>& out) {
  if (n.op == Op::AllOf) out.insert(n.index);
  for (auto& k : n.kids)
    if (k) types_read(*k, out);
}

// Whether the engine can hash a value of this kind so that hash-equal means `==` (lists cannot).
bool hashable(const IType& t) {
  return t.kind != Kind::List && t.kind != Kind::None;
}

void conjuncts(const Node& n, std::vector<const Node*>& out) {
  if (n.op == Op::And) {
    conjuncts(*n.kids[0], out);
    conjuncts(*n.kids[1], out);
  } else {
    out.push_back(&n);
  }
}

void remap(Node& n, uint32_t from, uint32_t to) {
  if (n.op == Op::Param && n.index == from) n.index = to;
  for (auto& k : n.kids)
    if (k) remap(*k, from, to);
}

// The conjunction of `parts` (already cloned), as a function of `params`.
uint32_t add(Module& m, const Function& like, const std::string& suffix, std::vector<IType> params,
             std::vector<NodePtr> parts) {
  if (parts.empty()) return kNone;
  NodePtr body = std::move(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    auto a = std::make_unique<Node>();
    a->op = Op::And;
    a->type = IType::of(Kind::Bool);
    a->span = parts[i]->span;
    a->kids.push_back(std::move(body));
    a->kids.push_back(std::move(parts[i]));
    body = std::move(a);
  }
  Function f;
  f.name = like.name + suffix;
  f.kind = FunctionKind::Condition;
  f.params = std::move(params);
  f.result = body->type;
  f.nlocals = like.nlocals;
  f.span = like.span;
  f.body = std::move(body);
  m.functions.push_back(std::move(f));
  return static_cast<uint32_t>(m.functions.size() - 1);
}

}  // namespace

void split_pattern(Module& m, PatternIR& pat, uint32_t self) {
  if (pat.condition == kNone) return;
  if (self == kNone) {
    std::set<uint32_t> types;
    types_read(*m.functions[pat.condition].body, types);
    pat.reads.assign(types.begin(), types.end());
    return;
  }
  // Copy what we need first: adding functions moves the vector.
  const Function& orig = m.functions[pat.condition];
  Function like;
  like.name = orig.name;
  like.nlocals = orig.nlocals;
  like.span = orig.span;
  std::vector<IType> all = orig.params;
  std::vector<IType> earlier(all.begin(), all.begin() + self);
  std::vector<IType> own = {all[self]};
  std::vector<const Node*> parts;
  conjuncts(*orig.body, parts);

  std::vector<NodePtr> alpha, beta;
  std::vector<std::pair<NodePtr, NodePtr>> keys;
  NodePtr eq_value;
  for (const Node* c : parts) {
    std::set<uint32_t> ps;
    params_of(*c, ps);
    bool only_self = ps.size() == 1 && *ps.begin() == self;
    if (ps.empty() || only_self) {
      // `fact.field == constant`: index the alpha memory by it (the first one only).
      if (only_self && !eq_value && c->op == Op::Eq) {
        for (int side = 0; side < 2 && !eq_value; ++side) {
          const Node& f = *c->kids[side];
          const Node& k = *c->kids[1 - side];
          if (f.op == Op::Field && f.kids[0]->op == Op::Param && k.op == Op::Const && hashable(f.type) &&
              f.type.kind == k.type.kind && !f.type.optional) {
            pat.eq_slot = f.index;
            eq_value = clone(k);
          }
        }
        if (eq_value) continue;
      }
      NodePtr a = clone(*c);
      remap(*a, self, 0);
      alpha.push_back(std::move(a));
      continue;
    }
    if (c->op == Op::Eq && hashable(c->kids[0]->type) && c->kids[0]->type.kind == c->kids[1]->type.kind) {
      std::set<uint32_t> l, r;
      params_of(*c->kids[0], l);
      params_of(*c->kids[1], r);
      auto before = [&](const std::set<uint32_t>& s) { return !s.empty() && *s.rbegin() < self; };
      auto mine = [&](const std::set<uint32_t>& s) { return s.size() == 1 && *s.begin() == self; };
      int theirs = before(l) && mine(r) ? 0 : before(r) && mine(l) ? 1 : -1;
      if (theirs >= 0) {
        NodePtr left = clone(*c->kids[theirs]);
        NodePtr right = clone(*c->kids[1 - theirs]);
        remap(*right, self, 0);
        keys.emplace_back(std::move(left), std::move(right));
        continue;
      }
    }
    beta.push_back(clone(*c));
  }
  pat.alpha = add(m, like, ".alpha", own, std::move(alpha));
  if (eq_value) {
    std::vector<NodePtr> v;
    v.push_back(std::move(eq_value));
    pat.eq_value = add(m, like, ".index", {}, std::move(v));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    JoinKeyIR k;
    std::vector<NodePtr> l, r;
    l.push_back(std::move(keys[i].first));
    r.push_back(std::move(keys[i].second));
    k.left = add(m, like, ".key" + std::to_string(i) + ".left", earlier, std::move(l));
    k.right = add(m, like, ".key" + std::to_string(i) + ".right", own, std::move(r));
    pat.keys.push_back(k);
  }
  pat.beta = add(m, like, ".beta", all, std::move(beta));
}

}  // namespace orgos::ir
