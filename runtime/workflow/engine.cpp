// The engine's core: applying inputs, running instances token by token, and persisting what changed.
// Determinism rests on three rules: all iteration is in id order, time is the engine clock (moved only
// by inputs), and ids come from counters kept in the store.
#include "runtime/workflow/engine.h"
#include "runtime/workflow/input.h"
#include "runtime/workflow/input_key.h"
#include "runtime/workflow/json_text.h"
#include "runtime/workflow/project_identity.h"
#include "runtime/workflow/symbol.h"

#include "runtime/rules/network.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include "compiler/codegen/jit.h"
#include "compiler/syntax/literal.h"

namespace orgos::workflow {

using namespace ir;

namespace {

struct Token {
  int64_t id = 0;
  uint32_t step = 0;
  int64_t fork = 0;                   // innermost parallel block this token runs in (0: none)
  Sym wait;                           // "", "task", "event", "timer", "child", "call"
  int64_t wait_ref = 0;               // task / timer / child instance / outbox id
  Sym wait_event;                     // event name for "event"
  std::map<uint32_t, int64_t> loops;  // for-each head → next index
};

struct Fork {
  int64_t id = 0, parent = 0;
  uint32_t join = 0;
  uint32_t needed = 0, arrived = 0;
};

struct Version;

struct Instance {
  int64_t id = 0;
  Version* v = nullptr;  // the compiled version it started on, and runs on to its end
  uint32_t process = 0;
  Sym status = "running";  // running, completed, failed
  Sym phase = "normal";    // normal, compensating, failure, timeout
  std::string error;
  // The variables. After a restart they stay in the store (null here) until the instance next runs or is
  // read: a million waiting instances then cost neither the decoding nor the memory. Use frame_of().
  mutable Record* frame = nullptr;
  std::vector<Token> tokens;
  std::map<int64_t, Fork> forks;
  std::vector<uint32_t> compensations;  // compensation block starts, in the order their steps completed
  int64_t parent = 0, parent_token = 0;
  int64_t started_at = 0, ended_at = 0;
  int64_t deadline_timer = 0;
  std::string started_by;  // whose input started it ("" for system): they may read it (starter)
};

struct Task {
  int64_t id = 0, instance = 0, token = 0;
  uint32_t step = 0;
  Sym name, role, unit, status = "open", claimed_by;
  bool approval = false;
  std::vector<std::string> outcomes;
  std::map<std::string, bool> decisions;  // actor → approved
  int64_t timer = 0, due = 0;
};

struct Timer {
  int64_t id = 0, due = 0, instance = 0, token = 0, task = 0;
  Sym kind;  // wait, task_deadline, process_deadline
};

struct Fail {  // a process-level failure raised while running a step
  std::string reason;
};
// An input that does not settle — a rule cascade, processes that start or run each other without waiting, a
// loop of steps that never waits — is undone whole, with a message saying which limit it passed and where.
struct Runaway {
  std::string message;
};

// One compiled version of the organization. An instance runs to its end on the version it started with;
// new instances use the version the engine was opened with. Older versions are read back from the store.
struct Version {
  std::string hash;
  std::unique_ptr<bundle::Bundle> owned;  // an older version, loaded from the store
  const bundle::Bundle* b = nullptr;
  std::unique_ptr<interp::Evaluator> ev;
  std::unique_ptr<ValueCodec> codec;
};

}  // namespace

namespace {
// The log entry of a command: its kind and payload from the one codec (input.h), the actor and key as given.
store::Input log_entry(const InputBody& body, const std::string& actor, const std::string& key) {
  return store::Input{0, input_kind(body), key, 0, actor, encode_input(body)};
}

// A stored row the engine cannot decode (JSON that does not parse, a counter that is not a number, a
// document of another shape) means a damaged store: a StoreError saying so, never another exception,
// which the callers do not expect (it aborted `orgctl instances`, `metrics` and `serve`).
template <typename F>
void decoding_store(F&& f) {
  try {
    f();
  } catch (const store::StoreError&) {
    throw;
  } catch (const std::exception& e) {
    throw store::StoreError(std::string("the stored state cannot be read, a row does not decode (") +
                                e.what() + "): the store is damaged or was edited; restore a backup",
                            store::StoreFault::Damaged);
  }
}
}  // namespace

struct Engine::Impl {
  Engine& self;
  store::Store& store;
  EngineOptions opts;
  std::string jit_error;  // see Engine::jit_error
  interp::Arena arena;    // long-lived values: records, frames
  std::map<std::string, std::unique_ptr<Version>> versions;
  Version* current = nullptr;  // the version the engine was opened with
  Version* cur = nullptr;      // the version whose code runs now
  const bundle::Bundle& B() const { return *cur->b; }
  const Module& M() const { return cur->b->module; }
  const Program& P() const { return cur->b->program; }
  interp::Evaluator* EV() const { return cur->ev.get(); }
  ValueCodec* CODEC() const { return cur->codec.get(); }
  // Runs code of an instance's version for the guard's lifetime (nests; restores on exit).
  struct Use {
    Impl& impl;
    Version* saved;
    Use(Impl& i, Version* v) : impl(i), saved(i.cur) { i.cur = v ? v : i.current; }
    ~Use() { impl.cur = saved; }
  };

  int64_t next_id = 1;  // one counter for every kind of id: simple, and ids never collide across tables
  // Every row the store holds has an id below this (next_id when the store last received rows, or at load).
  int64_t stored_ids_end = 1;
  std::map<int64_t, Record*> records;
  std::map<std::string, Record*> units, actors;
  std::map<std::string, std::set<std::pair<std::string, std::string>>> holders;  // role → {(actor, unit)}
  std::map<int64_t, Instance> instances;
  std::map<int64_t, Task> tasks;
  // The open ones, so that inbox queries cost what is open rather than every task ever made. Kept up to
  // date where task changes are persisted (every status change marks its task dirty) and on load.
  std::set<int64_t> open_tasks;
  // Instance → its tasks, so that who may read an instance (may_read) costs its tasks, not every task.
  std::map<int64_t, std::vector<int64_t>> tasks_by_instance;
  // The running instances (waiting ones included): what event delivery and signals look through, so that
  // the finished ones, which are most of them after a while, cost nothing.
  std::set<int64_t> live;
  // Event name → the instances that have (or had) a token waiting for it. Entries whose wait has ended are
  // dropped when the event next comes, so delivery costs the waiters, not every running instance.
  std::map<std::string, std::set<int64_t>> waiting_on;
  std::map<int64_t, Timer> timers;
  std::vector<std::pair<uint32_t, Record*>> events_seen;  // (layout, event) for metrics and rules
  // Past events are read from the store the first time a metric or rule asks for a kind of event, not at
  // start-up: most restarts need none of them, and a busy organization has millions.
  bool events_loaded = false;
  // An event waiting to be delivered, with where it came from: who may read the lines its delivery writes.
  struct QueuedEvent {
    std::string name;
    Record* rec = nullptr;
    bool posted = false;   // posted by the actor of the input being applied
    int64_t instance = 0;  // the instance whose step emitted it, 0 for none
  };
  std::vector<QueuedEvent> event_queue;
  // While a rule fires on an event: that event (its name and origin), for the lines of the firing and for
  // the events its actions emit.
  const QueuedEvent* firing_on_event = nullptr;
  // While a rule fires: whether it matched stored records. What it emits then carries what they hold, so it
  // does not come from where the event came from (its poster and instance would read the records through it).
  bool firing_on_records = false;
  const QueuedEvent* delivering = nullptr;  // the event being delivered
  // Sets a pointer for a scope and puts the old value back however the scope is left (an exception
  // unwinds through it), so that no pointer to an event that is gone is left behind.
  struct Pointing {
    const QueuedEvent*& at;
    const QueuedEvent* saved;
    Pointing(const QueuedEvent*& p, const QueuedEvent* e) : at(p), saved(std::exchange(p, e)) {}
    Pointing(const Pointing&) = delete;
    Pointing& operator=(const Pointing&) = delete;
    ~Pointing() { at = saved; }
  };
  std::set<int64_t> dirty_instances, dirty_tasks, dirty_timers, dirty_records;
  std::vector<int64_t> erased_timers;
  int64_t persisted_clock = -1, persisted_next_id = -1;  // the meta values last written (-1: unknown)
  int64_t steps_this_input = 0;
  int64_t instances_this_input = 0;
  // The rules engine (runtime/rules): working memory holds every record; an event is a fact while the
  // input that delivers it settles. Refraction and logical support are mirrored in the store's meta.
  std::unique_ptr<rules::Network> net;
  std::set<int64_t> rules_dirty;          // records changed since the network last saw them
  int64_t firings_this_input = 0;         // runaway protection
  std::vector<std::string> firing_chain;  // the rules fired by this input, in order
  std::string firing_key;                 // the match whose actions run now (support of `derive`)
  int64_t event_facts = 0;                // events are facts -1, -2, …: record ids stay theirs

  void touch_record(int64_t id) {
    dirty_records.insert(id);
    rules_dirty.insert(id);
  }

  Impl(Engine& e, const bundle::Bundle& bundle, store::Store& s, EngineOptions o)
      : self(e), store(s), opts(std::move(o)) {
    current = add_version(&bundle, nullptr);
    cur = current;
    build_org();
  }

  // Keeps this version in the store, so instances started on it can finish on it after an upgrade. Done
  // once the stored state has been read with it (Engine::Engine): a version that cannot read the store is
  // refused without leaving its bundle there. (A reader beside the owner writes nothing: an input would
  // record it.)
  void keep_bundle() {
    if (!store.read_only() && !store.bundle(current->hash))
      store.put_bundle(current->hash, bundle::serialize(*current->b));
  }

  Version* add_version(const bundle::Bundle* b, std::unique_ptr<bundle::Bundle> owned) {
    auto v = std::make_unique<Version>();
    v->hash = b->source_hash;
    v->owned = std::move(owned);
    v->b = b;
    interp::Host host;
    host.today = 0;
    host.all_of = [this](uint32_t layout, interp::Arena& a) { return all_of(layout, a); };
    v->ev = std::make_unique<interp::Evaluator>(b->module, host);
    if (opts.exec == ExecEngine::Jit) {
      if (auto code = codegen::native_for_bundle(b->module, b->object, b->host, &jit_error))
        v->ev->attach_native(std::move(code));
    }
    Resolver r;
    r.unit = [this](const std::string& n) { return units.count(n) ? units[n] : nullptr; };
    r.actor = [this](const std::string& n) { return actor(n); };
    r.record = [this](int64_t id) { return records.count(id) ? records[id] : nullptr; };
    r.fill_defaults = [this](Record* rec) { fill_defaults(rec); };
    r.engine_fields = [this](uint32_t layout) -> size_t {
      const auto& ev = P().event_layouts;
      if (std::find(ev.begin(), ev.end(), layout) != ev.end()) return 1;  // `at`
      const auto& rec = P().record_layouts;
      return std::find(rec.begin(), rec.end(), layout) != rec.end() ? 2 : 0;  // `id`, `state`
    };
    r.find = [this](uint32_t layout, const json& where) -> Record* {
      // The oldest live record of the type whose given fields all have the given values.
      for (auto& [id, rec] : records) {
        if (rec->type_id != layout) continue;
        bool all = true;
        for (auto it = where.begin(); it != where.end() && all; ++it) {
          const auto& fields = M().layouts[layout].fields;
          auto f = std::find(fields.begin(), fields.end(), it.key());
          if (f == fields.end()) return nullptr;
          size_t slot = static_cast<size_t>(f - fields.begin());
          all = CODEC()->to_json(rec->slots[slot], M().layouts[layout].types[slot]) == it.value();
        }
        if (all) return rec;
      }
      return nullptr;
    };
    v->codec = std::make_unique<ValueCodec>(b->module, arena, r);
    Version* raw = v.get();
    versions[v->hash] = std::move(v);
    return raw;
  }

  // The version with this hash: this engine's, or an older one kept in the store.
  Version* version(const std::string& hash) {
    auto it = versions.find(hash);
    if (it != versions.end()) return it->second.get();
    auto bytes = store.bundle(hash);
    if (!bytes) throw store::StoreError("the store has instances of version " + hash + " but not its bundle");
    auto loaded = bundle::deserialize(*bytes);
    if (auto* e = std::get_if<bundle::LoadError>(&loaded)) throw store::StoreError(e->message);
    auto owned = std::make_unique<bundle::Bundle>(std::move(std::get<bundle::Bundle>(loaded)));
    // Object code from the store is never mapped and run: a bundle row's checksum proves nothing against
    // whoever can write the store file (an edited .text ran as it was). Native code for an older version
    // is made here from its IR, as for a bundle without object code (the IR is data the engine checks).
    owned->object.clear();
    const bundle::Bundle* raw = owned.get();
    return add_version(raw, std::move(owned));
  }

  // The layout with the same name in the current version (records are kept in its layouts).
  uint32_t current_layout(uint32_t layout) const {
    if (cur == current || layout >= M().layouts.size()) return layout;
    const std::string& name = M().layouts[layout].name;
    const auto& ls = current->b->module.layouts;
    for (size_t i = 0; i < ls.size(); ++i)
      if (ls[i].name == name) return static_cast<uint32_t>(i);
    return layout;
  }

  // A record made by an older version's code, in the current version's layout (fields by name).
  Record* to_current(Record* r) {
    if (cur == current) return r;
    uint32_t cl = current_layout(r->type_id);
    const RecordLayout& from = M().layouts[r->type_id];
    const RecordLayout& to = current->b->module.layouts[cl];
    if (from.fields == to.fields) {
      r->type_id = cl;
      return r;
    }
    Record* c = arena.record(cl, static_cast<uint32_t>(to.fields.size()));
    c->id = r->id;
    for (size_t i = 0; i < to.fields.size(); ++i) {
      auto f = std::find(from.fields.begin(), from.fields.end(), to.fields[i]);
      if (f != from.fields.end()) c->slots[i] = r->slots[f - from.fields.begin()];
    }
    return c;
  }

  // Whether anyone reads the trace: a line is put together only then (its text costs more than the step).
  bool tracing() const { return static_cast<bool>(opts.trace); }
  void trace(const std::string& line) {
    if (opts.trace) opts.trace("[" + time_text(self.clock_) + "] " + line);
  }
  // What the trace lines written now are about (Engine::trace_subject): an instance while its steps run, a
  // timer of it fires, it starts, or a command acts on one of its tasks; an event while it is posted or
  // delivered; the records while a rule fires or changes them; … The server gives a line only to those who
  // may read its subject. Kept only while someone traces: without a trace callback the guards do nothing,
  // so an engine that nobody follows pays nothing for it.
  TraceSubject about;
  struct About {
    Impl& i;
    TraceSubject saved;
    bool on;
    About(Impl& impl, TraceSubject s) : i(impl), on(static_cast<bool>(impl.opts.trace)) {
      if (on) saved = std::exchange(i.about, std::move(s));
    }
    About(Impl& impl, int64_t instance) : About(impl, TraceSubject{AboutInstance{instance}}) {}
    About(const About&) = delete;
    About& operator=(const About&) = delete;
    ~About() {
      if (on) i.about = std::move(saved);
    }
  };
  // A record a rule or a transition inserted, modified or retracted: the line is about the record, read as
  // the change that made it is (the firing's cause, the commanding actor). Inside an instance's steps the
  // line stays the instance's.
  TraceSubject about_record(const Record* r) const {
    RecordRef ref{layout_name(r->type_id), r->id};
    if (auto* ch = std::get_if<AboutRecords>(&about))
      return AboutRecords{{std::move(ref)}, ch->cause, ch->by};
    if (auto* f = std::get_if<AboutFiring>(&about)) return AboutRecords{{std::move(ref)}, f->cause, ""};
    if (std::holds_alternative<AboutInstance>(about)) return about;
    return AboutRecords{{std::move(ref)}, std::nullopt, ""};
  }
  static std::string time_text(int64_t t) {
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    char buf[48];  // secs is within one day: two digits each, but the compiler cannot know that
    std::snprintf(buf, sizeof buf, " %02lld:%02lld", static_cast<long long>(secs / 3600),
                  static_cast<long long>((secs / 60) % 60));
    return syntax::format_date(days) + buf;
  }

