// orgctl store verify --db FILE [PROJECT] — replays the store's input log into a fresh in-memory engine and
// compares the result with the state the store holds: an edited record, task or instance is named with its
// field. Registered under the `store` verb (cmd_store.cpp).
#include <iostream>

#include "runtime/store/store.h"
#include "runtime/workflow/project_identity.h"
#include "runtime/workflow/replay_check.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

void register_store_verify(CLI::App* store) {
  auto db = std::make_shared<std::string>();
  auto project = std::make_shared<std::string>(".");
  auto json_out = std::make_shared<bool>(false);
  auto* v = store->add_subcommand(
      "verify", "Replay the input log into a fresh engine and compare the result with the stored state");
  v->add_option("--db", *db, "the store (SQLite file)")->required();
  v->add_option("project", *project, "the project folder or .org file that wrote the store (default: .)");
  v->add_flag("--json", *json_out, "print the verdict as JSON");
  v->footer(
      "The input log is the store's source of truth (the audit chain vouches for it: `orgctl audit "
      "verify`);\n"
      "instances, tasks, timers and records are what the log produced. An edit of those tables behind the\n"
      "engine's back is reported with the table, row and field. Works beside a running `orgctl serve`.\n"
      "Examples:\n"
      "  orgctl store verify --db acme.db examples/acme\n"
      "Exit codes: 0 the state is what the log gives; 1 it differs (each difference named) or the project "
      "has\n"
      "errors; 3 the store cannot be read or replayed.");
  v->callback([db, project, json_out]() {
    orgos::driver::BuildOptions bo;
    bo.check.inputs = {*project};
    orgos::bundle::Bundle bundle = build_or_exit(bo).bundle;
    orgos::workflow::ReplayCheck r;
    try {
      orgos::store::Store s(*db, orgos::store::OpenMode::ReadOnly);
      orgos::workflow::EngineOptions eo;
      eo.exec = orgos::workflow::ExecEngine::Interp;  // the same results as native code, without compiling
      eo.project = orgos::workflow::project_name(*project);
      r = orgos::workflow::check_against_replay(bundle, s, eo);
    } catch (const std::exception& e) {
      std::cerr
          << "error: cannot replay `" << *db << "`: " << e.what()
          << "\n  hint: give the project that wrote this store (orgctl store verify --db FILE PROJECT)\n";
      throw CLI::RuntimeError(kExitIo);
    }
    if (*json_out) {
      nlohmann::json j = {{"inputs", r.inputs}, {"matches", r.differences.empty()}};
      j["differences"] = nlohmann::json::array();
      for (auto& d : r.differences)
        j["differences"].push_back({{"table", d.table},
                                    {"id", d.id},
                                    {"type", d.what},
                                    {"field", d.field},
                                    {"stored", d.stored},
                                    {"replayed", d.replayed}});
      std::cout << j.dump(2) << "\n";
    } else if (r.differences.empty()) {
      std::cout << "stored state matches the replay of its " << r.inputs << " inputs\n";
    } else {
      std::cerr << "stored state differs from the replay of its " << r.inputs << " inputs:\n";
      size_t shown = 0;
      for (auto& d : r.differences) {
        if (++shown > 50) {
          std::cerr << "  … and " << r.differences.size() - 50 << " more\n";
          break;
        }
        std::cerr << "  " << d.describe() << "\n";
      }
    }
    throw CLI::RuntimeError(r.differences.empty() ? kExitOk : kExitInputErrors);
  });
}

}  // namespace orgctl
