#include "runtime/rules/network.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

#include "runtime/rules/flat_table.h"
#include "runtime/rules/network_internals.h"
#include "runtime/rules/slot_pool.h"

namespace orgos::rules {

using ir::kNone;
using ir::PatternKind;
using ir::Record;
using ir::Value;

Network::Network(const ir::Program& p, const ir::Module& m, interp::Evaluator& ev)
    : p_(p),
      m_(m),
      ev_(ev),
      facts_(std::make_unique<FactIndex<FactSlot>>()),
      full_(std::make_unique<SlotPool<Token>>()),
      partials_(std::make_unique<SlotPool<Partial>>()),
      slots_(std::make_unique<SlotPool<FactSlot>>()) {
  types_.resize(m.layouts.size());
  rules_.resize(p.rules.size());
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    const ir::RuleIR& rule = p.rules[r];
    for (uint32_t k = 0; k < rule.patterns.size(); ++k) {
      auto n = std::make_unique<Node>();
      n->rule = r;
      n->index = k;
      n->p = &rule.patterns[k];
      n->stores_facts = k > 0;
      auto field_ref = [&](uint32_t fn, FieldRef& out) {
        const ir::Node* b = fn < m.functions.size() ? m.functions[fn].body.get() : nullptr;
        if (!b || b->op != ir::Op::Field || b->kids.size() != 1 || !b->kids[0] ||
            b->kids[0]->op != ir::Op::Param)
          return false;
        out = {b->kids[0]->index, b->index};
        return true;
      };
      for (const ir::JoinKeyIR& key : n->p->keys) {
        FieldRef l, r;
        if (field_ref(key.left, l)) n->left_fields.push_back(l);
        if (field_ref(key.right, r)) n->right_fields.push_back(r);
      }
      if (n->left_fields.size() != n->p->keys.size()) n->left_fields.clear();
      if (n->right_fields.size() != n->p->keys.size()) n->right_fields.clear();
      // Parameter i is bound by the i-th pattern that binds (a fact or an accumulation),
      // at that pattern's level; the partial match arriving here is at level k.
      std::vector<uint32_t> binder;  // parameter → its pattern
      for (uint32_t j = 0; j < k; ++j)
        if (rule.patterns[j].kind == PatternKind::Fact || rule.patterns[j].kind == PatternKind::Accumulate)
          binder.push_back(j);
      for (const FieldRef& f : n->left_fields) {
        if (f.param >= binder.size() || rule.patterns[binder[f.param]].kind != PatternKind::Fact) {
          n->left_steps.clear();
          break;
        }
        n->left_steps.push_back(static_cast<uint16_t>(k - (binder[f.param] + 1)));
      }
      if (n->p->kind == PatternKind::Accumulate) {
        for (uint32_t t : n->p->reads)
          if (t < types_.size()) types_[t].readers.push_back(n.get());
      } else if (n->p->layout < types_.size()) {
        TypeNodes& tn = types_[n->p->layout];
        auto o = n->p->eq_value != kNone ? ev_.call(n->p->eq_value, {}) : interp::Outcome{};
        if (n->p->eq_value != kNone && o.ok() && encode(o.value, n->eq_key)) {
          auto it = std::find_if(tn.indexed.begin(), tn.indexed.end(),
                                 [&](const EqIndex& e) { return e.slot == n->p->eq_slot; });
          if (it == tn.indexed.end()) {
            it = tn.indexed.emplace(tn.indexed.end());
            it->slot = n->p->eq_slot;
            it->by_key = std::make_unique<FlatTable<EqNodes>>();
          }
          const uint64_t h = key_hash(n->eq_key);
          EqNodes* e = it->by_key->find(h, [&](const EqNodes* x) { return x->key == n->eq_key; });
          if (!e) {
            e = it->entries.emplace_back(std::make_unique<EqNodes>()).get();
            e->key = n->eq_key;
            it->by_key->put(h, e);
          }
          e->nodes.push_back(n.get());
        } else {
          tn.plain.push_back(n.get());
        }
      }
      rules_[r].push_back(std::move(n));
    }
  }
  // The agenda's lists, highest salience first.
  std::vector<int64_t> saliences;
  for (const ir::RuleIR& rule : p.rules) saliences.push_back(rule.salience);
  std::sort(saliences.begin(), saliences.end(), std::greater<>());
  saliences.erase(std::unique(saliences.begin(), saliences.end()), saliences.end());
  agenda_.resize(saliences.size());
  for (const ir::RuleIR& rule : p.rules)
    agenda_of_.push_back(static_cast<uint32_t>(std::find(saliences.begin(), saliences.end(), rule.salience) -
                                               saliences.begin()));
  // Every rule starts with its empty match in the first node (a rule without patterns never fires).
  ++depth_;
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    Partial* t = partials_->make();
    t->rule = r;
    roots_.push_back(t);
    ++live_tokens_;
    if (!rules_[r].empty()) left_activate(*rules_[r][0], t);
  }
  --depth_;
  reap();
}

