#include "runtime/store/store.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

namespace orgos::store {

namespace {

// 4: instances, tasks and timers as columns (InstanceRow, TaskRow, TimerRow) instead of one JSON document.
// 5: the audit chain records inputs and tokens (kind, ref, digest) and carries a keyed MAC per entry.
// 6: an instance's starter is a column of its row (it was a `started_by:ID` row in meta per instance);
//    a schema-5 store is migrated when it is first opened for writing (migrate_from_v5).
constexpr int kSchemaVersion = 6;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS input_log(
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  payload TEXT NOT NULL,
  result TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS instance(id INTEGER PRIMARY KEY,
  process TEXT NOT NULL, version TEXT NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL, error TEXT NOT NULL,
  parent INTEGER NOT NULL, parent_token INTEGER NOT NULL, started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL, deadline_timer INTEGER NOT NULL,
  tokens TEXT NOT NULL, forks TEXT NOT NULL, compensations TEXT NOT NULL, frame TEXT NOT NULL,
  started_by TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS task(id INTEGER PRIMARY KEY,
  instance INTEGER NOT NULL, token INTEGER NOT NULL, step INTEGER NOT NULL,
  name TEXT NOT NULL, role TEXT NOT NULL, unit TEXT NOT NULL, status TEXT NOT NULL, claimed_by TEXT NOT NULL,
  approval INTEGER NOT NULL, outcomes TEXT NOT NULL, decisions TEXT NOT NULL,
  timer INTEGER NOT NULL, due INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS timer(id INTEGER PRIMARY KEY,
  due INTEGER NOT NULL, instance INTEGER NOT NULL, token INTEGER NOT NULL, task INTEGER NOT NULL,
  kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS record(id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS event(id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bundle(hash TEXT PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL, done INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL, action TEXT NOT NULL, resource TEXT NOT NULL,
  decision TEXT NOT NULL, reason TEXT NOT NULL,
  ref INTEGER NOT NULL, digest TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS token(
  id INTEGER PRIMARY KEY,
  actor TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0);
)sql";

// The connection's last error, with its fault.
// The last failure made by sqlite_error on this thread: when SQLite has undone a group's whole transaction
// after it, the group's later refusals name it (a full disk), not only that something failed.
thread_local StoreError last_failure("");

StoreError sqlite_error(sqlite3* db, const std::string& message = "") {
  int rc = sqlite3_errcode(db) & 0xff;
  StoreFault f = rc == SQLITE_FULL                             ? StoreFault::Full
                 : rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? StoreFault::Damaged
                                                               : StoreFault::Other;
  last_failure = StoreError(message.empty() ? sqlite3_errmsg(db) : message, f);
  return last_failure;
}

// One integer from a query; a file that is not a database (or is damaged) fails here.
int64_t query_int(sqlite3* db, const char* sql) {
  sqlite3_stmt* v = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &v, nullptr) != SQLITE_OK) throw sqlite_error(db);
  int rc = sqlite3_step(v);
  int64_t out = rc == SQLITE_ROW ? sqlite3_column_int64(v, 0) : 0;
  sqlite3_finalize(v);
  if (rc != SQLITE_ROW) throw sqlite_error(db);
  return out;
}

// The tables kSchema creates, read from its text, so the check below follows the schema as it changes.
std::vector<std::string> schema_tables() {
  std::vector<std::string> out;
  const std::string schema = kSchema, create = "CREATE TABLE IF NOT EXISTS ";
  for (size_t p = schema.find(create); p != std::string::npos; p = schema.find(create, p)) {
    p += create.size();
    out.push_back(schema.substr(p, schema.find_first_of("( \n", p) - p));
  }
  return out;
}

bool valid_table(const std::string& t) {
  return t == "instance" || t == "task" || t == "timer" || t == "record" || t == "event" || t == "outbox";
}

// Finalizes a one-off statement however its scope ends: a row callback that throws (a row that does not
// decode) must not leave it open, or the connection cannot close and its file stays open.
struct Finalize {
  sqlite3_stmt* s;
  ~Finalize() { sqlite3_finalize(s); }
};

std::string col(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : "";
}

}  // namespace

// Not named `bind`: with a non-const std::string argument, argument-dependent lookup prefers std::bind,
// which binds nothing and leaves the column NULL.
namespace {
void bind_value(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind_value(sqlite3_stmt* s, int i, int64_t v) {
  sqlite3_bind_int64(s, i, v);
}
void bind_value(sqlite3_stmt* s, int i, bool v) {
  sqlite3_bind_int64(s, i, v ? 1 : 0);
}

// Runs a prepared write with `values` bound to its parameters in order. The text is the caller's, bound
// without a copy, so the bindings are cleared before returning.
template <typename... V>
void run_write(sqlite3* db, sqlite3_stmt* s, const V&... values) {
  sqlite3_reset(s);
  int i = 0;
  (bind_value(s, ++i, values), ...);
  int rc = sqlite3_step(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) throw sqlite_error(db);
}
}  // namespace

namespace {

// A new store is made whole under a temporary name and then linked into place, so a process killed while
// creating it leaves either no store (and a stray PATH.creating, removed by the next creator) or a complete
// one — never an empty or half-made file at PATH, which every later open would (rightly) refuse as damaged.
// Runs under the owner's lock, so no other process creates PATH meanwhile; link() still refuses to replace
// a file that appeared.
bool on_read_only_file_system(const std::string& path) {
  struct statvfs fs;
  return ::statvfs(path.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY);
}

bool wal_has_content(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path + "-wal", ec);
  return !ec && size > 0;
}

// `file:` URI of `path` opened immutable (SQLite then takes no locks and needs no -shm file); the
// characters a URI gives a meaning to are escaped.
std::string immutable_uri(const std::string& path) {
  std::string abs = std::filesystem::absolute(path).string(), out = "file:";
  for (unsigned char c : abs) {
    if (c == '%' || c == '?' || c == '#' || c < 0x21 || c > 0x7e) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "?immutable=1";
}

void create_store_file(const std::string& path, const char* schema, int version) {
  const std::string tmp = path + ".creating";
  ::unlink(tmp.c_str());  // a leftover of an interrupted creation (we hold the lock: it is no one else's)
  ::unlink((tmp + "-wal").c_str());
  ::unlink((tmp + "-shm").c_str());
  sqlite3* db = nullptr;
  auto fail = [&](const std::string& what) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    ::unlink(tmp.c_str());
    throw StoreError("cannot create the store `" + path + "`: " + what + ": " + m, StoreFault::Other);
  };
  if (sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    fail("open");
  const std::string sql = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; BEGIN IMMEDIATE;") +
                          schema + "PRAGMA user_version = " + std::to_string(version) + "; COMMIT;";
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail("schema");
  // Closing the only connection checkpoints the WAL into the file and removes it: the file alone is whole.
  if (sqlite3_close(db) != SQLITE_OK) fail("close");
  db = nullptr;
  int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw StoreError("cannot create the store `" + path + "`: " + std::strerror(err), StoreFault::Other);
  }
  ::unlink(tmp.c_str());
  // The new name is durable once its folder is.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

Store::Store(const std::string& path, OpenMode mode, bool synchronous_full) : mode_(mode) {
  const bool memory = path == ":memory:";
  bool create = memory;
  if (!memory) {
    // The owner's lock first: then no other writer can create, replace or change the file meanwhile.
    if (mode == OpenMode::CreateIfMissing || mode == OpenMode::MustExist)
      lock_ = std::make_unique<StoreLock>(path);
    std::error_code ec;
    auto st = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(st) &&
        std::filesystem::is_symlink(std::filesystem::symlink_status(path, ec))) {
      // A link whose target is gone (a data volume not mounted, a store moved): creating a store there
      // would start an empty one in its place, and link() onto the name failed with a bare "File exists".
      throw StoreError(
          "`" + path + "` is a symbolic link to `" + std::filesystem::read_symlink(path, ec).string() +
              "`, which does not exist: no store was created. If the store lives there, its file "
              "system may not be mounted; else give the store's own file",
          StoreFault::Missing);
    }
    if (!std::filesystem::exists(st)) {
      if (mode != OpenMode::CreateIfMissing)
        throw StoreError("no store at `" + path + "`", StoreFault::Missing);
      create_store_file(path, kSchema, kSchemaVersion);  // then opened below as the store it now is
    } else if (!std::filesystem::is_regular_file(st)) {
      throw StoreError("`" + path + "` cannot be used as an OrgOS store: it is not a file",
                       StoreFault::NotAFile);
    } else if (std::filesystem::file_size(path, ec) == 0) {
      // SQLite would take an empty file for a new database; a store that lost its content is not one.
      throw StoreError(
          "`" + path +
              "` cannot be used as an OrgOS store: it is empty (0 bytes). If it held a store, that store "
              "is lost: restore a backup (`orgctl store backup`); to start a new store, delete the file",
          StoreFault::Damaged);
    }
    if (lock_) lock_->lock_store_file(path);  // the file itself: a link to it is the same store
  }
  int flags = SQLITE_OPEN_NOMUTEX |
              (mode == OpenMode::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
              (create ? SQLITE_OPEN_CREATE : 0);
  // A store on a read-only file system (a mounted backup, a snapshot): SQLite cannot make the -shm file
  // that WAL mode reads through, and every verb failed with "unable to open database file", called
  // damage. Nothing can write there, so a reader opens the file as immutable — unless a WAL with content
  // lies beside it (committed inputs not yet in the file, which an immutable read would skip).
  const bool read_only_fs = !memory && on_read_only_file_system(path);
  std::string target = path;
  if (mode == OpenMode::ReadOnly && read_only_fs && !wal_has_content(path)) {
    target = immutable_uri(path);
    flags |= SQLITE_OPEN_URI;
  }
  if (sqlite3_open_v2(target.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open the store `" + path + "`: " + m);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    if (mode != OpenMode::ReadOnly) {
      if (!memory) exec("PRAGMA journal_mode=WAL");
      exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    }
    exec("PRAGMA foreign_keys=ON");
    // A bigger page cache (64 MiB) and fewer, larger WAL checkpoints (every ~40 MiB of log): an engine
    // rewrites the same hot pages (the latest instances, tasks, the log's last leaf) input after input, and
    // with SQLite's defaults (2 MiB, 1,000 pages) those rewrites became reads and checkpoint writes.
    exec("PRAGMA cache_size=-65536");
    exec("PRAGMA wal_autocheckpoint=10000");
    // A file that is not an SQLite database, or one from something else, fails here with a clear message.
    // The schema version: a store written by an incompatible layout is refused rather than misread.
    int64_t version = query_int(db_, "PRAGMA user_version");
    int64_t objects = query_int(db_, "SELECT count(*) FROM sqlite_master");
    if (objects == 0 && !create)
      throw StoreError(
          "it holds no tables, so it is no store (or its creation was interrupted); to start a new store, "
          "delete "
          "the file");
    // Schema 5 differs from 6 only where an instance's starter is kept: read as it is, or migrated.
    if (objects > 0 && version != kSchemaVersion && version != 5)
      throw StoreError("it has schema version " + std::to_string(version) + ", this orgctl uses " +
                       std::to_string(kSchemaVersion));
    if (objects == 0) {
      // Tables and version in one transaction: a process killed while creating the store leaves either
      // nothing (refused next time, with what to do) or the whole schema, never tables without their version.
      exec("BEGIN IMMEDIATE");
      exec(kSchema);
      exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
      exec("COMMIT");
    } else {
      check_tables();
      check_integrity();
      // Only an owner migrates (it holds the lock); a reader, or a token writer beside an owner, reads
      // the store as it is.
      if (version == 5) {
        if (mode == OpenMode::CreateIfMissing || mode == OpenMode::MustExist)
          migrate_from_v5();
        else
          starters_in_meta_ = true;
      }
    }
  } catch (const StoreError& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    if (read_only_fs && e.fault() == StoreFault::Other)
      throw StoreError(
          "`" + path + "` cannot be read where it is: " + e.what() +
              " (it is on a read-only file system, with a write-ahead log beside it that only "
              "a writer can fold in); copy the store's files to a writable place and open the copy",
          StoreFault::NotWritable);
    throw StoreError("`" + path + "` cannot be used as an OrgOS store: " + e.what(),
                     e.fault() == StoreFault::Other ? StoreFault::Damaged : e.fault());
  }
  append_input_ = prepare("INSERT OR IGNORE INTO input_log(kind, key, at, actor, payload) VALUES(?,?,?,?,?)");
  put_meta_ = prepare(
      "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  get_meta_ = prepare("SELECT value FROM meta WHERE key = ?");
  audit_ = std::make_unique<AuditChain>(db_);
}

Store::~Store() {
  audit_.reset();  // its statements go before the connection closes
  for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
  if (db_) {
    if (in_batch_ || in_group_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
}

void Store::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    throw sqlite_error(db_, m);
  }
}

sqlite3_stmt* Store::prepare(const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    throw StoreError(std::string("cannot prepare statement: ") + sqlite3_errmsg(db_));
  stmts_.push_back(s);
  return s;
}

// Transaction control runs once or twice per input: prepared once and kept, not parsed every time.
void Store::run_cached(const char* sql) {
  sqlite3_stmt*& s = cache_[sql];
  if (!s) s = prepare(sql);
  sqlite3_reset(s);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);  // a finished statement must not keep the transaction's read snapshot
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) throw sqlite_error(db_);
}

void Store::begin() {
  if (in_batch_) return;
  // After SQLITE_FULL, IOERR or NOMEM, SQLite may have rolled the whole transaction back itself. Then a
  // SAVEPOINT would open a transaction of its own, and its RELEASE commit it: inputs kept while the group is
  // reported lost. Refuse instead; commit_group reports the loss and ends the group.
  if (in_group_ && sqlite3_get_autocommit(db_)) throw group_undone();
  run_cached(in_group_ ? "SAVEPOINT input" : "BEGIN IMMEDIATE");
  in_batch_ = true;
}

void Store::commit() {
  if (!in_batch_) return;
  try {
    run_cached(in_group_ ? "RELEASE input" : "COMMIT");
  } catch (const StoreError&) {
    rollback();  // a failed COMMIT may leave the transaction open: undo it, so the next begin starts clean
    throw;
  }
  in_batch_ = false;
}

void Store::rollback() {
  if (audit_) audit_->forget_tail();
  if (in_group_ && sqlite3_get_autocommit(db_) && !undone_by_) undone_by_ = last_failure;
  if (!in_batch_) return;
  in_batch_ = false;
  if (sqlite3_get_autocommit(db_)) return;  // SQLite already undid the whole transaction
  // In a group, only this input's changes go; the inputs before it in the group stay. If that fails, the
  // whole transaction goes, and the group's end reports it (see begin). Never throws: it runs while an
  // error is already on its way.
  if (sqlite3_exec(db_, in_group_ ? "ROLLBACK TO input; RELEASE input" : "ROLLBACK", nullptr, nullptr,
                   nullptr) != SQLITE_OK &&
      !sqlite3_get_autocommit(db_))
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Store::begin_group() {
  if (in_group_) return;
  commit();
  exec("BEGIN IMMEDIATE");
  in_group_ = true;
  undone_by_.reset();
}

void Store::commit_group() {
  if (!in_group_) return;
  try {
    commit();
    if (sqlite3_get_autocommit(db_)) throw group_undone();
    exec("COMMIT");
  } catch (const StoreError& e) {
    rollback_group();
    throw StoreError(std::string("the group of inputs was not committed: ") + e.what(), e.fault());
  }
  in_group_ = false;
}

void Store::rollback_group() {
  if (audit_) audit_->forget_tail();  // the transaction may be gone with its entries
  in_batch_ = false;
  in_group_ = false;
  undone_by_.reset();
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

StoreError Store::group_undone() const {
  std::string why = undone_by_ && *undone_by_->what() ? std::string(" (") + undone_by_->what() + ")" : "";
  return StoreError(
      "the store's transaction was undone by an earlier failure" + why + "; nothing of this group is kept",
      undone_by_ ? undone_by_->fault() : StoreFault::Other);
}

void Store::check_tables() {
  std::string missing;
  for (const std::string& t : schema_tables()) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &s,
                           nullptr) != SQLITE_OK)
      throw sqlite_error(db_);
    sqlite3_bind_text(s, 1, t.c_str(), -1, SQLITE_TRANSIENT);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    if (!found) missing += (missing.empty() ? "`" : ", `") + t + "`";
  }
  if (!missing.empty())
    throw StoreError("table " + missing +
                     " is missing, so the store is damaged or was edited; restore a backup (`orgctl store "
                     "backup` makes one)");
}

void Store::check_integrity() {
  // quick_check reads every page once: O(store size), the price of never running on a damaged store.
  sqlite3_stmt* s = nullptr;
  std::string problems;
  if (sqlite3_prepare_v2(db_, "PRAGMA quick_check(3)", -1, &s, nullptr) != SQLITE_OK)
    throw StoreError(std::string("it fails SQLite's integrity check: ") + sqlite3_errmsg(db_));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    std::string line = col(s, 0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (rc != SQLITE_DONE) problems += (problems.empty() ? "" : "; ") + std::string(sqlite3_errmsg(db_));
  sqlite3_finalize(s);
  if (!problems.empty())
    throw StoreError("it fails SQLite's integrity check (PRAGMA quick_check): " + problems +
                     "; restore a backup (`orgctl store backup` makes one)");
}

void Store::migrate_from_v5() {
  // One transaction: a kill leaves the store at version 5 (migrated again at the next open) or at 6.
  exec("BEGIN IMMEDIATE");
  try {
    exec(
        "ALTER TABLE instance ADD COLUMN started_by TEXT NOT NULL DEFAULT '';"
        "UPDATE instance SET started_by = m.value FROM meta AS m WHERE m.key = 'started_by:' || instance.id;"
        "DELETE FROM meta WHERE key GLOB 'started_by:*';"
        "PRAGMA user_version = 6;");
    exec("COMMIT");
  } catch (const StoreError& e) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw StoreError(std::string("cannot upgrade it from schema version 5 to 6: ") + e.what(), e.fault());
  }
}

void Store::row_write_failed(const char* table, int64_t id, RowWrite w, const StoreError& cause) {
  // The connection's error is still the failed step's (clearing bindings does not reset it).
  if (w == RowWrite::Insert && (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_PRIMARYKEY ||
                                sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_ROWID))
    throw StoreError(std::string("a new ") + table + " row was to take id " + std::to_string(id) +
                         ", which a row in the store already has: the id counter (`meta` next_id) was "
                         "edited; nothing of this input is kept (`orgctl store verify` checks the store)",
                     StoreFault::Damaged);
  throw cause;
}

void Store::backup_to(const std::string& out) {
  std::error_code ec;
  // Made here, exclusively (SQLite's own SQLITE_OPEN_EXCLUSIVE is ignored by sqlite3_open_v2): an existing
  // file, or a symlink, is never written through; SQLite then takes the empty file for a new database.
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    throw StoreError(errno == EEXIST ? "`" + out + "` exists; a backup is written only to a new file"
                                     : "cannot create `" + out + "`: " + std::strerror(errno));
  ::close(fd);
  sqlite3* dst = nullptr;
  if (sqlite3_open_v2(out.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string m = dst ? sqlite3_errmsg(dst) : "out of memory";
    sqlite3_close(dst);
    std::filesystem::remove(out, ec);
    throw StoreError("cannot create `" + out + "`: " + m);
  }
  // One step copies every page under one read transaction: a consistent snapshot, the log's committed
  // frames included, while an owner goes on writing (its later commits are not in the copy).
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", db_, "main");
  int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(dst);
  if (b) sqlite3_backup_finish(b);
  std::string m = rc == SQLITE_DONE ? "" : sqlite3_errstr(rc);
  if (m.empty() && sqlite3_exec(dst, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK)
    m = sqlite3_errmsg(dst);
  sqlite3_close(dst);
  if (!m.empty()) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(out + suffix, ec);
    throw StoreError("cannot back up the store into `" + out + "`: " + m);
  }
}

bool Store::append_input(Input& in) {
  try {
    run_write(db_, append_input_, in.kind, in.key, in.at, in.actor, in.payload);
  } catch (const StoreError& e) {
    throw StoreError(std::string("cannot log input: ") + e.what(), e.fault());
  }
  if (sqlite3_changes(db_) == 0) return false;
  in.seq = sqlite3_last_insert_rowid(db_);
  return true;
}

void Store::set_input_result(int64_t seq, const std::string& result) {
  sqlite3_stmt*& s = cache_["set_result"];
  if (!s) s = prepare("UPDATE input_log SET result = ? WHERE seq = ?");
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, result.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, seq);
  if (sqlite3_step(s) != SQLITE_DONE) throw sqlite_error(db_);
}

std::optional<std::string> Store::input_result(const std::string& key) {
  sqlite3_stmt*& s = cache_["get_result"];
  if (!s) s = prepare("SELECT result FROM input_log WHERE key = ?");
  sqlite3_reset(s);
  // Bound with its length: a key may hold NUL bytes, and `k\0x` is not `k`.
  sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  std::optional<std::string> out;
  if (sqlite3_step(s) == SQLITE_ROW) out = col(s, 0);
  sqlite3_reset(s);  // a finished look-up must not keep the transaction's read snapshot
  return out;
}

std::optional<std::pair<Input, std::string>> Store::logged_input(const std::string& key) {
  sqlite3_stmt*& s = cache_["get_input"];
  if (!s) s = prepare("SELECT seq, kind, key, at, actor, payload, result FROM input_log WHERE key = ?");
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  std::optional<std::pair<Input, std::string>> out;
  if (sqlite3_step(s) == SQLITE_ROW)
    out = {
        {sqlite3_column_int64(s, 0), col(s, 1), col(s, 2), sqlite3_column_int64(s, 3), col(s, 4), col(s, 5)},
        col(s, 6)};
  sqlite3_reset(s);
  return out;
}

std::optional<std::string> Store::input_result_with_prefix(const std::string& prefix) {
  // Keys compare as bytes (BINARY collation), so the lowest key at or after `prefix` is the first that starts
  // with it, if any does: one step of the key's index.
  sqlite3_stmt*& s = cache_["get_result_prefix"];
  if (!s) s = prepare("SELECT key, result FROM input_log WHERE key >= ? ORDER BY key LIMIT 1");
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, prefix.data(), static_cast<int>(prefix.size()), SQLITE_TRANSIENT);
  std::optional<std::string> out;
  if (sqlite3_step(s) == SQLITE_ROW && col(s, 0).compare(0, prefix.size(), prefix) == 0) out = col(s, 1);
  sqlite3_reset(s);
  return out;
}

std::vector<Input> Store::inputs_after(int64_t seq, int64_t limit) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(
      db_, "SELECT seq, kind, key, at, actor, payload FROM input_log WHERE seq > ? ORDER BY seq LIMIT ?", -1,
      &s, nullptr);
  sqlite3_bind_int64(s, 1, seq);
  sqlite3_bind_int64(s, 2, limit);
  std::vector<Input> out;
  while (sqlite3_step(s) == SQLITE_ROW)
    out.push_back(
        {sqlite3_column_int64(s, 0), col(s, 1), col(s, 2), sqlite3_column_int64(s, 3), col(s, 4), col(s, 5)});
  sqlite3_finalize(s);
  return out;
}

int64_t Store::last_input_seq() {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, "SELECT COALESCE(MAX(seq), 0) FROM input_log", -1, &s, nullptr);
  int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  return v;
}

void Store::put_meta(const std::string& key, const std::string& value) {
  sqlite3_reset(put_meta_);
  sqlite3_bind_text(put_meta_, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(put_meta_, 2, value.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(put_meta_) != SQLITE_DONE) throw sqlite_error(db_);
}

std::optional<std::string> Store::meta(const std::string& key) {
  sqlite3_reset(get_meta_);
  sqlite3_bind_text(get_meta_, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  std::optional<std::string> out;
  if (sqlite3_step(get_meta_) == SQLITE_ROW) out = col(get_meta_, 0);
  // Reset, or the statement keeps a read snapshot after the transaction: once another connection (a token
  // added beside a server) has written, the next BEGIN IMMEDIATE fails with "database is locked".
  sqlite3_reset(get_meta_);
  return out;
}

std::optional<int64_t> Store::meta_int(const std::string& key) {
  auto text = meta(key);
  if (!text) return std::nullopt;
  int64_t v = 0;
  const char *b = text->data(), *e = b + text->size();
  auto [end, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || end != e || text->empty())
    throw StoreError("its `meta` row `" + key + "` (" + text->substr(0, 40) + (text->size() > 40 ? "…" : "") +
                         ") does not decode as a whole number: the store is damaged or was edited; restore a "
                         "backup (`orgctl store verify` shows what differs)",
                     StoreFault::Damaged);
  return v;
}

void Store::check_id_in_range(int64_t id, const std::string& what) {
  if (id >= kIdLimit)
    throw StoreError(
        what + " is " + std::to_string(id) +
            ", beyond the ids a store hands out (below 2^53 = " + std::to_string(kIdLimit) +
            "): the store was edited; restore a backup (`orgctl store verify` shows what differs)",
        StoreFault::Damaged);
}

void Store::put(const std::string& table, int64_t id, const std::string& json, RowWrite w) {
  if (table == "outbox") throw StoreError("use put_outbox");
  const bool insert = w == RowWrite::Insert;
  sqlite3_stmt*& s = cache_[(insert ? "insert " : "put ") + table];
  if (!s) {
    if (!valid_table(table)) throw StoreError("no table " + table);
    s = prepare(("INSERT INTO " + table + "(id, doc) VALUES(?, ?)" +
                 (insert ? "" : " ON CONFLICT(id) DO UPDATE SET doc = excluded.doc"))
                    .c_str());
  }
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, json.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s) != SQLITE_DONE) row_write_failed(table.c_str(), id, w, sqlite_error(db_));
}

int64_t Store::largest_row_id() {
  return query_int(
      db_,
      "SELECT COALESCE(MAX(m), 0) FROM (SELECT MAX(id) AS m FROM instance UNION ALL SELECT "
      "MAX(id) FROM task UNION ALL SELECT MAX(id) FROM timer UNION ALL SELECT MAX(id) FROM record "
      "UNION ALL SELECT MAX(id) FROM event UNION ALL SELECT MAX(id) FROM outbox)");
}

// The INSERT of a row: "INSERT OR REPLACE" for an Upsert, a plain INSERT (a row already there fails) for
// an Insert; each prepared once.
sqlite3_stmt* Store::row_statement(const char* table, const char* columns_and_values, RowWrite w) {
  const bool insert = w == RowWrite::Insert;
  sqlite3_stmt*& s = cache_[std::string(insert ? "insert_row " : "put_row ") + table];
  if (!s)
    s = prepare(
        (std::string(insert ? "INSERT INTO " : "INSERT OR REPLACE INTO ") + table + columns_and_values)
            .c_str());
  return s;
}

void Store::put_instance(const InstanceRow& r, RowWrite w) {
  sqlite3_stmt* s =
      row_statement("instance",
                    "(id, process, version, status, phase, error, parent, parent_token, started_at, "
                    "ended_at, deadline_timer, tokens, forks, compensations, frame, started_by) "
                    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    w);
  try {
    run_write(db_, s, r.id, r.process, r.version, r.status, r.phase, r.error, r.parent, r.parent_token,
              r.started_at, r.ended_at, r.deadline_timer, r.tokens, r.forks, r.compensations, r.frame,
              r.started_by);
  } catch (const StoreError& e) {
    row_write_failed("instance", r.id, w, e);
  }
}

void Store::put_task(const TaskRow& r, RowWrite w) {
  sqlite3_stmt* s =
      row_statement("task",
                    "(id, instance, token, step, name, role, unit, status, claimed_by, approval, "
                    "outcomes, decisions, timer, due) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    w);
  try {
    run_write(db_, s, r.id, r.instance, r.token, r.step, r.name, r.role, r.unit, r.status, r.claimed_by,
              r.approval, r.outcomes, r.decisions, r.timer, r.due);
  } catch (const StoreError& e) {
    row_write_failed("task", r.id, w, e);
  }
}

void Store::put_timer(const TimerRow& r, RowWrite w) {
  sqlite3_stmt* s = row_statement("timer", "(id, due, instance, token, task, kind) VALUES(?,?,?,?,?,?)", w);
  try {
    run_write(db_, s, r.id, r.due, r.instance, r.token, r.task, r.kind);
  } catch (const StoreError& e) {
    row_write_failed("timer", r.id, w, e);
  }
}

void Store::for_each_instance(const std::function<void(const InstanceRow&)>& fn) {
  sqlite3_stmt* s = nullptr;
  // A reader of a schema-5 store finds the starter in its `meta` row (see migrate_from_v5).
  const std::string started_by =
      starters_in_meta_ ? "COALESCE((SELECT value FROM meta WHERE key = 'started_by:' || id), '')"
                        : "started_by";
  sqlite3_prepare_v2(db_,
                     ("SELECT id, process, version, status, phase, error, parent, parent_token, started_at, "
                      "ended_at, deadline_timer, tokens, forks, compensations, '', " +
                      started_by + " FROM instance ORDER BY id")
                         .c_str(),
                     -1, &s, nullptr);
  Finalize done{s};
  InstanceRow r;
  while (sqlite3_step(s) == SQLITE_ROW) {
    r.id = sqlite3_column_int64(s, 0);
    r.process = col(s, 1);
    r.version = col(s, 2);
    r.status = col(s, 3);
    r.phase = col(s, 4);
    r.error = col(s, 5);
    r.parent = sqlite3_column_int64(s, 6);
    r.parent_token = sqlite3_column_int64(s, 7);
    r.started_at = sqlite3_column_int64(s, 8);
    r.ended_at = sqlite3_column_int64(s, 9);
    r.deadline_timer = sqlite3_column_int64(s, 10);
    r.tokens = col(s, 11);
    r.forks = col(s, 12);
    r.compensations = col(s, 13);
    r.frame = col(s, 14);
    r.started_by = col(s, 15);
    fn(r);
  }
}

void Store::for_each_task(const std::function<void(const TaskRow&)>& fn) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(
      db_,
      "SELECT id, instance, token, step, name, role, unit, status, claimed_by, approval, outcomes, "
      "decisions, timer, due FROM task ORDER BY id",
      -1, &s, nullptr);
  Finalize done{s};
  TaskRow r;
  while (sqlite3_step(s) == SQLITE_ROW) {
    r.id = sqlite3_column_int64(s, 0);
    r.instance = sqlite3_column_int64(s, 1);
    r.token = sqlite3_column_int64(s, 2);
    r.step = sqlite3_column_int64(s, 3);
    r.name = col(s, 4);
    r.role = col(s, 5);
    r.unit = col(s, 6);
    r.status = col(s, 7);
    r.claimed_by = col(s, 8);
    r.approval = sqlite3_column_int64(s, 9) != 0;
    r.outcomes = col(s, 10);
    r.decisions = col(s, 11);
    r.timer = sqlite3_column_int64(s, 12);
    r.due = sqlite3_column_int64(s, 13);
    fn(r);
  }
}

void Store::for_each_timer(const std::function<void(const TimerRow&)>& fn) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, "SELECT id, due, instance, token, task, kind FROM timer ORDER BY id", -1, &s,
                     nullptr);
  Finalize done{s};
  TimerRow r;
  while (sqlite3_step(s) == SQLITE_ROW) {
    r.id = sqlite3_column_int64(s, 0);
    r.due = sqlite3_column_int64(s, 1);
    r.instance = sqlite3_column_int64(s, 2);
    r.token = sqlite3_column_int64(s, 3);
    r.task = sqlite3_column_int64(s, 4);
    r.kind = col(s, 5);
    fn(r);
  }
}

