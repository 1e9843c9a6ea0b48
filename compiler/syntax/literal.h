// Decoding of literal text (numbers with '_' separators, durations, dates, string escapes). Each function
// returns nullopt on text that is well-formed lexically but not a valid value (2026-02-30, an integer
// that does not fit in 64 bits), so the caller can report it where it stands.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orgos::syntax {

// "10_000" → "10000"
std::string strip_separators(std::string_view digits);
std::optional<int64_t> parse_int(std::string_view text);
// "3d" → 259200 (seconds). Units: w, d, h, m, s.
std::optional<int64_t> parse_duration(std::string_view text);
// "2026-01-31" → days since 1970-01-01 (proleptic Gregorian calendar).
std::optional<int64_t> parse_date(std::string_view text);
// Days since 1970-01-01 → "2026-01-31".
std::string format_date(int64_t days);
// The contents of a quoted string literal with its escapes (\n \t \" \\) decoded.
std::string unescape(std::string_view quoted);

}  // namespace orgos::syntax
