// The server under attack, over real sockets on loopback: requests built to crash it (JSON nested
// 100,000 deep), peers that send and never read, idle and half-open connections, TLS with a right and a
// wrong CA, and the authenticated event stream. Each test ends by showing that a normal client is still
// answered, within a second where the attack could have starved it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/net/client.h"
#include "runtime/net/event_ring.h"
#include "runtime/net/server.h"
#include "runtime/net/tokens.h"
#include "tests/temp_dir.h"

using namespace orgos;
using net::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string org_text() {
  return "role Clerk { may post }\n"
         "event order.placed { ref: String }\n"
         "event stock.counted { n: Int }\n"
         "org Shop {\n  units { department Sales }\n"
         "  position c: Clerk in Sales held by \"clerk\"\n"
         "  position m: Clerk in Sales held by \"mallory\"\n}\n"
         "process Fulfil(ref: String) {\n  task pack by Clerk outcomes packed, lost\n}\n"
         "rule on_order when order.placed e then start Fulfil(e.ref)\n";
}

// A store, an engine and a server on loopback, with the options a test gives.
struct Served {
  // First: it goes last, after the store is closed, also when the constructor throws (a server that
  // cannot listen) and ~Served does not run. Its name carries the test's, for whoever finds it.
  orgos_test::TempDir dir{std::string("orgos-attack-") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name()};
  fs::path path;
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> engine;
  std::unique_ptr<net::Server> server;
  std::map<std::string, std::string> tokens;  // actor → token

  explicit Served(net::ServerOptions so = {}) {
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
    for (const char* a : {"clerk", "mallory", "system", "vic"}) tokens[a] = t.add(a, id);  // vic: no role
    workflow::EngineOptions eo;
    eo.start_time = 1767225600;
    eo.exec = workflow::ExecEngine::Interp;
    eo.trace = [this](const std::string& l) {
      if (server) server->note(l);
    };
    engine = std::make_unique<workflow::Engine>(b, *store, eo);
    if (so.listen == net::ServerOptions{}.listen) so.listen = "tcp://127.0.0.1:0";
    so.now = [] { return int64_t{1767225600}; };
    server = std::make_unique<net::Server>(*engine, *store, so);
  }
  ~Served() {
    server.reset();
    engine.reset();
    store.reset();
  }
  int port() const { return std::stoi(server->url().substr(server->url().rfind(':') + 1)); }
};

std::string code_of(const json& reply) {
  return reply.value("ok", false) ? "ok" : reply["error"].value("code", "?");
}

// A normal client's whoami: answered, and within a second.
void answered_within_a_second(Served& s) {
  auto t0 = Clock::now();
  try {
    net::Client c(s.server->url(), s.tokens.at("clerk"), milliseconds(1000));
    auto r = c.call({{"verb", "whoami"}});
    EXPECT_EQ(r["result"]["actor"], "clerk") << r.dump();
  } catch (const net::ClientError& e) {
    ADD_FAILURE() << "a normal client was not answered: " << e.what();
  }
  EXPECT_LT(Clock::now() - t0, milliseconds(1000));
}

std::string nested(const std::string& open, const std::string& close, int depth, const std::string& inner) {
  std::string s;
  s.reserve(static_cast<size_t>(depth) * (open.size() + close.size()) + inner.size());
  for (int i = 0; i < depth; ++i) s += open;
  s += inner;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

// A peer that speaks nng's SP protocol over a plain TCP socket, so that it can do what no nng socket
// would: send requests and never read the replies, connect and say nothing, stop mid-handshake. Plain
// sockets also close without nng's close race (client.h).
struct RawPeer {
  int fd = -1;
  // `from`: the source address (any 127.x.y.z is loopback); rcvbuf > 0 shrinks the receive buffer, so the
  // server's replies back up quickly.
  RawPeer(int port, const char* from = nullptr, int rcvbuf = 0) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (from) {
      sockaddr_in src{};
      src.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &src.sin_addr);
      EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src), 0) << "bind " << from;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  }
  ~RawPeer() { ::close(fd); }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  // The SP header of a REQ peer (protocol 48), or its first `n` bytes.
  void handshake(size_t n = 8) {
    const unsigned char h[8] = {0, 'S', 'P', 0, 0, 48, 0, 0};
    EXPECT_EQ(::send(fd, h, n, MSG_NOSIGNAL), static_cast<ssize_t>(n));
  }
  // One request (length, request id with the end bit, body), waiting at most `wait` for room in the
  // socket; false when it took none (the server stopped reading) or the server closed it.
  bool request(uint32_t id, const std::string& body, milliseconds wait = milliseconds(100)) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
    std::string m(12, '\0');
    uint64_t len = body.size() + 4;
    for (int i = 0; i < 8; ++i) m[static_cast<size_t>(i)] = static_cast<char>(len >> (56 - 8 * i));
    uint32_t rid = id | 0x80000000u;
    for (int i = 0; i < 4; ++i) m[static_cast<size_t>(8 + i)] = static_cast<char>(rid >> (24 - 8 * i));
    m += body;
    ssize_t n = ::send(fd, m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == static_cast<ssize_t>(m.size());
  }
  // Whether the server closed the connection (reads until end of stream or `wait` passes).
  bool closed_by_server(milliseconds wait) {
    auto until = Clock::now() + wait;
    char buf[65536];
    while (Clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      int left = static_cast<int>(std::chrono::duration_cast<milliseconds>(until - Clock::now()).count());
      if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
    }
    return false;
  }
};

}  // namespace

