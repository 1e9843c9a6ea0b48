// Who may read what, at the engine: a task is read by who may act on it, who took part in it, who started
// its work and who is granted `read` on its subject; a `forbid read` policy hides it; instances follow their
// tasks and starter; KPIs are for members. A refused read of one task is audited and looks like no task; the
// lists hide without auditing; reads leave nothing in the trace a replay must reproduce.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/workflow/engine.h"
#include "tests/temp_dir.h"

using namespace orgos;
using workflow::json;
namespace fs = std::filesystem;

namespace {

// cat and cid pack orders (and may start refunds), bob decides refunds, aud may read any order; zed holds no
// position.
const char* kOrg = R"org(
role Clerk { may post  may start Refund }
role Boss {}
role Auditor { may read Order }
record Order { ref: String, secret: Bool }
event order.placed { order: Order }
event refund.asked { ref: String }
policy hide_secret: forbid read Order when resource.secret
org Shop {
  units { department Sales }
  position b: Boss in Sales held by "bob"
  position c1: Clerk in Sales held by "cat"
  position c2: Clerk in Sales held by "cid"
  position a: Auditor in Sales held by "aud"
}
process Fulfil(o: Order) { task pack by Clerk outcomes packed, lost }
rule on_order when order.placed e then start Fulfil(e.order)
process Refund(ref: String) { approval by Boss }
rule on_refund when refund.asked e then start Refund(e.ref)
metric orders = count(e in order.placed)
)org";

struct Shop {
  // First, so it goes last: with the store's files, also when the engine's constructor throws.
  orgos_test::TempDir dir{std::string("orgos-reads-") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name()};
  fs::path path;
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> e;
  std::vector<std::string> trace;

  explicit Shop(const std::string& org = kOrg) {
    path = dir / "shop.db";
    c = driver::check_text("shop.org", org);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = "test";
    b.files = {"shop.org"};
    store = std::make_unique<store::Store>(path.string());
    e = std::make_unique<workflow::Engine>(b, *store, options());
  }
  ~Shop() {
    e.reset();
    store.reset();
  }
  void reopen() {
    e.reset();
    store.reset();
    store = std::make_unique<store::Store>(path.string());
    e = std::make_unique<workflow::Engine>(b, *store, options());
  }
  workflow::EngineOptions options() {
    workflow::EngineOptions eo;
    eo.start_time = 1767225600;
    eo.exec = workflow::ExecEngine::Interp;
    eo.trace = [this](const std::string& l) { trace.push_back(l); };
    return eo;
  }
  int64_t order(const std::string& by, const std::string& ref, bool secret = false) {
    auto o = e->post_event("order.placed", {{"order", {{"ref", ref}, {"secret", secret}}}}, by, "o-" + ref);
    EXPECT_TRUE(o.ok) << o.error;
    return newest_task();
  }
  int64_t refund(const std::string& by, const std::string& ref) {
    auto o = e->post_event("refund.asked", {{"ref", ref}}, by, "r-" + ref);
    EXPECT_TRUE(o.ok) << o.error;
    return newest_task();
  }
  int64_t newest_task() {
    int64_t id = 0;
    for (auto& t : e->tasks()) id = std::max(id, t.id);
    return id;
  }
  std::vector<int64_t> task_ids(const std::string& who, bool open_only = true) {
    std::vector<int64_t> ids;
    for (auto& t : e->tasks_for(who, open_only)) ids.push_back(t.id);
    return ids;
  }
  std::vector<std::string> processes(const std::string& who) {
    std::vector<std::string> out;
    for (auto& i : e->instances_for(who)) out.push_back(i.process);
    return out;
  }
  size_t refused_reads(const std::string& who) {
    size_t n = 0;
    for (auto& a : store->audit_entries())
      n += a.actor == who && a.action == "read" && a.decision == "refused";
    return n;
  }
};

using Ids = std::vector<int64_t>;
using Names = std::vector<std::string>;

}  // namespace

