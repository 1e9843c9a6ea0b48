// An input's idempotency key as the log stores it. A client's key is its own: the log keeps it scoped to the
// actor who gave it and the kind of input (event, start, complete, …), so one actor's key never answers,
// refuses or reveals another's input, and `complete` and `claim` under one key are two inputs.
//
// The scope is length-prefixed, "<n>:<key>|<m>:<actor>|<kind>": each part's length says where it ends, so
// no two (key, actor, kind) triples give the same string, whatever bytes (`|`, `:`, NUL) a key holds. The
// client's key comes first, so every scope of one key shares a prefix and is found by one indexed range
// (what the scenario runner's resume asks: "was this step's key logged, by whomever?").
#pragma once
#include <sodium.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace orgos::workflow {

// Every scope of `key` starts with this (and nothing else does).
inline std::string input_key_prefix(std::string_view key) {
  std::string s = std::to_string(key.size());
  s += ':';
  s += key;
  s += '|';
  return s;
}

inline std::string scoped_input_key(std::string_view actor, std::string_view kind, std::string_view key) {
  std::string s = input_key_prefix(key);
  s += std::to_string(actor.size());
  s += ':';
  s += actor;
  s += '|';
  s += kind;
  return s;
}

// A key for a request that came without one (or with an empty one): applied once, but a retry of it cannot
// be recognised. Random, so that two keyless requests are never taken for one.
inline std::string fresh_input_key() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string("auto:") + hex;
}

}  // namespace orgos::workflow