// ---- Requests built to crash the server ----

TEST(ServerAttack, IdNested100000DeepIsBadJsonAndTheServerGoesOn) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  std::string deep = nested("[", "]", 100000, "");
  auto r = json::parse(c.call_raw(R"({"verb":"whoami","id":)" + deep + "}"));
  EXPECT_EQ(code_of(r), "bad_json") << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("64 levels"), std::string::npos) << r.dump();
  EXPECT_FALSE(r.contains("id"));
  answered_within_a_second(s);
}

TEST(ServerAttack, DeepFieldsWithoutVerbOrTokenAreBadJson) {
  Served s;
  net::Client c(s.server->url(), "");
  for (const std::string& body :
       {R"({"x":)" + nested("[", "]", 100000, "1") + "}", nested(R"({"a":)", "}", 100000, "1"),
        nested("[", "", 100000, "")})  // never closed: refused on the depth all the same
  {
    auto r = json::parse(c.call_raw(body));
    EXPECT_EQ(code_of(r), "bad_json") << r.dump();
  }
  answered_within_a_second(s);
}

TEST(ServerAttack, BracketsInsideStringsDoNotCountAsNesting) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  // 200 brackets after an escaped quote and a backslash: still inside the string.
  std::string id = "a\\\"\\\\" + std::string(200, '[');
  auto r = json::parse(
      c.call_raw(R"({"verb":"whoami","token":")" + s.tokens.at("clerk") + R"(","id":")" + id + "\"}"));
  EXPECT_EQ(code_of(r), "ok") << r.dump();
  EXPECT_EQ(r["id"], "a\"\\" + std::string(200, '['));
  // Exactly the limit (the request object and 63 arrays) is accepted.
  r = json::parse(c.call_raw(R"({"verb":"whoami","token":")" + s.tokens.at("clerk") + R"(","id":)" +
                             nested("[", "]", net::kMaxJsonDepth - 1, "") + "}"));
  EXPECT_EQ(code_of(r), "ok") << r.dump();
  r = json::parse(c.call_raw(R"({"verb":"whoami","token":")" + s.tokens.at("clerk") + R"(","id":)" +
                             nested("[", "]", net::kMaxJsonDepth, "") + "}"));
  EXPECT_EQ(code_of(r), "bad_json") << r.dump();
}

TEST(ServerAttack, OnlyShortStringsAndNumbersAreEchoedAsId) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  EXPECT_EQ(c.call({{"verb", "whoami"}, {"id", 7}})["id"], 7);
  EXPECT_EQ(c.call({{"verb", "whoami"}, {"id", 2.5}})["id"], 2.5);
  EXPECT_EQ(c.call({{"verb", "whoami"}, {"id", "r-1"}})["id"], "r-1");
  std::string longest(net::kMaxEchoedIdBytes, 'x');
  EXPECT_EQ(c.call({{"verb", "whoami"}, {"id", longest}})["id"], longest);
  for (const json& id : {json(longest + "x"), json{{"a", 1}}, json::array({1, 2}), json(true)}) {
    auto r = c.call({{"verb", "whoami"}, {"id", id}});
    EXPECT_EQ(code_of(r), "ok") << r.dump();
    EXPECT_FALSE(r.contains("id")) << r.dump().substr(0, 300);
  }
  // Error replies too, including the ones before the token is looked at.
  auto r = c.call({{"id", json::array({1})}});
  EXPECT_EQ(code_of(r), "bad_request");
  EXPECT_FALSE(r.contains("id"));
  EXPECT_EQ(c.call({{"id", 5}})["id"], 5);
}

