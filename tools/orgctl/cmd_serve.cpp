// orgctl serve — the engine of one project and store, served over nng until SIGINT/SIGTERM: requests on
// --listen (docs/server.md), the event stream on --events.
#include <signal.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "runtime/net/server.h"
#include "runtime/net/tokens.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

void register_serve(CLI::App& app) {
  struct Opts {
    std::string path = ".", db, engine = "jit";
    std::string listen = "tcp://127.0.0.1:7878", events = "tcp://127.0.0.1:7879";
    int group = 256;
    double tick = 60;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("serve", "Serve a project's engine and store over the network (nng)");
  cmd->add_option("path", o->path, "project folder (default: .)");
  cmd->add_option("--db", o->db,
                  "the store (created if missing; tokens live here too). Default: the project's "
                  ".orgos/state.db");
  cmd->add_option("--listen", o->listen,
                  "request/reply address (default: tcp://127.0.0.1:7878; port 0: any)");
  cmd->add_option("--events", o->events,
                  "event stream (pub/sub) address (default: tcp://127.0.0.1:7879; \"\" for none)");
  cmd->add_option("--group-commit", o->group, "requests at most per store transaction (one fsync each)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--tick", o->tick,
                  "seconds between moves of the engine clock to the wall clock (firing due timers and "
                  "deadlines; each is a logged input); 0: never (default: 60)")
      ->check(CLI::NonNegativeNumber);
  add_engine_option(cmd, o->engine);
  cmd->footer(
      "Examples:\n"
      "  orgctl token add ben --db acme.db          prints ben's token once\n"
      "  orgctl serve examples/acme --db acme.db --listen tcp://0.0.0.0:7878\n"
      "  orgctl --connect tcp://127.0.0.1:7878 --token $T tasks list\n"
      "Prints `serving on URL` (and `events on URL`) once listening; stops cleanly on Ctrl-C or SIGTERM.\n"
      "Exit codes: 0 stopped by a signal; 1 the project has errors; 3 cannot open the store or bind an "
      "address.");
  cmd->callback([o]() {
    orgos::driver::BuildOptions bo;
    bo.check.inputs = {o->path};
    auto built = build_or_exit(bo);
    if (o->db.empty()) {
      o->db = project_store(o->path);
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(o->db).parent_path(), ec);
    }
    std::unique_ptr<orgos::store::Store> store;
    try {
      store = std::make_unique<orgos::store::Store>(o->db);
    } catch (const orgos::store::StoreError& e) {
      std::cerr << "error: " << e.what()
                << "\n  hint: give --db a new file, or the store of an earlier run\n";
      throw CLI::RuntimeError(kExitIo);
    }
    if (orgos::net::Tokens(*store).list().empty())
      std::cerr << "warning: the store has no API tokens, so every request will be refused\n  hint: `orgctl "
                   "token add ACTOR --db "
                << o->db << "`\n";
    // Wait for the stop signals on this thread alone: blocked before any other thread starts, so nng's
    // and the engine's threads inherit the mask and never take them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    orgos::net::Server* srv = nullptr;
    orgos::workflow::EngineOptions eo;
    eo.start_time = static_cast<int64_t>(std::time(nullptr));
    eo.exec = exec_engine(o->engine);
    eo.trace = [&srv](const std::string& line) {
      if (srv) srv->note(line);
    };
    orgos::workflow::Engine engine(built.bundle, *store, eo);
    orgos::net::ServerOptions so;
    so.listen = o->listen;
    so.events = o->events;
    so.max_batch = o->group;
    so.tick = std::chrono::milliseconds(static_cast<int64_t>(o->tick * 1000));
    std::unique_ptr<orgos::net::Server> server;
    try {
      server = std::make_unique<orgos::net::Server>(engine, *store, so);
    } catch (const orgos::net::ServerError& e) {
      std::cerr << "error: " << e.what() << "\n";
      throw CLI::RuntimeError(kExitIo);
    }
    srv = server.get();
    std::cout << "serving on " << server->url() << std::endl;
    if (!server->events_url().empty()) std::cout << "events on " << server->events_url() << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    server->stop();
    std::cerr << "stopped (" << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ")\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
