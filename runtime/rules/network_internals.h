// The match network's memories (network.h), shared by its implementation and the explanations.
#pragma once
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/rules/flat_table.h"
#include "runtime/rules/network.h"

namespace orgos::rules {

using ir::kNone;
using ir::Record;
using ir::Value;

// The bytes of a value such that equal bytes means `==` (records by identity). False for lists.
inline bool encode(const Value& v, std::string& out) {
  out.push_back(static_cast<char>(v.tag));
  switch (v.tag) {
    case ir::kTagNone:
      return true;
    case ir::kTagInt:
    case ir::kTagBool:
    case ir::kTagDate:
    case ir::kTagDuration:
    case ir::kTagEnum:
      out.append(reinterpret_cast<const char*>(&v.u.i), sizeof v.u.i);
      return true;
    case ir::kTagMoney:
      out.append(reinterpret_cast<const char*>(&v.aux), sizeof v.aux);
      [[fallthrough]];
    case ir::kTagDec:
      out.append(reinterpret_cast<const char*>(&v.u.d), sizeof v.u.d);
      return true;
    case ir::kTagString:
      out.append(v.u.s->view());
      return true;
    case ir::kTagRecord: {
      int64_t id = v.u.r->id;
      if (id)
        out.append(reinterpret_cast<const char*>(&id), sizeof id);
      else
        out.append(reinterpret_cast<const char*>(&v.u.r), sizeof v.u.r);
      return true;
    }
    default:
      return false;
  }
}

// The word a value encodes to after its tag when that is exactly 8 bytes (numbers, dates, enums,
// records): such a key is hashed and compared without being written out (word_key_hash).
inline bool word_of(const Value& v, uint64_t& w) {
  switch (v.tag) {
    case ir::kTagInt:
    case ir::kTagBool:
    case ir::kTagDate:
    case ir::kTagDuration:
    case ir::kTagEnum:
      w = static_cast<uint64_t>(v.u.i);
      return true;
    case ir::kTagRecord:
      w = v.u.r->id ? static_cast<uint64_t>(v.u.r->id) : reinterpret_cast<uint64_t>(v.u.r);
      return true;
    default:
      return false;
  }
}

// One join key's share of a node: the partial matches that arrived with that key (the beta memory) and
// the facts that passed the pattern's own conditions with it (the alpha memory). Equal keys meet here.
struct Network::Bucket {
  std::string key;  // the join key's bytes (empty: a node's only bucket)
  uint64_t hash = 0;
  // Partial matches, an intrusive list (Token::lprev/lnext) in arrival order (creation order).
  Ref<Token> lhead, ltail;
  // Facts in id order (a left activation meets them in that order). A retracted fact leaves a tombstone
  // (slot null, id kept) that its re-insertion revives in place, so an update costs a binary search and
  // not a shift of the facts after it; tombstones are swept when they are half of the memory.
  struct Entry {
    int64_t id;
    FactSlot* slot;
  };
  std::vector<Entry> right;
  size_t dead = 0;
  bool empty() const { return !lhead && right.size() == dead; }
};

// A join key that is one field of one parameter (`e.skill`): read from the record directly, without
// calling its function (the common case; the call is the fallback for anything unusual, such as none).
struct FieldRef {
  uint32_t param = 0, slot = 0;
};

struct Network::Node {
  uint32_t rule = 0, index = 0;
  const ir::PatternIR* p = nullptr;
  // Per join key, its field reference when every key of the side is one (else empty).
  std::vector<FieldRef> left_fields, right_fields;
  // Per left field, how many parents up from the partial match arriving here its fact is bound (when
  // each is a fact: a pattern's, not an accumulation's); else empty and the parameters are gathered.
  std::vector<uint16_t> left_steps;
  // The bucket the last partial match went to, and the records its key was read from: siblings (the
  // matches one fact makes with several facts of a previous pattern) often share the key. Valid while
  // Network::generation_ is `generation` (records do not change within a change; a freed bucket bumps it).
  struct {
    uint64_t generation = 0;
    const ir::Record* recs[4] = {};
    Bucket* bucket = nullptr;
  } memo;
  std::string eq_key;  // the alpha index constant
  // Facts are stored in the alpha memory only where a partial match can arrive later: every node but a
  // rule's first, whose only partial match (the rule's empty match) arrives before any fact.
  bool stores_facts = false;
  Bucket solo;                // the only bucket of a node without a join key
  FlatTable<Bucket> buckets;  // by key; the node owns them (freed when empty, and with the node)
  ~Node() {
    buckets.for_each([](Bucket* b) { delete b; });
  }
  // not/exists: fact → partial matches it meets, and the other way round.
  std::unordered_map<int64_t, std::vector<Token*>> blocks;
  std::unordered_map<const Token*, std::vector<int64_t>> blockers;
};

// A fact in working memory.
struct Network::FactSlot {
  ir::Record* rec = nullptr;
  int64_t id = 0;
  Ref<Token> tokens;  // partial matches that bound it (Token::fprev/fnext)
  // The nodes that hold it (stored in their alpha memory, or blocking there): what a retraction visits.
  // Out of line: most facts (those that only start matches) have none, and the entry stays 32 bytes.
  std::unique_ptr<std::vector<std::pair<Node*, Bucket*>>> nodes;
};

// A match of a rule's first `level` patterns. A full match (terminal) is the smaller Token; a partial
// one, which later patterns extend, is a Partial (its children and its bucket). Most tokens of a large
// load are full matches (all of them in a single-pattern rule set), and their size is the memory the
// load touches, so a full match carries nothing it does not use, and links to other tokens are 4-byte
// Refs into the token region (token_region.h): 48 bytes, a partial one 64 (with pointers, 72 and 96).
// (No sequence number: every list is kept in creation order, which is the agenda's order.)
struct Network::Token {
  Ref<Token> parent;  // a Partial (or null: a rule's root)
  // Its place in the parent's children: a root can hold one child per fact, and removing one must not
  // cost a scan of its siblings.
  Ref<Token> prev_sibling, next_sibling;
  // A full match: its salience's agenda list. A partial one: its bucket's list of partial matches.
  Ref<Token> lprev, lnext;
  // What this level bound: a fact, an accumulated value (has_acc), or nothing (`not`, `exists`). The
  // fact's entry outlives the token (a retraction removes the fact's tokens first). The rule's
  // parameters are gathered up the parent chain (bound_values).
  union {
    FactSlot* fact = nullptr;
    ir::Value* acc;
  };
  Ref<Token> fprev, fnext;  // the bound fact's list of tokens
  uint32_t rule = 0;
  uint16_t level = 0;  // patterns 0..level-1 are matched
  bool dead : 1 = false, terminal : 1 = false, on_agenda : 1 = false, fired : 1 = false, linked : 1 = false,
              has_acc : 1 = false;

