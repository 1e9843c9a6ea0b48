#include "compiler/syntax/literal.h"

#include <cstdio>

namespace orgos::syntax {

std::string strip_separators(std::string_view digits) {
  std::string out;
  out.reserve(digits.size());
  for (char c : digits)
    if (c != '_' && c != ' ' && c != '\t') out += c;
  return out;
}

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t v = 0;
  bool any = false;
  for (char c : text) {
    if (c == '_') continue;
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, int64_t{10}, &v) || __builtin_add_overflow(v, int64_t{c - '0'}, &v))
      return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  char unit = text.back();
  auto n = parse_int(text.substr(0, text.size() - 1));
  if (!n) return std::nullopt;
  int64_t mult = 0;
  switch (unit) {
    case 's':
      mult = 1;
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    case 'w':
      mult = 7 * 86400;
      break;
    default:
      return std::nullopt;
  }
  int64_t out;
  if (__builtin_mul_overflow(*n, mult, &out)) return std::nullopt;
  return out;
}

namespace {
// Howard Hinnant's days_from_civil: exact for every Gregorian date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
}  // namespace

std::optional<int64_t> parse_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  auto y = parse_int(t.substr(0, 4));
  auto m = parse_int(t.substr(5, 2));
  auto d = parse_int(t.substr(8, 2));
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1) return std::nullopt;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t max = mdays[*m - 1] + ((*m == 2 && leap(*y)) ? 1 : 0);
  if (*d > max) return std::nullopt;
  return days_from_civil(*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d));
}

std::string format_date(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string unescape(std::string_view q) {
  if (q.size() >= 2 && q.front() == '"' && q.back() == '"')
    q = q.substr(1, q.size() - 2);
  else if (!q.empty() && q.front() == '"')
    q = q.substr(1);
  std::string out;
  out.reserve(q.size());
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i] != '\\' || i + 1 == q.size()) {
      out += q[i];
      continue;
    }
    char c = q[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      default:
        out += c;
        break;  // \" \\ and any other escaped character stand for themselves
    }
  }
  return out;
}

}  // namespace orgos::syntax
