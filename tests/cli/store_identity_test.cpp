// A store knows its project, and its `meta` table cannot be edited into overwriting what it holds: orgctl
// as a user runs it (a real process on real SQLite files), and the store's rows read with SQLite itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/cli/store_files.h"

namespace {

using namespace orgctl_store_test;
namespace fs = std::filesystem;

}  // namespace

// Two projects made from the same sources (a template copied twice) are still two projects: the store of
// one is refused by every verb of the other — write verbs before they append anything, read verbs too —
// with exit 3 and a message naming both projects. (Before, all of them accepted it: the second project's
// inputs went into the first one's store.)
TEST(StoreIdentity, AStoreOfAnotherProjectIsRefusedByEveryVerbBeforeAnythingIsWritten) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  std::string alpha = f.project("alpha"), beta = f.project("beta");
  ASSERT_EQ(run("token add ann --db '" + f.db() + "'").code, 0);  // makes the store
  auto made = run(post(alpha, f.db(), "o-1"));
  ASSERT_EQ(made.code, 0) << made.out;
  const std::string before = fingerprint(f.db());
  auto expect_refused = [&](const Ran& r, const std::string& verb) {
    EXPECT_EQ(r.code, 3) << verb << ": " << r.out;
    EXPECT_NE(r.out.find("belongs to another project"), std::string::npos) << verb << ": " << r.out;
    EXPECT_NE(r.out.find("`alpha` (org Shop)"), std::string::npos) << verb << ": " << r.out;
    EXPECT_NE(r.out.find("`beta` (org Shop)"), std::string::npos) << verb << ": " << r.out;
    EXPECT_NE(r.out.find("hint: "), std::string::npos) << verb << ": " << r.out;
    EXPECT_EQ(fingerprint(f.db()), before) << verb << " changed the store";
  };
  expect_refused(run(post(beta, f.db(), "o-2")), "events post");
  f.write("beta/play.yaml",
          "name: p\nsteps:\n  - event: order.placed\n    payload: {ref: s-1}\n    as: ann\n");
  expect_refused(run("run '" + beta + "' -q --db '" + f.db() + "' -s '" + beta + "/play.yaml'"), "run");
  // serve refuses at start: it exits 3 rather than serving (stopped after 20 s, it would exit 124).
  expect_refused(run("serve '" + beta + "' --db '" + f.db() + "' --listen tcp://127.0.0.1:0", 20), "serve");
  expect_refused(run("tasks list '" + beta + "' --db '" + f.db() + "'"), "tasks list");
  expect_refused(run("instances list '" + beta + "' --db '" + f.db() + "'"), "instances");
  expect_refused(run("metrics '" + beta + "' --db '" + f.db() + "'"), "metrics");
  expect_refused(run("store verify --db '" + f.db() + "' '" + beta + "'"), "store verify");
  // Its own project still works on it.
  auto again = run(post(alpha, f.db(), "o-3"));
  EXPECT_EQ(again.code, 0) << again.out;
}

// Another version of the same project is the same project (its stored state decodes, so it goes on), and a
// store from before stores knew their project becomes the project's at its first open for writing — not
// at a read, which writes nothing.
TEST(StoreIdentity, AnotherVersionIsTheSameProjectAndAnOldStoreIsClaimedAtItsFirstWrite) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  std::string alpha = f.project("alpha");
  ASSERT_EQ(run("token add ann --db '" + f.db() + "'").code, 0);
  ASSERT_EQ(run(post(alpha, f.db(), "o-1")).code, 0);
  EXPECT_EQ(text(f.db(), "SELECT value FROM meta WHERE key = 'project'"),
            R"({"name":"alpha","orgs":["Shop"]})");
  // Version 2 adds a process: same project.
  f.project("alpha", std::string(kShop) + "process Audit(ref: String) {\n  task inspect by Clerk\n}\n");
  auto v2 = run(post(alpha, f.db(), "o-2"));
  EXPECT_EQ(v2.code, 0) << v2.out;
  // As a store made before this change: no identity. A reader of another project does not claim it ...
  ASSERT_EQ(edit(f.db(), "DELETE FROM meta WHERE key = 'project'"), "");
  std::string beta = f.project("beta");
  EXPECT_EQ(run("tasks list '" + beta + "' --db '" + f.db() + "'").code, 0);
  EXPECT_EQ(count(f.db(), "SELECT count(*) FROM meta WHERE key = 'project'"), 0);
  // ... its first writer does, and from then on the other project is refused.
  ASSERT_EQ(run(post(alpha, f.db(), "o-3")).code, 0);
  EXPECT_EQ(count(f.db(), "SELECT count(*) FROM meta WHERE key = 'project'"), 1);
  EXPECT_EQ(run(post(beta, f.db(), "o-4")).code, 3);
}

