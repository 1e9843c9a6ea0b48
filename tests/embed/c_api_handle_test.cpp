// What the C API does with a handle that is not an open organization: NULL is answered ORGOS_MISUSE with a
// message, orgos_close(NULL) does nothing, and a pointer that is not a handle is turned away by the marker
// every call checks. (A closed handle cannot be tested safely: using it is undefined behaviour; see orgos.h.)
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "embed_support.h"
#include "orgos/orgos.h"

namespace orgos::embed_test {
namespace {

void expect_turned_away(orgos_org* org) {
  int64_t id = 7;
  EXPECT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", "k"), ORGOS_MISUSE);
  EXPECT_EQ(orgos_start(org, "Recruit", "{}", "system", "k", &id), ORGOS_MISUSE);
  EXPECT_EQ(id, 7);
  EXPECT_EQ(orgos_complete_task(org, 1, "ben", "", "{}", "k"), ORGOS_MISUSE);
  EXPECT_EQ(orgos_decide(org, 1, "ben", 1, "k"), ORGOS_MISUSE);
  EXPECT_EQ(orgos_advance_to(org, 0, "k"), ORGOS_MISUSE);
  EXPECT_EQ(orgos_tasks_json(org), nullptr);
  EXPECT_EQ(orgos_instances_json(org), nullptr);
  EXPECT_EQ(orgos_metrics_json(org), nullptr);
  ASSERT_NE(orgos_last_error(org), nullptr);
  EXPECT_STRNE(orgos_last_error(org), "");
}

TEST(CApiHandle, NullHandleIsMisuseWithAMessage) {
  expect_turned_away(nullptr);
  EXPECT_NE(std::string(orgos_last_error(nullptr)).find("NULL"), std::string::npos);
  orgos_close(nullptr);  // a no-op
}

TEST(CApiHandle, APointerThatIsNotAHandleIsTurnedAway) {
  alignas(64) unsigned char not_a_handle[4096];
  std::memset(not_a_handle, 0, sizeof not_a_handle);
  auto* org = reinterpret_cast<orgos_org*>(not_a_handle);
  expect_turned_away(org);
  EXPECT_NE(std::string(orgos_last_error(org)).find("not an open organization"), std::string::npos);
  orgos_close(org);  // turned away too: nothing is freed
}

TEST(CApiHandle, OpenFailureSaysWhyAndEachHandleIsIndependent) {
  EXPECT_EQ(orgos_open(nullptr, nullptr), nullptr);
  EXPECT_NE(std::string(orgos_open_error()).find("no path"), std::string::npos);
  orgos_org* a = orgos_open(example().c_str(), nullptr);
  ASSERT_NE(a, nullptr) << orgos_open_error();
  EXPECT_STREQ(orgos_open_error(), "");
  orgos_org* b = orgos_open(example().c_str(), nullptr);
  ASSERT_NE(b, nullptr) << orgos_open_error();
  EXPECT_EQ(orgos_post_event(a, "no.such.event", "{}", "system", nullptr), ORGOS_ERROR);
  EXPECT_STRNE(orgos_last_error(a), "");
  EXPECT_STREQ(orgos_last_error(b), "");  // a's error is not b's
  orgos_close(a);
  // b still works after a is closed, and a new handle (perhaps at a's address) starts clean.
  EXPECT_EQ(orgos_post_event(b, "expense.submitted", kExpense, "system", "k"), ORGOS_OK)
      << orgos_last_error(b);
  orgos_org* c = orgos_open(example().c_str(), nullptr);
  ASSERT_NE(c, nullptr) << orgos_open_error();
  EXPECT_STREQ(orgos_last_error(c), "");
  EXPECT_STREQ(orgos_tasks_json(c), "[]");
  orgos_close(c);
  orgos_close(b);
}

}  // namespace
}  // namespace orgos::embed_test
