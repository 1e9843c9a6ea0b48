// The match network on its own: rules written in the language, facts inserted, changed and retracted,
// and the activations it puts on the agenda checked one semantic point at a time.
#include "runtime/rules/network.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/rules/flat_table.h"
#include "runtime/rules/network_internals.h"
#include "runtime/rules/token_region.h"

using namespace orgos;
using ir::Value;

namespace {

const char* kRules = R"org(
record Emp { name: String  unit: String  skill: String  age: Int }
record Course { skill: String  title: String }
record Dept { name: String }
record Expense { amount: Int  category: String }
event saw { what: String }
rule big when Expense e where e.category == "travel" and e.amount > 100 then emit saw { what: "big" }
rule staff_course when Emp e, Course c where c.skill == e.skill, Dept d where d.name == e.unit
  then emit saw { what: "trained" }
rule empty_dept when Dept d, not Emp e where e.unit == d.name then emit saw { what: "empty" }
rule busy_dept salience 5 when Dept d, exists Emp e where e.unit == d.name and e.age > 0 then emit saw { what: "busy" }
rule headcount when Dept d, n = count(e in Emp where e.unit == d.name) then emit saw { what: "count" }
)org";

struct World {
  std::unique_ptr<driver::Compilation> c;
  ir::Lowered lw;
  std::unique_ptr<interp::Evaluator> ev;
  std::unique_ptr<rules::Network> net;
  interp::Arena arena;
  int64_t next_id = 1;
  std::vector<ir::Record*> all;

  explicit World(const char* src = kRules) {
    c = driver::check_text("rules.org", src);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    lw = ir::lower(*c);
    // Accumulations read every fact of a type through the host, as in the engine.
    interp::Host host;
    host.all_of = [this](uint32_t type, interp::Arena& a) {
      std::vector<Value> out;
      for (ir::Record* r : all)
        if (r->type_id == type && net->contains(r->id)) out.push_back(Value::of_record(r));
      ir::List* l = a.list(static_cast<uint32_t>(out.size()));
      std::copy(out.begin(), out.end(), l->items);
      return l;
    };
    ev = std::make_unique<interp::Evaluator>(lw.module, host);
    net = std::make_unique<rules::Network>(lw.program, lw.module, *ev);
  }
  uint32_t layout(const std::string& n) const {
    for (uint32_t i = 0; i < lw.module.layouts.size(); ++i)
      if (lw.module.layouts[i].name == n) return i;
    ADD_FAILURE() << "no layout " << n;
    return 0;
  }
  Value str(const char* s) { return Value::of_string(arena.string(s)); }
  void set(ir::Record* r, const std::string& field, Value v) {
    auto& fs = lw.module.layouts[r->type_id].fields;
    for (uint32_t i = 0; i < fs.size(); ++i)
      if (fs[i] == field) r->slots[i] = v;
  }
  ir::Record* make(const std::string& type, std::vector<std::pair<std::string, Value>> fields) {
    uint32_t t = layout(type);
    auto* r = arena.record(t, static_cast<uint32_t>(lw.module.layouts[t].fields.size()));
    for (uint32_t i = 0; i < r->nslots; ++i) r->slots[i] = Value::none();
    r->id = next_id++;
    for (auto& [f, v] : fields) set(r, f, v);
    all.push_back(r);
    net->insert(r);
    return r;
  }
  ir::Record* emp(const char* name, const char* unit, const char* skill, int64_t age = 30) {
    return make(
        "Emp",
        {{"name", str(name)}, {"unit", str(unit)}, {"skill", str(skill)}, {"age", Value::of_int(age)}});
  }
  ir::Record* dept(const char* name) { return make("Dept", {{"name", str(name)}}); }
  // Fires everything on the agenda; returns the keys in firing order.
  std::vector<std::string> fire() {
    std::vector<std::string> out;
    rules::Firing f;
    while (net->next(f)) out.push_back(f.key());
    return out;
  }
};

TEST(Rules, AlphaConditionsAndTheEqualityIndex) {
  World w;
  w.make("Expense", {{"amount", Value::of_int(500)}, {"category", w.str("travel")}});
  w.make("Expense", {{"amount", Value::of_int(50)}, {"category", w.str("travel")}});
  w.make("Expense", {{"amount", Value::of_int(500)}, {"category", w.str("meals")}});
  EXPECT_EQ(w.fire(), std::vector<std::string>{"big:1"});
}