  // ---------------------------------------------------------------- organization: units, people, roles

  void build_org() {
    for (const OrgIR& o : P().orgs) {
      for (const UnitIR& u : o.units) {
        Record* r = arena.record(1, 3);
        r->slots[0] = Value::of_string(arena.string(u.name));
        r->slots[1] = Value::of_string(arena.string(u.kind));
        units[u.name] = r;
      }
      for (const UnitIR& u : o.units)
        if (!u.parent.empty() && units.count(u.parent))
          units[u.name]->slots[2] = Value::of_record(units[u.parent]);
      for (const PositionIR& pos : o.positions)
        for (const std::string& h : pos.holders) grant_role(pos.role, h, pos.unit, 0);
    }
  }

  // A holder of a role also holds every role it extends.
  void grant_role(const std::string& role, const std::string& who, const std::string& unit, int depth) {
    if (depth > 32 || !holders[role].insert({who, unit}).second) return;
    for (const RoleIR& r : P().roles)
      if (r.name == role)
        for (const std::string& parent : r.extends) grant_role(parent, who, unit, depth + 1);
  }

  Record* actor(const std::string& id) {
    auto it = actors.find(id);
    if (it != actors.end()) return it->second;
    Record* r = arena.record(0, 4);
    r->id = static_cast<int64_t>(std::hash<std::string>{}(id)&0x3fffffffffffffff) | 1;
    r->slots[0] = Value::of_string(arena.string(id));
    r->slots[1] = Value::of_string(arena.string(id));
    std::vector<Value> us, rs;
    for (auto& [role, hs] : holders)
      for (auto& [who, unit] : hs)
        if (who == id) {
          rs.push_back(Value::of_string(arena.string(role)));
          if (!unit.empty() && units.count(unit)) us.push_back(Value::of_record(units[unit]));
        }
    List* ul = arena.list(static_cast<uint32_t>(us.size()));
    std::copy(us.begin(), us.end(), ul->items);
    List* rl = arena.list(static_cast<uint32_t>(rs.size()));
    std::copy(rs.begin(), rs.end(), rl->items);
    r->slots[2] = Value::of_list(ul);
    r->slots[3] = Value::of_list(rl);
    actors[id] = r;
    return r;
  }

  // Does `who` hold `role` (for a unit-scoped task: in that unit or one above it)?
  bool holds(const std::string& who, const std::string& role, const std::string& unit) const {
    auto it = holders.find(role);
    if (it == holders.end()) return false;
    for (auto& [h, u] : it->second) {
      if (h != who) continue;
      if (unit.empty() || u.empty()) return true;
      // A position in a unit covers the units below it.
      for (std::string cur = unit; !cur.empty();) {
        if (cur == u) return true;
        auto un = units.find(cur);
        if (un == units.end() || un->second->slots[2].is_none()) break;
        cur = std::string(un->second->slots[2].u.r->slots[0].u.s->view());
      }
    }
    return false;
  }

  size_t holder_count(const std::string& role, const std::string& unit) const {
    std::set<std::string> people;
    auto it = holders.find(role);
    if (it != holders.end())
      for (auto& [h, u] : it->second)
        if (holds(h, role, unit)) people.insert(h);
    return people.size();
  }

  // ---------------------------------------------------------------- values

  // Every instance of a type. Records and events are kept in the current version's layouts; the code
  // asking may be an older version's, so its layout is matched by name.
  const List* all_of(uint32_t layout, interp::Arena& a) {
    uint32_t want = current_layout(layout);
    std::string name = layout < M().layouts.size() ? M().layouts[layout].name : "";
    std::vector<Value> out;
    for (auto& [id, r] : records)
      if (r->type_id == want) out.push_back(Value::of_record(r));
    const auto& event_layouts = current->b->program.event_layouts;
    if (std::find(event_layouts.begin(), event_layouts.end(), want) != event_layouts.end()) load_events();
    for (auto& [l, r] : events_seen)
      if (l == want) out.push_back(Value::of_record(r));
    for (auto& [id, inst] : instances)
      if (inst.v->b->program.processes[inst.process].name == name)
        out.push_back(Value::of_record(instance_record(inst, a)));
    List* list = a.list(static_cast<uint32_t>(out.size()));
    std::copy(out.begin(), out.end(), list->items);
    return list;
  }

  // A process instance seen as a record: its parameters, duration, start, end and status.
  Record* instance_record(const Instance& inst, interp::Arena& a) {
    Use use(*this, inst.v);
    const ProcessIR& pr = P().processes[inst.process];
    const RecordLayout& l = M().layouts[pr.instance_layout];
    Record* r = a.record(pr.instance_layout, static_cast<uint32_t>(l.fields.size()));
    r->id = inst.id;
    size_t np = pr.param_slots.size();
    for (size_t i = 0; i < np; ++i)
      if (pr.param_slots[i] != kNone) r->slots[i] = frame_of(inst)->slots[pr.param_slots[i]];
    int64_t end = inst.ended_at ? inst.ended_at : self.clock_;
    r->slots[np] = Value::of_duration(end - inst.started_at);
    r->slots[np + 1] = Value::of_date(inst.started_at / 86400);
    if (inst.ended_at) r->slots[np + 2] = Value::of_date(inst.ended_at / 86400);
    r->slots[np + 3] = Value::of_string(a.string(inst.status.str()));
    return r;
  }

  // Copies a value out of the evaluator's scratch arena into the engine's, so it can be kept.
  Value keep(const Value& v) {
    switch (v.tag) {
      case kTagString:
        return Value::of_string(arena.string(v.u.s->view()));
      case kTagList: {
        List* l = arena.list(v.u.l->len);
        for (uint32_t i = 0; i < v.u.l->len; ++i) l->items[i] = keep(v.u.l->items[i]);
        return Value::of_list(l);
      }
      case kTagRecord: {
        const Record* r = v.u.r;
        if (r->id != 0 || r->type_id <= 2) return v;  // live records, units and people are shared
        Record* c = arena.record(r->type_id, r->nslots);
        for (uint32_t i = 0; i < r->nslots; ++i) c->slots[i] = keep(r->slots[i]);
        return Value::of_record(c);
      }
      default:
        return v;
    }
  }

  Value eval(uint32_t fn, const std::vector<Value>& args) {
    if (fn == kNone) return Value::none();
    EV()->set_today(day_of(self.clock_));
    auto o = EV()->call(fn, args);
    if (!o.ok()) {
      const auto& e = *o.error;
      std::string where = e.span.line ? " at " + file_of(e.span) + ":" + std::to_string(e.span.line) + ":" +
                                            std::to_string(e.span.col)
                                      : "";
      throw Fail{e.message + where};
    }
    return keep(o.value);
  }
  void ev_today() { EV()->set_today(day_of(self.clock_)); }
  static int64_t day_of(int64_t t) { return t >= 0 ? t / 86400 : (t - 86399) / 86400; }
  std::string file_of(const source::Span& s) const {
    return s.file < B().files.size() ? B().files[s.file] : "<source>";
  }
  Value eval_frame(const Instance& inst, uint32_t fn) { return eval(fn, {Value::of_record(frame_of(inst))}); }
  std::string text(const Value& v) { return interp::to_string(v, &M()); }

  // ---------------------------------------------------------------- instances

  // `starter`: who may read the instance for having started it ("" for none but `system`; see may_read).
  int64_t start_instance(uint32_t process, const std::vector<Value>& args, int64_t parent,
                         int64_t parent_token, const std::string& starter) {
    const ProcessIR& pr = P().processes[process];
    if (++instances_this_input > opts.max_instances_per_input)
      throw Runaway{"more than " + std::to_string(opts.max_instances_per_input) +
                    " process instances started by one input (the last a " + pr.name +
                    (parent ? " run by #" + std::to_string(parent) : std::string()) +
                    "); nothing of the input was applied. A process that starts or runs itself must wait "
                    "before it does, or raise max_instances_per_input"};
    Instance inst;
    inst.id = next_id++;
    inst.v = cur;  // sub-processes stay on their parent's version; new work uses the current one
    inst.process = process;
    inst.parent = parent;
    inst.parent_token = parent_token;
    inst.started_at = self.clock_;
    const RecordLayout& fl = M().layouts[pr.frame_layout];
    inst.frame = arena.record(pr.frame_layout, static_cast<uint32_t>(fl.fields.size()));
    for (size_t i = 0; i < pr.param_slots.size() && i < args.size(); ++i)
      if (pr.param_slots[i] != kNone) inst.frame->slots[pr.param_slots[i]] = keep(args[i]);
    Token t;
    t.id = next_id++;
    t.step = pr.start;
    inst.tokens.push_back(t);
    if (starter != "system") inst.started_by = starter;
    int64_t id = inst.id;
    instances[id] = std::move(inst);
    live.insert(id);
    dirty_instances.insert(id);
    Instance& ref = instances[id];
    if (pr.timeout != kNone) {
      try {
        Value d = eval_frame(ref, pr.timeout);
        ref.deadline_timer =
            add_timer(due_after(d.u.i, "the process deadline"), id, 0, 0, "process_deadline");
      } catch (const Fail& f) {
        trace("deadline of " + pr.name + " #" + std::to_string(id) + " not set: " + f.reason);
      }
    }
    dirty_instances.insert(id);
    About about_it(*this, id);
    if (tracing()) trace("start " + pr.name + " #" + std::to_string(id));
    return id;
  }

  // The clock plus a duration, checked: past kMaxClock (or past int64) is a process failure that says so.
  int64_t due_after(int64_t secs, const std::string& what) {
    int64_t due = 0;
    if (__builtin_add_overflow(self.clock_, secs, &due) || due > kMaxClock)
      throw Fail{what + " falls after 9999-12-31, the end of the engine's calendar"};
    return due;
  }
  // The first second of a day (`wait until DATE`), checked the same way.
  static int64_t day_start(int64_t day) {
    int64_t t = 0;
    if (__builtin_mul_overflow(day, int64_t{86400}, &t) || t > kMaxClock)
      throw Fail{"`wait until` a date after 9999-12-31, the end of the engine's calendar"};
    return t;
  }

  int64_t add_timer(int64_t due, int64_t inst, int64_t token, int64_t task, const std::string& kind) {
    Timer t{next_id++, due, inst, token, task, kind};
    timers[t.id] = t;
    dirty_timers.insert(t.id);
    return t.id;
  }
  void cancel_timer(int64_t id) {
    if (id && timers.erase(id)) {
      dirty_timers.erase(id);
      erased_timers.push_back(id);
    }
  }

  Token* token(Instance& inst, int64_t id) {
    for (Token& t : inst.tokens)
      if (t.id == id) return &t;
    return nullptr;
  }

  // Runs every instance until all of them wait (or end); events emitted on the way are delivered
  // after each pass, so an emitted event can resume other instances and fire rules.
  void run_all() {
    // Only an instance changed by this input can have a ready token (every instance waits when an input
    // ends, and every change marks its instance dirty), so a round walks the dirty set in id order, as a
    // walk over all instances would: one woken behind the cursor runs in the next round, one ahead in this.
    for (int round = 0; round < 10000; ++round) {
      bool progressed = false;
      int64_t next_cursor = 0;
      for (auto next = dirty_instances.begin(); next != dirty_instances.end();
           next = dirty_instances.upper_bound(next_cursor)) {
        next_cursor = *next;
        int64_t id = next_cursor;
        auto found = instances.find(id);
        if (found == instances.end()) continue;
        Instance& inst = found->second;
        if (inst.status != "running") continue;
        Use use(*this, inst.v);
        About about_it(*this, id);
        while (true) {
          Token* ready = nullptr;
          for (Token& t : inst.tokens)
            if (t.wait.empty() && (!ready || t.id < ready->id)) ready = &t;
          if (!ready) break;
          progressed = true;
          if (++steps_this_input > opts.max_steps_per_input)
            throw Runaway{
                "more than " + std::to_string(opts.max_steps_per_input) +
                " process steps for one input without waiting (the last in " +
                P().processes[inst.process].name + " #" + std::to_string(id) +
                "); nothing of the input was applied. A loop must wait (a task, `wait for`, `wait 1d`) "
                "or end, or raise max_steps_per_input"};
          try {
            step(inst, *ready);
          } catch (const Fail& f) {
            fail(inst, f.reason);
          }
          dirty_instances.insert(id);
          if (inst.status != "running") break;
        }
      }
      if (!event_queue.empty()) {
        auto q = std::move(event_queue);
        event_queue.clear();
        for (const QueuedEvent& e : q) deliver(e);
        progressed = true;
      }
      if (!progressed) return;
    }
  }

  // The one way a waiting token goes on when the step it waits at is done — a task completed, an approval
  // granted, an event or signal received, a wait's time come, a connector's result or a sub-process's end:
  // the wait is cleared, the step's `compensate` block (if any) is recorded, since the step is now done and
  // a later failure must undo it, and the token moves to the step's successor. (A deadline that passes is
  // not this: the step was not done, so its compensation is not recorded; see on_timer.)
  void resume(Instance& inst, Token& t, const Step& st) {
    t.wait.clear();
    t.wait_ref = 0;
    if (st.compensation != kNone) inst.compensations.push_back(st.compensation);
    t.step = st.next.empty() ? kNone : st.next[0];
    dirty_instances.insert(inst.id);
  }

  void remove_token(Instance& inst, int64_t id) {
    inst.tokens.erase(
        std::remove_if(inst.tokens.begin(), inst.tokens.end(), [&](const Token& t) { return t.id == id; }),
        inst.tokens.end());
  }

  // Cancels every token of a parallel block (and of blocks nested in it), closing their tasks.
  void cancel_fork(Instance& inst, int64_t fork_id) {
    std::vector<int64_t> nested;
    for (auto& [fid, f] : inst.forks)
      if (f.parent == fork_id) nested.push_back(fid);
    for (int64_t n : nested) cancel_fork(inst, n);
    for (const Token& t : std::vector<Token>(inst.tokens))
      if (t.fork == fork_id) cancel_token(inst, t.id);
    inst.forks.erase(fork_id);
  }

  void cancel_token(Instance& inst, int64_t token_id) {
    Token* t = token(inst, token_id);
    if (!t) return;
    if (t->wait == "task" && tasks.count(t->wait_ref)) {
      Task& tk = tasks[t->wait_ref];
      tk.status = "cancelled";
      cancel_timer(tk.timer);
      dirty_tasks.insert(tk.id);
    }
    if (t->wait == "timer") cancel_timer(t->wait_ref);
    remove_token(inst, token_id);
  }

  void finish(Instance& inst, const std::string& status) {
    Use use(*this, inst.v);
    inst.status = status;
    inst.ended_at = self.clock_;
    live.erase(inst.id);
    for (const Token& t : std::vector<Token>(inst.tokens)) cancel_token(inst, t.id);
    cancel_timer(inst.deadline_timer);
    if (tracing())
      trace(std::string(status == "completed" ? "completed " : "failed ") + P().processes[inst.process].name +
            " #" + std::to_string(inst.id) + (inst.error.empty() ? "" : ": " + inst.error));
    // A waiting parent resumes (or fails with its child).
    if (inst.parent && instances.count(inst.parent)) {
      Instance& parent = instances[inst.parent];
      Record* child = instance_record(inst, arena);
      std::string child_name = P().processes[inst.process].name;
      Use parent_version(*this, parent.v);
      Token* pt = token(parent, inst.parent_token);
      if (pt && pt->wait == "child") {
        if (status == "completed") {
          const Step& st = P().processes[parent.process].steps[pt->step];
          if (st.bind_slot != kNone) frame_of(parent)->slots[st.bind_slot] = Value::of_record(child);
          resume(parent, *pt, st);
        } else {
          fail(parent, "sub-process " + child_name + " failed: " + inst.error);
        }
        dirty_instances.insert(parent.id);
      }
    }
  }

