// orgctl audit verify|checkpoint|export --db FILE — check a store's audit chain (its hashes, its MACs with
// the audit key, the input log and tokens it records, and optionally a checkpoint kept outside the store),
// take such a checkpoint, or print the chain.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/store/audit_checkpoint.h"
#include "runtime/store/store.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace {

using orgos::store::AuditKey;
using orgos::store::StoreError;

std::unique_ptr<orgos::store::Store> open_store(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::cerr << "error: no store at `" << path
              << "`\n  hint: give the --db file of a run (orgctl run … --db FILE)\n";
    throw CLI::RuntimeError(kExitIo);
  }
  try {
    return std::make_unique<orgos::store::Store>(path, orgos::store::OpenMode::ReadOnly);  // beside an owner
  } catch (const StoreError& e) {
    std::cerr << "error: " << e.what() << "\n";
    throw CLI::RuntimeError(kExitIo);
  }
}

// The audit key: the one named (--audit-key or ORGOS_AUDIT_KEY) must be readable; the default one is used
// if it exists. `required` (a checkpoint must be MACed): no key at all is an error.
std::optional<AuditKey> audit_key(bool required) {
  const char* named = std::getenv("ORGOS_AUDIT_KEY");
  try {
    std::string path = orgos::store::default_audit_key_path();
    std::error_code ec;
    if ((named && *named) || std::filesystem::exists(path, ec) || required) return AuditKey::load(path);
  } catch (const StoreError& e) {
    std::cerr << "error: " << e.what() << "\n";
    throw CLI::RuntimeError(kExitIo);
  }
  return std::nullopt;
}

// A checkpoint is a small JSON file: a FIFO would hang the read and /dev/zero fill memory, so only a
// regular file of at most 64 KiB is read.
std::string read_file(const std::string& path) {
  std::error_code ec;
  auto st = std::filesystem::status(path, ec);
  if (std::filesystem::exists(st) && !std::filesystem::is_regular_file(st)) {
    std::cerr << "error: the checkpoint `" << path << "` is not a regular file\n";
    throw CLI::RuntimeError(kExitIo);
  }
  if (std::filesystem::exists(st) && std::filesystem::file_size(path, ec) > 64 * 1024) {
    std::cerr << "error: the checkpoint `" << path << "` is over 64 KiB: it is no checkpoint\n";
    throw CLI::RuntimeError(kExitIo);
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::cerr << "error: cannot read the checkpoint `" << path << "`\n";
    throw CLI::RuntimeError(kExitIo);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void verify(const std::string& db, const std::string& checkpoint_file, bool json_out) {
  auto s = open_store(db);
  std::optional<AuditKey> key = audit_key(false);
  std::optional<orgos::store::AuditCheckpoint> cp;
  if (!checkpoint_file.empty()) {
    try {
      cp = orgos::store::AuditCheckpoint::parse(read_file(checkpoint_file));
    } catch (const StoreError& e) {
      std::cerr << "error: `" << checkpoint_file << "` is " << e.what() << "\n";
      throw CLI::RuntimeError(kExitIo);
    }
  }
  orgos::store::AuditReport r = s->audit().verify(key ? &*key : nullptr, cp ? &*cp : nullptr);
  if (json_out) {
    nlohmann::json j = {{"intact", r.intact()},
                        {"entries", r.entries},
                        {"authenticated", r.authenticated},
                        {"checkpoint", r.checkpointed}};
    if (!r.intact()) {
      j["first_bad_entry"] = r.problems.front().entry;
      j["problem"] = r.problems.front().what;
      j["problems"] = nlohmann::json::array();
      for (auto& p : r.problems) j["problems"].push_back({{"entry", p.entry}, {"what", p.what}});
    }
    std::cout << j.dump(2) << "\n";
  } else if (!r.intact()) {
    std::cerr << "audit chain broken: " << r.problems.front().what << "\n";
    for (size_t i = 1; i < r.problems.size(); ++i) std::cerr << "  also: " << r.problems[i].what << "\n";
  } else {
    std::cout << "audit chain intact: " << r.entries << " entries"
              << (r.authenticated ? ", authenticated with the audit key" : "")
              << (r.checkpointed ? ", everything the checkpoint recorded is there" : "") << "\n";
    if (!r.authenticated)
      std::cout << "note: no audit key, so the entries are unauthenticated: a rewrite that recomputed every "
                   "hash would pass\n  hint: give the key with --audit-key FILE (or ORGOS_AUDIT_KEY)\n";
    if (!r.checkpointed)
      std::cout
          << "note: without --checkpoint, entries removed from the end cannot be told from entries never "
             "written\n";
  }
  throw CLI::RuntimeError(r.intact() ? kExitOk : kExitInputErrors);
}

void checkpoint(const std::string& db, const std::string& out) {
  auto s = open_store(db);
  AuditKey key = *audit_key(true);
  // A checkpoint vouches for the chain as it is: a broken one is not blessed.
  orgos::store::AuditReport r = s->audit().verify(&key);
  if (!r.intact()) {
    std::cerr << "error: no checkpoint taken, the audit chain is broken: " << r.problems.front().what << "\n";
    throw CLI::RuntimeError(kExitInputErrors);
  }
  // Never written over anything: the store itself, another file, a device or a FIFO named by mistake
  // would be replaced by the rename below (it was). Each checkpoint gets a new name.
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(out, ec))) {
    std::cerr << "error: `" << out
              << "` exists: a checkpoint is never written over a file\n  hint: give each checkpoint a new "
                 "name, e.g. --out acme-$(date +%F-%H%M).checkpoint\n";
    throw CLI::RuntimeError(kExitIo);
  }
  auto cp = orgos::store::AuditCheckpoint::take(*s, key, static_cast<int64_t>(std::time(nullptr)));
  // Written under a temporary name (made exclusively, never through a link) and linked into place: a crash
  // never leaves half a checkpoint under `out`, and link() refuses a file that appeared meanwhile.
  std::string tmp = out + ".tmp." + std::to_string(getpid());
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    std::string text = cp.to_json();
    bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) {
      std::cerr << "error: cannot write the checkpoint `" << out << "`\n";
      std::filesystem::remove(tmp);
      throw CLI::RuntimeError(kExitIo);
    }
  }
  ec.clear();  // symlink_status above set it: `out` did not exist
  if (::link(tmp.c_str(), out.c_str()) != 0) ec = std::error_code(errno, std::generic_category());
  std::filesystem::remove(tmp);
  if (ec) {
    std::cerr << "error: cannot write the checkpoint `" << out << "`: " << ec.message() << "\n";
    throw CLI::RuntimeError(kExitIo);
  }
  std::cout << "checkpoint of " << cp.entries << " audit entries (last " << cp.last_seq << ") and "
            << cp.inputs << " inputs written to " << out << "\n";
  throw CLI::RuntimeError(kExitOk);
}

}  // namespace

