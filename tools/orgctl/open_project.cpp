// The project and its store, opened for the verbs that read a run's state (instances, metrics, explain).
#include <filesystem>
#include <iostream>

#include "tools/orgctl/commands.h"

namespace orgctl {

std::unique_ptr<Opened> open_project(const std::string& path, const std::string& db,
                                     const std::string& engine) {
  orgos::driver::BuildOptions bo;
  bo.check.inputs = {path};
  auto o = std::make_unique<Opened>();
  o->bundle = build_or_exit(bo).bundle;
  try {
    if (!std::filesystem::exists(db)) throw orgos::store::StoreError("no store at `" + db + "`");
    o->store = std::make_unique<orgos::store::Store>(db);
  } catch (const orgos::store::StoreError& e) {
    std::cerr << "error: " << e.what() << "\n  hint: give the --db file of a run (orgctl run … --db FILE)\n";
    throw CLI::RuntimeError(kExitIo);
  }
  orgos::workflow::EngineOptions eo;
  eo.exec = exec_engine(engine);
  o->engine = std::make_unique<orgos::workflow::Engine>(o->bundle, *o->store, eo);
  return o;
}

}  // namespace orgctl
