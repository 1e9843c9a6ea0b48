// The workflow engine end to end on real SQLite: a rule starts a process, people complete tasks and
// decide approvals under roles and policies, timers fire, and the same inputs always give the same
// trace — uninterrupted, after reopening the store, and when replayed from the log.
#include "runtime/workflow/engine.h"
#include "runtime/workflow/value_codec.h"

#include <gtest/gtest.h>

#include <elf.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>

#include "compiler/codegen/jit.h"
#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "tests/temp_dir.h"

using namespace orgos;
using workflow::json;

namespace {

const char* kOrg = R"org(
role Employee {}
role Manager extends Employee { scope unit }
role CFO extends Employee {}
record Expense {
  amount: Money<USD>
  unit: Unit
  submitter: Actor
  purpose: String
  check amount > 0 USD
}
event expense.submitted { expense: Expense }
event expense.approved { expense: Expense }
event receipt.arrived { note: String }
policy no_self_approval: forbid approve Expense when actor == resource.submitter
org Acme {
  units { department Engineering  department Finance }
  position eng: Manager in Engineering held by "dan"
  position cfo: CFO in Finance held by "carol"
  position fin: Manager in Finance held by "erin"
}
process ApproveExpense(x: Expense) {
  approval manager by Manager of x.unit within 2d escalate to CFO
  if x.amount > 1000 USD {
    approval by CFO within 3d
  }
  parallel {
    task book by Manager of x.unit outcomes booked, queried
    wait for receipt.arrived as r within 5d on timeout { notify x.submitter "no receipt" }
  }
  emit expense.approved { expense: x }
  notify x.submitter "approved: " + x.purpose
  on failure { notify x.submitter "rejected: " + x.purpose }
}
rule route when expense.submitted e then start ApproveExpense(e.expense)
metric approved_count = count(e in expense.approved)
)org";

struct Fixture {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  Fixture() {
    c = driver::check_text("acme.org", kOrg);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = "test";
    b.files = {"acme.org"};
  }
};

json expense(const char* amount, const char* unit, const char* who) {
  return {{"expense", {{"amount", amount}, {"unit", unit}, {"submitter", who}, {"purpose", "taxi"}}}};
}

int64_t open_task(workflow::Engine& e, const std::string& name) {
  for (auto& t : e.tasks())
    if (t.name == name) return t.id;
  return 0;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (auto& l : lines) s += l + "\n";
  return s;
}

// Plays the same inputs against an engine; the trace is returned.
void play(workflow::Engine& e) {
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("1500 USD", "Engineering", "alice"), "system", "evt-1").ok);
  int64_t mgr = open_task(e, "manager");
  ASSERT_NE(mgr, 0);
  ASSERT_TRUE(e.decide(mgr, "dan", true, "cmd-1").ok);
  int64_t cfo = open_task(e, "approval by CFO");
  ASSERT_NE(cfo, 0);
  ASSERT_TRUE(e.decide(cfo, "carol", true, "cmd-2").ok);
  int64_t book = open_task(e, "book");
  ASSERT_TRUE(e.complete_task(book, "dan", "booked", json::object(), "cmd-3").ok);
  ASSERT_TRUE(e.advance_to(e.now() + 6 * 86400, "tick-1").ok);  // the receipt never comes
}

}  // namespace

TEST(Engine, ApprovalFlowWithRolesPoliciesTimersAndParallel) {
  Fixture f;
  std::vector<std::string> trace;
  store::Store s(":memory:");
  workflow::Engine e(f.b, s, {1767225600, 10000, 1000000, [&](const std::string& l) { trace.push_back(l); }});
  play(e);
  std::string t = joined(trace);
  auto insts = e.instances();
  ASSERT_EQ(insts.size(), 1u);
  EXPECT_EQ(insts[0].status, "completed") << t;
  EXPECT_NE(t.find("rule route fires"), std::string::npos) << t;
  EXPECT_NE(t.find("notify alice: no receipt"), std::string::npos) << t;
  EXPECT_NE(t.find("notify alice: approved: taxi"), std::string::npos) << t;
  auto metrics = e.metrics();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].second, "1");
}

TEST(Engine, RefusalsChangeNothingButAreAudited) {
  Fixture f;
  store::Store s(":memory:");
  workflow::Engine e(f.b, s, {1767225600, 10000, 1000000, nullptr});
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("50 USD", "Engineering", "dan"), "system", "evt-1").ok);
  int64_t mgr = open_task(e, "manager");
  // erin is a manager, but of Finance, not Engineering.
  auto wrong_unit = e.decide(mgr, "erin", true, "cmd-1");
  EXPECT_FALSE(wrong_unit.ok);
  EXPECT_NE(wrong_unit.error.find("may not decide"), std::string::npos) << wrong_unit.error;
  // dan is the Engineering manager but submitted the expense himself: the policy forbids it.
  auto self = e.decide(mgr, "dan", true, "cmd-2");
  EXPECT_FALSE(self.ok);
  EXPECT_NE(self.error.find("no_self_approval"), std::string::npos) << self.error;
  EXPECT_EQ(open_task(e, "manager"), mgr);  // still open
  std::string why;
  EXPECT_FALSE(s.verify_audit(why)) << why;
  auto audit = s.audit_entries();
  std::erase_if(audit, [](auto& a) { return a.kind != store::AuditKind::Access; });  // the decisions
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].decision, "refused");
  EXPECT_EQ(audit[1].decision, "refused");
  // Unknown outcome, unknown task, an approval completed as a task: clear errors.
  EXPECT_FALSE(e.complete_task(999, "dan", "", json::object(), "cmd-3").ok);
  EXPECT_FALSE(e.complete_task(mgr, "dan", "", json::object(), "cmd-4").ok);
  // Bad event payloads never reach the log.
  auto bad = e.post_event("expense.submitted", expense("12 EUR", "Engineering", "dan"), "system", "evt-2");
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("USD"), std::string::npos) << bad.error;
  EXPECT_FALSE(e.post_event("no.such.event", json::object(), "system", "evt-3").ok);
}