  // Failure: run the compensations of completed steps (latest first), then `on failure`, then stop.
  void fail(Instance& inst, const std::string& reason) {
    if (inst.status != "running") return;
    dirty_instances.insert(inst.id);  // its handlers are ready tokens: run_all must look at it
    Use use(*this, inst.v);
    if (inst.phase != "normal") {  // a failure while compensating or handling: give up
      inst.error = inst.error.empty() ? reason : inst.error + "; then " + reason;
      finish(inst, "failed");
      return;
    }
    inst.error = reason;
    // `on failure` sees the reason as `error`.
    uint32_t es = P().processes[inst.process].error_slot;
    if (es != kNone && es < frame_of(inst)->nslots)
      frame_of(inst)->slots[es] = Value::of_string(arena.string(reason));
    trace("failure in " + P().processes[inst.process].name + " #" + std::to_string(inst.id) + ": " + reason);
    for (const Token& t : std::vector<Token>(inst.tokens)) cancel_token(inst, t.id);
    inst.forks.clear();
    inst.phase = "compensating";
    next_handler(inst);
  }

  void next_handler(Instance& inst) {
    Use use(*this, inst.v);
    const ProcessIR& pr = P().processes[inst.process];
    if (inst.phase == "compensating" && !inst.compensations.empty()) {
      uint32_t start = inst.compensations.back();
      inst.compensations.pop_back();
      inst.tokens.push_back(Token{next_id++, start, 0, "", 0, "", {}});
      return;
    }
    if (inst.phase == "compensating") {
      inst.phase = "failure";
      if (pr.on_failure != kNone) {
        inst.tokens.push_back(Token{next_id++, pr.on_failure, 0, "", 0, "", {}});
        return;
      }
    }
    finish(inst, "failed");
  }

  // ---------------------------------------------------------------- steps

  void step(Instance& inst, Token& t) {
    const ProcessIR& pr = P().processes[inst.process];
    if (t.step == kNone || t.step >= pr.steps.size()) throw Fail{"internal: no such step"};
    const Step& st = pr.steps[t.step];
    auto next = [&](size_t i = 0) {
      uint32_t n = i < st.next.size() ? st.next[i] : kNone;
      if (st.compensation != kNone) inst.compensations.push_back(st.compensation);
      t.step = n;
    };
    switch (st.kind) {
      case StepKind::End: {
        remove_token(inst, t.id);
        if (inst.phase == "compensating" || inst.phase == "failure") {
          if (inst.tokens.empty()) {
            if (inst.phase == "compensating")
              next_handler(inst);
            else
              finish(inst, "failed");
          }
          return;
        }
        if (inst.phase == "timeout") {
          if (inst.tokens.empty()) fail(inst, "the process deadline passed");
          return;
        }
        if (inst.tokens.empty()) finish(inst, "completed");
        return;
      }
      case StepKind::Complete:
        finish(inst, "completed");
        return;
      case StepKind::Fail: {
        std::string why = st.value != kNone ? std::string(eval_frame(inst, st.value).u.s->view()) : "failed";
        throw Fail{why};
      }
      case StepKind::Let:
        frame_of(inst)->slots[st.bind_slot] = eval_frame(inst, st.value);
        next();
        return;
      case StepKind::Set: {
        Value v = eval_frame(inst, st.value);
        if (st.set_target == kNone) {
          if (st.set_slot != kNone) frame_of(inst)->slots[st.set_slot] = v;
        } else {
          Value target = eval_frame(inst, st.set_target);
          if (target.is_none()) throw Fail{"`set` on a none record"};
          Record* r = target.u.r;
          if (st.set_slot < r->nslots) r->slots[st.set_slot] = v;
          if (r->id) touch_record(r->id);
          trace("set " + layout_name(r->type_id) + field_name(r->type_id, st.set_slot) + " = " + text(v));
        }
        next();
        return;
      }
      case StepKind::Branch:
        next(eval_frame(inst, st.value).u.i ? 0 : 1);
        return;
      case StepKind::Switch: {
        Value subject = eval_frame(inst, st.value);
        size_t target = st.next.size() - 1;
        Node eq;
        eq.op = Op::Eq;
        for (size_t i = 0; i < st.cases.size(); ++i) {
          Value c = eval_frame(inst, st.cases[i]);
          if (same(subject, c)) {
            target = st.case_target[i];
            break;
          }
        }
        next(target);
        return;
      }
      case StepKind::Fork: {
        Fork f;
        f.id = next_id++;
        f.parent = t.fork;
        f.join = st.join;
        const Step& join = pr.steps[st.join];
        f.needed = join.join_count == 0
                       ? static_cast<uint32_t>(st.next.size())
                       : std::min<uint32_t>(join.join_count, static_cast<uint32_t>(st.next.size()));
        inst.forks[f.id] = f;
        int64_t old = t.id;
        std::vector<Token> branches;
        for (uint32_t start : st.next) branches.push_back(Token{next_id++, start, f.id, "", 0, "", {}});
        remove_token(inst, old);
        for (auto& b2 : branches) inst.tokens.push_back(b2);
        if (f.needed == 0) {  // no branches: continue at once
          inst.tokens.push_back(
              Token{next_id++, join.next.empty() ? kNone : join.next[0], f.parent, "", 0, "", {}});
          inst.forks.erase(f.id);
        }
        return;
      }
      case StepKind::Join: {
        auto fit = inst.forks.find(t.fork);
        if (fit == inst.forks.end()) {
          t.step = st.next.empty() ? kNone : st.next[0];
          return;
        }
        Fork& f = fit->second;
        ++f.arrived;
        int64_t fork_id = f.id, parent = f.parent;
        bool done = f.arrived >= f.needed;
        remove_token(inst, t.id);
        if (done) {
          cancel_fork(inst, fork_id);  // the branches still running are no longer needed
          inst.tokens.push_back(
              Token{next_id++, st.next.empty() ? kNone : st.next[0], parent, "", 0, "", {}});
        }
        return;
      }
      case StepKind::ForEach: {
        Value list = eval_frame(inst, st.value);
        if (list.is_none()) throw Fail{"`for each` over none"};
        int64_t bound = st.max_items > 0 ? st.max_items : opts.for_each_bound;
        if (static_cast<int64_t>(list.u.l->len) > bound)
          throw Fail{"`for each` over " + std::to_string(list.u.l->len) + " items exceeds its bound of " +
                     std::to_string(bound)};
        int64_t& i = t.loops[t.step];
        if (i < static_cast<int64_t>(list.u.l->len)) {
          if (st.bind_slot != kNone) frame_of(inst)->slots[st.bind_slot] = keep(list.u.l->items[i]);
          ++i;
          t.step = st.next[0];
        } else {
          t.loops.erase(t.step);
          next(1);
        }
        return;
      }
      case StepKind::Emit:
      case StepKind::Create:
      case StepKind::Insert:
      case StepKind::Derive: {
        const RecordLayout& l = M().layouts[st.layout];
        Record* r = arena.record(st.layout, static_cast<uint32_t>(l.fields.size()));
        for (const FieldValue& fv : st.fields)
          if (fv.slot < r->nslots) r->slots[fv.slot] = eval_frame(inst, fv.function);
        if (st.kind == StepKind::Emit) {
          fill_defaults(r);
          r = to_current(r);  // an older version's event goes to the current rules
          if (r->nslots > 0) r->slots[r->nslots - 1] = Value::of_date(self.clock_ / 86400);  // `at`
          if (opts.trace)  // rendering the payload is the costliest part of a step: only when someone reads
                           // it
            trace("emit " + st.name + " " +
                  CODEC()->to_json(Value::of_record(r), IType::of(Kind::Rec)).dump());
          event_queue.push_back({st.name, r, false, inst.id});
        } else {
          r = create_record(r);
          if (tracing()) trace("create " + st.name + " #" + std::to_string(r->id));
        }
        if (st.bind_slot != kNone) frame_of(inst)->slots[st.bind_slot] = Value::of_record(r);
        next();
        return;
      }
      case StepKind::Update:
      case StepKind::Modify: {
        Value target = eval_frame(inst, st.value);
        if (target.is_none()) throw Fail{"`update` of a none record"};
        Record* r = target.u.r;
        std::vector<std::pair<uint32_t, Value>> values;
        for (const FieldValue& fv : st.fields) values.emplace_back(fv.slot, eval_frame(inst, fv.function));
        update_record(r, values);
        if (tracing()) trace("update " + layout_name(r->type_id) + " #" + std::to_string(r->id));
        next();
        return;
      }
      case StepKind::Notify: {
        Value who = eval_frame(inst, st.scope);
        Value msg = eval_frame(inst, st.value);
        trace("notify " + recipient(who) + ": " + std::string(msg.is_none() ? "" : msg.u.s->view()));
        next();
        return;
      }
      case StepKind::Start:
      case StepKind::Run: {
        uint32_t proc = process_index(st.name);
        std::vector<Value> args;
        for (uint32_t a : st.args) args.push_back(a == kNone ? Value::none() : eval_frame(inst, a));
        // A process started or run by a process is its starter's too, whoever's input moved it here: its
        // arguments come from the instance, not from that input.
        const std::string starter = inst.started_by;
        if (st.kind == StepKind::Start) {
          start_instance(proc, args, 0, 0, starter);
          next();
        } else {
          t.wait = "child";
          t.wait_ref = start_instance(proc, args, inst.id, t.id, starter);
        }
        return;
      }
      case StepKind::Call: {
        // Connector effects leave through the outbox with an idempotency key; the result comes back as
        // an input. In simulation the built-in connector answers at once (see deliver_connector_results).
        int64_t id = next_id++;
        json args = json::array();
        for (uint32_t a : st.args)
          args.push_back(a == kNone ? json(nullptr) : CODEC()->to_json(eval_frame(inst, a), IType{}));
        std::string key =
            "i" + std::to_string(inst.id) + "-s" + std::to_string(t.step) + "-t" + std::to_string(t.id);
        json doc = {{"connector", st.name}, {"args", args}, {"instance", inst.id}, {"token", t.id}};
        store.put_outbox(id, key, doc.dump(), false);
        trace("call " + st.name + " " + args.dump() + " [outbox " + std::to_string(id) + "]");
        t.wait = "call";
        t.wait_ref = id;
        pending_calls.push_back(id);
        return;
      }
      case StepKind::Task:
      case StepKind::Approval: {
        Task tk;
        tk.id = next_id++;
        tk.instance = inst.id;
        tk.token = t.id;
        tk.step = t.step;
        tk.name = st.name;
        tk.role = st.role;
        tk.approval = st.kind == StepKind::Approval;
        tk.outcomes = st.outcomes;
        if (st.scope != kNone) tk.unit = unit_name(eval_frame(inst, st.scope));
        if (st.within != kNone) {
          tk.due = due_after(eval_frame(inst, st.within).u.i, "the task's deadline");
          tk.timer = add_timer(tk.due, inst.id, t.id, tk.id, "task_deadline");
        }
        tasks[tk.id] = tk;
        tasks_by_instance[inst.id].push_back(tk.id);
        dirty_tasks.insert(tk.id);
        t.wait = "task";
        t.wait_ref = tk.id;
        if (tracing())
          trace(std::string(tk.approval ? "approval " : "task ") + tk.name + " #" + std::to_string(tk.id) +
                " for " + tk.role + (tk.unit.empty() ? "" : " of " + tk.unit) +
                (tk.due ? " due " + time_text(tk.due) : ""));
        return;
      }
      case StepKind::WaitEvent:
        t.wait = "event";
        t.wait_event = st.name;
        waiting_on[st.name].insert(inst.id);
        if (st.within != kNone)
          t.wait_ref = add_timer(due_after(eval_frame(inst, st.within).u.i, "the wait's deadline"), inst.id,
                                 t.id, 0, "event_deadline");
        return;
      case StepKind::WaitTimer:
      case StepKind::WaitUntil: {
        Value v = eval_frame(inst, st.value);
        int64_t due = st.kind == StepKind::WaitTimer ? due_after(v.u.i, "the wait") : day_start(v.u.i);
        t.wait = "timer";
        t.wait_ref = add_timer(std::max(due, self.clock_), inst.id, t.id, 0, "wait");
        return;
      }
      case StepKind::Retract:
        retract(eval_frame(inst, st.value));
        next();
        return;
      case StepKind::Signal:
        signal(st, {Value::of_record(frame_of(inst))});
        next();
        return;
    }
  }

  std::vector<int64_t> pending_calls;

  // Fields with a declared default that were left out get it (defaults are constant expressions).
  void fill_defaults(Record* r) {
    if (r->type_id >= M().layouts.size()) return;
    const auto& defs = M().layouts[r->type_id].defaults;
    for (size_t i = 0; i < defs.size() && i < r->nslots; ++i)
      if (defs[i] != kNone && r->slots[i].is_none()) {
        auto o = EV()->call(defs[i], {});
        if (o.ok()) r->slots[i] = keep(o.value);
      }
  }

  // ---------------------------------------------------------------- record effects (steps and rules alike)

  // A new record, as `create`, `insert` and `derive` make it, whether a process step or a rule's action does:
  // defaults filled, moved to the current version, its checks passed before it exists (a record that breaks
  // one is never stored: Fail), put in its lifecycle's initial state, then given its id. The caller traces.
  Record* create_record(Record* r) {
    fill_defaults(r);
    r = to_current(r);  // an older version's record joins the current ones
    check_invariants(r);
    enter_initial_state(r);
    r->id = next_id++;
    records[r->id] = r;
    touch_record(r->id);
    return r;
  }

  // An `update` or `modify`: every new value is computed before any is written; if the record then breaks a
  // check, its old values go back and Fail is thrown, so nothing is changed in memory (nor, then, in the
  // store). Values are (slot, value) pairs. The caller traces.
  void update_record(Record* r, const std::vector<std::pair<uint32_t, Value>>& values) {
    std::vector<std::pair<uint32_t, Value>> before;
    for (const auto& [slot, v] : values)
      if (slot < r->nslots) {
        before.emplace_back(slot, r->slots[slot]);
        r->slots[slot] = v;
      }
    try {
      check_invariants(r);
    } catch (const Fail&) {
      for (auto it = before.rbegin(); it != before.rend(); ++it) r->slots[it->first] = it->second;
      throw;
    }
    if (r->id) touch_record(r->id);
  }

  static bool same(const Value& x, const Value& y) {
    if (x.tag == kTagString && y.tag == kTagString) return x.u.s->view() == y.u.s->view();
    if (x.tag != y.tag) return false;
    if (x.tag == kTagMoney || x.tag == kTagDec) return x.u.d == y.u.d && x.aux == y.aux;
    return x.u.i == y.u.i;
  }

  std::string recipient(const Value& v) {
    if (v.tag == kTagString) return std::string(v.u.s->view());
    if (v.tag == kTagRecord && v.u.r->nslots > 0 && v.u.r->slots[0].tag == kTagString)
      return std::string(v.u.r->slots[0].u.s->view());
    return text(v);
  }
  std::string unit_name(const Value& v) {
    if (v.tag == kTagRecord && v.u.r->type_id == 1) return std::string(v.u.r->slots[0].u.s->view());
    if (v.tag == kTagString) return std::string(v.u.s->view());
    return "";
  }
  std::string layout_name(uint32_t l) const {
    return l < M().layouts.size() ? M().layouts[l].name : "record";
  }
  std::string field_name(uint32_t l, uint32_t slot) const {
    return l < M().layouts.size() && slot < M().layouts[l].fields.size() ? "." + M().layouts[l].fields[slot]
                                                                         : "";
  }
  uint32_t process_index(const std::string& name) const {
    for (size_t i = 0; i < P().processes.size(); ++i)
      if (P().processes[i].name == name) return static_cast<uint32_t>(i);
    throw Fail{"no process " + name};
  }

