// No exception crosses the embedding API: every C entry point and every C++ method that returns a Status or
// Result answers a damaged store (rows another program or a bad disk changed) with an error value. A call
// that threw instead would end the test binary (C) or fail the test with "C++ exception thrown" (C++).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "embed_support.h"
#include "orgos/orgos.h"
#include "orgos/orgos.hpp"

namespace orgos::embed_test {
namespace {

// A store with one expense waiting for ben's approval (so one event row, one running instance, one open task)
// and one requisition started, then closed; returns the id of the open approval task.
int64_t make_store(const std::string& db) {
  orgos_org* org = orgos_open(example().c_str(), db.c_str());
  EXPECT_NE(org, nullptr) << orgos_open_error();
  if (!org) return 0;
  EXPECT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", "setup-1"), 0)
      << orgos_last_error(org);
  int64_t id = 0;
  EXPECT_EQ(orgos_start(org, "Recruit",
                        R"({"req": {"title": "Backend engineer", "unit": "Engineering",
                            "salary_budget": "150000 USD"}})",
                        "system", "setup-2", &id),
            0)
      << orgos_last_error(org);
  const char* tasks = orgos_tasks_json(org);
  EXPECT_NE(tasks, nullptr);
  int64_t task = 0;
  for (auto& t : nlohmann::json::parse(tasks ? tasks : "[]"))
    if (t["approval"].get<bool>()) task = t["id"].get<int64_t>();
  EXPECT_NE(task, 0) << tasks;
  orgos_close(org);
  return task;
}

// Opens the damaged store. A store may check its rows at open and refuse one it cannot read: that is an
// answer too (with a message), and then there is nothing more to call.
orgos_org* open_damaged(const std::string& db) {
  orgos_org* org = orgos_open(example().c_str(), db.c_str());
  if (!org) {
    EXPECT_STRNE(orgos_open_error(), "");
  }
  return org;
}

// A non-zero answer must carry a message; zero must leave none.
void expect_answer(orgos_org* org, int rc, const char* call) {
  if (rc != 0) {
    EXPECT_STRNE(orgos_last_error(org), "") << call << " failed without a message";
  } else {
    EXPECT_STREQ(orgos_last_error(org), "") << call;
  }
}

// Every C entry point once, against whatever state the handle is in: each must return.
void call_every_entry_point(orgos_org* org, int64_t task) {
  expect_answer(org, orgos_post_event(org, "expense.submitted", kExpense, "system", "after-1"), "post_event");
  int64_t id = 0;
  expect_answer(org, orgos_start(org, "Recruit", "{}", "system", "after-2", &id), "start");
  expect_answer(org, orgos_complete_task(org, task, "ben", "", "{}", "after-3"), "complete_task");
  expect_answer(org, orgos_decide(org, task, "ben", 1, "after-4"), "decide");
  expect_answer(org, orgos_advance_to(org, 1767600000 + 86400 * 60, "after-5"), "advance_to");
  for (auto query : {orgos_tasks_json, orgos_instances_json, orgos_metrics_json}) {
    const char* text = query(org);
    if (text) {
      EXPECT_TRUE(nlohmann::json::accept(text)) << text;
    } else {
      EXPECT_STRNE(orgos_last_error(org), "");
    }
  }
}

TEST(DamagedStore, EventRowThatIsNotJsonMakesMetricsAnErrorNotACrash) {
  TempDir dir;
  std::string db = dir.file("acme.db");
  int64_t task = make_store(db);
  ASSERT_EQ(sql(db, "UPDATE event SET doc = 'not json {'"), "");
  orgos_org* org = open_damaged(db);
  if (!org) return;
  // The events are read on first use, here: the damaged row surfaces as an error of this call.
  EXPECT_EQ(orgos_metrics_json(org), nullptr);
  EXPECT_STRNE(orgos_last_error(org), "");
  call_every_entry_point(org, task);
  EXPECT_EQ(orgos_metrics_json(org), nullptr);  // still the truth: the events are still unreadable
  orgos_close(org);
}