TEST(Engine, RejectionRunsTheFailureHandler) {
  Fixture f;
  std::vector<std::string> trace;
  store::Store s(":memory:");
  workflow::Engine e(f.b, s, {1767225600, 10000, 1000000, [&](const std::string& l) { trace.push_back(l); }});
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("50 USD", "Engineering", "alice"), "system", "evt-1").ok);
  ASSERT_TRUE(e.decide(open_task(e, "manager"), "dan", false, "cmd-1").ok);
  EXPECT_EQ(e.instances()[0].status, "failed");
  EXPECT_NE(joined(trace).find("notify alice: rejected: taxi"), std::string::npos) << joined(trace);
}

TEST(Engine, MissedDeadlineEscalates) {
  Fixture f;
  std::vector<std::string> trace;
  store::Store s(":memory:");
  workflow::Engine e(f.b, s, {1767225600, 10000, 1000000, [&](const std::string& l) { trace.push_back(l); }});
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("50 USD", "Engineering", "alice"), "system", "evt-1").ok);
  int64_t mgr = open_task(e, "manager");
  ASSERT_TRUE(e.advance_to(e.now() + 3 * 86400, "tick-1").ok);
  auto tasks = e.tasks();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].role, "CFO");
  EXPECT_TRUE(e.decide(mgr, "carol", true, "cmd-1").ok) << joined(trace);
}

TEST(Engine, InputsAreAppliedExactlyOnce) {
  Fixture f;
  store::Store s(":memory:");
  workflow::Engine e(f.b, s, {1767225600, 10000, 1000000, nullptr});
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("50 USD", "Engineering", "alice"), "system", "evt-1").ok);
  auto again =
      e.post_event("expense.submitted", expense("50 USD", "Engineering", "alice"), "system", "evt-1");
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(e.instances().size(), 1u);
}

TEST(Engine, ReopenedStoreContinuesAndReplayReproducesTheTrace) {
  Fixture f;
  orgos_test::TempDir dir("orgos-engine");  // removed with the store's files, also after a failed ASSERT
  std::string path = (dir / "engine.db").string();
  std::vector<std::string> uninterrupted;
  {
    store::Store s(":memory:");
    workflow::Engine e(
        f.b, s, {1767225600, 10000, 1000000, [&](const std::string& l) { uninterrupted.push_back(l); }});
    play(e);
  }
  std::vector<std::string> interrupted;
  auto opts = workflow::EngineOptions{1767225600, 10000, 1000000,
                                      [&](const std::string& l) { interrupted.push_back(l); }};
  {
    store::Store s(path);
    workflow::Engine e(f.b, s, opts);
    ASSERT_TRUE(
        e.post_event("expense.submitted", expense("1500 USD", "Engineering", "alice"), "system", "evt-1").ok);
    ASSERT_TRUE(e.decide(open_task(e, "manager"), "dan", true, "cmd-1").ok);
  }  // the engine goes away; only the file remains
  {
    store::Store s(path);
    workflow::Engine e(f.b, s, opts);
    ASSERT_TRUE(e.decide(open_task(e, "approval by CFO"), "carol", true, "cmd-2").ok);
    ASSERT_TRUE(e.complete_task(open_task(e, "book"), "dan", "booked", json::object(), "cmd-3").ok);
    ASSERT_TRUE(e.advance_to(e.now() + 6 * 86400, "tick-1").ok);
    EXPECT_EQ(e.instances()[0].status, "completed");
  }
  EXPECT_EQ(joined(interrupted), joined(uninterrupted));
  store::Store log(path);
  auto replayed = workflow::Engine::replay(f.b, log, {1767225600, 10000, 1000000, nullptr});
  EXPECT_EQ(joined(replayed), joined(uninterrupted));
}

TEST(Engine, RoleGrantsPermitCommandsAndDenyIsTheDefault) {
  auto c = driver::check_text("g.org",
                              "role Clerk { may start Intake }\n"
                              "role Intern {}\n"
                              "org O { units { department Ops } position c: Clerk in Ops held by \"cleo\"\n"
                              "        position i: Intern in Ops held by \"ivan\" }\n"
                              "process Intake(note: String) { wait 1d }\n");
  ASSERT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  auto lw = ir::lower(*c);
  bundle::Bundle b;
  b.module = std::move(lw.module);
  b.program = std::move(lw.program);
  store::Store s(":memory:");
  workflow::Engine e(b, s, {0, 10000, 1000000, nullptr});
  auto ok = e.start("Intake", {{"note", "hello"}}, "cleo", "k1");
  EXPECT_TRUE(ok.ok) << ok.error;
  auto no = e.start("Intake", {{"note", "hello"}}, "ivan", "k2");
  EXPECT_FALSE(no.ok);
  EXPECT_NE(no.error.find("no role or policy permits it"), std::string::npos) << no.error;
  EXPECT_EQ(e.instances().size(), 1u);
  auto audit = s.audit_entries();
  std::erase_if(audit, [](auto& a) { return a.kind != store::AuditKind::Access; });  // the decisions
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].reason, "role Clerk may start Intake");
}

