// The rules engine's match network: working memory (records and events as facts) and a Rete-style
// network over the rules of one ir::Program. Facts go in and out (insert, update, retract); the
// network keeps every partial match, so a change costs the matches it touches, not a re-run of all
// rules. Full matches become activations on an agenda, fired by the caller (the workflow engine or a
// benchmark) in conflict-resolution order. The semantics are documented in docs/rules.md.
//
// Per rule, pattern k is one node. Facts of its type that pass its own-fact conditions (optionally found
// through an index on one `fact.field == constant`) and the partial matches of patterns 0..k-1 meet in
// buckets, one per join key (network_internals.h): a fact entering meets only the partial matches with an
// equal key, and the other way round. `not` and `exists` count the facts that match each partial match; an
// accumulation is recomputed for every partial match when a fact of a type it reads changes.
//
// Conditions run as native code where the evaluator has it (Evaluator::try_fast), else in the evaluator;
// an evaluation error counts as "does not match" and is reported through errors() (the engine traces it).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "compiler/interp/evaluator.h"
#include "compiler/ir/ir.h"
#include "compiler/ir/program.h"
#include "runtime/rules/token_region.h"

namespace orgos::rules {

template <typename T>
class SlotPool;
template <typename T>
class FlatTable;
template <typename T>
class FactIndex;

// The identity of one match: the rule and the facts (and accumulated values) it matched. Refraction and
// logical support are keyed by it. Printable ("rule:12,40").
using MatchKey = std::string;

// A match taken off the agenda, to run its rule's actions over.
struct Firing {
  uint32_t rule = 0;
  std::vector<ir::Value> facts;  // the rule's parameters: bound facts and accumulations, in order
  std::vector<int64_t> ids;      // per parameter: the fact's id, 0 for an accumulated value
  const std::string* rule_name = nullptr;
  // The match's identity, made on demand: most firings (a benchmark, a rule without durable facts) never
  // need it, and building the string was a tenth of a firing's cost.
  MatchKey key() const;
};

// Why a rule matched or did not match one fact (Network::explain), pattern by pattern: what `orgctl
// explain` prints and, with --json, returns as data.
struct PatternReport {
  uint32_t number = 0;        // 1-based, in the rule's order
  std::string kind;           // "fact", "not", "exists" or "accumulate"
  std::string type;           // the pattern's fact type ("value" when it has none)
  bool of_fact_type = false;  // the explained fact is of this type: verdict and the join are about it
  // Of the fact's type: "passes", "fails_index" (its `field == constant`) or "fails_condition".
  std::string verdict;
  std::string field;               // fails_index: the field compared
  uint32_t line = 0;               // the failing condition's source line (0: none)
  std::string error;               // the error the failing condition raised, if it raised one
  int64_t facts_passing = -1;      // another type's pattern: its facts that pass its own conditions
  size_t partial_matches = 0;      // partial matches (of the patterns before) that reach this one
  bool joined = false;             // the fact passes and this is not the first pattern: the join below
  bool has_key = false;            // the join is hashed on a key
  size_t same_key = 0;             // partial matches with the fact's join key
  size_t passing_join = 0;         // of those, the ones that pass the rest of the condition
  uint32_t join_failure_line = 0;  // the first failing rest-of-condition's line (0: none)
  std::string join_error;
};
struct MatchReport {
  std::string key;    // rule:fact ids (docs/rules.md)
  std::string state;  // "on_agenda", "fired" or "not_fired"
};
struct Explanation {
  std::string rule;
  int64_t salience = 0;
  size_t pattern_count = 0;
  int64_t fact = 0;
  std::string fact_type;
  bool known_rule = true;
  bool in_memory = true;       // false: the fact is not in working memory (nothing else is filled)
  bool of_any_pattern = true;  // false: no pattern of the rule is of the fact's type
  std::vector<PatternReport> patterns;
  std::vector<MatchReport> matches;        // the full matches that hold the fact, oldest first
  std::vector<std::string> lines() const;  // as text, one line per pattern and match
};

class Network {
 public:
  Network(const ir::Program& p, const ir::Module& m, interp::Evaluator& ev);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // ---- working memory (a fact is a record with a non-zero id; ids are unique across types)
  void insert(ir::Record* fact, int64_t id = 0);  // id: the fact's id when the record has none (events)
  void update(ir::Record* fact);  // its fields changed in place: matches are recomputed, refraction kept
  void retract(int64_t id);
  bool contains(int64_t id) const;
  size_t fact_count() const;

  // ---- agenda
  // Takes the next activation (highest salience, then the oldest), marks it fired; false when empty.
  bool next(Firing& out);
  size_t agenda_size() const { return agenda_count_; }
  // Restores refraction after a restart: these matches do not fire again.
  void mark_fired(const std::unordered_set<MatchKey>& keys);
  std::vector<MatchKey> agenda_keys() const;
  // Matches that fired and no longer hold since the last call (their refraction ends).
  std::vector<MatchKey> take_ended();

  // ---- logical insertion: `derived` exists while the match `k` holds
  void support(const MatchKey& k, int64_t derived);
  // Derived facts whose last support ended (the caller retracts them).
  std::vector<int64_t> take_unsupported();

  // Evaluation errors since the last call ("rule r: message").
  std::vector<std::string> take_errors();

  // ---- explanation: whether `rule` matched (or would match) `fact`, pattern by pattern
  Explanation explain(uint32_t rule, int64_t fact);