TEST(Rules, ThreeWayJoinOnKeys) {
  World w;
  w.dept("ops");                                                             // 1
  w.emp("ann", "ops", "sql");                                                // 2
  w.emp("bob", "dev", "sql");                                                // 3: no Dept dev
  w.make("Course", {{"skill", w.str("sql")}, {"title", w.str("SQL 101")}});  // 4
  auto fired = w.fire();
  std::vector<std::string> trained;
  for (auto& k : fired)
    if (k.rfind("staff_course:", 0) == 0) trained.push_back(k);
  EXPECT_EQ(trained, std::vector<std::string>{"staff_course:2,4,1"});
  w.dept("dev");  // 5: bob's match appears
  fired = w.fire();
  EXPECT_NE(std::find(fired.begin(), fired.end(), "staff_course:3,4,5"), fired.end());
}

TEST(Rules, NotAndExistsFollowTheFacts) {
  World w;
  w.dept("ops");
  auto f = w.fire();
  EXPECT_NE(std::find(f.begin(), f.end(), "empty_dept:1"), f.end());
  EXPECT_EQ(std::find(f.begin(), f.end(), "busy_dept:1"), f.end());
  auto* e = w.emp("ann", "ops", "sql");
  f = w.fire();
  EXPECT_NE(std::find(f.begin(), f.end(), "busy_dept:1"), f.end());
  // The not-match ended: its refraction is over.
  auto ended = w.net->take_ended();
  EXPECT_NE(std::find(ended.begin(), ended.end(), "empty_dept:1"), ended.end());
  w.net->retract(e->id);
  f = w.fire();
  EXPECT_NE(std::find(f.begin(), f.end(), "empty_dept:1"), f.end());  // fires again: a new match
}

TEST(Rules, SalienceThenActivationOrder) {
  World w;
  w.emp("ann", "ops", "sql");
  w.dept("ops");
  auto f = w.fire();
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0], "busy_dept:2");  // salience 5 first
  // Then the order the matches appeared in (rule declaration order for one change).
  std::vector<std::string> rest(f.begin() + 1, f.end());
  EXPECT_EQ(rest, (std::vector<std::string>{"headcount:2,=1"}));
}

TEST(Rules, AccumulationsRecomputeOnChange) {
  World w;
  w.dept("ops");
  EXPECT_EQ(w.fire(), (std::vector<std::string>{"empty_dept:1", "headcount:1,=0"}));
  w.emp("ann", "ops", "sql");
  auto f = w.fire();
  EXPECT_NE(std::find(f.begin(), f.end(), "headcount:1,=1"), f.end());
  w.emp("bob", "dev", "sql");  // another unit: the count for ops stays, nothing fires again
  f = w.fire();
  EXPECT_EQ(std::find(f.begin(), f.end(), "headcount:1,=1"), f.end());
}

TEST(Rules, RefractionSurvivesAnUpdateThatKeepsTheMatch) {
  World w;
  auto* x = w.make("Expense", {{"amount", Value::of_int(500)}, {"category", w.str("travel")}});
  EXPECT_EQ(w.fire().size(), 1u);
  w.set(x, "amount", Value::of_int(600));
  w.net->update(x);
  EXPECT_TRUE(w.fire().empty());  // still the same match: fires once
  w.set(x, "amount", Value::of_int(60));
  w.net->update(x);
  EXPECT_TRUE(w.fire().empty());
  EXPECT_EQ(w.net->take_ended(), std::vector<std::string>{"big:1"});
  w.set(x, "amount", Value::of_int(700));
  w.net->update(x);
  EXPECT_EQ(w.fire(), std::vector<std::string>{"big:1"});  // matched again after it stopped matching
}

// A restart restores refraction from the store: a match on the agenda that had fired leaves it, and a
// key restored before its match exists holds once the match appears — until that match ends.
TEST(Rules, RestoredRefractionHoldsForMatchesNowAndLater) {
  World w;
  w.make("Expense", {{"amount", Value::of_int(500)}, {"category", w.str("travel")}});  // 1
  w.net->mark_fired({"big:1", "big:2"});
  EXPECT_EQ(w.net->agenda_size(), 0u);
  auto* later = w.make("Expense", {{"amount", Value::of_int(900)}, {"category", w.str("travel")}});  // 2
  EXPECT_TRUE(w.fire().empty());
  w.set(later, "amount", Value::of_int(5));
  w.net->update(later);
  EXPECT_EQ(w.net->take_ended(), std::vector<std::string>{"big:2"});
  w.set(later, "amount", Value::of_int(800));
  w.net->update(later);
  EXPECT_EQ(w.fire(), std::vector<std::string>{"big:2"});
}

