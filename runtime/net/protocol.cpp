#include "runtime/net/protocol.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "runtime/net/strict_json.h"

namespace orgos::net {

namespace {

enum class Type { String, Integer, Boolean, Object, Any };

struct Field {
  Type type;
  bool required;
};

using Spec = std::map<std::string, Field>;

// Fields every request may carry besides its verb's own.
const Spec& common_fields() {
  static const Spec s{
      {"verb", {Type::String, true}}, {"token", {Type::String, false}}, {"id", {Type::Any, false}}};
  return s;
}

const std::map<std::string, Spec>& specs() {
  static const std::map<std::string, Spec> s{
      {"whoami", {}},
      {"server.info", {}},
      {"events.read",
       {{"after", {Type::Integer, false}},
        {"max", {Type::Integer, false}},
        {"wait_ms", {Type::Integer, false}}}},
      {"events.post",
       {{"name", {Type::String, true}}, {"payload", {Type::Object, false}}, {"key", {Type::String, false}}}},
      {"processes.start",
       {{"process", {Type::String, true}}, {"args", {Type::Object, false}}, {"key", {Type::String, false}}}},
      {"tasks.list", {{"all", {Type::Boolean, false}}}},
      {"tasks.claim", {{"task", {Type::Integer, true}}, {"key", {Type::String, false}}}},
      {"tasks.complete",
       {{"task", {Type::Integer, true}},
        {"outcome", {Type::String, false}},
        {"data", {Type::Object, false}},
        {"key", {Type::String, false}}}},
      {"approvals.decide",
       {{"task", {Type::Integer, true}}, {"approve", {Type::Boolean, true}}, {"key", {Type::String, false}}}},
      {"instances.list", {}},
      {"metrics.get", {}},
  };
  return s;
}

// A whole number no int64 holds: an unsigned one past INT64_MAX (read back as int64 it would wrap to a
// negative id), or one the parser could only keep as a double (99999999999999999999).
bool beyond_int64(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX);
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::trunc(d) == d && (d >= 9223372036854775808.0 || d < -9223372036854775808.0);
}

bool has_type(const json& v, Type t) {
  switch (t) {
    case Type::String:
      return v.is_string();
    case Type::Integer:
      return v.is_number_integer() && !beyond_int64(v);
    case Type::Boolean:
      return v.is_boolean();
    case Type::Object:
      return v.is_object();
    case Type::Any:
      return true;
  }
  return false;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::String:
      return "a string";
    case Type::Integer:
      return "an integer";
    case Type::Boolean:
      return "true or false";
    case Type::Object:
      return "a JSON object";
    case Type::Any:
      return "any value";
  }
  return "?";
}

// A name the sender chose, for an error message: at most `max` bytes, cut at a character boundary (a
// cut inside a UTF-8 sequence would make the reply unserializable).
std::string shown(std::string_view s, size_t max = 64) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "…";
}

std::string verb_list() {
  std::string s;
  for (auto& v : verbs()) s += (s.empty() ? "" : ", ") + v;
  return s;
}

}  // namespace

// One pass over the bytes, counting brackets outside strings: cheap, and it never recurses, so it is safe
// on any input. A message that is not JSON at all may pass here and fail in the parser after.
bool nests_too_deep(std::string_view bytes) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : bytes) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

const char* code_name(Code c) {
  switch (c) {
    case Code::BadJson:
      return "bad_json";
    case Code::TooLarge:
      return "too_large";
    case Code::BadRequest:
      return "bad_request";
    case Code::UnknownVerb:
      return "unknown_verb";
    case Code::Unauthenticated:
      return "unauthenticated";
    case Code::NotFound:
      return "not_found";
    case Code::Conflict:
      return "conflict";
    case Code::Refused:
      return "refused";
    case Code::Internal:
      return "internal";
  }
  return "internal";
}

const std::vector<std::string>& verbs() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    for (auto& [name, spec] : specs()) out.push_back(name);
    return out;
  }();
  return v;
}

std::variant<Envelope, ProtocolError> open_envelope(std::string_view bytes) {
  if (bytes.size() > kMaxRequestBytes)
    return ProtocolError{Code::TooLarge,
                         "the request has " + std::to_string(bytes.size()) + " bytes, the limit is " +
                             std::to_string(kMaxRequestBytes) + ": send large payloads in several events",
                         nullptr};
  if (nests_too_deep(bytes))
    return ProtocolError{Code::BadJson,
                         "the request nests arrays or objects more than " + std::to_string(kMaxJsonDepth) +
                             " levels deep: flatten it",
                         nullptr};
  auto read = read_strict_json(bytes, kMaxJsonDepth);
  if (auto* e = std::get_if<JsonReadError>(&read)) {
    if (e->fault == JsonFault::Syntax)
      return ProtocolError{Code::BadJson,
                           "the request is " + e->message + ": send one JSON object per message", nullptr};
    return ProtocolError{Code::BadJson, "the request has " + e->message, nullptr};
  }
  json j = std::move(std::get<json>(read));
  if (!j.is_object())
    return ProtocolError{Code::BadJson,
                         std::string("the request is JSON but not an object (it is ") + j.type_name() +
                             "): send {\"verb\": …, …}",
                         nullptr};
  Envelope e;
  e.id = j.contains("id") ? echoed_id(j["id"]) : json(nullptr);
  if (j.contains("token")) {
    if (!j["token"].is_string())
      return ProtocolError{Code::Unauthenticated,
                           "the \"token\" is not a string: send the token `orgctl token add` printed", e.id};
    e.token = j["token"];
  }
  e.body = std::move(j);
  return e;
}

