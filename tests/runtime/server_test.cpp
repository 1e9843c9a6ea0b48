// The engine server over real nng sockets on loopback: tokens decide who acts, every kind of bad request
// gets an error reply with a code (and the server keeps serving), the event stream carries what happened,
// and 32 concurrent clients posting events and completing tasks lose nothing and apply nothing twice.
#include "runtime/net/server.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/net/client.h"
#include "tests/temp_dir.h"

using namespace orgos;
using net::json;
namespace fs = std::filesystem;

namespace {

constexpr int kClerks = 32;

// 32 clerks who may post events and pack orders; bob holds a role that may do neither, but approves refunds.
std::string org_text() {
  std::string s =
      "role Clerk { may post }\n"
      "role Boss {}\n"
      "event order.placed { ref: String }\n"
      "org Shop {\n  units { department Sales }\n  position b: Boss in Sales held by \"bob\"\n";
  for (int i = 0; i < kClerks; ++i)
    s += "  position c" + std::to_string(i) + ": Clerk in Sales held by \"clerk" + std::to_string(i) + "\"\n";
  s += "}\n"
       "process Fulfil(ref: String) {\n  task pack by Clerk outcomes packed, lost\n}\n"
       "rule on_order when order.placed e then start Fulfil(e.ref)\n"
       "event refund.asked { ref: String }\n"
       "process Refund(ref: String) {\n  approval by Boss\n}\n"
       "rule on_refund when refund.asked e then start Refund(e.ref)\n"
       "event reminder.asked { ref: String }\n"
       "process Remind(ref: String) {\n  wait 1h\n  task follow_up by Clerk\n}\n"
       "rule on_reminder when reminder.asked e then start Remind(e.ref)\n"
       "metric orders = count(e in order.placed)\n";
  return s;
}

struct Served {
  // First, so it goes last: after the store closed, also when the constructor throws.
  orgos_test::TempDir dir{std::string("orgos-server-") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name()};
  fs::path path;
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> engine;
  std::unique_ptr<net::Server> server;
  std::map<std::string, std::string> tokens;  // actor → token

  std::atomic<int64_t> clock{1767225600};  // the server's idea of now, when a test makes it tick

  explicit Served(std::chrono::milliseconds tick = std::chrono::milliseconds(0)) {
    path = dir / "shop.db";
    c = driver::check_text("shop.org", org_text());
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = "test";
    b.files = {"shop.org"};
    store = std::make_unique<store::Store>(path.string());
    net::Tokens t(*store);
    int64_t id = 0;
    tokens["bob"] = t.add("bob", id);
    for (int i = 0; i < kClerks; ++i)
      tokens["clerk" + std::to_string(i)] = t.add("clerk" + std::to_string(i), id);
    workflow::EngineOptions eo;
    eo.start_time = 1767225600;
    eo.exec = workflow::ExecEngine::Interp;  // the JIT's cost is not what these tests measure
    eo.trace = [this](const std::string& l) {
      if (server) server->note(l);
    };
    engine = std::make_unique<workflow::Engine>(b, *store, eo);
    net::ServerOptions so;
    so.listen = "tcp://127.0.0.1:0";
    so.events = "tcp://127.0.0.1:0";
    so.tick = tick;
    so.now = [this] { return clock.load(); };
    server = std::make_unique<net::Server>(*engine, *store, so);
  }
  ~Served() {
    server.reset();
    engine.reset();
    store.reset();
  }
  std::unique_ptr<net::Client> client(const std::string& actor) {
    return std::make_unique<net::Client>(server->url(), actor.empty() ? "" : tokens.at(actor));
  }
  // A count from the store, read through its own connection after the server stopped.
  int64_t count(const std::string& sql) {
    server->stop();
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(store->handle(), sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return n;
  }
};

std::string code_of(const json& reply) {
  return reply.value("ok", false) ? "ok" : reply["error"].value("code", "?");
}

// The server still answers: every error test ends with this.
void still_serving(Served& s) {
  auto r = s.client("clerk0")->call({{"verb", "whoami"}});
  EXPECT_EQ(r["result"]["actor"], "clerk0") << r.dump();
}

int64_t post_and_get_task(Served& s, net::Client& c, const std::string& key) {
  auto r =
      c.call({{"verb", "events.post"}, {"name", "order.placed"}, {"payload", {{"ref", key}}}, {"key", key}});
  EXPECT_TRUE(r["ok"]) << r.dump();
  auto tasks = c.call({{"verb", "tasks.list"}});
  EXPECT_TRUE(tasks["ok"]) << tasks.dump();
  int64_t id = 0;
  for (auto& t : tasks["result"]) id = std::max<int64_t>(id, t["id"]);
  (void)s;
  return id;
}

}  // namespace

TEST(Server, TokenNamesTheActorOfItsCommands) {
  Served s;
  auto c = s.client("clerk3");
  auto who = c->call({{"verb", "whoami"}, {"id", 7}});
  EXPECT_EQ(who["result"]["actor"], "clerk3");
  EXPECT_EQ(who["id"], 7);
  int64_t task = post_and_get_task(s, *c, "o-1");
  ASSERT_NE(task, 0);
  auto done = c->call({{"verb", "tasks.complete"}, {"task", task}, {"outcome", "packed"}, {"key", "k1"}});
  EXPECT_TRUE(done["ok"]) << done.dump();
  auto list = c->call({{"verb", "tasks.list"}, {"all", true}});
  EXPECT_EQ(list["result"][0]["claimed_by"], "clerk3") << list.dump();
  auto inst = c->call({{"verb", "instances.list"}});
  EXPECT_EQ(inst["result"][0]["status"], "completed") << inst.dump();
  auto m = c->call({{"verb", "metrics.get"}});
  EXPECT_EQ(m["result"][0]["value"], "1") << m.dump();
}

TEST(Server, MalformedJsonIsBadJson) {
  Served s;
  auto r = json::parse(s.client("clerk0")->call_raw("{\"verb\": \"whoami\""));
  EXPECT_EQ(code_of(r), "bad_json");
  EXPECT_EQ(code_of(json::parse(s.client("clerk0")->call_raw("[1, 2]"))), "bad_json");
  still_serving(s);
}

TEST(Server, OversizedRequestIsTooLarge) {
  Served s;
  std::string big = R"({"verb":"whoami","pad":")" + std::string(net::kMaxRequestBytes, 'x') + "\"}";
  auto r = json::parse(s.client("clerk0")->call_raw(big));
  EXPECT_EQ(code_of(r), "too_large") << r.dump().substr(0, 200);
  still_serving(s);
}

