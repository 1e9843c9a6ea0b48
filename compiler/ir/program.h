// The executable description of an organization, beside the expression code in ir::Module: process
// step graphs, lifecycles, rules, policies, roles and the org structure. The runtime runs these (it
// never reads sources); every expression they mention is an index of an ir::Function.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/ir.h"
#include "compiler/ir/value.h"
#include "compiler/source/span.h"

namespace orgos::ir {

enum class StepKind : uint8_t {
  Task,
  Approval,  // human steps: wait for completion by a holder of `role`
  Emit,
  Create,
  Update,
  Set,    // data effects
  Call,   // connector operation, through the outbox
  Run,    // sub-process, waited for
  Start,  // process started alongside
  Notify,
  WaitEvent,
  WaitUntil,
  WaitTimer,
  Branch,   // if: next[0] when `cond` is true, next[1] otherwise
  Switch,   // next[i] for case i (values in `cases`), next.back() for else
  Fork,     // parallel: next[] are the branch starts; `join` is the join step
  Join,     // waits for `join_count` branches (0: all), then continues with next[0]
  ForEach,  // loop head: binds `bind_slot` to the next item of `value`, body next[0], exit next[1]
  Let,
  Fail,
  Complete,
  Insert,
  Derive,
  Modify,
  Retract,
  Signal,
  End,  // the end of a block: continue with next[0], or finish the branch/process
};
const char* step_kind_name(StepKind k);

// How many of an approval's role holders must approve (stored in a bundle as this byte).
enum class Quorum : uint8_t {
  All,        // the one approver: the first decision decides
  Majority,   // more than half of the holders
  Unanimous,  // every holder; one rejection rejects
  Count,      // `quorum_n` holders (of `quorum_of`)
  Percent,    // `quorum_n` percent of the holders, rounded up
};
const char* quorum_name(Quorum q);

// What a rule pattern asks of the facts of its type (stored in a bundle as this byte).
enum class PatternKind : uint8_t {
  Fact,        // binds each matching fact
  Not,         // no fact matches
  Exists,      // at least one fact matches (binds nothing)
  Accumulate,  // a value over every fact of the types in `reads`, bound as one fact
};
const char* pattern_kind_name(PatternKind k);

// A metric's comparison with its target, warn or alert bound. Its values are those of the ir::Op it
// names (a bundle stores that byte), so the two convert by a cast; the asserts below keep them in step.
enum class Comparison : uint8_t {
  Eq = static_cast<uint8_t>(Op::Eq),
  Ne = static_cast<uint8_t>(Op::Ne),
  Lt = static_cast<uint8_t>(Op::Lt),
  Le = static_cast<uint8_t>(Op::Le),
  Gt = static_cast<uint8_t>(Op::Gt),
  Ge = static_cast<uint8_t>(Op::Ge),
};
static_assert(static_cast<uint8_t>(Comparison::Ne) == static_cast<uint8_t>(Comparison::Eq) + 1 &&
                  static_cast<uint8_t>(Comparison::Lt) == static_cast<uint8_t>(Comparison::Eq) + 2 &&
                  static_cast<uint8_t>(Comparison::Le) == static_cast<uint8_t>(Comparison::Eq) + 3 &&
                  static_cast<uint8_t>(Comparison::Gt) == static_cast<uint8_t>(Comparison::Eq) + 4 &&
                  static_cast<uint8_t>(Comparison::Ge) == static_cast<uint8_t>(Comparison::Eq) + 5,
              "Comparison is a contiguous range (the bundle reader checks a range)");
inline Op op_of(Comparison c) {
  return static_cast<Op>(c);
}
// Whether `a c b` holds for two numbers of one kind.
template <typename N>
bool compare(Comparison c, const N& a, const N& b) {
  switch (c) {
    case Comparison::Eq:
      return a == b;
    case Comparison::Ne:
      return a != b;
    case Comparison::Lt:
      return a < b;
    case Comparison::Le:
      return a <= b;
    case Comparison::Gt:
      return a > b;
    case Comparison::Ge:
      return a >= b;
  }
  return false;  // not reached: the bundle reader refuses any other value
}

struct FieldValue {
  uint32_t slot;      // slot in the target layout
  uint32_t function;  // computes the value from the frame
};

struct Step {
  StepKind kind = StepKind::End;
  std::string name;         // task/approval name, event name, record/process/connector.op name
  std::string role;         // Task/Approval: the role; Notify: empty
  uint32_t layout = kNone;  // Emit/Create/Insert/Derive: layout of the event or record; Run/Start: process
  uint32_t value = kNone;   // function: Branch cond, Switch subject, Let/Set value, wait time, ForEach list,
                            // Notify message, Fail reason, Update/Modify/Retract target
  uint32_t scope = kNone;   // function: `of` scope of a task/approval, Notify recipient
  uint32_t within = kNone;  // function: deadline (Duration)
  uint32_t where = kNone;   // function: WaitEvent/Signal filter
  std::string escalate_role;
  uint32_t escalate_scope = kNone;
  std::vector<FieldValue> fields;     // Emit/Create/Update/…: field values
  std::vector<uint32_t> args;         // Call/Run/Start: argument functions in parameter order
  std::vector<uint32_t> cases;        // Switch: one function per case value (several per case are flattened)
  std::vector<uint32_t> case_target;  // Switch: for each entry of `cases`, the index into `next`
  std::vector<std::string> outcomes;  // Task
  Quorum quorum_kind = Quorum::All;   // Approval
  int64_t quorum_n = 0, quorum_of = 0;
  uint32_t bind_slot = kNone;     // frame slot that receives the step's result
  uint32_t set_slot = kNone;      // Set: the field written in the record computed by `value`'s target
  uint32_t set_target = kNone;    // Set: function computing the record (kNone: a frame variable)
  uint32_t join = kNone;          // Fork: its Join
  uint32_t join_count = 0;        // Join: branches needed (0 = all)
  uint32_t on_timeout = kNone;    // first step run when the deadline passes
  uint32_t compensation = kNone;  // first step of this step's compensation block
  int64_t max_items = 0;          // ForEach bound (0: the default bound)
  bool parallel = false;          // ForEach in parallel
  std::vector<uint32_t> next;
  source::Span span;
};

struct ProcessIR {
  std::string name;
  uint32_t frame_layout = kNone;
  uint32_t instance_layout = kNone;
  std::vector<uint32_t> param_slots;  // frame slot of each parameter
  uint32_t timeout = kNone;           // function: the process deadline
  uint32_t start = kNone, on_failure = kNone, on_timeout = kNone;
  uint32_t error_slot = kNone;  // frame slot of `error` (the failure reason) in `on failure`
  std::vector<Step> steps;
  source::Span span;
};

struct TransitionIR {
  std::string name;
  std::vector<std::string> from;
  std::string to;
  uint32_t guard = kNone;    // function of the subject
  uint32_t effects = kNone;  // index into LifecycleIR::effects processes (kNone: none)
};
struct LifecycleIR {
  std::string name;
  bool of_org = false;
  uint32_t subject_layout = kNone;
  std::string initial;
  std::vector<std::string> states, finals;
  std::vector<TransitionIR> transitions;
  std::vector<ProcessIR> effects;  // each transition's effect block, as a tiny process over the subject
};

// An equality between the earlier facts and this one: the match network hashes both sides.
struct JoinKeyIR {
  uint32_t left = kNone;   // function of the facts bound so far
  uint32_t right = kNone;  // function of this fact alone
};
struct PatternIR {
  PatternKind kind = PatternKind::Fact;
  uint32_t layout = kNone;  // fact type
  bool is_event = false;
  uint32_t condition = kNone;  // function of the facts bound so far (and this one); explain reads it
  // The same condition split into its conjuncts for the match network (pattern_split.h). Together
  // they mean `condition`; each is kNone/empty when it has no conjunct.
  uint32_t alpha = kNone;     // function (this fact): the conjuncts that read only this fact
  uint32_t eq_slot = kNone;   // one conjunct `fact.field == constant`: the field's slot
  uint32_t eq_value = kNone;  // and a function () computing the constant (alpha memories are indexed by it)
  std::vector<JoinKeyIR> keys;
  uint32_t beta = kNone;        // function (facts so far, this fact): the remaining conjuncts
  std::vector<uint32_t> reads;  // accumulate: the types whose every instance it reads
};
struct RuleIR {
  std::string name;
  int64_t salience = 0;
  std::vector<PatternIR> patterns;
  ProcessIR actions;  // the `then` block, as steps over the bound facts
};

struct PolicyIR {
  std::string name;
  bool forbid = false;
  std::string action;     // "" = any action
  std::string resource;   // "" = any resource
  uint32_t when = kNone;  // function (actor, resource)
};

struct GrantIR {
  std::string action, resource;
  uint32_t where = kNone;  // function (actor, resource)
};
struct RoleIR {
  std::string name;
  std::vector<std::string> extends;
  bool scoped = false;  // held per unit
  std::vector<GrantIR> grants;
};

struct UnitIR {
  std::string name, kind, parent;
};
struct PositionIR {
  std::string name, role, unit;
  std::vector<std::string> holders;
};
struct OrgIR {
  std::string name, purpose, legal_form, jurisdiction, currency, lifecycle;
  std::vector<UnitIR> units;
  std::vector<PositionIR> positions;
};

struct MetricIR {
  std::string name;
  uint32_t formula = kNone;
  uint32_t window = kNone, target = kNone, warn = kNone, alert = kNone;
  Comparison target_op = Comparison::Eq, warn_op = Comparison::Eq, alert_op = Comparison::Eq;
  std::string alert_event;
};

struct ConnectorOpIR {
  std::string connector, op;
  std::vector<std::string> params;
  uint32_t result_layout = kNone;
};

// Everything the runtime executes.
struct Program {
  std::vector<ProcessIR> processes;
  std::vector<LifecycleIR> lifecycles;
  std::vector<RuleIR> rules;
  std::vector<PolicyIR> policies;
  std::vector<RoleIR> roles;
  std::vector<OrgIR> orgs;
  std::vector<MetricIR> metrics;
  std::vector<ConnectorOpIR> connector_ops;
  std::vector<std::string> events;                   // declared event names
  std::vector<uint32_t> event_layouts;               // their layouts, same order
  std::vector<uint32_t> record_layouts;              // layouts that are records (not events or processes)
  std::vector<std::vector<uint32_t>> record_checks;  // per entry of record_layouts: invariant functions
};

}  // namespace orgos::ir
