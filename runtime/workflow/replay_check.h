// Replays a store's input log into a fresh in-memory engine and compares what it gives with the state the
// store holds. The input log is the source of truth (and the audit chain vouches for it); the state tables
// beside it are a cache of what the log produced, and an edit of them (a salary changed in a record, a task
// marked done) is found here, named by table, row and field.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/workflow/engine.h"

namespace orgos::workflow {

struct StateDifference {
  std::string table;  // record, instance, task, timer, event, outbox
  int64_t id = 0;
  std::string what;   // the row's type (records), the key (table meta), else ""
  std::string field;  // "" when the whole row is missing on one side
  std::string stored, replayed;
  std::string describe() const;
};

struct ReplayCheck {
  int64_t inputs = 0;
  std::vector<StateDifference> differences;  // in table, then id order
};

// `opts` as the engine that wrote the store ran (its exec engine and bounds); its start time and trace are
// the replay's own. Throws what replaying throws (a StoreError, a bundle that does not fit the store).
ReplayCheck check_against_replay(const bundle::Bundle& b, store::Store& stored, EngineOptions opts);

}  // namespace orgos::workflow
