// Scenarios: a YAML script of inputs at virtual times (events, process starts, task completions,
// approval decisions, clock advances) and the outcomes expected at the end (instances by status, open
// tasks, metric values, lines of the trace, refused commands). `orgctl run` plays them; the stdlib's and
// the templates' scenario tests are written this way.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "runtime/workflow/engine.h"

namespace orgos::scenario {

// What kind of thing went wrong, so a refused step is not reported as a failed expectation.
enum class FailureKind {
  File,         // the file cannot be read, is not YAML, or is refused as unsafe (aliases, size, depth)
  Structure,    // the file reads but says something malformed: an unknown key, a time that is not one, …
  Refused,      // the engine refused a step that was not expected to be refused (or for another reason)
  Accepted,     // a step marked `expect_error` was accepted
  Expectation,  // an entry of `expect:` did not hold
};
// A short label for reports: "error", "refused", "not refused", "expectation failed".
const char* label(FailureKind k);

struct Failure {
  FailureKind kind;
  std::string text;  // file:line:col: what
};

struct Result {
  bool ok = true;                     // every step applied as expected and every expectation held
  std::vector<std::string> failures;  // what did not hold, each with the step or expectation it concerns
  std::vector<Failure> found;         // the same, in the same order, each with its kind
  std::vector<std::pair<std::string, std::string>> metrics;
  size_t steps = 0, applied = 0, skipped = 0;  // skipped: already in the store's log (a resumed run)
};

struct Options {
  // Progress, one call per step: where it is (file:line), its position and the number of steps.
  std::function<void(const std::string& where, size_t index, size_t total)> on_step;
  // Steps per store transaction (group commit); 1 commits every step on its own. A crash loses at most
  // the group in flight, which a resumed run plays again.
  size_t group_commit = 1;
};

// Parses the file; on a YAML or structure error returns a Result with ok=false and the error (file:line).
// The engine's clock must not be past the scenario's start.
Result run(const std::string& path, workflow::Engine& engine, const Options& opts = {});
// Reads just the start time (seconds since 1970) so the engine can be created at that clock.
int64_t start_time(const std::string& path, std::string& error);

}  // namespace orgos::scenario
