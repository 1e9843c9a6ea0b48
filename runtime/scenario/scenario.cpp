// Scenario files are validated as they are read: an unknown key, a time in the past or a task that is
// not open is a failure that names the step (file:line), not a silent skip. Input keys derive from the
// scenario's name and the step's position, so replaying a scenario on a store that already holds part of
// it applies only the rest: a resumed run ends exactly as an uninterrupted one — with the same verdict,
// because a step found in the log is judged by its logged outcome just as a step played now.
#include "runtime/scenario/scenario.h"

#include <yaml-cpp/yaml.h>

#include <map>

#include "compiler/source/safe_yaml.h"
#include "compiler/syntax/literal.h"
#include "runtime/scenario/scenario_schema.h"

namespace orgos::scenario {

using workflow::json;

namespace {

json to_json(const YAML::Node& n) {
  if (!n) return nullptr;  // a missing key: yaml-cpp's placeholder node throws on any other use
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted: always a string
      if (s == "true" || s == "false") return s == "true";
      if (s == "null" || s == "~") return nullptr;
      // Only plain integers become numbers; dates (2026-01-31), amounts (12 USD) and durations stay text.
      size_t digits_from = !s.empty() && s[0] == '-' ? 1 : 0;
      bool integer = s.size() > digits_from && s.size() < 19 &&
                     s.find_first_not_of("0123456789", digits_from) == std::string::npos;
      if (integer) return std::stoll(s);
      return s;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& x : n) a.push_back(to_json(x));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (auto it = n.begin(); it != n.end(); ++it) o[it->first.as<std::string>()] = to_json(it->second);
      return o;
    }
  }
  return nullptr;
}

std::string where(const std::string& file, const YAML::Mark& m) {
  if (m.line < 0) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}
std::string where(const std::string& file, const YAML::Node& n) {
  return where(file, n.Mark());
}

// "2026-01-31", "2026-01-31 09:30", or relative "+2d" / "+3h" from `now`.
bool parse_time(const std::string& s, int64_t now, int64_t& out) {
  if (!s.empty() && s[0] == '+') {
    auto d = syntax::parse_duration(s.substr(1));
    if (!d) return false;
    return !__builtin_add_overflow(now, *d, &out);  // `+9999999999999d` is not a time
  }
  auto day = syntax::parse_date(s.substr(0, 10));
  if (!day) return false;
  int64_t secs = 0;
  if (s.size() > 10) {
    if (s.size() != 16 || s[10] != ' ' || s[13] != ':') return false;
    auto h = syntax::parse_int(s.substr(11, 2)), m = syntax::parse_int(s.substr(14, 2));
    if (!h || !m || *h > 23 || *m > 59) return false;
    secs = *h * 3600 + *m * 60;
  }
  out = *day * 86400 + secs;
  return true;
}

}  // namespace

const char* label(FailureKind k) {
  switch (k) {
    case FailureKind::File:
    case FailureKind::Structure:
      return "error";
    case FailureKind::Refused:
      return "refused";
    case FailureKind::Accepted:
      return "not refused";
    case FailureKind::Expectation:
      return "expectation failed";
  }
  return "error";
}

int64_t start_time(const std::string& path, std::string& error) {
  try {
    source::YamlDocument doc = source::load_yaml_file(path);
    if (!doc.ok) {
      error = doc.describe(path);
      return 0;
    }
    YAML::Node root = doc.root;
    int64_t t = 0;
    if (root.IsMap() && root["start"] && !parse_time(root["start"].Scalar(), 0, t)) {
      error = where(path, root["start"]) + ": `start` must be a date like 2026-01-01";
      return 0;
    }
    return t;
  } catch (const YAML::Exception& e) {
    error = where(path, e.mark) + ": " + e.msg;
    return 0;
  }
}

Result run_checked(const std::string& path, workflow::Engine& engine, const Options& opts);

