// The server's wire protocol: one JSON object per nng message, request → reply. Parsing and validation
// live here, apart from the sockets, so the same checks run for a network request and for a local
// `orgctl tasks …` call (docs/server.md lists every verb, field and error code).
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace orgos::net {

using json = nlohmann::json;

// A request larger than this gets a `too_large` reply. Up to kHardLimitBytes it is still received so
// that the client learns why; beyond that nng itself drops the connection (NNG_OPT_RECVMAXSZ), so a
// peer cannot make the server buffer arbitrary amounts.
inline constexpr size_t kMaxRequestBytes = size_t{1} << 20;
inline constexpr size_t kHardLimitBytes = size_t{4} << 20;

// Arrays and objects nest at most this deep in a request. Checked before the JSON is parsed: the parser,
// the destructor and dump() of a JSON value recurse once per level, so a message of 100,000 `[` would
// overflow the stack of whichever thread touched it first.
inline constexpr int kMaxJsonDepth = 64;
// An `id` is echoed only when it is a number or a string of at most this many bytes (anything else is
// accepted and not echoed): a reply never carries a large or nested value its sender chose.
inline constexpr size_t kMaxEchoedIdBytes = 256;
// An error message is cut where it passes this many bytes as JSON, escapes counted (it may quote names
// the sender chose).
inline constexpr size_t kMaxErrorMessageBytes = 2048;

// Whether arrays and objects nest deeper than kMaxJsonDepth anywhere in `bytes` (a cheap scan that never
// recurses: run it before parsing JSON from anyone, the server's peers and orgctl's own -p/--data).
bool nests_too_deep(std::string_view bytes);

enum class Code {
  BadJson,          // not JSON, not an object, a key twice, a number out of range, nested too deep
  TooLarge,         // over kMaxRequestBytes
  BadRequest,       // a field missing, of the wrong type, or unknown
  UnknownVerb,      // no such verb
  Unauthenticated,  // no token, an unknown one or a revoked one
  NotFound,         // no such task
  Conflict,         // the task is not open, or is claimed by someone else
  Refused,          // the engine refused: a role or policy does not permit it, or the input is invalid
  Internal,         // the store failed; nothing of the request was kept
};
const char* code_name(Code c);

struct Request {
  std::string verb;
  std::string token;
  json id;    // echoed in the reply: echoed_id() of the request's `id` (null when absent or not echoed)
  json body;  // the whole request object
};

struct ProtocolError {
  Code code;
  std::string message;
  json id;
};

// A message read as far as is needed to find who sent it: its size, nesting and JSON checked (strictly:
// a duplicate key or a number out of range is bad_json, see strict_json.h), an object, its `token` a
// string if present. Nothing else of it is looked at yet, so a sender without a valid token learns
// nothing about verbs and fields: the server authenticates between this and check_request().
struct Envelope {
  json body;  // the whole request object
  json id;    // echoed_id() of its `id`
  std::string token;
};
std::variant<Envelope, ProtocolError> open_envelope(std::string_view bytes);

// The rest of the checks: a known `verb` and the fields that verb takes, each of its type (integers
// within int64). Anything else is a ProtocolError saying what is wrong and what to send instead.
std::variant<Request, ProtocolError> check_request(Envelope e);

// Both at once, for a caller that authenticates otherwise (orgctl on a local store, where --as names
// the actor).
std::variant<Request, ProtocolError> parse_request(std::string_view bytes);

// The part of a request's `id` that a reply may carry: a number, or a string up to kMaxEchoedIdBytes;
// null for anything else.
json echoed_id(const json& id);

// Replies; `id` goes through echoed_id(), so no caller can echo more than that.
json ok_reply(const json& id, json result);
json error_reply(const json& id, Code code, const std::string& message);

// Every verb, for `unknown_verb` messages and docs.
const std::vector<std::string>& verbs();

}  // namespace orgos::net
