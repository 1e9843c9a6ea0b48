// The C API writes its views (tasks, instances, metrics) in the one shape the server and orgctl use
// (runtime/workflow/views_json.h): the same store read through orgos_*_json, through a real `orgctl serve`
// over a loopback socket, and through orgctl asking that server gives equal JSON, field for field.
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "embed_support.h"
#include "orgos/orgos.h"

namespace orgos::embed_test {
namespace {

using nlohmann::json;

// orgctl run to its end: its exit code and stdout.
std::pair<int, std::string> orgctl(const std::string& args) {
  std::string out;
  FILE* p = popen((std::string(ORGCTL_PATH) + " " + args).c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), out};
}

// `orgctl serve` on the store as a child process, its clock left alone (--tick 0), so it shows the state
// the C API left; stopped with SIGTERM when the test ends.
class Serving {
 public:
  Serving(const std::string& project, const std::string& db) {
    int fds[2];
    if (pipe(fds) != 0) return;
    std::vector<std::string> args = {
        "orgctl", "serve", project,    "--db",  db, "--listen", "tcp://127.0.0.1:0",
        "--tick", "0",     "--engine", "interp"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      execv(ORGCTL_PATH, argv.data());
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[512];
    while (url_.empty() && fgets(line, sizeof line, out)) {
      std::string l(line);
      if (!l.empty() && l.back() == '\n') l.pop_back();
      if (l.rfind("serving on ", 0) == 0) url_ = l.substr(11);
    }
    fclose(out);
  }
  ~Serving() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

// One request over a REQ socket, as any client sends it; the reply's result (null when refused).
json ask(const std::string& url, const std::string& token, const std::string& verb) {
  nng_socket s;
  if (nng_req0_open(&s) != 0) return nullptr;
  nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
  nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 10000);
  json reply;
  if (nng_dial(s, url.c_str(), nullptr, 0) == 0) {
    std::string req = json{{"verb", verb}, {"token", token}}.dump();
    char* buf = nullptr;
    size_t n = 0;
    if (nng_send(s, req.data(), req.size(), 0) == 0 && nng_recv(s, &buf, &n, NNG_FLAG_ALLOC) == 0) {
      reply = json::parse(std::string(buf, n), nullptr, false);
      nng_free(buf, n);
    }
  }
  nng_close(s);
  EXPECT_TRUE(reply.is_object() && reply.value("ok", false)) << verb << ": " << reply.dump();
  return reply.is_object() && reply.contains("result") ? reply["result"] : json();
}

TEST(CApiViews, TasksInstancesAndMetricsAreTheServersJson) {
  TempDir dir;
  std::string db = dir.file("acme.db");
  json tasks, instances, metrics;
  {
    orgos_org* org = orgos_open(example().c_str(), db.c_str());
    ASSERT_NE(org, nullptr) << orgos_open_error();
    ASSERT_EQ(orgos_post_event(org, "expense.submitted", kExpense, "system", "e-1"), 0)
        << orgos_last_error(org);
    int64_t id = 0;
    ASSERT_EQ(orgos_start(org, "Recruit",
                          R"({"req": {"title": "Backend engineer", "unit": "Engineering",
                                      "salary_budget": "150000 USD"}})",
                          "system", "r-1", &id),
              0)
        << orgos_last_error(org);
    for (auto [view, into] :
         {std::pair{&orgos_tasks_json, &tasks}, std::pair{&orgos_instances_json, &instances},
          std::pair{&orgos_metrics_json, &metrics}}) {
      const char* text = view(org);
      ASSERT_NE(text, nullptr) << orgos_last_error(org);
      *into = json::parse(text);
    }
    orgos_close(org);
  }
  ASSERT_GE(tasks.size(), 1u);
  ASSERT_GE(instances.size(), 2u);
  ASSERT_GE(metrics.size(), 1u);
  // Every field the server gives is there: who claimed a task, when an instance started, a KPI's target.
  EXPECT_TRUE(tasks[0].contains("claimed_by")) << tasks.dump();
  EXPECT_TRUE(instances[0].contains("started_at")) << instances.dump();
  EXPECT_TRUE(metrics[0].contains("verdict")) << metrics.dump();

  auto [code, token] = orgctl("token add system --db " + db);
  ASSERT_EQ(code, 0) << token;
  token = token.substr(0, token.find('\n'));
  Serving server(example(), db);
  ASSERT_FALSE(server.url().empty()) << "orgctl serve did not start";
  EXPECT_EQ(ask(server.url(), token, "tasks.list"), tasks);
  EXPECT_EQ(ask(server.url(), token, "instances.list"), instances);
  EXPECT_EQ(ask(server.url(), token, "metrics.get"), metrics);
  // orgctl, asking that server, prints the same tasks, instances and KPIs.
  std::string as_system = "--connect " + server.url() + " --token " + token + " ";
  auto listed = orgctl(as_system + "tasks list --json");
  ASSERT_EQ(listed.first, 0) << listed.second;
  EXPECT_EQ(json::parse(listed.second), tasks);
  auto running = orgctl(as_system + "instances list --json");
  ASSERT_EQ(running.first, 0) << running.second;
  EXPECT_EQ(json::parse(running.second), instances);
  auto kpis = orgctl(as_system + "metrics --json");
  ASSERT_EQ(kpis.first, 0) << kpis.second;
  EXPECT_EQ(json::parse(kpis.second), metrics);
}

}  // namespace
}  // namespace orgos::embed_test