  void check_invariants(Record* r) {
    for (size_t i = 0; i < P().record_layouts.size(); ++i) {
      if (P().record_layouts[i] != r->type_id) continue;
      for (uint32_t fn : P().record_checks[i]) {
        EV()->set_today(day_of(self.clock_));
        auto o = EV()->call(fn, {Value::of_record(r)});
        if (!o.ok()) throw Fail{o.error->message};
        if (!o.value.u.i) {
          const Function& cf = M().functions[fn];
          throw Fail{layout_name(r->type_id) + " breaks its check" +
                     (cf.message.empty() ? "" : " \"" + cf.message + "\"") + " at " + file_of(cf.span) + ":" +
                     std::to_string(cf.span.line)};
        }
      }
    }
  }

  // ---------------------------------------------------------------- events and rules

  // Who the lines about an event are for (AboutEvent): its poster when the input's actor posted it.
  AboutEvent about_event(const QueuedEvent& e) const {
    return AboutEvent{e.name, e.posted ? input_actor : "", e.instance};
  }

  void deliver(const QueuedEvent& queued) {
    const std::string& name = queued.name;
    Record* ev_rec = queued.rec;
    About about_it(*this, opts.trace ? TraceSubject{about_event(queued)} : TraceSubject{});
    Pointing now(delivering, &queued);
    if (events_loaded) events_seen.push_back({ev_rec->type_id, ev_rec});  // else the store has it for later
    // Events are facts too: metrics count them and they survive a restart.
    store.put("event", next_id++, CODEC()->to_json(Value::of_record(ev_rec), IType::of(Kind::Rec)).dump(),
              store::RowWrite::Insert);
    // Waiting instances whose filter accepts the event resume, in id order.
    auto waiters = waiting_on.find(name);
    std::vector<int64_t> candidates;
    if (waiters != waiting_on.end()) {
      for (auto it = waiters->second.begin(); it != waiters->second.end();) {
        auto in = instances.find(*it);
        bool waits = in != instances.end() && in->second.status == "running" &&
                     std::any_of(in->second.tokens.begin(), in->second.tokens.end(),
                                 [&](const Token& t) { return t.wait == "event" && t.wait_event == name; });
        if (waits) candidates.push_back(*it);
        it = waits ? std::next(it) : waiters->second.erase(it);
      }
    }
    for (int64_t id : candidates) {
      Instance& inst = instances[id];
      if (inst.status != "running") continue;
      Use use(*this, inst.v);
      About about_inst(*this, id);  // its resumption or failure is the instance's
      for (Token& t : inst.tokens) {
        if (t.wait != "event" || t.wait_event != name) continue;
        const Step& st = P().processes[inst.process].steps[t.step];
        // `as r` names the event while `where` is tested, and stays bound only to an event that matched: a
        // rejected one must not be what `r` reads later (after a timeout, say), nor differ after a restart,
        // when frames are read back from the store.
        Value unbound = st.bind_slot != kNone ? frame_of(inst)->slots[st.bind_slot] : Value::none();
        if (st.bind_slot != kNone) frame_of(inst)->slots[st.bind_slot] = Value::of_record(ev_rec);
        bool match = true;
        if (st.where != kNone) {
          try {
            match = eval_frame(inst, st.where).u.i != 0;
          } catch (const Fail& f) {
            fail(inst, f.reason);
            break;
          }
        }
        if (!match) {
          if (st.bind_slot != kNone) frame_of(inst)->slots[st.bind_slot] = unbound;
          continue;
        }
        cancel_timer(t.wait_ref);
        resume(inst, t, st);
        trace("resume " + P().processes[inst.process].name + " #" + std::to_string(id) + " on " + name);
      }
    }
    // The event is a fact while its rules fire: rules join it with records, and it leaves working memory
    // once the agenda is empty (an event happens once; it does not match records created later).
    if (net) {
      Use use(*this, current);
      int64_t fid = -++event_facts;
      net->insert(ev_rec, fid);
      fire_rules();
      net->retract(fid);
      sync_rules();
    }
  }

  // The actions of a rule: straight-line steps over the matched facts.
  void run_actions(const ProcessIR& a, const std::vector<Value>& facts) {
    uint32_t s = a.start;
    for (int guard = 0; s != kNone && s < a.steps.size() && guard < 10000; ++guard) {
      const Step& st = a.steps[s];
      uint32_t next = st.next.empty() ? kNone : st.next[0];
      switch (st.kind) {
        case StepKind::Start: {
          std::vector<Value> args;
          for (uint32_t x : st.args) args.push_back(x == kNone ? Value::none() : eval(x, facts));
          // Started by a rule on the input's event alone, it is the poster's; on stored records too, it is
          // fed from what the poster may not read, so it is nobody's (only `system` and its participants).
          start_instance(process_index(st.name), args, 0, 0, firing_on_records ? std::string() : input_actor);
          break;
        }
        case StepKind::Emit:
        case StepKind::Create:
        case StepKind::Insert:
        case StepKind::Derive: {
          const RecordLayout& l = M().layouts[st.layout];
          Record* r = arena.record(st.layout, static_cast<uint32_t>(l.fields.size()));
          for (const FieldValue& fv : st.fields)
            if (fv.slot < r->nslots) r->slots[fv.slot] = eval(fv.function, facts);
          if (st.kind == StepKind::Emit) {
            trace("emit " + st.name);
            // Emitted by a rule that fired on an event: it comes from where that event came from.
            if (firing_on_event && !firing_on_records)
              event_queue.push_back({st.name, r, firing_on_event->posted, firing_on_event->instance});
            else
              event_queue.push_back({st.name, r});
          } else {
            r = create_record(r);  // defaults, checks and the initial state, as a process's `create`
            About about_it(*this, opts.trace ? about_record(r) : TraceSubject{});
            trace("create " + st.name + " #" + std::to_string(r->id));
            // A derived record holds while the match that derived it holds.
            if (st.kind == StepKind::Derive && net && !firing_key.empty()) {
              net->support(firing_key, r->id);
              store.put_meta("support:" + std::to_string(r->id), firing_key);
            }
          }
          break;
        }
        case StepKind::Notify: {
          Value who = eval(st.scope, facts), msg = eval(st.value, facts);  // each evaluated once
          if (tracing())
            trace("notify " + recipient(who) + ": " +
                  std::string(msg.tag == kTagString && msg.u.s ? msg.u.s->view() : ""));
          break;
        }
        case StepKind::Branch:
          next = eval(st.value, facts).u.i ? st.next[0] : st.next[1];
          break;
        case StepKind::Update:
        case StepKind::Modify: {
          Value target = eval(st.value, facts);
          if (target.tag != kTagRecord) break;
          Record* r = target.u.r;
          std::vector<std::pair<uint32_t, Value>> values;
          for (const FieldValue& fv : st.fields) values.emplace_back(fv.slot, eval(fv.function, facts));
          update_record(r, values);  // a change that breaks a check changes nothing (the rule fails)
          About about_it(*this, opts.trace ? about_record(r) : TraceSubject{});
          trace("update " + layout_name(r->type_id) + " #" + std::to_string(r->id));
          break;
        }
        case StepKind::Retract:
          retract(eval(st.value, facts));
          break;
        case StepKind::Signal:
          signal(st, facts);
          break;
        default:
          break;
      }
      s = next;
    }
  }

  // A retracted record no longer exists: it leaves working memory and the store.
  void retract(const Value& v) {
    if (v.tag != kTagRecord || v.u.r->id == 0 || !records.count(v.u.r->id)) return;
    int64_t id = v.u.r->id;
    decode_all_frames();
    About about_it(*this, opts.trace ? about_record(v.u.r) : TraceSubject{});
    trace("retract " + layout_name(v.u.r->type_id) + " #" + std::to_string(id));
    records.erase(id);
    dirty_records.erase(id);
    rules_dirty.erase(id);
    if (net) net->retract(id);
    store.erase("record", id);
  }

  // `signal P where … with event {…}`: the event goes to the running instances of P that match and wait
  // for it — not to anyone else.
  void signal(const Step& st, const std::vector<Value>& args) {
    const RecordLayout& l = M().layouts[st.layout];
    Record* ev_rec = arena.record(st.layout, static_cast<uint32_t>(l.fields.size()));
    for (const FieldValue& fv : st.fields)
      if (fv.slot < ev_rec->nslots) ev_rec->slots[fv.slot] = eval(fv.function, args);
    fill_defaults(ev_rec);
    Version* from = cur;
    for (int64_t id : std::vector<int64_t>(live.begin(), live.end())) {
      Instance& inst = instances[id];
      if (inst.status != "running" || inst.v->b->program.processes[inst.process].name != st.name) continue;
      if (st.where != kNone) {
        Record* view = instance_record(inst, arena);
        Use back(*this, from);
        std::vector<Value> ps = {Value::of_record(view)};
        ps.insert(ps.end(), args.begin(), args.end());
        if (!eval(st.where, ps).u.i) continue;
      }
      Use use(*this, inst.v);
      for (Token& t : inst.tokens) {
        if (t.wait != "event" || t.wait_event != st.role) continue;
        const Step& w = P().processes[inst.process].steps[t.step];
        if (w.bind_slot != kNone) frame_of(inst)->slots[w.bind_slot] = Value::of_record(ev_rec);
        cancel_timer(t.wait_ref);
        resume(inst, t, w);
        About about_it(*this, id);
        trace("signal " + st.name + " #" + std::to_string(id) + " with " + st.role);
      }
    }
  }

  // ---------------------------------------------------------------- lifecycles

  const LifecycleIR* lifecycle_of(uint32_t layout) const {
    for (const LifecycleIR& l : P().lifecycles)
      if (!l.of_org && l.subject_layout == layout) return &l;
    return nullptr;
  }

  // The `state` slot every record layout ends with (after `id`).
  static uint32_t state_slot(const Record* r) { return r->nslots >= 1 ? r->nslots - 1 : 0; }

  void enter_initial_state(Record* r) {
    if (const LifecycleIR* l = lifecycle_of(r->type_id))
      if (r->slots[state_slot(r)].is_none())
        r->slots[state_slot(r)] = Value::of_string(arena.string(l->initial));
  }

  // Moves a record (or the org, when `record` is null) along a transition of its lifecycle.
  Outcome transition(Record* record, const std::string& org_name, const std::string& name) {
    const LifecycleIR* l = nullptr;
    std::string state;
    if (record) {
      l = lifecycle_of(record->type_id);
      if (!l) return Outcome{false, false, layout_name(record->type_id) + " has no lifecycle", 0};
      const Value& sv = record->slots[state_slot(record)];
      state = sv.tag == kTagString ? std::string(sv.u.s->view()) : l->initial;
    } else {
      for (const LifecycleIR& x : P().lifecycles)
        if (x.of_org) l = &x;
      if (!l) return Outcome{false, false, "the org has no lifecycle", 0};
      state = store.meta("org_state:" + org_name).value_or(l->initial);
    }
    const TransitionIR* t = nullptr;
    for (const TransitionIR& x : l->transitions)
      if (x.name == name) t = &x;
    if (!t) {
      std::string names;
      for (const TransitionIR& x : l->transitions) names += (names.empty() ? "" : ", ") + x.name;
      return Outcome{false, false,
                     "lifecycle " + l->name + " has no transition `" + name + "` (it has: " + names + ")", 0};
    }
    if (std::find(t->from.begin(), t->from.end(), state) == t->from.end())
      return Outcome{false, false, "`" + name + "` cannot be taken from state `" + state + "`", 0};
    Record* subject = record ? record : org_record(org_name, state);
    std::vector<Value> params = {Value::of_record(subject)};
    if (t->guard != kNone) {
      Value g;
      try {
        g = eval(t->guard, params);
      } catch (const Fail& f) {
        return Outcome{false, false, "the guard of `" + name + "` failed: " + f.reason, 0};
      }
      if (!g.u.i) return Outcome{false, false, "the guard of `" + name + "` does not hold", 0};
    }
    if (record) {
      record->slots[state_slot(record)] = Value::of_string(arena.string(t->to));
      if (record->id) touch_record(record->id);
    } else {
      store.put_meta("org_state:" + org_name, t->to);
    }
    trace("transition " +
          (record ? layout_name(record->type_id) + " #" + std::to_string(record->id) : org_name) + " " +
          name + ": " + state + " -> " + t->to);
    if (t->effects != kNone) run_actions(l->effects[t->effects], params);
    return Outcome{};
  }

  Record* org_record(const std::string& name, const std::string& state) {
    Record* r = arena.record(2, 3);
    r->slots[0] = Value::of_string(arena.string(name));
    r->slots[1] = Value::of_string(arena.string(state));
    for (const OrgIR& o : P().orgs)
      if (o.name == name) r->slots[2] = Value::of_string(arena.string(o.currency));
    return r;
  }

  // ---------------------------------------------------------------- timers

  void fire(const Timer& tm) {
    if (!instances.count(tm.instance)) return;
    Instance& inst = instances[tm.instance];
    Use use(*this, inst.v);
    About about_it(*this, tm.instance);
    dirty_instances.insert(inst.id);
    if (inst.status != "running") return;
    if (tm.kind == "process_deadline") {
      const ProcessIR& pr = P().processes[inst.process];
      trace("deadline of " + pr.name + " #" + std::to_string(inst.id) + " passed");
      for (const Token& t : std::vector<Token>(inst.tokens)) cancel_token(inst, t.id);
      inst.forks.clear();
      if (pr.on_timeout != kNone) {
        inst.phase = "timeout";
        inst.tokens.push_back(Token{next_id++, pr.on_timeout, 0, "", 0, "", {}});
      } else {
        fail(inst, "the process deadline passed");
      }
      return;
    }
    Token* t = token(inst, tm.token);
    if (!t) return;
    const Step& st = P().processes[inst.process].steps[t->step];
    if (tm.kind == "wait") {
      resume(inst, *t, st);
      return;
    }
    // A missed deadline: escalate if the step says so, else its `on timeout` block, else failure.
    if (tm.kind == "task_deadline" && tasks.count(tm.task)) {
      Task& tk = tasks[tm.task];
      if (!st.escalate_role.empty() && tk.role != st.escalate_role) {
        tk.role = st.escalate_role;
        tk.unit = st.escalate_scope != kNone ? unit_name(eval_frame(inst, st.escalate_scope)) : "";
        tk.timer = 0;
        dirty_tasks.insert(tk.id);
        trace("escalate " + tk.name + " #" + std::to_string(tk.id) + " to " + tk.role);
        return;
      }
      tk.status = "expired";
      dirty_tasks.insert(tk.id);
    }
    t->wait.clear();
    t->wait_ref = 0;
    if (st.on_timeout != kNone) {
      trace("timeout of " + st.name + " in " + P().processes[inst.process].name + " #" +
            std::to_string(inst.id));
      t->step = st.on_timeout;
    } else {
      fail(inst, "`" + st.name + "` was not done in time");
    }
  }

  // ---------------------------------------------------------------- persistence