// An edited id counter (`meta` next_id set back to 1) made the next post overwrite rows that were there:
// INSERT OR REPLACE put the new instance, task and event over the old ones. Now the engine starts the
// counter above every id in use, a new row never replaces one, and `store verify` names the edited counter.
TEST(StoreMeta, AnEditedNextIdOverwritesNothingAndVerifyReportsIt) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  std::string alpha = f.project("alpha");
  ASSERT_EQ(run("token add ann --db '" + f.db() + "'").code, 0);
  ASSERT_EQ(run(post(alpha, f.db(), "o-1")).code, 0);
  ASSERT_EQ(run(post(alpha, f.db(), "o-2")).code, 0);
  ASSERT_EQ(count(f.db(), "SELECT count(*) FROM instance"), 2);
  const std::string first = text(f.db(), "SELECT frame FROM instance ORDER BY id LIMIT 1");
  ASSERT_EQ(edit(f.db(), "UPDATE meta SET value = '1' WHERE key = 'next_id'"), "");
  auto verify = run("store verify --db '" + f.db() + "' '" + alpha + "'");
  EXPECT_EQ(verify.code, 1) << verify.out;
  EXPECT_NE(verify.out.find("meta next_id: stored 1"), std::string::npos) << verify.out;
  auto third = run(post(alpha, f.db(), "o-3"));
  EXPECT_EQ(third.code, 0) << third.out;
  EXPECT_EQ(count(f.db(), "SELECT count(*) FROM instance"), 3);
  EXPECT_EQ(count(f.db(), "SELECT count(*) FROM task"), 3);
  EXPECT_EQ(count(f.db(), "SELECT count(*) FROM event"), 3);
  EXPECT_EQ(text(f.db(), "SELECT frame FROM instance ORDER BY id LIMIT 1"), first);
  auto after = run("store verify --db '" + f.db() + "' '" + alpha + "'");
  EXPECT_EQ(after.code, 0) << after.out;
}

// Who started an instance is part of its row (it was a `started_by:ID` row in meta, beside the instance and
// out of `store verify`'s reach): an edited starter is found by verify.
TEST(StoreMeta, TheStarterIsInTheInstanceRowAndAnEditedOneIsFound) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  std::string alpha = f.project("alpha");
  ASSERT_EQ(run("token add ann --db '" + f.db() + "'").code, 0);
  ASSERT_EQ(run(post(alpha, f.db(), "o-1")).code, 0);
  EXPECT_EQ(text(f.db(), "SELECT started_by FROM instance"), "ann");
  EXPECT_EQ(count(f.db(), "SELECT count(*) FROM meta WHERE key GLOB 'started_by:*'"), 0);
  EXPECT_EQ(run("store verify --db '" + f.db() + "' '" + alpha + "'").code, 0);
  ASSERT_EQ(edit(f.db(), "UPDATE instance SET started_by = 'mallory'"), "");
  auto verify = run("store verify --db '" + f.db() + "' '" + alpha + "'");
  EXPECT_EQ(verify.code, 1) << verify.out;
  EXPECT_NE(verify.out.find("field started_by: stored mallory, replayed ann"), std::string::npos)
      << verify.out;
}

