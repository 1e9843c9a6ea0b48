// JSON text written directly, byte for byte as nlohmann's dump() writes it (no spaces; strings escaped as it
// escapes them), for the rows the engine writes at every step: building a json document only to dump it
// cost more than the rest of a step's bookkeeping (an allocation per node, a serializer and a localeconv()
// call per dump). Readers parse the text with nlohmann as before; the text is the same, so a store written
// either way compares equal (orgctl store verify).
#pragma once
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace orgos::workflow::json_text {

// `s` as a JSON string. Printable ASCII with no `"` or `\` (names, dates, amounts, most values) is copied
// between quotes; anything else goes through nlohmann's escaping, so control characters, non-ASCII and
// invalid UTF-8 are written (or refused) exactly as dump() does.
inline void string(std::string& out, std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += nlohmann::json(std::string(s)).dump();
      return;
    }
  out += '"';
  out.append(s);
  out += '"';
}

inline void integer(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// A list of integers or strings: `[1,2]`, `["a","b"]`.
template <typename List>
void list(std::string& out, const List& items) {
  out += '[';
  bool first = true;
  for (const auto& x : items) {
    if (!first) out += ',';
    first = false;
    if constexpr (std::is_integral_v<std::decay_t<decltype(x)>>)
      integer(out, static_cast<int64_t>(x));
    else
      string(out, x);
  }
  out += ']';
}

}  // namespace orgos::workflow::json_text