TEST(ServerAttack, LongNamesAreCutInMessages) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  // A verb of 100,000 two-byte characters: the message shows its start, cut at a character boundary.
  std::string verb;
  for (int i = 0; i < 100000; ++i) verb += "é";
  std::string raw = c.call_raw(json{{"verb", verb}, {"token", s.tokens.at("clerk")}}.dump());
  EXPECT_LT(raw.size(), 2000u);
  auto r = json::parse(raw);
  EXPECT_EQ(code_of(r), "unknown_verb");
  r = c.call({{"verb", "whoami"}, {std::string(100000, 'f'), 1}});
  EXPECT_EQ(code_of(r), "bad_request");
  EXPECT_LT(r.dump().size(), 2000u);
  // Names that reach the engine and come back in its refusal (an event of a 100,000-byte name, a payload
  // field of one) are cut too: the reply had all 100,000 bytes.
  r = c.call({{"verb", "events.post"}, {"name", std::string(100000, 'e')}});
  EXPECT_EQ(code_of(r), "refused") << r.dump().substr(0, 300);
  EXPECT_LT(r.dump().size(), 3000u);
  r = c.call({{"verb", "events.post"},
              {"name", "order.placed"},
              {"payload", {{"ref", "x"}, {std::string(100000, 'p'), 1}}}});
  EXPECT_NE(code_of(r), "ok");
  EXPECT_LT(r.dump().size(), 3000u);
  answered_within_a_second(s);
}

// ---- Who is asking comes first ----

// Without a valid token the only answer is `unauthenticated`, whatever else is wrong with the request:
// a sender without one learned from the replies which verbs and fields exist (the verb list came back).
// Only what must be read to find the token (size, nesting, JSON) is refused before it.
TEST(ServerAttack, NoTokenOrABadOneIsUnauthenticatedWhateverElseIsWrong) {
  Served s;
  const std::vector<json> wrong = {
      json::object(),                                  // no verb
      {{"verb", 5}},                                   // verb not a string
      {{"verb", "tasks.delete"}},                      // no such verb
      {{"verb", "tasks.list"}, {"everything", true}},  // no such field
      {{"verb", "tasks.complete"}, {"task", "12"}},    // a field of the wrong type
      {{"verb", "approvals.decide"}, {"task", 1}},     // a field missing
      {{"verb", "whoami"}},                            // nothing wrong but the token
  };
  std::string revoked;
  {  // through its own connection while the server runs, as `orgctl token revoke` does
    store::Store other(s.path.string(), store::OpenMode::SharedWrite);
    net::Tokens t(other);
    int64_t id = 0;
    revoked = t.add("clerk", id);
    ASSERT_TRUE(t.revoke(id));
  }
  for (const std::string& token : {std::string(), std::string("orgos_0000"), revoked}) {
    for (json req : wrong) {
      if (!token.empty()) req["token"] = token;
      req["id"] = 9;
      net::Client c(s.server->url(), "");
      auto r = c.call(req);
      EXPECT_EQ(code_of(r), "unauthenticated") << req.dump() << " → " << r.dump();
      std::string m = r["error"].value("message", "");
      EXPECT_EQ(m.find("verbs:"), std::string::npos) << m;
      EXPECT_EQ(m.find("field"), std::string::npos) << m;
      EXPECT_EQ(r["id"], 9) << r.dump();
    }
  }
  // A token that is not a string is no token either.
  net::Client c(s.server->url(), "");
  auto r = c.call({{"verb", "nope"}, {"token", 42}});
  EXPECT_EQ(code_of(r), "unauthenticated") << r.dump();
  // With a valid token, the same requests get their own answers.
  net::Client ok(s.server->url(), s.tokens.at("clerk"));
  EXPECT_EQ(code_of(ok.call(wrong[0])), "bad_request");
  EXPECT_EQ(code_of(ok.call(wrong[2])), "unknown_verb");
  EXPECT_EQ(code_of(ok.call(wrong[3])), "bad_request");
  // What is read to find the token is still refused first.
  EXPECT_EQ(code_of(json::parse(c.call_raw("{\"verb\": "))), "bad_json");
  EXPECT_EQ(code_of(json::parse(c.call_raw("[1]"))), "bad_json");
  answered_within_a_second(s);
}

// ---- JSON that means two things, or nothing ----