void register_audit(CLI::App& app) {
  auto db = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  auto cp_file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("audit", "Check, checkpoint or export the audit chain of a store");
  cmd->require_subcommand(1);
  auto* v = cmd->add_subcommand(
      "verify", "Check that no audit entry, logged input or token was edited, removed, reordered or forged");
  v->add_option("--db", *db, "the store (SQLite file)")->required();
  v->add_option("--checkpoint", *cp_file,
                "a checkpoint (orgctl audit checkpoint): also check nothing it "
                "recorded was removed or changed");
  v->add_flag("--json", *json_out, "print the verdict as JSON");
  v->footer(
      "The audit key (--audit-key FILE, ORGOS_AUDIT_KEY, else ~/.config/orgos/audit.key) authenticates the\n"
      "entries; without it only the plain hash chain is checked and the verdict says so.\n"
      "Examples:\n"
      "  orgctl audit verify --db acme.db\n"
      "  orgctl audit verify --db acme.db --checkpoint acme.checkpoint --audit-key /etc/orgos/audit.key\n"
      "Exit codes: 0 the chain is intact; 1 something was edited, removed, reordered or forged (each problem "
      "is\n"
      "named, the first first); 3 the store, key or checkpoint cannot be read.");
  v->callback([db, cp_file, json_out]() { verify(*db, *cp_file, *json_out); });

  auto out = std::make_shared<std::string>();
  auto* c = cmd->add_subcommand(
      "checkpoint", "Write the chain's head, MACed with the audit key, to a file kept outside the store");
  c->add_option("--db", *db, "the store (SQLite file)")->required();
  c->add_option("--out", *out, "the checkpoint file to write")->required();
  c->footer(
      "Keep checkpoints where whoever can write the store cannot (another host, write-once storage); take "
      "one\n"
      "periodically (e.g. from cron). The chain is verified first: a broken chain gets no checkpoint.\n"
      "Example:\n"
      "  orgctl audit checkpoint --db acme.db --out /backup/acme-$(date +%F).checkpoint\n"
      "Exit codes: 0 written; 1 the chain is broken; 3 the store or key cannot be read, or the file "
      "written.");
  c->callback([db, out]() { checkpoint(*db, *out); });

  auto* exp = cmd->add_subcommand("export", "Print every audit entry as one JSON object per line");
  exp->add_option("--db", *db, "the store (SQLite file)")->required();
  exp->footer("Example:\n  orgctl audit export --db acme.db > audit.jsonl");
  exp->callback([db]() {
    auto s = open_store(*db);
    for (const auto& e : s->audit_entries())
      std::cout << nlohmann::json{{"seq", e.seq},
                                  {"at", e.at},
                                  {"kind", orgos::store::audit_kind_name(e.kind)},
                                  {"actor", e.actor},
                                  {"action", e.action},
                                  {"resource", e.resource},
                                  {"decision", e.decision},
                                  {"reason", e.reason},
                                  {"ref", e.ref},
                                  {"digest", e.digest},
                                  {"prev_hash", e.prev_hash},
                                  {"hash", e.hash},
                                  {"mac", e.mac}}
                       .dump()
                << "\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
