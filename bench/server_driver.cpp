// Requests/s and latency of `orgctl serve`'s server over loopback: an in-process server on a real SQLite
// file (synchronous=FULL, group commit) and N client threads, each with its own REQ socket and actor.
// Workloads: `whoami` (round trip + token check, no store write), `post` (events.post: each event starts a
// process that opens a task: a logged, durable input) and `cycle` (post, claim, complete: three inputs).
// Usage: orgos_server_driver [clients=1,8,32] [requests per client=200] [workloads=whoami,post,cycle]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "runtime/net/client.h"
#include "runtime/net/server.h"

using namespace orgos;
using net::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string org_text(int clerks) {
  std::string s =
      "role Clerk { may post }\nevent order.placed { ref: String }\n"
      "org Shop {\n  units { department Sales }\n";
  for (int i = 0; i < clerks; ++i)
    s += "  position c" + std::to_string(i) + ": Clerk in Sales held by \"clerk" + std::to_string(i) + "\"\n";
  return s +
         "}\nprocess Fulfil(ref: String) {\n  task pack by Clerk outcomes packed, lost\n}\n"
         "rule on_order when order.placed e then start Fulfil(e.ref)\n";
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) out.push_back(x);
  return out;
}

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

// One run: a fresh store and server, `clients` threads doing `per_client` iterations of `workload`.
void run(const std::string& workload, int clients, int per_client) {
  fs::path db = fs::temp_directory_path() / ("orgos-server-bench-" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  auto c = driver::check_text("shop.org", org_text(clients));
  if (c->diags.has_errors()) {
    std::fprintf(stderr, "%s", diag::render_all_text(c->sources, c->diags).c_str());
    std::exit(1);
  }
  auto lw = ir::lower(*c);
  bundle::Bundle b;
  b.module = std::move(lw.module);
  b.program = std::move(lw.program);
  b.source_hash = "bench";
  std::vector<double> lat;  // milliseconds, every request
  double wall = 0;
  int64_t failures = 0;
  {
    store::Store s(db.string());
    std::vector<std::string> tokens;
    for (int i = 0; i < clients; ++i) {
      int64_t id = 0;
      tokens.push_back(net::Tokens(s).add("clerk" + std::to_string(i), id));
    }
    workflow::EngineOptions eo;
    eo.start_time = 1767225600;
    workflow::Engine engine(b, s, eo);
    net::ServerOptions so;
    so.listen = "tcp://127.0.0.1:0";
    net::Server server(engine, s, so);
    std::vector<std::vector<double>> per(static_cast<size_t>(clients));
    std::vector<int64_t> fails(static_cast<size_t>(clients), 0);
    std::vector<std::thread> threads;
    auto t0 = Clock::now();
    for (int i = 0; i < clients; ++i)
      threads.emplace_back([&, i] {
        net::Client cl(server.url(), tokens[static_cast<size_t>(i)]);
        auto& mine = per[static_cast<size_t>(i)];
        auto call = [&](const json& req) {
          auto a = Clock::now();
          json r = cl.call(req);
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
          return r;
        };
        auto must = [&](const json& req) {
          if (!call(req).value("ok", false)) fails[static_cast<size_t>(i)]++;
        };
        for (int j = 0; j < per_client; ++j) {
          std::string key = std::to_string(i) + "-" + std::to_string(j);
          if (workload == "whoami") {
            must({{"verb", "whoami"}});
            continue;
          }
          must(
              {{"verb", "events.post"}, {"name", "order.placed"}, {"payload", {{"ref", key}}}, {"key", key}});
          if (workload != "cycle") continue;
          // The newest open task nobody has claimed yet: usually the one just opened.
          auto open = call({{"verb", "tasks.list"}});
          for (auto it = open["result"].rbegin(); it != open["result"].rend(); ++it) {
            if ((*it)["claimed_by"] != "") continue;
            int64_t id = (*it)["id"];
            // Losing the race for a task to another client is expected: try the next.
            if (!call({{"verb", "tasks.claim"}, {"task", id}, {"key", key + "-c"}})["ok"]) continue;
            must({{"verb", "tasks.complete"}, {"task", id}, {"outcome", "packed"}, {"key", key + "-d"}});
            break;
          }
        }
      });
    for (auto& t : threads) t.join();
    wall = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& v : per) lat.insert(lat.end(), v.begin(), v.end());
    for (auto f : fails) failures += f;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  size_t n = lat.size();
  std::printf("| %-6s | %3d | %7zu | %9.0f | %7.3f | %7.3f | %6lld |\n", workload.c_str(), clients, n,
              static_cast<double>(n) / wall, pct(lat, 0.50), pct(lat, 0.99),
              static_cast<long long>(failures));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> clients = split(argc > 1 ? argv[1] : "1,8,32");
  int per_client = argc > 2 ? std::atoi(argv[2]) : 200;
  std::vector<std::string> workloads = split(argc > 3 ? argv[3] : "whoami,post,cycle");
  std::printf("| workload | clients | requests | requests/s | p50 ms | p99 ms | errors |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (auto& w : workloads)
    for (auto& c : clients) run(w, std::atoi(c.c_str()), per_client);
}
