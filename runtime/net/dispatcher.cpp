#include "runtime/net/dispatcher.h"

#include "runtime/workflow/views_json.h"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace orgos::net {

std::string Dispatcher::key_of(const Request& r) {
  if (r.body.contains("key")) return r.body["key"];
  // No key given: a fresh one, so the input is applied (once) but a retry cannot be recognised.
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string("auto:") + hex;
}

std::optional<json> Dispatcher::logged(const Request& r, const std::string& key, json result) {
  auto o = e_.logged(key);
  if (!o) return std::nullopt;
  if (!o->ok) return error_reply(r.id, Code::Refused, o->error + " (key `" + key + "` was refused before)");
  result["duplicate"] = true;
  return ok_reply(r.id, std::move(result));
}

json Dispatcher::post_event(const Request& r, const std::string& actor) {
  std::string key = key_of(r);
  if (auto d = logged(r, key, {{"key", key}})) return *d;
  json payload = r.body.contains("payload") ? r.body["payload"] : json::object();
  auto o = e_.post_event(r.body["name"], payload, actor, key);
  if (!o.ok) return error_reply(r.id, Code::Refused, o.error);
  return ok_reply(r.id, {{"key", key}, {"duplicate", o.duplicate}});
}

json Dispatcher::start(const Request& r, const std::string& actor) {
  std::string key = key_of(r);
  if (auto d = logged(r, key, {{"key", key}})) return *d;
  json args = r.body.contains("args") ? r.body["args"] : json::object();
  auto o = e_.start(r.body["process"], args, actor, key);
  if (!o.ok) return error_reply(r.id, Code::Refused, o.error);
  return ok_reply(r.id, {{"key", key}, {"instance", o.id}, {"duplicate", o.duplicate}});
}

json Dispatcher::task_command(const Request& r, const std::string& actor) {
  int64_t id = r.body["task"];
  std::string key = key_of(r);
  // A retry of a command that already went through answers as the first time did, even though the task
  // has moved on since.
  if (auto d = logged(r, key, {{"key", key}, {"task", id}})) return *d;
  auto t = e_.task(id);
  std::string tag = "task #" + std::to_string(id);
  if (!t) return error_reply(r.id, Code::NotFound, "no " + tag + ": `orgctl tasks list` shows the open ones");
  if (t->status != "open") return error_reply(r.id, Code::Conflict, tag + " is " + t->status + ", not open");
  bool deciding = r.verb == "approvals.decide";
  if (t->approval != deciding)
    return error_reply(r.id, Code::Conflict,
                       tag + (t->approval ? " is an approval: decide it (approvals.decide)"
                                          : " is not an approval: complete it (tasks.complete)"));
  if (!t->claimed_by.empty() && t->claimed_by != actor)
    return error_reply(r.id, Code::Conflict, tag + " is claimed by " + t->claimed_by);
  workflow::Outcome o;
  if (r.verb == "tasks.claim") {
    o = e_.claim_task(id, actor, key);
  } else if (r.verb == "tasks.complete") {
    std::string outcome = r.body.value("outcome", "");
    if (!outcome.empty() && std::find(t->outcomes.begin(), t->outcomes.end(), outcome) == t->outcomes.end()) {
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
  if (!o.ok) return error_reply(r.id, Code::Refused, o.error);
  return ok_reply(r.id, {{"key", key}, {"task", id}, {"duplicate", o.duplicate}});
}

json Dispatcher::handle(const Request& r, const std::string& actor) {
  const std::string& v = r.verb;
  if (v == "whoami") return ok_reply(r.id, {{"actor", actor}});
  if (v == "events.post") return post_event(r, actor);
  if (v == "processes.start") return start(r, actor);
  if (v == "tasks.claim" || v == "tasks.complete" || v == "approvals.decide") return task_command(r, actor);
  if (v == "tasks.list") {
    json a = json::array();
    for (auto& t : e_.tasks(!r.body.value("all", false))) a.push_back(t);
    return ok_reply(r.id, a);
  }
  if (v == "instances.list") {
    json a = json::array();
    for (auto& i : e_.instances()) a.push_back(i);
    return ok_reply(r.id, a);
  }
  if (v == "metrics.get") {
    json a = json::array();
    for (auto& k : e_.kpis()) a.push_back(k);
    return ok_reply(r.id, a);
  }
  return error_reply(r.id, Code::UnknownVerb, "`" + v + "` is not served here");
}

}  // namespace orgos::net
