// A record's defaults, checks and lifecycle hold on every path that makes or changes one: a process's
// `create` and `update`, and a rule's `insert`, `derive` and `modify` (one set of record effects in the
// engine). Before: a rule's `insert` skipped defaults, checks and the initial state; a rule's `modify` that
// broke a check was kept, in memory and in the store; a process's `update` that broke one failed the process
// but left the change in memory (so what a later step saw depended on whether the engine had restarted).
#include <gtest/gtest.h>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/workflow/engine.h"
#include "tests/temp_dir.h"

using namespace orgos;
using workflow::json;

namespace {

const char* kOrg = R"org(
role Ops {}
org O { units { department D } position o: Ops in D held by "op" }
record Account {
  name: String
  balance: Int = 100
  check balance >= 0 : "a balance is never negative"
}
lifecycle AccountLife for Account {
  initial open
  final closed
  transition close: open -> closed
}
event account.wanted { name: String }
event account.charged { name: String, amount: Int }
rule open_account when account.wanted e then insert Account { name: e.name }
rule charge when { account.charged e  Account a where a.name == e.name }
  then modify a { balance: a.balance - e.amount }
process Overdraw(a: Account) {
  update a { balance: a.balance - 500 }
  on failure { notify "op" "refused" }
}
metric total = sum(a.balance for a in Account)
metric opened = count(a in Account where a.state == "open")
)org";

struct Org {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  std::unique_ptr<store::Store> s;
  std::unique_ptr<workflow::Engine> e;
  std::vector<std::string> trace;
  std::string path;
  explicit Org(const std::string& db) : path(db) {
    c = driver::check_text("o.org", kOrg);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = "t";
    open();
  }
  void open() {
    e.reset();
    s.reset();
    s = std::make_unique<store::Store>(path);
    workflow::EngineOptions o;
    o.start_time = 1767225600;
    o.trace = [this](const std::string& l) { trace.push_back(l); };
    e = std::make_unique<workflow::Engine>(b, *s, o);
  }
  std::string metric(const std::string& name) {
    for (auto& [n, v] : e->metrics())
      if (n == name) return v;
    return "?";
  }
  std::string text() const {
    std::string t;
    for (auto& l : trace) t += l + "\n";
    return t;
  }
};

}  // namespace

TEST(RecordEffects, ARulesInsertFillsDefaultsAndEntersTheInitialState) {
  orgos_test::TempDir dir;
  Org o((dir / "s.db").string());
  ASSERT_TRUE(o.e->post_event("account.wanted", {{"name", "ann"}}, "system", "w1").ok) << o.text();
  EXPECT_EQ(o.metric("total"), "100") << o.text();  // the default balance
  EXPECT_EQ(o.metric("opened"), "1") << o.text();   // the lifecycle's initial state
}

TEST(RecordEffects, ARulesModifyThatBreaksACheckChangesNothing) {
  orgos_test::TempDir dir;
  Org o((dir / "s.db").string());
  ASSERT_TRUE(o.e->post_event("account.wanted", {{"name", "ann"}}, "system", "w1").ok);
  ASSERT_TRUE(o.e->post_event("account.charged", {{"name", "ann"}, {"amount", 30}}, "system", "c1").ok);
  EXPECT_EQ(o.metric("total"), "70");
  o.e->post_event("account.charged", {{"name", "ann"}, {"amount", 500}}, "system", "c2");
  EXPECT_NE(o.text().find("a balance is never negative"), std::string::npos) << o.text();
  EXPECT_EQ(o.metric("total"), "70") << "memory";
  o.open();  // what the store holds
  EXPECT_EQ(o.metric("total"), "70") << "store";
}

TEST(RecordEffects, AnUpdateThatBreaksACheckFailsTheProcessAndChangesNothing) {
  orgos_test::TempDir dir;
  Org o((dir / "s.db").string());
  ASSERT_TRUE(o.e->post_event("account.wanted", {{"name", "ann"}}, "system", "w1").ok);
  ASSERT_TRUE(o.e->start("Overdraw", {{"a", {{"$ref", {{"name", "ann"}}}}}}, "system", "k1").ok) << o.text();
  EXPECT_NE(o.text().find("refused"), std::string::npos) << o.text();
  EXPECT_EQ(o.metric("total"), "100") << "memory kept the refused change\n" << o.text();
  o.open();
  EXPECT_EQ(o.metric("total"), "100");
}
