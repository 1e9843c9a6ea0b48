// An attacker's pass over the server (`events.read`, the strict reader, the token first), on real loopback
// sockets: a peer with a valid token of a low-privileged actor, or with none, tries to crash or hang the
// server with one message, and to starve the other readers of the event stream.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
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

// cat is a clerk (it may post and reads its own events), and may not read salaries; pam may read them;
// vic holds no position: its token is valid, and it may read nothing. A rule answers a question about a
// salary (an event anyone who may post can post) by joining it with the Salary record.
const char* kOrg = R"org(
role Clerk { may post }
role Payroll { may read Salary }
record Order { ref: String }
event order.placed { ref: String }
record Salary { person: String, amount: String }
event salary.given { person: String, amount: String }
event salary.asked { person: String }
org Shop {
  units { department Sales }
  position c1: Clerk in Sales held by "cat"
  position p1: Payroll in Sales held by "pam"
}
rule book when order.placed e then insert Order { ref: e.ref }
rule keep when salary.given e then insert Salary { person: e.person, amount: e.amount }
rule tell when salary.asked e, Salary s where s.person == e.person then notify "hr" "salary of " + s.person + " is " + s.amount
event salary.told { person: String, amount: String }
rule pass_on when salary.asked e, Salary s where s.person == e.person then emit salary.told { person: s.person, amount: s.amount }
rule told when salary.told t then notify "hr" "told " + t.amount
process Pack(ref: String) {
  task wrap by Clerk outcomes done, lost
}
rule relay when salary.asked e, Salary s where s.person == e.person then start Relay(s.amount)
process Relay(amount: String) {
  notify "hr" "amount " + amount
  run Hold(amount)
}
process Hold(amount: String) { task hold by Payroll }
)org";

struct Served {
  orgos_test::TempDir dir{"orgos-adversary"};  // first: removed last, whatever happened
  fs::path path = dir / "shop.db";
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> engine;
  std::unique_ptr<net::Server> server;
  std::map<std::string, std::string> tokens;  // actor → token
  std::map<std::string, int64_t> token_ids;   // actor → its token's id (`orgctl token revoke ID`)

  explicit Served(net::ServerOptions so = {}) {
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
    for (const char* a : {"cat", "pam", "vic", "system"}) {
      tokens[a] = t.add(a, id);
      token_ids[a] = id;
    }
    workflow::EngineOptions eo;
    eo.start_time = 1767225600;
    eo.exec = workflow::ExecEngine::Interp;
    eo.trace = [this](const std::string& l) {
      if (server) server->note(l);
    };
    engine = std::make_unique<workflow::Engine>(b, *store, eo);
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
};

std::string code_of(const json& r) {
  return r.contains("error") ? r["error"].value("code", "") : "";
}

}  // namespace

// One actor's long polls cannot take every place a read may wait in. Before, the server let at most half
// its request contexts wait, whoever the readers were: one actor with a valid token and no rights parked
// that many reads, and every other reader's wait was answered at once, empty (`orgctl events tail` then
// asks again at once, in a loop, instead of waiting). Now one actor waits in at most
// ServerOptions::max_event_waits_per_actor places; its further reads are answered at once.
TEST(ServerAdversary, OneActorsLongPollsDoNotTakeTheOthersWaits) {
  net::ServerOptions so;
  so.contexts = 16;                  // 8 places to wait in
  so.max_event_waits_per_actor = 4;  // vic waits in 4 of them
  Served s(so);
  std::atomic<int> answered{0};
  std::vector<std::thread> parked;
  for (int i = 0; i < 12; ++i)
    parked.emplace_back([&] {
      net::Client c(s.server->url(), s.tokens.at("vic"), milliseconds(10000));
      auto r = c.call({{"verb", "events.read"}, {"wait_ms", 1200}});
      EXPECT_TRUE(r.value("ok", false)) << r.dump();
      ++answered;
    });
  std::this_thread::sleep_for(milliseconds(400));  // vic's reads are in: some wait, the rest are answered
  json got;
  std::thread reader([&] {
    net::Client c(s.server->url(), s.tokens.at("cat"), milliseconds(10000));
    got = c.call({{"verb", "events.read"}, {"wait_ms", 2000}});
  });
  std::this_thread::sleep_for(milliseconds(300));
  auto posted =
      s.call("cat", {{"verb", "events.post"}, {"name", "order.placed"}, {"payload", {{"ref", "a"}}}});
  ASSERT_TRUE(posted.value("ok", false)) << posted.dump();
  reader.join();
  for (auto& t : parked) t.join();
  EXPECT_EQ(answered.load(), 12);
  ASSERT_TRUE(got.value("ok", false)) << got.dump();
  // cat's read waited, and was answered with its own event, not at once with nothing.
  ASSERT_FALSE(got["result"]["events"].empty()) << got.dump();
  EXPECT_NE(got["result"]["events"][0]["line"].get<std::string>().find("order.placed"), std::string::npos)
      << got.dump();
}