size_t open_files() {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(DamagedStore, AFailedReadLeavesNoFileOpenAfterClose) {
  // The row that does not decode interrupts the store's read of the events: that read must still end, or
  // the connection cannot close and the store file (and its WAL) stays open after the handle is gone.
  TempDir dir;
  std::string db = dir.file("acme.db");
  make_store(db);
  ASSERT_EQ(sql(db, "UPDATE event SET doc = 'not json {'"), "");
  size_t before = open_files();
  orgos_org* org = open_damaged(db);
  if (!org) return;
  EXPECT_EQ(orgos_metrics_json(org), nullptr);
  orgos_close(org);
  EXPECT_EQ(open_files(), before);
}

TEST(DamagedStore, TextThatIsNotUtf8StillGivesValidJson) {
  TempDir dir;
  std::string db = dir.file("acme.db");
  int64_t task = make_store(db);
  // 0xC3 0x28 is an invalid UTF-8 sequence; JSON text cannot carry it.
  ASSERT_EQ(
      sql(db,
          "UPDATE task SET name = CAST(X'C328' AS TEXT); UPDATE instance SET error = CAST(X'FF' AS TEXT)"),
      "");
  orgos_org* org = open_damaged(db);
  if (!org) return;
  const char* tasks = orgos_tasks_json(org);
  ASSERT_NE(tasks, nullptr) << orgos_last_error(org);
  auto parsed = nlohmann::json::parse(tasks);
  ASSERT_FALSE(parsed.empty());
  EXPECT_EQ(parsed[0]["name"], "\xEF\xBF\xBD(");  // the bad byte replaced by U+FFFD
  const char* instances = orgos_instances_json(org);
  ASSERT_NE(instances, nullptr) << orgos_last_error(org);
  EXPECT_TRUE(nlohmann::json::accept(instances)) << instances;
  call_every_entry_point(org, task);
  orgos_close(org);
}

TEST(DamagedStore, FrameThatIsNotJsonRefusesTheCommandsThatNeedIt) {
  TempDir dir;
  std::string db = dir.file("acme.db");
  int64_t task = make_store(db);
  ASSERT_EQ(sql(db, "UPDATE instance SET frame = 'garbage'"), "");
  orgos_org* org = open_damaged(db);
  if (!org) return;
  EXPECT_NE(orgos_decide(org, task, "ben", 1, "d-1"), 0);
  std::string error = orgos_last_error(org);
  EXPECT_NE(error.find("instance #"), std::string::npos) << error;
  call_every_entry_point(org, task);
  orgos_close(org);
}

TEST(DamagedStore, GarbageInMetaIsRefusedAtOpenNamingTheStore) {
  TempDir dir;
  std::string db = dir.file("acme.db");
  make_store(db);
  ASSERT_EQ(sql(db, "UPDATE meta SET value = 'garbage' WHERE key = 'clock'"), "");
  EXPECT_EQ(orgos_open(example().c_str(), db.c_str()), nullptr);
  std::string error = orgos_open_error();
  EXPECT_NE(error.find(db), std::string::npos) << error;  // which file: not only "stoll"
  auto cpp = Organization::open(example(), OpenOptions{db, "", 0});
  ASSERT_FALSE(cpp);
  EXPECT_NE(cpp.error().message.find(db), std::string::npos) << cpp.error().message;
}

TEST(DamagedStore, CppMetricsOfUnreadableEventsIsAnErrorValue) {
  TempDir dir;
  std::string db = dir.file("acme.db");
  make_store(db);
  ASSERT_EQ(sql(db, "UPDATE event SET doc = '[1, 2'"), "");
  auto opened = Organization::open(example(), OpenOptions{db, "", 0});
  if (!opened) {  // refused at open: an answer too
    EXPECT_NE(opened.error().message, "");
    return;
  }
  Result<std::vector<Metric>> metrics = opened.value().metrics();
  ASSERT_FALSE(metrics);
  EXPECT_NE(metrics.error().message, "");
}

TEST(DamagedStore, CppMethodsTurnAnyExceptionIntoAnError) {
  // A listener is host code: whatever it throws (here not even a std::exception) must not leave through
  // the call that ran it.
  auto opened = Organization::open(example());
  ASSERT_TRUE(opened) << opened.error().message;
  Organization org = std::move(opened.value());
  org.subscribe([](const std::string&) { throw 42; });
  Status s = org.post_event("expense.submitted", kExpense, "system", "k-1");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("unknown exception"), std::string::npos) << s.error().message;
  EXPECT_FALSE(org.start("Recruit", "{}", "system", "k-2"));
  EXPECT_TRUE(org.tasks().empty());  // the input was undone
}

// One integer from SQL on a store file, read from outside the library (-1 when it fails).
int64_t count(const std::string& db, const std::string& query) {
  sqlite3* h = nullptr;
  int64_t out = -1;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, query.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return out;
}

// A project folder `name` under `dir`: its manifest names it, and its one source is the same for every name.
std::string shop_project(const TempDir& dir, const std::string& name) {
  std::filesystem::path p = dir.file(name);
  std::filesystem::create_directories(p);
  auto write = [&](const char* file, const std::string& text) {
    FILE* f = fopen((p / file).c_str(), "wb");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
  };
  write("orgos.yaml", "name: " + name + "\nversion: 0.1.0\n");
  write("shop.org",
        "role Clerk { may post }\nevent order.placed { ref: String }\n"
        "org Shop {\n  units { department Sales }\n  position a: Clerk in Sales held by \"ann\"\n}\n"
        "process Fulfil(ref: String) {\n  task pack by Clerk\n}\n"
        "rule on_order when order.placed e then start Fulfil(e.ref)\n");
  return p.string();
}

