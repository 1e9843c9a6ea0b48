// Idempotency keys belong to the actor who gives them: one actor's key never refuses, answers or reveals
// another's input; the same actor's key reused for another request is a conflict; a key is all its bytes
// (NUL included); and scoping is invisible to the log's replay and to a scenario run resuming after a crash.
#include <gtest/gtest.h>

#include <filesystem>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/workflow/engine.h"
#include "runtime/workflow/input_key.h"
#include "tests/temp_dir.h"

using namespace orgos;
using workflow::json;
namespace fs = std::filesystem;

namespace {

// cat and cid are clerks (they post and pack); bob and ben approve refunds.
const char* kOrg = R"org(
role Clerk { may post }
role Boss {}
event order.placed { ref: String }
event refund.asked { ref: String }
org Shop {
  units { department Sales }
  position b1: Boss in Sales held by "bob"
  position b2: Boss in Sales held by "ben"
  position c1: Clerk in Sales held by "cat"
  position c2: Clerk in Sales held by "cid"
}
process Fulfil(ref: String) { task pack by Clerk outcomes packed, lost }
rule on_order when order.placed e then start Fulfil(e.ref)
process Refund(ref: String) { approval by Boss }
rule on_refund when refund.asked e then start Refund(e.ref)
)org";

struct Shop {
  // First, so it goes last: with the store's files, also when open() throws and ~Shop does not run.
  orgos_test::TempDir dir{std::string("orgos-keys-") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name()};
  fs::path path;
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> e;

  Shop() {
    path = dir / "shop.db";
    c = driver::check_text("shop.org", kOrg);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = "test";
    b.files = {"shop.org"};
    open();
  }
  ~Shop() {
    e.reset();
    store.reset();
  }
  void open() {
    e.reset();
    store.reset();
    store = std::make_unique<store::Store>(path.string());
    workflow::EngineOptions eo;
    eo.start_time = 1767225600;
    eo.exec = workflow::ExecEngine::Interp;
    e = std::make_unique<workflow::Engine>(b, *store, eo);
  }
  int64_t newest_task() {
    int64_t id = 0;
    for (auto& t : e->tasks()) id = std::max(id, t.id);
    return id;
  }
  std::string status(int64_t task) { return e->task(task)->status; }
};

}  // namespace

// Before: cat's refused decision under K made bob's approval under K a no-op "duplicate".
TEST(Keys, ARefusalByOneActorDoesNotRefuseAnothersApprovalUnderTheSameKey) {
  Shop s;
  ASSERT_TRUE(s.e->post_event("refund.asked", {{"ref", "r"}}, "cat", "ask").ok);
  int64_t t = s.newest_task();
  auto refused = s.e->decide(t, "cat", true, "K");
  EXPECT_FALSE(refused.ok);
  EXPECT_FALSE(refused.duplicate);
  auto o = s.e->decide(t, "bob", true, "K");
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_FALSE(o.duplicate);
  EXPECT_EQ(s.status(t), "approved");
  // cat's retry still gets cat's first answer, the refusal.
  auto retry = s.e->decide(t, "cat", true, "K");
  EXPECT_FALSE(retry.ok);
  EXPECT_TRUE(retry.duplicate);
  EXPECT_NE(retry.error.find("cat may not decide"), std::string::npos) << retry.error;
}

// Before: cat's completion under cid's event key answered "duplicate" and left the task open.
TEST(Keys, ACompletionUnderAnotherActorsKeyIsApplied) {
  Shop s;
  ASSERT_TRUE(s.e->post_event("order.placed", {{"ref", "o"}}, "cid", "K").ok);
  int64_t t = s.newest_task();
  ASSERT_TRUE(s.e->complete_task(t, "cid", "", json::object(), "done-by-cid").ok);  // first: another task
  ASSERT_TRUE(s.e->post_event("order.placed", {{"ref", "p"}}, "cid", "K2").ok);
  int64_t t2 = s.newest_task();
  auto o = s.e->complete_task(t2, "cat", "packed", json::object(), "done-by-cid");
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_FALSE(o.duplicate);
  EXPECT_EQ(s.status(t2), "done");
  EXPECT_EQ(s.e->task(t2)->claimed_by, "cat");
}

// A key says nothing to another actor: cid's key is not "logged" for cat, and cat's input under it is new.
TEST(Keys, AnotherActorCannotProbeAKey) {
  Shop s;
  ASSERT_TRUE(s.e->post_event("order.placed", {{"ref", "o"}}, "cid", "secret").ok);
  EXPECT_TRUE(s.e->logged("cid", "event", "secret").has_value());
  EXPECT_FALSE(s.e->logged("cat", "event", "secret").has_value());
  EXPECT_FALSE(s.e->logged("cid", "start", "secret").has_value());  // and scoped to the kind of input
  auto o = s.e->post_event("order.placed", {{"ref", "o"}}, "cat", "secret");
  EXPECT_TRUE(o.ok);
  EXPECT_FALSE(o.duplicate);
  EXPECT_EQ(s.e->instances().size(), 2u);
}

