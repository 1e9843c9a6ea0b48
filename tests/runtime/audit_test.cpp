// The audit chain under attack, on real SQLite files: every applied input and every token change has its
// entry, entries are authenticated with a key the store does not hold, and a checkpoint kept outside the
// store shows truncation, forged appends, rewrites with recomputed hashes, reordering and renumbering.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/net/tokens.h"
#include "runtime/store/audit_checkpoint.h"
#include "runtime/store/store.h"
#include "runtime/workflow/engine.h"
#include "runtime/workflow/replay_check.h"

using namespace orgos;
using store::AuditCheckpoint;
using store::AuditEntry;
using store::AuditKey;
using store::AuditReport;
using store::Store;
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

struct Project {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  Project() {
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

// A folder of its own per test: the store and the key side by side here only because it is a test.
struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    dir = std::filesystem::temp_directory_path() /
          ("orgos-audit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::string db() const { return (dir / "state.db").string(); }
  std::string key_file() const { return (dir / "keys" / "audit.key").string(); }
  static inline int counter = 0;
};

void sql(Store& s, const std::string& q) {
  char* err = nullptr;
  int rc = sqlite3_exec(s.handle(), q.c_str(), nullptr, nullptr, &err);
  ASSERT_EQ(rc, SQLITE_OK) << q << ": " << (err ? err : "");
  sqlite3_free(err);
}

int64_t count(Store& s, const std::string& q) {
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(s.handle(), q.c_str(), -1, &st, nullptr);
  int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return n;
}

// A store with `n` access decisions (entry 3 a refusal), authenticated with the test's key.
struct Chain {
  TempDir tmp;
  AuditKey key = AuditKey::load_or_create(tmp.key_file());
  std::unique_ptr<Store> s;
  explicit Chain(int n = 10) {
    s = std::make_unique<Store>(tmp.db());
    s->audit().use_key(key);
    s->begin();
    for (int i = 1; i <= n; ++i) {
      AuditEntry e;
      e.at = 1000 + i;
      e.actor = i % 2 ? "alice" : "bob";
      e.action = "decide";
      e.resource = "Expense#" + std::to_string(i);
      e.decision = i == 3 ? "refused" : "allowed";
      e.reason = i == 3 ? "policy no_self_approval forbids it" : "holds the assigned role";
      s->append_audit(e);
    }
    s->commit();
  }
  AuditReport verify(bool with_key, const AuditCheckpoint* cp = nullptr) {
    return s->audit().verify(with_key ? &key : nullptr, cp);
  }
  AuditCheckpoint checkpoint() { return AuditCheckpoint::take(*s, key, 1767225600); }
};

// What an attacker with write access to the store, but not the key, can do: renumber the entries from 1 in
// their current row order and recompute every hash. The MACs cannot be recomputed and stay as they were.
void rechain(Store& s) {
  std::vector<AuditEntry> all = s.audit_entries();
  sql(s, "DELETE FROM audit");
  std::string prev(64, '0');
  int64_t seq = 0;
  for (AuditEntry e : all) {
    e.seq = ++seq;
    e.prev_hash = prev;
    e.hash = store::audit_hash(e);
    prev = e.hash;
    sql(s,
        "INSERT INTO audit(seq, at, kind, actor, action, resource, decision, reason, ref, digest, "
        "prev_hash, hash, mac) VALUES(" +
            std::to_string(e.seq) + "," + std::to_string(e.at) + ",'" + audit_kind_name(e.kind) + "','" +
            e.actor + "','" + e.action + "','" + e.resource + "','" + e.decision + "','" + e.reason + "'," +
            std::to_string(e.ref) + ",'" + e.digest + "','" + e.prev_hash + "','" + e.hash + "','" + e.mac +
            "')");
  }
}

bool mentions(const AuditReport& r, const std::string& what) {
  for (auto& p : r.problems)
    if (p.what.find(what) != std::string::npos) return true;
  return false;
}

std::string all_problems(const AuditReport& r) {
  std::string out;
  for (auto& p : r.problems) out += std::to_string(p.entry) + ": " + p.what + "\n";
  return out;
}

}  // namespace

// ------------------------------------------------------------------ every input, every token

TEST(Audit, EveryAppliedInputHasItsEntryWhateverTheActor) {
  Project p;
  TempDir tmp;
  Store s(tmp.db());
  s.audit().use_key(AuditKey::load_or_create(tmp.key_file()));
  workflow::Engine e(p.b, s, {1767225600, 10000, 1000000, nullptr});
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("50 USD", "Engineering", "dan"), "system", "evt-1").ok);
  int64_t mgr = e.tasks().at(0).id;
  EXPECT_FALSE(e.decide(mgr, "erin", true, "cmd-1").ok);        // refused: the input is logged, and audited
  ASSERT_TRUE(e.advance_to(e.now() + 3 * 86400, "tick-1").ok);  // the system clock, escalating
  EXPECT_TRUE(e.post_event("expense.submitted", expense("50 USD", "Engineering", "dan"), "system", "evt-1")
                  .duplicate);  // a duplicate applies nothing and records nothing
  auto inputs = s.inputs_after(0);
  ASSERT_EQ(inputs.size(), 3u);
  std::vector<AuditEntry> applied;
  for (auto& a : s.audit_entries())
    if (a.kind == store::AuditKind::Input) applied.push_back(a);
  ASSERT_EQ(applied.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(applied[i].ref, inputs[i].seq);
    EXPECT_EQ(applied[i].actor, inputs[i].actor);
    EXPECT_EQ(applied[i].action, inputs[i].kind);
  }
  EXPECT_EQ(applied[0].actor, "system");
  EXPECT_EQ(applied[1].decision, "refused");
  EXPECT_EQ(applied[2].action, "tick");
  AuditKey key = AuditKey::load(tmp.key_file());
  AuditReport r = s.audit().verify(&key);
  EXPECT_TRUE(r.intact()) << all_problems(r);
  EXPECT_TRUE(r.authenticated);
}

