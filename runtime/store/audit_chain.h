// The audit chain: an append-only log of what was decided and applied, each entry hash-chained to the one
// before it. It lives in the store's `audit` table and is written in the same transaction as the change it
// records, so an entry exists exactly when its change was committed.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orgos::store {

struct AuditEntry {
  int64_t seq = 0;
  int64_t at = 0;
  std::string actor, action, resource, decision, reason;
  std::string prev_hash, hash;
};

// BLAKE2b-256 of an audit entry's content and its predecessor's hash, hex encoded.
std::string audit_hash(const AuditEntry& e);

class AuditChain {
 public:
  explicit AuditChain(sqlite3* db);
  ~AuditChain();
  AuditChain(const AuditChain&) = delete;
  AuditChain& operator=(const AuditChain&) = delete;

  void append(AuditEntry& e);  // fills seq, prev_hash, hash
  std::vector<AuditEntry> entries();
  // The first entry whose hash does not follow from its content and its predecessor, or nullopt.
  std::optional<int64_t> verify(std::string& problem);
  // Forgets the remembered last entry: after a rollback it may be gone.
  void forget_tail() { tail_.reset(); }

 private:
  sqlite3* db_;
  sqlite3_stmt *append_ = nullptr, *last_ = nullptr;
  std::optional<std::pair<int64_t, std::string>> tail_;  // seq and hash of the chain's last entry
};

}  // namespace orgos::store
