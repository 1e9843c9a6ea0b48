// The match network on generated rule sets. Random programs (three record types, joins on keys, extra
// join conditions, `not`, `exists`, counts, salience) meet random changes (insert, update, retract), and
// two properties are checked after every change:
// - incremental = from scratch: the activations of the network that followed every change equal those of
//   a fresh network given only the facts as they are now (nothing fired, so every match is on the agenda);
// - interpreter = native code: two networks, one running the conditions in the interpreter and one as
//   native code (codegen::compile), fire the same matches in the same order.
// ORGOS_RULES_CASES (default 30) sets the number of programs; each gets 120 changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "compiler/codegen/jit.h"
#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/rules/network.h"

using namespace orgos;
using ir::Value;

namespace {

const char* kTypes[] = {"A", "B", "C"};

// A random program: every record type has fields x and y (small integers, so that joins meet).
std::string generate(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto type = [&] { return std::string(kTypes[pick(3)]); };
  auto field = [&] { return std::string(pick(2) ? "x" : "y"); };
  std::string s = "record A { x: Int  y: Int }\nrecord B { x: Int  y: Int }\nrecord C { x: Int  y: Int }\n";
  s += "event hit\n";
  const int rules = 4 + pick(5);
  for (int r = 0; r < rules; ++r) {
    s += "rule r" + std::to_string(r);
    if (pick(3) == 0) s += " salience " + std::to_string(pick(3));
    s += " when ";
    std::vector<std::string> vars;
    const int patterns = 1 + pick(3);
    for (int k = 0; k < patterns; ++k) {
      std::string v = "v" + std::to_string(k);
      if (k > 0) s += ", ";
      // Own conditions: none, a constant equality (the alpha index), or a comparison.
      auto own = [&](const std::string& var) -> std::string {
        switch (pick(3)) {
          case 0:
            return "";
          case 1:
            return var + "." + field() + " == " + std::to_string(pick(4));
          default:
            return var + "." + field() + " > " + std::to_string(pick(3));
        }
      };
      std::vector<std::string> conds;
      if (k > 0) {
        const std::string& prev = vars[static_cast<size_t>(pick(static_cast<int>(vars.size())))];
        if (pick(4) != 0) conds.push_back(v + "." + field() + " == " + prev + "." + field());  // a join key
        if (pick(3) == 0) conds.push_back(v + "." + field() + " < " + prev + "." + field());   // the rest
      }
      if (auto o = own(v); !o.empty()) conds.push_back(o);
      std::string where;
      for (size_t i = 0; i < conds.size(); ++i) where += (i ? " and " : "") + conds[i];
      const int kind = k == 0 ? 0 : pick(6);
      if (kind == 4 && !vars.empty()) {  // an accumulation over the facts joined to an earlier one
        std::string c = "c" + std::to_string(k), prev = vars.back();
        s += c + " = count(" + v + " in " + type() + " where " + v + "." + field() + " == " + prev + "." +
             field() + ")";
        continue;  // binds a value, not a fact: later patterns join to the facts only
      }
      if (kind == 2) s += "not ";
      if (kind == 3) s += "exists ";
      s += type() + " " + v;
      if (!where.empty()) s += " where " + where;
      if (kind != 2 && kind != 3) vars.push_back(v);
    }
    s += " then emit hit\n";
  }
  return s;
}

struct Program {
  std::unique_ptr<driver::Compilation> c;
  ir::Lowered lw;
};

// One network with its evaluator; facts are shared records, `live` says which exist now.
struct Side {
  std::unique_ptr<interp::Evaluator> ev;
  std::unique_ptr<rules::Network> net;
  Side(Program& p, const std::vector<ir::Record*>& all, const std::set<int64_t>& live,
       std::shared_ptr<const interp::NativeCode> native) {
    interp::Host host;
    host.all_of = [&all, &live](uint32_t type, interp::Arena& a) {
      std::vector<Value> out;
      for (ir::Record* r : all)
        if (r->type_id == type && live.count(r->id)) out.push_back(Value::of_record(r));
      ir::List* l = a.list(static_cast<uint32_t>(out.size()));
      std::copy(out.begin(), out.end(), l->items);
      return l;
    };
    ev = std::make_unique<interp::Evaluator>(p.lw.module, host);
    if (native) ev->attach_native(std::move(native));
    net = std::make_unique<rules::Network>(p.lw.program, p.lw.module, *ev);
  }
  std::vector<std::string> fire() {
    std::vector<std::string> out;
    rules::Firing f;
    while (net->next(f)) out.push_back(f.key());
    return out;
  }
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(RulesGenerated, IncrementalEqualsFromScratchAndInterpreterEqualsNative) {
  const char* env = std::getenv("ORGOS_RULES_CASES");
  const int cases = env ? std::atoi(env) : 30;
  size_t changes = 0, firings = 0, matches_seen = 0;
  for (int seed = 1; seed <= cases; ++seed) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    Program p;
    const std::string src = generate(rng);
    p.c = driver::check_text("generated.org", src);
    ASSERT_FALSE(p.c->diags.has_errors()) << diag::render_all_text(p.c->sources, p.c->diags) << src;
    p.lw = ir::lower(*p.c);
    std::string why;
    auto native = codegen::compile(p.lw.module, {}, nullptr, &why);
    ASSERT_TRUE(native) << why;

    interp::Arena arena;
    std::vector<ir::Record*> all;
    std::set<int64_t> live;
    // Three networks over the same facts: never fired (checked against from-scratch), interpreted and
    // native (fired after every change, compared with each other).
    Side held(p, all, live, nullptr), interp(p, all, live, nullptr), jit(p, all, live, native);
    int64_t next_id = 1;
    for (int step = 0; step < 120; ++step, ++changes) {
      const int op = static_cast<int>(rng() % 10);
      std::vector<int64_t> ids(live.begin(), live.end());
      std::string what;
      if (op < 5 || ids.empty()) {  // insert
        uint32_t t = 0;
        const std::string name = kTypes[rng() % 3];
        for (uint32_t i = 0; i < p.lw.module.layouts.size(); ++i)
          if (p.lw.module.layouts[i].name == name) t = i;
        auto* r = arena.record(t, 2);
        r->slots[0] = Value::of_int(static_cast<int64_t>(rng() % 4));
        r->slots[1] = Value::of_int(static_cast<int64_t>(rng() % 4));
        r->id = next_id++;
        all.push_back(r);
        live.insert(r->id);
        for (Side* s : {&held, &interp, &jit}) s->net->insert(r);
        what = "insert #" + std::to_string(r->id);
      } else {
        const int64_t id = ids[rng() % ids.size()];
        ir::Record* r = *std::find_if(all.begin(), all.end(), [&](ir::Record* x) { return x->id == id; });
        if (op < 8) {  // update: a field changes in place
          r->slots[rng() % 2] = Value::of_int(static_cast<int64_t>(rng() % 4));
          for (Side* s : {&held, &interp, &jit}) s->net->update(r);
          what = "update #" + std::to_string(id);
        } else {
          live.erase(id);
          for (Side* s : {&held, &interp, &jit}) s->net->retract(id);
          what = "retract #" + std::to_string(id);
        }
      }
      // From scratch: a fresh network given the facts as they are now, in id order.
      Side fresh(p, all, live, nullptr);
      for (ir::Record* r : all)
        if (live.count(r->id)) fresh.net->insert(r);
      auto want = sorted(fresh.net->agenda_keys());
      auto have = sorted(held.net->agenda_keys());
      ASSERT_EQ(have, want) << "seed " << seed << ", step " << step << " (" << what << ")\n" << src;
      matches_seen += have.size();
      auto a = interp.fire(), b = jit.fire();
      ASSERT_EQ(a, b) << "seed " << seed << ", step " << step << " (" << what << ")\n" << src;
      firings += a.size();
      ASSERT_TRUE(interp.net->take_errors().empty());
      ASSERT_TRUE(jit.net->take_errors().empty());
    }
  }
  // The generator must exercise the network: matches and firings happen.
  EXPECT_GT(matches_seen, static_cast<size_t>(cases) * 100);
  EXPECT_GT(firings, static_cast<size_t>(cases) * 10);
  std::printf("%d programs, %zu changes, %zu firings, %zu activations compared\n", cases, changes, firings,
              matches_seen);
}

}  // namespace
