// A store under attack and under a failing machine: its `meta` rows and instance rows edited from outside
// (with SQLite itself) into values the engine never writes — ids at the end of int64, counters that are not
// numbers, a project name of megabytes. orgctl runs as a user runs it (a real process on real SQLite
// files); each edit must end in a clear refusal (exit 3) that changes nothing, never in wrapped ids, an
// input that makes the store unreadable, or a message of megabytes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/cli/store_files.h"

namespace {

using namespace orgctl_store_test;
namespace fs = std::filesystem;

// A project `p` with a store holding one posted order (instance 2, its token 3, task 4, the event).
struct Posted {
  Folder f;
  std::string p;
  Posted() {
    p = f.project("p");
    EXPECT_EQ(run("token add ann --db '" + f.db() + "'").code, 0);
    auto r = run(post(p, f.db(), "o-1"));
    EXPECT_EQ(r.code, 0) << r.out;
  }
};

}  // namespace

// `meta` next_id edited to int64's largest value: the engine counted on from it and wrapped, handing out
// negative ids (an instance -9223372036854775808, a task -9223372036854775806) — signed overflow — and
// `store verify` called the store sound. Now the store is refused with the counter named, nothing changes,
// and verify reports the counter.
TEST(StoreAdversary, AnIdCounterAtTheEndOfInt64IsRefusedNotWrapped) {
  ASSERT_TRUE(kOwnKey);
  Posted s;
  ASSERT_EQ(edit(s.f.db(), "UPDATE meta SET value = '9223372036854775807' WHERE key = 'next_id'"), "");
  const std::string before = fingerprint(s.f.db());
  auto r = run(post(s.p, s.f.db(), "o-2"));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("next_id"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("below 2^53"), std::string::npos) << r.out;
  EXPECT_EQ(fingerprint(s.f.db()), before);
  EXPECT_EQ(count(s.f.db(), "SELECT count(*) FROM task WHERE id < 0"), 0);
  auto verify = run("store verify --db '" + s.f.db() + "' '" + s.p + "'");
  EXPECT_EQ(verify.code, 1) << verify.out;
  EXPECT_NE(verify.out.find("meta next_id: stored 9223372036854775807"), std::string::npos) << verify.out;
}

// A counter that is not a whole number: `abc` was refused with "a row does not decode (stoll)", naming
// no row, and `12abc` (or ` 12`, `1e5`) was read by its leading digits. All are refused now, naming the
// `meta` row and its value.
TEST(StoreAdversary, AnIdCounterThatIsNotAWholeNumberIsRefusedByName) {
  ASSERT_TRUE(kOwnKey);
  for (const std::string value : {"abc", "12abc", " 12", "1e5", "99999999999999999999"}) {
    Posted s;
    ASSERT_EQ(edit(s.f.db(), "UPDATE meta SET value = '" + value + "' WHERE key = 'next_id'"), "");
    const std::string before = fingerprint(s.f.db());
    auto r = run(post(s.p, s.f.db(), "o-2"));
    EXPECT_EQ(r.code, 3) << value << ": " << r.out;
    EXPECT_NE(r.out.find("`meta` row `next_id` (" + value + ") does not decode as a whole number"),
              std::string::npos)
        << value << ": " << r.out;
    EXPECT_EQ(fingerprint(s.f.db()), before) << value;
  }
}

// A token id inside an instance row edited to int64's largest value: the engine's "one past the largest
// inner id" overflowed (undefined behaviour; in practice it wrapped and was ignored). Refused now.
TEST(StoreAdversary, ATokenIdAtTheEndOfInt64IsRefused) {
  ASSERT_TRUE(kOwnKey);
  Posted s;
  ASSERT_EQ(edit(s.f.db(), "UPDATE instance SET tokens = '[[9223372036854775807,1,0,\"task\",4,\"\"]]'"), "");
  const std::string before = fingerprint(s.f.db());
  auto r = run(post(s.p, s.f.db(), "o-2"));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("token or fork id"), std::string::npos) << r.out;
  EXPECT_EQ(fingerprint(s.f.db()), before);
  // store verify names it; it printed "it must be at least -9223372036854775808" (one past, wrapped).
  auto verify = run("store verify --db '" + s.f.db() + "' '" + s.p + "'");
  EXPECT_EQ(verify.code, 1) << verify.out;
  EXPECT_NE(verify.out.find("ids up to 9223372036854775807 are in use: it must be at least one past them, "
                            "and below 2^53"),
            std::string::npos)
      << verify.out;
  EXPECT_EQ(verify.out.find("-9223372036854775808"), std::string::npos) << verify.out;
}