TEST(Audit, AnInputWhoseEntryCannotBeWrittenIsNotApplied) {
  Project p;
  TempDir tmp;
  Store s(tmp.db());
  s.audit().use_key(AuditKey::load_or_create(tmp.key_file()));
  workflow::Engine e(p.b, s, {1767225600, 10000, 1000000, nullptr});
  sql(s,
      "CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END");
  EXPECT_THROW(e.post_event("expense.submitted", expense("50 USD", "Engineering", "dan"), "system", "evt-1"),
               store::StoreError);
  EXPECT_EQ(count(s, "SELECT count(*) FROM input_log"), 0);  // fail closed: nothing of it stays
  EXPECT_EQ(count(s, "SELECT count(*) FROM instance"), 0);
  EXPECT_TRUE(e.instances().empty());
  sql(s, "DROP TRIGGER no_audit");
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("50 USD", "Engineering", "dan"), "system", "evt-1").ok);
  EXPECT_EQ(e.instances().size(), 1u);
  std::string why;
  EXPECT_FALSE(s.verify_audit(why)) << why;
}

TEST(Audit, EditsOfTheInputLogAreFound) {
  Project p;
  TempDir tmp;
  Store s(tmp.db());
  s.audit().use_key(AuditKey::load_or_create(tmp.key_file()));
  workflow::Engine e(p.b, s, {1767225600, 10000, 1000000, nullptr});
  ASSERT_TRUE(
      e.post_event("expense.submitted", expense("50 USD", "Engineering", "dan"), "system", "evt-1").ok);
  ASSERT_TRUE(e.post_event("expense.submitted", expense("70 USD", "Finance", "erin"), "system", "evt-2").ok);
  std::string why;
  ASSERT_FALSE(s.verify_audit(why)) << why;
  // A changed payload (the amount), a removed input, an input slipped in: each named.
  sql(s, "UPDATE input_log SET payload = replace(payload, '50 USD', '5000 USD') WHERE seq = 1");
  AuditReport r = s.audit().verify(nullptr);
  EXPECT_TRUE(mentions(r, "input 1 (event `")) << all_problems(r);
  EXPECT_TRUE(mentions(r, "was changed after it was applied")) << all_problems(r);
  sql(s, "DELETE FROM input_log WHERE seq = 2");
  r = s.audit().verify(nullptr);
  EXPECT_TRUE(mentions(r, "input 2, recorded by audit entry")) << all_problems(r);
  EXPECT_TRUE(mentions(r, "missing from the input log")) << all_problems(r);
  sql(s,
      "INSERT INTO input_log(seq, kind, key, at, actor, payload) VALUES(9, 'event', 'evt-9', 0, 'x', '{}')");
  r = s.audit().verify(nullptr);
  EXPECT_TRUE(mentions(r, "input 9 (event `evt-9`) has no audit entry")) << all_problems(r);
  EXPECT_EQ(r.problems.size(), 3u) << all_problems(r);
}

