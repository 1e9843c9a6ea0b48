// The C API: a thin layer over orgos::Organization that keeps the last error and the last returned
// JSON text inside the handle, so C callers never free anything but the handle.
#include <nlohmann/json.hpp>

#include "orgos/orgos.h"
#include "orgos/orgos.hpp"

struct orgos_org {
  orgos::Organization org;
  std::string error, text;
};

namespace {
thread_local std::string open_error;

int status(orgos_org* o, const orgos::Status& s) {
  if (s.ok()) {
    o->error.clear();
    return 0;
  }
  o->error = s.error().message;
  return 1;
}
std::string str(const char* s) {
  return s ? s : "";
}
}  // namespace

extern "C" {

orgos_org* orgos_open(const char* path, const char* store) {
  if (!path) {
    open_error = "no path given";
    return nullptr;
  }
  orgos::OpenOptions opts;
  if (store) opts.store = store;
  auto r = orgos::Organization::open(path, opts);
  if (!r) {
    open_error = r.error().message;
    return nullptr;
  }
  open_error.clear();
  return new orgos_org{std::move(r.value()), "", ""};
}

const char* orgos_open_error(void) {
  return open_error.c_str();
}

void orgos_close(orgos_org* org) {
  delete org;
}

int orgos_post_event(orgos_org* o, const char* event, const char* payload, const char* actor,
                     const char* key) {
  if (!o) return 1;
  return status(o, o->org.post_event(str(event), str(payload), str(actor), str(key)));
}

int orgos_start(orgos_org* o, const char* process, const char* args, const char* actor, const char* key,
                int64_t* id) {
  if (!o) return 1;
  auto r = o->org.start(str(process), str(args), str(actor), str(key));
  if (!r) {
    o->error = r.error().message;
    return 1;
  }
  if (id) *id = r.value();
  o->error.clear();
  return 0;
}

int orgos_complete_task(orgos_org* o, int64_t task, const char* actor, const char* outcome, const char* data,
                        const char* key) {
  if (!o) return 1;
  return status(o, o->org.complete_task(task, str(actor), str(outcome), str(data), str(key)));
}

int orgos_decide(orgos_org* o, int64_t task, const char* actor, int approve, const char* key) {
  if (!o) return 1;
  return status(o, o->org.decide(task, str(actor), approve != 0, str(key)));
}

int orgos_advance_to(orgos_org* o, int64_t time, const char* key) {
  if (!o) return 1;
  return status(o, o->org.advance_to(time, str(key)));
}

const char* orgos_tasks_json(orgos_org* o) {
  if (!o) return "[]";
  nlohmann::json a = nlohmann::json::array();
  for (auto& t : o->org.tasks())
    a.push_back({{"id", t.id},
                 {"instance", t.instance},
                 {"process", t.process},
                 {"name", t.name},
                 {"role", t.role},
                 {"unit", t.unit},
                 {"status", t.status},
                 {"approval", t.approval},
                 {"outcomes", t.outcomes},
                 {"due", t.due}});
  o->text = a.dump();
  return o->text.c_str();
}

const char* orgos_instances_json(orgos_org* o) {
  if (!o) return "[]";
  nlohmann::json a = nlohmann::json::array();
  for (auto& i : o->org.instances())
    a.push_back({{"id", i.id}, {"process", i.process}, {"status", i.status}, {"error", i.error}});
  o->text = a.dump();
  return o->text.c_str();
}

const char* orgos_metrics_json(orgos_org* o) {
  if (!o) return "[]";
  nlohmann::json a = nlohmann::json::array();
  for (auto& m : o->org.metrics()) a.push_back({{"name", m.name}, {"value", m.value}});
  o->text = a.dump();
  return o->text.c_str();
}

const char* orgos_last_error(orgos_org* o) {
  return o ? o->error.c_str() : "no organization";
}

}  // extern "C"
