// The store on a real SQLite file: inputs logged exactly once, batches all-or-nothing, state read
// back after reopening, and an audit chain that detects edits, removals and reordering.
#include "runtime/store/store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "tests/temp_dir.h"

using namespace orgos::store;

namespace {
// A store's path in a directory of its own, removed with whatever the test made beside the store (the
// -wal of a hard link to it was left behind by name-by-name removal).
struct TempDb {
  orgos_test::TempDir dir{"orgos-store"};
  std::string path = (dir / "store.db").string();
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

// ---- one writer, refusing what is broken, failed commits, backup

namespace {
// A raw connection beside the store, for what a test does behind its back (damage, ballast).
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string m = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << m;
}
StoreFault fault_of(const std::function<void()>& f, std::string& message) {
  try {
    f();
  } catch (const StoreError& e) {
    message = e.what();
    return e.fault();
  }
  message = "(no error)";
  return StoreFault::Other;
}
int64_t inputs_in(const std::string& path) {
  Store s(path, OpenMode::ReadOnly);
  return static_cast<int64_t>(s.inputs_after(0).size());
}
}  // namespace

TEST(Store, ASecondWriterIsRefusedNamingTheOwnersPid) {
  TempDb db;
  Store owner(db.path);
  std::string why;
  // Refused at once (no wait for a timeout), naming this process: the lock is per open, not per process.
  EXPECT_EQ(fault_of([&] { Store second(db.path); }, why), StoreFault::InUse) << why;
  EXPECT_NE(why.find("process " + std::to_string(::getpid())), std::string::npos) << why;
  EXPECT_EQ(fault_of([&] { Store second(db.path, OpenMode::MustExist); }, why), StoreFault::InUse) << why;
  // Readers (and token writes) work beside the owner.
  owner.begin();
  Input in{0, "event", "evt-1", 1, "system", "{}"};
  owner.append_input(in);
  owner.commit();
  EXPECT_EQ(inputs_in(db.path), 1);
  Store tokens(db.path, OpenMode::SharedWrite);
  EXPECT_FALSE(tokens.read_only());
}

TEST(Store, TheLockGoesWithItsOwner) {
  TempDb db;
  { Store owner(db.path); }
  EXPECT_FALSE(std::filesystem::exists(StoreLock::file_for(db.path))) << "the lock file is removed on close";
  Store next(db.path, OpenMode::MustExist);  // a new owner, once the first is gone
}

TEST(Store, OnlyCreateIfMissingCreatesAndOnlyWhereNoFileIs) {
  TempDb db;
  std::string why;
  EXPECT_EQ(fault_of([&] { Store s(db.path, OpenMode::MustExist); }, why), StoreFault::Missing) << why;
  EXPECT_EQ(fault_of([&] { Store s(db.path, OpenMode::ReadOnly); }, why), StoreFault::Missing) << why;
  EXPECT_FALSE(std::filesystem::exists(db.path)) << "refusing created nothing";
  { Store s(db.path, OpenMode::CreateIfMissing); }
  Store again(db.path, OpenMode::MustExist);
}

TEST(Store, AnEmptyFileIsRefusedNotMadeANewStore) {
  TempDb db;
  fclose(fopen(db.path.c_str(), "w"));
  std::string why;
  for (OpenMode m : {OpenMode::CreateIfMissing, OpenMode::MustExist, OpenMode::ReadOnly}) {
    EXPECT_EQ(fault_of([&] { Store s(db.path, m); }, why), StoreFault::Damaged) << why;
    EXPECT_NE(why.find("empty (0 bytes)"), std::string::npos) << why;
  }
  EXPECT_EQ(std::filesystem::file_size(db.path), 0u) << "nothing was written into it";
}

TEST(Store, AMissingTableIsRefused) {
  TempDb db;
  { Store s(db.path); }
  raw_exec(db.path, "DROP TABLE timer");
  std::string why;
  EXPECT_EQ(fault_of([&] { Store s(db.path); }, why), StoreFault::Damaged) << why;
  EXPECT_NE(why.find("table `timer` is missing"), std::string::npos) << why;
  EXPECT_EQ(fault_of([&] { Store s(db.path, OpenMode::ReadOnly); }, why), StoreFault::Damaged) << why;
  // Not silently recreated: still missing.
  sqlite3* raw = nullptr;
  sqlite3_open(db.path.c_str(), &raw);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'timer'", -1, &q, nullptr);
  sqlite3_step(q);
  EXPECT_EQ(sqlite3_column_int(q, 0), 0);
  sqlite3_finalize(q);
  sqlite3_close(raw);
}

TEST(Store, AStoreThatFailsQuickCheckIsRefused) {
  TempDb db;
  {
    Store s(db.path);
    s.begin();
    for (int i = 0; i < 400; ++i) s.put("record", i, "{\"pad\":\"" + std::string(200, 'x') + "\"}");
    s.commit();
    exec(s, "PRAGMA wal_checkpoint(TRUNCATE)");
  }
  // The record table's index b-tree: an interior or leaf page of it overwritten with garbage.
  int64_t root = 0, pages = 0;
  {
    sqlite3* raw = nullptr;
    sqlite3_open(db.path.c_str(), &raw);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(raw, "SELECT rootpage FROM sqlite_master WHERE name = 'record'", -1, &q, nullptr);
    sqlite3_step(q);
    root = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_prepare_v2(raw, "PRAGMA page_count", -1, &q, nullptr);
    sqlite3_step(q);
    pages = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(raw);
  }
  ASSERT_GT(root, 1);
  ASSERT_GT(pages, root);
  {
    FILE* f = fopen(db.path.c_str(), "r+b");
    ASSERT_TRUE(f);
    std::string junk(4096, '\x5a');
    fseek(f, static_cast<long>((root - 1) * 4096 + 8), SEEK_SET);  // past the page header's type byte
    fwrite(junk.data(), 1, 1000, f);
    fclose(f);
  }
  std::string why;
  EXPECT_EQ(fault_of([&] { Store s(db.path, OpenMode::ReadOnly); }, why), StoreFault::Damaged) << why;
  EXPECT_NE(why.find("integrity check"), std::string::npos) << why;
}

TEST(Store, AFailedCommitEndsTheGroupAndTheNextGroupWorks) {
  TempDb db;
  Store s(db.path);
  // A commit hook that refuses once: SQLite turns that COMMIT into a rollback of the whole transaction,
  // as it does after SQLITE_FULL or an I/O error at commit.
  static int refuse = 0;
  sqlite3_commit_hook(
      s.handle(), [](void*) { return refuse-- > 0 ? 1 : 0; }, nullptr);
  refuse = 1;
  s.begin_group();
  s.begin();
  Input a{0, "event", "lost-1", 1, "system", "{}"};
  s.append_input(a);
  s.commit();
  EXPECT_THROW(s.commit_group(), StoreError);
  EXPECT_FALSE(s.in_group()) << "the group ended with its failed commit";
  // The next group is a real transaction again: before, its savepoints committed one by one (autocommit),
  // and its commit failed with "no transaction is active" although its inputs were kept.
  s.begin_group();
  s.begin();
  Input b{0, "event", "kept-1", 2, "system", "{}"};
  EXPECT_TRUE(s.append_input(b));
  s.commit();
  EXPECT_NO_THROW(s.commit_group());
  auto all = s.inputs_after(0);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].key, "kept-1");
  // And a group whose transaction SQLite undid mid-way refuses further inputs instead of autocommitting them.
  s.begin_group();
  exec(s, "ROLLBACK");  // what SQLite may do itself after SQLITE_FULL in a statement
  EXPECT_THROW(s.begin(), StoreError);
  EXPECT_THROW(s.commit_group(), StoreError);
  EXPECT_FALSE(s.in_group());
  EXPECT_EQ(s.inputs_after(0).size(), 1u);
}

