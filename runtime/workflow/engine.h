// The workflow engine: a deterministic state machine over the input log. Each input (an event, a
// command, a task completion, a clock advance) is logged, checked against roles and policies, applied
// until every instance waits again, and committed together with the state it produced and its audit
// entries. Replaying the log from an empty store reproduces the state and the trace byte for byte.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/bundle/bundle.h"
#include "compiler/interp/evaluator.h"
#include "runtime/rules/network.h"
#include "runtime/store/store.h"
#include "runtime/workflow/trace_subject.h"
#include "runtime/workflow/value_codec.h"

namespace orgos::workflow {

// What a command or input produced: accepted (and applied) or refused with a reason.
struct Outcome {
  bool ok = true;
  bool duplicate = false;  // the input's key was already in the log: nothing was applied again
  std::string error;       // what is wrong and what to do
  int64_t id = 0;          // the instance or task created, when there is one
  bool conflict = false;   // the actor used the input's key before for another request: nothing was applied
};

struct TaskView {
  int64_t id = 0, instance = 0;
  std::string process, name, role, unit, status, claimed_by;
  bool approval = false;
  std::vector<std::string> outcomes;
  int64_t due = 0;  // 0: no deadline
};

struct InstanceView {
  int64_t id = 0;
  std::string process, status, error;
  int64_t started_at = 0, ended_at = 0;
};

// Why a rule fired or did not for one stored record (`orgctl explain`): the record's type and
// rules::Network::explain's answer, pattern by pattern, then the full matches that hold the record
// (detail.lines() is the text `orgctl explain` prints).
struct RuleExplanation {
  std::string rule, type;
  int64_t fact = 0;
  rules::Explanation detail;
};

// A KPI with its thresholds judged: "met"/"missed" against the target, and whether it crossed its warning or
// alert threshold.
struct KpiView {
  std::string name, value;
  std::string target;   // e.g. ">= 5" ("" when the metric has none)
  std::string verdict;  // "met", "missed", "no data" or ""
  bool warn = false, alert = false;
};

// How guards, conditions, tables and formulas run: native code from the JIT (compiler/codegen), or the
// reference interpreter alone. Both give the same results; the scenario tests run every project under both.
enum class ExecEngine { Interp, Jit };

// The last second the engine's clock can show: 9999-12-31 23:59:59. Dates have four-digit years, and
// every due time (clock + a duration from the program or an input) is checked against it instead of
// overflowing; an input that would move the clock past it is refused.
inline constexpr int64_t kMaxClock = 253402300799;

struct EngineOptions {
  int64_t start_time = 0;          // engine clock at the first input (seconds since 1970)
  int64_t for_each_bound = 10000;  // default bound of `for each`
  // Runaway protection (with max_instances_per_input below): an input that runs more process steps than
  // this is undone whole, with a message.
  int64_t max_steps_per_input = 1000000;
  std::function<void(const std::string&)> trace;  // one line per observable step
  int64_t max_rule_firings_per_input = 10000;     // a rule cascade longer than this undoes the input
  ExecEngine exec = ExecEngine::Jit;
  // The project's name (its manifest's, see project_identity.h): with the bundle's org names, what the
  // store records and is checked against at open. "" when the project has no manifest.
  std::string project{};
  // An input that starts more process instances than this (by `start`, `run` or rules) is undone whole.
  int64_t max_instances_per_input = 100000;
};

class Engine {
 public:
  Engine(const bundle::Bundle& b, store::Store& s, EngineOptions opts = {});
  ~Engine();
  // Why native code could not be made for a bundle version ("" when it was, or was not asked for). The
  // engine then runs that version with the interpreter: same results, slower.
  const std::string& jit_error() const;

  // Group commit (see store::Store::begin_group): the inputs between these share one transaction and one
  // fsync. Their outcomes are final only once commit_group returns; a crash before loses the whole group,
  // which the caller then submits again (inputs are deduplicated by key).
  void begin_group();
  // A group that fails to commit is undone whole, and the engine reloaded (see reload); then it throws.
  void commit_group();
  // Forgets the state in memory and reads it again from the store, as a restart would: after a failed
  // commit, memory holds effects the store does not. Throws StoreError if the store cannot be read.
  void reload();

