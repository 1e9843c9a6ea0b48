// Why a rule fired or not for one fact: the network's memories read pattern by pattern, and the
// conditions re-evaluated on the fact to name the one that fails.
#include <algorithm>
#include <functional>

#include "runtime/rules/network_internals.h"

namespace orgos::rules {

namespace {

const char* kind_word(uint8_t k) {
  switch (k) {
    case 1:
      return "not ";
    case 2:
      return "exists ";
    case 3:
      return "accumulate ";
    default:
      return "";
  }
}

}  // namespace

std::vector<std::string> Network::explain(uint32_t rule, int64_t fid) {
  std::vector<std::string> out;
  if (rule >= p_.rules.size()) return {"no such rule"};
  const ir::RuleIR& r = p_.rules[rule];
  out.push_back("rule " + r.name + " (salience " + std::to_string(r.salience) + ", " +
                std::to_string(r.patterns.size()) + " pattern" + (r.patterns.size() == 1 ? "" : "s") + ")");
  FactSlot* slot = find_fact(fid);
  if (!slot) {
    out.push_back("fact #" + std::to_string(fid) + " is not in working memory");
    return out;
  }
  Record* fact = slot->rec;
  // Facts of a type that pass a pattern's own conditions, counted on demand (alpha memories keep only
  // what joins need).
  auto passing = [&](const ir::PatternIR& p) {
    size_t count = 0;
    facts_->for_each([&](FactSlot* f) {
      if (f->rec->type_id != p.layout) return;
      Value one[1] = {Value::of_record(f->rec)};
      if (p.eq_value != kNone) {
        auto c = ev_.call(p.eq_value, {});
        std::string want, have;
        if (!c.ok() || !encode(c.value, want) || p.eq_slot >= f->rec->nslots ||
            !encode(f->rec->slots[p.eq_slot], have) || want != have)
          return;
      }
      if (p.alpha != kNone) {
        auto o = ev_.call(p.alpha, {one[0]});
        if (!o.ok() || !o.value.u.i) return;
      }
      ++count;
    });
    return count;
  };
  auto entering_of = [](const Node& n) {
    size_t count = 0;
    for (Token* t = n.solo.lhead; t; t = t->lnext) ++count;
    n.buckets.for_each([&](const Bucket* b) {
      for (Token* t = b->lhead; t; t = t->lnext) ++count;
    });
    return count;
  };
  auto where = [&](uint32_t fn) {
    const ir::Function& f = m_.functions[fn];
    return " (line " + std::to_string(f.span.line) + ")";
  };
  bool any_type = false;
  for (auto& np : rules_[rule]) {
    Node& n = *np;
    const ir::PatternIR& p = *n.p;
    std::string head = "pattern " + std::to_string(n.index + 1) + ": " + kind_word(p.kind) +
                       (p.layout < m_.layouts.size() ? m_.layouts[p.layout].name : std::string("value"));
    size_t entering = entering_of(n);
    if (p.kind == 3 || p.layout != fact->type_id) {
      out.push_back(head + ": " +
                    (p.kind == 3 ? "" : std::to_string(passing(p)) + " fact(s) pass its own conditions; ") +
                    std::to_string(entering) + " partial match(es) reach it");
      continue;
    }
    any_type = true;
    std::vector<Value> one = {Value::of_record(fact)};
    if (p.eq_value != kNone) {
      std::string k;
      if (!(p.eq_slot < fact->nslots && encode(fact->slots[p.eq_slot], k) && k == n.eq_key)) {
        out.push_back(head + ": the fact fails `" + m_.layouts[p.layout].fields[p.eq_slot] + " == …`" +
                      where(p.eq_value));
        continue;
      }
    }
    if (p.alpha != kNone) {
      auto o = ev_.call(p.alpha, one);
      if (!o.ok() || !o.value.u.i) {
        out.push_back(head + ": the fact fails its own condition" + where(p.alpha) +
                      (o.ok() ? "" : ": " + o.error->message));
        continue;
      }
    }
    std::string line = head + ": the fact passes its own conditions";
    if (n.index == 0) {
      out.push_back(line);
      continue;
    }
    // Join: how many partial matches share its key, and how many of those pass the rest.
    std::string rk;
    size_t same_key = 0, pass = 0;
    std::string failed;
    if (key_of(p.keys, false, one.data(), rule, rk)) {
      const Bucket* b = p.keys.empty()
                            ? &n.solo
                            : n.buckets.find(key_hash(rk), [&](const Bucket* x) { return x->key == rk; });
      if (b) {
        for (Token* t = b->lhead; t; t = t->lnext) {
          ++same_key;
          if (p.beta == kNone) {
            ++pass;
            continue;
          }
          std::vector<Value> a;
          bound_values(t, a);
          a.push_back(Value::of_record(fact));
          auto o = ev_.call(p.beta, a);
          if (o.ok() && o.value.u.i)
            ++pass;
          else if (failed.empty())
            failed = where(p.beta) + (o.ok() ? "" : ": " + o.error->message);
        }
      }
    }
    line += "; " + std::to_string(entering) + " partial match(es) reach it, " + std::to_string(same_key) +
            " with an equal join key" + (p.keys.empty() ? " (no join key)" : "") + ", " +
            std::to_string(pass) + " pass the rest of the condition";
    if (same_key > pass) line += "; the first failure is the condition" + failed;
    out.push_back(line);
  }
  take_errors();
  if (!any_type) {
    out.push_back("no pattern of " + r.name + " matches a " + m_.layouts[fact->type_id].name);
    return out;
  }
  // Full matches that contain the fact.
  std::vector<Token*> full;
  std::function<void(Token*)> walk = [&](Token* t) {
    if (t->terminal) {
      full.push_back(t);
      return;
    }
    for (Token* c = partial(t)->first_child; c; c = c->next_sibling) walk(c);
  };
  // The fact's tokens are listed newest first; children are in creation order: oldest match first.
  std::vector<Token*> bound;
  for (Token* t = slot->tokens; t; t = t->fnext)
    if (t->rule == rule) bound.push_back(t);
  for (auto it = bound.rbegin(); it != bound.rend(); ++it) walk(*it);
  if (full.empty())
    out.push_back("no full match contains fact #" + std::to_string(fid) + ": the rule does not fire for it");
  for (Token* t : full)
    out.push_back("match " + key_for(t) + ": " +
                  (t->on_agenda ? "on the agenda"
                   : t->fired   ? "fired"
                                : "not fired"));
  return out;
}

}  // namespace orgos::rules
