#include "runtime/store/audit_chain.h"

#include <sodium.h>

#include <ctime>
#include <map>

#include "runtime/store/audit_checkpoint.h"
#include "runtime/store/field_hash.h"
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

// A statement run once, finalized however the call ends.
struct Query {
  sqlite3_stmt* s = nullptr;
  Query(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
      throw StoreError(std::string("cannot read the audit chain: ") + sqlite3_errmsg(db));
  }
  ~Query() { sqlite3_finalize(s); }
};

void bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind(sqlite3_stmt* s, int i, int64_t v) {
  sqlite3_bind_int64(s, i, v);
}

std::string mac_message(const std::string& hash) {
  return "orgos-audit-entry/1 " + hash;
}

std::optional<AuditKind> kind_of(const std::string& name) {
  for (AuditKind k : {AuditKind::Access, AuditKind::Input, AuditKind::Token})
    if (name == audit_kind_name(k)) return k;
  return std::nullopt;
}

std::string utc(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

const char* audit_kind_name(AuditKind k) {
  switch (k) {
    case AuditKind::Access:
      return "access";
    case AuditKind::Input:
      return "input";
    case AuditKind::Token:
      return "token";
  }
  return "?";
}

std::string audit_hash(const AuditEntry& e) {
  FieldHash f;
  f.add(e.seq).add(e.at).add(audit_kind_name(e.kind));
  for (const std::string* s : {&e.actor, &e.action, &e.resource, &e.decision, &e.reason}) f.add(*s);
  f.add(e.ref).add(e.digest).add(e.prev_hash);
  return f.hex();
}

std::string input_digest(const Input& in, const std::string& result) {
  return FieldHash().add(in.kind).add(in.key).add(in.at).add(in.actor).add(in.payload).add(result).hex();
}

AuditEntry input_entry(const Input& in, const std::string& result) {
  AuditEntry e;
  e.kind = AuditKind::Input;
  e.at = in.at;
  e.actor = in.actor;
  e.action = in.kind;
  e.resource = "input " + std::to_string(in.seq) + " (" + in.key + ")";
  e.decision = result.empty() ? "applied" : "refused";
  e.reason = result;
  e.ref = in.seq;
  e.digest = input_digest(in, result);
  return e;
}

std::string token_digest(int64_t id, const std::string& actor, const std::string& hash, int64_t created,
                         bool revoked) {
  return FieldHash().add(id).add(actor).add(hash).add(created).add(int64_t{revoked ? 1 : 0}).hex();
}

AuditChain::AuditChain(sqlite3* db) : db_(db) {
  append_ =
      prepare(db_,
              "INSERT INTO audit(seq, at, kind, actor, action, resource, decision, reason, ref, digest, "
              "prev_hash, hash, mac) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
  last_ = prepare(db_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
}

AuditChain::~AuditChain() {
  sqlite3_finalize(append_);
  sqlite3_finalize(last_);
}

void AuditChain::load_tail() {
  sqlite3_reset(last_);
  tail_ = std::make_pair(int64_t{0}, std::string(64, '0'));
  if (sqlite3_step(last_) == SQLITE_ROW)
    tail_ = std::make_pair(sqlite3_column_int64(last_, 0), col(last_, 1));
  sqlite3_reset(last_);
}

void AuditChain::append(AuditEntry& e) {
  if (!key_resolved_) {
    // A store in a file is authenticated with the default key; an in-memory one (a simulation, a replay)
    // has nothing that outlives the process to authenticate.
    const char* file = sqlite3_db_filename(db_, "main");
    if (file && *file) key_ = AuditKey::load_or_create(default_audit_key_path());
    key_resolved_ = true;
  }
  // The chain's last entry is remembered between appends (forgotten on every rollback), not selected each
  // time. Another process may have appended meanwhile (a token added beside a running server): its entry
  // takes the seq, the insert fails, and the tail is read again — inside this transaction, so it holds.
  for (int attempt = 0;; ++attempt) {
    if (!tail_) load_tail();
    e.seq = tail_->first + 1;
    e.prev_hash = tail_->second;
    e.hash = audit_hash(e);
    e.mac = key_ ? key_->mac(mac_message(e.hash)) : "";
    sqlite3_reset(append_);
    int i = 0;
    bind(append_, ++i, e.seq);
    bind(append_, ++i, e.at);
    const std::string kind = audit_kind_name(e.kind);  // bound without a copy: must outlive the step
    bind(append_, ++i, kind);
    for (const std::string* f : {&e.actor, &e.action, &e.resource, &e.decision, &e.reason})
      bind(append_, ++i, *f);
    bind(append_, ++i, e.ref);
    for (const std::string* f : {&e.digest, &e.prev_hash, &e.hash, &e.mac}) bind(append_, ++i, *f);
    int rc = sqlite3_step(append_);
    sqlite3_reset(append_);
    sqlite3_clear_bindings(append_);
    if (rc == SQLITE_DONE) break;
    tail_.reset();
    if ((rc & 0xff) == SQLITE_CONSTRAINT && attempt == 0) continue;
    throw StoreError(std::string("cannot append to the audit chain: ") + sqlite3_errmsg(db_));
  }
  tail_ = std::make_pair(e.seq, e.hash);
}

std::vector<AuditEntry> AuditChain::entries() {
  Query q(
      db_,
      "SELECT seq, at, actor, action, resource, decision, reason, prev_hash, hash, kind, ref, digest, mac "
      "FROM audit ORDER BY rowid");
  std::vector<AuditEntry> out;
  while (sqlite3_step(q.s) == SQLITE_ROW) {
    AuditEntry e{sqlite3_column_int64(q.s, 0),
                 sqlite3_column_int64(q.s, 1),
                 col(q.s, 2),
                 col(q.s, 3),
                 col(q.s, 4),
                 col(q.s, 5),
                 col(q.s, 6),
                 col(q.s, 7),
                 col(q.s, 8)};
    std::string kind = col(q.s, 9);
    // An unknown kind is kept as written (as Access) and fails its hash below: the hash covers the name.
    e.kind = kind_of(kind).value_or(AuditKind::Access);
    if (!kind_of(kind)) e.hash = "unknown kind `" + kind + "`";
    e.ref = sqlite3_column_int64(q.s, 10);
    e.digest = col(q.s, 11);
    e.mac = col(q.s, 12);
    out.push_back(std::move(e));
  }
  return out;
}

AuditReport AuditChain::verify(const AuditKey* key, const AuditCheckpoint* cp) {
  AuditReport r;
  r.authenticated = key != nullptr;
  auto problem = [&](int64_t entry, std::string what) {
    if (r.problems.size() < 20) r.problems.push_back({entry, std::move(what)});
  };
  std::vector<AuditEntry> all = entries();
  r.entries = static_cast<int64_t>(all.size());

  // The chain: numbered from 1 without gaps, each entry naming its predecessor's hash and hashing to its
  // own. The first break is reported (what follows it cannot be judged against it).
  std::string prev(64, '0');
  int64_t expected = 1;
  bool chain_ok = true, macs_ok = true;
  std::map<int64_t, const AuditEntry*> inputs, tokens;  // latest entry per input seq / token id
  for (const AuditEntry& e : all) {
    if (chain_ok) {
      std::string bad;
      if (e.seq != expected)
        bad = e.seq > expected ? "entry " + std::to_string(expected) + " is missing (next is " +
                                     std::to_string(e.seq) + ")"
                               : "entry " + std::to_string(e.seq) + " is out of order";
      else if (e.prev_hash != prev)
        bad = "entry " + std::to_string(e.seq) +
              " does not follow its predecessor (removed, reordered or edited)";
      else if (audit_hash(e) != e.hash)
        bad = "entry " + std::to_string(e.seq) + " was edited (its hash does not match its content)";
      if (!bad.empty()) {
        problem(e.seq != expected && e.seq > expected ? expected : e.seq, bad);
        chain_ok = false;
      }
    }
    if (key && macs_ok && key->mac(mac_message(e.hash)) != e.mac) {
      problem(e.seq,
              "entry " + std::to_string(e.seq) +
                  " is not authenticated by the audit key: it was forged or rewritten (or written with "
                  "another key)");
      macs_ok = false;
    }
    if (e.kind == AuditKind::Input) inputs[e.ref] = &e;
    if (e.kind == AuditKind::Token) tokens[e.ref] = &e;
    prev = e.hash;
    ++expected;
  }

  // The input log against the entries that recorded it.
  int64_t last_input = 0;
  {
    Query q(db_, "SELECT seq, kind, key, at, actor, payload, result FROM input_log ORDER BY seq");
    while (sqlite3_step(q.s) == SQLITE_ROW) {
      Input in{sqlite3_column_int64(q.s, 0), col(q.s, 1), col(q.s, 2),
               sqlite3_column_int64(q.s, 3), col(q.s, 4), col(q.s, 5)};
      last_input = in.seq;
      std::string name = "input " + std::to_string(in.seq) + " (" + in.kind + " `" + in.key + "`)";
      auto it = inputs.find(in.seq);
      if (it == inputs.end()) {
        problem(0, name +
                       " has no audit entry: it was added to the log outside the engine, or its entry was "
                       "removed");
        continue;
      }
      if (input_digest(in, col(q.s, 6)) != it->second->digest)
        problem(it->second->seq, name +
                                     " was changed after it was applied: its logged bytes differ from what "
                                     "audit entry " +
                                     std::to_string(it->second->seq) + " recorded");
      inputs.erase(it);
    }
  }
  for (auto& [seq, e] : inputs)
    problem(e->seq, "input " + std::to_string(seq) + ", recorded by audit entry " + std::to_string(e->seq) +
                        ", is missing from the input log (removed)");

  // The token table against the latest entry for each token.
  {
    Query q(db_, "SELECT id, actor, hash, created, revoked FROM token ORDER BY id");
    while (sqlite3_step(q.s) == SQLITE_ROW) {
      int64_t id = sqlite3_column_int64(q.s, 0);
      std::string name = "token " + std::to_string(id);
      auto it = tokens.find(id);
      if (it == tokens.end()) {
        problem(0, name + " has no audit entry: it was added outside orgctl, or its entry was removed");
        continue;
      }
      if (token_digest(id, col(q.s, 1), col(q.s, 2), sqlite3_column_int64(q.s, 3),
                       sqlite3_column_int64(q.s, 4) != 0) != it->second->digest)
        problem(it->second->seq, name +
                                     " was changed outside orgctl (actor, hash or revoked flag): it differs "
                                     "from what audit entry " +
                                     std::to_string(it->second->seq) + " recorded");
      tokens.erase(it);
    }
  }
  for (auto& [id, e] : tokens)
    problem(e->seq, "token " + std::to_string(id) + ", recorded by audit entry " + std::to_string(e->seq) +
                        ", is missing from the token table (removed)");

  // The checkpoint: what it recorded must still be there, unchanged.
  if (cp) {
    r.checkpointed = true;
    std::string of = "the checkpoint of " + utc(cp->at);
    if (key && !cp->authentic(*key))
      problem(0, of + " is not authenticated by the audit key (edited, or made with another key)");
    size_t at = 0;
    while (at < all.size() && all[at].seq != cp->last_seq) ++at;
    if (cp->last_seq > 0 && at == all.size())
      problem(cp->last_seq, "entries were removed: " + of + " recorded " + std::to_string(cp->entries) +
                                " entries up to entry " + std::to_string(cp->last_seq) + ", the store has " +
                                std::to_string(all.size()) +
                                (all.empty() ? "" : " (up to entry " + std::to_string(all.back().seq) + ")"));
    else if (cp->last_seq > 0 && all[at].hash != cp->last_hash)
      problem(cp->last_seq, "entry " + std::to_string(cp->last_seq) + " is not the one " + of +
                                " recorded: the chain was rewritten up to it");
    else if (cp->last_seq > 0 && static_cast<int64_t>(at + 1) != cp->entries)
      problem(cp->last_seq, "the chain up to entry " + std::to_string(cp->last_seq) + " has " +
                                std::to_string(at + 1) + " entries, " + of + " recorded " +
                                std::to_string(cp->entries) + " (renumbered)");
    if (last_input < cp->inputs)
      problem(0, "inputs were removed: " + of + " recorded the input log up to input " +
                     std::to_string(cp->inputs) + ", the store's ends at " + std::to_string(last_input));
  }
  return r;
}

std::optional<int64_t> AuditChain::verify(std::string& problem) {
  AuditReport r = verify(nullptr);
  if (r.intact()) return std::nullopt;
  problem = r.problems.front().what;
  return r.problems.front().entry;
}

}  // namespace orgos::store
