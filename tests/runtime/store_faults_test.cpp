// A store that fails under the engine and the server: a commit that does not happen (a full disk, or a
// COMMIT SQLite turns into a rollback) leaves memory as the store holds it, every reply says what was
// kept, and service resumes once there is room. Real SQLite files, real nng loopback sockets; a full disk
// is made with SQLite's max_page_count (everywhere) and with a small tmpfs (where the test may mount one).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/net/client.h"
#include "runtime/net/server.h"
#include "runtime/net/tokens.h"
#include "runtime/store/store.h"
#include "runtime/workflow/engine.h"
#include "tests/temp_dir.h"

using namespace orgos;
using net::json;
namespace fs = std::filesystem;

namespace {

const char* kOrg = R"org(
role Clerk { may post }
event order.placed { ref: String }
org Shop {
  units { department Sales }
  position c0: Clerk in Sales held by "clerk0"
}
process Fulfil(ref: String) {
  task pack by Clerk outcomes packed, lost
}
rule on_order when order.placed e then start Fulfil(e.ref)
)org";

struct Project {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  Project() {
    c = driver::check_text("shop.org", kOrg);
    EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    b.source_hash = "faults";
    b.files = {"shop.org"};
  }
};

workflow::EngineOptions options() {
  workflow::EngineOptions eo;
  eo.start_time = 1767225600;
  eo.exec = workflow::ExecEngine::Interp;
  return eo;
}

// In one directory for the whole run, removed when the process ends: a store a test did not get to remove
// (an ASSERT stopped it, a constructor threw) goes with it.
fs::path temp_path(const std::string& name) {
  static orgos_test::TempDir dir("orgos-faults");
  return dir / name;
}

void remove_store(const fs::path& p) {
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) fs::remove(p.string() + suffix);
}

int64_t count(store::Store& s, const char* sql) {
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(s.handle(), sql, -1, &q, nullptr), SQLITE_OK) << sql;
  int64_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
  sqlite3_finalize(q);
  return n;
}

