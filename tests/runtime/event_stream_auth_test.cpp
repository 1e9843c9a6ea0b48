// Who reads the lines about no instance on the event stream (`events.read` over real loopback sockets): an
// event as posted is read by its poster and by who is granted `read` on it, and a `forbid read` policy
// hides it; a rule firing on it is read by the event's readers; a record a rule creates is read by who may
// read its type (and by the readers of the event behind it), unless a policy on the record hides it; the
// org's lines by its members. Reading the stream audits nothing: it is a list, not a request for one thing.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/net/client.h"
#include "runtime/net/server.h"
#include "tests/temp_dir.h"

using namespace orgos;
using net::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

// cat and cid are clerks (they may post); aud may read the event order.placed (and secret.noted, which a
// policy hides from everyone); kim may read the record type Order, which a policy hides when it is secret;
// bob holds a position and nothing else; vic holds none.
const char* kOrg = R"org(
role Clerk { may post }
role Auditor { may read order.placed  may read secret.noted }
role Bookkeeper { may read Order }
role Boss {}
record Order { ref: String, secret: Bool }
event order.placed { ref: String }
event secret.noted { ref: String }
policy hush: forbid read secret.noted
policy hide_secret: forbid read Order when resource.secret
org Shop {
  units { department Sales }
  position c1: Clerk in Sales held by "cat"
  position c2: Clerk in Sales held by "cid"
  position a: Auditor in Sales held by "aud"
  position k: Bookkeeper in Sales held by "kim"
  position b: Boss in Sales held by "bob"
}
rule book when order.placed e then insert Order { ref: e.ref, secret: e.ref == "s" }
rule note when secret.noted e then notify "ops" "noted " + e.ref
event parcel.asked { ref: String }
event parcel.packed { ref: String }
process Pack(ref: String) {
  task wrap by Clerk outcomes done
  emit parcel.packed { ref: ref }
}
rule ask when parcel.asked e then start Pack(e.ref)
rule log_pack when parcel.packed e then notify "ops" "packed " + e.ref
event refund.paid { amount: Int }
event refunds.high { name: String, value: Int }
metric refunds = sum(e.amount for e in refund.paid) alert > 100 emit refunds.high
)org";

struct Served {
  orgos_test::TempDir dir{"orgos-stream-auth"};  // first: removed last, whatever happened
  fs::path path = dir / "shop.db";
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> engine;
  std::unique_ptr<net::Server> server;
  std::map<std::string, std::string> tokens;  // actor → token