Network::~Network() {
  // Depth first without recursion: a rule's root can hold a child per fact, and a chain is as long as
  // the rule has patterns.
  std::vector<Token*> todo(roots_.begin(), roots_.end());
  while (!todo.empty()) {
    Token* t = todo.back();
    todo.pop_back();
    if (!t->terminal)
      for (Token* c = partial(t)->first_child; c; c = c->next_sibling) todo.push_back(c);
    destroy(t);
  }
  for (Token* t : graveyard_) destroy(t);
  facts_->for_each([&](FactSlot* f) { slots_->destroy(f); });
}

Network::FactSlot* Network::find_fact(int64_t id) const {
  return facts_->find(id);
}

void Network::destroy(Token* t) {
  if (t->terminal)
    full_->destroy(t);
  else
    partials_->destroy(partial(t));
}

bool Network::contains(int64_t id) const {
  return find_fact(id) != nullptr;
}
size_t Network::fact_count() const {
  return facts_->size();
}

// ---------------------------------------------------------------- evaluation

// One condition or key function over `args`: native code or the guard fast path when they apply, else
// the evaluator, whose error is recorded against the rule (an error counts as "does not match").
bool Network::eval(uint32_t fn, const Value* args, uint32_t rule, Value& out) {
  if (ev_.try_fast(fn, args, out)) return true;
  auto o = ev_.call(fn, std::vector<Value>(args, args + m_.functions[fn].params.size()));
  if (!o.ok()) {
    errors_.push_back(p_.rules[rule].name + " failed: " + o.error->message);
    return false;
  }
  out = o.value;
  return true;
}

bool Network::call_bool(uint32_t fn, const Value* args, uint32_t rule) {
  if (fn == kNone) return true;
  Value v;
  return eval(fn, args, rule, v) && v.u.i != 0;
}

bool Network::key_of(const std::vector<ir::JoinKeyIR>& keys, bool left, const Value* args, uint32_t rule,
                     std::string& out) {
  out.clear();
  for (const ir::JoinKeyIR& k : keys) {
    Value v;
    if (!eval(left ? k.left : k.right, args, rule, v) || !encode(v, out)) return false;
  }
  return true;
}

namespace {

// The key from field references, over the parameters' records; false when a parameter is not a record
// or lacks the slot (the caller then calls the key functions, which word the error).
bool field_key(const std::vector<FieldRef>& refs, const Record* const* params, size_t nparams,
               std::string& out) {
  out.clear();
  for (const FieldRef& f : refs) {
    if (f.param >= nparams || !params[f.param] || f.slot >= params[f.param]->nslots) return false;
    if (!encode(params[f.param]->slots[f.slot], out)) return false;
  }
  return true;
}

}  // namespace

Network::Bucket* Network::bucket(Node& n, const std::string& key) {
  if (n.p->keys.empty()) return &n.solo;
  const uint64_t h = key_hash(key);
  if (Bucket* b = n.buckets.find(h, [&](const Bucket* b) { return same_key(b->key, key); })) return b;
  return new_bucket(n, key, h);
}

Network::Bucket* Network::new_bucket(Node& n, std::string key, uint64_t hash) {
  auto* b = new Bucket;
  b->key = std::move(key);
  b->hash = hash;
  n.buckets.put(hash, b);
  return b;
}

