// Runs validated requests on the engine as an actor and turns each outcome into a reply. Shared by the
// server (the actor comes from the request's token) and by local `orgctl tasks|events` calls (--as).
#pragma once
#include <string>

#include "runtime/net/protocol.h"
#include "runtime/workflow/engine.h"

namespace orgos::net {

class Dispatcher {
 public:
  explicit Dispatcher(workflow::Engine& e) : e_(e) {}
  // The engine is not thread-safe: callers run every handle() on one thread.
  json handle(const Request& r, const std::string& actor);

 private:
  json post_event(const Request& r, const std::string& actor);
  json start(const Request& r, const std::string& actor);
  json task_command(const Request& r, const std::string& actor);
  // The reply to an input's outcome: a retry (duplicate) answers as the first time did, a key reused for
  // another request is a conflict.
  json answer(const Request& r, const std::string& key, const workflow::Outcome& o, json result);
  // The request's key, or a fresh one when it has none (or an empty one).
  static std::string key_of(const Request& r);
  workflow::Engine& e_;
};

}  // namespace orgos::net