TEST(Server, RequestOverTheHardLimitDropsOnlyThatConnection) {
  Served s;
  {
    // nng drops the connection; the REQ socket redials and resends until the timeout. nng 1.5.2 can then
    // hang in nng_close of this socket (it did, once, in a CI run): the client's close is bounded
    // (client.cpp, close_bounded), so the test goes on either way.
    net::Client c(s.server->url(), s.tokens["clerk0"], std::chrono::milliseconds(500));
    EXPECT_THROW(c.call_raw(std::string(net::kHardLimitBytes + 1, ' ')), net::ClientError);
  }
  still_serving(s);
}

TEST(Server, UnknownVerb) {
  Served s;
  auto r = s.client("clerk0")->call({{"verb", "tasks.delete"}});
  EXPECT_EQ(code_of(r), "unknown_verb");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("tasks.complete"), std::string::npos);
  still_serving(s);
}

TEST(Server, WrongFieldTypeIsBadRequest) {
  Served s;
  auto r = s.client("clerk0")->call({{"verb", "tasks.complete"}, {"task", "12"}});
  EXPECT_EQ(code_of(r), "bad_request");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("must be an integer"), std::string::npos) << r;
  still_serving(s);
}

TEST(Server, MissingFieldIsBadRequest) {
  Served s;
  auto r = s.client("clerk0")->call({{"verb", "approvals.decide"}, {"task", 1}});
  EXPECT_EQ(code_of(r), "bad_request");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("\"approve\""), std::string::npos) << r;
  still_serving(s);
}

TEST(Server, UnknownFieldIsBadRequest) {
  Served s;
  auto r = s.client("clerk0")->call({{"verb", "tasks.list"}, {"everything", true}});
  EXPECT_EQ(code_of(r), "bad_request");
  still_serving(s);
}

TEST(Server, MissingTokenIsUnauthenticated) {
  Served s;
  auto r = s.client("")->call({{"verb", "tasks.list"}});
  EXPECT_EQ(code_of(r), "unauthenticated");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("orgctl token add"), std::string::npos) << r;
  still_serving(s);
}

TEST(Server, UnknownTokenIsUnauthenticated) {
  Served s;
  net::Client c(s.server->url(), "orgos_0000");
  EXPECT_EQ(code_of(c.call({{"verb", "tasks.list"}})), "unauthenticated");
  still_serving(s);
}