Network::Bucket* Network::field_bucket(Node& n, bool left, const Record* const* params, size_t np,
                                       std::string& scratch) {
  const std::vector<FieldRef>& refs = left ? n.left_fields : n.right_fields;
  // A key of one field that encodes as one word (the common join) is hashed and compared from the word;
  // its bytes are written only for a new bucket.
  if (refs.size() == 1) {
    const FieldRef& f = refs[0];
    const Record* rec = f.param < np ? params[f.param] : nullptr;
    uint64_t w;
    if (rec && f.slot < rec->nslots && word_of(rec->slots[f.slot], w)) {
      const Value& v = rec->slots[f.slot];
      const uint64_t h = word_key_hash(v.tag, w);
      if (Bucket* b = n.buckets.find(h, [&](const Bucket* b) { return same_word_key(b->key, v.tag, w); }))
        return b;
      std::string key;
      encode(v, key);
      return new_bucket(n, std::move(key), h);
    }
  }
  if (refs.empty() || !field_key(refs, params, np, scratch)) return nullptr;
  return bucket(n, scratch);
}

void Network::drop_if_empty(Node& n, Bucket* b) {
  if (b == &n.solo || !b->empty()) return;
  ++generation_;
  n.buckets.erase(b->hash, b);
  delete b;
}

// ---------------------------------------------------------------- working memory

const std::vector<Network::Node*>* Network::EqIndex::find(const std::string& key) const {
  const EqNodes* e = by_key->find(key_hash(key), [&](const EqNodes* x) { return same_key(x->key, key); });
  return e ? &e->nodes : nullptr;
}

const std::vector<Network::Node*>& Network::candidates(Record* fact) {
  std::vector<Node*>& out = candidates_;
  out.clear();
  const TypeNodes* tn = type_nodes(fact->type_id);
  if (!tn) return out;
  // One source (the common case: the plain nodes, or one index): its list, as it is, in rule order.
  const std::vector<Node*>* only = tn->plain.empty() ? nullptr : &tn->plain;
  size_t sources = only ? 1 : 0;
  for (const EqIndex& e : tn->indexed) {
    eqkey_.clear();
    if (e.slot >= fact->nslots || !encode(fact->slots[e.slot], eqkey_)) continue;
    const std::vector<Node*>* hit = e.find(eqkey_);
    if (!hit) continue;
    if (sources++ == 0) {
      only = hit;
      continue;
    }
    if (out.empty()) out.assign(only->begin(), only->end());
    out.insert(out.end(), hit->begin(), hit->end());
  }
  if (sources == 1) return *only;
  // Each source is in rule order already; a merge of several is sorted.
  if (sources > 1)
    std::sort(out.begin(), out.end(),
              [](Node* a, Node* b) { return a->rule != b->rule ? a->rule < b->rule : a->index < b->index; });
  return out;
}

void Network::insert(Record* fact, int64_t id) {
  if (!fact) return;
  const int64_t fid = id ? id : fact->id;
  if (fid == 0 || find_fact(fid)) return;
  ++depth_;
  ++generation_;
  FactSlot* f = slots_->make();
  f->rec = fact;
  f->id = fid;
  facts_->put(fid, f);
  const Value arg = Value::of_record(fact);
  for (Node* n : candidates(fact)) {
    if (!call_bool(n->p->alpha, &arg, n->rule)) continue;
    Bucket* b = nullptr;
    if (n->p->keys.empty()) {
      b = &n->solo;
    } else if (const Record* self = fact; !(b = field_bucket(*n, false, &self, 1, rkey_))) {
      if (!key_of(n->p->keys, false, &arg, n->rule, rkey_)) continue;
      b = bucket(*n, rkey_);
    }
    if (n->stores_facts) {
      auto& right = b->right;
      if (right.empty() || right.back().id < fid) {
        right.push_back({fid, f});  // ids mostly grow: an append
      } else {
        auto pos = std::lower_bound(right.begin(), right.end(), fid,
                                    [](const Bucket::Entry& e, int64_t v) { return e.id < v; });
        if (pos != right.end() && pos->id == fid) {
          pos->slot = f;  // the tombstone of its own retraction (an update): revived in place
          --b->dead;
        } else {
          right.insert(pos, {fid, f});
        }
      }
    }
    if (n->stores_facts || n->p->kind == PatternKind::Not || n->p->kind == PatternKind::Exists) {
      if (!f->nodes) f->nodes = std::make_unique<std::vector<std::pair<Node*, Bucket*>>>();
      f->nodes->emplace_back(n, n->stores_facts ? b : nullptr);
    }
    right_activate(*n, *b, f);
  }
  if (const TypeNodes* tn = type_nodes(fact->type_id))
    for (Node* n : tn->readers) recompute(*n);
  --depth_;
  reap();
}

