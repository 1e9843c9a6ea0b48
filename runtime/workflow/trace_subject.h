// What a line of the engine's trace is about (Engine::trace_subject), so that the line can be given to the
// actors who may read that thing and no one else (Engine::may_read_line, docs/server.md "Who may read
// what"). The subject is captured when the line is written; who may read it is decided when it is read.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace orgos::workflow {

// Nothing more precise is known: only `system` reads the line.
struct AboutNothing {};

// The organization as a whole (the clock advancing, a transition of the org's lifecycle): its members, who
// hold a position, read it, and whoever is granted `read` on the org by name.
struct AboutOrganization {};

// An instance: its steps, timers and start, and the commands on its tasks.
struct AboutInstance {
  int64_t id = 0;
};

// An event, as posted or emitted: read by who posted it, by the readers of the instance that emitted it,
// and by who is granted `read` on the event's name (`may read E`, `permit read E`).
struct AboutEvent {
  std::string name;
  std::string poster;    // the actor whose input posted it; "" when a process, rule or alert emitted it
  int64_t instance = 0;  // the instance whose step emitted it, 0 for none
};

// A stored record, named by its type and id (the id lets a policy's condition see the record itself).
struct RecordRef {
  std::string type;
  int64_t id = 0;
};

// A record that a rule or a lifecycle transition inserted, modified or retracted: read by who is granted
// `read` on the type of every record named, by the readers of the event that caused the firing, and by the
// actor whose command made the change.
struct AboutRecords {
  std::vector<RecordRef> records;
  std::optional<AboutEvent> cause;  // the event the firing matched
  std::string by;                   // the actor whose command (a transition) changed them, "" for none
};

// A rule firing (and what its actions say: a notification, an emit): about everything it matched, so read
// by who may read all of it — the event it fired on (its readers) and every record (a grant or permit on
// the record itself). Being a reader of the event does not open the records: a rule joining a posted event
// with a record would otherwise show the record's fields to whoever may post the event.
struct AboutFiring {
  std::vector<RecordRef> records;   // the records it matched
  std::optional<AboutEvent> cause;  // the event it matched, if any
};

// A metric (its alert being raised): read as the KPI is.
struct AboutMetric {
  std::string name;
};

using TraceSubject = std::variant<AboutNothing, AboutOrganization, AboutInstance, AboutEvent, AboutRecords,
                                  AboutFiring, AboutMetric>;

}  // namespace orgos::workflow
