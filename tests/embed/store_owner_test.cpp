// What docs/embedding.md promises a host about its store: one writer at a time (a second open is an Error
// naming the holder, and the store can be opened again once the first is closed), and every input audited
// with a MAC in the same transaction.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "embed_support.h"
#include "orgos/orgos.hpp"

using namespace orgos::embed_test;

namespace {

orgos::Result<orgos::Organization> open_on(const std::string& store) {
  orgos::OpenOptions o;
  o.start_time = 1767600000;
  o.store = store;
  return orgos::Organization::open(example(), o);
}

// The first row of a query on the store, as text ("" when none).
std::string first(const std::string& db, const std::string& query) {
  sqlite3* h = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, query.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_text(s, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return out;
}

}  // namespace

TEST(StoreOwner, ASecondOpenOfAStoreIsAnErrorNamingItsHolderUntilTheFirstCloses) {
  TempDir dir;
  const std::string db = dir.file("acme.db");
  std::optional<orgos::Organization> owner;
  {
    auto opened = open_on(db);
    ASSERT_TRUE(opened) << opened.error().message;
    owner.emplace(std::move(opened.value()));
  }
  auto second = open_on(db);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find(std::to_string(::getpid())), std::string::npos)
      << second.error().message;
  ASSERT_TRUE(owner->post_event("expense.submitted", kExpense, "system", "e1"));  // the owner goes on
  owner.reset();
  auto again = open_on(db);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again.value().tasks().size(), 1u);  // what the first owner did is there
}

TEST(StoreOwner, EveryInputHasItsAuditEntryWithAMac) {
  TempDir dir;
  const std::string db = dir.file("acme.db");
  {
    auto opened = open_on(db);
    ASSERT_TRUE(opened) << opened.error().message;
    orgos::Organization org = std::move(opened.value());
    ASSERT_TRUE(org.post_event("expense.submitted", kExpense, "system", "e1"));
    EXPECT_FALSE(org.decide(org.tasks().at(0).id, "dev", true, "d1"));  // refused: audited too
  }
  EXPECT_EQ(first(db, "SELECT count(*) FROM input_log"), "2");
  EXPECT_EQ(first(db, "SELECT count(*) FROM audit WHERE kind = 'input'"), "2");
  EXPECT_EQ(first(db, "SELECT count(*) FROM audit WHERE length(mac) != 64"), "0");
  EXPECT_EQ(first(db, "SELECT decision FROM audit WHERE kind = 'input' ORDER BY seq DESC"), "refused");
}