// A counter edited to just below the limit: the next input would hand out ids past it, be acknowledged,
// and leave a store that every later open refuses. The input fails instead and nothing of it is kept;
// the store still opens.
TEST(StoreAdversary, AnInputWhoseIdsWouldPassTheLimitFailsAndKeepsNothing) {
  ASSERT_TRUE(kOwnKey);
  Posted s;
  ASSERT_EQ(edit(s.f.db(), "UPDATE meta SET value = '9007199254740991' WHERE key = 'next_id'"), "");
  const std::string before = fingerprint(s.f.db());
  auto r = run(post(s.p, s.f.db(), "o-2"));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("an id this input was to hand out"), std::string::npos) << r.out;
  EXPECT_EQ(fingerprint(s.f.db()), before);
  auto list = run("tasks list '" + s.p + "' --db '" + s.f.db() + "'");
  EXPECT_EQ(list.code, 0) << list.out;
}

// A recorded project name of 10 MB (an edit): the refusal printed all of it. It names a part now.
TEST(StoreAdversary, AHugeRecordedProjectNameIsNotPrintedWhole) {
  ASSERT_TRUE(kOwnKey);
  Posted s;
  ASSERT_EQ(
      edit(s.f.db(),
           "UPDATE meta SET value = '{\"name\":\"' || hex(randomblob(5000000)) || '\",\"orgs\":[\"Shop\"]}' "
           "WHERE key = 'project'"),
      "");
  const std::string before = fingerprint(s.f.db());
  auto r = run(post(s.p, s.f.db(), "o-2"));
  EXPECT_EQ(r.code, 3) << r.out.substr(0, 500);
  EXPECT_NE(r.out.find("belongs to another project"), std::string::npos) << r.out.substr(0, 500);
  EXPECT_NE(r.out.find("(10000000 bytes)"), std::string::npos) << r.out.substr(0, 500);
  EXPECT_LT(r.out.size(), 2000u);
  EXPECT_EQ(fingerprint(s.f.db()), before);
}