// A key twice in one object was accepted and the last one won: {"approve": false, "approve": true} was
// an approval. Refused as bad_json, naming the key and where, before anything is applied.
TEST(ServerAttack, DuplicateKeysAreBadJsonNamingTheKey) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  const std::string& t = s.tokens.at("clerk");
  auto r = json::parse(c.call_raw(R"({"verb":"events.post","token":")" + t +
                                  R"(","name":"order.placed","payload":{"ref":"a","ref":"b"}})"));
  EXPECT_EQ(code_of(r), "bad_json") << r.dump();
  std::string m = r["error"].value("message", "");
  EXPECT_NE(m.find("duplicate key \"ref\""), std::string::npos) << m;
  EXPECT_NE(m.find("/payload"), std::string::npos) << m;
  r = json::parse(c.call_raw(R"({"verb":"whoami","verb":"tasks.list","token":")" + t + "\"}"));
  EXPECT_EQ(code_of(r), "bad_json") << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("\"verb\""), std::string::npos) << r.dump();
  // Two tokens: which one is asking? Refused before either is looked at.
  r = json::parse(c.call_raw(R"({"verb":"whoami","token":"x","token":")" + t + "\"}"));
  EXPECT_EQ(code_of(r), "bad_json") << r.dump();
  // Nothing was posted.
  EXPECT_TRUE(c.call({{"verb", "instances.list"}})["result"].empty());
  // The same key in two objects is fine.
  r = json::parse(c.call_raw(R"({"verb":"events.post","token":")" + t +
                             R"(","name":"order.placed","payload":{"ref":"a"},"id":{"ref":1}})"));
  EXPECT_EQ(code_of(r), "ok") << r.dump();
}

// 1e400 fits no double: it was "not valid JSON" in a request (and "not an object" alone). It is a number
// out of range, and the reply says where.
TEST(ServerAttack, ANumberOutOfRangeIsBadJsonSayingWhere) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  auto r = json::parse(c.call_raw(R"({"verb":"events.post","token":")" + s.tokens.at("clerk") +
                                  R"(","name":"order.placed","payload":{"ref":"a","n":[1,-1e400]}})"));
  EXPECT_EQ(code_of(r), "bad_json") << r.dump();
  std::string m = r["error"].value("message", "");
  EXPECT_NE(m.find("-1e400"), std::string::npos) << m;
  EXPECT_NE(m.find("out of range"), std::string::npos) << m;
  EXPECT_NE(m.find("/payload/n/1"), std::string::npos) << m;
  r = json::parse(c.call_raw("1e400"));
  EXPECT_EQ(code_of(r), "bad_json") << r.dump();
  m = r["error"].value("message", "");
  EXPECT_NE(m.find("out of range"), std::string::npos) << m;
  EXPECT_NE(m.find("top level"), std::string::npos) << m;
  // A syntax error says where too.
  r = json::parse(c.call_raw(R"({"verb":"whoami","x":[1,2,}])"));
  EXPECT_EQ(code_of(r), "bad_json") << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("/x/2"), std::string::npos) << r.dump();
  answered_within_a_second(s);
}

// Bytes that are not UTF-8 in a request are bad_json, and the reply does not quote them: a message carrying
// them cannot be written as JSON (dump() throws), which would end the server.
TEST(ServerAttack, BytesThatAreNotUtf8AreBadJsonAndNotQuoted) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  for (const std::string& body : {std::string("{\"verb\":\"\xff\xfe\"}"), std::string("{\"\xc3\":1}"),
                                  std::string("{\"verb\":\"whoami\",\"id\":\"a\xed\xa0\x80z\"}")}) {
    std::string raw = c.call_raw(body);
    auto r = json::parse(raw);  // valid JSON, so valid UTF-8
    EXPECT_EQ(code_of(r), "bad_json") << raw;
    EXPECT_NE(r["error"].value("message", "").find("UTF-8"), std::string::npos) << raw;
  }
  // Any error message is made writable, whatever it quotes.
  EXPECT_NO_THROW((void)net::error_reply(nullptr, net::Code::Refused, "no event `\xff`").dump());
  answered_within_a_second(s);
}

// A task id past INT64_MAX wrapped to a negative id (9223372036854775808 asked for task
// #-9223372036854775808), and one past UINT64_MAX was "not an integer". Both are out of range.
TEST(ServerAttack, TaskIdsBeyondInt64AreRefused) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  for (const char* id : {"9223372036854775808", "18446744073709551615", "99999999999999999999", "-1e19"}) {
    auto r = json::parse(
        c.call_raw(R"({"verb":"tasks.claim","token":")" + s.tokens.at("clerk") + R"(","task":)" + id + "}"));
    EXPECT_EQ(code_of(r), "bad_request") << id << " → " << r.dump();
    std::string m = r["error"].value("message", "");
    EXPECT_NE(m.find("out of range"), std::string::npos) << m;
    EXPECT_NE(m.find("\"task\""), std::string::npos) << m;
  }
  // The largest int64 is a task id like any other: there is no such task.
  auto r = json::parse(c.call_raw(R"({"verb":"tasks.claim","token":")" + s.tokens.at("clerk") +
                                  R"(","task":9223372036854775807})"));
  EXPECT_EQ(code_of(r), "not_found") << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("#9223372036854775807"), std::string::npos);
}