// Any YAML shape the reader did not expect (a list where a value belongs, …) is a failure with its
// position, never an exception out of the runner.
Result run(const std::string& path, workflow::Engine& engine, const Options& opts) {
  // Every way out of the runner commits the group in flight, so what was played is durable.
  struct GroupGuard {
    workflow::Engine& e;
    bool on;
    ~GroupGuard() {
      try {
        if (on) e.commit_group();
      } catch (...) {
        // The store reports its own failures; a destructor must not throw. The group is then lost, as in a
        // crash, and a resumed run plays it again.
      }
    }
  } guard{engine, opts.group_commit > 1};
  if (guard.on) engine.begin_group();
  try {
    return run_checked(path, engine, opts);
  } catch (const YAML::Exception& e) {
    Result r;
    r.ok = false;
    r.failures.push_back(where(path, e.mark) + ": " + e.msg);
    r.found.push_back({FailureKind::Structure, r.failures.back()});
    return r;
  }
}

Result run_checked(const std::string& path, workflow::Engine& engine, const Options& opts) {
  Result r;
  // At most kMaxReported problems are listed (a file of 50,000 misspelt keys printed 50,002 lines); the
  // rest are counted in one last line. The verdict counts them all.
  constexpr size_t kMaxReported = 100;
  size_t unlisted = 0;
  auto fail_as = [&](FailureKind kind, const std::string& m) {
    r.ok = false;
    if (r.found.size() >= kMaxReported) {
      ++unlisted;
      std::string more = "... and " + std::to_string(unlisted) + " more problems not shown";
      if (r.found.size() == kMaxReported) {
        r.failures.push_back(more);
        r.found.push_back({kind, more});
      } else {
        r.failures.back() = more;
        r.found.back().text = more;
      }
      return;
    }
    r.failures.push_back(m);
    r.found.push_back({kind, m});
  };
  auto fail = [&](const std::string& m) { fail_as(FailureKind::Structure, m); };
  source::YamlDocument doc = source::load_yaml_file(path);
  if (!doc.ok) {
    fail_as(FailureKind::File, doc.describe(path) + " (the scenario file)");
    return r;
  }
  YAML::Node root = doc.root;
  if (!root.IsMap()) {
    fail(path +
         ": a scenario is a mapping with `steps:` (and optionally `name:`, `start:`, `actor:`, `expect:`)");
    return r;
  }
  for (const KeyProblem& p : unknown_keys(root, kFileKeys, "the scenario"))
    fail(where(path, p.mark) + ": " + p.message);
  if (!r.ok) return r;  // `steeps:` would leave no steps to check
  if (YAML::Node ex = root["expect"]) {
    if (!ex.IsMap() && !ex.IsNull())
      fail(where(path, ex) + ": `expect` is a mapping of instances, open_tasks, metrics, refused");
    for (const KeyProblem& p : unknown_keys(ex, kExpectKeys, "`expect`"))
      fail(where(path, p.mark) + ": " + p.message);
    for (const KeyProblem& p : expect_problems(ex)) fail(where(path, p.mark) + ": " + p.message);
    // Names the program does not have: a misspelt process counted 0 of everything and passed, a misspelt
    // metric failed as "(no such metric)" after the whole scenario had played.
    std::vector<std::string> processes, metrics;
    for (const auto& pr : engine.bundle().program.processes) processes.push_back(pr.name);
    for (const auto& m : engine.bundle().program.metrics) metrics.push_back(m.name);
    if (ex.IsMap() && ex["instances"])
      for (const KeyProblem& p : unknown_keys(ex["instances"], processes, "`expect: instances` (a process)"))
        fail(where(path, p.mark) + ": " + p.message);
    if (ex.IsMap() && ex["metrics"])
      for (const KeyProblem& p : unknown_keys(ex["metrics"], metrics, "`expect: metrics` (a metric)"))
        fail(where(path, p.mark) + ": " + p.message);
  }
  YAML::Node steps = root["steps"];
  if (steps && !steps.IsSequence()) {
    fail(where(path, steps) + ": `steps` must be a list");
    return r;
  }
  // `name` and `actor` are single values (a list there used to end the run with a conversion error).
  for (const char* k : {"name", "actor", "start"})
    if (root[k] && !root[k].IsScalar()) fail(where(path, root[k]) + ": `" + k + "` must be a single value");
  // A file with a misspelt key plays nothing: it would test less than it says.
  for (const YAML::Node& st : steps)
    for (const KeyProblem& p : step_problems(st)) fail(where(path, p.mark) + ": " + p.message);
  if (!r.ok) return r;
  std::string name = root["name"] ? root["name"].Scalar() : path;
  std::string default_actor = root["actor"] ? root["actor"].Scalar() : "system";
  int refused = 0;
  size_t index = 0;
  for (const YAML::Node& st : steps) {
    ++index;
    ++r.steps;
    std::string at_step = where(path, st);
    std::string key = "scenario:" + name + ":" + std::to_string(index);
    if (!st.IsMap()) {
      fail(at_step + ": each step is a mapping, like `- event: name`");
      continue;
    }
    if (opts.on_step) opts.on_step(at_step, index, steps.size());
    if (opts.group_commit > 1 && index % opts.group_commit == 0) {
      engine.commit_group();
      engine.begin_group();
    }
    std::string expect_error = st["expect_error"] ? st["expect_error"].as<std::string>() : "";
    // A step already in the store's log (a resumed run) is not played again; its logged outcome counts.
    std::string step_key = st["event"] && st["id"] ? st["id"].as<std::string>() : key;
    // Judging its outcome (below) as if it were played now makes a rerun's verdict the first run's.
    std::optional<workflow::Outcome> done = engine.logged(step_key);
    workflow::Outcome o;
    if (done) {
      o = *done;
    } else {
      // Move the clock first: timers due before the step fire before it.
      if (st["at"] && !engine.logged(key + ":at")) {
        int64_t t = 0;
        if (!parse_time(st["at"].Scalar(), engine.now(), t)) {
          fail(at_step + ": `at: " + st["at"].Scalar() +
               "` is not a time (2026-01-31, 2026-01-31 09:30 or +2d)");
          continue;
        }
        if (t < engine.now()) {
          fail(at_step + ": `at` goes back in time");
          continue;
        }
        // Refused past the end of the engine's calendar: the step is not played at the wrong time.
        if (auto moved = engine.advance_to(t, key + ":at"); !moved.ok) {
          fail_as(FailureKind::Refused, at_step + ": `at`: " + moved.error);
          continue;
        }
      }
      std::string actor = st["as"] ? st["as"].as<std::string>() : default_actor;
      auto task_id = [&](const YAML::Node& t) -> int64_t {
        if (!t) return 0;
        json j = to_json(t);
        if (j.is_number_integer()) return j.get<int64_t>();
        // By name: the oldest open task with that name.
        for (auto& tv : engine.tasks())
          if (tv.name == j.get<std::string>()) return tv.id;
        return -1;
      };
      if (st["event"]) {
        o = engine.post_event(st["event"].as<std::string>(), to_json(st["payload"]), actor,
                              st["id"] ? st["id"].as<std::string>() : key);
      } else if (st["start"]) {
        o = engine.start(st["start"].as<std::string>(), to_json(st["args"]), actor, key);
      } else if (st["complete"] || st["decide"]) {
        bool decide = static_cast<bool>(st["decide"]);
        std::string decision = st["decision"] ? st["decision"].as<std::string>() : "approve";
        if (decide && decision != "approve" && decision != "reject") {
          fail(at_step + ": `decision` is approve or reject, not `" + decision + "`");
          continue;
        }
        int64_t id = task_id(decide ? st["decide"] : st["complete"]);
        if (id < 0) {
          o = workflow::Outcome{
              false, false,
              "no open task named `" + (decide ? st["decide"] : st["complete"]).as<std::string>() + "`", 0};
        } else if (decide) {
          o = engine.decide(id, actor, decision == "approve", key);
        } else {
          o = engine.complete_task(id, actor, st["outcome"] ? st["outcome"].as<std::string>() : "",
                                   to_json(st["data"]), key);
        }
      } else if (st["transition"]) {
        std::string of = st["of"] ? st["of"].as<std::string>() : "";
        if (of.empty()) {
          fail(at_step + ": a transition names what moves: `of: org` or `of: RecordType` with `record:`");
          continue;
        }
        o = engine.transition(
            of, of == "org" ? (st["org"] ? to_json(st["org"]) : json(nullptr)) : to_json(st["record"]),
            st["transition"].as<std::string>(), actor, key);
      } else if (st["advance"]) {
        int64_t t = 0;
        if (!parse_time(st["advance"].Scalar(), engine.now(), t) || t < engine.now()) {
          fail(at_step + ": `advance: " + st["advance"].Scalar() + "` is not a later time");
          continue;
        }
        o = engine.advance_to(t, key);
      } else if (!st["at"]) {
        fail(at_step +
             ": a step needs one of event, start, complete, decide, transition, advance (with at:, as:, …)");
        continue;
      }
    }
    if (o.duplicate)
      ++r.skipped;
    else if (o.ok)
      ++r.applied;
    std::string earlier = done ? " (in an earlier run on this store)" : "";
    if (!o.ok) {
      ++refused;
      if (expect_error.empty())
        fail_as(FailureKind::Refused, at_step + ": " + o.error + earlier);
      else if (o.error.find(expect_error) == std::string::npos)
        fail_as(FailureKind::Refused, at_step + ": refused as expected, but with `" + o.error +
                                          "` (expected it to mention `" + expect_error + "`)" + earlier);
    } else if (!expect_error.empty() && (done || !o.duplicate)) {
      // A key already logged when this run began is this step's own earlier outcome; a duplicate found
      // while playing is another input under the same key, and says nothing about this step.
      fail_as(FailureKind::Accepted, at_step + ": expected this to be refused (`" + expect_error +
                                         "`), but it was accepted" + earlier);
    }
  }
  r.metrics = engine.metrics();
  // ---- expectations
  YAML::Node ex = root["expect"];
  if (ex) {
    if (YAML::Node inst = ex["instances"]) {
      std::map<std::string, std::map<std::string, int>> counts;
      for (auto& i : engine.instances()) counts[i.process][i.status]++;
      for (auto it = inst.begin(); it != inst.end(); ++it) {
        std::string proc = it->first.as<std::string>();
        for (auto s = it->second.begin(); s != it->second.end(); ++s) {
          int want = s->second.as<int>();
          int got = counts[proc][s->first.as<std::string>()];
          if (got != want)
            fail_as(FailureKind::Expectation, where(path, s->first) + ": expected " + std::to_string(want) +
                                                  " " + s->first.as<std::string>() + " " + proc + ", got " +
                                                  std::to_string(got));
        }
      }
    }
    if (YAML::Node open = ex["open_tasks"]) {
      size_t got = engine.tasks().size();
      if (got != open.as<size_t>())
        fail_as(FailureKind::Expectation, where(path, open) + ": expected " + open.as<std::string>() +
                                              " open tasks, got " + std::to_string(got));
    }
    if (YAML::Node mets = ex["metrics"]) {
      for (auto it = mets.begin(); it != mets.end(); ++it) {
        std::string mname = it->first.as<std::string>(), want = it->second.as<std::string>(),
                    got = "(no such metric)";
        for (auto& [n, v] : r.metrics)
          if (n == mname) got = v;
        if (got != want)
          fail_as(FailureKind::Expectation,
                  where(path, it->first) + ": metric " + mname + " is " + got + ", expected " + want);
      }
    }
    if (YAML::Node ref = ex["refused"]) {
      if (refused != ref.as<int>())
        fail_as(FailureKind::Expectation, where(path, ref) + ": expected " + ref.as<std::string>() +
                                              " refused commands, got " + std::to_string(refused));
    }
  }
  return r;
}

}  // namespace orgos::scenario