TEST(Server, RevokedTokenIsUnauthenticated) {
  Served s;
  int64_t id = 0;
  // Revoked through its own connection while the server runs, as `orgctl token revoke` does.
  std::string token;
  {
    store::Store other(s.path.string(), store::OpenMode::SharedWrite);
    net::Tokens t(other);
    token = t.add("clerk5", id);
  }
  net::Client c(s.server->url(), token);
  EXPECT_TRUE(c.call({{"verb", "whoami"}})["ok"]);
  {
    store::Store other(s.path.string(), store::OpenMode::SharedWrite);
    EXPECT_TRUE(net::Tokens(other).revoke(id));
  }
  auto r = c.call({{"verb", "whoami"}});
  EXPECT_EQ(code_of(r), "unauthenticated");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("revoked"), std::string::npos) << r;
  still_serving(s);
}

TEST(Server, CompletingATaskThatIsNotOpenIsAConflict) {
  Served s;
  auto c = s.client("clerk1");
  int64_t task = post_and_get_task(s, *c, "o-1");
  ASSERT_TRUE(c->call({{"verb", "tasks.complete"}, {"task", task}, {"key", "a"}})["ok"]);
  auto again = c->call({{"verb", "tasks.complete"}, {"task", task}, {"key", "b"}});
  EXPECT_EQ(code_of(again), "conflict");
  EXPECT_NE(again["error"]["message"].get<std::string>().find("is done"), std::string::npos) << again;
  // The same command again (same key) is a retry, not a conflict: answered as the first time.
  auto retry = c->call({{"verb", "tasks.complete"}, {"task", task}, {"key", "a"}});
  EXPECT_TRUE(retry["ok"]) << retry;
  EXPECT_TRUE(retry["result"]["duplicate"]) << retry;
  still_serving(s);
}

TEST(Server, ClaimingATaskClaimedBySomeoneElseIsAConflict) {
  Served s;
  auto a = s.client("clerk1");
  auto b = s.client("clerk2");
  int64_t task = post_and_get_task(s, *a, "o-1");
  ASSERT_TRUE(a->call({{"verb", "tasks.claim"}, {"task", task}})["ok"]);
  auto r = b->call({{"verb", "tasks.claim"}, {"task", task}});
  EXPECT_EQ(code_of(r), "conflict");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("claimed by clerk1"), std::string::npos) << r;
  EXPECT_EQ(code_of(b->call({{"verb", "tasks.complete"}, {"task", task}})), "conflict");
  EXPECT_TRUE(a->call({{"verb", "tasks.complete"}, {"task", task}})["ok"]);
  still_serving(s);
}

TEST(Server, NoSuchTaskIsNotFound) {
  Served s;
  EXPECT_EQ(code_of(s.client("clerk0")->call({{"verb", "tasks.claim"}, {"task", 999}})), "not_found");
  still_serving(s);
}

TEST(Server, AnActorWithoutTheRoleIsRefused) {
  Served s;
  auto clerk = s.client("clerk0");
  int64_t task = post_and_get_task(s, *clerk, "o-1");
  auto bob = s.client("bob");
  // bob may neither act on the task nor read it: it is not found for him, as a task that does not exist.
  auto r = bob->call({{"verb", "tasks.complete"}, {"task", task}});
  EXPECT_EQ(code_of(r), "not_found");
  EXPECT_EQ(r["error"]["message"],
            "no task #" + std::to_string(task) + ": `orgctl tasks list` shows the open ones")
      << r;
  auto post = bob->call({{"verb", "events.post"}, {"name", "order.placed"}, {"payload", {{"ref", "x"}}}});
  EXPECT_EQ(code_of(post), "refused") << post;
  still_serving(s);
}

TEST(Server, AnOutcomeTheTaskDoesNotHaveIsBadRequest) {
  Served s;
  auto c = s.client("clerk0");
  int64_t task = post_and_get_task(s, *c, "o-1");
  auto r = c->call({{"verb", "tasks.complete"}, {"task", task}, {"outcome", "eaten"}});
  EXPECT_EQ(code_of(r), "bad_request");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("packed, lost"), std::string::npos) << r;
  still_serving(s);
}

