#include "runtime/workflow/replay_check.h"

#include "runtime/workflow/project_identity.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace orgos::workflow {

namespace {

using Rows = std::map<int64_t, json>;  // id → the row as a JSON object of its fields

json parsed(const std::string& doc) {
  json j = json::parse(doc, nullptr, false);
  return j.is_discarded() ? json(doc) : j;
}

// Every table the engine writes, as comparable rows. Nested JSON columns are parsed, so a difference is
// named down to the field inside them.
std::map<std::string, Rows> state_of(store::Store& s) {
  std::map<std::string, Rows> t;
  for (const char* table : {"record", "event", "outbox"})
    s.for_each(table, [&](int64_t id, const std::string& doc) { t[table][id] = parsed(doc); });
  s.for_each_instance([&](const store::InstanceRow& r) {
    auto frame = s.instance_frame(r.id);
    t["instance"][r.id] = {{"process", r.process},
                           {"version", r.version},
                           {"status", r.status},
                           {"phase", r.phase},
                           {"error", r.error},
                           {"parent", r.parent},
                           {"parent_token", r.parent_token},
                           {"started_at", r.started_at},
                           {"ended_at", r.ended_at},
                           {"deadline_timer", r.deadline_timer},
                           {"tokens", parsed(r.tokens)},
                           {"forks", parsed(r.forks)},
                           {"compensations", parsed(r.compensations)},
                           {"frame", parsed(frame.value_or(""))},
                           {"started_by", r.started_by}};
  });
  s.for_each_task([&](const store::TaskRow& r) {
    t["task"][r.id] = {{"instance", r.instance},
                       {"token", r.token},
                       {"step", r.step},
                       {"name", r.name},
                       {"role", r.role},
                       {"unit", r.unit},
                       {"status", r.status},
                       {"claimed_by", r.claimed_by},
                       {"approval", r.approval},
                       {"outcomes", parsed(r.outcomes)},
                       {"decisions", parsed(r.decisions)},
                       {"timer", r.timer},
                       {"due", r.due}};
  });
  s.for_each_timer([&](const store::TimerRow& r) {
    t["timer"][r.id] = {
        {"due", r.due}, {"instance", r.instance}, {"token", r.token}, {"task", r.task}, {"kind", r.kind}};
  });
  return t;
}

std::string text(const json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

// The fields of `a` and `b` that differ, by dotted path; objects are compared field by field.
void diff(const json& a, const json& b, const std::string& path,
          std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& out) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    std::map<std::string, std::pair<const json*, const json*>> keys;
    for (auto& [k, v] : a.items()) keys[k].first = &v;
    for (auto& [k, v] : b.items()) keys[k].second = &v;
    static const json absent = "(absent)";
    for (auto& [k, p] : keys)
      diff(p.first ? *p.first : absent, p.second ? *p.second : absent, path.empty() ? k : path + "." + k,
           out);
    return;
  }
  out.push_back({path, {text(a), text(b)}});
}

// The largest id the stored rows use, those inside instance rows (tokens, forks) included: the engine's id
// counter must be above it, or its next new row would take an id that is in use.
int64_t largest_id(std::map<std::string, Rows>& state) {
  int64_t top = 0;
  for (auto& [table, rows] : state)
    for (auto& [id, row] : rows) {
      top = std::max(top, id);
      if (table != "instance") continue;
      for (const char* inner : {"tokens", "forks"})
        if (row.contains(inner) && row[inner].is_array())
          for (const json& t : row[inner])
            if (t.is_array() && !t.empty() && t[0].is_number_integer())
              top = std::max(top, t[0].get<int64_t>());
    }
  return top;
}

// `meta` next_id against the rows: a counter at or below an id in use is reported (an edit, or damage).
void check_next_id(store::Store& s, std::map<std::string, Rows>& state, std::vector<StateDifference>& out) {
  const int64_t top = largest_id(state);
  auto stored = s.meta("next_id");
  int64_t n = 0;
  bool number = false;
  if (stored) {
    try {
      size_t used = 0;
      n = std::stoll(*stored, &used);
      number = used == stored->size();
    } catch (const std::exception&) {
    }
  }
  if (!stored && top == 0) return;  // an empty store has no counter yet
  // A counter (or an id) at or above the id limit is an edit too: the engine refuses such a store.
  constexpr int64_t limit = store::Store::kIdLimit;
  if (number && n > top && n < limit) return;
  std::string why = "ids up to " + std::to_string(top) + " are in use: it must be at least " +
                    (top < limit ? std::to_string(top + 1) : "one past them, and below 2^53");
  if (top < limit && number && n > top)
    why = "the ids a store hands out stay below 2^53 (" + std::to_string(limit) + ")";
  out.push_back({"meta", 0, "next_id", "value", stored ? *stored : "(absent)", why});
}

}  // namespace

std::string StateDifference::describe() const {
  if (table == "meta") return "meta " + what + ": stored " + stored + ", but " + replayed;
  std::string row = table + " " + std::to_string(id) + (what.empty() ? "" : " (" + what + ")");
  if (field.empty())
    return row + (stored.empty() ? " is missing from the store (the replay made it)"
                                 : " is in the store, but the replay did not make it");
  return row + " field " + field + ": stored " + stored + ", replayed " + replayed;
}

ReplayCheck check_against_replay(const bundle::Bundle& b, store::Store& stored, EngineOptions opts) {
  ReplayCheck out;
  // The replay runs in a fresh store: the stored one is compared with this project before its log is read.
  must_record_project(stored, project_identity(b, opts.project));  // read-only: it only compares
  out.inputs = static_cast<int64_t>(stored.inputs_after(0).size());
  opts.trace = nullptr;
  store::Store fresh(":memory:");
  Engine::replay_into(b, stored, fresh, opts, true);
  auto have = state_of(stored), want = state_of(fresh);
  check_next_id(stored, have, out.differences);
  std::set<std::string> tables;
  for (auto& [t, rows] : have) tables.insert(t);
  for (auto& [t, rows] : want) tables.insert(t);
  for (const std::string& t : tables) {
    Rows& a = have[t];
    Rows& r = want[t];
    std::set<int64_t> ids;
    for (auto& [id, row] : a) ids.insert(id);
    for (auto& [id, row] : r) ids.insert(id);
    for (int64_t id : ids) {
      auto ia = a.find(id), ir = r.find(id);
      const json& any = ia != a.end() ? ia->second : ir->second;
      std::string what = any.is_object() && any.contains("$type") ? text(any["$type"]) : "";
      if (ia == a.end() || ir == r.end()) {
        out.differences.push_back(
            {t, id, what, "", ia == a.end() ? "" : "present", ir == r.end() ? "" : "present"});
        continue;
      }
      std::vector<std::pair<std::string, std::pair<std::string, std::string>>> fields;
      diff(ia->second, ir->second, "", fields);
      for (auto& [field, v] : fields) out.differences.push_back({t, id, what, field, v.first, v.second});
    }
  }
  return out;
}

}  // namespace orgos::workflow