namespace {
struct Sim {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  store::Store s{":memory:"};
  std::vector<std::string> trace;
  std::unique_ptr<workflow::Engine> e;
  explicit Sim(const std::string& src) {
    c = driver::check_text("p.org", src);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    e = std::make_unique<workflow::Engine>(
        b, s,
        workflow::EngineOptions{0, 10000, 1000000, [this](const std::string& l) { trace.push_back(l); }});
  }
  std::string text() const { return joined(trace); }
  std::string status(const std::string& process) {
    for (auto& i : e->instances())
      if (i.process == process) return i.status;
    return "none";
  }
};
const char* kOps = "role Ops {}\norg O { units { department D } position o: Ops in D held by \"op\" }\n";
}  // namespace

TEST(EngineSemantics, SubProcessResultAndLoopsWithBounds) {
  Sim r(std::string(kOps) +
        "process Child(n: Int) { wait 1h }\n"
        "process Parent(xs: List<Int>) {\n"
        "  for each x in xs max 3 { run Child(x) as c  notify \"op\" \"child done\" }\n"
        "  complete\n"
        "}\n"
        "process TooMany(xs: List<Int>) { for each x in xs max 2 { notify \"op\" \"x\" } }\n");
  ASSERT_TRUE(r.e->start("Parent", {{"xs", {1, 2, 3}}}, "system", "k1").ok);
  ASSERT_TRUE(r.e->advance_to(10 * 3600, "t1").ok);
  EXPECT_EQ(r.status("Parent"), "completed") << r.text();
  size_t children = 0;
  for (auto& i : r.e->instances()) children += i.process == "Child" && i.status == "completed";
  EXPECT_EQ(children, 3u);
  ASSERT_TRUE(r.e->start("TooMany", {{"xs", {1, 2, 3}}}, "system", "k2").ok);
  EXPECT_EQ(r.status("TooMany"), "failed");
  EXPECT_NE(r.text().find("exceeds its bound of 2"), std::string::npos) << r.text();
}

// The engine writes its instance and task rows' JSON columns as text directly (json_text.h); the text must be
// what a json document would dump — the same bytes as before, so stores compare equal across builds — with a
// loop in flight (its index object), a fork, compensations and an approval's decisions.
TEST(EngineSemantics, RowsAreWrittenAsTheirDocumentsWouldDump) {
  Sim r(std::string(kOps) +
        "process Forks() {\n"
        "  approval first by Ops compensate { notify \"op\" \"undo\" }\n"
        "  parallel { task t by Ops  approval a by Ops }\n"
        "}\n"
        "process Loop(xs: List<Int>) { for each x in xs max 20 { task l by Ops } }\n");
  ASSERT_FALSE(r.c->diags.has_errors()) << diag::render_all_text(r.c->sources, r.c->diags);
  json xs = json::array();
  for (int i = 0; i < 12; ++i) xs.push_back(i);  // loop heads past 9: keys "10" < "2" in the document
  ASSERT_TRUE(r.e->start("Loop", {{"xs", xs}}, "system", "k1").ok) << r.text();
  ASSERT_TRUE(r.e->start("Forks", json::object(), "system", "k2").ok) << r.text();
  for (int round = 0; round < 2; ++round)  // the first approval, then the one in the loop's first pass
    for (auto& t : r.e->tasks()) {
      if (t.approval) {
        ASSERT_TRUE(r.e->decide(t.id, "op", true, "d" + std::to_string(t.id)).ok) << r.text();
      }
    }
  int rows = 0;
  auto canonical = [&](const std::string& text) {
    ++rows;
    EXPECT_EQ(json::parse(text).dump(), text);
  };
  r.s.for_each_instance([&](const store::InstanceRow& row) {
    for (const std::string* t : {&row.tokens, &row.forks, &row.compensations}) canonical(*t);
  });
  r.s.for_each_task([&](const store::TaskRow& row) {
    canonical(row.outcomes);
    canonical(row.decisions);
  });
  EXPECT_GT(rows, 6);
  bool loop_in_flight = false, fork = false, compensation = false, decision = false;
  r.s.for_each_instance([&](const store::InstanceRow& row) {
    loop_in_flight = loop_in_flight || row.tokens.find('{') != std::string::npos;
    fork = fork || row.forks != "[]";
    compensation = compensation || row.compensations != "[]";
  });
  r.s.for_each_task([&](const store::TaskRow& row) { decision = decision || row.decisions != "{}"; });
  EXPECT_TRUE(loop_in_flight && fork && compensation && decision)
      << "the rows do not have what they test: loop " << loop_in_flight << " fork " << fork
      << " compensation " << compensation << " decision " << decision << "\n"
      << r.text();
}