void Network::retract(int64_t id) {
  FactSlot* f = find_fact(id);
  if (!f) return;
  ++depth_;
  ++generation_;
  const uint32_t type = f->rec->type_id;
  if (f->nodes)
    for (auto& [n, b] : *f->nodes) {
      if (b) {
        auto& right = b->right;
        auto pos = std::lower_bound(right.begin(), right.end(), id,
                                    [](const Bucket::Entry& e, int64_t v) { return e.id < v; });
        if (pos != right.end() && pos->id == id && pos->slot) {
          pos->slot = nullptr;
          ++b->dead;
        }
        if (b->dead * 2 > right.size()) {
          right.erase(
              std::remove_if(right.begin(), right.end(), [](const Bucket::Entry& e) { return !e.slot; }),
              right.end());
          b->dead = 0;
        }
      }
      if (n->p->kind == PatternKind::Not || n->p->kind == PatternKind::Exists) {
        auto bl = n->blocks.find(id);
        if (bl != n->blocks.end()) {
          std::vector<Token*> met = std::move(bl->second);
          n->blocks.erase(bl);
          for (Token* t : met) {
            if (t->dead) continue;
            auto it = n->blockers.find(t);
            if (it == n->blockers.end()) continue;
            auto& ids = it->second;
            ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
            if (!ids.empty()) continue;
            n->blockers.erase(it);
            if (n->p->kind == PatternKind::Not)
              child(partial(t), *n, nullptr, nullptr);  // nothing blocks the `not` any more
            else
              remove_children(partial(t));  // `exists` lost its last fact
          }
        }
      }
      if (b) drop_if_empty(*n, b);
    }
  // Every partial match that bound the fact goes, with what was built on it.
  while (Token* t = f->tokens) remove_token(t);
  facts_->erase(id, f);
  slots_->destroy(f);
  if (const TypeNodes* tn = type_nodes(type))
    for (Node* n : tn->readers) recompute(*n);
  --depth_;
  reap();
}

void Network::update(Record* fact) {
  if (!fact || !find_fact(fact->id)) return insert(fact);
  ++depth_;  // refraction is settled once, after the fact is back
  ++updating_;
  retract(fact->id);
  insert(fact);
  --updating_;
  --depth_;
  reap();
}

// ---------------------------------------------------------------- propagation

bool Network::beta_ok(Node& n, const Token* t, Record* fact) {
  if (n.p->beta == kNone) return true;
  bound_values(t, args_);
  args_.push_back(Value::of_record(fact));
  return call_bool(n.p->beta, args_.data(), n.rule);
}

void Network::block(Node& n, Token* t, int64_t fid) {
  n.blocks[fid].push_back(t);
  n.blockers[t].push_back(fid);
}

void Network::right_activate(Node& n, Bucket& b, FactSlot* f) {
  // The list does not change under the walk: what a match builds goes to later nodes.
  for (Token* lt = b.lhead; lt; lt = lt->lnext) {
    Partial* t = partial(lt);
    if (t->dead || !beta_ok(n, t, f->rec)) continue;
    switch (n.p->kind) {
      case PatternKind::Fact:
        child(t, n, f, nullptr);
        break;
      case PatternKind::Not: {  // not: the first matching fact blocks the match
        block(n, t, f->id);
        if (n.blockers[t].size() == 1) remove_children(t);
        break;
      }
      case PatternKind::Exists: {  // exists: the first matching fact lets it through
        block(n, t, f->id);
        if (n.blockers[t].size() == 1) child(t, n, nullptr, nullptr);
        break;
      }
      case PatternKind::Accumulate:  // has no fact memory: its readers recompute it (recompute)
        break;
    }
  }
}