// A sound store on a read-only file system (a mounted backup, a snapshot): every verb failed with
// "unable to open database file", called damage ("how to put a backup in its place"), `store backup` too
// — SQLite could not make the -shm file WAL mode reads through. Now the verbs that read read it, and a
// writer is told the file system is read-only (its own fault and hint), not that the store is damaged.
TEST(StoreAdversary, AStoreOnAReadOnlyFileSystemIsReadAndAWriterIsToldWhy) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  std::string p = f.project("p");
  fs::path dir = f.root / "ro mount?#%";  // characters a file: URI gives a meaning to
  fs::create_directories(dir);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=4m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << ")";
  struct Unmount {
    fs::path dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmount{dir};
  const std::string db = (dir / "store.db").string();
  ASSERT_EQ(run("token add ann --db '" + db + "'").code, 0);
  auto posted = run(post(p, db, "o-1"));
  ASSERT_EQ(posted.code, 0) << posted.out;
  ASSERT_EQ(::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=4m"), 0)
      << std::strerror(errno);
  auto tasks = run("tasks list '" + p + "' --db '" + db + "'");
  EXPECT_EQ(tasks.code, 0) << tasks.out;
  EXPECT_NE(tasks.out.find("pack"), std::string::npos) << tasks.out;
  auto verify = run("store verify --db '" + db + "' '" + p + "'");
  EXPECT_EQ(verify.code, 0) << verify.out;
  const std::string copy = (f.root / "copy.db").string();
  auto backup = run("store backup '" + copy + "' --db '" + db + "'");
  EXPECT_EQ(backup.code, 0) << backup.out;
  EXPECT_EQ(count(copy, "SELECT count(*) FROM input_log"), 1);
  auto write = run(post(p, db, "o-2"));
  EXPECT_EQ(write.code, 3) << write.out;
  EXPECT_NE(write.out.find("Read-only file system"), std::string::npos) << write.out;
  EXPECT_NE(write.out.find("writable file system"), std::string::npos) << write.out;
  EXPECT_EQ(write.out.find("backup in its place"), std::string::npos) << write.out;
}

// --db a symbolic link whose target is gone (a data volume not mounted, a store moved away): nothing may
// be created in the store's place. It was refused, but as "cannot create the store: File exists" with the
// hint for another project version. Now the message names the link and its missing target. A --db in a
// folder that does not exist no longer gets that hint either.
TEST(StoreAdversary, ALinkToAMissingStoreIsNamedAndNothingIsCreated) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  std::string p = f.project("p");
  f.write("p/play.yaml",
          "name: play\nsteps:\n  - event: order.placed\n    payload: {ref: s-1}\n    as: ann\n");
  const fs::path target = f.root / "volume" / "state.db", link = f.root / "state.db";
  fs::create_directories(target.parent_path());
  fs::create_symlink(target, link);
  for (const std::string& verb : {"token add ann --db '" + link.string() + "'",
                                  "run '" + p + "' -q --db '" + link.string() + "' -s '" + p + "/play.yaml'",
                                  "tasks list '" + p + "' --db '" + link.string() + "'"}) {
    auto r = run(verb);
    EXPECT_EQ(r.code, 3) << verb << ": " << r.out;
    EXPECT_NE(r.out.find("is a symbolic link to `" + target.string() + "`, which does not exist"),
              std::string::npos)
        << verb << ": " << r.out;
    EXPECT_FALSE(fs::exists(target)) << verb;
  }
  auto nodir =
      run("run '" + p + "' -q --db '" + (f.root / "nodir" / "s.db").string() + "' -s '" + p + "/play.yaml'");
  EXPECT_EQ(nodir.code, 3) << nodir.out;
  EXPECT_EQ(nodir.out.find("in the version, that wrote it"), std::string::npos) << nodir.out;
  EXPECT_FALSE(fs::exists(f.root / "nodir"));
}

// A symbolic link planted at the name of the store's lock file (STORE.lock, in a folder others may write):
// every writer opened it through the link, truncated the target and wrote its pid into it — any file the
// writer could write (a root-run server: any file) — then removed the link. A FIFO there was written
// ("Invalid argument") and removed. Now neither is followed or written: the writer is refused (exit 3),
// the target keeps its content, and what was planted stays for its owner to see.
TEST(StoreAdversary, ALinkAtTheLockFilesNameIsNeitherFollowedNorWritten) {
  ASSERT_TRUE(kOwnKey);
  Posted s;
  const std::string lock = s.f.db() + ".lock";
  s.f.write("victim.txt", "precious data\n");
  fs::create_symlink(s.f.root / "victim.txt", lock);
  const std::string before = fingerprint(s.f.db());
  auto r = run(post(s.p, s.f.db(), "o-2"), 20);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("is not a lock file"), std::string::npos) << r.out;
  std::FILE* v = std::fopen((s.f.root / "victim.txt").c_str(), "rb");
  ASSERT_NE(v, nullptr);
  std::array<char, 64> buf{};
  const size_t n = std::fread(buf.data(), 1, buf.size(), v);
  std::fclose(v);
  EXPECT_EQ(std::string(buf.data(), n), "precious data\n");
  EXPECT_TRUE(fs::is_symlink(lock));
  EXPECT_EQ(fingerprint(s.f.db()), before);
  fs::remove(lock);
  ASSERT_EQ(::mkfifo(lock.c_str(), 0644), 0);
  auto fifo = run(post(s.p, s.f.db(), "o-2"), 20);
  EXPECT_EQ(fifo.code, 3) << fifo.out;
  EXPECT_NE(fifo.out.find("is not a lock file"), std::string::npos) << fifo.out;
  EXPECT_TRUE(fs::is_fifo(lock));
  fs::remove(lock);
  auto own = run(post(s.p, s.f.db(), "o-2"));
  EXPECT_EQ(own.code, 0) << own.out;
}