std::optional<std::string> Store::instance_frame(int64_t id) {
  sqlite3_stmt*& s = cache_["instance_frame"];
  if (!s) s = prepare("SELECT frame FROM instance WHERE id = ?");
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, id);
  std::optional<std::string> out;
  if (sqlite3_step(s) == SQLITE_ROW) out = col(s, 0);
  sqlite3_reset(s);
  return out;
}

void Store::release_memory() {
  sqlite3_db_release_memory(db_);
}

void Store::erase(const std::string& table, int64_t id) {
  sqlite3_stmt*& s = cache_["erase " + table];
  if (!s) {
    if (!valid_table(table)) throw StoreError("no table " + table);
    s = prepare(("DELETE FROM " + table + " WHERE id = ?").c_str());
  }
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, id);
  if (sqlite3_step(s) != SQLITE_DONE) throw sqlite_error(db_);
}

void Store::for_each(const std::string& table, const std::function<void(int64_t, const std::string&)>& fn) {
  if (!valid_table(table)) throw StoreError("no table " + table);
  std::string sql = "SELECT id, doc FROM " + table + " ORDER BY id";
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
  Finalize done{s};
  while (sqlite3_step(s) == SQLITE_ROW) fn(sqlite3_column_int64(s, 0), col(s, 1));
}

