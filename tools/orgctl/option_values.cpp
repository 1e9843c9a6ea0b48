// Option values orgctl reads strictly, where its libraries would read them loosely: a JSON object given
// with -p/--payload or --data (nlohmann keeps the last of two equal keys and calls 1e400 "not JSON"), and
// an id given as a number (CLI11 clamps 99999999999999999999 to INT64_MAX and reads 010 as octal 8).
#include <charconv>
#include <iostream>

#include "runtime/net/protocol.h"
#include "runtime/net/strict_json.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

nlohmann::json json_object_option(const std::string& text, const std::string& flag,
                                  const std::string& example) {
  if (orgos::net::nests_too_deep(text)) {  // parsing it would recurse past the stack
    std::cerr << "error: " << flag << " nests deeper than " << orgos::net::kMaxJsonDepth
              << " levels of arrays and objects\n  hint: the server refuses such a request too; send "
                 "flatter JSON\n";
    throw CLI::RuntimeError(kExitUsage);
  }
  auto read = orgos::net::read_strict_json(text, orgos::net::kMaxJsonDepth);
  if (auto* e = std::get_if<orgos::net::JsonReadError>(&read)) {
    bool syntax = e->fault == orgos::net::JsonFault::Syntax;
    std::cerr << "error: " << flag << (syntax ? " is " : " has ") << e->message << "\n";
    if (e->fault == orgos::net::JsonFault::Syntax)
      std::cerr << "  hint: e.g. " << flag << " '" << example << "'\n";
    throw CLI::RuntimeError(kExitUsage);
  }
  auto& j = std::get<nlohmann::json>(read);
  if (!j.is_object()) {
    std::cerr << "error: " << flag << " is a JSON " << j.type_name() << ", not an object\n  hint: e.g. "
              << flag << " '" << example << "'\n";
    throw CLI::RuntimeError(kExitUsage);
  }
  return std::move(j);
}

CLI::Validator whole_number() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        std::string_view v = s;
        bool negative = !v.empty() && v[0] == '-';
        std::string_view digits = v.substr(negative ? 1 : 0);
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
          return "`" + s + "` is not a whole number (decimal digits, e.g. 12)";
        int64_t n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec == std::errc::result_out_of_range || end != v.data() + v.size())
          return "`" + s +
                 "` is out of range: a whole number from -9223372036854775808 to "
                 "9223372036854775807";
        s = std::to_string(n);  // what CLI11 converts next: without leading zeros, never read as octal
        return "";
      },
      "", "whole_number");  // no description: the option already shows INT
}

}  // namespace orgctl