TEST(EngineSemantics, CompensationRunsInReverseThenOnFailure) {
  Sim r(std::string(kOps) +
        "connector bank { op pay(amount: Int) op refund(amount: Int) }\n"
        "process Pay() {\n"
        "  call bank.pay(amount: 1) compensate { notify \"op\" \"undo 1\" }\n"
        "  call bank.pay(amount: 2) compensate { notify \"op\" \"undo 2\" }\n"
        "  fail \"card declined\"\n"
        "  on failure { notify \"op\" \"failed: \" + error }\n"
        "}\n");
  ASSERT_TRUE(r.e->start("Pay", json::object(), "system", "k1").ok);
  std::string t = r.text();
  EXPECT_EQ(r.status("Pay"), "failed");
  auto u2 = t.find("undo 2"), u1 = t.find("undo 1"), f = t.find("failed: card declined");
  ASSERT_NE(u2, std::string::npos) << t;
  ASSERT_NE(u1, std::string::npos) << t;
  ASSERT_NE(f, std::string::npos) << t;
  EXPECT_LT(u2, u1);
  EXPECT_LT(u1, f);
}

TEST(EngineSemantics, ProcessTimeoutRunsItsHandler) {
  Sim r(std::string(kOps) +
        // The process's `on timeout` comes before the task: written after it, it would be the task's own.
        "process Slow() { timeout 2d  on timeout { notify \"op\" \"too slow\" }  task work by Ops }\n");
  ASSERT_TRUE(r.e->start("Slow", json::object(), "system", "k1").ok);
  ASSERT_TRUE(r.e->advance_to(3 * 86400, "t1").ok);
  EXPECT_NE(r.text().find("too slow"), std::string::npos) << r.text();
  EXPECT_EQ(r.status("Slow"), "failed");
  EXPECT_TRUE(r.e->tasks().empty());  // the task was withdrawn
}

TEST(EngineSemantics, SwitchAndJoinAnyCancelsTheOtherBranch) {
  Sim r(std::string(kOps) +
        "process Pick(mode: String) {\n"
        "  switch mode { case \"a\", \"b\" => { notify \"op\" \"ab\" } case \"c\" => { notify \"op\" \"c\" }"
        " else => { notify \"op\" \"other\" } }\n"
        "  parallel join any { task slow by Ops  wait 1h }\n"
        "  notify \"op\" \"joined\"\n"
        "}\n");
  ASSERT_TRUE(r.e->start("Pick", {{"mode", "b"}}, "system", "k1").ok);
  ASSERT_EQ(r.e->tasks().size(), 1u);
  ASSERT_TRUE(r.e->advance_to(2 * 3600, "t1").ok);
  EXPECT_EQ(r.status("Pick"), "completed") << r.text();
  EXPECT_TRUE(r.e->tasks().empty());  // the slower branch's task is cancelled
  EXPECT_NE(r.text().find("notify op: ab"), std::string::npos) << r.text();
  EXPECT_EQ(r.text().find("notify op: other"), std::string::npos) << r.text();
}

TEST(EngineSemantics, WaitUntilAndEventWithFilter) {
  Sim r(std::string(kOps) +
        "event ping { n: Int }\n"
        "process W() {\n"
        "  wait until 1970-01-03\n"
        "  wait for ping as p where p.n > 5\n"
        "  notify \"op\" \"got big ping\"\n"
        "}\n");
  ASSERT_TRUE(r.e->start("W", json::object(), "system", "k1").ok);
  ASSERT_TRUE(
      r.e->post_event("ping", {{"n", 9}}, "system", "e0").ok);  // too early: still waiting for the date
  ASSERT_TRUE(r.e->advance_to(3 * 86400, "t1").ok);
  ASSERT_TRUE(r.e->post_event("ping", {{"n", 1}}, "system", "e1").ok);  // filtered out
  EXPECT_EQ(r.status("W"), "running");
  ASSERT_TRUE(r.e->post_event("ping", {{"n", 7}}, "system", "e2").ok);
  EXPECT_EQ(r.status("W"), "completed") << r.text();
}

TEST(EngineSemantics, RunningInstancesStayOnTheirVersion) {
  auto build = [](const std::string& body, const std::string& hash) {
    auto c = driver::check_text("v.org", std::string(kOps) + "event go\nprocess Greet() {\n" + body +
                                             "\n}\n" + "rule start_greeting when go e then start Greet()\n");
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    bundle::Bundle b;
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = hash;
    return b;
  };
  bundle::Bundle v1 = build("task wave by Ops\n  notify \"op\" \"hello from version 1\"", "v1");
  bundle::Bundle v2 =
      build("task wave by Ops\n  notify \"op\" \"hello from version 2\"\n  notify \"op\" \"and more\"", "v2");
  orgos_test::TempDir dir("orgos-versions");
  std::string path = (dir / "versions.db").string();
  std::vector<std::string> trace;
  auto opts = workflow::EngineOptions{0, 10000, 1000000, [&](const std::string& l) { trace.push_back(l); }};
  {
    store::Store s(path);
    workflow::Engine e(v1, s, opts);
    ASSERT_TRUE(e.post_event("go", json::object(), "system", "go-1").ok);
  }
  {
    store::Store s(path);
    workflow::Engine e(v2, s, opts);  // upgraded: the first instance still runs version 1
    ASSERT_TRUE(e.post_event("go", json::object(), "system", "go-2").ok);
    auto tasks = e.tasks();
    ASSERT_EQ(tasks.size(), 2u);
    for (auto& t : tasks)
      ASSERT_TRUE(e.complete_task(t.id, "op", "", json::object(), "done-" + std::to_string(t.id)).ok);
    for (auto& i : e.instances()) EXPECT_EQ(i.status, "completed");
  }
  std::string t = joined(trace);
  EXPECT_NE(t.find("hello from version 1"), std::string::npos) << t;
  EXPECT_NE(t.find("hello from version 2"), std::string::npos) << t;
  EXPECT_EQ(std::count(trace.begin(), trace.end(), trace.back()), 1);
  EXPECT_LT(t.find("hello from version 1"), t.find("hello from version 2"));  // instance 1 first, on v1
  EXPECT_NE(t.find("and more"), std::string::npos);
}