std::variant<Request, ProtocolError> check_request(Envelope e) {
  const json& j = e.body;
  const json& id = e.id;
  if (!j.contains("verb") || !j["verb"].is_string())
    return ProtocolError{Code::BadRequest, "the request has no \"verb\" string; verbs: " + verb_list(), id};
  std::string verb = j["verb"];
  auto it = specs().find(verb);
  if (it == specs().end())
    return ProtocolError{Code::UnknownVerb, "no verb `" + shown(verb) + "`; verbs: " + verb_list(), id};
  const Spec& spec = it->second;
  for (auto& [name, value] : j.items()) {
    auto f = spec.find(name);
    const Field* field = f != spec.end() ? &f->second : nullptr;
    if (!field) {
      auto c = common_fields().find(name);
      if (c != common_fields().end()) field = &c->second;
    }
    if (!field)
      return ProtocolError{Code::BadRequest, "`" + verb + "` takes no field \"" + shown(name) + "\"", id};
    if (field->type == Type::Integer && beyond_int64(value))
      return ProtocolError{Code::BadRequest,
                           "field \"" + name + "\" of `" + verb + "` is " + shown(value.dump()) +
                               ", out of range: it must be a whole number from -9223372036854775808 to "
                               "9223372036854775807",
                           id};
    if (!has_type(value, field->type))
      return ProtocolError{Code::BadRequest,
                           "field \"" + name + "\" of `" + verb + "` must be " + type_name(field->type) +
                               ", not " + value.type_name(),
                           id};
  }
  for (auto& [name, field] : spec)
    if (field.required && !j.contains(name))
      return ProtocolError{Code::BadRequest,
                           "`" + verb + "` needs field \"" + name + "\" (" + type_name(field.type) + ")", id};
  Request r;
  r.verb = verb;
  r.token = std::move(e.token);
  r.id = id;
  r.body = std::move(e.body);
  return r;
}

std::variant<Request, ProtocolError> parse_request(std::string_view bytes) {
  auto opened = open_envelope(bytes);
  if (auto* e = std::get_if<ProtocolError>(&opened)) return std::move(*e);
  return check_request(std::move(std::get<Envelope>(opened)));
}

json echoed_id(const json& id) {
  if (id.is_number()) return id;
  if (id.is_string() && id.get_ref<const std::string&>().size() <= kMaxEchoedIdBytes) return id;
  return nullptr;
}

json ok_reply(const json& id, json result) {
  json r{{"ok", true}, {"result", std::move(result)}};
  if (json e = echoed_id(id); !e.is_null()) r["id"] = std::move(e);
  return r;
}

namespace {
// The bytes `c` takes in a JSON string as dump() writes it: a control character is escaped, most as
// \u00XX (six bytes for one), a quote and a backslash take two.
size_t escaped_size(unsigned char c) {
  if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') return 2;
  return c < 0x20 ? 6 : 1;
}
}  // namespace

json error_reply(const json& id, Code code, const std::string& message) {
  // A message may quote what the sender sent (an event name, a field): it is cut, so a reply is never
  // larger than a few KiB whatever the request held. Bytes that are not UTF-8 become U+FFFD first (dump()
  // throws on them, and a reply that cannot be written would take the server down with it; and one byte
  // becomes three); then the message is cut where its escaped form passes the limit, not its bytes: a name
  // of NULs is six times its size as JSON.
  std::string m =
      json::parse(json(message).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
  size_t cut = 0, room = kMaxErrorMessageBytes;
  while (cut < m.size() && escaped_size(static_cast<unsigned char>(m[cut])) <= room)
    room -= escaped_size(static_cast<unsigned char>(m[cut++]));
  if (cut < m.size()) {
    while (cut > 0 && (static_cast<unsigned char>(m[cut]) & 0xC0) == 0x80) --cut;  // a whole character
    m = m.substr(0, cut) + "… (" + std::to_string(m.size() - cut) + " more bytes)";
  }
  json r{{"ok", false}, {"error", {{"code", code_name(code)}, {"message", std::move(m)}}}};
  if (json e = echoed_id(id); !e.is_null()) r["id"] = std::move(e);
  return r;
}

}  // namespace orgos::net
