// The base of every AST node: its source span. The AST is the project's own tree; nothing past
// compiler/syntax sees ANTLR types.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "compiler/source/span.h"

namespace orgos::ast {

using source::Span;

// A name as written, with where it was written (identifiers, dotted names).
struct Name {
  std::string text;
  Span span;
  bool empty() const { return text.empty(); }
};

// A dotted name: `std.finance.Budget`, `expense.submitted`.
struct QualifiedName {
  std::vector<Name> parts;
  Span span;
  std::string str() const {
    std::string s;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) s += '.';
      s += parts[i].text;
    }
    return s;
  }
  bool empty() const { return parts.empty(); }
};

}  // namespace orgos::ast
