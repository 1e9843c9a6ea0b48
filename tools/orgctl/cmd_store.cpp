// orgctl store SUBCOMMAND — care of a store file as a whole: `backup` takes a consistent copy (beside a
// running server). Each subcommand registers itself in its own function below, under the one `store` verb.
#include <iostream>

#include "runtime/store/store.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace {

void register_store_backup(CLI::App* store) {
  auto db = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* backup = store->add_subcommand(
      "backup", "Copy a store consistently (what its write-ahead log holds included) into a new file");
  backup->add_option("--db", *db, "the store (SQLite file)")->required();
  backup->add_option("out", *out, "the copy: a new file (an existing one is never overwritten)")->required();
  backup->footer(
      "Examples:\n"
      "  orgctl store backup --db acme.db acme-2026-12-07.db\n"
      "Works beside a running `orgctl serve`: the copy holds every input committed when it began. Copying\n"
      "the .db file alone loses what is still in its -wal file. To restore, stop the server and put the "
      "copy\n"
      "in the store's place (docs/server.md).\n"
      "Exit codes: 0 copied; 3 the store cannot be read, or OUT exists or cannot be written.");
  backup->callback([db, out]() {
    try {
      orgos::store::Store(*db, orgos::store::OpenMode::ReadOnly).backup_to(*out);
      // The copy is opened as a store (and so checked) before it is called a backup.
      orgos::store::Store copy(*out, orgos::store::OpenMode::ReadOnly);
      std::cout << "backed up " << *db << " to " << *out << " (" << copy.last_input_seq() << " inputs)\n";
    } catch (const orgos::store::StoreError& e) {
      if (e.fault() != orgos::store::StoreFault::Other) store_failed(e);
      std::cerr << "error: " << e.what() << "\n  hint: name a new file in a folder you can write\n";
      throw CLI::RuntimeError(kExitIo);
    }
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace

void register_store(CLI::App& app) {
  auto* store = app.add_subcommand("store", "Care of a store file: back it up, verify it against its log");
  store->require_subcommand(1);
  register_store_backup(store);
  register_store_verify(store);  // cmd_store_verify.cpp
}

}  // namespace orgctl
