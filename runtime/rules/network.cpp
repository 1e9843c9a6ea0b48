#include "runtime/rules/network.h"

#include <cstring>
#include <utility>

#include <algorithm>

#include "runtime/rules/network_internals.h"
#include "runtime/rules/token_pool.h"

namespace orgos::rules {

using ir::kNone;
using ir::Record;
using ir::Value;

Network::Network(const ir::Program& p, const ir::Module& m, interp::Evaluator& ev)
    : p_(p), m_(m), ev_(ev), pool_(std::make_unique<TokenPool<Token>>()) {
  rules_.resize(p.rules.size());
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    const ir::RuleIR& rule = p.rules[r];
    for (uint32_t k = 0; k < rule.patterns.size(); ++k) {
      auto n = std::make_unique<Node>();
      n->rule = r;
      n->index = k;
      n->p = &rule.patterns[k];
      if (n->p->kind == 3) {
        for (uint32_t t : n->p->reads) readers_[t].push_back(n.get());
      } else if (n->p->eq_value != kNone) {
        auto o = ev_.call(n->p->eq_value, {});
        if (o.ok() && encode(o.value, n->eq_key)) {
          auto& idx = indexed_[n->p->layout];
          auto it =
              std::find_if(idx.begin(), idx.end(), [&](const EqIndex& e) { return e.slot == n->p->eq_slot; });
          if (it == idx.end()) it = idx.insert(idx.end(), EqIndex{n->p->eq_slot, {}});
          it->nodes[n->eq_key].push_back(n.get());
        } else
          by_type_[n->p->layout].push_back(n.get());
      } else {
        by_type_[n->p->layout].push_back(n.get());
      }
      rules_[r].push_back(std::move(n));
    }
  }
  // Every rule starts with its empty match in the first node (a rule without patterns never fires).
  ++depth_;
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    Token* t = pool_->make();
    t->rule = r;
    t->seq = ++seq_;
    roots_.push_back(t);
    ++live_tokens_;
    if (!rules_[r].empty()) left_activate(*rules_[r][0], t);
  }
  --depth_;
  reap();
}

Network::~Network() {
  std::function<void(Token*)> free_tree = [&](Token* t) {
    for (Token* c = t->first_child; c;) {
      Token* next = c->next_sibling;
      free_tree(c);
      c = next;
    }
    pool_->destroy(t);
  };
  for (Token* r : roots_) free_tree(r);
  for (Token* t : graveyard_) pool_->destroy(t);
}

// ---------------------------------------------------------------- evaluation

bool Network::call_bool(uint32_t fn, const std::vector<Value>& args, uint32_t rule) {
  if (fn == kNone) return true;
  auto o = ev_.call(fn, args);
  if (!o.ok()) {
    errors_.push_back(p_.rules[rule].name + " failed: " + o.error->message);
    return false;
  }
  return o.value.u.i != 0;
}