TEST(Store, AFullStoreRefusesTheGroupThenResumesWhenThereIsRoom) {
  TempDb db;
  Store s(db.path);
  exec(s, "PRAGMA max_page_count = 40");  // a disk that holds 40 pages: SQLITE_FULL, deterministically
  std::string big(3000, 'x');
  int kept = 0;
  bool failed = false;
  for (int g = 0; g < 40 && !failed; ++g) {
    s.begin_group();
    try {
      for (int i = 0; i < 4; ++i) {
        s.begin();
        Input in{0, "event", "e" + std::to_string(g) + "-" + std::to_string(i), 1, "system", big};
        s.append_input(in);
        s.commit();
      }
      s.commit_group();
      kept += 4;
    } catch (const StoreError& e) {
      failed = true;
      EXPECT_EQ(e.fault(), StoreFault::Full) << e.what();
      if (s.in_group()) s.rollback_group();
    }
  }
  ASSERT_TRUE(failed) << "the store never filled";
  EXPECT_FALSE(s.in_group());
  EXPECT_EQ(static_cast<int>(s.inputs_after(0).size()), kept) << "exactly the committed groups are kept";
  exec(s, "PRAGMA max_page_count = 100000");  // room again
  s.begin_group();
  s.begin();
  Input in{0, "event", "after", 1, "system", big};
  EXPECT_TRUE(s.append_input(in));
  s.commit();
  EXPECT_NO_THROW(s.commit_group());
  EXPECT_EQ(static_cast<int>(s.inputs_after(0).size()), kept + 1);
}