TEST(ReadAuth, ATaskIsReadByWhoMayActOnItAndWhoIsGrantedRead) {
  Shop s;
  int64_t t = s.order("cat", "a");
  EXPECT_EQ(s.task_ids("cat"), Ids{t});  // holds Clerk (and posted the order)
  EXPECT_EQ(s.task_ids("cid"), Ids{t});  // holds Clerk
  EXPECT_EQ(s.task_ids("aud"), Ids{t});  // Auditor: may read Order
  EXPECT_EQ(s.task_ids("system"), Ids{t});
  EXPECT_EQ(s.task_ids("bob"), Ids{});  // Boss: nothing to do with orders
  EXPECT_EQ(s.task_ids("zed"), Ids{});  // no position at all
  EXPECT_TRUE(s.e->may_read_task("cid", t));
  EXPECT_FALSE(s.e->may_read_task("bob", t));
  // Done, it stays readable by the same people (and by who completed it).
  ASSERT_TRUE(s.e->complete_task(t, "cid", "packed", json::object(), "k").ok);
  EXPECT_EQ(s.task_ids("cid", false), Ids{t});
  EXPECT_EQ(s.task_ids("bob", false), Ids{});
}

TEST(ReadAuth, AnApprovalIsReadByItsDecidersAndByWhoseRequestStartedIt) {
  Shop s;
  int64_t t = s.refund("cid", "r");
  EXPECT_EQ(s.task_ids("bob"), Ids{t});  // holds Boss
  EXPECT_EQ(s.task_ids("cid"), Ids{t});  // asked for the refund: follows its request
  EXPECT_EQ(s.task_ids("cat"), Ids{});   // a clerk with nothing to do with it
  // The starter of the refund is not who merely runs the clock or the system.
  int64_t other = s.refund("system", "s");
  EXPECT_FALSE(s.e->may_read_task("cid", other));
  EXPECT_TRUE(s.e->may_read_task("bob", other));
}

TEST(ReadAuth, AForbidReadPolicyHidesATaskFromEveryoneButSystem) {
  Shop s;
  int64_t open = s.order("cat", "a");
  int64_t secret = s.order("system", "s", true);
  EXPECT_EQ(s.task_ids("cid"), Ids{open});
  EXPECT_EQ(s.task_ids("aud"), Ids{open});
  EXPECT_EQ(s.task_ids("system"), (Ids{open, secret}));
  EXPECT_FALSE(s.e->may_read_instance("cid", s.e->task(secret)->instance));
}

TEST(ReadAuth, InstancesFollowTheirTasksAndWhoStartedThem) {
  Shop s;
  s.order("cat", "a");
  ASSERT_TRUE(s.e->post_event("refund.asked", {{"ref", "r"}}, "cid", "ask").ok);
  EXPECT_EQ(s.processes("cat"), Names{"Fulfil"});
  EXPECT_EQ(s.processes("cid"), (Names{"Fulfil", "Refund"}));
  EXPECT_EQ(s.processes("bob"), Names{"Refund"});
  EXPECT_EQ(s.processes("aud"), Names{"Fulfil"});
  EXPECT_EQ(s.processes("zed"), Names{});
  EXPECT_EQ(s.processes("system").size(), 2u);
  // Started directly, with no task of the starter's: readable by its starter.
  ASSERT_TRUE(s.e->start("Refund", {{"ref", "x"}}, "cat", "start-x").ok);
  EXPECT_EQ(s.processes("cat"), (Names{"Fulfil", "Refund"}));
}

TEST(ReadAuth, KpisAreReadByMembersOfTheOrganization) {
  Shop s;
  s.order("cat", "a");
  auto names = [&](const std::string& who) {
    Names n;
    for (auto& k : s.e->kpis_for(who)) n.push_back(k.name);
    return n;
  };
  EXPECT_EQ(names("bob"), Names{"orders"});
  EXPECT_EQ(names("system"), Names{"orders"});
  EXPECT_EQ(names("zed"), Names{});
  EXPECT_FALSE(s.e->may_read_kpi("zed", "orders"));
}