bool Network::key_of(const std::vector<ir::JoinKeyIR>& keys, bool left, const std::vector<Value>& args,
                     uint32_t rule, std::string& out) {
  out.clear();
  for (const ir::JoinKeyIR& k : keys) {
    auto o = ev_.call(left ? k.left : k.right, args);
    if (!o.ok()) {
      errors_.push_back(p_.rules[rule].name + " failed: " + o.error->message);
      return false;
    }
    if (!encode(o.value, out)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- working memory

const std::vector<Network::Node*>& Network::candidates(Record* fact) {
  std::vector<Node*>& out = candidates_;
  out.clear();
  if (auto it = by_type_.find(fact->type_id); it != by_type_.end()) out = it->second;
  if (auto it = indexed_.find(fact->type_id); it != indexed_.end()) {
    std::string k;
    for (const EqIndex& e : it->second) {
      k.clear();
      if (e.slot >= fact->nslots || !encode(fact->slots[e.slot], k)) continue;
      auto hit = e.nodes.find(k);
      if (hit != e.nodes.end()) out.insert(out.end(), hit->second.begin(), hit->second.end());
    }
    std::sort(out.begin(), out.end(),
              [](Node* a, Node* b) { return a->rule != b->rule ? a->rule < b->rule : a->index < b->index; });
  }
  return out;
}

void Network::insert(Record* fact, int64_t id) {
  if (!fact) return;
  const int64_t fid = id ? id : fact->id;
  if (fid == 0 || facts_.count(fid)) return;
  ++depth_;
  FactInfo& fi = facts_[fid];
  fi.rec = fact;
  std::string rk;
  for (Node* n : candidates(fact)) {
    args_.assign(1, Value::of_record(fact));
    if (!call_bool(n->p->alpha, args_, n->rule)) continue;
    if (!key_of(n->p->keys, false, args_, n->rule, rk)) continue;
    ++n->alpha_count;
    auto& right = n->right[rk];
    right.emplace_hint(right.end(), fid);  // ids mostly grow: constant time then
    fi.alphas.emplace_back(n, rk);
    right_activate(*n, fid, rk);
  }
  fi.alphas.shrink_to_fit();  // held as long as the fact: a doubling's slack would be most of it
  if (auto it = readers_.find(fact->type_id); it != readers_.end())
    for (Node* n : it->second) recompute(*n);
  --depth_;
  reap();
}

void Network::retract(int64_t id) {
  auto it = facts_.find(id);
  if (it == facts_.end()) return;
  ++depth_;
  uint32_t type = it->second.rec->type_id;
  auto alphas = std::move(it->second.alphas);
  for (auto& [n, rk] : alphas) {
    auto r = n->right.find(rk);
    if (r != n->right.end()) {
      r->second.erase(id);
      if (r->second.empty()) n->right.erase(r);
    }
    --n->alpha_count;
    if (n->p->kind != 1 && n->p->kind != 2) continue;
    auto b = n->blocks.find(id);
    if (b == n->blocks.end()) continue;
    std::vector<Token*> met = std::move(b->second);
    n->blocks.erase(b);
    for (Token* t : met) {
      if (t->dead) continue;
      auto& bl = t->blockers;
      bl.erase(std::remove(bl.begin(), bl.end(), id), bl.end());
      if (!bl.empty()) continue;
      if (n->p->kind == 1)
        child(t, *n, 0, nullptr);  // nothing blocks the `not` any more
      else
        remove_children(t);  // `exists` lost its last fact
    }
  }
  // Every partial match that bound the fact goes, with what was built on it.
  auto fit = facts_.find(id);
  std::vector<Token*> toks = std::move(fit->second.tokens);
  for (Token* t : toks)
    if (!t->dead) remove_token(t);
  facts_.erase(id);
  if (auto rit = readers_.find(type); rit != readers_.end())
    for (Node* n : rit->second) recompute(*n);
  --depth_;
  reap();
}

void Network::update(Record* fact) {
  if (!fact || !facts_.count(fact->id)) return insert(fact);
  ++depth_;  // refraction is settled once, after the fact is back
  retract(fact->id);
  insert(fact);
  --depth_;
  reap();
}

// ---------------------------------------------------------------- propagation

bool Network::beta_ok(Node& n, Token* t, Record* fact) {
  if (n.p->beta == kNone) return true;
  bound_values(t, args_);
  args_.push_back(Value::of_record(fact));
  return call_bool(n.p->beta, args_, n.rule);
}

void Network::right_activate(Node& n, int64_t fid, const std::string& rk) {
  auto it = n.left.find(rk);
  if (it == n.left.end()) return;
  std::vector<Token*>& toks = right_tokens_;
  toks.clear();
  for (auto& [s, t] : it->second) toks.push_back(t);
  Record* fact = facts_[fid].rec;
  for (Token* t : toks) {
    if (t->dead || !beta_ok(n, t, fact)) continue;
    switch (n.p->kind) {
      case 0:
        child(t, n, fid, nullptr);
        break;
      case 1:  // not: the first matching fact blocks the match
        t->blockers.push_back(fid);
        n.blocks[fid].push_back(t);
        if (t->blockers.size() == 1) remove_children(t);
        break;
      case 2:  // exists: the first matching fact lets it through
        t->blockers.push_back(fid);
        n.blocks[fid].push_back(t);
        if (t->blockers.size() == 1) child(t, n, 0, nullptr);
        break;
      default:
        break;
    }
  }
}

void Network::left_activate(Node& n, Token* t) {
  if (n.p->kind == 3) {
    // Accumulations have no key: they see every partial match and recompute on changes.
    t->lkey.clear();
    n.left[t->lkey].emplace(t->seq, t);
    t->in_left = true;
    bound_values(t, args_);
    auto o = ev_.call(n.p->condition, args_);
    if (!o.ok()) {
      errors_.push_back(p_.rules[n.rule].name + " failed: " + o.error->message);
      return;
    }
    child(t, n, 0, &o.value);
    return;
  }
  if (!n.p->keys.empty()) {
    bound_values(t, args_);
    if (!key_of(n.p->keys, true, args_, n.rule, t->lkey)) return;
  } else {
    t->lkey.clear();
  }
  n.left[t->lkey].emplace(t->seq, t);
  t->in_left = true;
  auto it = n.right.find(t->lkey);
  std::vector<int64_t> fids;
  if (it != n.right.end()) fids.assign(it->second.begin(), it->second.end());
  for (int64_t fid : fids) {
    if (t->dead) return;
    if (!beta_ok(n, t, facts_[fid].rec)) continue;
    if (n.p->kind == 0) {
      child(t, n, fid, nullptr);
    } else {
      t->blockers.push_back(fid);
      n.blocks[fid].push_back(t);
    }
  }
  if ((n.p->kind == 1 && t->blockers.empty()) || (n.p->kind == 2 && !t->blockers.empty()))
    child(t, n, 0, nullptr);
}

Network::Token* Network::child(Token* parent, Node& n, int64_t fid, const Value* v) {
  Token* c = pool_->make();
  ++live_tokens_;
  c->parent = parent;
  c->rule = parent->rule;
  c->level = parent->level + 1;
  c->seq = ++seq_;
  if (n.p->kind == 0) {
    FactInfo& fi = facts_[fid];
    c->val = Value::of_record(fi.rec);
    c->bound = true;
    c->fact = fid;
    fi.tokens.push_back(c);
  } else if (n.p->kind == 3) {
    c->val = *v;
    c->bound = true;
  }
  c->prev_sibling = parent->last_child;
  (parent->last_child ? parent->last_child->next_sibling : parent->first_child) = c;
  parent->last_child = c;
  c->linked = true;
  auto& nodes = rules_[c->rule];
  if (c->level < nodes.size())
    left_activate(*nodes[c->level], c);
  else
    terminal_add(c);
  return c;
}

void Network::remove_children(Token* t) {
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
  remove_children(t);
  auto& nodes = rules_[t->rule];
  if (t->in_left && t->level < nodes.size()) {
    Node& n = *nodes[t->level];
    auto it = n.left.find(t->lkey);
    if (it != n.left.end()) {
      it->second.erase(t->seq);
      if (it->second.empty()) n.left.erase(it);
    }
    for (int64_t fid : t->blockers) {
      auto b = n.blocks.find(fid);
      if (b == n.blocks.end()) continue;
      auto& v = b->second;
      v.erase(std::remove(v.begin(), v.end(), t), v.end());
      if (v.empty()) n.blocks.erase(b);
    }
  }
  if (t->terminal) terminal_remove(t);
  if (t->fact) {
    auto f = facts_.find(t->fact);
    if (f != facts_.end()) {
      auto& v = f->second.tokens;
      auto pos = std::find(v.begin(), v.end(), t);
      if (pos != v.end()) {
        *pos = v.back();
        v.pop_back();
      }
    }
  }
  if (t->linked) {
    Token* p = t->parent;
    (t->prev_sibling ? t->prev_sibling->next_sibling : p->first_child) = t->next_sibling;
    (t->next_sibling ? t->next_sibling->prev_sibling : p->last_child) = t->prev_sibling;
    t->linked = false;
  }
  graveyard_.push_back(t);
}

void Network::recompute(Node& n) {
  std::vector<Token*> toks;
  for (auto& [k, m] : n.left)
    for (auto& [s, t] : m) toks.push_back(t);
  std::sort(toks.begin(), toks.end(), [](Token* a, Token* b) { return a->seq < b->seq; });
  for (Token* t : toks) {
    if (t->dead) continue;
    bound_values(t, args_);
    auto o = ev_.call(n.p->condition, args_);
    if (o.ok() && t->first_child && t->first_child == t->last_child &&
        std::memcmp(&t->first_child->val, &o.value, sizeof(Value)) == 0)
      continue;  // the same value: the matches built on it stand
    remove_children(t);
    if (!o.ok()) {
      errors_.push_back(p_.rules[n.rule].name + " failed: " + o.error->message);
      continue;
    }
    child(t, n, 0, &o.value);
  }
}

// ---------------------------------------------------------------- agenda, refraction, support

MatchKey Network::key_for(Token* t) const {
  std::vector<const Token*> chain;
  for (const Token* p = t; p; p = p->parent)
    if (p->bound) chain.push_back(p);
  MatchKey k = p_.rules[t->rule].name + ":";
  for (size_t i = chain.size(); i-- > 0;) {
    if (i + 1 != chain.size()) k += ",";
    if (chain[i]->fact)
      k += std::to_string(chain[i]->fact);
    else
      k += "=" + interp::to_string(chain[i]->val);
  }
  return k;
}

void Network::agenda_unlink(Token* t) {
  AgendaList& l = agenda_[-p_.rules[t->rule].salience];
  (t->agenda_prev ? t->agenda_prev->agenda_next : l.head) = t->agenda_next;
  (t->agenda_next ? t->agenda_next->agenda_prev : l.tail) = t->agenda_prev;
  t->agenda_prev = t->agenda_next = nullptr;
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
  // Appended: t is the newest token (child() numbers it just before), so the list stays in seq order.
  AgendaList& l = agenda_[-p_.rules[t->rule].salience];
  t->agenda_prev = l.tail;
  (l.tail ? l.tail->agenda_next : l.head) = t;
  l.tail = t;
  ++agenda_count_;
}

void Network::terminal_remove(Token* t) {
  if (t->on_agenda) agenda_unlink(t);
  if (!t->fired) return;
  MatchKey k = key_for(t);
  if (leaving_[k]++ == 0) leaving_order_.push_back(std::move(k));
}

bool Network::next(Firing& out) {
  if (agenda_count_ == 0) return false;
  Token* t = nullptr;
  for (auto& [s, l] : agenda_)
    if ((t = l.head)) break;
  agenda_unlink(t);
  t->fired = true;
  out.rule = t->rule;
  bound_values(t, out.facts);
  out.key = key_for(t);
  return true;
}

std::vector<MatchKey> Network::agenda_keys() const {
  std::vector<MatchKey> out;
  for (auto& [s, l] : agenda_)
    for (Token* t = l.head; t; t = t->agenda_next) out.push_back(key_for(t));
  return out;
}

void Network::mark_fired(const std::unordered_set<MatchKey>& keys) {
  // A match restored as fired does not fire again; a key whose match is not there yet holds when it is.
  std::unordered_set<MatchKey> absent = keys;
  for (auto& [s, l] : agenda_)
    for (Token* t = l.head; t;) {
      Token* next = t->agenda_next;
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
  for (const MatchKey& k : leaving_order_) {
    if (!leaving_.erase(k)) continue;  // the match came back
    ended_.push_back(k);
    auto s = supports_.find(k);
    if (s == supports_.end()) continue;
    for (int64_t d : s->second)
      if (--support_count_[d] == 0) {
        support_count_.erase(d);
        unsupported_.push_back(d);
      }
    supports_.erase(s);
  }
  leaving_order_.clear();
  for (Token* t : graveyard_) pool_->destroy(t);
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