TEST(Audit, AnEditedTokenRowIsFound) {
  TempDir tmp;
  Store s(tmp.db());
  s.audit().use_key(AuditKey::load_or_create(tmp.key_file()));
  net::Tokens tokens(s);
  int64_t id = 0;
  tokens.add("alice", id);
  ASSERT_TRUE(tokens.revoke(id));
  std::string why;
  ASSERT_FALSE(s.verify_audit(why)) << why;
  auto entries = s.audit_entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].action, "token.revoke");
  // The revoked token made valid again behind orgctl's back.
  sql(s, "UPDATE token SET revoked = 0 WHERE id = " + std::to_string(id));
  AuditReport r = s.audit().verify(nullptr);
  EXPECT_TRUE(mentions(r, "token " + std::to_string(id) + " was changed outside orgctl")) << all_problems(r);
  sql(s, "INSERT INTO token(actor, hash, created) VALUES('mallory', 'abc', 0)");
  r = s.audit().verify(nullptr);
  EXPECT_TRUE(mentions(r, "has no audit entry")) << all_problems(r);
}

// ------------------------------------------------------------------ the key

TEST(Audit, TheDefaultKeyIsMadeOnFirstUseOutsideTheStoreWithMode0600) {
  TempDir tmp;
  std::string key_file = (tmp.dir / "config" / "orgos" / "audit.key").string();
  const char* before = std::getenv("ORGOS_AUDIT_KEY");
  std::string saved = before ? before : "";
  setenv("ORGOS_AUDIT_KEY", key_file.c_str(), 1);
  {
    Store s(tmp.db());
    net::Tokens tokens(s);
    int64_t id = 0;
    tokens.add("alice", id);
  }
  if (before)
    setenv("ORGOS_AUDIT_KEY", saved.c_str(), 1);
  else
    unsetenv("ORGOS_AUDIT_KEY");
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0) << key_file;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((tmp.dir / "config" / "orgos").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // the folder made for it too
  Store s(tmp.db());
  AuditKey key = AuditKey::load(key_file);
  AuditReport r = s.audit().verify(&key);
  EXPECT_TRUE(r.intact()) << all_problems(r);
  // Another key does not authenticate the entries.
  AuditKey other = AuditKey::load_or_create((tmp.dir / "other.key").string());
  r = s.audit().verify(&other);
  EXPECT_TRUE(mentions(r, "not authenticated by the audit key")) << all_problems(r);
}

TEST(Audit, NoPlaceForTheKeyMeansNothingIsWritten) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.dir / "file");
  std::string key_file = (tmp.dir / "file").string();  // a folder where the key file should be
  Store s(tmp.db());
  const char* before = std::getenv("ORGOS_AUDIT_KEY");
  std::string saved = before ? before : "";
  setenv("ORGOS_AUDIT_KEY", key_file.c_str(), 1);
  net::Tokens tokens(s);
  int64_t id = 0;
  EXPECT_THROW(tokens.add("alice", id), store::StoreError);
  if (before)
    setenv("ORGOS_AUDIT_KEY", saved.c_str(), 1);
  else
    unsetenv("ORGOS_AUDIT_KEY");
  EXPECT_EQ(count(s, "SELECT count(*) FROM token"), 0);
  EXPECT_EQ(count(s, "SELECT count(*) FROM audit"), 0);
}

// ------------------------------------------------------------------ attacks on the chain

TEST(Audit, AFlippedRefusalWithRecomputedHashesFailsWithTheKey) {
  Chain c;
  sql(*c.s, "UPDATE audit SET decision = 'allowed' WHERE seq = 3");
  rechain(*c.s);
  EXPECT_TRUE(c.verify(false).intact());  // the plain chain cannot tell: that is why it is keyed
  AuditReport r = c.verify(true);
  ASSERT_FALSE(r.intact());
  EXPECT_EQ(r.problems.front().entry, 3);
  EXPECT_TRUE(mentions(r, "entry 3 is not authenticated")) << all_problems(r);
}

TEST(Audit, AForgedAppendedEntryFailsWithTheKey) {
  Chain c;
  AuditEntry last = c.s->audit_entries().back();
  AuditEntry forged;
  forged.seq = last.seq + 1;
  forged.at = last.at + 1;
  forged.actor = "mallory";
  forged.action = "decide";
  forged.resource = "Expense#99";
  forged.decision = "allowed";
  forged.prev_hash = last.hash;
  forged.hash = store::audit_hash(forged);
  sql(*c.s, "INSERT INTO audit VALUES(11, " + std::to_string(forged.at) +
                ", 'access', 'mallory', 'decide', 'Expense#99', 'allowed', '', 0, '', '" + forged.prev_hash +
                "', '" + forged.hash + "', '')");
  EXPECT_TRUE(c.verify(false).intact());
  AuditReport r = c.verify(true);
  ASSERT_FALSE(r.intact());
  EXPECT_EQ(r.problems.front().entry, 11);
}