TEST(Server, ApprovalsAreDecidedNotCompleted) {
  Served s;
  auto clerk = s.client("clerk0");
  ASSERT_TRUE(
      clerk->call({{"verb", "events.post"}, {"name", "refund.asked"}, {"payload", {{"ref", "r"}}}})["ok"]);
  auto tasks = clerk->call({{"verb", "tasks.list"}});
  ASSERT_EQ(tasks["result"].size(), 1u) << tasks;
  EXPECT_TRUE(tasks["result"][0]["approval"]) << tasks;
  int64_t id = tasks["result"][0]["id"];
  auto r = clerk->call({{"verb", "tasks.complete"}, {"task", id}});
  EXPECT_EQ(code_of(r), "conflict");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("approvals.decide"), std::string::npos) << r;
  EXPECT_EQ(code_of(clerk->call({{"verb", "approvals.decide"}, {"task", id}, {"approve", true}})), "refused");
  auto ok = s.client("bob")->call({{"verb", "approvals.decide"}, {"task", id}, {"approve", true}});
  EXPECT_TRUE(ok["ok"]) << ok;
  EXPECT_EQ(s.client("bob")->call({{"verb", "instances.list"}})["result"][0]["status"], "completed");
  still_serving(s);
}

// The server moves the engine clock on its own, so a process waiting an hour goes on once the hour passed.
TEST(Server, TheClockTicksAndTimersFire) {
  Served s(std::chrono::milliseconds(20));
  auto c = s.client("clerk0");
  ASSERT_TRUE(
      c->call({{"verb", "events.post"}, {"name", "reminder.asked"}, {"payload", {{"ref", "r"}}}})["ok"]);
  EXPECT_TRUE(c->call({{"verb", "tasks.list"}})["result"].empty());
  s.clock += 2 * 3600;
  bool opened = false;
  for (int i = 0; i < 250 && !opened; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    opened = !c->call({{"verb", "tasks.list"}})["result"].empty();
  }
  EXPECT_TRUE(opened) << "the wait never ended";
  EXPECT_EQ(s.count("SELECT count(*) FROM input_log WHERE kind = 'tick'"), 1);
}

TEST(Server, EventStreamCarriesWhatHappened) {
  Served s;
  net::Subscriber sub(s.server->events_url(), std::chrono::seconds(1));
  auto c = s.client("clerk0");
  // A subscription takes a moment to reach the publisher; post until the stream shows one.
  bool seen = false;
  for (int i = 0; i < 50 && !seen; ++i) {
    c->call({{"verb", "events.post"},
             {"name", "order.placed"},
             {"payload", {{"ref", "r"}}},
             {"key", std::to_string(i)}});
    while (!seen) {
      auto m = sub.next();
      if (!m) break;
      seen = (*m)["line"].get<std::string>().find("event order.placed") != std::string::npos;
    }
  }
  EXPECT_TRUE(seen);
  // Read on until the stream is quiet: nng 1.5.2 can hang closing a SUB socket while a message arrives
  // (net::Subscriber's destructor).
  while (sub.next()) {
  }
}

