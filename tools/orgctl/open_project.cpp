// The project and its store, opened for the verbs that read a run's state (instances, metrics, explain).
#include <filesystem>
#include <iostream>

#include "tools/orgctl/commands.h"

namespace orgctl {

std::string project_store(const std::string& path) {
  std::filesystem::path p(path.empty() ? "." : path);
  std::filesystem::path dir = std::filesystem::is_directory(p) ? p : p.parent_path();
  if (dir.empty()) dir = ".";
  return (dir / ".orgos" / "state.db").string();
}

std::unique_ptr<Opened> open_project(const std::string& path, const std::string& given_db,
                                     const std::string& engine) {
  std::string db = given_db.empty() ? project_store(path) : given_db;
  orgos::driver::BuildOptions bo;
  bo.check.inputs = {path};
  auto o = std::make_unique<Opened>();
  o->bundle = build_or_exit(bo).bundle;
  try {
    if (!std::filesystem::exists(db)) throw orgos::store::StoreError("no store at `" + db + "`");
    o->store = std::make_unique<orgos::store::Store>(db);
  } catch (const orgos::store::StoreError& e) {
    std::cerr << "error: " << e.what()
              << "\n  hint: give the --db file of a run (orgctl run … --db FILE); without --db the project's "
                 "store (.orgos/state.db, made by `orgctl serve`) is read\n";
    throw CLI::RuntimeError(kExitIo);
  }
  orgos::workflow::EngineOptions eo;
  eo.exec = exec_engine(engine);
  o->engine = std::make_unique<orgos::workflow::Engine>(o->bundle, *o->store, eo);
  return o;
}

}  // namespace orgctl