// The object code of a bundle kept in the store is never run: whoever can write the store file can put
// any bytes there (and recompute the row's checksum), and a version loaded from the store ran them. Here
// version 1's stored object has every byte of its code replaced by int3: an engine of version 2 resuming
// the version-1 instance makes its native code from the IR instead (before, the child died of SIGTRAP).
TEST(EngineSemantics, StoredObjectCodeIsNeverRun) {
  auto build = [](const std::string& note, const std::string& hash) {
    auto c =
        driver::check_text("v.org", std::string(kOps) + "event go { n: Int }\nprocess Greet(n: Int) {\n" +
                                        "  task wave by Ops\n  if n * 2 + 1 > 2 { notify \"op\" \"" + note +
                                        "\" }\n}\nrule greet when go e then start Greet(e.n)\n");
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    bundle::Bundle b;
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = hash;
    return b;
  };
  bundle::Bundle v1 = build("version 1 ran", "v1"), v2 = build("version 2 ran", "v2");
  auto object = codegen::emit_object(v1.module);
  ASSERT_TRUE(object && !object->empty());
  // Every executable section of the ELF object filled with int3 (0xCC).
  auto* eh = reinterpret_cast<const Elf64_Ehdr*>(object->data());
  ASSERT_EQ(std::memcmp(eh->e_ident, ELFMAG, SELFMAG), 0);
  int patched = 0;
  for (int i = 0; i < eh->e_shnum; ++i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, object->data() + eh->e_shoff + static_cast<size_t>(i) * eh->e_shentsize, sizeof sh);
    if ((sh.sh_flags & SHF_EXECINSTR) && sh.sh_type == SHT_PROGBITS && sh.sh_size > 0) {
      std::memset(object->data() + sh.sh_offset, 0xCC, sh.sh_size);
      ++patched;
    }
  }
  ASSERT_GT(patched, 0);
  v1.object = *object;
  v1.host = bundle::host_triple();
  orgos_test::TempDir dir("orgos-stored-object");  // the forked child leaves with _exit: it removes nothing
  std::string path = (dir / "stored-object.db").string();
  {
    store::Store s(path);
    workflow::EngineOptions o;
    o.exec = workflow::ExecEngine::Interp;  // version 1 runs its first input without native code
    workflow::Engine e(v1, s, o);
    ASSERT_TRUE(e.post_event("go", {{"n", 3}}, "system", "go-1").ok);
  }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int rc = 1;
    try {
      store::Store s(path);
      std::string trace;
      workflow::EngineOptions o;
      o.exec = workflow::ExecEngine::Jit;
      o.trace = [&](const std::string& l) { trace += l + "\n"; };
      workflow::Engine e(v2, s, o);
      auto tasks = e.tasks();
      if (tasks.size() == 1 && e.complete_task(tasks[0].id, "op", "", json::object(), "done").ok &&
          trace.find("version 1 ran") != std::string::npos)
        rc = 0;
    } catch (...) {
    }
    ::_exit(rc);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "the child died of signal "
                                 << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
}

TEST(EngineSemantics, KpisJudgeTargetsAndThresholds) {
  Sim r(std::string(kOps) +
        "event sale { amount: Int }\n"
        "metric sales = sum(e.amount for e in sale) target >= 100 warn < 50 alert < 10\n"
        "metric average = avg(e.amount for e in sale) target > 1000\n");
  auto k = r.e->kpis();
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].value, "0");
  EXPECT_EQ(k[0].verdict, "missed");
  EXPECT_TRUE(k[0].alert);
  EXPECT_EQ(k[1].verdict, "no data");
  ASSERT_TRUE(r.e->post_event("sale", {{"amount", 120}}, "system", "s1").ok);
  k = r.e->kpis();
  EXPECT_EQ(k[0].verdict, "met");
  EXPECT_FALSE(k[0].warn);
  EXPECT_EQ(k[0].target, ">= 100");
  EXPECT_EQ(k[1].verdict, "missed");
}

TEST(EngineSemantics, AlertThresholdsRaiseTheirEventOncePerCrossing) {
  Sim r(std::string(kOps) +
        "event refund { amount: Int }\n"
        "event refunds.too_high { name: String, value: Int }\n"
        "metric refunds = sum(e.amount for e in refund) alert > 100 emit refunds.too_high\n"
        "rule page when refunds.too_high e then notify \"op\" \"page: \" + e.name\n");
  ASSERT_TRUE(r.e->post_event("refund", {{"amount", 60}}, "system", "r1").ok);
  EXPECT_EQ(r.text().find("alert refunds"), std::string::npos);
  ASSERT_TRUE(r.e->post_event("refund", {{"amount", 60}}, "system", "r2").ok);
  ASSERT_TRUE(r.e->post_event("refund", {{"amount", 60}}, "system", "r3").ok);
  std::string t = r.text();
  EXPECT_NE(t.find("alert refunds = 120: emit refunds.too_high"), std::string::npos) << t;
  EXPECT_NE(t.find("notify op: page: refunds"), std::string::npos) << t;
  size_t alerts = 0;
  for (auto& l : r.trace) alerts += l.find("alert refunds") != std::string::npos;
  EXPECT_EQ(alerts, 1u);  // still above the threshold after r3: no second alert
}

