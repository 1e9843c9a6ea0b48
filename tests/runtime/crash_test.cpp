// Crash test with real processes: `orgctl run --db` plays a generated scenario (approvals, an escalating
// deadline, a timer, a sub-process calling a connector) on a SQLite store and is killed with SIGKILL at
// random moments, then restarted on the same file until it finishes. The store must end exactly as after an
// uninterrupted run — every table, row for row — with the audit chain intact and every connector effect in
// the outbox once. CI runs a small size; ORGOS_CRASH_INSTANCES / ORGOS_CRASH_KILLS / ORGOS_CRASH_SEED set
// the full size (docs/building.md, "Crash test").
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/temp_dir.h"

namespace fs = std::filesystem;

namespace {

const char* kOrg = R"(role Employee {}
role Manager extends Employee { scope unit }
role CFO extends Employee {}
connector bank { op pay(amount: Int) }
record Expense {
  amount: Money<USD>
  unit: Unit
  submitter: Actor
  purpose: String
  check amount > 0 USD
}
event expense.submitted { expense: Expense }
event expense.paid { expense: Expense }
org Acme {
  units { department Engineering  department Finance }
  position eng: Manager in Engineering held by "dan"
  position cfo: CFO in Finance held by "carol"
}
process Pay(x: Expense) {
  call bank.pay(amount: 1)
  emit expense.paid { expense: x }
}
process ApproveExpense(x: Expense) {
  approval manager by Manager of x.unit within 2d escalate to CFO
  if x.amount > 1000 USD {
    approval by CFO within 3d
  }
  wait 1h
  run Pay(x)
  on failure { notify x.submitter "rejected: " + x.purpose }
}
rule route when expense.submitted e then start ApproveExpense(e.expense)
metric paid = count(e in expense.paid)
)";

// n expenses: most approved by the manager, every third also by the CFO, every seventh left to escalate
// past its deadline, every eleventh rejected. Time moves 2 hours after each, so the waits fire.
std::string scenario(int n) {
  std::string s = "name: crash\nstart: 2026-01-05\nsteps:\n  - at: 2026-01-05 09:00\n";
  for (int i = 0; i < n; ++i) {
    bool big = i % 3 == 0;
    s +=
        "  - event: expense.submitted\n    payload: {expense: {amount: " + std::string(big ? "3000" : "300") +
        " USD, unit: Engineering, submitter: erin, purpose: \"expense " + std::to_string(i) + "\"}}\n";
    if (i % 7 == 0) {
      s += "  - at: +3d\n  - decide: manager\n    as: carol\n";  // escalated to the CFO
    } else {
      s += "  - decide: manager\n    as: dan\n";
      if (i % 11 == 0) s.insert(s.size() - 1, "\n    decision: reject");
    }
    if (big && i % 11 != 0) s += "  - decide: approval by CFO\n    as: carol\n";
    s += "  - at: +2h\n";
  }
  return s;
}

// stdout is dropped; stderr goes to err_path so that a failed run can say why.
pid_t spawn(const std::vector<std::string>& args, const std::string& err_path = "/dev/null") {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(ORGCTL_PATH));
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    FILE* null = std::fopen("/dev/null", "w");
    FILE* err = std::fopen(err_path.c_str(), "w");
    dup2(fileno(null), 1);
    dup2(fileno(err ? err : null), 2);
    execv(ORGCTL_PATH, argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Every table but the bundle cache, every row, in key order: the whole durable state as text.
std::string dump(const std::string& db) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "cannot open " + db;
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h,
                     "SELECT name FROM sqlite_master WHERE type='table' AND name != 'bundle' ORDER BY name",
                     -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW)
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  std::string out;
  for (auto& t : tables) {
    out += "== " + t + "\n";
    sqlite3_prepare_v2(h, ("SELECT * FROM \"" + t + "\" ORDER BY 1").c_str(), -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* v = sqlite3_column_text(st, c);
        out += (c ? " | " : "") + std::string(v ? reinterpret_cast<const char*>(v) : "NULL");
      }
      out += "\n";
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return out;
}

int64_t count(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr);
  int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

}  // namespace