  Token() = default;
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;
  ~Token() {
    if (has_acc) delete acc;
  }
  bool bound() const { return fact != nullptr; }  // either member: both are pointers
  FactSlot* bound_fact() const { return has_acc ? nullptr : fact; }
  int64_t fact_id() const { return has_acc || !fact ? 0 : fact->id; }
  // What it bound as a Value, written in place: a Value made in a temporary (piecewise) and copied out
  // (as two 16-byte words) waited on the store-to-load forward, at every parameter of every firing.
  void value_into(Value& v) const {
    if (has_acc) {
      v = *acc;
      return;
    }
    std::memset(&v, 0, sizeof v);
    v.u.r = fact->rec;
    v.tag = ir::kTagRecord;
  }
};

struct Network::Partial : Network::Token {
  // The children, in creation order, as an intrusive list.
  Ref<Token> first_child, last_child;
  Bucket* bucket = nullptr;  // where it waits for facts (null: nowhere yet)
};

static_assert(sizeof(Network::Token) == 48 && sizeof(Network::Partial) == 64, "token sizes (see above)");
static_assert(sizeof(Network::FactSlot) == 32, "a fact's entry (see above)");

inline Network::Partial* partial(Network::Token* t) {
  return static_cast<Network::Partial*>(t);
}

// The rule's parameters a partial match has bound, in order.
inline void bound_values(const Network::Token* t, std::vector<Value>& out) {
  size_t n = 0;
  for (const Network::Token* p = t; p; p = p->parent) n += p->bound();
  out.resize(n);
  for (; t; t = t->parent)
    if (t->bound()) t->value_into(out[--n]);
}

}  // namespace orgos::rules
