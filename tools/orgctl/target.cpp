// Running a protocol request where the user pointed: a server (--connect) or a local store (--db).
#include <filesystem>
#include <iostream>

#include "runtime/net/client.h"
#include "runtime/net/dispatcher.h"
#include "runtime/store/store.h"
#include "runtime/workflow/project_identity.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace {

nlohmann::json local(const Target& given, const nlohmann::json& req) {
  Target t = given;
  if (t.db.empty() && std::filesystem::exists(project_store(t.path))) t.db = project_store(t.path);
  if (t.db.empty()) {
    std::cerr
        << "error: no store and no server given\n  hint: add --db FILE (a store of `orgctl run` or `orgctl "
           "serve`) or --connect tcp://HOST:PORT (a running `orgctl serve`)\n";
    throw CLI::RuntimeError(kExitUsage);
  }
  auto parsed = orgos::net::parse_request(req.dump());
  if (auto* e = std::get_if<orgos::net::ProtocolError>(&parsed))
    return orgos::net::error_reply(nullptr, e->code, e->message);
  orgos::driver::BuildOptions bo;
  bo.check.inputs = {t.path};
  auto built = build_or_exit(bo);
  // A verb that only reads opens the store read-only, beside its owner (a server); one that acts becomes
  // the owner for its run, and is refused while another process owns the store.
  const std::string& verb = std::get<orgos::net::Request>(parsed).verb;
  bool reads = verb == "tasks.list" || verb == "instances.list" || verb == "metrics.get";
  try {
    orgos::store::Store store(t.db,
                              reads ? orgos::store::OpenMode::ReadOnly : orgos::store::OpenMode::MustExist);
    orgos::workflow::EngineOptions eo;
    eo.exec = exec_engine(t.engine);
    eo.project = orgos::workflow::project_name(t.path);
    orgos::workflow::Engine engine(built.bundle, store, eo);
    orgos::net::Dispatcher d(engine);
    return d.handle(std::get<orgos::net::Request>(parsed), t.as.empty() ? "system" : t.as);
  } catch (const orgos::store::StoreError& e) {
    store_failed(e);
  }
}

}  // namespace

void add_target_options(CLI::App* cmd, Target& t, bool acts) {
  cmd->add_option("path", t.path, "project folder, with --db (default: .)");
  cmd->add_option("--db", t.db, "work on this store in-process (instead of --connect)");
  add_engine_option(cmd, t.engine);
  if (acts) cmd->add_option("--as", t.as, "with --db: the actor who acts (with --connect the token says)");
}

std::string target_footer() {
  return "Runs on a server with `orgctl --connect URL --token TOKEN VERB …` (or ORGOS_TOKEN), or in-process\n"
         "on a store with `[PROJECT] --db FILE --as ACTOR`.\n"
         "Exit codes: 0 done; 1 the project has errors; 2 bad usage; 3 no store or no server; 4 refused "
         "(the\n"
         "error code is printed: unauthenticated, not_found, conflict, refused, bad_request, …).";
}

nlohmann::json request(const Target& t, nlohmann::json req) {
  const std::string& url = globals().connect;
  nlohmann::json reply;
  if (url.empty()) {
    bool mutates =
        req["verb"] != "tasks.list" && req["verb"] != "instances.list" && req["verb"] != "metrics.get";
    if (mutates && t.as.empty()) {
      std::cerr
          << "error: who acts? in-process, give --as ACTOR\n  hint: or --connect URL --token TOKEN to act "
             "as the token's actor on a server\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    reply = local(t, req);
  } else {
    if (!t.db.empty()) {
      std::cerr << "error: --db and --connect exclude each other\n  hint: the server has its own store; drop "
                   "--db\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    if (globals().token.empty()) {
      std::cerr
          << "error: --connect needs a token\n  hint: pass --token TOKEN or set ORGOS_TOKEN (the server's "
             "owner creates one with `orgctl token add ACTOR --db FILE`)\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    try {
      orgos::net::Client c(url, globals().token, std::chrono::seconds(30),
                           {globals().tls_ca, "", globals().tls_insecure});
      reply = c.call(std::move(req));
    } catch (const orgos::net::ClientError& e) {
      std::cerr << "error: " << e.what() << "\n";
      throw CLI::RuntimeError(kExitIo);
    }
  }
  if (!reply.value("ok", false)) {
    std::string code = reply["error"].value("code", "?");
    std::string message = reply["error"].value("message", "");
    std::cerr << "error [" << code << "]: " << message << "\n";
    // Only a hint that fits the case: a key reused for another request is no matter of tasks (it comes on
    // `events post` too), and a missing task's message already names `tasks list`.
    if (code == "unauthenticated")
      std::cerr << "  hint: check --token / ORGOS_TOKEN; `orgctl token list --db FILE` shows the tokens\n";
    else if (code == "conflict" && message.rfind("the key `", 0) == 0)
      std::cerr << "  hint: a --key is for retrying the same request; give a new --key, or none for a fresh "
                   "one\n";
    else if (code == "conflict")
      std::cerr << "  hint: `orgctl tasks list --all` shows each task's status and who claimed it\n";
    throw CLI::RuntimeError(kExitRefused);
  }
  return reply["result"];
}

}  // namespace orgctl
