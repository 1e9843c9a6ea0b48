#include "runtime/workflow/input.h"

namespace orgos::workflow {

namespace {

// A required field of the payload, of the type asked for; throws json's type_error or out_of_range.
template <typename T>
T field(const json& j, const char* name) {
  return j.at(name).get<T>();
}

}  // namespace

const char* input_kind(const InputBody& body) {
  return std::visit(Overloaded{
                        [](const EventInput&) { return "event"; },
                        [](const StartInput&) { return "start"; },
                        [](const CompleteInput&) { return "complete"; },
                        [](const ClaimInput&) { return "claim"; },
                        [](const DecideInput&) { return "decide"; },
                        [](const TickInput&) { return "tick"; },
                        [](const ConnectorResultInput&) { return "connector_result"; },
                        [](const TransitionInput&) { return "transition"; },
                    },
                    body);
}

std::string encode_input(const InputBody& body) {
  return std::visit(Overloaded{
                        [](const EventInput& b) {
                          return json{{"name", b.name}, {"payload", b.payload}};
                        },
                        [](const StartInput& b) {
                          return json{{"process", b.process}, {"args", b.args}};
                        },
                        [](const CompleteInput& b) {
                          return json{{"task", b.task}, {"outcome", b.outcome}, {"data", b.data}};
                        },
                        [](const ClaimInput& b) {
                          return json{{"task", b.task}};
                        },
                        [](const DecideInput& b) {
                          return json{{"task", b.task}, {"approve", b.approve}};
                        },
                        [](const TickInput& b) {
                          return json{{"to", b.to}};
                        },
                        [](const ConnectorResultInput& b) {
                          return json{{"outbox", b.outbox}, {"result", b.result}};
                        },
                        [](const TransitionInput& b) {
                          return json{{"type", b.type}, {"record", b.record}, {"name", b.name}};
                        },
                    },
                    body)
      .dump();
}

std::optional<InputBody> decode_input(std::string_view kind, const std::string& payload, std::string& error) {
  try {
    json j = json::parse(payload);
    if (kind == "event") return EventInput{field<std::string>(j, "name"), j.at("payload")};
    if (kind == "start") return StartInput{field<std::string>(j, "process"), j.at("args")};
    if (kind == "complete")
      return CompleteInput{field<int64_t>(j, "task"), field<std::string>(j, "outcome"), j.at("data")};
    if (kind == "claim") return ClaimInput{field<int64_t>(j, "task")};
    if (kind == "decide") return DecideInput{field<int64_t>(j, "task"), field<bool>(j, "approve")};
    if (kind == "tick") return TickInput{field<int64_t>(j, "to")};
    if (kind == "connector_result") return ConnectorResultInput{field<int64_t>(j, "outbox"), j.at("result")};
    if (kind == "transition")
      return TransitionInput{field<std::string>(j, "type"), j.at("record"), field<std::string>(j, "name")};
    error = "an input of unknown kind `" + std::string(kind) + "`";
  } catch (const json::exception& e) {
    error = "a " + std::string(kind) + " input whose payload does not decode (" + e.what() + ")";
  }
  return std::nullopt;
}

}  // namespace orgos::workflow
