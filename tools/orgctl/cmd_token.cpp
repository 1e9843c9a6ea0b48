// orgctl token add|revoke|list — the API tokens of a store: each carries one actor's commands to
// `orgctl serve`. Only hashes are stored; `add` prints the token once.
#include <ctime>
#include <filesystem>
#include <iostream>

#include "runtime/net/tokens.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace {

// --db, or (run in a project folder) the project's own store, the one `orgctl serve` uses by default.
// Tokens are managed beside a running server (a leaked token is revoked without stopping it): a store that
// exists is opened for shared writing (or read-only, to list), and only a new one is created as its owner.
std::unique_ptr<orgos::store::Store> open_store(std::string db, orgos::store::OpenMode mode) {
  using orgos::store::OpenMode;
  bool create = mode == OpenMode::CreateIfMissing;
  if (db.empty()) {
    if (!std::filesystem::exists("orgos.yaml")) {
      std::cerr << "error: no --db given and this folder is not a project (no orgos.yaml)\n  hint: give the "
                   "server's store with --db FILE, or run this in the project folder\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    db = project_store(".");
    std::error_code ec;
    if (create) std::filesystem::create_directories(std::filesystem::path(db).parent_path(), ec);
  }
  try {
    std::error_code ec;
    if (create && std::filesystem::exists(db, ec)) mode = OpenMode::SharedWrite;
    return std::make_unique<orgos::store::Store>(db, mode);
  } catch (const orgos::store::StoreError& e) {
    if (e.fault() != orgos::store::StoreFault::Missing) store_failed(e);
    std::cerr << "error: " << e.what() << "\n  hint: give the --db file the server uses\n";
    throw CLI::RuntimeError(kExitIo);
  }
}

}  // namespace

void register_token(CLI::App& app) {
  auto db = std::make_shared<std::string>();
  auto actor = std::make_shared<std::string>();
  auto id = std::make_shared<int64_t>(0);
  auto json_out = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("token", "API tokens for `orgctl serve`: add, revoke, list");
  cmd->require_subcommand(1);

  auto* add = cmd->add_subcommand("add", "A new token for an actor, printed once (only its hash is kept)");
  add->add_option("actor", *actor, "the actor whose commands the token carries, e.g. ben")->required();
  add->add_option("--db", *db, "the server's store (created if missing; default: ./.orgos/state.db)");
  add->add_flag("--json", *json_out, "print JSON ({\"id\", \"actor\", \"token\"})");
  add->footer(
      "Example:\n  export ORGOS_TOKEN=$(orgctl token add ben --db acme.db)\n"
      "Exit codes: 0 printed; 2 bad usage; 3 cannot open the store.");
  add->callback([=]() {
    if (actor->empty()) {
      std::cerr
          << "error: the actor is empty\n  hint: name the actor, e.g. `orgctl token add ben --db FILE`\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    auto s = open_store(*db, orgos::store::OpenMode::CreateIfMissing);
    int64_t new_id = 0;
    std::string token = orgos::net::Tokens(*s).add(*actor, new_id);
    if (*json_out) {
      std::cout << nlohmann::json{{"id", new_id}, {"actor", *actor}, {"token", token}}.dump(2) << "\n";
    } else {
      std::cout << token << "\n";
      std::cerr << "token #" << new_id << " for " << *actor << " (shown once; `orgctl token revoke " << new_id
                << " --db " << *db << "` ends it)\n";
    }
    throw CLI::RuntimeError(kExitOk);
  });

  auto* revoke = cmd->add_subcommand("revoke", "End a token: requests with it are refused from now on");
  revoke->add_option("id", *id, "token id (see `token list`)")->required()->transform(whole_number());
  revoke->add_option("--db", *db, "the server's store (default: ./.orgos/state.db)");
  revoke->footer(
      "Example:\n  orgctl token revoke 3 --db acme.db\n"
      "Exit codes: 0 revoked; 1 no such token; 2 bad usage; 3 cannot open the store.");
  revoke->callback([=]() {
    auto s = open_store(*db, orgos::store::OpenMode::SharedWrite);
    if (!orgos::net::Tokens(*s).revoke(*id)) {
      std::cerr << "error: no token #" << *id << "\n  hint: `orgctl token list --db " << *db
                << "` shows them\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    std::cout << "revoked token #" << *id << "\n";
    throw CLI::RuntimeError(kExitOk);
  });

  auto* list = cmd->add_subcommand("list", "The tokens: id, actor, created, revoked (never the tokens)");
  list->add_option("--db", *db, "the server's store (default: ./.orgos/state.db)");
  list->add_flag("--json", *json_out, "print JSON");
  list->footer(
      "Example:\n  orgctl token list --db acme.db --json\nExit codes: 0; 2 bad usage; 3 cannot open the "
      "store.");
  list->callback([=]() {
    auto s = open_store(*db, orgos::store::OpenMode::ReadOnly);
    nlohmann::json a = nlohmann::json::array();
    for (auto& t : orgos::net::Tokens(*s).list()) {
      if (*json_out) {
        a.push_back({{"id", t.id}, {"actor", t.actor}, {"created", t.created}, {"revoked", t.revoked}});
        continue;
      }
      char when[32];
      std::time_t c = static_cast<std::time_t>(t.created);
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::gmtime(&c));
      std::cout << "#" << t.id << "\t" << t.actor << "\t" << when << " UTC" << (t.revoked ? "\trevoked" : "")
                << "\n";
    }
    if (*json_out) std::cout << a.dump(2) << "\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