TEST(Audit, AMiddleEntryDeletedAndTheRestRenumberedFails) {
  Chain c;
  AuditCheckpoint cp = c.checkpoint();
  sql(*c.s, "DELETE FROM audit WHERE seq = 4");
  AuditReport plain = c.verify(false);
  ASSERT_FALSE(plain.intact());  // without renumbering, the gap shows
  EXPECT_EQ(plain.problems.front().entry, 4);
  rechain(*c.s);
  AuditReport r = c.verify(true);
  ASSERT_FALSE(r.intact());
  EXPECT_EQ(r.problems.front().entry, 4);
  AuditReport with_cp = c.verify(false, &cp);  // without the key, the checkpoint still shows it
  EXPECT_TRUE(mentions(with_cp, "entries were removed")) << all_problems(with_cp);
}

TEST(Audit, ReorderedEntriesFail) {
  Chain c;
  AuditCheckpoint cp = c.checkpoint();
  // Entries 5 and 6 swap places (their numbers swapped), then every hash is recomputed.
  sql(*c.s,
      "UPDATE audit SET seq = -5 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 6; "
      "UPDATE audit SET seq = 6 WHERE seq = -5");
  EXPECT_FALSE(c.verify(false).intact());
  rechain(*c.s);
  AuditReport r = c.verify(true);
  ASSERT_FALSE(r.intact());
  AuditReport with_cp = c.verify(false, &cp);
  EXPECT_TRUE(mentions(with_cp, "is not the one the checkpoint of")) << all_problems(with_cp);
}

TEST(Audit, TheLastEntriesDeletedAreFoundByTheCheckpoint) {
  Chain c;
  AuditCheckpoint cp = c.checkpoint();
  sql(*c.s, "DELETE FROM audit WHERE seq > 7");
  // A shorter chain is a valid chain: only the checkpoint can tell.
  EXPECT_TRUE(c.verify(true).intact());
  AuditReport r = c.verify(true, &cp);
  ASSERT_FALSE(r.intact());
  EXPECT_EQ(r.problems.front().entry, 10);
  EXPECT_TRUE(mentions(r,
                       "entries were removed: the checkpoint of 2026-01-01 00:00:00 UTC recorded 10 entries "
                       "up to entry 10, the store has 7 (up to entry 7)"))
      << all_problems(r);
}

TEST(Audit, AllEntriesDeletedAreFoundByTheCheckpoint) {
  Chain c;
  AuditCheckpoint cp = c.checkpoint();
  sql(*c.s, "DELETE FROM audit");
  EXPECT_TRUE(c.verify(true).intact());
  AuditReport r = c.verify(true, &cp);
  EXPECT_TRUE(mentions(r, "the store has 0")) << all_problems(r);
}

TEST(Audit, ARewriteWithRecomputedHashesDiffersFromTheCheckpoint) {
  Chain c;
  AuditCheckpoint cp = c.checkpoint();
  sql(*c.s, "UPDATE audit SET decision = 'allowed' WHERE seq = 3");
  rechain(*c.s);
  AuditReport r = c.verify(false, &cp);
  EXPECT_TRUE(mentions(r, "entry 10 is not the one the checkpoint")) << all_problems(r);
}

TEST(Audit, AnEditedCheckpointIsNotAuthentic) {
  Chain c;
  AuditCheckpoint cp = c.checkpoint();
  sql(*c.s, "DELETE FROM audit WHERE seq > 7");
  // The attacker lowers the checkpoint to match the truncated chain, but cannot recompute its MAC.
  AuditCheckpoint lowered = AuditCheckpoint::parse(cp.to_json());
  auto entries = c.s->audit_entries();
  lowered.entries = 7;
  lowered.last_seq = 7;
  lowered.last_hash = entries.back().hash;
  AuditReport r = c.verify(true, &lowered);
  EXPECT_TRUE(mentions(r, "is not authenticated by the audit key")) << all_problems(r);
}

