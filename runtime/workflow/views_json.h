// The engine's query views as JSON, one shape everywhere they leave the process: the server's replies,
// `orgctl … --json` and the C API (embed/c_api.cpp). The embedding API's types (include/orgos/orgos.hpp:
// Task, Instance, Metric) carry the same fields as the engine's views, so each shape is written once, as a
// template over either; a field missing from one of them does not compile.
#pragma once
#include "runtime/workflow/engine.h"

namespace orgos::workflow {

template <typename Task>
json task_json(const Task& t) {
  return {{"id", t.id},
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

template <typename Instance>
json instance_json(const Instance& i) {
  return {{"id", i.id},       {"process", i.process},       {"status", i.status},
          {"error", i.error}, {"started_at", i.started_at}, {"ended_at", i.ended_at}};
}

template <typename Kpi>
json kpi_json(const Kpi& k) {
  return {{"name", k.name},       {"value", k.value}, {"target", k.target},
          {"verdict", k.verdict}, {"warn", k.warn},   {"alert", k.alert}};
}

inline void to_json(json& j, const TaskView& t) {
  j = task_json(t);
}
inline void to_json(json& j, const InstanceView& i) {
  j = instance_json(i);
}
inline void to_json(json& j, const KpiView& k) {
  j = kpi_json(k);
}

}  // namespace orgos::workflow