  // Counters (benchmarks, explain).
  size_t token_count() const { return live_tokens_; }

  struct Token;
  struct Partial;
  struct Node;
  struct Bucket;
  struct FactSlot;

 private:
  bool eval(uint32_t fn, const ir::Value* args, uint32_t rule, ir::Value& out);
  bool call_bool(uint32_t fn, const ir::Value* args, uint32_t rule);
  bool key_of(const std::vector<ir::JoinKeyIR>& keys, bool left, const ir::Value* args, uint32_t rule,
              std::string& out);
  Bucket* bucket(Node& n, const std::string& key);  // found or made
  Bucket* new_bucket(Node& n, std::string key, uint64_t hash);
  // The bucket of the key that the node's field references on one side (left: the partial match's,
  // else the fact's) name over `params`, found or made; null when a parameter is not a record or lacks
  // the field (the caller then calls the key functions, which word the error).
  Bucket* field_bucket(Node& n, bool left, const ir::Record* const* params, size_t np, std::string& scratch);
  void drop_if_empty(Node& n, Bucket* b);
  void left_activate(Node& n, Partial* t);
  void right_activate(Node& n, Bucket& b, FactSlot* f);
  bool beta_ok(Node& n, const Token* t, ir::Record* fact);
  Token* child(Partial* parent, Node& n, FactSlot* f, const ir::Value* v);
  void remove_token(Token* t);
  void remove_children(Partial* t);
  void block(Node& n, Token* t, int64_t fid);
  void terminal_add(Token* t);
  void terminal_remove(Token* t);
  void end_match(MatchKey k);  // a fired match that no longer holds: refraction and support end
  void recompute(Node& n);
  void reap();
  const std::vector<Node*>& candidates(ir::Record* fact);  // into candidates_
  MatchKey key_for(const Token* t) const;
  void agenda_unlink(Token* t);

  const ir::Program& p_;
  const ir::Module& m_;
  interp::Evaluator& ev_;
  std::vector<std::vector<std::unique_ptr<Node>>> rules_;  // per rule, one node per pattern
  std::vector<Partial*> roots_;                            // per rule, the empty match
  // Per fact type (layout id): the nodes a fact of it may enter. Unindexed nodes are tried one by one;
  // the `fact.field == constant` index maps the constant's bytes to its nodes, so a fact costs one lookup
  // per indexed field, not one comparison per rule.
  struct EqNodes {
    std::string key;  // the constant's bytes (encode)
    std::vector<Node*> nodes;
  };
  struct EqIndex {
    uint32_t slot = 0;
    std::vector<std::unique_ptr<EqNodes>> entries;
    std::unique_ptr<FlatTable<EqNodes>> by_key;  // key_hash(key) → entry
    const std::vector<Node*>* find(const std::string& key) const;
  };
  struct TypeNodes {
    std::vector<Node*> plain;
    std::vector<EqIndex> indexed;
    std::vector<Node*> readers;  // accumulations reading every fact of the type
  };
  std::vector<TypeNodes> types_;
  const TypeNodes* type_nodes(uint32_t type) const { return type < types_.size() ? &types_[type] : nullptr; }
  std::unique_ptr<FactIndex<FactSlot>> facts_;  // working memory: fact id → fact
  FactSlot* find_fact(int64_t id) const;
  // The agenda: per salience, highest first, an intrusive list of activations in creation order. A token
  // is appended when it is made, so each list is in activation order; adding and removing cost no
  // allocation and no search. rule → its list: agenda_of_.
  struct AgendaList {
    Ref<Token> head, tail;
  };
  std::vector<AgendaList> agenda_;
  std::vector<uint32_t> agenda_of_;
  size_t agenda_count_ = 0;
  std::unique_ptr<SlotPool<Token>> full_;        // full matches' storage
  std::unique_ptr<SlotPool<Partial>> partials_;  // partial matches' storage
  void destroy(Token* t);
  std::unique_ptr<SlotPool<FactSlot>> slots_;  // every fact entry's storage
  // Refraction lives on the full-match token (Token::fired), so a firing touches no map. Keys are
  // looked up only across a change: the fired matches whose token went during the current outermost
  // change (an update retracts and re-inserts; a match that comes back keeps its refraction), and the
  // keys a restart restores before their tokens exist.
  std::unordered_map<MatchKey, int> leaving_;
  std::vector<MatchKey> leaving_order_, ended_;
  std::unordered_set<MatchKey> restored_;
  std::unordered_map<MatchKey, std::vector<int64_t>> supports_;  // match → facts it derived
  std::unordered_map<int64_t, int> support_count_;               // derived fact → matches supporting it
  std::vector<int64_t> unsupported_;
  std::vector<std::string> errors_;
  std::vector<Token*> graveyard_;
  // Scratch, reused so that a fact's way through the network allocates nothing: candidates_ and rkey_
  // serve insert only (never re-entered: propagation goes down through left_activate); args_ is filled
  // right before each call.
  std::vector<ir::Value> args_;
  std::vector<Node*> candidates_;
  std::string rkey_, lkey_, eqkey_;
  size_t live_tokens_ = 0;
  int depth_ = 0;            // public calls in progress (reap and settle at the outermost)
  int updating_ = 0;         // update() calls in progress (a match may leave and come back)
  uint64_t generation_ = 1;  // bumped by every change and every freed bucket (Node::memo)
};

}  // namespace orgos::rules