  Served() {
    c = driver::check_text("shop.org", kOrg);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = "test";
    b.files = {"shop.org"};
    store = std::make_unique<store::Store>(path.string());
    net::Tokens t(*store);
    int64_t id = 0;
    for (const char* a : {"cat", "cid", "aud", "kim", "bob", "vic", "system"}) tokens[a] = t.add(a, id);
    workflow::EngineOptions eo;
    eo.start_time = 1767225600;
    eo.exec = workflow::ExecEngine::Interp;
    eo.trace = [this](const std::string& l) {
      if (server) server->note(l);
    };
    engine = std::make_unique<workflow::Engine>(b, *store, eo);
    net::ServerOptions so;
    so.listen = "tcp://127.0.0.1:0";
    so.now = [] { return int64_t{1767225600}; };
    server = std::make_unique<net::Server>(*engine, *store, so);
  }
  ~Served() {
    server.reset();
    engine.reset();
    store.reset();
  }
  json call(const std::string& actor, json request) {
    net::Client c(server->url(), tokens.at(actor));
    return c.call(std::move(request));
  }
  void post(const std::string& actor, const std::string& event, const std::string& ref) {
    auto r = call(actor, {{"verb", "events.post"}, {"name", event}, {"payload", {{"ref", ref}}}});
    ASSERT_TRUE(r.value("ok", false)) << r.dump();
  }
  // Every line the actor may read, one a line.
  std::string lines_of(const std::string& actor) {
    auto r = call(actor, {{"verb", "events.read"}, {"after", 0}, {"max", 1000}});
    EXPECT_TRUE(r.value("ok", false)) << r.dump();
    std::string all;
    for (auto& l : r["result"]["events"]) all += l["line"].get<std::string>() + "\n";
    return all;
  }
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

// The line of an event as posted and the rule firing on it: before, only `system` read them.
TEST(EventStreamAuth, AnEventsLinesGoToItsPosterAndWhoIsGrantedReadOnIt) {
  Served s;
  s.post("cat", "order.placed", "a");
  std::string sys = s.lines_of("system");
  ASSERT_TRUE(has(sys, "event order.placed {\"ref\":\"a\"}")) << sys;
  ASSERT_TRUE(has(sys, "rule book fires")) << sys;
  ASSERT_TRUE(has(sys, "create Order #")) << sys;

  std::string cat = s.lines_of("cat");  // the poster: its event, the decision on posting it, what it caused
  EXPECT_TRUE(has(cat, "allow cat post event order.placed")) << cat;
  EXPECT_TRUE(has(cat, "event order.placed {\"ref\":\"a\"}")) << cat;
  EXPECT_TRUE(has(cat, "rule book fires")) << cat;
  EXPECT_TRUE(has(cat, "create Order #")) << cat;

  std::string aud = s.lines_of("aud");  // `may read order.placed`
  EXPECT_TRUE(has(aud, "event order.placed {\"ref\":\"a\"}")) << aud;
  EXPECT_TRUE(has(aud, "rule book fires")) << aud;

  std::string cid = s.lines_of("cid");  // another clerk, without the grant: none of cat's lines
  EXPECT_EQ(cid, "") << cid;
  EXPECT_EQ(s.lines_of("bob"), "");
  EXPECT_EQ(s.lines_of("vic"), "");

  std::string kim = s.lines_of("kim");  // `may read Order`: the record the rule made, not the event
  EXPECT_TRUE(has(kim, "create Order #")) << kim;
  EXPECT_FALSE(has(kim, "event order.placed")) << kim;
  EXPECT_FALSE(has(kim, "rule book fires")) << kim;
}

TEST(EventStreamAuth, AForbidReadPolicyHidesAnEventEvenFromItsPosterAndGrantees) {
  Served s;
  s.post("cat", "secret.noted", "x");
  std::string sys = s.lines_of("system");
  ASSERT_TRUE(has(sys, "event secret.noted")) << sys;
  ASSERT_TRUE(has(sys, "notify ops: noted x")) << sys;
  for (const char* who : {"cat", "aud", "cid", "kim"}) {
    std::string l = s.lines_of(who);
    EXPECT_FALSE(has(l, "secret.noted")) << who << ":\n" << l;
    EXPECT_FALSE(has(l, "noted x")) << who << ":\n" << l;
  }
}

// A policy on the record itself (`forbid read Order when resource.secret`) is decided on the stored record
// when the line is read: it hides the line of a secret order from its type's readers and from the event's.
TEST(EventStreamAuth, APolicyOnARecordHidesTheLinesAboutIt) {
  Served s;
  s.post("cat", "order.placed", "s");  // the rule books a secret order
  s.post("cat", "order.placed", "p");  // and a plain one
  std::string sys = s.lines_of("system");
  ASSERT_TRUE(has(sys, "rule book fires")) << sys;
  auto creates = [](const std::string& l) {
    size_t n = 0;
    for (size_t at = l.find("create Order #"); at != std::string::npos; at = l.find("create Order #", at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(creates(sys), 2u) << sys;
  EXPECT_EQ(creates(s.lines_of("kim")), 1u);
  EXPECT_EQ(creates(s.lines_of("aud")), 1u);
  EXPECT_EQ(creates(s.lines_of("cat")), 1u);
}

// The organization's lines (the clock, the org's lifecycle) go to its members, not to who holds no
// position; lines about nothing known to `system` alone.
TEST(EventStreamAuth, TheOrganizationsLinesGoToItsMembers) {
  Served s;
  s.server->stop();  // the engine is asked directly, off the server's thread
  workflow::TraceSubject org = workflow::AboutOrganization{};
  EXPECT_TRUE(s.engine->may_read_line("bob", org));
  EXPECT_TRUE(s.engine->may_read_line("cid", org));
  EXPECT_FALSE(s.engine->may_read_line("vic", org));
  EXPECT_TRUE(s.engine->may_read_line("system", org));
  EXPECT_FALSE(s.engine->may_read_line("bob", workflow::AboutNothing{}));
}

// A reader waiting for lines is woken by a line it may read that is about no instance (before, such lines
// never reached it, and its wait ran out empty).
TEST(EventStreamAuth, AWaitingReaderIsWokenByAnEventItMayRead) {
  Served s;
  net::Client aud(s.server->url(), s.tokens.at("aud"), milliseconds(10000));
  int64_t next = aud.call({{"verb", "events.read"}})["result"]["next"];
  std::thread later([&] {
    std::this_thread::sleep_for(milliseconds(200));
    s.post("cat", "order.placed", "w");
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = aud.call({{"verb", "events.read"}, {"after", next}, {"wait_ms", 5000}});
  auto took = std::chrono::steady_clock::now() - t0;
  later.join();
  ASSERT_TRUE(r.value("ok", false)) << r.dump();
  ASSERT_FALSE(r["result"]["events"].empty()) << r.dump();
  EXPECT_TRUE(has(r["result"]["events"][0]["line"].get<std::string>(), "order.placed")) << r.dump();
  EXPECT_LT(took, milliseconds(4000));
}

// Lines hidden from a reader are passed over like a list's rows: no audit entry, whoever reads.
TEST(EventStreamAuth, ReadingTheStreamAuditsNothing) {
  Served s;
  s.post("cat", "order.placed", "a");
  s.post("cat", "secret.noted", "x");
  s.server->stop();
  size_t before = s.store->audit_entries().size();
  for (const char* who : {"cid", "vic", "aud", "kim", "bob"})
    for (const auto& about : std::vector<workflow::TraceSubject>{
             workflow::AboutEvent{"secret.noted", "cat", 0}, workflow::AboutEvent{"order.placed", "cat", 0},
             workflow::AboutRecords{{{"Order", 999}}, std::nullopt, ""}, workflow::AboutInstance{12345},
             workflow::AboutOrganization{}})
      s.engine->may_read_line(who, about);
  EXPECT_EQ(s.store->audit_entries().size(), before);
}

// An event a process emits is its instance's: the readers of the instance read the event's line and the
// lines of the rule that fires on it; who may not read the instance reads none of them.
TEST(EventStreamAuth, AnEventAProcessEmitsIsReadByTheReadersOfItsInstance) {
  Served s;
  s.post("system", "parcel.asked", "k");  // posted by system: no other poster reads it
  auto tasks = s.call("cat", {{"verb", "tasks.list"}});
  ASSERT_TRUE(tasks.value("ok", false)) << tasks.dump();
  ASSERT_EQ(tasks["result"].size(), 1u) << tasks.dump();
  int64_t task = tasks["result"][0]["id"];
  auto done = s.call("cat", {{"verb", "tasks.complete"}, {"task", task}, {"outcome", "done"}});
  ASSERT_TRUE(done.value("ok", false)) << done.dump();
  std::string sys = s.lines_of("system");
  ASSERT_TRUE(has(sys, "emit parcel.packed")) << sys;
  ASSERT_TRUE(has(sys, "rule log_pack fires")) << sys;
  ASSERT_TRUE(has(sys, "notify ops: packed k")) << sys;
  for (const char* reader : {"cat", "cid"}) {  // clerks: they may act on the instance's task
    std::string l = s.lines_of(reader);
    EXPECT_TRUE(has(l, "emit parcel.packed")) << reader << ":\n" << l;
    EXPECT_TRUE(has(l, "rule log_pack fires")) << reader << ":\n" << l;
    EXPECT_TRUE(has(l, "notify ops: packed k")) << reader << ":\n" << l;
    EXPECT_FALSE(has(l, "event parcel.asked")) << reader << ":\n" << l;  // system's post
  }
  for (const char* other : {"aud", "kim", "bob", "vic"}) EXPECT_EQ(s.lines_of(other), "") << other;
}

// A metric's alert is read as the KPI is: by the members of the organization, not by who holds no position.
// The event it raises was posted by no one: only who is granted `read` on it would read that.
TEST(EventStreamAuth, AMetricsAlertIsReadByWhoMayReadTheKpi) {
  Served s;
  auto r = s.call("cat", {{"verb", "events.post"}, {"name", "refund.paid"}, {"payload", {{"amount", 150}}}});
  ASSERT_TRUE(r.value("ok", false)) << r.dump();
  std::string sys = s.lines_of("system");
  ASSERT_TRUE(has(sys, "alert refunds = 150: emit refunds.high")) << sys;
  for (const char* member : {"cat", "cid", "aud", "kim", "bob"}) {
    std::string l = s.lines_of(member);
    EXPECT_TRUE(has(l, "alert refunds = 150")) << member << ":\n" << l;
  }
  EXPECT_EQ(s.lines_of("vic"), "");
}
