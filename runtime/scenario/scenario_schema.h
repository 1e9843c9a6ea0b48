// The vocabulary of a scenario file: which keys a file, a step and `expect:` may hold, and which keys
// belong to which kind of step. A misspelt key (`paylod:`, `compelte:`, `open_task:`) used to be ignored,
// so a scenario silently tested less than it said; now it is an error at its line and column with the
// closest known key as a suggestion.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace orgos::scenario {

struct KeyProblem {
  YAML::Mark mark;      // where the offending key is
  std::string message;  // what is wrong, with a "did you mean" when a known key is close
};

// Every key of the mapping `map` must be one of `allowed`; `what` names the mapping in messages ("a step").
std::vector<KeyProblem> unknown_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                                     const std::string& what);
// A step's keys: known, at most one action (event, start, complete, decide, transition, advance), and each
// companion key with the action it belongs to (`payload` with `event`, `decision` with `decide`, …).
std::vector<KeyProblem> step_problems(const YAML::Node& step);

// The shapes of `expect:`: instances {Process: {status: count}} with a status an instance can have
// (running, completed, failed), open_tasks and refused a count, metrics {name: value}. A misspelt status
// (`complted: 0`) would otherwise hold vacuously.
std::vector<KeyProblem> expect_problems(const YAML::Node& expect);

extern const std::vector<std::string> kFileKeys;    // name, description, start, actor, steps, expect
extern const std::vector<std::string> kExpectKeys;  // instances, open_tasks, metrics, refused

}  // namespace orgos::scenario