TEST(ReadAuth, ARefusedReadOfATaskLooksLikeNoTaskAndIsAudited) {
  Shop s;
  int64_t t = s.order("cat", "a");
  EXPECT_FALSE(s.e->task_for("bob", t).has_value());
  EXPECT_FALSE(s.e->task_for("bob", 999999).has_value());
  EXPECT_EQ(s.refused_reads("bob"), 1u);  // the existing task's refusal, not the missing one
  auto entries = s.store->audit_entries();
  auto it = std::find_if(entries.begin(), entries.end(), [](auto& a) { return a.action == "read"; });
  ASSERT_NE(it, entries.end());
  EXPECT_EQ(it->resource, "task pack #" + std::to_string(t));
  EXPECT_EQ(it->reason, "no role or policy permits it");
  EXPECT_TRUE(s.e->task_for("cid", t).has_value());
  // Lists hide without writing anything.
  s.e->tasks_for("bob", false);
  s.e->instances_for("zed");
  s.e->kpis_for("zed");
  EXPECT_EQ(s.refused_reads("bob"), 1u);
  EXPECT_EQ(s.refused_reads("zed"), 0u);
  std::string problem;
  EXPECT_FALSE(s.store->verify_audit(problem).has_value()) << problem;
}

TEST(ReadAuth, ReadsLeaveNothingInTheTraceAReplayReproduces) {
  Shop s;
  int64_t t = s.order("cat", "a");
  s.e->tasks_for("bob");
  s.e->task_for("bob", t);
  s.e->instances_for("zed");
  ASSERT_TRUE(s.e->complete_task(t, "cid", "packed", json::object(), "k").ok);
  s.e->tasks_for("aud", false);
  auto live = s.trace;
  auto eo = s.options();
  eo.trace = nullptr;
  EXPECT_EQ(workflow::Engine::replay(s.b, *s.store, eo), live);
}

// What decides a read is in the store (task rows, who started what): a restart reads the same.
TEST(ReadAuth, AfterARestartTheSameActorsReadTheSame) {
  Shop s;
  int64_t t = s.order("cat", "a");
  ASSERT_TRUE(s.e->start("Refund", {{"ref", "x"}}, "cat", "start-x").ok);
  auto tasks = s.task_ids("cat");
  auto procs = s.processes("cat");
  EXPECT_EQ(procs, (Names{"Fulfil", "Refund"}));
  s.reopen();
  EXPECT_EQ(s.task_ids("cat"), tasks);
  EXPECT_EQ(s.processes("cat"), procs);
  EXPECT_EQ(s.processes("cid"), Names{"Fulfil"});
  EXPECT_TRUE(s.e->may_read_instance("cid", s.e->task(t)->instance));
}

// Policies add readers as grants do: `permit read` on the subject, or `permit complete` (who may act on a
// task reads it); the KPI by name.
TEST(ReadAuth, PermitPoliciesAddReaders) {
  Shop s(std::string(kOrg) +
         "policy public_orders: permit read Order when resource.ref == \"public\"\n"
         "policy assist: permit complete Order when actor.id == \"hal\"\n"
         "policy board: permit read orders when actor.id == \"zed\"\n");
  int64_t pub = s.order("cat", "public");
  int64_t other = s.order("cat", "other");
  EXPECT_EQ(s.task_ids("zed"), Ids{pub});
  EXPECT_EQ(s.task_ids("hal"), (Ids{pub, other}));
  EXPECT_EQ(s.task_ids("bob"), Ids{pub});
  EXPECT_TRUE(s.e->may_read_kpi("zed", "orders"));
  EXPECT_FALSE(s.e->may_read_kpi("hal", "orders"));
}