TEST(Rules, AMatchRetractedBeforeFiringLeavesTheAgenda) {
  World w;
  auto* x = w.make("Expense", {{"amount", Value::of_int(500)}, {"category", w.str("travel")}});
  EXPECT_EQ(w.net->agenda_size(), 1u);
  w.net->retract(x->id);
  EXPECT_EQ(w.net->agenda_size(), 0u);
  EXPECT_FALSE(w.net->contains(x->id));
}

TEST(Rules, LogicalSupportEndsWithTheMatch) {
  World w;
  auto* x = w.make("Expense", {{"amount", Value::of_int(500)}, {"category", w.str("travel")}});
  rules::Firing f;
  ASSERT_TRUE(w.net->next(f));
  w.net->support(f.key(), 99);
  EXPECT_TRUE(w.net->take_unsupported().empty());
  w.set(x, "amount", Value::of_int(5));
  w.net->update(x);
  EXPECT_EQ(w.net->take_unsupported(), std::vector<int64_t>{99});
}

TEST(Rules, ExplainNamesTheFailingPattern) {
  World w;
  w.dept("ops");
  auto* e = w.emp("ann", "ops", "sql");
  w.make("Course", {{"skill", w.str("cobol")}, {"title", w.str("old")}});
  w.fire();
  uint32_t rule = 1;  // staff_course
  auto x = w.net->explain(rule, e->id);
  std::string all;
  for (auto& l : x.lines()) all += l + "\n";
  EXPECT_NE(all.find("no full match contains fact #2"), std::string::npos) << all;
  EXPECT_NE(all.find("pattern 1: Emp: the fact passes its own conditions"), std::string::npos) << all;
  // The same answer as data.
  EXPECT_EQ(x.rule, "staff_course");
  EXPECT_EQ(x.fact, e->id);
  EXPECT_TRUE(x.in_memory);
  ASSERT_FALSE(x.patterns.empty());
  EXPECT_EQ(x.patterns[0].number, 1u);
  EXPECT_EQ(x.patterns[0].kind, "fact");
  EXPECT_EQ(x.patterns[0].type, "Emp");
  EXPECT_TRUE(x.patterns[0].of_fact_type);
  EXPECT_EQ(x.patterns[0].verdict, "passes");
  EXPECT_TRUE(x.matches.empty());
  // A fact that is not in working memory, and a rule that does not exist.
  auto gone = w.net->explain(rule, 424242);
  EXPECT_FALSE(gone.in_memory);
  EXPECT_NE(gone.lines().back().find("fact #424242 is not in working memory"), std::string::npos);
  EXPECT_EQ(w.net->explain(9999, e->id).lines(), std::vector<std::string>{"no such rule"});
}

}  // namespace

