#include "runtime/scenario/scenario_schema.h"

#include <algorithm>

#include "compiler/sema/symbols.h"

namespace orgos::scenario {

const std::vector<std::string> kFileKeys = {"name", "description", "start", "actor", "steps", "expect"};
const std::vector<std::string> kExpectKeys = {"instances", "open_tasks", "metrics", "refused"};

namespace {

const std::vector<std::string> kActions = {"event", "start", "complete", "decide", "transition", "advance"};
// Keys any step may have.
const std::vector<std::string> kCommon = {"at", "as", "expect_error"};
// Keys that only make sense with one action.
struct Companion {
  const char* key;
  const char* action;
};
const Companion kCompanions[] = {{"payload", "event"},    {"id", "event"},       {"args", "start"},
                                 {"outcome", "complete"}, {"data", "complete"},  {"decision", "decide"},
                                 {"of", "transition"},    {"org", "transition"}, {"record", "transition"}};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

std::vector<std::string> step_keys() {
  std::vector<std::string> all = kActions;
  all.insert(all.end(), kCommon.begin(), kCommon.end());
  for (const Companion& c : kCompanions) all.push_back(c.key);
  return all;
}

}  // namespace

std::vector<KeyProblem> unknown_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                                     const std::string& what) {
  std::vector<KeyProblem> out;
  if (!map.IsMap()) return out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      out.push_back({it->first.Mark(), "a key of " + what + " must be a plain name"});
      continue;
    }
    const std::string& k = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    std::string near = sema::closest(k, allowed);
    out.push_back({it->first.Mark(), "unknown key `" + k + "` in " + what +
                                         (near.empty() ? "" : " (did you mean `" + near + "`?)") +
                                         "; expected one of " + join(allowed)});
  }
  return out;
}

std::vector<KeyProblem> expect_problems(const YAML::Node& expect) {
  static const std::vector<std::string> statuses = {"running", "completed", "failed"};
  std::vector<KeyProblem> out;
  if (!expect.IsMap()) return out;
  auto count = [&](const YAML::Node& n, const std::string& what) {
    const std::string& v = n.IsScalar() ? n.Scalar() : std::string();
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
      out.push_back({n.Mark(), what + " is a count (a whole number like 0 or 3)"});
  };
  for (const char* k : {"open_tasks", "refused"})
    if (YAML::Node n = expect[k]) count(n, std::string("`") + k + "`");
  if (YAML::Node inst = expect["instances"]) {
    if (!inst.IsMap()) {
      out.push_back({inst.Mark(),
                     "`instances` maps each process to counts by status, like "
                     "`instances: {Recruit: {completed: 2}}`"});
    } else {
      for (auto it = inst.begin(); it != inst.end(); ++it) {
        const std::string proc = it->first.IsScalar() ? it->first.Scalar() : "?";
        if (!it->second.IsMap()) {
          out.push_back({it->second.Mark(), "`" + proc + "` maps statuses to counts, like `{completed: 2}`"});
          continue;
        }
        for (const KeyProblem& p : unknown_keys(it->second, statuses, "the statuses of `" + proc + "`"))
          out.push_back(p);
        for (auto s = it->second.begin(); s != it->second.end(); ++s)
          count(s->second, "the number of " + (s->first.IsScalar() ? s->first.Scalar() : "?") + " " + proc);
      }
    }
  }
  if (YAML::Node mets = expect["metrics"]) {
    if (!mets.IsMap())
      out.push_back(
          {mets.Mark(), "`metrics` maps metric names to values, like `metrics: {spend: \"0 USD\"}`"});
    else
      for (auto it = mets.begin(); it != mets.end(); ++it)
        if (!it->second.IsScalar())
          out.push_back(
              {it->second.Mark(), "a metric's expected value is a single value, as the run prints it"});
  }
  return out;
}

std::vector<KeyProblem> step_problems(const YAML::Node& step) {
  static const std::vector<std::string> known = step_keys();
  std::vector<KeyProblem> out = unknown_keys(step, known, "a step");
  if (!out.empty() || !step.IsMap()) return out;
  std::string action;
  for (auto it = step.begin(); it != step.end(); ++it) {
    const std::string& k = it->first.Scalar();
    if (std::find(kActions.begin(), kActions.end(), k) == kActions.end()) continue;
    if (!action.empty()) {
      out.push_back({it->first.Mark(), "a step does one thing: it has both `" + action + "` and `" + k +
                                           "`; split it into two steps"});
      return out;
    }
    action = k;
  }
  for (auto it = step.begin(); it != step.end(); ++it) {
    const std::string& k = it->first.Scalar();
    for (const Companion& c : kCompanions)
      if (k == c.key && action != c.action)
        out.push_back({it->first.Mark(), "`" + k + "` belongs to a `" + c.action + "` step" +
                                             (action.empty() ? "" : ", not to a `" + action + "` step")});
  }
  return out;
}

}  // namespace orgos::scenario