namespace {

// A request's raw bytes with the token of `actor` ("" for none) spliced in before the fields.
std::string with_token(const std::string& token, const std::string& fields) {
  std::string t = token.empty() ? "" : "\"token\":" + json(token).dump() + ",";
  return "{" + t + fields + "}";
}

std::string nested(int depth, const std::string& inner) {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

}  // namespace

// Odd values in every field, from an actor with a valid token and no rights, and from one with none: each
// gets a JSON error (or answer) saying what is wrong, within the client's timeout, in a reply of a few KiB,
// and the server goes on. (The last case failed before: the refusal of an event name of 100,000 NULs was
// cut to 2 KiB of bytes, which JSON writes as six bytes each, a reply of 12 KiB.)
TEST(ServerAdversary, OddValuesInEveryFieldAreAnsweredAndTheServerGoesOn) {
  net::ServerOptions so;
  so.max_event_wait = milliseconds(200);  // a read that may wait does so briefly
  Served s(so);
  // An open task, so that the task verbs reach the task.
  auto started =
      s.call("system", {{"verb", "processes.start"}, {"process", "Pack"}, {"args", {{"ref", "p"}}}});
  ASSERT_TRUE(started.value("ok", false)) << started.dump();
  auto open = s.call("cat", {{"verb", "tasks.list"}});
  ASSERT_EQ(open["result"].size(), 1u) << open.dump();
  const std::string task = std::to_string(open["result"][0]["id"].get<int64_t>());

  const std::string vic = s.tokens.at("vic"), cat = s.tokens.at("cat");
  const std::string max64 = "9223372036854775807", min64 = "-9223372036854775808";
  struct Case {
    std::string token, fields, code;  // code "" for ok
  };
  std::vector<Case> cases = {
      // events.read: the largest and smallest 64-bit values, floats, zero and negatives.
      {vic, R"("verb":"events.read","after":)" + max64 + R"(,"max":1000,"wait_ms":)" + max64, ""},
      {vic, R"("verb":"events.read","after":)" + min64, "bad_request"},
      {vic, R"("verb":"events.read","wait_ms":)" + min64, "bad_request"},
      {vic, R"("verb":"events.read","max":)" + max64, "bad_request"},
      {vic, R"("verb":"events.read","max":0)", "bad_request"},
      {vic, R"("verb":"events.read","max":-1)", "bad_request"},
      {vic, R"("verb":"events.read","max":1001)", "bad_request"},
      {vic, R"("verb":"events.read","max":1.5)", "bad_request"},
      {vic, R"("verb":"events.read","after":1e18)", "bad_request"},
      {vic, R"("verb":"events.read","after":-0,"max":1000)", ""},
      {vic, R"("verb":"events.read","after":18446744073709551615)", "bad_request"},
      {vic, R"("verb":"events.read","after":1e400)", "bad_json"},
      // Task ids no task has, also for a task that exists but vic may not read: the same not_found.
      {vic, R"("verb":"tasks.claim","task":)" + min64, "not_found"},
      {vic, R"("verb":"tasks.claim","task":-1)", "not_found"},
      {vic, R"("verb":"tasks.complete","task":)" + max64, "not_found"},
      {vic, R"("verb":"tasks.complete","task":)" + task + R"(,"outcome":"x\u0000")", "not_found"},
      {vic, R"("verb":"approvals.decide","approve":true,"task":)" + task, "not_found"},
      {cat, R"("verb":"tasks.complete","task":)" + task + R"(,"outcome":"done\u0000")", "bad_request"},
      {cat, R"("verb":"tasks.complete","task":)" + task + R"(,"data":)" + nested(62, "1"), "bad_request"},
      // NUL, escaped surrogates and bytes that are not UTF-8, in verbs, tokens, names and keys.
      {vic, R"("verb":"whoami\u0000")", "unknown_verb"},
      {"", R"("verb":"whoami","token":")" + vic + R"(\u0000")", "unauthenticated"},
      {"", R"("verb":"whoami","token":"\u0000)" + vic + "\"", "unauthenticated"},
      {vic, R"("verb":"events.post","name":"order.placed\u0000","payload":{})", "refused"},
      {vic, R"("verb":"events.post","name":"\ud800")", "bad_json"},
      {vic, R"("verb":"events.post","name":"\udc00\ud800")", "bad_json"},
      {vic, "\"verb\":\"events.post\",\"name\":\"\xc0\xaf\"", "bad_json"},
      {vic, "\"verb\":\"events.post\",\"name\":\"\xed\xa0\x80\"", "bad_json"},
      {vic, "\"verb\":\"events.post\",\"name\":\"\xf4\x90\x80\x80\"", "bad_json"},
      {"", "\"verb\":\"whoami\",\"token\":\"\xff\"", "bad_json"},
      {cat, R"("verb":"events.post","name":"order.placed","key":"\u0000","payload":{"ref":"\u0000"})", ""},
      // Deep values in each object field: at the limit they reach the engine, past it they are bad_json.
      {cat, R"("verb":"events.post","name":"order.placed","payload":{"ref":)" + nested(62, "1") + "}",
       "refused"},
      {cat, R"("verb":"events.post","name":"order.placed","payload":{"ref":)" + nested(64, "1") + "}",
       "bad_json"},
      {vic, R"("verb":"processes.start","process":"Pack","args":{"ref":)" + nested(62, "\"x\"") + "}",
       "refused"},
      {"", R"("verb":"processes.start","process":"Pack","args":{"ref":)" + nested(64, "\"x\"") + "}",
       "bad_json"},
      {"", R"("verb":"whoami","id":)" + nested(63, "1"), "unauthenticated"},
      {"", R"("verb":"whoami","id":1e308)", "unauthenticated"},
  };
  // Many keys in one payload, and a long name made of NULs.
  std::string wide = "{";
  for (int i = 0; i < 20000; ++i)
    wide += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":" + "1";
  wide += "}";
  cases.push_back({cat, R"("verb":"events.post","name":"order.placed","payload":)" + wide, "refused"});
  std::string nuls;
  for (int i = 0; i < 100000; ++i) nuls += "\\u0000";
  cases.push_back({cat, R"("verb":"events.post","name":")" + nuls + "\"", "refused"});

  net::Client c(s.server->url(), "", milliseconds(5000));
  for (const Case& k : cases) {
    std::string raw = with_token(k.token, k.fields);
    std::string reply;
    ASSERT_NO_THROW(reply = c.call_raw(raw)) << raw.substr(0, 200);
    ASSERT_LT(reply.size(), 4000u) << raw.substr(0, 200);
    json r = json::parse(reply);
    ASSERT_TRUE(r.is_object()) << reply;
    if (k.code.empty())
      EXPECT_TRUE(r.value("ok", false)) << raw.substr(0, 200) << "\n" << reply;
    else
      EXPECT_EQ(code_of(r), k.code) << raw.substr(0, 200) << "\n" << reply;
  }
  auto who = s.call("cat", {{"verb", "whoami"}});
  EXPECT_EQ(who["result"].value("actor", ""), "cat") << who.dump();
}