void Network::left_activate(Node& n, Partial* t) {
  Bucket* b = nullptr;
  if (n.p->kind == PatternKind::Accumulate) {
    // Accumulations have no key: they see every partial match and recompute on changes.
    b = &n.solo;
  } else if (!n.p->keys.empty()) {
    // The bound facts, root first: straight from the chain when the keys are fields of them. Where each
    // key's fact is a pattern's (left_steps), only those are read, each so many parents up.
    const Record* params[16];
    size_t np = 0;
    bool direct = !n.left_fields.empty() && t->level <= 16;
    if (direct && !n.left_steps.empty()) {
      for (size_t i = 0; i < n.left_steps.size(); ++i) {
        const Token* p = t;
        for (uint16_t s = n.left_steps[i]; s; --s) p = p->parent;
        const uint32_t k = n.left_fields[i].param;
        params[k] = p->fact->rec;
        np = std::max<size_t>(np, k + 1);
      }
    } else if (direct) {
      for (const Token* p = t; p; p = p->parent) np += p->bound();
      size_t i = np;
      for (const Token* p = t; p; p = p->parent)
        if (p->bound()) params[--i] = p->has_acc ? nullptr : p->fact->rec;
    }
    auto& memo = n.memo;
    const size_t nrefs = n.left_fields.size();
    bool hit = direct && nrefs <= 4 && memo.generation == generation_;
    for (size_t i = 0; hit && i < nrefs; ++i) {
      const uint32_t k = n.left_fields[i].param;
      hit = k < np && params[k] && params[k] == memo.recs[i];
    }
    if (hit) {
      b = memo.bucket;
    } else {
      if (direct) b = field_bucket(n, true, params, np, lkey_);
      if (!b) {
        bound_values(t, args_);
        if (!key_of(n.p->keys, true, args_.data(), n.rule, lkey_)) return;
        direct = false;
        b = bucket(n, lkey_);
      }
      if (direct && nrefs <= 4) {
        memo.generation = generation_;
        for (size_t i = 0; i < nrefs; ++i) memo.recs[i] = params[n.left_fields[i].param];
        memo.bucket = b;
      }
    }
  } else {
    b = &n.solo;
  }
  t->bucket = b;
  t->lprev = b->ltail;
  (b->ltail ? b->ltail->lnext : b->lhead) = t;
  b->ltail = t;
  if (n.p->kind == PatternKind::Accumulate) {
    bound_values(t, args_);
    auto o = ev_.call(n.p->condition, args_);
    if (!o.ok()) {
      errors_.push_back(p_.rules[n.rule].name + " failed: " + o.error->message);
      return;
    }
    child(t, n, nullptr, &o.value);
    return;
  }
  // The facts do not change under the walk (nothing inserts or retracts during propagation); indexes,
  // not iterators, all the same.
  bool blocked = false;
  for (size_t i = 0; i < b->right.size(); ++i) {
    FactSlot* f = b->right[i].slot;
    if (!f) continue;
    if (t->dead) return;
    if (!beta_ok(n, t, f->rec)) continue;
    if (n.p->kind == PatternKind::Fact) {
      child(t, n, f, nullptr);
    } else {
      block(n, t, f->id);
      blocked = true;
    }
  }
  if ((n.p->kind == PatternKind::Not && !blocked) || (n.p->kind == PatternKind::Exists && blocked))
    child(t, n, nullptr, nullptr);
}

Network::Token* Network::child(Partial* parent, Node& n, FactSlot* f, const Value* v) {
  auto& nodes = rules_[parent->rule];
  const bool full = parent->level + 1u >= nodes.size();
  Token* c = full ? full_->make() : partials_->make();
  c->terminal = full;  // also which pool it goes back to
  ++live_tokens_;
  c->parent = parent;
  c->rule = parent->rule;
  c->level = static_cast<uint16_t>(parent->level + 1);
  if (n.p->kind == PatternKind::Fact) {
    c->fact = f;
    c->fnext = f->tokens;
    if (f->tokens) f->tokens->fprev = c;
    f->tokens = c;
  } else if (n.p->kind == PatternKind::Accumulate) {
    c->acc = new Value(*v);
    c->has_acc = true;
  }
  c->prev_sibling = parent->last_child;
  (parent->last_child ? parent->last_child->next_sibling : parent->first_child) = c;
  parent->last_child = c;
  c->linked = true;
  if (full)
    terminal_add(c);
  else
    left_activate(*nodes[c->level], partial(c));
  return c;
}

void Network::remove_children(Partial* t) {
  // Detach them all first (the chain stays readable: removed tokens are freed only at reap), then remove.
  Token* first = t->first_child;
  t->first_child = t->last_child = nullptr;
  for (Token* c = first; c; c = c->next_sibling) c->linked = false;
  for (Token* c = first; c; c = c->next_sibling)
    if (!c->dead) remove_token(c);
}