// An Int field of a payload past INT64_MAX was accepted and stored wrapped (18446744073709551615 as -1).
TEST(ServerAttack, AnIntFieldBeyondInt64IsRefusedNotWrapped) {
  Served s;
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  for (const char* n : {"9223372036854775808", "18446744073709551615"}) {
    auto r = json::parse(c.call_raw(R"({"verb":"events.post","token":")" + s.tokens.at("clerk") +
                                    R"(","name":"stock.counted","payload":{"n":)" + n + "}}"));
    EXPECT_EQ(code_of(r), "refused") << n << " → " << r.dump();
    EXPECT_NE(r["error"].value("message", "").find("out of range"), std::string::npos) << r.dump();
  }
  auto r = json::parse(c.call_raw(R"({"verb":"events.post","token":")" + s.tokens.at("clerk") +
                                  R"(","name":"stock.counted","payload":{"n":9223372036854775807}})"));
  EXPECT_EQ(code_of(r), "ok") << r.dump();
}

// ---- Peers that hold what they do not use ----

namespace {

// Opens `n` tasks, so that a `tasks.list` reply is large (about 10 KB) and a peer that does not read
// fills its socket buffers after a few hundred of them.
void open_tasks(Served& s, int n) {
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  for (int i = 0; i < n; ++i) {
    std::string key = "o-" + std::to_string(i);
    ASSERT_TRUE(c.call({{"verb", "events.post"},
                        {"name", "order.placed"},
                        {"payload", {{"ref", key + std::string(100, 'r')}}},
                        {"key", key}})["ok"]);
  }
}

// `peers` connections that send tasks.list requests as fast as the socket takes them and never read.
std::vector<std::unique_ptr<RawPeer>> flood(Served& s, int peers, int requests) {
  std::vector<std::unique_ptr<RawPeer>> out;
  std::string body = json{{"verb", "tasks.list"}, {"all", true}, {"token", s.tokens.at("mallory")}}.dump();
  for (int p = 0; p < peers; ++p) {
    out.push_back(std::make_unique<RawPeer>(s.port(), nullptr, 4096));
    out.back()->handshake();
  }
  // Round-robin, until each has sent `requests` or the server stopped reading from it.
  std::vector<bool> going(out.size(), true);
  for (int i = 0; i < requests; ++i)
    for (size_t p = 0; p < out.size(); ++p)
      if (going[p]) going[p] = out[p]->request(static_cast<uint32_t>(i + 1), body);
  // The server works through what it received, until the replies back up and stick: only then could
  // they hold the contexts others need.
  std::this_thread::sleep_for(milliseconds(1000));
  return out;
}

}  // namespace

// Each slow reader gets at most max_pending_per_connection requests worked on at once; the rest are
// dropped unanswered, so the contexts its stuck replies hold are a few of the 64, and others are served.
TEST(ServerAttack, PeersThatNeverReadDoNotStarveOthers) {
  // The attackers stay connected until the server has stopped: closing them while their requests
  // still arrive races nng 1.5.2's pipe teardown (client.h).
  std::vector<std::unique_ptr<RawPeer>> peers;
  Served s;  // the default limits
  open_tasks(s, 40);
  peers = flood(s, 4, 1500);
  answered_within_a_second(s);
  EXPECT_GE(s.server->connections_refused(), 4);
  answered_within_a_second(s);
}

// With no cap on requests in flight per connection, the send timeout alone frees the contexts: a reply
// not taken within it is dropped, and so is every later request of that connection.
TEST(ServerAttack, RepliesNotTakenInTimeFreeTheirContexts) {
  // The attackers stay connected until the server has stopped: closing them while their requests
  // still arrive races nng 1.5.2's pipe teardown (client.h).
  std::vector<std::unique_ptr<RawPeer>> peers;
  net::ServerOptions so;
  so.max_pending_per_connection = 1000;
  so.send_timeout = milliseconds(300);
  Served s(so);
  open_tasks(s, 40);
  peers = flood(s, 4, 1500);
  answered_within_a_second(s);
  EXPECT_GE(s.server->connections_refused(), 1);
  answered_within_a_second(s);
  // Let the last stuck replies time out before the server stops: nng 1.5.2 can hang closing a socket
  // while a send's timeout fires.
  std::this_thread::sleep_for(milliseconds(500));
}