void exec(store::Store& s, const std::string& sql) {
  ASSERT_EQ(sqlite3_exec(s.handle(), sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
}

json order(const std::string& ref) {
  return json{{"ref", ref}};
}

}  // namespace

TEST(StoreFaults, AfterAFailedCommitTheEngineHoldsWhatTheStoreHolds) {
  Project p;
  fs::path path = temp_path("commit.db");
  remove_store(path);
  {
    store::Store s(path.string());
    workflow::Engine e(p.b, s, options());
    // SQLite turns this COMMIT into a rollback of the whole group, as it does after a write error.
    static int refuse = 0;
    sqlite3_commit_hook(
        s.handle(), [](void*) { return refuse-- > 0 ? 1 : 0; }, nullptr);
    refuse = 1;
    e.begin_group();
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(e.post_event("order.placed", order("lost"), "clerk0", "l" + std::to_string(i)).ok);
    EXPECT_EQ(e.instances().size(), 3u);
    EXPECT_THROW(e.commit_group(), store::StoreError);
    // Before: the three instances stayed in memory (and were listed, and counted) though none was stored.
    EXPECT_EQ(e.instances().size(), 0u) << "memory went back to the store";
    EXPECT_EQ(count(s, "SELECT count(*) FROM instance"), 0);
    e.begin_group();
    ASSERT_TRUE(e.post_event("order.placed", order("kept"), "clerk0", "k1").ok);
    e.commit_group();
    EXPECT_EQ(e.instances().size(), 1u);
    EXPECT_EQ(count(s, "SELECT count(*) FROM input_log"), 1) << "only the acknowledged input is logged";
    // The same input posted again after its group failed is new, not a duplicate of something lost.
    e.begin_group();
    auto again = e.post_event("order.placed", order("lost"), "clerk0", "l0");
    EXPECT_TRUE(again.ok && !again.duplicate);
    e.commit_group();
  }
  {
    store::Store s(path.string(), store::OpenMode::ReadOnly);
    workflow::Engine fresh(p.b, s, options());
    EXPECT_EQ(fresh.instances().size(), 2u);
    EXPECT_EQ(fresh.tasks().size(), 2u);
  }
  remove_store(path);
}

TEST(StoreFaults, AFullStoreKeepsMemoryTruthfulAndResumesWhenThereIsRoom) {
  Project p;
  fs::path path = temp_path("full.db");
  remove_store(path);
  store::Store s(path.string());
  workflow::Engine e(p.b, s, options());
  int64_t limit = count(s, "PRAGMA page_count") + 30;
  exec(s, "PRAGMA max_page_count = " + std::to_string(limit));  // SQLITE_FULL past 30 more pages
  std::string pad(1500, 'x');
  std::vector<std::string> acknowledged;
  bool full = false;
  for (int g = 0; g < 60 && !full; ++g) {
    std::vector<std::string> group;
    e.begin_group();
    for (int i = 0; i < 4; ++i) {
      std::string key = "o" + std::to_string(g) + "-" + std::to_string(i);
      try {
        if (e.post_event("order.placed", order(key + pad), "clerk0", key).ok) group.push_back(key);
      } catch (const store::StoreError& err) {
        full = true;
        EXPECT_EQ(err.fault(), store::StoreFault::Full) << err.what();
      }
    }
    try {
      e.commit_group();
      acknowledged.insert(acknowledged.end(), group.begin(), group.end());
    } catch (const store::StoreError& err) {
      full = true;
      EXPECT_EQ(err.fault(), store::StoreFault::Full) << err.what();
    }
    // Whatever happened, memory and store agree, and the store holds exactly what was acknowledged.
    EXPECT_EQ(static_cast<int64_t>(e.instances().size()), count(s, "SELECT count(*) FROM instance"));
    EXPECT_EQ(count(s, "SELECT count(*) FROM input_log"), static_cast<int64_t>(acknowledged.size()));
  }
  ASSERT_TRUE(full) << "the store never filled";
  exec(s, "PRAGMA max_page_count = 1000000");  // room again
  e.begin_group();
  ASSERT_TRUE(e.post_event("order.placed", order("after"), "clerk0", "after").ok);
  e.commit_group();
  EXPECT_EQ(count(s, "SELECT count(*) FROM input_log"), static_cast<int64_t>(acknowledged.size()) + 1);
  EXPECT_EQ(static_cast<int64_t>(e.instances().size()), count(s, "SELECT count(*) FROM instance"));
  remove_store(path);
}

namespace {

// A server over a store whose "disk" fills: `make_room` gives space back while it runs.
struct FullServer {
  Project p;
  fs::path path;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> engine;
  std::unique_ptr<net::Server> server;
  std::string token;
  explicit FullServer(fs::path at) : path(std::move(at)) {
    remove_store(path);
    store = std::make_unique<store::Store>(path.string());
    int64_t id = 0;
    token = net::Tokens(*store).add("clerk0", id);
    engine = std::make_unique<workflow::Engine>(p.b, *store, options());
    net::ServerOptions so;
    so.listen = "tcp://127.0.0.1:0";
    so.events = "";
    server = std::make_unique<net::Server>(*engine, *store, so);
  }
  ~FullServer() {
    server.reset();
    engine.reset();
    store.reset();
    remove_store(path);
  }
};

// Posts orders until one is refused for want of room; every order acknowledged is returned. The replies
// in between must each be either ok or say that nothing was kept.
std::vector<std::string> post_until_full(net::Client& c, const std::string& prefix, bool& hit_full) {
  std::vector<std::string> acknowledged;
  std::string pad(2000, 'x');
  hit_full = false;
  for (int i = 0; i < 400 && !hit_full; ++i) {
    std::string key = prefix + std::to_string(i);
    json r = c.call(
        {{"verb", "events.post"}, {"name", "order.placed"}, {"payload", order(key + pad)}, {"key", key}});
    if (r.value("ok", false)) {
      acknowledged.push_back(key);
    } else {
      hit_full = true;
      std::string m = r["error"].value("message", "");
      EXPECT_NE(m.find("full"), std::string::npos) << r.dump().substr(0, 300);
    }
  }
  return acknowledged;
}

void expect_served_truthfully(FullServer& s, net::Client& c, const std::function<void()>& make_room) {
  bool full = false;
  auto kept = post_until_full(c, "a", full);
  ASSERT_TRUE(full) << "the store never filled";
  // Still serving, and truthfully: before, every later request (even whoami) got
  // `internal … no transaction is active`, while later inputs were in fact committed.
  for (int i = 0; i < 3; ++i) {
    json w = c.call({{"verb", "whoami"}});
    EXPECT_TRUE(w.value("ok", false)) << w.dump().substr(0, 300);
    json r = c.call({{"verb", "events.post"},
                     {"name", "order.placed"},
                     {"payload", order(std::string(4000, 'y'))},
                     {"key", "still-full-" + std::to_string(i)}});
    if (r.value("ok", false)) kept.push_back("still-full-" + std::to_string(i));
  }
  make_room();
  json r = c.call(
      {{"verb", "events.post"}, {"name", "order.placed"}, {"payload", order("after")}, {"key", "after"}});
  EXPECT_TRUE(r.value("ok", false)) << "service resumes once there is room: " << r.dump().substr(0, 300);
  if (r.value("ok", false)) kept.push_back("after");
  s.server->stop();
  // Exactly what was acknowledged is in the store, and the engine's memory agrees with it.
  EXPECT_EQ(count(*s.store, "SELECT count(*) FROM input_log WHERE kind = 'event'"),
            static_cast<int64_t>(kept.size()));
  EXPECT_EQ(static_cast<int64_t>(s.engine->instances().size()),
            count(*s.store, "SELECT count(*) FROM instance"));
}

}  // namespace

TEST(StoreFaults, AServerOnAFullStoreRepliesTruthfullyAndResumes) {
  FullServer s(temp_path("server.db"));
  // Ballast fills the store up to its page limit; deleting it later frees pages the server can reuse.
  exec(*s.store, "INSERT INTO meta(key, value) VALUES('ballast', '" + std::string(400000, 'b') + "')");
  exec(*s.store, "PRAGMA max_page_count = " + std::to_string(count(*s.store, "PRAGMA page_count") + 2));
  net::Client c(s.server->url(), s.token);
  expect_served_truthfully(s, c, [&] {
    // Another connection frees the ballast's pages, as deleting a file frees a disk.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(s.path.string().c_str(), &raw), SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    EXPECT_EQ(sqlite3_exec(raw, "DELETE FROM meta WHERE key = 'ballast'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  });
}

TEST(StoreFaults, AServerOnAFullDiskRepliesTruthfullyAndResumes) {
  fs::path dir = temp_path("tmpfs");
  fs::create_directories(dir);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m") != 0) {
    fs::remove(dir);
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "); the full store is also tested with max_page_count";
  }
  struct Unmount {
    fs::path dir;
    ~Unmount() {
      ::umount2(dir.c_str(), MNT_DETACH);
      fs::remove_all(dir);
    }
  } unmount{dir};
  FullServer s(dir / "state.db");
  // Fill the disk but for a little room, with a file that can be removed to give space back.
  fs::path filler = dir / "filler";
  {
    std::ofstream f(filler, std::ios::binary);
    std::string block(4096, 'f');
    while (f.write(block.data(), block.size()) && f.good()) {
    }
  }
  fs::resize_file(filler, fs::file_size(filler) > 64 * 1024 ? fs::file_size(filler) - 64 * 1024 : 0);
  net::Client c(s.server->url(), s.token);
  expect_served_truthfully(s, c, [&] { fs::remove(filler); });
}
