// The inputs the engine applies, as one closed set: each kind's fields in a struct, the kind's name in the
// log, and one codec between the struct and the payload text the input log keeps. The engine's commands
// encode with it and replay decodes with it, so a kind cannot be applied without being replayable: replay
// visits the variant, and a kind it does not handle does not compile. (Before, the kinds were string
// literals in two places and replay had silently dropped `transition` inputs.)
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace orgos::workflow {

using json = nlohmann::json;

struct EventInput {  // an event posted
  std::string name;
  json payload;
};
struct StartInput {  // a process started by a command
  std::string process;
  json args;
};
struct CompleteInput {  // a task completed
  int64_t task = 0;
  std::string outcome;
  json data;
};
struct ClaimInput {  // a task claimed
  int64_t task = 0;
};
struct DecideInput {  // an approval decided
  int64_t task = 0;
  bool approve = false;
};
struct TickInput {  // the clock moved
  int64_t to = 0;
};
struct ConnectorResultInput {  // an outbox call answered
  int64_t outbox = 0;
  json result;
};
struct TransitionInput {  // a lifecycle transition asked for
  std::string type;
  json record;
  std::string name;
};

using InputBody = std::variant<EventInput, StartInput, CompleteInput, ClaimInput, DecideInput, TickInput,
                               ConnectorResultInput, TransitionInput>;

// Lambdas joined into one visitor, for std::visit over an InputBody (replay visits it this way: a kind
// without its lambda does not compile).
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// The kind's name in the input log (and in idempotency keys' scope): "event", "start", "complete", "claim",
// "decide", "tick", "connector_result", "transition".
const char* input_kind(const InputBody& body);

// The payload text the log keeps: the fields as a JSON object, keys in order, as json's dump() writes them.
std::string encode_input(const InputBody& body);

// The body of a logged input from its kind and payload; nullopt with `error` set when the kind is unknown or
// the payload lacks a field or has one of the wrong type (a damaged or edited log).
std::optional<InputBody> decode_input(std::string_view kind, const std::string& payload, std::string& error);

}  // namespace orgos::workflow