// A schema-5 store (starters in meta) is read as it is by a reader, and migrated by its first writer: the
// starters move into the instance rows and leave meta, in one transaction.
TEST(StoreMeta, ASchemaFiveStoreIsReadAsItIsAndMigratedByItsFirstWriter) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  std::string alpha = f.project("alpha");
  ASSERT_EQ(run("token add ann --db '" + f.db() + "'").code, 0);
  ASSERT_EQ(run(post(alpha, f.db(), "o-1")).code, 0);
  const std::string id = text(f.db(), "SELECT id FROM instance");
  // Back to the layout of schema 5.
  ASSERT_EQ(edit(f.db(), "ALTER TABLE instance DROP COLUMN started_by; INSERT INTO meta VALUES('started_by:" +
                             id + "', 'ann'); PRAGMA user_version = 5;"),
            "");
  auto read = run("instances list '" + alpha + "' --db '" + f.db() + "'");
  EXPECT_EQ(read.code, 0) << read.out;
  EXPECT_EQ(count(f.db(), "PRAGMA user_version"), 5) << "a reader does not migrate";
  ASSERT_EQ(run(post(alpha, f.db(), "o-2")).code, 0);
  EXPECT_EQ(count(f.db(), "PRAGMA user_version"), 6);
  EXPECT_EQ(text(f.db(), "SELECT started_by FROM instance WHERE id = " + id), "ann");
  EXPECT_EQ(count(f.db(), "SELECT count(*) FROM meta WHERE key GLOB 'started_by:*'"), 0);
  auto verify = run("store verify --db '" + f.db() + "' '" + alpha + "'");
  EXPECT_EQ(verify.code, 0) << verify.out;
}

// A store made through the project's single .org file knows the project by its orgs alone; opened for
// writing as the project folder, it learns the name, and then a copy under another name is refused.
TEST(StoreIdentity, AStoreMadeFromTheSingleFileLearnsTheProjectsName) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  std::string alpha = f.project("alpha"), beta = f.project("beta");
  ASSERT_EQ(run("token add ann --db '" + f.db() + "'").code, 0);
  auto single = run(post(alpha + "/shop.org", f.db(), "o-1"));
  ASSERT_EQ(single.code, 0) << single.out;
  EXPECT_EQ(text(f.db(), "SELECT value FROM meta WHERE key = 'project'"), R"({"name":"","orgs":["Shop"]})");
  ASSERT_EQ(run(post(alpha, f.db(), "o-2")).code, 0);
  EXPECT_EQ(text(f.db(), "SELECT value FROM meta WHERE key = 'project'"),
            R"({"name":"alpha","orgs":["Shop"]})");
  auto other = run(post(beta, f.db(), "o-3"));
  EXPECT_EQ(other.code, 3) << other.out;
  EXPECT_NE(other.out.find("belongs to another project"), std::string::npos) << other.out;
}

// A store made before stores knew their project, opened for writing by another project that cannot read
// it (its records do not decode): refused, and it leaves no claim — the store still opens with its own
// project, which then records itself. (Recorded before the state was read, the other project's name made
// the store refuse its own.)
TEST(StoreIdentity, AProjectThatCannotReadAnOldStoreLeavesNoClaimOnIt) {
  ASSERT_TRUE(kOwnKey);
  Folder f;
  const std::string items =
      "event added { sku: String }\nrule add when added e then insert Item { FIELD: e.sku }\n";
  auto program = [&](const std::string& field) {
    std::string rule = items;
    rule.replace(rule.find("FIELD"), 5, field);
    return "record Item { " + field + ": String }\n" + rule;
  };
  std::string alpha = f.project("alpha", program("sku")), beta = f.project("beta", program("code"));
  ASSERT_EQ(run("token add system --db '" + f.db() + "'").code, 0);
  auto add = [&](const std::string& project, const std::string& key) {
    return run("events post added '" + project + "' --db '" + f.db() + "' --as system -p '{\"sku\": \"" +
               key + "\"}' --key " + key);
  };
  auto first = add(alpha, "a-1");
  ASSERT_EQ(first.code, 0) << first.out;
  ASSERT_EQ(count(f.db(), "SELECT count(*) FROM record"), 1);
  ASSERT_EQ(edit(f.db(), "DELETE FROM meta WHERE key = 'project'"), "");  // as before this change
  auto other = add(beta, "b-1");
  EXPECT_EQ(other.code, 3) << other.out;
  EXPECT_EQ(count(f.db(), "SELECT count(*) FROM meta WHERE key = 'project'"), 0) << other.out;
  auto own = add(alpha, "a-2");
  EXPECT_EQ(own.code, 0) << own.out;
  EXPECT_EQ(text(f.db(), "SELECT value FROM meta WHERE key = 'project'"), R"({"name":"alpha","orgs":[]})");
}
