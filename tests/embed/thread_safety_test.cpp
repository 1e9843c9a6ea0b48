// One handle shared by several threads: every input is applied exactly once, every answer a thread gets
// (JSON text, error message) is its own and stays intact while other threads keep calling.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "embed_support.h"
#include "orgos/orgos.h"
#include "orgos/orgos.hpp"

namespace orgos::embed_test {
namespace {

constexpr int kThreads = 8;
constexpr int kRounds = 12;

TEST(ThreadSafety, EightThreadsShareOneCHandle) {
  orgos_org* org = orgos_open(example().c_str(), nullptr);
  ASSERT_NE(org, nullptr) << orgos_open_error();
  std::atomic<int> wrong{0};
  std::vector<std::string> problems(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto fail = [&](const std::string& what) {
        if (problems[t].empty()) problems[t] = what;
        ++wrong;
      };
      for (int i = 0; i < kRounds; ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (orgos_post_event(org, "expense.submitted", kExpense, "system", key.c_str()) != ORGOS_OK)
          fail("post: " + std::string(orgos_last_error(org)));
        // This thread's error stays this thread's, whatever the others do meanwhile.
        if (orgos_post_event(org, "no.such.event", "{}", "system", nullptr) != ORGOS_ERROR)
          fail("a post of an undeclared event was accepted");
        for (int k = 0; k < 3; ++k) std::this_thread::yield();
        if (std::string(orgos_last_error(org)).find("no event named") == std::string::npos)
          fail("last error replaced: " + std::string(orgos_last_error(org)));
        // The text stays valid until this thread's next call, while the others call on.
        const char* tasks = orgos_tasks_json(org);
        const char* copy_before = tasks;
        for (int k = 0; k < 3; ++k) std::this_thread::yield();
        if (!tasks || !nlohmann::json::accept(tasks)) fail("tasks text damaged");
        if (tasks != copy_before) fail("tasks pointer moved");
        const char* metrics = orgos_metrics_json(org);
        if (!metrics || !nlohmann::json::accept(metrics)) fail("metrics text damaged");
        const char* instances = orgos_instances_json(org);
        if (!instances || !nlohmann::json::accept(instances)) fail("instances text damaged");
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(problems[t], "") << "thread " << t;
  EXPECT_EQ(wrong.load(), 0);
  const char* instances = orgos_instances_json(org);
  ASSERT_NE(instances, nullptr) << orgos_last_error(org);
  EXPECT_EQ(nlohmann::json::parse(instances).size(), static_cast<size_t>(kThreads * kRounds));
  orgos_close(org);
}

TEST(ThreadSafety, EightThreadsShareOneOrganization) {
  auto opened = Organization::open(example());
  ASSERT_TRUE(opened) << opened.error().message;
  Organization& org = opened.value();
  std::atomic<int> lines{0};
  org.subscribe([&](const std::string&) { ++lines; });
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!org.post_event("expense.submitted", kExpense, "system", key)) ++wrong;
        for (const Task& task : org.tasks())
          if (task.role != "Manager") ++wrong;
        if (!org.metrics()) ++wrong;
        (void)org.instances();
        (void)org.now();
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(org.instances().size(), static_cast<size_t>(kThreads * kRounds));
  EXPECT_GT(lines.load(), 0);
}

TEST(ThreadSafety, AListenerMayCallTheOrganizationBackOnItsThread) {
  // Listeners run inside the call's lock; the lock lets the same thread in again instead of deadlocking.
  auto opened = Organization::open(example());
  ASSERT_TRUE(opened) << opened.error().message;
  Organization& org = opened.value();
  int64_t seen = -1;
  org.subscribe([&](const std::string&) { seen = org.now(); });
  ASSERT_TRUE(org.post_event("expense.submitted", kExpense, "system", "k"));
  EXPECT_EQ(seen, org.now());
}

}  // namespace
}  // namespace orgos::embed_test