TEST(EngineSemantics, LifecyclesMoveRecordsAndTheOrgUnderGuards) {
  Sim r(
      std::string(kOps) +
      "role Buyer { may submit Order  may approve Order }\n"
      "org Shop { units { department Desk } position b: Buyer in Desk held by \"bea\"  lifecycle ShopLife }\n"
      "record Order { total: Money  ref: String }\n"
      "event order.approved { ref: String }\n"
      "lifecycle OrderLife for Order {\n"
      "  initial draft  state submitted  final approved\n"
      "  transition submit: draft -> submitted when total.amount > 0\n"
      "  transition approve: submitted -> approved { emit order.approved { ref: ref } }\n"
      "}\n"
      "lifecycle ShopLife for org { initial ideation  state trading  final closed\n"
      "  transition open: ideation -> trading  transition close: trading -> closed }\n"
      "process NewOrder(total: Money, ref: String) { create Order { total: total, ref: ref } as o }\n"
      "rule note when order.approved e then notify \"op\" \"approved \" + e.ref\n");
  // kOps declares org O; this test's org is Shop.
  ASSERT_TRUE(r.e->start("NewOrder", {{"total", "30 USD"}, {"ref", "A-1"}}, "system", "n1").ok);
  ASSERT_TRUE(r.e->start("NewOrder", {{"total", "0 USD"}, {"ref", "A-2"}}, "system", "n2").ok);
  json a1 = {{"$ref", {{"ref", "A-1"}}}}, a2 = {{"$ref", {{"ref", "A-2"}}}};
  auto early = r.e->transition("Order", a1, "approve", "bea", "t0");
  EXPECT_FALSE(early.ok);
  EXPECT_NE(early.error.find("cannot be taken from state `draft`"), std::string::npos) << early.error;
  EXPECT_TRUE(r.e->transition("Order", a1, "submit", "bea", "t1").ok);
  auto guard = r.e->transition("Order", a2, "submit", "bea", "t2");
  EXPECT_FALSE(guard.ok);
  EXPECT_NE(guard.error.find("guard of `submit` does not hold"), std::string::npos) << guard.error;
  auto nobody = r.e->transition("Order", a1, "approve", "op", "t3");  // op holds no role that may approve
  EXPECT_FALSE(nobody.ok);
  EXPECT_TRUE(r.e->transition("Order", a1, "approve", "bea", "t4").ok);
  EXPECT_NE(r.text().find("transition Order"), std::string::npos) << r.text();
  EXPECT_NE(r.text().find("notify op: approved A-1"), std::string::npos) << r.text();
  EXPECT_TRUE(r.e->transition("org", "Shop", "open", "system", "o1").ok);
  EXPECT_FALSE(r.e->transition("org", "Shop", "open", "system", "o2").ok);  // already trading
  EXPECT_TRUE(r.e->transition("org", "Shop", "close", "system", "o3").ok);
}

TEST(EngineSemantics, RecordRulesFireOncePerMatch) {
  Sim r(std::string(kOps) +
        "record Stock { sku: String  on_hand: Int  reorder_point: Int }\n"
        "event stock.low { sku: String }\n"
        "process Receive(sku: String, n: Int) { create Stock { sku: sku, on_hand: n, reorder_point: 5 } as s "
        "}\n"
        "process Take(s: Stock, n: Int) { update s { on_hand: s.on_hand - n } }\n"
        "rule low when Stock s where s.on_hand <= s.reorder_point then emit stock.low { sku: s.sku }\n"
        "rule tell when stock.low e then notify \"op\" \"reorder \" + e.sku\n");
  ASSERT_TRUE(r.e->start("Receive", {{"sku", "pen"}, {"n", 20}}, "system", "a").ok);
  json pen = {{"$ref", {{"sku", "pen"}}}};
  ASSERT_TRUE(r.e->start("Take", {{"s", pen}, {"n", 16}}, "system", "b").ok);  // 4 left: fires
  ASSERT_TRUE(r.e->start("Take", {{"s", pen}, {"n", 1}}, "system", "c").ok);   // 3 left: still low, no refire
  size_t count = 0;
  for (auto& l : r.trace) count += l.find("notify op: reorder pen") != std::string::npos;
  EXPECT_EQ(count, 1u) << r.text();
}

TEST(EngineSemantics, SignalReachesOnlyTheMatchingInstance) {
  Sim r(std::string(kOps) +
        "event nudge { note: String }\n"
        "event poke { ref: String }\n"
        "process Waiter(ref: String) { wait for nudge as n  notify \"op\" ref + \" got \" + n.note }\n"
        "rule route when poke e then signal Waiter where ref == e.ref with nudge { note: \"hello\" }\n");
  ASSERT_TRUE(r.e->start("Waiter", {{"ref", "A"}}, "system", "a").ok);
  ASSERT_TRUE(r.e->start("Waiter", {{"ref", "B"}}, "system", "b").ok);
  ASSERT_TRUE(r.e->post_event("poke", {{"ref", "B"}}, "system", "p").ok);
  EXPECT_NE(r.text().find("notify op: B got hello"), std::string::npos) << r.text();
  EXPECT_EQ(r.text().find("A got"), std::string::npos) << r.text();
  size_t running = 0;
  for (auto& i : r.e->instances()) running += i.status == "running";
  EXPECT_EQ(running, 1u);
}