void Store::put_outbox(int64_t id, const std::string& key, const std::string& json, bool done) {
  sqlite3_stmt*& s = cache_["outbox"];
  if (!s) s = prepare("INSERT INTO outbox(id, idempotency_key, doc, done) VALUES(?,?,?,?)");
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 3, json.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(s, 4, done ? 1 : 0);
  if (sqlite3_step(s) != SQLITE_DONE) row_write_failed("outbox", id, RowWrite::Insert, sqlite_error(db_));
}

void Store::put_bundle(const std::string& hash, const std::vector<uint8_t>& bytes) {
  sqlite3_stmt*& s = cache_["put_bundle"];
  if (!s) s = prepare("INSERT OR IGNORE INTO bundle(hash, bytes) VALUES(?, ?)");
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, hash.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(s, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(s) != SQLITE_DONE) throw sqlite_error(db_);
}

std::optional<std::vector<uint8_t>> Store::bundle(const std::string& hash) {
  sqlite3_stmt*& s = cache_["get_bundle"];
  if (!s) s = prepare("SELECT bytes FROM bundle WHERE hash = ?");
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, hash.c_str(), -1, SQLITE_TRANSIENT);
  std::optional<std::vector<uint8_t>> out;
  if (sqlite3_step(s) == SQLITE_ROW) {
    auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, 0));
    out.emplace(p, p + sqlite3_column_bytes(s, 0));
  }
  sqlite3_reset(s);  // no read snapshot kept (see meta)
  return out;
}

}  // namespace orgos::store