void Network::remove_token(Token* t) {
  t->dead = true;
  --live_tokens_;
  if (t->terminal) {
    terminal_remove(t);
  } else if (remove_children(partial(t)); Bucket* b = partial(t)->bucket) {
    (t->lprev ? t->lprev->lnext : b->lhead) = t->lnext;
    (t->lnext ? t->lnext->lprev : b->ltail) = t->lprev;
    t->lprev = t->lnext = nullptr;
    partial(t)->bucket = nullptr;
    Node& n = *rules_[t->rule][t->level];
    if (auto it = n.blockers.find(t); it != n.blockers.end()) {
      for (int64_t fid : it->second) {
        auto bl = n.blocks.find(fid);
        if (bl == n.blocks.end()) continue;
        auto& v = bl->second;
        v.erase(std::remove(v.begin(), v.end(), t), v.end());
        if (v.empty()) n.blocks.erase(bl);
      }
      n.blockers.erase(it);
    }
    drop_if_empty(n, b);
  }
  if (FactSlot* f = t->bound_fact()) {
    (t->fprev ? t->fprev->fnext : f->tokens) = t->fnext;
    if (t->fnext) t->fnext->fprev = t->fprev;
    t->fprev = t->fnext = nullptr;
  }
  if (t->linked) {
    Partial* p = partial(t->parent);
    (t->prev_sibling ? t->prev_sibling->next_sibling : p->first_child) = t->next_sibling;
    (t->next_sibling ? t->next_sibling->prev_sibling : p->last_child) = t->prev_sibling;
    t->linked = false;
  }
  graveyard_.push_back(t);
}

void Network::recompute(Node& n) {
  std::vector<Partial*> toks;
  for (Token* t = n.solo.lhead; t; t = t->lnext) toks.push_back(partial(t));  // creation order
  for (Partial* t : toks) {
    if (t->dead) continue;
    bound_values(t, args_);
    auto o = ev_.call(n.p->condition, args_);
    if (o.ok() && t->first_child && t->first_child == t->last_child && t->first_child->has_acc &&
        std::memcmp(t->first_child->acc, &o.value, sizeof(Value)) == 0)
      continue;  // the same value: the matches built on it stand
    remove_children(t);
    if (!o.ok()) {
      errors_.push_back(p_.rules[n.rule].name + " failed: " + o.error->message);
      continue;
    }
    child(t, n, nullptr, &o.value);
  }
}

// ---------------------------------------------------------------- agenda, refraction, support

namespace {

// "rule:12,40": the rule, then per parameter the fact's id or "=" and the accumulated value.
void append_part(MatchKey& k, bool first, int64_t fact, const Value& v) {
  if (!first) k += ',';
  if (fact) {
    char buf[24];
    k.append(buf, std::to_chars(buf, buf + sizeof buf, fact).ptr);
  } else {
    k += '=';
    k += interp::to_string(v);
  }
}

// The parts of a match's key from its root down: the parent chain, walked back by recursion (a chain is
// as long as its rule has patterns).
void append_chain(MatchKey& k, const Network::Token* t, bool& first) {
  if (!t) return;
  append_chain(k, t->parent, first);
  if (!t->bound()) return;
  append_part(k, first, t->fact_id(), t->has_acc ? *t->acc : Value::none());
  first = false;
}

}  // namespace

MatchKey Firing::key() const {
  MatchKey k = (rule_name ? *rule_name : std::string()) + ":";
  for (size_t i = 0; i < facts.size(); ++i) append_part(k, i == 0, i < ids.size() ? ids[i] : 0, facts[i]);
  return k;
}

MatchKey Network::key_for(const Token* t) const {
  const std::string& name = p_.rules[t->rule].name;
  MatchKey k;
  k.reserve(name.size() + 1 + 8 * t->level);
  k += name;
  k += ':';
  bool first = true;
  append_chain(k, t, first);
  return k;
}

void Network::agenda_unlink(Token* t) {
  AgendaList& l = agenda_[agenda_of_[t->rule]];
  (t->lprev ? t->lprev->lnext : l.head) = t->lnext;
  (t->lnext ? t->lnext->lprev : l.tail) = t->lprev;
  t->lprev = t->lnext = nullptr;
  t->on_agenda = false;
  --agenda_count_;
}

