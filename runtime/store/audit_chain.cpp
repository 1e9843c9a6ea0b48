#include "runtime/store/audit_chain.h"

#include <sodium.h>

#include "runtime/store/store.h"

namespace orgos::store {

namespace {

std::string col(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : "";
}

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    throw StoreError(std::string("cannot prepare statement: ") + sqlite3_errmsg(db));
  return s;
}

void bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind(sqlite3_stmt* s, int i, int64_t v) {
  sqlite3_bind_int64(s, i, v);
}

}  // namespace

std::string audit_hash(const AuditEntry& e) {
  // Length-prefixed fields, so no two different entries hash the same content.
  std::string buf;
  auto add = [&](const std::string& s) {
    buf += std::to_string(s.size());
    buf += ':';
    buf += s;
  };
  add(std::to_string(e.seq));
  add(std::to_string(e.at));
  for (const std::string* f : {&e.actor, &e.action, &e.resource, &e.decision, &e.reason, &e.prev_hash})
    add(*f);
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), nullptr,
                     0);
  static const char* d = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : out) {
    hex += d[c >> 4];
    hex += d[c & 15];
  }
  return hex;
}

AuditChain::AuditChain(sqlite3* db) : db_(db) {
  append_ = prepare(db_,
                    "INSERT INTO audit(seq, at, actor, action, resource, decision, reason, prev_hash, hash) "
                    "VALUES(?,?,?,?,?,?,?,?,?)");
  last_ = prepare(db_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
}

AuditChain::~AuditChain() {
  sqlite3_finalize(append_);
  sqlite3_finalize(last_);
}

void AuditChain::append(AuditEntry& e) {
  // The chain's last entry is remembered between appends (forgotten on every rollback), not selected each
  // time.
  if (!tail_) {
    sqlite3_reset(last_);
    tail_ = std::make_pair(int64_t{0}, std::string(64, '0'));
    if (sqlite3_step(last_) == SQLITE_ROW)
      tail_ = std::make_pair(sqlite3_column_int64(last_, 0), col(last_, 1));
    sqlite3_reset(last_);
  }
  e.seq = tail_->first + 1;
  e.prev_hash = tail_->second;
  e.hash = audit_hash(e);
  sqlite3_reset(append_);
  int i = 0;
  bind(append_, ++i, e.seq);
  bind(append_, ++i, e.at);
  for (const std::string* f :
       {&e.actor, &e.action, &e.resource, &e.decision, &e.reason, &e.prev_hash, &e.hash})
    bind(append_, ++i, *f);
  int rc = sqlite3_step(append_);
  sqlite3_clear_bindings(append_);
  if (rc != SQLITE_DONE) {
    tail_.reset();
    throw StoreError(sqlite3_errmsg(db_));
  }
  tail_ = std::make_pair(e.seq, e.hash);
}

std::vector<AuditEntry> AuditChain::entries() {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(
      db_,
      "SELECT seq, at, actor, action, resource, decision, reason, prev_hash, hash FROM audit ORDER BY rowid",
      -1, &s, nullptr);
  std::vector<AuditEntry> out;
  while (sqlite3_step(s) == SQLITE_ROW)
    out.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), col(s, 2), col(s, 3), col(s, 4),
                   col(s, 5), col(s, 6), col(s, 7), col(s, 8)});
  sqlite3_finalize(s);
  return out;
}

std::optional<int64_t> AuditChain::verify(std::string& problem) {
  std::string prev(64, '0');
  int64_t expected = 1;
  for (const AuditEntry& e : entries()) {
    if (e.seq != expected) {
      problem = e.seq > expected ? "entry " + std::to_string(expected) + " is missing (next is " +
                                       std::to_string(e.seq) + ")"
                                 : "entry " + std::to_string(e.seq) + " is out of order";
      return e.seq > expected ? expected : e.seq;
    }
    if (e.prev_hash != prev) {
      problem = "entry " + std::to_string(e.seq) +
                " does not follow its predecessor (removed, reordered or edited)";
      return e.seq;
    }
    if (audit_hash(e) != e.hash) {
      problem = "entry " + std::to_string(e.seq) + " was edited (its hash does not match its content)";
      return e.seq;
    }
    prev = e.hash;
    ++expected;
  }
  return std::nullopt;
}

}  // namespace orgos::store