TEST(Store, ABackupHoldsWhatIsStillInTheWriteAheadLog) {
  TempDb db, copy;
  Store owner(db.path);  // stays open: no checkpoint moves its commits into the .db file
  for (int i = 0; i < 50; ++i) {
    owner.begin();
    Input in{0, "event", "evt-" + std::to_string(i), i, "system", "{}"};
    owner.append_input(in);
    owner.commit();
  }
  ASSERT_GT(std::filesystem::file_size(db.path + "-wal"), 0u) << "the inputs are in the log, not the file";
  {
    // What copying the .db file alone gives: not the inputs.
    TempDb plain;
    std::filesystem::copy_file(db.path, plain.path);
    int64_t n = 0;
    try {
      n = inputs_in(plain.path);  // refused, or short of inputs
    } catch (const StoreError&) {
    }
    EXPECT_LT(n, 50);
  }
  Store(db.path, OpenMode::ReadOnly).backup_to(copy.path);
  EXPECT_EQ(inputs_in(copy.path), 50);
  std::string why;
  EXPECT_EQ(fault_of([&] { Store(db.path, OpenMode::ReadOnly).backup_to(copy.path); }, why),
            StoreFault::Other);
  EXPECT_NE(why.find("exists"), std::string::npos) << why;
  EXPECT_EQ(inputs_in(copy.path), 50) << "an existing file is never overwritten";
  // Nor is anything written through a symlink, even one to a file that does not exist yet.
  TempDb link, target;
  std::filesystem::create_symlink(target.path, link.path);
  EXPECT_EQ(fault_of([&] { Store(db.path, OpenMode::ReadOnly).backup_to(link.path); }, why),
            StoreFault::Other);
  EXPECT_FALSE(std::filesystem::exists(target.path));
}

// A process killed while it creates a store leaves no store or a whole one: the next creator makes it (or
// opens it), never finds an empty or half-made file that it must refuse as damaged. (Creating in place
// left a 0-byte file when the kill came between SQLite's open and the schema's commit; the crash test
// met it once in a few runs.) Kills land at random moments of the creation, 1–1,500 µs after the fork.
TEST(Store, AKillDuringCreationNeverLeavesAStoreThatIsRefused) {
  std::srand(7);
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    TempDb db;
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        Store s(db.path, OpenMode::CreateIfMissing);
      } catch (...) {
      }
      ::_exit(0);
    }
    ::usleep(static_cast<useconds_t>(1 + std::rand() % 1500));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    try {
      Store again(db.path, OpenMode::CreateIfMissing);
      EXPECT_EQ(again.last_input_seq(), 0);
    } catch (const StoreError& e) {
      ++refused;
      ADD_FAILURE() << "run " << i << ": " << e.what();
    }
    std::filesystem::remove(db.path + ".creating");
    std::filesystem::remove(StoreLock::file_for(db.path));
  }
  EXPECT_EQ(refused, 0);
}