// Connections from one address beyond the per-peer cap are closed at once; the rest are closed when
// idle; connections that never finish the SP handshake hold no context. A client from another address is
// answered throughout.
TEST(ServerAttack, IdleAndHalfOpenConnectionsAreCappedAndClosed) {
  net::ServerOptions so;
  so.max_connections_per_peer = 16;
  so.idle_timeout = milliseconds(400);
  Served s(so);
  std::vector<std::unique_ptr<RawPeer>> idle, silent;
  for (int i = 0; i < 40; ++i) {
    idle.push_back(std::make_unique<RawPeer>(s.port(), "127.0.0.2"));
    idle.back()->handshake();
  }
  for (int i = 0; i < 60; ++i) {
    silent.push_back(std::make_unique<RawPeer>(s.port(), "127.0.0.3"));
    if (i % 2) silent.back()->handshake(4);  // half a handshake
  }
  answered_within_a_second(s);
  // The 24 over the cap were closed at once.
  int closed = 0;
  for (auto& p : idle) closed += p->closed_by_server(milliseconds(20));
  EXPECT_GE(closed, 24);
  EXPECT_LE(s.server->connections(), 17);
  // The others once idle for 400 ms.
  for (auto& p : idle) EXPECT_TRUE(p->closed_by_server(milliseconds(1500)));
  for (int i = 0; i < 100 && s.server->connections() > 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(s.server->connections(), 0);
  answered_within_a_second(s);
}

// ---- TLS ----

namespace {

// A self-signed certificate for localhost and 127.0.0.1 (the name is also a DNS entry: mbedTLS 2.28
// checks a server name against DNS entries only), made with the openssl command.
struct SelfSigned {
  fs::path dir, cert, key;
  explicit SelfSigned(const std::string& name) {
    dir = fs::temp_directory_path() / ("orgos-tls-" + std::to_string(::getpid()) + "-" + name);
    fs::create_directories(dir);
    cert = dir / "cert.pem";
    key = dir / "key.pem";
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
        "/CN=localhost -addext subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1 -keyout " +
        key.string() + " -out " + cert.string() + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "openssl is needed for the TLS tests: " << cmd;
  }
  ~SelfSigned() { fs::remove_all(dir); }
};

net::ServerOptions tls_options(const SelfSigned& c) {
  net::ServerOptions so;
  so.listen = "tls+tcp://127.0.0.1:0";
  so.tls_cert = c.cert.string();
  so.tls_key = c.key.string();
  return so;
}

}  // namespace

TEST(ServerAttack, TlsClientWithTheRightCaIsServed) {
  SelfSigned cert("right");
  Served s(tls_options(cert));
  ASSERT_EQ(s.server->url().rfind("tls+tcp://127.0.0.1:", 0), 0u) << s.server->url();
  EXPECT_NE(s.server->url().substr(s.server->url().rfind(':')), ":0");
  net::TlsClientOptions tls;
  tls.ca_file = cert.cert.string();
  net::Client c(s.server->url(), s.tokens.at("clerk"), milliseconds(5000), tls);
  auto r = c.call({{"verb", "whoami"}});
  EXPECT_EQ(r["result"]["actor"], "clerk") << r.dump();
}

TEST(ServerAttack, TlsClientWithAnotherCaIsRefused) {
  SelfSigned cert("server"), other("other");
  Served s(tls_options(cert));
  net::TlsClientOptions tls;
  tls.ca_file = other.cert.string();
  try {
    net::Client c(s.server->url(), s.tokens.at("clerk"), milliseconds(2000), tls);
    ADD_FAILURE() << "connected to a server whose certificate the CA did not sign";
  } catch (const net::ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("--tls-ca"), std::string::npos) << e.what();
  }
  // A client that names another host than the certificate's is refused too.
  tls.ca_file = cert.cert.string();
  tls.server_name = "example.org";
  EXPECT_THROW(net::Client(s.server->url(), s.tokens.at("clerk"), milliseconds(2000), tls), net::ClientError);
}