// The store of one project, opened by another made from the same sources: refused at open, by the C and the
// C++ API, naming both projects, and nothing is written (before, the other project's bundle was stored and
// its inputs applied to the first one's state).
TEST(StoreOfAnotherProject, IsRefusedAtOpenAndNothingIsWritten) {
  TempDir dir;
  std::string db = dir.file("shop.db");
  std::string alpha = shop_project(dir, "alpha"), beta = shop_project(dir, "beta");
  orgos_org* org = orgos_open(alpha.c_str(), db.c_str());
  ASSERT_NE(org, nullptr) << orgos_open_error();
  ASSERT_EQ(orgos_post_event(org, "order.placed", R"({"ref": "o-1"})", "ann", "o-1"), 0)
      << orgos_last_error(org);
  orgos_close(org);
  const int64_t inputs = count(db, "SELECT count(*) FROM input_log");
  const int64_t bundles = count(db, "SELECT count(*) FROM bundle");
  orgos_org* other = orgos_open(beta.c_str(), db.c_str());
  EXPECT_EQ(other, nullptr);
  if (other) orgos_close(other);
  std::string error = orgos_open_error();
  EXPECT_NE(error.find("another project"), std::string::npos) << error;
  EXPECT_NE(error.find("`alpha`"), std::string::npos) << error;
  EXPECT_NE(error.find("`beta`"), std::string::npos) << error;
  auto cpp = Organization::open(beta, OpenOptions{db, "", 0});
  ASSERT_FALSE(cpp);
  EXPECT_NE(cpp.error().message.find("another project"), std::string::npos) << cpp.error().message;
  EXPECT_EQ(count(db, "SELECT count(*) FROM input_log"), inputs);
  EXPECT_EQ(count(db, "SELECT count(*) FROM bundle"), bundles);
  // Its own project opens it as before.
  org = orgos_open(alpha.c_str(), db.c_str());
  EXPECT_NE(org, nullptr) << orgos_open_error();
  orgos_close(org);
}

// Rows written behind a running owner's back under the ids it will draw next: its next input meets them.
// A new row is inserted, never written over an existing one (it was INSERT OR REPLACE), so the input fails
// closed with a message and nothing of it is kept; the engine reads the store again and the next input
// takes ids above them.
TEST(StoreIds, RowsUnderTheNextIdsFailTheInputInsteadOfBeingOverwritten) {
  TempDir dir;
  std::string db = dir.file("shop.db");
  std::string alpha = shop_project(dir, "alpha");
  orgos_org* org = orgos_open(alpha.c_str(), db.c_str());
  ASSERT_NE(org, nullptr) << orgos_open_error();
  ASSERT_EQ(orgos_post_event(org, "order.placed", R"({"ref": "o-1"})", "ann", "o-1"), 0)
      << orgos_last_error(org);
  // Copies of the stored event under the next 50 ids of every table.
  const std::string top =
      "(SELECT max(m) FROM (SELECT max(id) AS m FROM instance UNION ALL SELECT max(id) FROM task UNION ALL "
      "SELECT max(id) FROM event UNION ALL SELECT max(id) FROM record))";
  ASSERT_EQ(sql(db,
                "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 50) "
                "INSERT INTO event(id, doc) SELECT " +
                    top + " + k, (SELECT doc FROM event LIMIT 1) FROM n"),
            "");
  const int64_t inputs = count(db, "SELECT count(*) FROM input_log");
  const int64_t events = count(db, "SELECT count(*) FROM event");
  EXPECT_NE(orgos_post_event(org, "order.placed", R"({"ref": "o-2"})", "ann", "o-2"), 0);
  std::string error = orgos_last_error(org);
  EXPECT_NE(error.find("already has"), std::string::npos) << error;
  EXPECT_EQ(count(db, "SELECT count(*) FROM input_log"), inputs);
  EXPECT_EQ(count(db, "SELECT count(*) FROM event"), events);
  EXPECT_EQ(count(db, "SELECT count(*) FROM instance"), 1);
  // Read again from the store, the engine's counter is above the rows it met.
  EXPECT_EQ(orgos_post_event(org, "order.placed", R"({"ref": "o-3"})", "ann", "o-3"), 0)
      << orgos_last_error(org);
  EXPECT_EQ(count(db, "SELECT count(*) FROM instance"), 2);
  EXPECT_EQ(count(db, "SELECT count(*) FROM event"), events + 1);
  orgos_close(org);
}

}  // namespace
}  // namespace orgos::embed_test