  // The instance as a store row: scalars as columns, tokens and forks as small JSON arrays, the frame as
  // JSON (still the stored text when the frame was never decoded since the restart).
  store::InstanceRow instance_row(const Instance& inst) {
    Use use(*this, inst.v);
    store::InstanceRow r;
    r.id = inst.id;
    r.process = P().processes[inst.process].name;
    r.version = B().source_hash;
    r.status = inst.status;
    r.phase = inst.phase;
    r.error = inst.error;
    r.parent = inst.parent;
    r.parent_token = inst.parent_token;
    r.started_at = inst.started_at;
    r.ended_at = inst.ended_at;
    r.deadline_timer = inst.deadline_timer;
    r.started_by = inst.started_by;
    // [[id,step,fork,"wait",wait_ref,"wait_event"(,{"head":next,…})],…], as a json document would dump it
    // (object keys in string order), written directly: this runs for every changed instance at every step.
    r.tokens = "[";
    for (const Token& t : inst.tokens) {
      if (r.tokens.size() > 1) r.tokens += ',';
      r.tokens += '[';
      for (int64_t n : {t.id, int64_t{t.step}, t.fork}) json_text::integer(r.tokens, n), r.tokens += ',';
      json_text::string(r.tokens, t.wait.str());
      r.tokens += ',';
      json_text::integer(r.tokens, t.wait_ref);
      r.tokens += ',';
      json_text::string(r.tokens, t.wait_event.str());
      if (!t.loops.empty()) {
        std::map<std::string, int64_t> loops;  // keyed by text, as the document orders them
        for (auto& [st, i] : t.loops) loops[std::to_string(st)] = i;
        r.tokens += ",{";
        for (auto& [head, next] : loops) {
          if (r.tokens.back() != '{') r.tokens += ',';
          json_text::string(r.tokens, head);
          r.tokens += ':';
          json_text::integer(r.tokens, next);
        }
        r.tokens += '}';
      }
      r.tokens += ']';
    }
    r.tokens += ']';
    r.forks = "[";
    for (auto& [id, f] : inst.forks) {
      if (r.forks.size() > 1) r.forks += ',';
      json_text::list(r.forks, std::initializer_list<int64_t>{f.id, f.parent, f.join, f.needed, f.arrived});
    }
    r.forks += ']';
    json_text::list(r.compensations, inst.compensations);
    CODEC()->write_json(Value::of_record(frame_of(inst)), IType::of(Kind::Rec), r.frame);
    return r;
  }

  store::TaskRow task_row(const Task& t) {
    store::TaskRow r;
    r.id = t.id;
    r.instance = t.instance;
    r.token = t.token;
    r.step = t.step;
    r.name = t.name;
    r.role = t.role;
    r.unit = t.unit;
    r.status = t.status;
    r.claimed_by = t.claimed_by;
    r.approval = t.approval;
    json_text::list(r.outcomes, t.outcomes);
    r.decisions = "{";
    for (auto& [who, approved] : t.decisions) {
      if (r.decisions.size() > 1) r.decisions += ',';
      json_text::string(r.decisions, who);
      r.decisions += approved ? ":true" : ":false";
    }
    r.decisions += '}';
    r.timer = t.timer;
    r.due = t.due;
    return r;
  }

  // The frame of an instance, read from the store and decoded on first use after a restart.
  Record* frame_of(const Instance& inst) {
    if (!inst.frame) {
      Use use(*this, inst.v);
      std::string err;
      json j = json::parse(store.instance_frame(inst.id).value_or("{}"), nullptr, false);
      inst.frame = j.is_discarded()
                       ? nullptr
                       : CODEC()->record_from_json(j, P().processes[inst.process].frame_layout, err,
                                                   "frame of instance #" + std::to_string(inst.id));
      if (!inst.frame)
        throw store::StoreError("the stored state of instance #" + std::to_string(inst.id) +
                                " cannot be read: " + (err.empty() ? "its frame is not JSON" : err));
    }
    return inst.frame;
  }

  // Before a record leaves, every frame still in its stored form is decoded, so a frame that refers to the
  // record binds the same object it would have bound had it never been stored.
  void decode_all_frames() {
    for (int64_t id : live) frame_of(instances[id]);
  }

  // A row whose id was drawn after the store last received rows is new: it is inserted, and a row already
  // under that id (an edited counter) fails the input instead of being replaced (store::RowWrite).
  store::RowWrite row_write(int64_t id) const {
    return id >= stored_ids_end ? store::RowWrite::Insert : store::RowWrite::Upsert;
  }

  void persist() {
    // A counter edited to just below the id limit: this input's ids would pass it, and the store be refused
    // at its next open. The input fails instead, as one whose id collides does (nothing of it is kept).
    store::Store::check_id_in_range(next_id - 1, "an id this input was to hand out");
    for (int64_t id : dirty_records) {
      Record* r = records[id];
      store.put("record", id, CODEC()->to_json(Value::of_record(r), IType::of(Kind::Rec)).dump(),
                row_write(id));
    }
    for (int64_t id : dirty_instances) store.put_instance(instance_row(instances[id]), row_write(id));
    for (int64_t id : dirty_tasks) {
      const Task& t = tasks[id];
      store.put_task(task_row(t), row_write(id));
      if (t.status == "open")
        open_tasks.insert(id);
      else
        open_tasks.erase(id);
    }
    for (int64_t id : dirty_timers) {
      const Timer& t = timers[id];
      store.put_timer({t.id, t.due, t.instance, t.token, t.task, t.kind}, row_write(t.id));
    }
    for (int64_t id : erased_timers) store.erase("timer", id);
    // Written only when changed: the clock moves only with time, and an input that made nothing new leaves
    // next_id alone. (reload() forgets what was written, since a rollback may have undone it.)
    if (self.clock_ != persisted_clock)
      store.put_meta("clock", std::to_string(persisted_clock = self.clock_));
    // In a group the counter is written once, when the group commits (Engine::commit_group): a crash loses
    // the whole group anyway, and an input undone inside it restores the counter from apply().
    if (!store.in_group()) flush_next_id();
    stored_ids_end = next_id;
    dirty_records.clear();
    dirty_instances.clear();
    dirty_tasks.clear();
    dirty_timers.clear();
    erased_timers.clear();
  }

  void load() {
    if (auto c = store.meta_int("clock")) self.clock_ = *c;
    // What the store says, never what memory held before a reload (an undone input's ids included).
    next_id = store.meta_int("next_id").value_or(1);
    // The counter is at least one past every id in use, whatever `meta` says: an edited (or lost) next_id
    // must not hand out an id a row already has. Token and fork ids, kept inside instance rows, are
    // counted as the rows are read below. Ids near int64's end (edited in) are refused: counting on from
    // there wrapped to negative ids.
    store::Store::check_id_in_range(next_id, "the id counter (`meta` next_id)");
    const int64_t largest_row = store.largest_row_id();
    store::Store::check_id_in_range(largest_row, "the largest row id in use");
    next_id = std::max(next_id, largest_row + 1);
    int64_t largest_inner_id = 0;
    std::string err;
    // Records first: instance frames refer to them by id.
    store.for_each("record", [&](int64_t id, const std::string& doc) {
      json j = json::parse(doc);
      uint32_t layout = layout_by_name(j.value("$type", ""));
      Record* r = arena.record(
          layout, layout < M().layouts.size() ? static_cast<uint32_t>(M().layouts[layout].fields.size()) : 0);
      r->id = id;
      records[id] = r;
    });
    store.for_each("record", [&](int64_t id, const std::string& doc) {
      json j = json::parse(doc);
      j.erase("$id");
      Record* fresh = CODEC()->record_from_json(j, records[id]->type_id, err, "record " + std::to_string(id));
      if (fresh)
        for (uint32_t i = 0; i < fresh->nslots; ++i) records[id]->slots[i] = fresh->slots[i];
    });
    // Rows come in id order and mostly of a few processes on one version: remember the last lookups.
    std::string last_version, last_process;
    Version* v = nullptr;
    uint32_t process = 0;
    store.for_each_instance([&](const store::InstanceRow& row) {
      Instance inst;
      inst.id = row.id;
      if (!v || row.version != last_version) {
        v = version(row.version.empty() ? current->hash : row.version);
        last_version = row.version;
        last_process.clear();
      }
      inst.v = v;
      Use use(*this, inst.v);
      if (last_process.empty() || row.process != last_process) {
        process = process_index(row.process);
        last_process = row.process;
      }
      inst.process = process;
      inst.status = row.status;
      inst.phase = row.phase;
      inst.error = row.error;
      for (auto& tj : json::parse(row.tokens)) {
        Token t{tj[0], tj[1], tj[2], tj[3], tj[4], tj[5], {}};
        largest_inner_id = std::max(largest_inner_id, t.id);
        if (tj.size() > 6)
          for (auto it = tj[6].begin(); it != tj[6].end(); ++it)
            t.loops[static_cast<uint32_t>(std::stoul(it.key()))] = it.value();
        inst.tokens.push_back(std::move(t));
      }
      if (row.forks != "[]")
        for (auto& fj : json::parse(row.forks)) {
          Fork f{fj[0], fj[1], fj[2], fj[3], fj[4]};
          largest_inner_id = std::max(largest_inner_id, f.id);
          inst.forks[f.id] = f;
        }
      if (row.compensations != "[]")
        inst.compensations = json::parse(row.compensations).get<std::vector<uint32_t>>();
      inst.parent = row.parent;
      inst.parent_token = row.parent_token;
      inst.started_at = row.started_at;
      inst.ended_at = row.ended_at;
      inst.deadline_timer = row.deadline_timer;
      inst.started_by = row.started_by;
      if (inst.status == "running") live.insert(live.end(), row.id);
      for (const Token& t : inst.tokens)
        if (t.wait == "event") waiting_on[t.wait_event].insert(row.id);
      instances.emplace_hint(instances.end(), row.id, std::move(inst));
    });
    store.for_each_task([&](const store::TaskRow& row) {
      Task t;
      t.id = row.id;
      t.instance = row.instance;
      t.token = row.token;
      t.step = static_cast<uint32_t>(row.step);
      t.name = row.name;
      t.role = row.role;
      t.unit = row.unit;
      t.status = row.status;
      t.claimed_by = row.claimed_by;
      t.approval = row.approval;
      if (row.outcomes != "[]") t.outcomes = json::parse(row.outcomes).get<std::vector<std::string>>();
      if (row.decisions != "{}") t.decisions = json::parse(row.decisions).get<std::map<std::string, bool>>();
      t.timer = row.timer;
      t.due = row.due;
      if (t.status == "open") open_tasks.insert(open_tasks.end(), row.id);
      tasks_by_instance[t.instance].push_back(row.id);
      tasks.emplace_hint(tasks.end(), row.id, std::move(t));
    });
    store.for_each_timer([&](const store::TimerRow& row) {
      timers.emplace_hint(timers.end(), row.id,
                          Timer{row.id, row.due, row.instance, row.token, row.task, row.kind});
    });
    if (!err.empty()) throw store::StoreError("the stored state cannot be read: " + err);
    store::Store::check_id_in_range(largest_inner_id, "the largest token or fork id in an instance row");
    next_id = std::max(next_id, largest_inner_id + 1);
    stored_ids_end = next_id;
    build_network();
    // Parsing the stored documents left a large heap of freed JSON nodes, and reading every row filled the
    // page cache: give both back rather than hold them for the engine's lifetime.
    store.release_memory();
    malloc_trim(0);
  }

  // The task a command is about, if it exists and is open; otherwise null, with the refusal in `refused`
  // (`noun` names it in the message: "task" or "approval").
  Task* open_task(int64_t id, const char* noun, Outcome& refused) {
    auto it = tasks.find(id);
    if (it == tasks.end()) {
      refused = Outcome{false, false, "no task #" + std::to_string(id), 0};
      return nullptr;
    }
    if (it->second.status != "open") {
      refused = Outcome{false, false,
                        std::string(noun) + " #" + std::to_string(id) + " is " + it->second.status, 0};
      return nullptr;
    }
    return &it->second;
  }

  void flush_next_id() {
    if (next_id != persisted_next_id) store.put_meta("next_id", std::to_string(persisted_next_id = next_id));
  }

  void load_events() {
    if (events_loaded) return;
    Use use(*this, current);
    std::string err;
    decoding_store([&] {
      store.for_each("event", [&](int64_t, const std::string& doc) {
        json j = json::parse(doc);
        uint32_t layout = layout_by_name(j.value("$type", ""));
        if (Record* r = CODEC()->record_from_json(j, layout, err, "event"))
          events_seen.push_back({layout, r});
      });
    });
    if (!err.empty()) throw store::StoreError("the stored events cannot be read: " + err);
    events_loaded = true;
  }

  uint32_t layout_by_name(const std::string& n) const {
    for (size_t i = 0; i < M().layouts.size(); ++i)
      if (M().layouts[i].name == n) return static_cast<uint32_t>(i);
    return 0;
  }

  // ---------------------------------------------------------------- input keys (see input_key.h)

  // Engine::replay gives the keys as the log holds them, already scoped: they are used as they are.
  bool keys_scoped = false;
  std::string input_actor;  // the actor of the input being applied

  // The key the log holds `in` under: the client's key scoped to the input's actor and kind.
  std::string log_key(const store::Input& in) const {
    return keys_scoped ? in.key : scoped_input_key(in.actor, in.kind, in.key);
  }

  // The answer to `in` (its key as logged) when its actor already used the key for this kind of input: the
  // same request again is a retry and gets the first answer (accepted or refused), marked duplicate; another
  // request under the key is a conflict, and nothing is applied. nullopt when the key is new. Payloads are
  // compared whole (they are canonical JSON, made by the same code): the request's digest, in effect.
  std::optional<Outcome> repeat(const store::Input& in) {
    auto logged = store.logged_input(in.key);
    if (!logged) return std::nullopt;
    Outcome o;
    if (logged->first.payload != in.payload) {
      o.ok = false;
      o.conflict = true;
      o.error = "the key `" + client_key(in) + "` was used by " + in.actor + " for another " + in.kind +
                " request; a new request needs a new key";
      return o;
    }
    o.duplicate = true;
    o.ok = logged->second.empty();
    o.error = logged->second;
    return o;
  }

  // The client's part of a logged key, for messages.
  std::string client_key(const store::Input& in) const {
    if (keys_scoped) return in.key;
    size_t colon = in.key.find(':');
    size_t n = colon == std::string::npos ? 0 : std::strtoull(in.key.c_str(), nullptr, 10);
    return colon == std::string::npos ? in.key : in.key.substr(colon + 1, n);
  }

  // A refusal found before the input reached the log (the task is no longer open, say) is the answer only
  // if the key is new: a retry of an input that went through answers as the first time did.
  Outcome refuse(store::Input in, Outcome refused) {
    in.key = log_key(in);
    if (auto r = repeat(in)) return *r;
    return refused;
  }

  // ---------------------------------------------------------------- applying one input

  Outcome apply(store::Input in, const std::function<Outcome()>& body) {
    store.begin();
    const int64_t ids_at_start = next_id;  // restored if the input is undone (see persist)
    try {
      in.at = self.clock_;
      in.key = log_key(in);
      input_actor = in.actor;
      // The log's unique key decides whether the input is new: a repeated key appends nothing and changes
      // nothing (one statement, rather than a look-up before every input). Only then is the first input
      // read back, to tell a retry from another request under the same key.
      if (!store.append_input(in)) {
        store.rollback();
        if (auto r = repeat(in)) return *r;
        Outcome o;
        o.duplicate = true;
        return o;
      }
      steps_this_input = 0;
      instances_this_input = 0;
      EV()->arena().clear();
      Outcome o = body();
      // What the log and the audit entry record of the outcome: "" when it was accepted.
      const std::string result = o.ok ? "" : o.error.empty() ? "refused" : o.error;
      if (!o.ok) store.set_input_result(in.seq, result);
      firings_this_input = 0;
      firing_chain.clear();
      run_all();
      settle_rules();
      check_alerts();
      answer_calls();
      persist();
      // The input's audit entry, in its transaction: if it cannot be written, the input is not applied.
      store::AuditEntry applied = store::input_entry(in, result);
      store.append_audit(applied);
      store.commit();
      return o;
    } catch (const Runaway& r) {
      store.rollback();
      reload();
      // The counter as before the input (a group's is not in meta yet), unless the store holds rows above
      // it (written behind the engine's back): then above those (see load).
      next_id = std::max(next_id, ids_at_start);
      return Outcome{false, false, r.message, 0};
    } catch (...) {
      store.rollback();
      reload();
      next_id = std::max(next_id, ids_at_start);
      throw;
    }
  }

  // ---------------------------------------------------------------- rules

  // A match key names the facts it matched; matches of events are not kept (events are gone after
  // their input).
  static bool durable(const std::string& key) {
    return key.find(":-") == std::string::npos && key.find(",-") == std::string::npos;
  }