TEST(ServerAttack, TlsWithoutACaIsRefusedUnlessInsecureIsAsked) {
  SelfSigned cert("insecure");
  Served s(tls_options(cert));
  try {
    net::Client c(s.server->url(), s.tokens.at("clerk"), milliseconds(2000));
    ADD_FAILURE() << "talked TLS to a server it did not verify";
  } catch (const net::ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("--tls-insecure"), std::string::npos) << e.what();
  }
  net::TlsClientOptions tls;
  tls.insecure = true;
  net::Client c(s.server->url(), s.tokens.at("clerk"), milliseconds(5000), tls);
  EXPECT_EQ(c.call({{"verb", "whoami"}})["result"]["actor"], "clerk");
}

TEST(ServerAttack, TlsAddressWithoutCertificateIsAClearError) {
  net::ServerOptions so;
  so.listen = "tls+tcp://127.0.0.1:0";
  try {
    Served s(so);
    ADD_FAILURE() << "listened on TLS without a certificate";
  } catch (const net::ServerError& e) {
    EXPECT_NE(std::string(e.what()).find("--tls-cert"), std::string::npos) << e.what();
  }
  so.tls_cert = "/nonexistent/cert.pem";
  so.tls_key = "/nonexistent/key.pem";
  try {
    Served s(so);
    ADD_FAILURE() << "listened on TLS with a missing certificate";
  } catch (const net::ServerError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
  }
}

// A Served whose server cannot start still removes its store: ~Served never runs then, and the store's
// files were left in the temporary folder, one set per run of the suite. Shown in a TMPDIR of its own.
TEST(ServerAttack, AServerThatCannotStartLeavesNoFilesBehind) {
  orgos_test::TempDir tmp("orgos-attack-tmpdir");
  const char* was = std::getenv("TMPDIR");
  std::string saved = was ? was : "";
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  net::ServerOptions so;
  so.listen = "tls+tcp://127.0.0.1:0";  // no certificate: the server throws after the store was made
  EXPECT_THROW(Served{so}, net::ServerError);
  if (was)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  for (auto& e : fs::directory_iterator(tmp.path())) ADD_FAILURE() << "left behind: " << e.path();
}

// ---- Following events with a token ----

namespace {
void post(Served& s, const std::string& key) {
  net::Client c(s.server->url(), s.tokens.at("clerk"));
  ASSERT_TRUE(c.call(
      {{"verb", "events.post"}, {"name", "order.placed"}, {"payload", {{"ref", key}}}, {"key", key}})["ok"]);
}
}  // namespace

TEST(ServerAttack, NoPublicEventStreamUnlessAsked) {
  Served s;
  EXPECT_EQ(s.server->events_url(), "");
}

TEST(ServerAttack, EventsReadGivesTheLinesAfterASeq) {
  Served s;
  post(s, "a");
  post(s, "b");
  net::Client sys(s.server->url(), s.tokens.at("system"));
  auto r = sys.call({{"verb", "events.read"}, {"after", 0}, {"id", "r1"}});
  ASSERT_EQ(code_of(r), "ok") << r.dump();
  EXPECT_EQ(r["id"], "r1");
  auto& lines = r["result"]["events"];
  ASSERT_GE(lines.size(), 2u) << r.dump();
  EXPECT_EQ(lines[0]["seq"], 1);
  EXPECT_NE(lines[0]["line"].get<std::string>().find("event order.placed"), std::string::npos) << r.dump();
  int64_t next = r["result"]["next"];
  EXPECT_EQ(next, lines.back()["seq"]);
  // Nothing new: an empty answer at once when not asked to wait.
  r = sys.call({{"verb", "events.read"}, {"after", next}});
  EXPECT_TRUE(r["result"]["events"].empty()) << r.dump();
  EXPECT_EQ(r["result"]["next"], next);
  // max bounds the answer.
  r = sys.call({{"verb", "events.read"}, {"after", 0}, {"max", 1}});
  EXPECT_EQ(r["result"]["events"].size(), 1u);
  EXPECT_EQ(r["result"]["next"], 1);
  EXPECT_EQ(code_of(sys.call({{"verb", "events.read"}, {"max", 0}})), "bad_request");
}

TEST(ServerAttack, EventsReadWaitsForTheNextLine) {
  Served s;
  net::Client sys(s.server->url(), s.tokens.at("system"));
  int64_t next = sys.call({{"verb", "events.read"}})["result"]["next"];
  std::thread later([&] {
    std::this_thread::sleep_for(milliseconds(200));
    post(s, "late");
  });
  auto t0 = Clock::now();
  auto r = sys.call({{"verb", "events.read"}, {"after", next}, {"wait_ms", 5000}});
  auto took = Clock::now() - t0;
  later.join();
  ASSERT_EQ(code_of(r), "ok") << r.dump();
  EXPECT_FALSE(r["result"]["events"].empty()) << r.dump();
  EXPECT_LT(took, milliseconds(4000));  // answered when the line came, not at the end of the wait
  // A wait with nothing to show ends with an empty answer.
  t0 = Clock::now();
  r = sys.call({{"verb", "events.read"}, {"after", r["result"]["next"]}, {"wait_ms", 150}});
  EXPECT_TRUE(r["result"]["events"].empty()) << r.dump();
  EXPECT_GE(Clock::now() - t0, milliseconds(150));
  // Others are answered while a reader waits.
  answered_within_a_second(s);
}