TEST(EngineSemantics, RulesJoinAnEventWithRecordsAndNot) {
  Sim r(std::string(kOps) +
        "record Stock { sku: String  on_hand: Int  reorder_point: Int }\n"
        "record Hold { sku: String }\n"
        "event order.placed { sku: String  qty: Int }\n"
        "process Receive(sku: String, n: Int) { create Stock { sku: sku, on_hand: n, reorder_point: 5 } as s "
        "}\n"
        "process HoldIt(sku: String) { create Hold { sku: sku } as h }\n"
        "rule ship when order.placed e, Stock s where s.sku == e.sku and s.on_hand >= e.qty,\n"
        "  not Hold h where h.sku == e.sku\n"
        "  then notify \"op\" \"ship \" + e.sku\n");
  ASSERT_TRUE(r.e->start("Receive", {{"sku", "pen"}, {"n", 20}}, "system", "a").ok);
  ASSERT_TRUE(r.e->start("Receive", {{"sku", "ink"}, {"n", 20}}, "system", "b").ok);
  ASSERT_TRUE(r.e->post_event("order.placed", {{"sku", "pen"}, {"qty", 3}}, "system", "o1").ok);
  ASSERT_TRUE(r.e->post_event("order.placed", {{"sku", "ink"}, {"qty", 30}}, "system", "o2").ok);  // too many
  ASSERT_TRUE(r.e->start("HoldIt", {{"sku", "pen"}}, "system", "h").ok);
  ASSERT_TRUE(r.e->post_event("order.placed", {{"sku", "pen"}, {"qty", 1}}, "system", "o3").ok);  // held
  size_t pen = 0, ink = 0;
  for (auto& l : r.trace) {
    pen += l.find("notify op: ship pen") != std::string::npos;
    ink += l.find("notify op: ship ink") != std::string::npos;
  }
  EXPECT_EQ(pen, 1u) << r.text();
  EXPECT_EQ(ink, 0u) << r.text();
  EXPECT_NE(r.text().find("rule ship fires on Stock #"), std::string::npos) << r.text();
}

TEST(EngineSemantics, DerivedRecordsGoWhenTheirSupportEnds) {
  Sim r(std::string(kOps) +
        "record Stock { sku: String  on_hand: Int }\n"
        "record Shortage { sku: String }\n"
        "process Receive(sku: String, n: Int) { create Stock { sku: sku, on_hand: n } as s }\n"
        "process Set(s: Stock, n: Int) { update s { on_hand: n } }\n"
        "rule short when Stock s where s.on_hand < 5 then derive Shortage { sku: s.sku }\n");
  ASSERT_TRUE(r.e->start("Receive", {{"sku", "pen"}, {"n", 2}}, "system", "a").ok);
  EXPECT_NE(r.text().find("create Shortage"), std::string::npos) << r.text();
  json pen = {{"$ref", {{"sku", "pen"}}}};
  ASSERT_TRUE(r.e->start("Set", {{"s", pen}, {"n", 50}}, "system", "b").ok);
  EXPECT_NE(r.text().find("support of Shortage"), std::string::npos) << r.text();
  EXPECT_NE(r.text().find("retract Shortage"), std::string::npos) << r.text();
}

TEST(EngineSemantics, ARuleCascadeThatNeverSettlesUndoesTheInput) {
  Sim r(std::string(kOps) +
        "record Cell { n: Int }\n"
        "process Seed() { create Cell { n: 0 } as c }\n"
        "rule grow when Cell c then insert Cell { n: c.n + 1 }\n");
  auto o = r.e->start("Seed", json::object(), "system", "a");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find("rules fired more than 10000 times"), std::string::npos) << o.error;
  EXPECT_NE(o.error.find("grow -> grow"), std::string::npos) << o.error;
  EXPECT_TRUE(r.e->instances().empty());  // nothing of the input stayed
}

// A claim reserves a task for its claimant: others may neither claim nor complete it, the claimant may; one
// who could not complete it cannot claim it; claims are inputs, so replay reproduces them.
TEST(Engine, ClaimReservesATaskForItsClaimantAndReplays) {
  Fixture f;
  std::vector<std::string> trace;
  store::Store s(":memory:");
  workflow::Engine e(f.b, s, {1767225600, 10000, 1000000, [&](const std::string& l) { trace.push_back(l); }});
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("100 USD", "Engineering", "alice"), "system", "e1").ok);
  ASSERT_TRUE(e.decide(open_task(e, "manager"), "dan", true, "d1").ok);
  int64_t book = open_task(e, "book");
  ASSERT_NE(book, 0);
  auto stranger = e.claim_task(book, "carol", "c0");  // the CFO, not the Engineering manager
  EXPECT_FALSE(stranger.ok);
  EXPECT_NE(stranger.error.find("carol may not claim book"), std::string::npos) << stranger.error;
  ASSERT_TRUE(e.claim_task(book, "dan", "c1").ok);
  EXPECT_EQ(e.task(book)->claimed_by, "dan");
  EXPECT_TRUE(e.claim_task(book, "dan", "c2").ok);  // again by the claimant: accepted
  auto other = e.complete_task(book, "erin", "booked", json::object(), "x1");
  EXPECT_FALSE(other.ok);
  EXPECT_NE(other.error.find("is claimed by dan"), std::string::npos) << other.error;
  EXPECT_FALSE(e.claim_task(book + 1000, "dan", "c3").ok);  // no such task
  ASSERT_TRUE(e.complete_task(book, "dan", "booked", json::object(), "x2").ok);
  EXPECT_FALSE(e.claim_task(book, "dan", "c4").ok);  // done: nothing to claim
  EXPECT_EQ(joined(workflow::Engine::replay(f.b, s, {1767225600, 10000, 1000000, nullptr})), joined(trace));
}

