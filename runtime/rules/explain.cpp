// Why a rule fired or not for one fact: the network's memories read pattern by pattern, and the
// conditions re-evaluated on the fact to name the one that fails.
#include <algorithm>
#include <functional>

#include "runtime/rules/network_internals.h"

namespace orgos::rules {

namespace {

std::string line_of(uint32_t line) {
  return " (line " + std::to_string(line) + ")";
}

}  // namespace

std::vector<std::string> Explanation::lines() const {
  if (!known_rule) return {"no such rule"};
  std::vector<std::string> out;
  out.push_back("rule " + rule + " (salience " + std::to_string(salience) + ", " +
                std::to_string(pattern_count) + " pattern" + (pattern_count == 1 ? "" : "s") + ")");
  if (!in_memory) {
    out.push_back("fact #" + std::to_string(fact) + " is not in working memory");
    return out;
  }
  for (const PatternReport& p : patterns) {
    std::string head =
        "pattern " + std::to_string(p.number) + ": " + (p.kind == "fact" ? "" : p.kind + " ") + p.type;
    if (!p.of_fact_type) {
      out.push_back(head + ": " +
                    (p.facts_passing >= 0
                         ? std::to_string(p.facts_passing) + " fact(s) pass its own conditions; "
                         : std::string()) +
                    std::to_string(p.partial_matches) + " partial match(es) reach it");
      continue;
    }
    if (p.verdict == "fails_index") {
      out.push_back(head + ": the fact fails `" + p.field + " == …`" + line_of(p.line));
      continue;
    }
    if (p.verdict == "fails_condition") {
      out.push_back(head + ": the fact fails its own condition" + line_of(p.line) +
                    (p.error.empty() ? "" : ": " + p.error));
      continue;
    }
    std::string l = head + ": the fact passes its own conditions";
    if (p.joined) {
      l += "; " + std::to_string(p.partial_matches) + " partial match(es) reach it, " +
           std::to_string(p.same_key) + " with an equal join key" + (p.has_key ? "" : " (no join key)") +
           ", " + std::to_string(p.passing_join) + " pass the rest of the condition";
      if (p.same_key > p.passing_join)
        l += "; the first failure is the condition" + line_of(p.join_failure_line) +
             (p.join_error.empty() ? "" : ": " + p.join_error);
    }
    out.push_back(l);
  }
  if (!of_any_pattern) {
    out.push_back("no pattern of " + rule + " matches a " + fact_type);
    return out;
  }
  if (matches.empty())
    out.push_back("no full match contains fact #" + std::to_string(fact) + ": the rule does not fire for it");
  for (const MatchReport& m : matches)
    out.push_back("match " + m.key + ": " +
                  (m.state == "on_agenda" ? "on the agenda"
                   : m.state == "fired"   ? "fired"
                                          : "not fired"));
  return out;
}

Explanation Network::explain(uint32_t rule, int64_t fid) {
  Explanation x;
  x.fact = fid;
  if (rule >= p_.rules.size()) {
    x.known_rule = false;
    return x;
  }
  const ir::RuleIR& r = p_.rules[rule];
  x.rule = r.name;
  x.salience = r.salience;
  x.pattern_count = r.patterns.size();
  FactSlot* slot = find_fact(fid);
  if (!slot) {
    x.in_memory = false;
    return x;
  }
  Record* fact = slot->rec;
  x.fact_type = fact->type_id < m_.layouts.size() ? m_.layouts[fact->type_id].name : std::string();
  // Facts of a type that pass a pattern's own conditions, counted on demand (alpha memories keep only
  // what joins need).
  auto passing = [&](const Node& n) {
    const ir::PatternIR& p = *n.p;
    int64_t count = 0;
    facts_->for_each([&](FactSlot* f) {
      if (f->rec->type_id != p.layout) return;
      if (!n.eq_key.empty()) {  // the index constant, encoded once when the network was built
        std::string have;
        if (p.eq_slot >= f->rec->nslots || !encode(f->rec->slots[p.eq_slot], have) || have != n.eq_key)
          return;
      }
      if (p.alpha != kNone) {
        auto o = ev_.call(p.alpha, {Value::of_record(f->rec)});
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
  auto line = [&](uint32_t fn) { return static_cast<uint32_t>(m_.functions[fn].span.line); };
  bool any_type = false;
  for (auto& np : rules_[rule]) {
    Node& n = *np;
    const ir::PatternIR& p = *n.p;
    PatternReport& pr = x.patterns.emplace_back();
    pr.number = n.index + 1;
    pr.kind = ir::pattern_kind_name(p.kind);
    pr.type = p.layout < m_.layouts.size() ? m_.layouts[p.layout].name : std::string("value");
    pr.partial_matches = entering_of(n);
    if (p.kind == ir::PatternKind::Accumulate || p.layout != fact->type_id) {
      if (p.kind != ir::PatternKind::Accumulate) pr.facts_passing = passing(n);
      continue;
    }
    any_type = true;
    pr.of_fact_type = true;
    std::vector<Value> one = {Value::of_record(fact)};
    if (!n.eq_key.empty()) {
      std::string k;
      if (!(p.eq_slot < fact->nslots && encode(fact->slots[p.eq_slot], k) && k == n.eq_key)) {
        pr.verdict = "fails_index";
        pr.field = m_.layouts[p.layout].fields[p.eq_slot];
        pr.line = line(p.eq_value);
        continue;
      }
    }
    if (p.alpha != kNone) {
      auto o = ev_.call(p.alpha, one);
      if (!o.ok() || !o.value.u.i) {
        pr.verdict = "fails_condition";
        pr.line = line(p.alpha);
        if (!o.ok()) pr.error = o.error->message;
        continue;
      }
    }
    pr.verdict = "passes";
    if (n.index == 0) continue;
    // Join: how many partial matches share its key, and how many of those pass the rest.
    pr.joined = true;
    pr.has_key = !p.keys.empty();
    std::string rk;
    if (key_of(p.keys, false, one.data(), rule, rk)) {
      const Bucket* b = p.keys.empty() ? &n.solo : n.buckets.find(key_hash(rk), [&](const Bucket* b) {
        return same_key(b->key, rk);
      });
      for (Token* t = b ? b->lhead : nullptr; t; t = t->lnext) {
        ++pr.same_key;
        if (p.beta == kNone) {
          ++pr.passing_join;
          continue;
        }
        std::vector<Value> a;
        bound_values(t, a);
        a.push_back(Value::of_record(fact));
        auto o = ev_.call(p.beta, a);
        if (o.ok() && o.value.u.i) {
          ++pr.passing_join;
        } else if (!pr.join_failure_line) {
          pr.join_failure_line = line(p.beta);
          if (!o.ok()) pr.join_error = o.error->message;
        }
      }
    }
  }
  take_errors();
  if (!any_type) {
    x.of_any_pattern = false;
    return x;
  }
  // Full matches that contain the fact, oldest first: the fact's tokens are listed newest first, and
  // children are in creation order.
  std::vector<Token*> full;
  std::function<void(Token*)> walk = [&](Token* t) {
    if (t->terminal) {
      full.push_back(t);
      return;
    }
    for (Token* c = partial(t)->first_child; c; c = c->next_sibling) walk(c);
  };
  std::vector<Token*> bound;
  for (Token* t = slot->tokens; t; t = t->fnext)
    if (t->rule == rule) bound.push_back(t);
  for (auto it = bound.rbegin(); it != bound.rend(); ++it) walk(*it);
  for (Token* t : full)
    x.matches.push_back({key_for(t), t->on_agenda ? "on_agenda" : t->fired ? "fired" : "not_fired"});
  return x;
}

}  // namespace orgos::rules