  // Brings working memory up to date with the records: changed ones are matched again, derived ones
  // whose support ended are retracted (which can end other supports: until nothing changes).
  void sync_rules() {
    if (!net) return;
    for (;;) {
      for (auto& e : net->take_errors()) trace("rule " + e);
      for (auto& k : net->take_ended())
        if (durable(k)) store.put_meta("fired:" + k, "0");
      std::vector<int64_t> gone = net->take_unsupported();
      std::vector<int64_t> changed(rules_dirty.begin(), rules_dirty.end());
      rules_dirty.clear();
      if (gone.empty() && changed.empty()) break;
      for (int64_t id : changed) {
        auto it = records.find(id);
        if (it == records.end()) continue;
        if (net->contains(id))
          net->update(it->second);
        else
          net->insert(it->second);
      }
      for (int64_t id : gone) {
        auto it = records.find(id);
        if (it == records.end()) continue;
        About about_it(*this, opts.trace ? about_record(it->second) : TraceSubject{});
        trace("support of " + layout_name(it->second->type_id) + " #" + std::to_string(id) + " ended");
        store.put_meta("support:" + std::to_string(id), "");
        retract(Value::of_record(it->second));
      }
    }
  }

  // Fires the agenda until it is empty: highest salience first, then the oldest match (docs/rules.md).
  void fire_rules() {
    if (!net) return;
    Use use(*this, current);
    for (;;) {
      sync_rules();
      rules::Firing f;
      if (!net->next(f)) break;
      const RuleIR& r = P().rules[f.rule];
      firing_chain.push_back(r.name);
      if (++firings_this_input > opts.max_rule_firings_per_input) throw Runaway{runaway_message()};
      const rules::MatchKey key = f.key();
      if (durable(key)) store.put_meta("fired:" + key, "1");
      std::string on;
      for (const Value& v : f.facts)
        if (v.tag == kTagRecord && v.u.r->id > 0)
          on += (on.empty() ? " on " : ", ") + layout_name(v.u.r->type_id) + " #" + std::to_string(v.u.r->id);
      // Did it fire on the event being delivered? (Events are facts only while they are delivered, and
      // have no record id.) Then its lines are also for that event's readers, and what it emits comes from
      // where that event came from.
      bool on_event = false;
      for (const Value& v : f.facts) on_event = on_event || (v.tag == kTagRecord && v.u.r->id == 0);
      Pointing cause(firing_on_event, on_event ? delivering : nullptr);
      About about_it(*this, opts.trace ? about_firing(f) : TraceSubject{});
      if (tracing()) trace("rule " + r.name + " fires" + on);
      firing_key = key;
      const bool outer_on_records = std::exchange(firing_on_records, !on.empty());
      try {
        run_actions(r.actions, f.facts);
      } catch (const Fail& e) {
        trace("rule " + r.name + " failed: " + e.reason);
      } catch (...) {
        firing_on_records = outer_on_records;
        throw;
      }
      firing_on_records = outer_on_records;
      firing_key.clear();
    }
  }

  // A firing is about the records it matched, and about the event it matched if it did.
  TraceSubject about_firing(const rules::Firing& f) const {
    AboutFiring a;
    for (const Value& v : f.facts)
      if (v.tag == kTagRecord && v.u.r->id > 0) a.records.push_back({layout_name(v.u.r->type_id), v.u.r->id});
    if (firing_on_event) a.cause = about_event(*firing_on_event);
    return a;
  }

  std::string runaway_message() const {
    // The tail of the chain shows the cycle: the last few firings, oldest first.
    size_t from = firing_chain.size() > 8 ? firing_chain.size() - 8 : 0;
    std::string chain;
    for (size_t i = from; i < firing_chain.size(); ++i)
      chain += (chain.empty() ? "" : " -> ") + firing_chain[i];
    return "rules fired more than " + std::to_string(opts.max_rule_firings_per_input) +
           " times for one input without settling (" + (from ? "... -> " : "") + chain +
           "); nothing of the input was applied. Make the rules stop matching what they change, or raise "
           "max_rule_firings_per_input";
  }

  // After the processes ran: fire what the changed records match, let started processes run, repeat.
  void settle_rules() {
    for (;;) {
      int64_t before = firings_this_input;
      fire_rules();
      if (firings_this_input == before) break;
      run_all();
    }
  }

  // Working memory after a (re)load: every record, with the refraction and support the store kept.
  void build_network() {
    Use use(*this, current);
    net = std::make_unique<rules::Network>(P(), M(), *EV());
    rules_dirty.clear();
    for (auto& [id, r] : records) net->insert(r);
    std::unordered_set<std::string> fired;
    for (auto& k : net->agenda_keys())
      if (store.meta("fired:" + k).value_or("0") == "1") fired.insert(k);
    net->mark_fired(fired);
    for (auto& [id, r] : records)
      if (auto s = store.meta("support:" + std::to_string(id)); s && !s->empty()) net->support(*s, id);
    net->take_errors();
    net->take_ended();
  }

  static uint8_t tag_of(Kind k) {
    switch (k) {
      case Kind::Int:
        return kTagInt;
      case Kind::Dec:
        return kTagDec;
      case Kind::Money:
        return kTagMoney;
      case Kind::Dur:
        return kTagDuration;
      default:
        return kTagNone;
    }
  }

  // A metric whose alert threshold is crossed raises its event once; it can raise it again after it has
  // recovered. Whether it is alerting is kept in the store, so a restart does not raise it twice.
  void check_alerts() {
    Use use(*this, current);
    for (const MetricIR& mt : P().metrics) {
      if (mt.alert == kNone || mt.alert_event.empty()) continue;
      ev_today();
      auto v = EV()->call(mt.formula, {});
      auto t = EV()->call(mt.alert, {});
      if (!v.ok() || !t.ok()) continue;
      Dec x = v.value.tag == kTagInt ? static_cast<Dec>(v.value.u.i) * kDecOne : v.value.u.d;
      Dec y = t.value.tag == kTagInt ? static_cast<Dec>(t.value.u.i) * kDecOne : t.value.u.d;
      if (v.value.tag == kTagDuration) x = static_cast<Dec>(v.value.u.i) * kDecOne;
      if (t.value.tag == kTagDuration) y = static_cast<Dec>(t.value.u.i) * kDecOne;
      bool alerting = compare(mt.alert_op, x, y);
      std::string key = "alert:" + mt.name;
      bool was = store.meta(key).value_or("0") == "1";
      if (alerting == was) continue;
      store.put_meta(key, alerting ? "1" : "0");
      if (!alerting) continue;
      uint32_t layout = kNone;
      for (size_t i = 0; i < P().events.size(); ++i)
        if (P().events[i] == mt.alert_event) layout = P().event_layouts[i];
      if (layout == kNone) continue;
      const RecordLayout& l = M().layouts[layout];
      Record* r = arena.record(layout, static_cast<uint32_t>(l.fields.size()));
      // The event gets the metric's name and value where it has fields of those names and kinds.
      for (size_t i = 0; i < l.fields.size(); ++i) {
        if (l.fields[i] == "name" && l.types[i].kind == Kind::Str)
          r->slots[i] = Value::of_string(arena.string(mt.name));
        if (l.fields[i] == "value" && tag_of(l.types[i].kind) == v.value.tag) r->slots[i] = keep(v.value);
        if (l.fields[i] == "at") r->slots[i] = Value::of_date(day_of(self.clock_));
      }
      {
        About about_it(*this, opts.trace ? TraceSubject{AboutMetric{mt.name}} : TraceSubject{});
        trace("alert " + mt.name + " = " + text(v.value) + ": emit " + mt.alert_event);
      }
      event_queue.push_back({mt.alert_event, r});
      run_all();
    }
  }

  // In simulation every connector answers at once with an empty result, in outbox order; a real
  // deployment delivers results as `connector_result` inputs instead.
  void answer_calls() {
    while (!pending_calls.empty()) {
      auto calls = std::move(pending_calls);
      pending_calls.clear();
      for (int64_t id : calls) resume_call(id, json::object());
      run_all();
    }
  }

  void resume_call(int64_t outbox_id, const json& result) {
    for (int64_t iid : std::vector<int64_t>(live.begin(), live.end())) {
      Instance& inst = instances[iid];
      Use use(*this, inst.v);
      About about_it(*this, iid);
      for (Token& t : inst.tokens) {
        if (t.wait != "call" || t.wait_ref != outbox_id) continue;
        const Step& st = P().processes[inst.process].steps[t.step];
        if (st.bind_slot != kNone) {
          std::string err;
          uint32_t layout = P().processes[inst.process].frame_layout;
          const IType& ft = M().layouts[layout].types[st.bind_slot];
          Record* r = arena.record(ft.id, static_cast<uint32_t>(M().layouts[ft.id].fields.size()));
          // Fill what the connector returned; fields it did not return stay none.
          for (size_t i = 0; i < M().layouts[ft.id].fields.size(); ++i) {
            auto f = result.find(M().layouts[ft.id].fields[i]);
            if (f != result.end())
              r->slots[i] = CODEC()->from_json(*f, M().layouts[ft.id].types[i], err, "result");
            else if (M().layouts[ft.id].fields[i] == "ok")
              r->slots[i] = Value::of_bool(true);
          }
          frame_of(inst)->slots[st.bind_slot] = Value::of_record(r);
        }
        resume(inst, t, st);
      }
    }
  }

  void reload() {
    net.reset();
    records.clear();
    instances.clear();
    live.clear();
    waiting_on.clear();
    tasks.clear();
    open_tasks.clear();
    tasks_by_instance.clear();
    timers.clear();
    events_seen.clear();
    events_loaded = false;
    event_queue.clear();
    pending_calls.clear();
    dirty_records.clear();
    dirty_instances.clear();
    dirty_tasks.clear();
    dirty_timers.clear();
    erased_timers.clear();
    persisted_clock = persisted_next_id = -1;
    load();
  }

  // ---------------------------------------------------------------- access

  // Forbid policies win; otherwise the structural permission (holding the assigned role) or a permit
  // policy allows; otherwise deny. The decision alone, with why in `reason`: nothing is written or traced
  // (a read's check must leave no trace in a log that replays). `unsure_forbids`: a forbid policy whose
  // condition cannot be decided (it reads a resource that is not at hand, such as an event or a record
  // that is gone) applies — for reads of trace lines, which keep a name, not the thing.
  bool permits(const std::string& actor_id, const std::string& action, const std::string& resource_type,
               const Value& resource, bool structural, std::string& reason, bool unsure_forbids = false) {
    EV()->set_today(day_of(self.clock_));
    Value a = Value::of_record(actor(actor_id));
    bool permit = structural, forbid = false;
    std::string why = structural ? "holds the assigned role" : "no role or policy permits it";
    // Roles grant: `may ACTION Resource where …` on a role the actor holds.
    for (const RoleIR& role : P().roles) {
      if (permit) break;
      bool has = false;
      auto h = holders.find(role.name);
      if (h != holders.end())
        for (auto& [who, unit] : h->second) has = has || who == actor_id;
      if (!has) continue;
      for (const GrantIR& g : role.grants) {
        if (g.action != action || (!g.resource.empty() && g.resource != resource_type)) continue;
        bool ok = true;
        if (g.where != kNone) {
          auto o = EV()->call(g.where, {a, resource});
          ok = o.ok() && o.value.u.i;
        }
        if (ok) {
          permit = true;
          why = "role " + role.name + " may " + action + (g.resource.empty() ? "" : " " + g.resource);
          break;
        }
      }
    }
    for (const PolicyIR& pol : P().policies) {
      if (!pol.action.empty() && pol.action != action) continue;
      if (!pol.resource.empty() && pol.resource != resource_type) continue;
      bool applies = true;
      if (pol.when != kNone) {
        auto o = EV()->call(pol.when, {a, resource});
        applies = o.ok() ? o.value.u.i != 0 : pol.forbid && unsure_forbids;
      }
      if (!applies) continue;
      if (pol.forbid) {
        forbid = true;
        why = "policy " + pol.name + " forbids it";
      } else if (!permit) {
        permit = true;
        why = "policy " + pol.name + " permits it";
      }
    }
    reason = why;
    return permit && !forbid;
  }

  // permits(), and every decision audited and traced.
  bool allowed(const std::string& actor_id, const std::string& action, const std::string& resource_type,
               const Value& resource, bool structural, const std::string& describe, std::string& reason) {
    bool ok = permits(actor_id, action, resource_type, resource, structural, reason);
    const std::string& why = reason;
    store::AuditEntry e;
    e.at = self.clock_;
    e.actor = actor_id;
    e.action = action;
    e.resource = describe;
    e.decision = ok ? "allowed" : "refused";
    e.reason = why;
    store.append_audit(e);
    if (tracing())
      trace(std::string(ok ? "allow " : "refuse ") + actor_id + " " + action + " " + describe + " (" + why +
            ")");
    return ok;
  }

  // The resource an approval or task is about: the first parameter of the process that is a record.
  std::pair<std::string, Value> subject(const Instance& inst) {
    const ProcessIR& pr = P().processes[inst.process];
    const RecordLayout& fl = M().layouts[pr.frame_layout];
    for (uint32_t slot : pr.param_slots) {
      if (slot == kNone) continue;
      const Value& v = frame_of(inst)->slots[slot];
      if (v.tag == kTagRecord && v.u.r->type_id > 2) return {M().layouts[v.u.r->type_id].name, v};
      (void)fl;
    }
    return {"", Value::none()};
  }

  // ---------------------------------------------------------------- who may read what
  // Reads are decided like commands (permits), but neither audited nor traced here: a list hides what its
  // reader may not see, and only a refused read of one named thing is audited (Engine::audit_refused_read).

  std::optional<std::string> starter(int64_t instance) {
    auto it = instances.find(instance);
    if (it == instances.end() || it->second.started_by.empty()) return std::nullopt;
    return it->second.started_by;
  }

  // Could a `forbid read` policy apply? If not, a participant reads without evaluating anything.
  bool read_may_be_forbidden() const {
    for (const PolicyIR& pol : P().policies)
      if (pol.forbid && (pol.action.empty() || pol.action == "read")) return true;
    return false;
  }

  // A task: `system`; who may act on it (holds its role, or a role grant or permit policy for its action),
  // who claimed, completed or decided it, and who started its instance; then `read` as a command would be
  // decided on the task's subject: a `may read T` grant or `permit read T` policy adds readers, a `forbid
  // read T` policy hides it (from all but `system`).
  bool may_read(const std::string& who, const Task& tk, std::string& why) {
    if (who == "system") return true;
    auto in = instances.find(tk.instance);
    bool part = tk.claimed_by == who || tk.decisions.count(who) || holds(who, tk.role, tk.unit) ||
                (in != instances.end() && (starter(tk.instance) == who || manages(who, tk, in->second)));
    if (part && !read_may_be_forbidden()) return true;
    if (in == instances.end()) {
      why = "its instance is gone";
      return false;
    }
    auto [rtype, res] = subject(in->second);
    if (!part) part = permits(who, tk.approval ? "approve" : "complete", rtype, res, false, why);
    return permits(who, "read", rtype, res, part, why);
  }

  // A task's manager: who holds the role it escalates to (`escalate to R of U`: R in U or a unit above U;
  // without `of`, R anywhere), as the escalation would make them — from the moment it opens, so they can
  // see what may come to them. (The language has no reporting line; the escalation target is the one the
  // program names as answerable for the task. Holders of the task's own role in a unit above its unit
  // already read it: they hold the role there, see holds.)
  bool manages(const std::string& who, const Task& tk, const Instance& inst) {
    const ProcessIR& pr = inst.v->b->program.processes[inst.process];
    if (tk.step >= pr.steps.size()) return false;
    const Step& st = pr.steps[tk.step];
    if (st.escalate_role.empty() || st.escalate_role == tk.role) return false;  // escalated: they hold it
    std::string unit;
    if (st.escalate_scope != kNone) {
      Use use(*this, inst.v);
      ev_today();
      auto o = EV()->call(st.escalate_scope, {Value::of_record(frame_of(inst))});
      if (!o.ok()) return false;  // the unit cannot be told: no one reads by it
      unit = unit_name(o.value);
      if (unit.empty()) return false;
    }
    return holds(who, st.escalate_role, unit);
  }