// Inside a group commit an input that is undone (here a rule cascade that never settles) gives back the ids
// it took, exactly as outside a group, and the id counter the group commits lets a restarted engine go on
// without reusing an id: same traces with and without grouping, before and after the restart.
TEST(EngineSemantics, AnInputUndoneInsideAGroupLeavesIdsAsWithoutOne) {
  const std::string src = std::string(kOps) +
                          "record Cell { n: Int }\nrecord Note { t: String }\n"
                          "process Seed() { create Cell { n: 0 } as c }\n"
                          "process Write(t: String) { create Note { t: t } as n\n  wait 1h }\n"
                          "rule grow when Cell c then insert Cell { n: c.n + 1 }\n";
  auto play = [](Sim& r, bool group) {
    if (group) r.e->begin_group();
    EXPECT_TRUE(r.e->start("Write", {{"t", "a"}}, "system", "a").ok);
    EXPECT_FALSE(r.e->start("Seed", json::object(), "system", "b").ok);  // undone
    EXPECT_TRUE(r.e->start("Write", {{"t", "c"}}, "system", "c").ok);
    if (group) r.e->commit_group();
    // A restart: a new engine over the same store.
    r.e.reset();
    r.e = std::make_unique<workflow::Engine>(
        r.b, r.s,
        workflow::EngineOptions{0, 10000, 1000000, [&r](const std::string& l) { r.trace.push_back(l); }});
    EXPECT_TRUE(r.e->start("Write", {{"t", "d"}}, "system", "d").ok);
  };
  Sim plain(src), grouped(src);
  play(plain, false);
  play(grouped, true);
  EXPECT_EQ(grouped.text(), plain.text());
  EXPECT_NE(plain.text().find("start Write #"), std::string::npos) << plain.text();
}

// The engine writes frames with ValueCodec::write_json, which must give exactly the text of the JSON
// document (to_json(...).dump()): nested records with and without ids, lists, money, dates, durations, enums,
// strings that need escaping, none — and a layout with two fields of one name (two loops' variables), where
// the document keeps the last.
TEST(ValueCodec, WrittenTextIsTheDocumentsText) {
  auto c = driver::check_text("codec.org",
                              "enum Tier { basic, gold }\n"
                              "record Line { item: String  qty: Int  price: Money<USD> }\n"
                              "record Order { number: String  lines: List<Line>  due: Date  grace: Duration\n"
                              "  tier: Tier  note: String?  rush: Bool  ratio: Decimal }\n");
  ASSERT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  ir::Module m = std::move(ir::lower(*c).module);
  uint32_t order = 0;
  for (uint32_t i = 0; i < m.layouts.size(); ++i)
    if (m.layouts[i].name == "Order") order = i;
  interp::Arena arena;
  workflow::ValueCodec codec(m, arena, {});
  std::string err;
  json doc = {{"number", "PO-\"7\"\n\ttab\x01\\ \x7f"},
              {"lines", json::array({{{"item", "dock é"}, {"qty", 2}, {"price", "200 USD"}},
                                     {{"item", "pen"}, {"qty", 10}, {"price", "1.25 USD"}}})},
              {"due", "2026-03-01"},
              {"grace", "3d"},
              {"tier", "gold"},
              {"note", nullptr},
              {"rush", true},
              {"ratio", "0.125"}};
  ir::Record* r = codec.record_from_json(doc, order, err, "order");
  ASSERT_NE(r, nullptr) << err;
  auto same = [&](const ir::Value& v) {
    std::string text;
    codec.write_json(v, ir::IType::of(ir::Kind::Rec), text);
    EXPECT_EQ(text, codec.to_json(v, ir::IType::of(ir::Kind::Rec)).dump());
  };
  same(ir::Value::of_record(r));
  r->id = 42;  // a stored record carries its id
  same(ir::Value::of_record(r));
  // Two fields named `l` (a frame of two loops): the document keeps the last one's value.
  ir::RecordLayout dup;
  dup.name = "P.frame";
  dup.fields = {"l", "a", "l"};
  dup.types = {ir::IType::of(ir::Kind::Int), ir::IType::of(ir::Kind::Int), ir::IType::of(ir::Kind::Int)};
  dup.defaults = {ir::kNone, ir::kNone, ir::kNone};
  m.layouts.push_back(dup);
  workflow::ValueCodec codec2(m, arena, {});
  ir::Record* f = arena.record(static_cast<uint32_t>(m.layouts.size() - 1), 3);
  f->slots[0] = ir::Value::of_int(1);
  f->slots[1] = ir::Value::of_int(2);
  f->slots[2] = ir::Value::of_int(3);
  std::string text;
  codec2.write_json(ir::Value::of_record(f), ir::IType::of(ir::Kind::Rec), text);
  EXPECT_EQ(text, codec2.to_json(ir::Value::of_record(f), ir::IType::of(ir::Kind::Rec)).dump());
  EXPECT_EQ(text, R"({"$type":"P.frame","a":2,"l":3})");
}