namespace {

// Every line `actor` may read, one a line.
std::string lines_of(Served& s, const std::string& actor) {
  auto r = s.call(actor, {{"verb", "events.read"}, {"after", 0}, {"max", 1000}});
  EXPECT_TRUE(r.value("ok", false)) << r.dump();
  std::string all;
  for (auto& l : r["result"]["events"]) all += l["line"].get<std::string>() + "\n";
  return all;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

// A rule firing on an event and a record is read by who may read both. Before, the event's readers (its
// poster) read it whatever the record: cat, who may post but not read salaries, asked about ann's salary
// and read "notify hr: salary of ann is 99000 USD" on the stream.
TEST(ServerAdversary, PostingAnEventARuleJoinsWithARecordDoesNotShowTheRecord) {
  Served s;
  auto given = s.call("system", {{"verb", "events.post"},
                                 {"name", "salary.given"},
                                 {"payload", {{"person", "ann"}, {"amount", "99000 USD"}}}});
  ASSERT_TRUE(given.value("ok", false)) << given.dump();
  auto asked =
      s.call("cat", {{"verb", "events.post"}, {"name", "salary.asked"}, {"payload", {{"person", "ann"}}}});
  ASSERT_TRUE(asked.value("ok", false)) << asked.dump();
  std::string sys = lines_of(s, "system");
  ASSERT_TRUE(has(sys, "rule tell fires on Salary #")) << sys;
  ASSERT_TRUE(has(sys, "salary of ann is 99000 USD")) << sys;

  std::string cat = lines_of(s, "cat");
  EXPECT_TRUE(has(cat, "event salary.asked")) << cat;  // its own event, still
  EXPECT_FALSE(has(cat, "99000")) << cat;
  EXPECT_FALSE(has(cat, "rule tell fires")) << cat;
  // Nor through an event a join emits: it comes from the records as much as from cat's question.
  ASSERT_TRUE(has(sys, "notify hr: told 99000 USD")) << sys;
  EXPECT_FALSE(has(cat, "rule told fires")) << cat;
  // pam reads salaries but not cat's question (salary.asked is not hers to read): not the firing either.
  std::string pam = lines_of(s, "pam");
  EXPECT_TRUE(has(pam, "create Salary #")) << pam;
  EXPECT_FALSE(has(pam, "rule tell fires")) << pam;
  EXPECT_EQ(lines_of(s, "vic"), "");
}

// A read that waits is checked again when lines come: a token revoked meanwhile (by `orgctl token revoke`,
// another process, beside the server) reads none of them. Before, pam's read waiting when her token was
// revoked was answered with the salary line written after the revocation.
TEST(ServerAdversary, AReadWaitingWhenItsTokenIsRevokedGetsNoLaterLines) {
  Served s;
  json got;
  std::thread reader([&] {
    net::Client c(s.server->url(), s.tokens.at("pam"), milliseconds(10000));
    got = c.call({{"verb", "events.read"}, {"wait_ms", 5000}});
  });
  std::this_thread::sleep_for(milliseconds(300));  // pam's read waits
  std::string cmd = std::string(ORGCTL_PATH) + " token revoke " + std::to_string(s.token_ids.at("pam")) +
                    " --db " + s.path.string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto given = s.call("system", {{"verb", "events.post"},
                                 {"name", "salary.given"},
                                 {"payload", {{"person", "bo"}, {"amount", "1 USD"}}}});
  ASSERT_TRUE(given.value("ok", false)) << given.dump();
  reader.join();
  EXPECT_EQ(code_of(got), "unauthenticated") << got.dump();
  EXPECT_FALSE(has(got.dump(), "Salary")) << got.dump();
  EXPECT_EQ(code_of(s.call("pam", {{"verb", "whoami"}})), "unauthenticated");
}

namespace {

// A process whose argument is a record of one type (Big), and a record of another type (Small) in the store.
const char* kTypedOrg = R"org(
role Starter { may start Show }
record Big { a: String, b: String, c: String, d: String, e: String }
record Small { x: String }
event small.given { x: String }
org Shop {
  units { department Sales }
  position s1: Starter in Sales held by "cat"
}
rule keep when small.given e then insert Small { x: e.x }
process Show(big: Big) {
  notify "hr" "e is " + big.e
}
)org";

}  // namespace

// A record given by reference ({"$id": N}) must be of the type the field declares. Before, the record with
// that id was taken whatever its type: a Small (one field) passed as a Big, whose fifth field was then read.
TEST(ServerAdversary, ARecordGivenByIdMustBeOfTheFieldsType) {
  orgos_test::TempDir dir{"orgos-adversary-typed"};
  auto c = driver::check_text("shop.org", kTypedOrg);
  ASSERT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  auto lw = ir::lower(*c);
  bundle::Bundle b;
  b.module = std::move(lw.module);
  b.program = std::move(lw.program);
  b.source_hash = "test";
  b.files = {"shop.org"};
  auto store = std::make_unique<store::Store>((dir / "shop.db").string());
  int64_t id = 0;
  std::string cat = net::Tokens(*store).add("cat", id), sys = net::Tokens(*store).add("system", id);
  workflow::EngineOptions eo;
  eo.start_time = 1767225600;
  eo.exec = workflow::ExecEngine::Interp;
  auto engine = std::make_unique<workflow::Engine>(b, *store, eo);
  net::ServerOptions so;
  so.listen = "tcp://127.0.0.1:0";
  so.now = [] { return int64_t{1767225600}; };
  auto server = std::make_unique<net::Server>(*engine, *store, so);
  {
    net::Client system(server->url(), sys), clerk(server->url(), cat);
    auto given = system.call({{"verb", "events.post"}, {"name", "small.given"}, {"payload", {{"x", "s"}}}});
    ASSERT_TRUE(given.value("ok", false)) << given.dump();
    // Ids 1 to 7: the Small among them is refused as an id naming no Big is, with the same message.
    auto start = [&](int64_t n) {
      return clerk.call(
          {{"verb", "processes.start"}, {"process", "Show"}, {"args", {{"big", {{"$id", n}}}}}});
    };
    std::string none = start(999)["error"].value("message", "");
    for (int64_t n = 1; n < 8; ++n) {
      auto r = start(n);
      EXPECT_FALSE(r.value("ok", false)) << "id " << n << ": " << r.dump();
      EXPECT_EQ(r["error"].value("message", ""), none) << "id " << n << ": " << r.dump();
    }
    auto who = clerk.call({{"verb", "whoami"}});
    EXPECT_TRUE(who.value("ok", false)) << who.dump();
  }
  server.reset();
  engine.reset();
  store.reset();
}

// An instance a rule starts on the poster's event alone is the poster's to read; one it starts on stored
// records too is fed from what the poster may not read, so it is not the poster's (nor is what that instance
// runs). Before, cat's question started Relay with ann's salary, and cat read `notify hr: amount 99000 USD`
// and listed the instance and its child.
TEST(ServerAdversary, AnInstanceARuleStartsOnRecordsIsNotThePostersToRead) {
  Served s;
  ASSERT_TRUE(s.call("system", {{"verb", "events.post"},
                                {"name", "salary.given"},
                                {"payload", {{"person", "ann"}, {"amount", "99000 USD"}}}})
                  .value("ok", false));
  ASSERT_TRUE(
      s.call("cat", {{"verb", "events.post"}, {"name", "salary.asked"}, {"payload", {{"person", "ann"}}}})
          .value("ok", false));
  std::string sys = lines_of(s, "system");
  ASSERT_TRUE(has(sys, "notify hr: amount 99000 USD")) << sys;
  ASSERT_TRUE(has(sys, "start Hold #")) << sys;
  std::string cat = lines_of(s, "cat");
  EXPECT_FALSE(has(cat, "99000")) << cat;
  EXPECT_FALSE(has(cat, "Relay")) << cat;
  EXPECT_FALSE(has(cat, "Hold")) << cat;
  json listed = s.call("cat", {{"verb", "instances.list"}});
  EXPECT_FALSE(has(listed.dump(), "Relay")) << listed.dump();
  EXPECT_FALSE(has(listed.dump(), "Hold")) << listed.dump();
  // pam holds the role of Hold's task, so she reads that instance — as a participant, not as a starter.
  json pam = s.call("pam", {{"verb", "instances.list"}});
  EXPECT_TRUE(has(pam.dump(), "Hold")) << pam.dump();
}