// A task's managers: who holds the role it escalates to (in the escalation's unit or a unit above it) reads
// it — and so its instance — from the moment it opens, not only once it escalated; holders of that role
// elsewhere, of another unit-scoped role there, or of another task's escalation role do not.
TEST(ReadAuth, TheRoleATaskEscalatesToReadsIt) {
  Shop s(R"org(
role Clerk { may post }
role Lead { scope unit }
role Other { scope unit }
role Head {}
record Claim { ref: String, unit: Unit }
event claim.filed { claim: Claim }
org Co {
  units { division Ops { team Front team Back } }
  position f: Clerk in Front held by "fay"
  position lo: Lead in Ops held by "oli"
  position lf: Lead in Front held by "fred"
  position lb: Lead in Back held by "ben"
  position x: Other in Front held by "xen"
  position h: Head held by "hal"
}
process Review(c: Claim) {
  task vet by Clerk within 1d escalate to Lead of c.unit outcomes ok
  approval sign by Clerk within 1d escalate to Head
}
rule route when claim.filed e then start Review(e.claim)
)org");
  ASSERT_TRUE(
      s.e->post_event("claim.filed", {{"claim", {{"ref", "c1"}, {"unit", "Front"}}}}, "system", "c1").ok);
  int64_t check = s.newest_task();
  int64_t inst = s.e->task(check)->instance;
  EXPECT_EQ(s.task_ids("fay"), Ids{check});   // holds its role
  EXPECT_EQ(s.task_ids("fred"), Ids{check});  // Lead of Front: the escalation target
  EXPECT_EQ(s.task_ids("oli"), Ids{check});   // Lead of Ops, above Front
  EXPECT_EQ(s.task_ids("ben"), Ids{});        // Lead of Back: another unit
  EXPECT_EQ(s.task_ids("xen"), Ids{});        // another role of Front
  EXPECT_EQ(s.task_ids("hal"), Ids{});        // the next step's escalation target, not this one's
  EXPECT_TRUE(s.e->may_read_instance("fred", inst));
  EXPECT_FALSE(s.e->may_read_instance("ben", inst));
  EXPECT_TRUE(s.e->may_read_line("oli", workflow::AboutInstance{inst}));
  EXPECT_FALSE(s.e->may_read_line("ben", workflow::AboutInstance{inst}));
  // Reading does not let them act: only the escalation does.
  EXPECT_FALSE(s.e->complete_task(check, "fred", "ok", json::object(), "fred-early").ok);

  ASSERT_TRUE(s.e->complete_task(check, "fay", "ok", json::object(), "fay-check").ok);
  int64_t sign = s.newest_task();
  ASSERT_NE(sign, check);
  EXPECT_EQ(s.task_ids("hal"), Ids{sign});  // Head: the approval's escalation target
  EXPECT_EQ(s.task_ids("fred"), Ids{});     // not the approval's
  EXPECT_EQ(s.task_ids("fred", false), Ids{check});
}

// A grant or policy names an event by its whole dotted name: `may post order.placed` let no one post it
// (the name was cut to its last part, `placed`, which names no event), nor did `forbid read order.placed`
// hide anything.
TEST(ReadAuth, GrantsAndPoliciesNameAnEventByItsWholeName) {
  Shop s(R"org(
role Poster { may post order.placed }
role Reader { may read order.placed }
event order.placed { ref: String }
event order.dropped { ref: String }
policy hush: forbid read order.dropped
org Shop {
  position p: Poster held by "pia"
  position r: Reader held by "rex"
}
)org");
  EXPECT_TRUE(s.e->post_event("order.placed", {{"ref", "a"}}, "pia", "pia-1").ok);
  EXPECT_FALSE(s.e->post_event("order.dropped", {{"ref", "a"}}, "pia", "pia-2").ok);
  EXPECT_TRUE(s.e->may_read_line("rex", workflow::AboutEvent{"order.placed", "pia", 0}));
  EXPECT_FALSE(s.e->may_read_line("pia", workflow::AboutEvent{"order.dropped", "pia", 0}));
  EXPECT_TRUE(s.e->may_read_line("pia", workflow::AboutEvent{"order.placed", "pia", 0}));
}
