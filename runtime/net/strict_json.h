// Reading JSON that someone else wrote (a server's peer, orgctl's -p/--data) strictly: what nlohmann's
// parser accepts silently or reports vaguely becomes an error that says what is wrong and where.
// - A key twice in one object: the parser keeps the last value, so a request `{"approve": false, …,
//   "approve": true}` would mean what the sender's own reading of it may not. Refused, naming the key.
// - A number beyond what a double holds (1e400): the parser only says "not valid JSON" (or, to a caller
//   that checks the type next, "not an object"). Refused as a number out of range, naming where.
// - Arrays and objects nested past a limit: refused where the limit is passed (nothing deeper is built;
//   destroying or printing a deep value recurses once per level).
// Positions are JSON Pointers (RFC 6901) with names cut to a few dozen bytes, and the byte offset where
// the parser stood.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace orgos::net {

enum class JsonFault {
  Syntax,            // not JSON (or trailing bytes after the value)
  DuplicateKey,      // a key twice in one object
  NumberOutOfRange,  // a number no double holds
  TooDeep,           // arrays and objects nested past the limit
};

struct JsonReadError {
  JsonFault fault;
  // What and where, to follow "… is" (Syntax: `not valid JSON at /x (byte 7): …`) or "… has" (the others:
  // `a duplicate key "a" in the object at /payload`, `a number out of range at /n (byte 5): 1e400 …`).
  std::string message;
};

// The value in `bytes`, or why it is refused. Never recurses per nesting level, so it is safe on any input.
std::variant<nlohmann::json, JsonReadError> read_strict_json(std::string_view bytes, int max_depth);

}  // namespace orgos::net
