// orgctl serve — the engine of one project and store, served over nng until SIGINT/SIGTERM: requests on
// --listen (docs/server.md), over TLS with --tls-cert/--tls-key; the unauthenticated event stream on
// --events only with --public-events (followers use the authenticated `events.read` request instead).
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <future>
#include <iostream>
#include <thread>

#include "runtime/net/server.h"
#include "runtime/net/tokens.h"
#include "runtime/workflow/project_identity.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

void register_serve(CLI::App& app) {
  struct Opts {
    std::string path = ".", db, engine = "jit";
    std::string listen = "tcp://127.0.0.1:7878", events = "tcp://127.0.0.1:7879";
    std::string tls_cert, tls_key;
    bool public_events = false;
    int group = 256;
    double tick = 60;
    orgos::net::ServerOptions limits;  // the connection limits, defaults from ServerOptions
    double idle = 120, send_timeout = 5;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("serve", "Serve a project's engine and store over the network (nng)");
  cmd->add_option("path", o->path, "project folder (default: .)");
  cmd->add_option("--db", o->db,
                  "the store (created if missing; tokens live here too). Default: the project's "
                  ".orgos/state.db");
  cmd->add_option("--listen", o->listen,
                  "request/reply address: tcp://HOST:PORT, or tls+tcp://HOST:PORT with --tls-cert and "
                  "--tls-key (default: tcp://127.0.0.1:7878; port 0: any)");
  cmd->add_option("--tls-cert", o->tls_cert, "with tls+tcp://: the server's certificate (chain), PEM");
  cmd->add_option("--tls-key", o->tls_key,
                  "with tls+tcp://: the certificate's private key, PEM, unencrypted");
  auto* events = cmd->add_option(
      "--events", o->events, "with --public-events: the stream's address (default: tcp://127.0.0.1:7879)");
  cmd->add_flag(
      "--public-events", o->public_events,
      "also publish every trace line on an unauthenticated PUB socket (anyone who can connect reads "
      "everything; `events tail` does not need it)");
  cmd->add_option("--max-connections", o->limits.max_connections,
                  "connections at most (default: 1024, lowered to the open-file limit)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-connections-per-peer", o->limits.max_connections_per_peer,
                  "connections at most from one IP address (default: 128)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-pending", o->limits.max_pending_per_connection,
                  "requests in flight at most on one connection; one more closes it (default: 8)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--idle-timeout", o->idle,
                  "seconds after which a connection without requests is closed; 0: never (default: 120)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option(
         "--send-timeout", o->send_timeout,
         "seconds a reply waits for its client to take it; then the connection is closed (default: 5)")
      ->check(CLI::PositiveNumber);
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
      "  orgctl serve examples/acme --db acme.db --listen tls+tcp://0.0.0.0:7878 --tls-cert cert.pem "
      "--tls-key key.pem\n"
      "  orgctl --connect tcp://127.0.0.1:7878 --token $T tasks list\n"
      "Prints `serving on URL` (and, with --public-events, `events on URL`) once listening; stops cleanly on "
      "Ctrl-C or SIGTERM.\n"
      "Exit codes: 0 stopped by a signal; 1 the project has errors; 3 cannot open the store or bind an "
      "address.");
  cmd->callback([o, events]() {
    if (events->count() > 0 && !o->public_events) {
      std::cerr
          << "error: --events opens the unauthenticated event stream, which needs --public-events\n"
             "  hint: add --public-events, or follow events with a token: `orgctl --connect URL --token T "
             "events tail`\n";
      throw CLI::RuntimeError(kExitUsage);
    }
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
      // "A new file" is no answer to a store in use or damaged (it would start over beside the real one):
      // those get their own hint.
      if (e.fault() != orgos::store::StoreFault::Other) store_failed(e);
      std::cerr << "error: " << e.what()
                << "\n  hint: give --db a new file, or the store of an earlier run\n";
      throw CLI::RuntimeError(kExitIo);
    }
    if (orgos::net::Tokens(*store).list().empty())
      std::cerr << "warning: the store has no API tokens, so every request will be refused\n  hint: `orgctl "
                   "token add ACTOR --db "
                << o->db << "`\n";
    // Each connection is a descriptor: take what the system allows, so that the connection cap, not the
    // open-file limit, is what refuses peers (accept() failing on EMFILE would repeat without end).
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
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
    eo.project = orgos::workflow::project_name(o->path);
    eo.trace = [&srv](const std::string& line) {
      if (srv) srv->note(line);
    };
    std::unique_ptr<orgos::workflow::Engine> engine_made;
    try {
      engine_made = std::make_unique<orgos::workflow::Engine>(built.bundle, *store, eo);
    } catch (const orgos::store::StoreError& e) {
      store_failed(e);  // another project's store, or one that does not decode: exit 3, nothing served
    }
    orgos::workflow::Engine& engine = *engine_made;
    orgos::net::ServerOptions so = o->limits;
    so.listen = o->listen;
    so.tls_cert = o->tls_cert;
    so.tls_key = o->tls_key;
    if (o->public_events) {
      so.events = o->events;
      std::cerr
          << "warning: --public-events: everything the engine does (payloads, decisions, notifications) "
             "is published without authentication at "
          << o->events << "; keep it on a private network\n";
    }
    so.idle_timeout = std::chrono::milliseconds(static_cast<int64_t>(o->idle * 1000));
    so.send_timeout = std::chrono::milliseconds(static_cast<int64_t>(o->send_timeout * 1000));
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
    const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    // stop() first finishes the engine thread (everything acknowledged is committed), then closes the
    // sockets. nng 1.5.2 can hang in that close (a send's timeout firing as its connection closes), so
    // the close gets ten seconds; after that the process ends without it, its store already complete.
    auto stopped = std::make_shared<std::promise<void>>();
    std::future<void> done = stopped->get_future();
    std::thread([&server, stopped] {
      server->stop();
      stopped->set_value();
    }).detach();
    if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      std::cerr << "stopped (" << name << "); the network did not close within 10 s, exiting without it\n";
      std::_Exit(kExitOk);
    }
    std::cerr << "stopped (" << name << ")\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