TEST(Audit, AChainThatGrewAfterItsCheckpointIsIntact) {
  Chain c;
  AuditCheckpoint cp = AuditCheckpoint::parse(c.checkpoint().to_json());
  c.s->begin();
  AuditEntry e;
  e.actor = "carol";
  e.action = "decide";
  e.decision = "allowed";
  c.s->append_audit(e);
  c.s->commit();
  AuditReport r = c.verify(true, &cp);
  EXPECT_TRUE(r.intact()) << all_problems(r);
  EXPECT_TRUE(r.authenticated);
  EXPECT_TRUE(r.checkpointed);
  EXPECT_THROW(AuditCheckpoint::parse("{\"format\": \"something else\"}"), store::StoreError);
  EXPECT_THROW(AuditCheckpoint::parse("not json"), store::StoreError);
}

// A token added through its own connection beside a running owner (as `orgctl token add` does beside
// `orgctl serve`) takes the next seq; the owner's next entry follows it instead of failing on the seq it
// remembered.
TEST(Audit, AnEntryAppendedBesideTheOwnerIsFollowed) {
  TempDir tmp;
  AuditKey key = AuditKey::load_or_create(tmp.key_file());
  Store owner(tmp.db());
  owner.audit().use_key(key);
  AuditEntry first;
  first.actor = "alice";
  first.action = "decide";
  owner.begin();
  owner.append_audit(first);
  owner.commit();
  {
    Store beside(tmp.db(), store::OpenMode::SharedWrite);
    beside.audit().use_key(key);
    int64_t id = 0;
    net::Tokens(beside).add("bob", id);
  }
  AuditEntry next;
  next.actor = "carol";
  next.action = "decide";
  owner.begin();
  owner.append_audit(next);
  owner.commit();
  EXPECT_EQ(next.seq, 3);
  AuditReport r = owner.audit().verify(&key);
  EXPECT_TRUE(r.intact()) << all_problems(r);
}

// ------------------------------------------------------------------ the state against a replay of the log

// A restart at a later wall clock moves the engine's clock without a logged input; the replay restarts
// there too, so the times the store holds (an instance's start) are the replay's.
TEST(ReplayCheck, AStoreWrittenAcrossRestartsMatchesItsReplay) {
  Project p;
  TempDir tmp;
  Store s(tmp.db());
  s.audit().use_key(AuditKey::load_or_create(tmp.key_file()));
  {
    workflow::Engine e(p.b, s, {1767225600, 10000, 1000000, nullptr});
    ASSERT_TRUE(
        e.post_event("expense.submitted", expense("50 USD", "Engineering", "alice"), "system", "e1").ok);
  }
  {
    workflow::Engine e(p.b, s, {1767225600 + 7200, 10000, 1000000, nullptr});  // two hours later
    ASSERT_TRUE(e.post_event("expense.submitted", expense("60 USD", "Finance", "erin"), "system", "e2").ok);
    int64_t mgr = e.tasks().at(0).id;
    ASSERT_TRUE(e.decide(mgr, "dan", true, "c1").ok);
  }
  workflow::EngineOptions eo;
  eo.exec = workflow::ExecEngine::Interp;
  workflow::ReplayCheck r = workflow::check_against_replay(p.b, s, eo);
  EXPECT_EQ(r.inputs, 3);
  std::string diffs;
  for (auto& d : r.differences) diffs += d.describe() + "\n";
  EXPECT_TRUE(r.differences.empty()) << diffs;
}

TEST(ReplayCheck, EditedStateIsNamedByRowAndField) {
  Project p;
  TempDir tmp;
  Store s(tmp.db());
  s.audit().use_key(AuditKey::load_or_create(tmp.key_file()));
  workflow::Engine e(p.b, s, {1767225600, 10000, 1000000, nullptr});
  ASSERT_TRUE(e.post_event("expense.submitted", expense("50 USD", "Engineering", "dan"), "system", "e1").ok);
  int64_t task = e.tasks().at(0).id;
  sql(s, "UPDATE task SET status = 'done', claimed_by = 'mallory' WHERE id = " + std::to_string(task));
  sql(s, "DELETE FROM timer");
  workflow::EngineOptions eo;
  eo.exec = workflow::ExecEngine::Interp;
  workflow::ReplayCheck r = workflow::check_against_replay(p.b, s, eo);
  std::string diffs;
  for (auto& d : r.differences) diffs += d.describe() + "\n";
  std::string t = "task " + std::to_string(task);
  EXPECT_NE(diffs.find(t + " field claimed_by: stored mallory, replayed \n"), std::string::npos) << diffs;
  EXPECT_NE(diffs.find(t + " field status: stored done, replayed open"), std::string::npos) << diffs;
  EXPECT_NE(diffs.find("is missing from the store (the replay made it)"), std::string::npos) << diffs;
}
