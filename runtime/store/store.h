// The durable store: one SQLite file in WAL mode (synchronous=FULL by default). It holds the
// append-only input log — the engine's source of truth — and, committed in the same transaction as
// each batch of inputs, the state those inputs produced (instances, tasks, timers, records, outbox)
// and the hash-chained audit log. A batch is all or nothing: a crash leaves the last committed batch.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/store/audit_chain.h"
#include "runtime/store/open_mode.h"
#include "runtime/store/store_lock.h"

namespace orgos::store {

// One input to the engine, exactly as it is logged.
struct Input {
  int64_t seq = 0;   // position in the log (assigned when appended)
  std::string kind;  // event, start, complete, claim, decide, tick, connector_result
  std::string key;   // deduplication key (event id, command id); unique in the log
  int64_t at = 0;    // engine clock (seconds since 1970) when it was applied
  std::string actor;
  std::string payload;  // JSON
};

// The engine's working state as table rows: the fields the engine reads back on every restart are columns
// (read without parsing), the nested parts small JSON documents. An instance's frame stays a JSON document
// that the engine decodes only when the instance next runs.
struct InstanceRow {
  int64_t id = 0;
  std::string process, version, status, phase, error;
  int64_t parent = 0, parent_token = 0, started_at = 0, ended_at = 0, deadline_timer = 0;
  std::string tokens, forks, compensations, frame;  // JSON
  // Whose input started it (directly, or through an event a rule reacted to); "" for `system` or none.
  // They may read it. In the row, so that `store verify` compares it with the replay like any field.
  std::string started_by;
};
struct TaskRow {
  int64_t id = 0, instance = 0, token = 0, step = 0;
  std::string name, role, unit, status, claimed_by;
  bool approval = false;
  std::string outcomes, decisions;  // JSON
  int64_t timer = 0, due = 0;
};
struct TimerRow {
  int64_t id = 0, due = 0, instance = 0, token = 0, task = 0;
  std::string kind;
};

// How a row is written. Insert: the row of an id just drawn from the engine's id counter; a row already
// under that id is an error (StoreFault::Damaged), never overwritten — an edited counter in `meta` must not
// make a new row replace one that exists. Upsert: the row of an existing id, changed.
enum class RowWrite { Insert, Upsert };

// What went wrong with a store, for the caller to say what to do about it.
enum class StoreFault {
  Other,
  Missing,  // no store at the path
  InUse,    // another process owns it for writing (StoreLock)
  Damaged,  // not a store, or a damaged one: empty, a table missing, quick_check fails, a row does not decode
  NotAFile,      // the path names a directory, a device or a FIFO: no store was given (nothing is damaged)
  Full,          // the disk (or the store's size limit) is full: nothing of the failed transaction was kept
  OtherProject,  // the store records another project than the one opening it (workflow/project_identity.h)
  NotWritable,   // a writer cannot write where the store is (a read-only file system): nothing is damaged
  LockNotAFile,  // a symbolic link, FIFO, device or folder is at the lock file's name: never followed
};

class StoreError : public std::exception {
 public:
  explicit StoreError(std::string m, StoreFault f = StoreFault::Other) : msg_(std::move(m)), fault_(f) {}
  const char* what() const noexcept override { return msg_.c_str(); }
  StoreFault fault() const { return fault_; }

 private:
  std::string msg_;
  StoreFault fault_;
};

class Store {
 public:
  // ":memory:" for simulation; otherwise a file, opened as `mode` says (see OpenMode). An owner holds the
  // store's lock (StoreLock) until the store is closed. A file that is not a store, or a damaged one (empty,
  // a table missing, failing SQLite's quick_check, another schema version), is refused: throws StoreError
  // saying what is wrong, and nothing is changed. A schema-5 store is migrated to 6 by an owner (see
  // migrate_from_v5) and read as it is by others.
  Store(const std::string& path, OpenMode mode, bool synchronous_full = true);
  // The owner, creating the store if no file exists.
  explicit Store(const std::string& path, bool synchronous_full = true)
      : Store(path, OpenMode::CreateIfMissing, synchronous_full) {}
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // All writes happen inside a batch; the batch commits with one fsync.
  void begin();
  void commit();
  void rollback();
  // Group commit: between begin_group and commit_group the batches above become savepoints inside one
  // transaction, so many inputs share one fsync (synchronous=FULL is kept). Nothing of the group is
  // durable — and so nothing may be acknowledged — until commit_group returns.
  void begin_group();
  void commit_group();
  // Undoes the whole group (every input since begin_group). Also what a failed commit_group does: after it
  // the store holds what the last committed transaction left, and a new group can begin.
  void rollback_group();
  bool in_group() const { return in_group_; }
  bool read_only() const { return mode_ == OpenMode::ReadOnly; }

  // A consistent copy of the whole store — the database file and what its write-ahead log holds — into a
  // new file `out`, with SQLite's online backup API (works beside a running owner). Refuses an existing
  // `out`; on failure removes what it wrote and throws StoreError.
  void backup_to(const std::string& out);

