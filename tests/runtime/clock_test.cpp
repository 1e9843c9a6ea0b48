// The engine's clock and due times stay within year 9999: an input that would move the clock past it is
// refused with a message, and a duration that would carry a due time past it (or past int64) fails its
// process with a message instead of overflowing into the past.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>

#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/workflow/engine.h"

using namespace orgos;

namespace {

struct Clock {
  std::unique_ptr<driver::Compilation> c;
  bundle::Bundle b;
  store::Store s{":memory:"};
  std::unique_ptr<workflow::Engine> e;
  std::vector<std::string> trace;
  Clock() {
    c = driver::check_text(
        "c.org",
        "role Ops {}\norg O { units { department D } position o: Ops in D held by \"op\" }\n"
        "process Task(d: Duration) { task work by Ops within d }\n"
        "process Wait(d: Duration) { wait d }\n"
        "process Until(day: Date) { wait until day }\n"
        "process Whole(d: Duration) { timeout d\n on timeout { notify \"op\" \"late\" }\n"
        " task work by Ops }\n");
    EXPECT_FALSE(c->diags.has_errors());
    auto lw = ir::lower(*c);
    b.module = std::move(lw.module);
    b.program = std::move(lw.program);
    workflow::EngineOptions o;
    o.start_time = 1767225600;  // 2026-01-01
    o.trace = [this](const std::string& l) { trace.push_back(l); };
    e = std::make_unique<workflow::Engine>(b, s, o);
  }
  std::string status(int64_t id) {
    for (auto& i : e->instances())
      if (i.id == id) return i.status + (i.error.empty() ? "" : ": " + i.error);
    return "(none)";
  }
  bool traced(const std::string& part) {
    return std::any_of(trace.begin(), trace.end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
  }
};

}  // namespace

TEST(Clock, AdvancingPastYear9999IsRefused) {
  Clock k;
  int64_t before = k.e->now();
  auto o = k.e->advance_to(INT64_MAX, "far");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find("cannot go past 9999-12-31"), std::string::npos) << o.error;
  EXPECT_EQ(k.e->now(), before);  // nothing moved
  // The last second is still a time; the clock prints it with a four-digit year.
  EXPECT_TRUE(k.e->advance_to(workflow::kMaxClock, "last").ok);
  EXPECT_EQ(k.e->now(), workflow::kMaxClock);
  EXPECT_FALSE(k.e->advance_to(workflow::kMaxClock + 1, "after").ok);
}

TEST(Clock, DurationsThatOverflowFailTheirProcessWithAMessage) {
  Clock k;
  const int64_t huge = INT64_MAX;  // seconds: clock + d overflowed into the past
  auto task = k.e->start("Task", {{"d", huge}}, "system", "t");
  ASSERT_TRUE(task.ok) << task.error;
  EXPECT_NE(k.status(task.id).find("the task's deadline falls after 9999-12-31"), std::string::npos)
      << k.status(task.id);
  EXPECT_TRUE(k.e->tasks().empty());  // no task with a deadline in 1970 or before
  auto wait = k.e->start("Wait", {{"d", huge}}, "system", "w");
  ASSERT_TRUE(wait.ok) << wait.error;
  EXPECT_NE(k.status(wait.id).find("the wait falls after 9999-12-31"), std::string::npos)
      << k.status(wait.id);
  // Before, the overflowed timer was due at once: the next advance ended the wait.
  ASSERT_TRUE(k.e->advance_to(k.e->now() + 60, "tick").ok);
  EXPECT_EQ(k.status(wait.id).rfind("failed", 0), 0u) << k.status(wait.id);
  // A whole-process timeout that cannot be set is said in the trace; the process runs without it.
  auto whole = k.e->start("Whole", {{"d", huge}}, "system", "p");
  ASSERT_TRUE(whole.ok) << whole.error;
  EXPECT_TRUE(k.traced("not set: the process deadline falls after 9999-12-31"));
  EXPECT_EQ(k.status(whole.id), "running");
}
