// The project and its store, opened for the verbs that read a run's state (instances, metrics, explain).
#include <filesystem>
#include <iostream>

#include "runtime/workflow/project_identity.h"
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
    o->store = std::make_unique<orgos::store::Store>(db, orgos::store::OpenMode::ReadOnly);
    orgos::workflow::EngineOptions eo;
    eo.exec = exec_engine(engine);
    eo.project = orgos::workflow::project_name(path);
    o->engine = std::make_unique<orgos::workflow::Engine>(o->bundle, *o->store, eo);
  } catch (const orgos::store::StoreError& e) {
    store_failed(e);
  }
  return o;
}

void store_failed(const orgos::store::StoreError& e) {
  using orgos::store::StoreFault;
  std::cerr << "error: " << e.what() << "\n  hint: ";
  switch (e.fault()) {
    case StoreFault::Missing:
      std::cerr << "give the --db file of a run (orgctl run … --db FILE); without --db the project's store "
                   "(.orgos/state.db, made by `orgctl serve`) is read\n";
      break;
    case StoreFault::InUse:
      std::cerr << "stop the process that owns it (a server stops on Ctrl-C or SIGTERM), or use a verb that "
                   "only reads\n";
      break;
    case StoreFault::Full:
      std::cerr << "make room on the disk and run it again: what was not committed is not in the store\n";
      break;
    case StoreFault::NotAFile:  // a folder given as --db: restoring a backup is no answer to that
      std::cerr << "give the store's file with --db (the FILE of `orgctl run … --db FILE`; a project keeps "
                   "its own at .orgos/state.db)\n";
      break;
    case StoreFault::Damaged:
      std::cerr << "docs/server.md, \"The store\", says how to put a backup in its place\n";
      break;
    case StoreFault::OtherProject:
      std::cerr << "a store records the project that made it and serves no other (docs/server.md, \"The "
                   "store\")\n";
      break;
    case StoreFault::NotWritable:  // a read-only file system: nothing is damaged, no backup is needed
      std::cerr << "a writer needs a store on a writable file system (and its folder, for the lock file): "
                   "copy the store there, or use a verb that only reads\n";
      break;
    case StoreFault::LockNotAFile:  // planted, or left by a tool: the store itself is not touched
      std::cerr << "remove what is at that name if nobody needs it (a writer makes its own lock file there "
                   "and removes it when it closes the store)\n";
      break;
    case StoreFault::Other:
      std::cerr << "a store is read with the project, in the version, that wrote it: give that project (or "
                   "the store of a run of this one)\n";
      break;
  }
  throw CLI::RuntimeError(kExitIo);
}

}  // namespace orgctl