TEST(Keys, TheSameKeyForAnotherRequestIsAConflict) {
  Shop s;
  ASSERT_TRUE(s.e->post_event("order.placed", {{"ref", "a"}}, "cat", "o-a").ok);
  int64_t a = s.newest_task();
  ASSERT_TRUE(s.e->post_event("order.placed", {{"ref", "b"}}, "cat", "o-b").ok);
  int64_t b = s.newest_task();
  ASSERT_TRUE(s.e->complete_task(a, "cat", "packed", json::object(), "K").ok);
  // Another task under K: a conflict, and task b stays open.
  auto other = s.e->complete_task(b, "cat", "packed", json::object(), "K");
  EXPECT_FALSE(other.ok);
  EXPECT_TRUE(other.conflict);
  EXPECT_FALSE(other.duplicate);
  EXPECT_NE(other.error.find("the key `K` was used by cat for another complete request"), std::string::npos)
      << other.error;
  EXPECT_EQ(s.status(b), "open");
  // The same task with another outcome or other data: a conflict too (the task being done is not the answer).
  EXPECT_TRUE(s.e->complete_task(a, "cat", "lost", json::object(), "K").conflict);
  EXPECT_TRUE(s.e->complete_task(a, "cat", "packed", {{"note", "x"}}, "K").conflict);
  // An event with another payload under a used key: a conflict, nothing started.
  auto ev = s.e->post_event("order.placed", {{"ref", "c"}}, "cat", "o-a");
  EXPECT_TRUE(ev.conflict) << ev.error;
  EXPECT_EQ(s.e->instances().size(), 2u);
  // The same request again is a retry: the first answer, nothing applied twice. No outcome means the
  // task's first (packed), as the first request meant it.
  auto retry = s.e->complete_task(a, "cat", "", json::object(), "K");
  EXPECT_TRUE(retry.ok) << retry.error;
  EXPECT_TRUE(retry.duplicate);
  EXPECT_FALSE(retry.conflict);
  auto again = s.e->post_event("order.placed", {{"ref", "a"}}, "cat", "o-a");
  EXPECT_TRUE(again.ok && again.duplicate);
  EXPECT_EQ(s.e->instances().size(), 2u);
}

// Before: the look-up bound the key up to its first NUL, so `k\0x` found `k`'s input.
TEST(Keys, AKeyIsAllItsBytesNulIncluded) {
  Shop s;
  const std::string nul("k\0x", 3);
  ASSERT_TRUE(s.e->post_event("order.placed", {{"ref", "a"}}, "cid", "k").ok);
  EXPECT_FALSE(s.e->logged("cid", "event", nul).has_value());
  auto o = s.e->post_event("order.placed", {{"ref", "b"}}, "cid", nul);
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_FALSE(o.duplicate);
  EXPECT_FALSE(o.conflict);
  EXPECT_EQ(s.e->instances().size(), 2u);
  EXPECT_TRUE(s.e->logged("cid", "event", nul).has_value());
  EXPECT_TRUE(s.e->logged("cid", "event", "k").has_value());
}

TEST(Keys, TheStoreLooksAKeyUpWithItsLength) {
  Shop s;
  store::Input in{0, "event", "k", 0, "cid", "{}"};
  s.store->begin();
  ASSERT_TRUE(s.store->append_input(in));
  s.store->commit();
  EXPECT_TRUE(s.store->input_result("k").has_value());
  EXPECT_FALSE(s.store->input_result(std::string("k\0x", 3)).has_value());
  EXPECT_FALSE(s.store->logged_input(std::string("k\0x", 3)).has_value());
  EXPECT_TRUE(s.store->input_result_with_prefix("k").has_value());
  EXPECT_FALSE(s.store->input_result_with_prefix("kk").has_value());
}

// No two (key, actor, kind) triples share a stored key, whatever separators the parts hold.
TEST(Keys, ScopesDoNotCollide) {
  using workflow::scoped_input_key;
  EXPECT_NE(scoped_input_key("a|1:b", "event", "k"), scoped_input_key("a", "event", "k|1:b"));
  EXPECT_NE(scoped_input_key("ab", "event", "k"), scoped_input_key("b", "event", "ka"));
  EXPECT_NE(scoped_input_key("a", "start", "k"), scoped_input_key("a", "event", "k"));
  EXPECT_EQ(scoped_input_key("a", "event", "k").rfind(workflow::input_key_prefix("k"), 0), 0u);
  EXPECT_NE(scoped_input_key("a", "event", "k1").rfind(workflow::input_key_prefix("k"), 0), 0u);
}

// The log replays to the same trace, keys and all; after a restart a retry is still a retry; a trusted
// local caller (the scenario runner's resume) still finds a step's key whoever gave it.
TEST(Keys, ReplayRestartAndResumeSeeTheScopedKeys) {
  Shop s;
  std::vector<std::string> live;
  s.e.reset();
  s.store.reset();
  s.store = std::make_unique<store::Store>(s.path.string());
  workflow::EngineOptions eo;
  eo.start_time = 1767225600;
  eo.exec = workflow::ExecEngine::Interp;
  eo.trace = [&](const std::string& l) { live.push_back(l); };
  s.e = std::make_unique<workflow::Engine>(s.b, *s.store, eo);
  ASSERT_TRUE(s.e->post_event("order.placed", {{"ref", "a"}}, "cat", "K").ok);
  int64_t t = s.newest_task();
  ASSERT_TRUE(s.e->post_event("refund.asked", {{"ref", "r"}}, "cid", "K").ok);
  int64_t ap = s.newest_task();
  EXPECT_FALSE(s.e->decide(ap, "cat", true, "K").ok);
  ASSERT_TRUE(s.e->decide(ap, "bob", true, "K").ok);
  ASSERT_TRUE(s.e->complete_task(t, "cat", "lost", json::object(), "K").ok);
  eo.trace = nullptr;
  auto replayed = workflow::Engine::replay(s.b, *s.store, eo);
  EXPECT_EQ(replayed, live);
  s.open();
  auto retry = s.e->complete_task(t, "cat", "lost", json::object(), "K");
  EXPECT_TRUE(retry.ok && retry.duplicate) << retry.error;
  EXPECT_TRUE(s.e->logged("K").has_value());
  EXPECT_FALSE(s.e->logged("K2").has_value());
}