void Network::terminal_add(Token* t) {
  t->terminal = true;
  // Refraction: the same match back within one change (an update), or restored after a restart. The
  // key is made only then (and when the match fires or leaves fired): most matches never need it.
  if (!leaving_.empty() || !restored_.empty()) {
    MatchKey k = key_for(t);
    auto it = leaving_.find(k);
    if (it != leaving_.end()) {
      if (--it->second == 0) leaving_.erase(it);
      t->fired = true;
      return;
    }
    if (restored_.erase(k)) {
      t->fired = true;
      return;
    }
  }
  t->on_agenda = true;
  // Appended: t is the newest token (child() made it just now), so the list stays in creation order.
  AgendaList& l = agenda_[agenda_of_[t->rule]];
  t->lprev = l.tail;
  (l.tail ? l.tail->lnext : l.head) = t;
  l.tail = t;
  ++agenda_count_;
}

void Network::terminal_remove(Token* t) {
  if (t->on_agenda) agenda_unlink(t);
  if (!t->fired) return;
  MatchKey k = key_for(t);
  if (updating_ == 0) {
    // Outside an update a match that leaves cannot come back within the same change (a retraction
    // or an insertion removes matches or adds others, never both of one match): it has ended now.
    end_match(std::move(k));
    return;
  }
  if (leaving_[k]++ == 0) leaving_order_.push_back(std::move(k));
}

void Network::end_match(MatchKey k) {
  auto s = supports_.find(k);
  if (s != supports_.end()) {
    for (int64_t d : s->second)
      if (--support_count_[d] == 0) {
        support_count_.erase(d);
        unsupported_.push_back(d);
      }
    supports_.erase(s);
  }
  ended_.push_back(std::move(k));
}

bool Network::next(Firing& out) {
  if (agenda_count_ == 0) return false;
  Token* t = nullptr;
  for (AgendaList& l : agenda_)
    if ((t = l.head)) break;
  agenda_unlink(t);
  t->fired = true;
  out.rule = t->rule;
  out.rule_name = &p_.rules[t->rule].name;
  // One walk up the chain, filled from the back, at most one parameter per level; levels that bound
  // nothing (not, exists) leave a gap at the front, closed after.
  size_t n = t->level;
  out.facts.resize(n);
  out.ids.resize(n);
  for (const Token* p = t; p; p = p->parent)
    if (p->bound()) {
      p->value_into(out.facts[--n]);
      out.ids[n] = p->fact_id();
    }
  if (n) {
    out.facts.erase(out.facts.begin(), out.facts.begin() + static_cast<std::ptrdiff_t>(n));
    out.ids.erase(out.ids.begin(), out.ids.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return true;
}

std::vector<MatchKey> Network::agenda_keys() const {
  std::vector<MatchKey> out;
  for (const AgendaList& l : agenda_)
    for (Token* t = l.head; t; t = t->lnext) out.push_back(key_for(t));
  return out;
}

void Network::mark_fired(const std::unordered_set<MatchKey>& keys) {
  // A match restored as fired does not fire again; a key whose match is not there yet holds when it is.
  std::unordered_set<MatchKey> absent = keys;
  for (AgendaList& l : agenda_)
    for (Token* t = l.head; t;) {
      Token* next = t->lnext;
      MatchKey k = key_for(t);
      if (keys.count(k)) {
        absent.erase(k);
        agenda_unlink(t);
        t->fired = true;
      }
      t = next;
    }
  restored_.insert(absent.begin(), absent.end());
}

void Network::support(const MatchKey& k, int64_t derived) {
  supports_[k].push_back(derived);
  ++support_count_[derived];
}

// At the end of an outermost change: matches that disappeared (and did not come back within an update)
// end their refraction and withdraw their support; tokens removed on the way are freed.
void Network::reap() {
  if (depth_ > 0) return;
  for (MatchKey& k : leaving_order_)
    if (leaving_.erase(k)) end_match(std::move(k));  // else: the match came back
  leaving_order_.clear();
  for (Token* t : graveyard_) destroy(t);
  graveyard_.clear();
}

std::vector<MatchKey> Network::take_ended() {
  return std::exchange(ended_, {});
}
std::vector<int64_t> Network::take_unsupported() {
  return std::exchange(unsupported_, {});
}
std::vector<std::string> Network::take_errors() {
  return std::exchange(errors_, {});
}

}  // namespace orgos::rules
