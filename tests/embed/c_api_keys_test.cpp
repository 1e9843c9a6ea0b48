// The C API's idempotency keys: a real key makes an input happen once; no key (NULL or "") means "no
// deduplication wanted", so each such input gets a fresh key of its own and happens.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "embed_support.h"
#include "orgos/orgos.h"

namespace orgos::embed_test {
namespace {

size_t count_instances(orgos_org* org) {
  const char* text = orgos_instances_json(org);
  EXPECT_NE(text, nullptr) << orgos_last_error(org);
  return text ? nlohmann::json::parse(text).size() : 0;
}

TEST(CApiKeys, ThreeStartsWithoutAKeyAreThreeInstances) {
  orgos_org* org = orgos_open(example().c_str(), nullptr);
  ASSERT_NE(org, nullptr) << orgos_open_error();
  const char* args[] = {
      R"({"req": {"title": "Backend engineer", "unit": "Engineering", "salary_budget": "150000 USD"}})",
      R"({"req": {"title": "Product designer", "unit": "Design", "salary_budget": "120000 USD"}})",
      R"({"req": {"title": "Account executive", "unit": "Sales", "salary_budget": "110000 USD"}})"};
  int64_t ids[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(orgos_start(org, "Recruit", args[i], "system", i == 1 ? "" : nullptr, &ids[i]), 0)
        << orgos_last_error(org);
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_NE(ids[1], ids[2]);
  EXPECT_EQ(count_instances(org), 3u);
  orgos_close(org);
}

TEST(CApiKeys, EventsWithoutAKeyAllHappenAndAKeyStillDeduplicates) {
  orgos_org* org = orgos_open(example().c_str(), nullptr);
  ASSERT_NE(org, nullptr) << orgos_open_error();
  ASSERT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", nullptr), 0)
      << orgos_last_error(org);
  ASSERT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", nullptr), 0)
      << orgos_last_error(org);
  ASSERT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", ""), 0) << orgos_last_error(org);
  EXPECT_EQ(count_instances(org), 3u);
  ASSERT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", "once"), 0)
      << orgos_last_error(org);
  ASSERT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", "once"), 0)
      << orgos_last_error(org);
  EXPECT_EQ(count_instances(org), 4u);
  orgos_close(org);
}

TEST(CApiKeys, FreshKeysDoNotCollideWithThoseOfAnEarlierRun) {
  // The store outlives the handle: keys made in a later session must not match ones logged before.
  TempDir dir;
  std::string db = dir.file("acme.db");
  for (int session = 0; session < 2; ++session) {
    orgos_org* org = orgos_open(example().c_str(), db.c_str());
    ASSERT_NE(org, nullptr) << orgos_open_error();
    ASSERT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", nullptr), 0)
        << orgos_last_error(org);
    EXPECT_EQ(count_instances(org), static_cast<size_t>(session + 1));
    orgos_close(org);
  }
}

}  // namespace
}  // namespace orgos::embed_test