namespace {

// Working memory's id index: dense ids in an array, the rest in a hash table, an id in exactly one of the
// two; growing the array takes over the table's entries that fall inside it.
TEST(Rules, FactIndexMovesSparseIdsIntoItsArrayAsItGrows) {
  rules::FactIndex<int> idx;
  std::vector<int> values(7000);
  auto at = [&](int64_t id) { return &values[static_cast<size_t>(id < 0 ? -id : id) % values.size()]; };
  for (int64_t id : {int64_t{5000}, int64_t{-3}, int64_t{-1}, int64_t{1} << 40})
    idx.put(id, at(id));  // sparse
  for (int64_t id = 1; id <= 6000; ++id)
    if (id != 5000) idx.put(id, at(id));  // the array grows past 5000
  EXPECT_EQ(idx.size(), 6003u);
  for (int64_t id = 1; id <= 6000; ++id) ASSERT_EQ(idx.find(id), at(id)) << id;
  EXPECT_EQ(idx.find(-3), at(-3));
  EXPECT_EQ(idx.find(int64_t{1} << 40), at(int64_t{1} << 40));
  EXPECT_EQ(idx.find(6001), nullptr);
  EXPECT_EQ(idx.find(-2), nullptr);
  for (int64_t id = 1; id <= 6000; id += 2) idx.erase(id, at(id));
  idx.erase(-3, at(-3));
  idx.erase(777, at(777));  // absent (erased above): nothing happens
  EXPECT_EQ(idx.size(), 3002u);
  size_t seen = 0;
  idx.for_each([&](int*) { ++seen; });
  EXPECT_EQ(seen, 3002u);
  EXPECT_EQ(idx.find(5000), at(5000));
  EXPECT_EQ(idx.find(4999), nullptr);
  EXPECT_EQ(idx.find(-3), nullptr);
  EXPECT_EQ(idx.find(-1), at(-1));
}

// Tokens live in one reserved range and link to each other by 4-byte offsets into it.
TEST(Rules, TokenRegionLinksByOffsetAndReusesBlocksGivenBack) {
  auto* block = static_cast<char*>(rules::region::take(16 << 10));
  ASSERT_NE(block, nullptr);
  EXPECT_GE(rules::region::reserved(), size_t{256} << 20);
  auto* a = reinterpret_cast<int64_t*>(block + 64);
  rules::Ref<int64_t> ra = a, none = nullptr, unset;
  EXPECT_EQ(static_cast<int64_t*>(ra), a);
  EXPECT_EQ(static_cast<int64_t*>(none), nullptr);
  EXPECT_EQ(static_cast<int64_t*>(unset), nullptr);
  EXPECT_EQ(sizeof ra, 4u);
  *ra = 7;
  EXPECT_EQ(*a, 7);
  rules::region::give_back(block, 16 << 10);
  EXPECT_EQ(rules::region::take(16 << 10), block);  // the block given back is the next of its size
  rules::region::give_back(block, 16 << 10);
  auto* huge = static_cast<char*>(rules::region::take(size_t{2} << 20));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(huge) % (size_t{2} << 20), 0u);
  huge[0] = 1;
  rules::region::give_back(huge, size_t{2} << 20);
}

// When the range is used up the pool's caller gets a clear error, not a wild pointer. (In a child process:
// the test takes the whole range.)
TEST(Rules, TokenRegionFullIsAClearError) {
  EXPECT_EXIT(
      {
        try {
          for (;;) rules::region::take(size_t{4} << 20);
        } catch (const rules::RegionFull& e) {
          std::fprintf(stderr, "%s\n", e.what());
          std::_Exit(0);
        }
      },
      ::testing::ExitedWithCode(0), "working memory is full: [0-9]+ MiB of matches and facts");
}

// A one-field join key is hashed and compared from the value's word (no bytes written out); it must land
// on the bucket its encoded bytes make, whichever way the bucket was made (a key function's result or a
// field), and only there.
TEST(Rules, WordKeysHashAndCompareAsTheirEncodedBytes) {
  ir::Record rec{};
  std::vector<ir::Value> values = {ir::Value::of_int(0),      ir::Value::of_int(-1),
                                   ir::Value::of_int(1),      ir::Value::of_int(int64_t{1} << 62),
                                   ir::Value::of_bool(true),  ir::Value::of_enum(3, 1),
                                   ir::Value::of_record(&rec)};
  rec.id = 42;
  for (const ir::Value& v : values) {
    uint64_t w = 0;
    ASSERT_TRUE(rules::word_of(v, w));
    std::string bytes;
    ASSERT_TRUE(rules::encode(v, bytes));
    ASSERT_EQ(bytes.size(), 9u);
    EXPECT_EQ(rules::word_key_hash(v.tag, w), rules::key_hash(bytes));
    EXPECT_TRUE(rules::same_word_key(bytes, v.tag, w));
    EXPECT_FALSE(rules::same_word_key(bytes, v.tag, w + 1));
    EXPECT_FALSE(rules::same_word_key(bytes, static_cast<uint8_t>(v.tag + 1), w));
    EXPECT_FALSE(rules::same_word_key(bytes.substr(0, 8), v.tag, w));
  }
  uint64_t w = 0;
  ir::String* s = nullptr;
  EXPECT_FALSE(rules::word_of(ir::Value::of_string(s), w));  // strings keep their bytes
  EXPECT_FALSE(rules::word_of(ir::Value::none(), w));
}

}  // namespace