  // An instance: who started it, who may read one of its tasks (`tasks`: its tasks), and who is granted
  // `read` on its process or its subject's type.
  bool may_read(const std::string& who, int64_t id, const Instance& inst,
                const std::vector<const Task*>& tasks, std::string& why) {
    if (who == "system") return true;
    bool part = starter(id) == who;
    for (size_t i = 0; i < tasks.size() && !part; ++i) part = may_read(who, *tasks[i], why);
    if (part && !read_may_be_forbidden()) return true;
    auto [rtype, res] = subject(inst);
    const std::string& process = inst.v->b->program.processes[inst.process].name;
    if (!part) part = permits(who, "read", process, Value::none(), false, why);
    return permits(who, "read", rtype, res, part, why);
  }

  std::vector<const Task*> tasks_of(int64_t instance) const {
    std::vector<const Task*> out;
    auto ids = tasks_by_instance.find(instance);
    if (ids != tasks_by_instance.end())
      for (int64_t id : ids->second)
        if (auto t = tasks.find(id); t != tasks.end()) out.push_back(&t->second);
    return out;
  }

  // A KPI is a figure about the whole organization: every member (who holds a position) reads it, and
  // whoever is granted `read` on it (`may read NAME`, `permit read NAME`); `forbid read NAME` hides it.
  bool may_read_kpi(const std::string& who, const std::string& metric, std::string& why) {
    if (who == "system") return true;
    bool member = false;
    for (auto& [role, hs] : holders)
      for (auto& [h, unit] : hs) member = member || h == who;
    if (member && !read_may_be_forbidden()) return true;
    return permits(who, "read", metric, Value::none(), member, why);
  }

  bool member(const std::string& who) const {
    for (auto& [role, hs] : holders)
      for (auto& [h, unit] : hs)
        if (h == who) return true;
    return false;
  }

  // ---- trace lines (Engine::may_read_line). A line keeps names, not things: an event's payload is not at
  // hand when the line is read, nor a record that is gone since, so a `forbid read` policy whose condition
  // needs them hides the line (fail closed), and a grant or permit that needs them does not show it.

