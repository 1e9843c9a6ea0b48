#include "runtime/net/dispatcher.h"

#include "runtime/workflow/input_key.h"
#include "runtime/workflow/views_json.h"

#include <algorithm>
#include <stdexcept>

namespace orgos::net {

std::string Dispatcher::key_of(const Request& r) {
  if (r.body.contains("key") && !r.body["key"].get<std::string>().empty()) return r.body["key"];
  return workflow::fresh_input_key();
}

json Dispatcher::answer(const Request& r, const std::string& key, const workflow::Outcome& o, json result) {
  if (o.conflict) return error_reply(r.id, Code::Conflict, o.error);
  if (!o.ok)
    return error_reply(r.id, Code::Refused,
                       o.duplicate ? o.error + " (key `" + key + "` was refused before)" : o.error);
  result["key"] = key;
  result["duplicate"] = o.duplicate;
  return ok_reply(r.id, std::move(result));
}

json Dispatcher::post_event(const Request& r, const std::string& actor) {
  std::string key = key_of(r);
  json payload = r.body.contains("payload") ? r.body["payload"] : json::object();
  return answer(r, key, e_.post_event(r.body["name"], payload, actor, key), json::object());
}

json Dispatcher::start(const Request& r, const std::string& actor) {
  std::string key = key_of(r);
  json args = r.body.contains("args") ? r.body["args"] : json::object();
  auto o = e_.start(r.body["process"], args, actor, key);
  json result = json::object();
  if (o.id) result["instance"] = o.id;  // a retry does not say which instance the first one started
  return answer(r, key, o, std::move(result));
}

json Dispatcher::task_command(const Request& r, const std::string& actor) {
  int64_t id = r.body["task"];
  std::string key = key_of(r);
  const char* kind = r.verb == "tasks.claim" ? "claim" : r.verb == "tasks.complete" ? "complete" : "decide";
  // A retry of a command this actor already gave under this key goes straight to the engine, which answers
  // as the first time did (or with a conflict if the request differs), even though the task has moved on.
  bool retry = e_.logged(actor, kind, key).has_value();
  // A task the actor may not read is answered as one that does not exist (its refusal is audited).
  auto t = retry ? e_.task(id) : e_.task_for(actor, id);
  std::string tag = "task #" + std::to_string(id);
  if (!retry) {
    if (!t)
      return error_reply(r.id, Code::NotFound, "no " + tag + ": `orgctl tasks list` shows the open ones");
    if (t->status != "open")
      return error_reply(r.id, Code::Conflict, tag + " is " + t->status + ", not open");
    bool deciding = r.verb == "approvals.decide";
    if (t->approval != deciding)
      return error_reply(r.id, Code::Conflict,
                         tag + (t->approval ? " is an approval: decide it (approvals.decide)"
                                            : " is not an approval: complete it (tasks.complete)"));
    if (!t->claimed_by.empty() && t->claimed_by != actor)
      return error_reply(r.id, Code::Conflict, tag + " is claimed by " + t->claimed_by);
  }
  workflow::Outcome o;
  if (r.verb == "tasks.claim") {
    o = e_.claim_task(id, actor, key);
  } else if (r.verb == "tasks.complete") {
    std::string outcome = r.body.value("outcome", "");
    if (!retry && !outcome.empty() &&
        std::find(t->outcomes.begin(), t->outcomes.end(), outcome) == t->outcomes.end()) {
      std::string list;
      for (auto& x : t->outcomes) list += (list.empty() ? "" : ", ") + x;
      return error_reply(r.id, Code::BadRequest,
                         "`" + outcome + "` is not an outcome of " + t->name + "; its outcomes: " + list);
    }
    json data = r.body.contains("data") ? r.body["data"] : json::object();
    o = e_.complete_task(id, actor, outcome, data, key);
  } else {
    o = e_.decide(id, actor, r.body["approve"], key);
  }
  return answer(r, key, o, {{"task", id}});
}

json Dispatcher::handle(const Request& r, const std::string& actor) {
  const std::string& v = r.verb;
  if (v == "whoami") return ok_reply(r.id, {{"actor", actor}});
  if (v == "events.post") return post_event(r, actor);
  if (v == "processes.start") return start(r, actor);
  if (v == "tasks.claim" || v == "tasks.complete" || v == "approvals.decide") return task_command(r, actor);
  if (v == "tasks.list") {
    json a = json::array();
    for (auto& t : e_.tasks_for(actor, !r.body.value("all", false))) a.push_back(t);
    return ok_reply(r.id, a);
  }
  if (v == "instances.list") {
    json a = json::array();
    for (auto& i : e_.instances_for(actor)) a.push_back(i);
    return ok_reply(r.id, a);
  }
  if (v == "metrics.get") {
    json a = json::array();
    for (auto& k : e_.kpis_for(actor)) a.push_back(k);
    return ok_reply(r.id, a);
  }
  return error_reply(r.id, Code::UnknownVerb, "`" + v + "` is not served here");
}

}  // namespace orgos::net