  // ---- input log
  // Appends an input; false (and nothing written) if its key is already logged: exactly-once ingestion.
  bool append_input(Input& in);
  // What applying a logged input gave: "" when it was accepted, else why it was refused.
  void set_input_result(int64_t seq, const std::string& result);
  std::optional<std::string> input_result(const std::string& key);
  // The logged input under `key` (its kind, actor and payload) and its result, or nullopt.
  std::optional<std::pair<Input, std::string>> logged_input(const std::string& key);
  // The result of some input whose key starts with `prefix` (the lowest such key), or nullopt if none does.
  std::optional<std::string> input_result_with_prefix(const std::string& prefix);
  std::vector<Input> inputs_after(int64_t seq, int64_t limit = -1);
  int64_t last_input_seq();

  // ---- key/value state (engine clock, counters, the bundle hash in use)
  void put_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key);
  // A meta value that holds a whole number (the engine's clock and id counter): nullopt when there is no
  // such row; a value that is not a plain whole number (text, a fraction, one past int64) is refused as
  // damage (StoreFault::Damaged, naming the row), never read as its leading digits or as 0.
  std::optional<int64_t> meta_int(const std::string& key);

  // ---- the engine's instances, tasks and timers (see InstanceRow), each in id order
  void put_instance(const InstanceRow& r, RowWrite w = RowWrite::Upsert);
  void put_task(const TaskRow& r, RowWrite w = RowWrite::Upsert);
  void put_timer(const TimerRow& r, RowWrite w = RowWrite::Upsert);
  void for_each_instance(const std::function<void(const InstanceRow&)>& fn);
  void for_each_task(const std::function<void(const TaskRow&)>& fn);
  void for_each_timer(const std::function<void(const TimerRow&)>& fn);
  std::optional<std::string> instance_frame(int64_t id);  // the frame column of one instance
  // Gives back the page cache filled by a full read (a restart): it regrows as pages are used again.
  void release_memory();

  // ---- entity state: (table, id) → JSON document. Tables: record, event (every event that happened, for
  // metrics and rules); erase also takes instance, task and timer.
  void put(const std::string& table, int64_t id, const std::string& json, RowWrite w = RowWrite::Upsert);
  // The largest id in use in the tables whose ids the engine draws from its counter (instance, task,
  // timer, record, event, outbox); 0 when they are empty. The engine's counter starts above it.
  int64_t largest_row_id();
  // Ids stay below this: they travel as JSON numbers, which clients read exactly only up to 2^53, and the
  // engine's counter must never wrap. A store holding an id (or a counter) at or above it was edited.
  static constexpr int64_t kIdLimit = int64_t{1} << 53;
  // Throws StoreError (Damaged) naming `what` when `id` is at or above kIdLimit.
  static void check_id_in_range(int64_t id, const std::string& what);
  void erase(const std::string& table, int64_t id);
  void for_each(const std::string& table, const std::function<void(int64_t id, const std::string& json)>& fn);

  // ---- outbox: effects that leave through connectors, each with an idempotency key; a new row always
  // (RowWrite::Insert)
  void put_outbox(int64_t id, const std::string& idempotency_key, const std::string& json, bool done);

  // ---- compiled bundles, by source hash: instances finish on the version they started with
  void put_bundle(const std::string& hash, const std::vector<uint8_t>& bytes);
  std::optional<std::vector<uint8_t>> bundle(const std::string& hash);

  // ---- audit chain (runtime/store/audit_chain.h)
  AuditChain& audit() { return *audit_; }
  void append_audit(AuditEntry& e) { audit_->append(e); }
  std::vector<AuditEntry> audit_entries() { return audit_->entries(); }
  std::optional<int64_t> verify_audit(std::string& problem) { return audit_->verify(problem); }

  sqlite3* handle() { return db_; }

 private:
  void exec(const char* sql);
  void run_cached(const char* sql);  // one statement, prepared on first use
  sqlite3_stmt* prepare(const char* sql);
  void check_tables();     // every table of the schema is there
  void check_integrity();  // PRAGMA quick_check
  void migrate_from_v5();  // the instance's starter: from `meta` rows into its own column (schema 6)
  // A schema-5 store opened by a non-owner (which may not migrate it) keeps an instance's starter in `meta`.
  bool starters_in_meta_ = false;
  // Throws the error for a failed write of a row; an Insert that met an existing row says so.
  [[noreturn]] void row_write_failed(const char* table, int64_t id, RowWrite w, const StoreError& cause);
  sqlite3_stmt* row_statement(const char* table, const char* columns_and_values, RowWrite w);
  // A group whose transaction SQLite undid itself (after SQLITE_FULL, say): the error for its later inputs
  // and its commit, naming the failure that undid it (undone_by_).
  StoreError group_undone() const;
  std::optional<StoreError> undone_by_;
  OpenMode mode_;
  std::unique_ptr<StoreLock> lock_;  // held by an owner for the store's lifetime
  sqlite3* db_ = nullptr;
  bool in_batch_ = false;
  bool in_group_ = false;
  std::vector<sqlite3_stmt*> stmts_;            // every prepared statement, finalized on close
  std::map<std::string, sqlite3_stmt*> cache_;  // statements prepared on first use, by SQL
  std::unique_ptr<AuditChain> audit_;           // made once the schema exists
  sqlite3_stmt *append_input_ = nullptr, *put_meta_ = nullptr, *get_meta_ = nullptr;
};

}  // namespace orgos::store