  // ---- inputs (each is logged once, by key; a repeated key is a no-op)
  // A key belongs to the actor who gives it and the kind of input (runtime/workflow/input_key.h): the same
  // request again under it is a retry, answered with the first outcome (accepted or refused) and
  // duplicate = true; another request under it is refused with conflict = true. Another actor's key is
  // another key.
  Outcome post_event(const std::string& name, const json& payload, const std::string& actor,
                     const std::string& key);
  Outcome start(const std::string& process, const json& args, const std::string& actor,
                const std::string& key);
  Outcome complete_task(int64_t task, const std::string& actor, const std::string& outcome, const json& data,
                        const std::string& key);
  // Reserves an open task for `actor` (who must be allowed to complete it): from then on only they can
  // complete it. Claiming again by the same actor is accepted; a task claimed by someone else is refused.
  Outcome claim_task(int64_t task, const std::string& actor, const std::string& key);
  Outcome decide(int64_t task, const std::string& actor, bool approve, const std::string& key);
  Outcome advance_to(int64_t time, const std::string& key);  // fires due timers in order
  Outcome connector_result(int64_t outbox_id, const json& result, const std::string& key);
  // Moves a stored record (`type` its record type, `record` a {"$ref": …} or {"$id": …}) — or the org
  // (`type` "org", `record` its name) — along a lifecycle transition, if its guard holds.
  Outcome transition(const std::string& type, const json& record, const std::string& name,
                     const std::string& actor, const std::string& key);

  // ---- queries
  int64_t now() const { return clock_; }
  // The outcome of an input `actor` already gave under `key` for this `kind` of input (event, start, claim,
  // complete, decide, tick, transition, connector_result), with duplicate = true; nullopt if the key is new.
  std::optional<Outcome> logged(const std::string& actor, const std::string& kind, const std::string& key);
  // The same for any actor and kind: for a trusted local caller that replays its own keys (a scenario run
  // resuming after a crash), never for a request from a client.
  std::optional<Outcome> logged(const std::string& key);
  std::vector<TaskView> tasks(bool open_only = true) const;
  std::optional<TaskView> task(int64_t id) const;
  std::vector<InstanceView> instances() const;
  std::vector<std::pair<std::string, std::string>> metrics();  // name → value (text)
  std::vector<KpiView> kpis();                                 // the same, with targets and thresholds judged
  const bundle::Bundle& bundle() const { return b_; }

  // ---- who may read what (docs/server.md, "Who may read what"). tasks(), task(), instances() and kpis()
  // above answer everything: they are for trusted local callers; a client's reads go through these.
  // A task: `system`; who may act on it (holds its role, or is granted its action by a role or a permit
  // policy); who claimed, completed or decided it; who started its instance (or posted the event that did);
  // its managers: who holds the role it escalates to (`escalate to R of U`: in U or a unit above), from the
  // moment it opens; and who is granted `read` on its subject's type (`may read T`, `permit read T`). A
  // `forbid read T` policy hides it from all but `system`. An instance: its starter, the readers of any of
  // its tasks, and who is granted `read` on its process or subject's type. A KPI: every member of the
  // organization (who holds a position) and who is granted `read` on it by name. None of these audits or
  // traces anything.
  bool may_read_task(const std::string& actor, int64_t task);
  bool may_read_instance(const std::string& actor, int64_t instance);
  bool may_read_kpi(const std::string& actor, const std::string& metric);
  // Inside EngineOptions::trace: what the line is about — an instance (its steps, timers, start, or a
  // command on one of its tasks), an event as posted or emitted, a rule firing or the records a rule or a
  // transition changed, a metric's alert, the organization (the clock, the org's lifecycle) — or nothing
  // known (system reads it alone). Only kept while a trace callback is set: without one it stays nothing.
  const TraceSubject& trace_subject() const;
  // Whether `actor` may read a trace line about `about`: `system` every line; others as for the thing
  // itself (docs/server.md, "Who may read what"). Neither audits nor traces: the event stream is a list,
  // which hides what its reader may not see.
  bool may_read_line(const std::string& actor, const TraceSubject& about);
  // The task if `actor` may read it; nullopt when there is no such task and when there is one they may not
  // read (the same answer: a refusal does not tell that it exists). The refusal is audited.
  std::optional<TaskView> task_for(const std::string& actor, int64_t id);
  // The lists above with only what `actor` may read (what is left out is not audited: a list is no request
  // for the things it does not show).
  std::vector<TaskView> tasks_for(const std::string& actor, bool open_only = true);
  std::vector<InstanceView> instances_for(const std::string& actor);
  std::vector<KpiView> kpis_for(const std::string& actor);
  // Appends a refused read of `what` (e.g. "task pack #12") to the audit chain, in its own batch.
  void audit_refused_read(const std::string& actor, const std::string& what, const std::string& why);
  // Throws std::invalid_argument naming what is unknown: the rule (in the current version) or the record.
  RuleExplanation explain(const std::string& rule, int64_t record);

  // Re-applies every logged input to an empty in-memory engine and returns its trace (for replay
  // checks and `orgctl run --replay`).
  static std::vector<std::string> replay(const bundle::Bundle& b, store::Store& log, EngineOptions opts);
  // The same into `fresh` (an empty store), kept for comparison (orgctl store verify). With `restarts`, a
  // later clock between two inputs without a tick is taken for the restart it was, and replayed as one.
  static void replay_into(const bundle::Bundle& b, store::Store& log, store::Store& fresh, EngineOptions opts,
                          bool restarts);

  struct Impl;

 private:
  const bundle::Bundle& b_;
  int64_t clock_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orgos::workflow