// What an interrupted creation leaves beside the store (PATH.creating) is cleared by the next creator.
TEST(Store, ALeftoverOfAnInterruptedCreationIsCleared) {
  TempDb db;
  { std::ofstream(db.path + ".creating") << "half a store"; }
  {
    Store s(db.path, OpenMode::CreateIfMissing);
    EXPECT_EQ(s.last_input_seq(), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(db.path + ".creating"));
  Store again(db.path, OpenMode::MustExist);
  EXPECT_EQ(again.last_input_seq(), 0);
}

// A store reached through a symlink or a hard link is the same store: a second writer by another name is
// refused like one by the same name (the lock followed the name given: a writer through a link ran beside
// the owner and the two overwrote each other's events).
TEST(Store, ASecondWriterThroughALinkIsRefused) {
  TempDb db;
  Store owner(db.path, OpenMode::CreateIfMissing);
  std::string sym = db.path + ".sym", hard = db.path + ".hard";
  std::filesystem::create_symlink(db.path, sym);
  std::filesystem::create_hard_link(db.path, hard);
  for (const std::string& other : {sym, hard}) {
    try {
      Store second(other, OpenMode::MustExist);
      ADD_FAILURE() << "a second writer through " << other << " was let in";
    } catch (const StoreError& e) {
      EXPECT_EQ(e.fault(), StoreFault::InUse) << e.what();
      EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
    }
    Store reader(other, OpenMode::ReadOnly);  // readers beside the owner, by any name
    EXPECT_EQ(reader.last_input_seq(), 0);
  }
  std::filesystem::remove(sym);
  std::filesystem::remove(hard);
}

// A row under a newly drawn id is inserted, never written over a row that has it (an edited id counter made
// the engine's INSERT OR REPLACE overwrite an instance, a task, an event): the write fails, the old row
// stays. Rows of existing ids are still updated.
TEST(Store, ANewRowNeverReplacesOneUnderItsId) {
  TempDb db;
  Store s(db.path);
  InstanceRow first;
  first.id = 7;
  first.process = "P";
  first.version = "v";
  first.status = "running";
  first.started_by = "ann";
  first.tokens = first.forks = first.compensations = "[]";
  first.frame = "{}";
  s.begin();
  s.put_instance(first, RowWrite::Insert);
  s.put("event", 8, "{\"n\":1}", RowWrite::Insert);
  s.put_task({7, 7, 0, 0, "t", "R", "U", "open", "", false, "[]", "{}", 0, 0}, RowWrite::Insert);
  s.commit();
  InstanceRow other = first;
  other.process = "Q";
  other.started_by = "mallory";
  auto fails_as_damaged = [&](const std::function<void()>& write) {
    s.begin();
    try {
      write();
      ADD_FAILURE() << "a new row replaced the one under its id";
    } catch (const StoreError& e) {
      EXPECT_EQ(e.fault(), StoreFault::Damaged) << e.what();
      EXPECT_NE(std::string(e.what()).find("already has"), std::string::npos) << e.what();
    }
    s.rollback();
  };
  fails_as_damaged([&] { s.put_instance(other, RowWrite::Insert); });
  fails_as_damaged([&] { s.put("event", 8, "{\"n\":2}", RowWrite::Insert); });
  fails_as_damaged([&] {
    s.put_task({7, 9, 0, 0, "x", "R", "U", "open", "", false, "[]", "{}", 0, 0}, RowWrite::Insert);
  });
  std::vector<InstanceRow> rows;
  s.for_each_instance([&](const InstanceRow& r) { rows.push_back(r); });
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].process, "P");
  EXPECT_EQ(rows[0].started_by, "ann");
  std::string event;
  s.for_each("event", [&](int64_t, const std::string& doc) { event = doc; });
  EXPECT_EQ(event, "{\"n\":1}");
  // An update of an existing row is an Upsert, and goes through.
  s.begin();
  s.put_instance(other);
  s.commit();
  rows.clear();
  s.for_each_instance([&](const InstanceRow& r) { rows.push_back(r); });
  EXPECT_EQ(rows[0].process, "Q");
  EXPECT_EQ(s.largest_row_id(), 8);
}
