#include "runtime/net/tokens.h"

#include <sodium.h>

#include <ctime>
#include <stdexcept>

namespace orgos::net {

namespace {

std::string hex(const unsigned char* p, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

// A prepared statement that is finalized however the call ends.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
      throw store::StoreError(std::string("token table: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s); }
};

std::string text(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? reinterpret_cast<const char*>(p) : "";
}

}  // namespace

std::string token_hash(const std::string& token) {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                     nullptr, 0);
  return hex(out, sizeof out);
}

// Token changes are security state: each commits with an audit entry recording the token's row as it then
// stands, so an edit of the table (a revoked token made valid again) is found by `orgctl audit verify`.
namespace {

void audit(store::Store& s, int64_t id, const std::string& action) {
  Stmt st(s.handle(), "SELECT actor, hash, created, revoked FROM token WHERE id = ?");
  sqlite3_bind_int64(st.s, 1, id);
  if (sqlite3_step(st.s) != SQLITE_ROW) throw store::StoreError("token " + std::to_string(id) + " vanished");
  store::AuditEntry e;
  e.kind = store::AuditKind::Token;
  e.at = static_cast<int64_t>(std::time(nullptr));
  e.actor = text(st.s, 0);
  e.action = action;
  e.resource = "token " + std::to_string(id);
  e.decision = "applied";
  e.ref = id;
  e.digest = store::token_digest(id, e.actor, text(st.s, 1), sqlite3_column_int64(st.s, 2),
                                 sqlite3_column_int(st.s, 3) != 0);
  s.append_audit(e);
}

// A token change and its audit entry commit together, or neither does.
template <typename F>
auto audited(store::Store& s, F change) {
  s.begin();
  try {
    auto out = change();
    s.commit();
    return out;
  } catch (...) {
    s.rollback();
    throw;
  }
}

}  // namespace

std::string Tokens::add(const std::string& actor, int64_t& id) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string token = "orgos_" + hex(raw, sizeof raw);
  return audited(s_, [&] {
    Stmt st(s_.handle(), "INSERT INTO token(actor, hash, created) VALUES(?, ?, ?)");
    std::string h = token_hash(token);
    sqlite3_bind_text(st.s, 1, actor.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.s, 2, h.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 3, static_cast<int64_t>(std::time(nullptr)));
    if (sqlite3_step(st.s) != SQLITE_DONE)
      throw store::StoreError(std::string("cannot add a token: ") + sqlite3_errmsg(s_.handle()));
    id = sqlite3_last_insert_rowid(s_.handle());
    audit(s_, id, "token.add");
    return token;
  });
}

bool Tokens::revoke(int64_t id) {
  return audited(s_, [&] {
    Stmt st(s_.handle(), "UPDATE token SET revoked = 1 WHERE id = ?");
    sqlite3_bind_int64(st.s, 1, id);
    if (sqlite3_step(st.s) != SQLITE_DONE)
      throw store::StoreError(std::string("cannot revoke a token: ") + sqlite3_errmsg(s_.handle()));
    bool found = sqlite3_changes(s_.handle()) > 0;
    if (found) audit(s_, id, "token.revoke");
    return found;
  });
}

std::vector<TokenInfo> Tokens::list() {
  Stmt st(s_.handle(), "SELECT id, actor, created, revoked FROM token ORDER BY id");
  std::vector<TokenInfo> out;
  while (sqlite3_step(st.s) == SQLITE_ROW)
    out.push_back({sqlite3_column_int64(st.s, 0), text(st.s, 1), sqlite3_column_int64(st.s, 2),
                   sqlite3_column_int(st.s, 3) != 0});
  return out;
}

std::optional<std::string> Tokens::actor_of(const std::string& token, std::string& why) {
  Stmt st(s_.handle(), "SELECT actor, revoked FROM token WHERE hash = ?");
  std::string h = token_hash(token);
  sqlite3_bind_text(st.s, 1, h.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_ROW) {
    why = "unknown token";
    return std::nullopt;
  }
  if (sqlite3_column_int(st.s, 1) != 0) {
    why = "the token was revoked";
    return std::nullopt;
  }
  return text(st.s, 0);
}

}  // namespace orgos::net
