// orgctl audit verify|export --db FILE — check the hash chain of a store's audit log, or print it.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "runtime/store/store.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace {
std::unique_ptr<orgos::store::Store> open_store(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::cerr << "error: no store at `" << path
              << "`\n  hint: give the --db file of a run (orgctl run … --db FILE)\n";
    throw CLI::RuntimeError(kExitIo);
  }
  try {
    return std::make_unique<orgos::store::Store>(path);
  } catch (const orgos::store::StoreError& e) {
    std::cerr << "error: " << e.what() << "\n";
    throw CLI::RuntimeError(kExitIo);
  }
}
}  // namespace

void register_audit(CLI::App& app) {
  auto db = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("audit", "Check or export the hash-chained audit log of a store");
  cmd->require_subcommand(1);
  auto* verify = cmd->add_subcommand("verify", "Check that no audit entry was edited, removed or reordered");
  verify->add_option("--db", *db, "the store (SQLite file)")->required();
  verify->add_flag("--json", *json_out, "print the verdict as JSON");
  verify->footer(
      "Examples:\n"
      "  orgctl audit verify --db acme.db\n"
      "Exit codes: 0 the chain is intact; 1 an entry was edited, removed or reordered (the first bad one is\n"
      "named); 3 the store cannot be opened.");
  verify->callback([db, json_out]() {
    auto s = open_store(*db);
    std::string problem;
    auto bad = s->verify_audit(problem);
    size_t n = s->audit_entries().size();
    if (*json_out) {
      nlohmann::json j = {{"intact", !bad}, {"entries", n}};
      if (bad) {
        j["first_bad_entry"] = *bad;
        j["problem"] = problem;
      }
      std::cout << j.dump(2) << "\n";
    } else if (bad) {
      std::cerr << "audit chain broken: " << problem << "\n";
    } else {
      std::cout << "audit chain intact: " << n << " entries\n";
    }
    throw CLI::RuntimeError(bad ? kExitInputErrors : kExitOk);
  });
  auto* exp = cmd->add_subcommand("export", "Print every audit entry as one JSON object per line");
  exp->add_option("--db", *db, "the store (SQLite file)")->required();
  exp->footer("Example:\n  orgctl audit export --db acme.db > audit.jsonl");
  exp->callback([db]() {
    auto s = open_store(*db);
    for (const auto& e : s->audit_entries())
      std::cout << nlohmann::json{{"seq", e.seq},           {"at", e.at},
                                  {"actor", e.actor},       {"action", e.action},
                                  {"resource", e.resource}, {"decision", e.decision},
                                  {"reason", e.reason},     {"prev_hash", e.prev_hash},
                                  {"hash", e.hash}}
                       .dump()
                << "\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
