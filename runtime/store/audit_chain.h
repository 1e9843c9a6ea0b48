// The audit chain: an append-only log of what was decided and applied, each entry hash-chained to the one
// before it and, when a key is at hand, authenticated with a MAC keyed by a secret outside the store
// (audit_key.h). It lives in the store's `audit` table and is written in the same transaction as the change
// it records, so an entry exists exactly when its change was committed.
//
// Three kinds of entry: access decisions (who may do what, allowed or refused), applied inputs (each
// commits to the input's logged bytes and result, so an edit of the input log is found) and security state
// (API tokens: each add or revoke commits to the token's row, so an edit of `token.revoked` is found).
// What the chain alone cannot show: that entries were removed from its end. A checkpoint kept outside the
// store (audit_checkpoint.h) records the head and so shows that.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/store/audit_key.h"

namespace orgos::store {

struct Input;
struct AuditCheckpoint;

enum class AuditKind { Access, Input, Token };
const char* audit_kind_name(AuditKind k);

struct AuditEntry {
  int64_t seq = 0;
  int64_t at = 0;
  std::string actor, action, resource, decision, reason;
  std::string prev_hash, hash;
  AuditKind kind = AuditKind::Access;
  int64_t ref = 0;  // the input's seq or the token's id (0 for access decisions)
  // The hash of the bytes the entry commits to (the input, the token row); "" for access decisions.
  std::string digest = "";
  std::string mac = "";  // keyed MAC of `hash`; "" when written without a key (in-memory stores)
};

// BLAKE2b-256 of an audit entry's content and its predecessor's hash, hex encoded.
std::string audit_hash(const AuditEntry& e);
// The hash an input's entry commits to: its kind, key, time, actor, payload and result, length-prefixed.
std::string input_digest(const Input& in, const std::string& result);
// The entry recording that `in` was applied (result "" when accepted, else why it was refused).
AuditEntry input_entry(const Input& in, const std::string& result);
// The hash a token's entry commits to: its row (id, actor, hash, created, revoked).
std::string token_digest(int64_t id, const std::string& actor, const std::string& hash, int64_t created,
                         bool revoked);

struct AuditProblem {
  int64_t entry = 0;  // the audit entry concerned (0 when none is: an input with no entry)
  std::string what;
};

struct AuditReport {
  int64_t entries = 0;
  bool authenticated = false;  // every entry's MAC was checked with the key
  bool checkpointed = false;   // a checkpoint was compared
  std::vector<AuditProblem> problems;
  bool intact() const { return problems.empty(); }
};

class AuditChain {
 public:
  explicit AuditChain(sqlite3* db);
  ~AuditChain();
  AuditChain(const AuditChain&) = delete;
  AuditChain& operator=(const AuditChain&) = delete;

  // The key new entries are authenticated with. Unless set, a store in a file takes the default key
  // (default_audit_key_path(), made on first use) at its first append; an in-memory store writes none.
  void use_key(const AuditKey& key) { key_ = key, key_resolved_ = true; }

  void append(AuditEntry& e);  // fills seq, prev_hash, hash, mac; throws StoreError (the caller rolls back)
  std::vector<AuditEntry> entries();
  // Checks the chain (order, numbering, hashes), with `key` every MAC, the input log and the token table
  // against their entries, and with `checkpoint` that nothing it recorded was removed or changed.
  AuditReport verify(const AuditKey* key, const AuditCheckpoint* checkpoint = nullptr);
  // The plain check (no key): the first bad entry and why, or nullopt.
  std::optional<int64_t> verify(std::string& problem);
  // Forgets the remembered last entry: after a rollback it may be gone.
  void forget_tail() { tail_.reset(); }

 private:
  void load_tail();
  sqlite3* db_;
  sqlite3_stmt *append_ = nullptr, *last_ = nullptr;
  std::optional<std::pair<int64_t, std::string>> tail_;  // seq and hash of the chain's last entry
  std::optional<AuditKey> key_;
  bool key_resolved_ = false;
};

}  // namespace orgos::store
