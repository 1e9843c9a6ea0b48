// A region of source text. Every AST node and every diagnostic carries one, so any error can point
// back at the exact characters that caused it.
#pragma once
#include <cstdint>

namespace orgos::source {

using FileId = uint32_t;
inline constexpr FileId kNoFile = UINT32_MAX;

struct Span {
  FileId file = kNoFile;
  uint32_t begin = 0;  // byte offset of the first character
  uint32_t end = 0;    // byte offset one past the last character
  uint32_t line = 0;   // 1-based line of `begin`
  uint32_t col = 0;    // 1-based column (in bytes) of `begin`

  bool valid() const { return file != kNoFile; }
  // The smallest span that covers both (same file assumed; an invalid side is ignored).
  static Span cover(const Span& a, const Span& b) {
    if (!a.valid()) return b;
    if (!b.valid()) return a;
    Span s = a.begin <= b.begin ? a : b;
    s.end = a.end > b.end ? a.end : b.end;
    return s;
  }
};

}  // namespace orgos::source
