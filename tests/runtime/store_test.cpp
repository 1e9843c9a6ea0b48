// The store on a real SQLite file: inputs logged exactly once, batches all-or-nothing, state read
// back after reopening, and an audit chain that detects edits, removals and reordering.
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace orgos::store;

namespace {
struct TempDb {
  std::string path;
  TempDb() {
    path = (std::filesystem::temp_directory_path() /
            ("orgos-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".db"))
               .string();
  }
  ~TempDb() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  static inline int counter = 0;
};
void exec(Store& s, const char* sql) {
  ASSERT_EQ(sqlite3_exec(s.handle(), sql, nullptr, nullptr, nullptr), SQLITE_OK);
}
}  // namespace

TEST(Store, InputsAreLoggedOncePerKey) {
  TempDb db;
  Store s(db.path);
  s.begin();
  Input a{0, "event", "evt-1", 100, "alice", "{}"};
  Input dup{0, "event", "evt-1", 200, "bob", "{\"x\":1}"};
  EXPECT_TRUE(s.append_input(a));
  EXPECT_FALSE(s.append_input(dup));
  s.commit();
  auto all = s.inputs_after(0);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].actor, "alice");
  EXPECT_EQ(s.last_input_seq(), a.seq);
}

TEST(Store, BatchesAreAllOrNothingAndSurviveReopening) {
  TempDb db;
  {
    Store s(db.path);
    s.begin();
    s.put("record", 1, "{\"a\":1}");
    s.put_meta("clock", "42");
    s.commit();
    s.begin();
    s.put("record", 2, "{\"b\":2}");
    s.rollback();
  }
  Store again(db.path);
  std::vector<int64_t> ids;
  again.for_each("record", [&](int64_t id, const std::string&) { ids.push_back(id); });
  EXPECT_EQ(ids, std::vector<int64_t>{1});
  EXPECT_EQ(again.meta("clock").value_or(""), "42");
}

TEST(Store, ForeignFilesAreRefusedWithAMessage) {
  TempDb db;
  FILE* f = fopen(db.path.c_str(), "w");
  fputs("this is not a database, it is a text file that is long enough to look like something", f);
  fclose(f);
  try {
    Store s(db.path);
    FAIL() << "opened a non-database";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be used as an OrgOS store"), std::string::npos) << e.what();
  }
}

TEST(Store, AuditChainDetectsEditsRemovalsAndReordering) {
  TempDb db;
  Store s(db.path);
  s.begin();
  for (int i = 0; i < 5; ++i) {
    AuditEntry e{
        0,  100 + i, "alice", "approve", "Expense#" + std::to_string(i), i % 2 ? "allowed" : "refused",
        "", "",      ""};
    s.append_audit(e);
  }
  s.commit();
  std::string why;
  EXPECT_FALSE(s.verify_audit(why)) << why;
  exec(s, "UPDATE audit SET decision = 'allowed' WHERE seq = 3");
  auto bad = s.verify_audit(why);
  ASSERT_TRUE(bad);
  EXPECT_EQ(*bad, 3);
  EXPECT_NE(why.find("edited"), std::string::npos) << why;
  exec(s, "UPDATE audit SET decision = 'allowed' WHERE seq = 3");  // (still edited)
  exec(s, "UPDATE audit SET decision = 'refused' WHERE seq = 3");  // restored
  EXPECT_FALSE(s.verify_audit(why)) << why;
  exec(s, "DELETE FROM audit WHERE seq = 2");
  bad = s.verify_audit(why);
  ASSERT_TRUE(bad);
  EXPECT_EQ(*bad, 2);
}