  // An event: who posted it, the readers of the instance that emitted it, who is granted `read` on it.
  bool may_read_line(const std::string& who, const AboutEvent& e, std::string& why) {
    bool part = (!e.poster.empty() && e.poster == who) ||
                (e.instance != 0 && may_read_line(who, AboutInstance{e.instance}, why));
    return permits(who, "read", e.name, Value::none(), part, why, true);
  }
  bool may_read_line(const std::string& who, const AboutInstance& i, std::string& why) {
    auto it = instances.find(i.id);
    return it != instances.end() && may_read(who, i.id, it->second, tasks_of(i.id), why);
  }
  // Records: who may read every record named (as a type's grant or permit decides, on the record itself
  // while it exists); the readers of the event the firing matched and who commanded the change read it
  // without a grant. A `forbid read T` on any of them hides the line.
  bool may_read_line(const std::string& who, const AboutRecords& r, std::string& why) {
    bool part = (!r.by.empty() && r.by == who) || (r.cause && may_read_line(who, *r.cause, why));
    if (r.records.empty()) return part;
    for (const RecordRef& ref : r.records) {
      auto rec = records.find(ref.id);
      Value res = rec != records.end() ? Value::of_record(rec->second) : Value::none();
      if (!permits(who, "read", ref.type, res, part, why, true)) return false;
    }
    return true;
  }
  // A firing: who may read all it matched. The event's readers read a firing on the event alone; a record
  // it matched is read on the reader's own grant (or permit) on the record, as a list of them would be.
  bool may_read_line(const std::string& who, const AboutFiring& f, std::string& why) {
    if (f.cause && !may_read_line(who, *f.cause, why)) return false;
    if (f.records.empty()) return f.cause.has_value();
    for (const RecordRef& ref : f.records) {
      auto rec = records.find(ref.id);
      Value res = rec != records.end() ? Value::of_record(rec->second) : Value::none();
      if (!permits(who, "read", ref.type, res, false, why, true)) return false;
    }
    return true;
  }
  bool may_read_line(const std::string& who, const TraceSubject& about) {
    if (who == "system") return true;
    std::string why;
    if (std::holds_alternative<AboutNothing>(about)) return false;
    if (std::holds_alternative<AboutOrganization>(about)) {
      // The organization's name, for `may read Shop` / `forbid read Shop`.
      const std::string org = P().orgs.empty() ? "" : P().orgs[0].name;
      return permits(who, "read", org, Value::none(), member(who), why, true);
    }
    if (auto* i = std::get_if<AboutInstance>(&about)) return may_read_line(who, *i, why);
    if (auto* e = std::get_if<AboutEvent>(&about)) return may_read_line(who, *e, why);
    if (auto* r = std::get_if<AboutRecords>(&about)) return may_read_line(who, *r, why);
    if (auto* f = std::get_if<AboutFiring>(&about)) return may_read_line(who, *f, why);
    return may_read_kpi(who, std::get<AboutMetric>(about).name, why);
  }
};

// ------------------------------------------------------------------ Engine

Engine::Engine(const bundle::Bundle& b, store::Store& s, EngineOptions opts) : b_(b) {
  // Before anything is written to it (this version's bundle, an input): a store of another project is
  // refused. A store that knows no project yet becomes this one's once its state has been read with it.
  const ProjectIdentity project = project_identity(b, opts.project);
  const bool record_project_here = must_record_project(s, project);
  clock_ = opts.start_time;
  impl_ = std::make_unique<Impl>(*this, b, s, std::move(opts));
  decoding_store([&] { impl_->load(); });
  impl_->keep_bundle();
  if (record_project_here) record_project(s, project);
  if (clock_ < impl_->opts.start_time) clock_ = impl_->opts.start_time;
}

void Engine::reload() {
  clock_ = impl_->opts.start_time;
  decoding_store([&] { impl_->reload(); });
  if (clock_ < impl_->opts.start_time) clock_ = impl_->opts.start_time;
}

Engine::~Engine() = default;

void Engine::begin_group() {
  impl_->store.begin_group();
}

void Engine::commit_group() {
  try {
    if (impl_->store.in_group()) impl_->flush_next_id();
    impl_->store.commit_group();
  } catch (...) {
    // Nothing of the group was kept: memory goes back to what the store holds, so no later reply is made
    // from state that was never committed.
    impl_->store.rollback_group();
    reload();
    throw;
  }
}

const TraceSubject& Engine::trace_subject() const {
  return impl_->about;
}

bool Engine::may_read_line(const std::string& actor, const TraceSubject& about) {
  Impl::Use use(*impl_, impl_->current);
  return impl_->may_read_line(actor, about);
}

const std::string& Engine::jit_error() const {
  return impl_->jit_error;
}

Outcome Engine::post_event(const std::string& name, const json& payload, const std::string& actor_id,
                           const std::string& key) {
  auto& I = *impl_;
  uint32_t layout = kNone;
  for (size_t i = 0; i < I.P().events.size(); ++i)
    if (I.P().events[i] == name) layout = I.P().event_layouts[i];
  store::Input in = log_entry(EventInput{name, payload}, actor_id, key);
  if (layout == kNone)
    return I.refuse(in, Outcome{false, false, "no event named `" + name + "` is declared", 0});
  std::string err;
  Record* r = I.CODEC()->record_from_json(payload.is_null() ? json::object() : payload, layout, err, name,
                                          Completeness::Complete);
  if (!r) return I.refuse(in, Outcome{false, false, err, 0});
  return I.apply(in, [&]() {
    // The decision on posting it and the event as posted are about the event (its poster reads them).
    Impl::About about_it(I, I.opts.trace ? TraceSubject{AboutEvent{name, actor_id, 0}} : TraceSubject{});
    r->slots[r->nslots - 1] = Value::of_date(clock_ / 86400);
    std::string reason;
    if (actor_id != "system" &&
        !I.allowed(actor_id, "post", name, Value::of_record(r), false, "event " + name, reason))
      return Outcome{false, false, actor_id + " may not post " + name + ": " + reason, 0};
    if (I.tracing()) I.trace("event " + name + " " + payload.dump());
    I.event_queue.push_back({name, r, true, 0});
    return Outcome{};
  });
}

Outcome Engine::start(const std::string& process, const json& args, const std::string& actor_id,
                      const std::string& key) {
  auto& I = *impl_;
  uint32_t proc = kNone;
  for (size_t i = 0; i < I.P().processes.size(); ++i)
    if (I.P().processes[i].name == process) proc = static_cast<uint32_t>(i);
  store::Input in = log_entry(StartInput{process, args}, actor_id, key);
  if (proc == kNone) return I.refuse(in, Outcome{false, false, "no process named `" + process + "`", 0});
  const ProcessIR& pr = I.P().processes[proc];
  const RecordLayout& fl = I.M().layouts[pr.frame_layout];
  std::vector<Value> vals;
  std::string err;
  for (uint32_t slot : pr.param_slots) {
    const std::string& pname = fl.fields[slot];
    json v = args.is_object() && args.contains(pname) ? args[pname] : json(nullptr);
    vals.push_back(
        I.CODEC()->from_json(v, fl.types[slot], err, process + "(" + pname + ")", Completeness::Complete));
    if (!err.empty()) return I.refuse(in, Outcome{false, false, err, 0});
  }
  return I.apply(in, [&]() {
    std::string reason;
    if (actor_id != "system" &&
        !I.allowed(actor_id, "start", process, Value::none(), false, "process " + process, reason))
      return Outcome{false, false, actor_id + " may not start " + process + ": " + reason, 0};
    return Outcome{true, false, "", I.start_instance(proc, vals, 0, 0, actor_id)};
  });
}

Outcome Engine::complete_task(int64_t task, const std::string& actor_id, const std::string& outcome,
                              const json& data, const std::string& key) {
  auto& I = *impl_;
  // No outcome means the task's first, also for a retry once the task is done: the request logged names it.
  auto known = I.tasks.find(task);
  std::string out = !outcome.empty() || known == I.tasks.end() || known->second.outcomes.empty()
                        ? outcome
                        : known->second.outcomes.front();
  store::Input in = log_entry(CompleteInput{task, out, data}, actor_id, key);
  Outcome refused;
  Task* open = I.open_task(task, "task", refused);
  if (!open) return I.refuse(in, refused);
  Task& tk = *open;
  if (tk.approval)
    return I.refuse(
        in, Outcome{false, false, "task #" + std::to_string(task) + " is an approval: use decide", 0});
  if (!tk.claimed_by.empty() && tk.claimed_by != actor_id)
    return I.refuse(
        in, Outcome{false, false, "task #" + std::to_string(task) + " is claimed by " + tk.claimed_by, 0});
  if (std::find(tk.outcomes.begin(), tk.outcomes.end(), out) == tk.outcomes.end()) {
    std::string list;
    for (auto& o : tk.outcomes) list += (list.empty() ? "" : ", ") + o;
    return I.refuse(
        in, Outcome{false, false,
                    "`" + out + "` is not an outcome of " + tk.name + " (its outcomes: " + list + ")", 0});
  }
  return I.apply(in, [&]() -> Outcome {
    Instance& inst = I.instances[tk.instance];
    Impl::About about_it(I, tk.instance);
    auto [rtype, res] = I.subject(inst);
    std::string reason;
    bool holds = I.holds(actor_id, tk.role, tk.unit);
    if (!I.allowed(actor_id, "complete", rtype, res, holds, "task " + tk.name + " #" + std::to_string(task),
                   reason))
      return Outcome{false, false, actor_id + " may not complete " + tk.name + ": " + reason, 0};
    const Step& st = I.P().processes[inst.process].steps[tk.step];
    if (st.bind_slot != kNone) {
      const IType& rt = I.M().layouts[I.P().processes[inst.process].frame_layout].types[st.bind_slot];
      const RecordLayout& rl = I.M().layouts[rt.id];
      Record* r = I.arena.record(rt.id, static_cast<uint32_t>(rl.fields.size()));
      std::string err;
      for (size_t i = 0; i < rl.fields.size(); ++i) {
        if (rl.fields[i] == "outcome")
          r->slots[i] = Value::of_string(I.arena.string(out));
        else if (rl.fields[i] == "completed_by")
          r->slots[i] = Value::of_record(I.actor(actor_id));
        else if (data.is_object() && data.contains(rl.fields[i]))
          r->slots[i] = I.CODEC()->from_json(data[rl.fields[i]], rl.types[i], err, tk.name);
      }
      if (!err.empty()) throw Fail{err};
      I.frame_of(inst)->slots[st.bind_slot] = Value::of_record(r);
    }
    tk.status = "done";
    tk.claimed_by = actor_id;
    I.cancel_timer(tk.timer);
    I.dirty_tasks.insert(tk.id);
    Token* t = I.token(inst, tk.token);
    if (t) I.resume(inst, *t, st);
    I.dirty_instances.insert(inst.id);
    I.trace("done " + tk.name + " #" + std::to_string(task) + " by " + actor_id + " (" + out + ")");
    return Outcome{};
  });
}

Outcome Engine::claim_task(int64_t task, const std::string& actor_id, const std::string& key) {
  auto& I = *impl_;
  store::Input in = log_entry(ClaimInput{task}, actor_id, key);
  Outcome refused;
  Task* open = I.open_task(task, "task", refused);
  if (!open) return I.refuse(in, refused);
  Task& tk = *open;
  if (tk.approval)
    return I.refuse(
        in,
        Outcome{false, false, "task #" + std::to_string(task) + " is an approval: it cannot be claimed", 0});
  if (!tk.claimed_by.empty() && tk.claimed_by != actor_id)
    return I.refuse(
        in, Outcome{false, false, "task #" + std::to_string(task) + " is claimed by " + tk.claimed_by, 0});
  return I.apply(in, [&]() -> Outcome {
    Instance& inst = I.instances[tk.instance];
    Impl::About about_it(I, tk.instance);
    auto [rtype, res] = I.subject(inst);
    std::string reason;
    // Whoever may complete the task may claim it: a claim only reserves the completion.
    bool holds = I.holds(actor_id, tk.role, tk.unit);
    if (!I.allowed(actor_id, "complete", rtype, res, holds, "task " + tk.name + " #" + std::to_string(task),
                   reason))
      return Outcome{false, false, actor_id + " may not claim " + tk.name + ": " + reason, 0};
    tk.claimed_by = actor_id;
    I.dirty_tasks.insert(tk.id);
    I.trace("claim " + tk.name + " #" + std::to_string(task) + " by " + actor_id);
    return Outcome{};
  });
}

Outcome Engine::decide(int64_t task, const std::string& actor_id, bool approve, const std::string& key) {
  auto& I = *impl_;
  store::Input in = log_entry(DecideInput{task, approve}, actor_id, key);
  Outcome refused;
  Task* open = I.open_task(task, "approval", refused);
  if (!open) return I.refuse(in, refused);
  Task& tk = *open;
  if (!tk.approval)
    return I.refuse(
        in, Outcome{false, false, "task #" + std::to_string(task) + " is not an approval: use complete", 0});
  if (tk.decisions.count(actor_id))
    return I.refuse(
        in, Outcome{false, false, actor_id + " has already decided on approval #" + std::to_string(task), 0});
  return I.apply(in, [&]() -> Outcome {
    Instance& inst = I.instances[tk.instance];
    Impl::About about_it(I, tk.instance);
    auto [rtype, res] = I.subject(inst);
    std::string reason;
    bool holds = I.holds(actor_id, tk.role, tk.unit);
    if (!I.allowed(actor_id, "approve", rtype, res, holds,
                   "approval " + tk.name + " #" + std::to_string(task), reason))
      return Outcome{false, false, actor_id + " may not decide " + tk.name + ": " + reason, 0};
    tk.decisions[actor_id] = approve;
    I.dirty_tasks.insert(tk.id);
    const Step& st = I.P().processes[inst.process].steps[tk.step];
    size_t holders = std::max<size_t>(1, I.holder_count(tk.role, tk.unit));
    size_t yes = 0, no = 0;
    for (auto& [who, d] : tk.decisions) (d ? yes : no)++;
    size_t needed = 1;
    switch (st.quorum_kind) {
      case Quorum::All:
        needed = 1;
        break;
      case Quorum::Majority:
        needed = holders / 2 + 1;
        break;
      case Quorum::Unanimous:
        needed = holders;
        break;
      case Quorum::Count:  // n (of m)
        needed = static_cast<size_t>(std::max<int64_t>(1, st.quorum_n));
        break;
      case Quorum::Percent:
        needed = static_cast<size_t>((static_cast<int64_t>(holders) * st.quorum_n + 99) / 100);
        break;
    }
    if (I.tracing())
      I.trace(std::string(approve ? "approve " : "reject ") + tk.name + " #" + std::to_string(task) + " by " +
              actor_id + " (" + std::to_string(yes) + " of " + std::to_string(needed) + " needed)");
    bool approved = yes >= needed;
    bool rejected = !approved && (st.quorum_kind == Quorum::Unanimous ? no > 0 : holders - no < needed);
    if (!approved && !rejected) return Outcome{};
    tk.status = approved ? "approved" : "rejected";
    I.cancel_timer(tk.timer);
    Token* t = I.token(inst, tk.token);
    if (st.bind_slot != kNone) {
      const IType& rt = I.M().layouts[I.P().processes[inst.process].frame_layout].types[st.bind_slot];
      const RecordLayout& rl = I.M().layouts[rt.id];
      Record* r = I.arena.record(rt.id, static_cast<uint32_t>(rl.fields.size()));
      for (size_t i = 0; i < rl.fields.size(); ++i) {
        if (rl.fields[i] == "approved") r->slots[i] = Value::of_bool(approved);
        if (rl.fields[i] == "approvals") r->slots[i] = Value::of_int(static_cast<int64_t>(yes));
      }
      I.frame_of(inst)->slots[st.bind_slot] = Value::of_record(r);
    }
    I.dirty_instances.insert(inst.id);
    if (!approved) {
      I.fail(inst, tk.name + " was rejected");
      return Outcome{};
    }
    if (t) I.resume(inst, *t, st);
    return Outcome{};
  });
}

Outcome Engine::advance_to(int64_t time, const std::string& key) {
  auto& I = *impl_;
  store::Input in = log_entry(TickInput{time}, "system", key);
  if (time < clock_) return I.refuse(in, Outcome{false, false, "the clock cannot go back", 0});
  if (time > kMaxClock)
    return I.refuse(in, Outcome{false, false,
                                "the clock cannot go past 9999-12-31 23:59:59 (asked for " +
                                    std::to_string(time) + " seconds since 1970)",
                                0});
  return I.apply(in, [&]() {
    // The clock is the organization's: what a tick writes about no instance, record or event is for its
    // members.
    Impl::About about_it(I, I.opts.trace ? TraceSubject{AboutOrganization{}} : TraceSubject{});
    // Fire due timers one at a time, earliest first (ties by id), letting each settle.
    while (true) {
      const Timer* next = nullptr;
      for (auto& [id, t] : I.timers)
        if (t.due <= time && (!next || t.due < next->due)) next = &t;
      if (!next) break;
      Timer tm = *next;
      clock_ = std::max(clock_, tm.due);
      I.EV()->arena().clear();
      I.cancel_timer(tm.id);
      I.fire(tm);
      I.run_all();
      I.answer_calls();
    }
    clock_ = time;
    return Outcome{};
  });
}

Outcome Engine::transition(const std::string& type, const json& record, const std::string& name,
                           const std::string& actor_id, const std::string& key) {
  auto& I = *impl_;
  store::Input in = log_entry(TransitionInput{type, record, name}, actor_id, key);
  Record* r = nullptr;
  std::string org;
  if (type == "org") {
    org = record.is_string() ? record.get<std::string>() : (I.P().orgs.empty() ? "" : I.P().orgs[0].name);
  } else {
    uint32_t layout = I.layout_by_name(type);
    if (layout == 0 || I.M().layouts[layout].name != type)
      return I.refuse(in, Outcome{false, false, "no record type `" + type + "`", 0});
    std::string err;
    r = I.CODEC()->record_from_json(record, layout, err, type);
    if (!r) return I.refuse(in, Outcome{false, false, err, 0});
    if (r->id == 0)
      return I.refuse(in, Outcome{false, false, "name a stored " + type + " (with $ref or $id)", 0});
  }
  return I.apply(in, [&]() -> Outcome {
    // A record's transition is about the record (and read by who asked for it); the org's, the org's.
    Impl::About about_it(I, !I.opts.trace ? TraceSubject{}
                            : r ? TraceSubject{AboutRecords{{{type, r->id}}, std::nullopt, actor_id}}
                                : TraceSubject{AboutOrganization{}});
    std::string reason;
    Value res = r ? Value::of_record(r) : Value::none();
    if (actor_id != "system" &&
        !I.allowed(actor_id, name, type, res, false, "transition " + name + " of " + type, reason))
      return Outcome{false, false, actor_id + " may not " + name + " " + type + ": " + reason, 0};
    return I.transition(r, org, name);
  });
}

Outcome Engine::connector_result(int64_t outbox_id, const json& result, const std::string& key) {
  auto& I = *impl_;
  return I.apply(log_entry(ConnectorResultInput{outbox_id, result}, "system", key), [&]() {
    I.resume_call(outbox_id, result);
    return Outcome{};
  });
}

std::optional<Outcome> Engine::logged(const std::string& key) {
  // Any scope of the key: they all start with the same prefix (input_key.h).
  auto r = impl_->store.input_result_with_prefix(input_key_prefix(key));
  if (!r) return std::nullopt;
  return Outcome{r->empty(), true, *r, 0};
}

std::optional<Outcome> Engine::logged(const std::string& actor, const std::string& kind,
                                      const std::string& key) {
  auto r = impl_->store.input_result(scoped_input_key(actor, kind, key));
  if (!r) return std::nullopt;
  return Outcome{r->empty(), true, *r, 0};
}

namespace {
TaskView task_view(const Engine::Impl& I, int64_t id, const Task& t) {
  TaskView v;
  v.id = id;
  v.instance = t.instance;
  auto in = I.instances.find(t.instance);
  if (in != I.instances.end()) v.process = in->second.v->b->program.processes[in->second.process].name;
  v.name = t.name;
  v.role = t.role;
  v.unit = t.unit;
  v.status = t.status;
  v.claimed_by = t.claimed_by;
  v.approval = t.approval;
  v.outcomes = t.outcomes;
  v.due = t.due;
  return v;
}
}  // namespace

std::optional<TaskView> Engine::task(int64_t id) const {
  auto it = impl_->tasks.find(id);
  if (it == impl_->tasks.end()) return std::nullopt;
  return task_view(*impl_, id, it->second);
}

std::vector<TaskView> Engine::tasks(bool open_only) const {
  std::vector<TaskView> out;
  if (open_only)
    for (int64_t id : impl_->open_tasks) out.push_back(task_view(*impl_, id, impl_->tasks.at(id)));
  else
    for (auto& [id, t] : impl_->tasks) out.push_back(task_view(*impl_, id, t));
  return out;
}

bool Engine::may_read_task(const std::string& actor, int64_t task) {
  auto it = impl_->tasks.find(task);
  std::string why;
  return it != impl_->tasks.end() && impl_->may_read(actor, it->second, why);
}

bool Engine::may_read_instance(const std::string& actor, int64_t instance) {
  auto it = impl_->instances.find(instance);
  std::string why;
  return it != impl_->instances.end() &&
         impl_->may_read(actor, instance, it->second, impl_->tasks_of(instance), why);
}

bool Engine::may_read_kpi(const std::string& actor, const std::string& metric) {
  std::string why;
  return impl_->may_read_kpi(actor, metric, why);
}

std::optional<TaskView> Engine::task_for(const std::string& actor, int64_t id) {
  auto it = impl_->tasks.find(id);
  if (it == impl_->tasks.end()) return std::nullopt;
  std::string why;
  if (!impl_->may_read(actor, it->second, why)) {
    audit_refused_read(actor, "task " + it->second.name + " #" + std::to_string(id), why);
    return std::nullopt;
  }
  return task_view(*impl_, id, it->second);
}

std::vector<TaskView> Engine::tasks_for(const std::string& actor, bool open_only) {
  auto& I = *impl_;
  std::vector<TaskView> out;
  std::string why;
  auto add = [&](int64_t id, const Task& t) {
    if (I.may_read(actor, t, why)) out.push_back(task_view(I, id, t));
  };
  if (open_only)
    for (int64_t id : I.open_tasks) add(id, I.tasks.at(id));
  else
    for (auto& [id, t] : I.tasks) add(id, t);
  return out;
}

std::vector<InstanceView> Engine::instances_for(const std::string& actor) {
  auto& I = *impl_;
  std::vector<InstanceView> out;
  std::string why;
  for (auto& [id, i] : I.instances) {
    if (I.may_read(actor, id, i, I.tasks_of(id), why))
      out.push_back(
          {id, i.v->b->program.processes[i.process].name, i.status, i.error, i.started_at, i.ended_at});
  }
  return out;
}

std::vector<KpiView> Engine::kpis_for(const std::string& actor) {
  std::vector<KpiView> out;
  std::string why;
  for (KpiView& k : kpis())
    if (impl_->may_read_kpi(actor, k.name, why)) out.push_back(std::move(k));
  return out;
}

void Engine::audit_refused_read(const std::string& actor, const std::string& what, const std::string& why) {
  auto& s = impl_->store;
  store::AuditEntry e;
  e.at = clock_;
  e.actor = actor;
  e.action = "read";
  e.resource = what;
  e.decision = "refused";
  e.reason = why.empty() ? "no role or policy permits it" : why;
  // Its own batch (a savepoint inside a group): a read is no input, but its refusal is on the record.
  s.begin();
  try {
    s.append_audit(e);
    s.commit();
  } catch (...) {
    s.rollback();
    throw;
  }
}

RuleExplanation Engine::explain(const std::string& rule, int64_t record) {
  auto& I = *impl_;
  Impl::Use use(I, I.current);
  const auto& rules = I.P().rules;
  uint32_t r = 0;
  while (r < rules.size() && rules[r].name != rule) ++r;
  if (r == rules.size()) {
    std::string known;
    for (const auto& x : rules) known += (known.empty() ? "" : ", ") + x.name;
    throw std::invalid_argument(
        "no rule `" + rule + "` in the organization (its rules: " + (known.empty() ? "none" : known) + ")");
  }
  auto it = I.records.find(record);
  if (it == I.records.end() || !I.net)
    throw std::invalid_argument("no record #" + std::to_string(record) + " in the store");
  I.EV()->set_today(I.day_of(clock_));
  return {rule, I.layout_name(it->second->type_id), record, I.net->explain(r, record)};
}

std::vector<InstanceView> Engine::instances() const {
  std::vector<InstanceView> out;
  for (auto& [id, i] : impl_->instances)
    out.push_back(
        {id, i.v->b->program.processes[i.process].name, i.status, i.error, i.started_at, i.ended_at});
  return out;
}

std::vector<std::pair<std::string, std::string>> Engine::metrics() {
  std::vector<std::pair<std::string, std::string>> out;
  auto& I = *impl_;
  for (const MetricIR& mt : I.P().metrics) {
    I.EV()->set_today(I.day_of(clock_));
    auto o = I.EV()->call(mt.formula, {});
    // A KPI over nothing yet (the average of no values) has no value; that is not an error of the run.
    if (!o.ok() && o.error->kind == interp::ErrorKind::EmptyAggregate)
      out.push_back({mt.name, "no data"});
    else
      out.push_back({mt.name, o.ok() ? I.text(o.value) : "error: " + o.error->message});
  }
  return out;
}

std::vector<KpiView> Engine::kpis() {
  auto& I = *impl_;
  std::vector<KpiView> out;
  // Numbers of every kind compared as decimals (money in its own currency only).
  auto number = [](const Value& v, Dec& d) {
    switch (v.tag) {
      case kTagInt:
      case kTagDuration:
        d = static_cast<Dec>(v.u.i) * kDecOne;
        return true;
      case kTagDec:
      case kTagMoney:
        d = v.u.d;
        return true;
      default:
        return false;
    }
  };
  auto holds = [&](Comparison op, const Value& a, const Value& b) {
    Dec x, y;
    if (!number(a, x) || !number(b, y)) return false;
    if (a.tag == kTagMoney && b.tag == kTagMoney && a.aux != b.aux) return false;
    return compare(op, x, y);
  };
  I.ev_today();
  for (const MetricIR& mt : I.P().metrics) {
    KpiView k;
    k.name = mt.name;
    auto o = I.EV()->call(mt.formula, {});
    bool has = o.ok();
    if (!has)
      k.value = o.error->kind == interp::ErrorKind::EmptyAggregate ? "no data" : "error: " + o.error->message;
    else
      k.value = I.text(o.value);
    auto bound = [&](uint32_t fn) {
      auto b = I.EV()->call(fn, {});
      return b.ok() ? std::optional<Value>(b.value) : std::nullopt;
    };
    if (mt.target != kNone) {
      auto t = bound(mt.target);
      if (t) {
        k.target = std::string(op_name(op_of(mt.target_op))) + " " + I.text(*t);
        k.verdict = !has ? "no data" : holds(mt.target_op, o.value, *t) ? "met" : "missed";
      }
    }
    if (has && mt.warn != kNone)
      if (auto w = bound(mt.warn)) k.warn = holds(mt.warn_op, o.value, *w);
    if (has && mt.alert != kNone)
      if (auto a = bound(mt.alert)) k.alert = holds(mt.alert_op, o.value, *a);
    out.push_back(k);
  }
  return out;
}

std::vector<std::string> Engine::replay(const bundle::Bundle& b, store::Store& log, EngineOptions opts) {
  std::vector<std::string> lines;
  opts.trace = [&](const std::string& l) { lines.push_back(l); };
  store::Store fresh(":memory:");
  replay_into(b, log, fresh, opts, false);
  return lines;
}

void Engine::replay_into(const bundle::Bundle& b, store::Store& log, store::Store& fresh, EngineOptions opts,
                         bool restarts) {
  std::unique_ptr<Engine> e;
  for (const store::Input& in : log.inputs_after(0)) {
    // While an engine runs its clock moves only by logged ticks; a later clock without one was a restart at
    // a later wall clock, and the replay restarts there too, so the times it records are the original's.
    if (!e || (restarts && in.at > e->now())) {
      if (restarts) opts.start_time = in.at;
      e.reset();
      e = std::make_unique<Engine>(b, fresh, opts);
      e->impl_->keys_scoped = true;  // the log's keys, as they are: the replayed log is the same log
    }
    std::string error;
    std::optional<InputBody> body = decode_input(in.kind, in.payload, error);
    if (!body)
      throw store::StoreError("input " + std::to_string(in.seq) + " of the log cannot be replayed: " + error +
                                  "; the store is damaged or was edited",
                              store::StoreFault::Damaged);
    const std::string& actor = in.actor;
    const std::string& key = in.key;
    // Every kind has its branch: a kind added to InputBody without one does not compile.
    std::visit(Overloaded{
                   [&](const EventInput& b) { e->post_event(b.name, b.payload, actor, key); },
                   [&](const StartInput& b) { e->start(b.process, b.args, actor, key); },
                   [&](const CompleteInput& b) { e->complete_task(b.task, actor, b.outcome, b.data, key); },
                   [&](const ClaimInput& b) { e->claim_task(b.task, actor, key); },
                   [&](const DecideInput& b) { e->decide(b.task, actor, b.approve, key); },
                   [&](const TickInput& b) { e->advance_to(b.to, key); },
                   [&](const ConnectorResultInput& b) { e->connector_result(b.outbox, b.result, key); },
                   [&](const TransitionInput& b) { e->transition(b.type, b.record, b.name, actor, key); },
               },
               *body);
  }
}

}  // namespace orgos::workflow
