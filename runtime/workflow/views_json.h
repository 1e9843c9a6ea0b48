// The engine's query views as JSON, one shape everywhere they leave the process: the server's replies and
// `orgctl … --json`. (The C API writes the embedding API's own view types, embed/c_api.cpp.)
#pragma once
#include "runtime/workflow/engine.h"

namespace orgos::workflow {

inline void to_json(json& j, const TaskView& t) {
  j = {{"id", t.id},
       {"instance", t.instance},
       {"process", t.process},
       {"name", t.name},
       {"role", t.role},
       {"unit", t.unit},
       {"status", t.status},
       {"claimed_by", t.claimed_by},
       {"approval", t.approval},
       {"outcomes", t.outcomes},
       {"due", t.due}};
}

inline void to_json(json& j, const InstanceView& i) {
  j = {{"id", i.id},       {"process", i.process},       {"status", i.status},
       {"error", i.error}, {"started_at", i.started_at}, {"ended_at", i.ended_at}};
}

inline void to_json(json& j, const KpiView& k) {
  j = {{"name", k.name},       {"value", k.value}, {"target", k.target},
       {"verdict", k.verdict}, {"warn", k.warn},   {"alert", k.alert}};
}

}  // namespace orgos::workflow