// Each reader gets the lines of what it may read: `system` every line; the clerk (who may act on the task
// and whose event started the instance) the lines about that instance, and, as the event's poster, the
// event and the rule firing on it; mallory, another clerk, the instance's lines but not the clerk's event
// nor the firing; vic, who holds no role, nothing — and a wait of vic's is not ended by lines that are not
// vic's.
// (The stream used to be one PUB socket giving every line to anyone who connected.)
TEST(ServerAttack, EventsReadGivesEachActorTheLinesOfWhatTheyMayRead) {
  Served s;
  post(s, "a");
  net::Client none(s.server->url(), "");
  EXPECT_EQ(code_of(none.call({{"verb", "events.read"}, {"after", 0}})), "unauthenticated");
  std::map<std::string, int64_t> next;
  auto lines_of = [&](const std::string& actor) {
    net::Client c(s.server->url(), s.tokens.at(actor));
    auto r = c.call({{"verb", "events.read"}, {"after", 0}, {"max", 1000}});
    EXPECT_EQ(code_of(r), "ok") << r.dump();
    std::string all;
    for (auto& l : r["result"]["events"]) all += l["line"].get<std::string>() + "\n";
    next[actor] = r["result"].value("next", int64_t{-1});
    return all;
  };
  std::string sys = lines_of("system"), clerk = lines_of("clerk"), vic = lines_of("vic");
  std::string mallory = lines_of("mallory");
  EXPECT_GT(next["system"], 0);
  EXPECT_EQ(next["clerk"], next["system"]) << "lines passed over still move `next` on";
  EXPECT_EQ(next["vic"], next["system"]);
  EXPECT_NE(sys.find("event order.placed"), std::string::npos) << sys;
  EXPECT_NE(sys.find("rule on_order fires"), std::string::npos) << sys;
  EXPECT_NE(clerk.find("start Fulfil #"), std::string::npos) << clerk;
  EXPECT_NE(clerk.find("task pack #"), std::string::npos) << clerk;
  EXPECT_NE(clerk.find("event order.placed"), std::string::npos) << clerk;
  EXPECT_NE(clerk.find("rule on_order fires"), std::string::npos) << clerk;
  EXPECT_NE(mallory.find("task pack #"), std::string::npos) << mallory;
  EXPECT_EQ(mallory.find("event order.placed"), std::string::npos) << mallory;
  EXPECT_EQ(mallory.find("rule on_order"), std::string::npos) << mallory;
  EXPECT_EQ(vic, "") << vic;

  // vic waits; the clerk's next order publishes lines, none of them vic's: vic's read ends at its wait.
  std::thread waiter([&] {
    net::Client v(s.server->url(), s.tokens.at("vic"), milliseconds(5000));
    auto t0 = Clock::now();
    auto r = v.call({{"verb", "events.read"}, {"wait_ms", 600}});
    EXPECT_EQ(code_of(r), "ok") << r.dump();
    EXPECT_TRUE(r["result"]["events"].empty()) << r.dump();
    EXPECT_GE(Clock::now() - t0, milliseconds(500)) << "woken by lines that were not vic's";
  });
  std::this_thread::sleep_for(milliseconds(100));
  post(s, "b");
  waiter.join();
  answered_within_a_second(s);
}

// The ring keeps the newest lines; a reader that fell behind further is told how many it missed.
TEST(ServerAttack, EventRingCountsWhatAReaderMissed) {
  net::EventRing ring(3);
  for (int i = 1; i <= 5; ++i) ring.add(100 + i, "line " + std::to_string(i));
  EXPECT_EQ(ring.last(), 5);
  auto r = ring.after(0, 10);
  EXPECT_EQ(r.missed, 2);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines.front().seq, 3);
  EXPECT_EQ(r.lines.back().line, "line 5");
  r = ring.after(3, 1);
  EXPECT_EQ(r.missed, 0);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].seq, 4);
  EXPECT_TRUE(ring.after(5, 10).lines.empty());
  EXPECT_TRUE(ring.after(99, 10).lines.empty());
}