// 32 clients at once, each posting its orders (and every post a second time, as a client retrying after a
// lost reply would), then claiming and completing open tasks until none is left. Afterwards the store holds
// each event once, each task done once, and no input twice.
TEST(Server, ConcurrentClientsLoseNothingAndApplyNothingTwice) {
  constexpr int kOrders = 6;
  Served s;
  std::atomic<int> failures{0}, duplicates{0};
  std::vector<std::thread> clients;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < kClerks; ++i)
    clients.emplace_back([&, i] {
      try {
        std::string me = "clerk" + std::to_string(i);
        net::Client c(s.server->url(), s.tokens.at(me));
        for (int j = 0; j < kOrders; ++j) {
          std::string key = me + "-order-" + std::to_string(j);
          json post{
              {"verb", "events.post"}, {"name", "order.placed"}, {"payload", {{"ref", key}}}, {"key", key}};
          if (!c.call(post)["ok"]) failures++;
          auto retry = c.call(post);
          if (!retry["ok"]) failures++;
          if (retry["result"].value("duplicate", false)) duplicates++;
        }
        int n = 0;
        while (std::chrono::steady_clock::now() < deadline) {
          auto open = c.call({{"verb", "tasks.list"}});
          std::vector<int64_t> free;
          for (auto& t : open["result"])
            if (t["claimed_by"] == "" || t["claimed_by"] == me) free.push_back(t["id"]);
          if (open["result"].empty()) break;
          if (free.empty()) continue;
          int64_t id = free[static_cast<size_t>(i + n++) % free.size()];
          std::string key = me + "-task-" + std::to_string(id);
          auto claim = c.call({{"verb", "tasks.claim"}, {"task", id}, {"key", key + "-claim"}});
          if (!claim["ok"]) {
            if (claim["error"]["code"] != "conflict") failures++;
            continue;
          }
          json done{{"verb", "tasks.complete"}, {"task", id}, {"outcome", "packed"}, {"key", key}};
          if (!c.call(done)["ok"]) failures++;
          if (!c.call(done)["result"].value("duplicate", false)) failures++;  // the retry is recognised
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures++;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(duplicates, kClerks * kOrders);
  int64_t total = kClerks * kOrders;
  auto tasks = s.engine->tasks(false);
  EXPECT_EQ(static_cast<int64_t>(tasks.size()), total);
  for (auto& t : tasks) EXPECT_EQ(t.status, "done") << "task #" << t.id;
  for (auto& i : s.engine->instances()) EXPECT_EQ(i.status, "completed") << "instance #" << i.id;
  EXPECT_EQ(s.count("SELECT count(*) FROM input_log WHERE kind = 'event'"), total);
  EXPECT_EQ(s.count("SELECT count(*) FROM input_log WHERE kind = 'claim' AND result = ''"), total);
  EXPECT_EQ(s.count("SELECT count(*) FROM input_log WHERE kind = 'complete' AND result = ''"), total);
  EXPECT_EQ(s.count("SELECT count(*) FROM input_log"), 3 * total);
  EXPECT_EQ(
      s.count(
          "SELECT count(DISTINCT json_extract(payload, '$.task')) FROM input_log WHERE kind = 'complete'"),
      total);
}

TEST(Server, AnAddressInUseIsAClearError) {
  Served s;
  net::ServerOptions so;
  so.listen = s.server->url();
  try {
    net::Server second(*s.engine, *s.store, so);
    ADD_FAILURE() << "a second server bound " << so.listen;
  } catch (const net::ServerError& e) {
    EXPECT_NE(std::string(e.what()).find("choose another --listen address"), std::string::npos) << e.what();
  }
  still_serving(s);
}

// ---- keys are the actor's own

// Before: clerk0's refused decision under K made bob's approval under K come back refused, unapplied.
TEST(Server, OneActorsRefusalUnderAKeyDoesNotRefuseAnothersApproval) {
  Served s;
  auto clerk = s.client("clerk0");
  auto bob = s.client("bob");
  ASSERT_TRUE(
      clerk->call({{"verb", "events.post"}, {"name", "refund.asked"}, {"payload", {{"ref", "r"}}}})["ok"]);
  int64_t id = clerk->call({{"verb", "tasks.list"}})["result"][0]["id"];
  auto refused = clerk->call({{"verb", "approvals.decide"}, {"task", id}, {"approve", true}, {"key", "K"}});
  EXPECT_EQ(code_of(refused), "refused") << refused;
  auto ok = bob->call({{"verb", "approvals.decide"}, {"task", id}, {"approve", true}, {"key", "K"}});
  EXPECT_TRUE(ok["ok"]) << ok;
  EXPECT_FALSE(ok["result"]["duplicate"]) << ok;
  EXPECT_EQ(bob->call({{"verb", "instances.list"}})["result"][0]["status"], "completed");
  still_serving(s);
}

// Before: a completion under another actor's key answered `ok, duplicate` and the task stayed open.
TEST(Server, ACompletionUnderAnotherActorsKeyIsApplied) {
  Served s;
  auto a = s.client("clerk1");
  auto b = s.client("clerk2");
  int64_t first = post_and_get_task(s, *a, "o-1");
  ASSERT_TRUE(a->call({{"verb", "tasks.complete"}, {"task", first}, {"key", "K"}})["ok"]);
  int64_t task = post_and_get_task(s, *a, "o-2");
  auto r = b->call({{"verb", "tasks.complete"}, {"task", task}, {"key", "K"}});
  EXPECT_TRUE(r["ok"]) << r;
  EXPECT_FALSE(r["result"]["duplicate"]) << r;
  auto all = b->call({{"verb", "tasks.list"}, {"all", true}})["result"];
  for (auto& t : all)
    if (t["id"] == task) {
      EXPECT_EQ(t["status"], "done") << t;
    }
  still_serving(s);
}

TEST(Server, AKeyReusedForAnotherRequestIsAConflict) {
  Served s;
  auto c = s.client("clerk3");
  int64_t one = post_and_get_task(s, *c, "o-1");
  int64_t two = post_and_get_task(s, *c, "o-2");
  ASSERT_TRUE(c->call({{"verb", "tasks.complete"}, {"task", one}, {"key", "K"}})["ok"]);
  auto r = c->call({{"verb", "tasks.complete"}, {"task", two}, {"key", "K"}});
  EXPECT_EQ(code_of(r), "conflict") << r;
  EXPECT_NE(r["error"]["message"].get<std::string>().find("a new request needs a new key"), std::string::npos)
      << r;
  EXPECT_EQ(c->call({{"verb", "tasks.list"}})["result"].size(), 1u);  // task two is still open
  auto post = c->call(
      {{"verb", "events.post"}, {"name", "order.placed"}, {"payload", {{"ref", "x"}}}, {"key", "o-1"}});
  EXPECT_EQ(code_of(post), "conflict") << post;
  auto retry = c->call({{"verb", "tasks.complete"}, {"task", one}, {"key", "K"}});
  EXPECT_TRUE(retry["ok"] && retry["result"]["duplicate"]) << retry;
  still_serving(s);
}

// Before: the look-up stopped at the NUL, so `k\0x` was answered as a retry of `k`.
TEST(Server, AKeyWithANulByteIsNotTheKeyBeforeIt) {
  Served s;
  auto c = s.client("clerk4");
  auto post = [&](const std::string& ref, const std::string& key) {
    return c->call(
        {{"verb", "events.post"}, {"name", "order.placed"}, {"payload", {{"ref", ref}}}, {"key", key}});
  };
  ASSERT_TRUE(post("a", "k")["ok"]);
  auto r = post("b", std::string("k\0x", 3));
  EXPECT_TRUE(r["ok"]) << r;
  EXPECT_FALSE(r["result"]["duplicate"]) << r;
  EXPECT_EQ(c->call({{"verb", "tasks.list"}})["result"].size(), 2u);
  still_serving(s);
}

// ---- who may read what

TEST(Server, EachActorListsOnlyWhatTheyMayRead) {
  Served s;
  auto clerk0 = s.client("clerk0");
  auto clerk1 = s.client("clerk1");
  auto bob = s.client("bob");
  post_and_get_task(s, *clerk0, "o-1");
  ASSERT_TRUE(
      clerk0->call({{"verb", "events.post"}, {"name", "refund.asked"}, {"payload", {{"ref", "r"}}}})["ok"]);
  auto names = [](const json& list, const char* field) {
    std::vector<std::string> out;
    for (auto& x : list["result"]) out.push_back(x[field]);
    return out;
  };
  using Names = std::vector<std::string>;
  // clerk0 packs and asked for the refund; clerk1 packs; bob decides refunds.
  EXPECT_EQ(names(clerk0->call({{"verb", "tasks.list"}}), "name"), (Names{"pack", "approval by Boss"}));
  EXPECT_EQ(names(clerk1->call({{"verb", "tasks.list"}}), "name"), Names{"pack"});
  EXPECT_EQ(names(bob->call({{"verb", "tasks.list"}}), "name"), Names{"approval by Boss"});
  EXPECT_EQ(names(clerk1->call({{"verb", "instances.list"}}), "process"), Names{"Fulfil"});
  EXPECT_EQ(names(bob->call({{"verb", "instances.list"}}), "process"), Names{"Refund"});
  EXPECT_EQ(names(bob->call({{"verb", "metrics.get"}}), "name"), Names{"orders"});  // a member
  still_serving(s);
}

TEST(Server, ATaskTheActorMayNotReadIsNotFoundAndTheRefusalAudited) {
  Served s;
  auto clerk = s.client("clerk0");
  int64_t task = post_and_get_task(s, *clerk, "o-1");
  auto bob = s.client("bob");
  auto hidden = bob->call({{"verb", "tasks.claim"}, {"task", task}});
  auto missing = bob->call({{"verb", "tasks.claim"}, {"task", 999999}});
  EXPECT_EQ(code_of(hidden), "not_found") << hidden;
  EXPECT_EQ(hidden["error"]["message"].get<std::string>(),
            "no task #" + std::to_string(task) + ": `orgctl tasks list` shows the open ones");
  EXPECT_EQ(code_of(missing), "not_found") << missing;
  EXPECT_EQ(
      s.count("SELECT count(*) FROM audit WHERE actor = 'bob' AND action = 'read' AND decision = 'refused' "
              "AND resource = 'task pack #" +
              std::to_string(task) + "'"),
      1);
}