TEST(CrashTest, SigkilledRunsResumeToTheUninterruptedState) {
  const int instances = env_int("ORGOS_CRASH_INSTANCES", 300);
  const int want_kills = env_int("ORGOS_CRASH_KILLS", 15);
  const unsigned seed = static_cast<unsigned>(env_int("ORGOS_CRASH_SEED", 20261125));
  SCOPED_TRACE("ORGOS_CRASH_SEED=" + std::to_string(seed) +
               " ORGOS_CRASH_INSTANCES=" + std::to_string(instances));
  orgos_test::TempDir tmp("orgos-crash");  // removed also when an ASSERT stops the test (its message quotes
  fs::path dir = tmp.path();               // the run's stderr, so nothing needs to stay behind)
  std::ofstream(dir / "crash.org") << kOrg;
  std::ofstream(dir / "s.yaml") << scenario(instances);
  std::string org = (dir / "crash.org").string(), bundle = (dir / "b.orgb").string();
  ASSERT_EQ(wait_exit(spawn({"compile", org, "-o", bundle})), 0);
  std::string err = (dir / "stderr.txt").string();
  auto run = [&](const std::string& db) {
    return spawn({"run", org, "-s", (dir / "s.yaml").string(), "--db", db, "--bundle", bundle, "-q"}, err);
  };
  auto stderr_text = [&] {
    std::ifstream in(err);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };

  // Process start-up (loading the bundle, opening the store) and the uninterrupted run, timed to place the
  // kills inside the work rather than in start-up.
  std::ofstream(dir / "empty.yaml") << scenario(0);
  double startup_ms = 1e9;
  for (int i = 0; i < 3; ++i) {
    std::string empty_db = (dir / ("empty" + std::to_string(i) + ".db")).string();
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(wait_exit(spawn({"run", org, "-s", (dir / "empty.yaml").string(), "--db", empty_db, "--bundle",
                               bundle, "-q"},
                              err)),
              0)
        << stderr_text();
    startup_ms = std::min(
        startup_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::string ref = (dir / "ref.db").string();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(run(ref)), 0) << stderr_text();
  double ref_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const int64_t inputs = count(ref, "SELECT count(*) FROM input_log");

  // The same run, killed again and again, then let finish. Every other kill falls at a random moment of
  // start-up (store creation, bundle load, replay); the rest wait until this run has committed something
  // new and then a random time more, so they land inside the work: between, during or just after commits.
  // The crashed runs commit every 8 steps rather than 64; the final state must not depend on that.
  std::string db = (dir / "crash.db").string();
  auto crashed_run = [&] {
    return spawn({"run", org, "-s", (dir / "s.yaml").string(), "--db", db, "--bundle", bundle, "-q",
                  "--group-commit", "8"},
                 err);
  };
  auto logged = [&] { return fs::exists(db) ? count(db, "SELECT count(*) FROM input_log") : 0; };
  std::mt19937 rng(seed);
  int kills = 0, attempts = 0, mid_work = 0;
  const unsigned work_window = static_cast<unsigned>(std::max(2.0, 2 * (ref_ms - startup_ms) / want_kills));
  for (;; ++attempts) {
    ASSERT_LT(attempts, want_kills * 20 + 100) << "the run never finished";
    int64_t before = logged();
    pid_t pid = crashed_run();
    if (kills >= want_kills) {
      ASSERT_EQ(wait_exit(pid), 0) << stderr_text();
      break;
    }
    int st = 0;
    bool exited = false;
    if (attempts % 2 == 0) {
      std::this_thread::sleep_for(
          std::chrono::microseconds(rng() % static_cast<unsigned>(startup_ms * 1000 + 1)));
    } else {
      while (!(exited = waitpid(pid, &st, WNOHANG) == pid) && logged() <= before)
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      if (!exited) std::this_thread::sleep_for(std::chrono::microseconds(rng() % (work_window * 1000)));
    }
    if (exited || waitpid(pid, &st, WNOHANG) == pid) {
      ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "a restarted run failed:\n" << stderr_text();
      break;  // finished before the kill
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    ++kills;
    int64_t done = logged();
    if (done > 0 && done < inputs) ++mid_work;
  }
  std::printf(
      "crash test: %d instances, %d SIGKILLs over %d runs (%d with the job part done), start-up %.0f ms, "
      "uninterrupted run %.0f ms\n",
      instances, kills, attempts + 1, mid_work, startup_ms, ref_ms);
  EXPECT_GE(kills, want_kills / 2) << "the run finished too early to be killed often";
  EXPECT_GE(mid_work, want_kills / 3) << "too few kills fell while the job was under way";

  std::string a = dump(ref), b = dump(db);
  if (a != b) {
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    size_t from = a.rfind('\n', i) == std::string::npos ? 0 : a.rfind('\n', i) + 1;
    FAIL() << "the store differs from the uninterrupted run's, first at:\n  uninterrupted: "
           << a.substr(from, a.find('\n', from) - from)
           << "\n  interrupted:   " << b.substr(from, b.find('\n', from) - from);
  }
  EXPECT_EQ(wait_exit(spawn({"audit", "verify", "--db", db})), 0);
  // Every approved expense paid through the connector exactly once: one outbox row per payment.
  int64_t paid = count(db, "SELECT count(*) FROM outbox");
  EXPECT_GT(paid, instances / 2);
  EXPECT_EQ(paid, count(db, "SELECT count(DISTINCT idempotency_key) FROM outbox"));
  EXPECT_EQ(count(db, "SELECT count(*) FROM instance"), count(ref, "SELECT count(*) FROM instance"));
}
