// Source text → AST. Parses in two stages (fast SLL prediction first, full LL only when SLL fails, which
// ANTLR's C++ runtime needs to be fast) and reports every syntax error with its position.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"
#include "compiler/syntax/ast/module.h"

namespace orgos::syntax {

struct ParseResult {
  std::unique_ptr<ast::Module> module;  // always set; holds every declaration that parsed cleanly
  // Names of declarations dropped because of syntax errors, so later stages do not report uses of
  // them as unknown names (one mistake, one error).
  std::vector<std::string> broken_names;
  bool had_syntax_errors = false;
  // The file was too deeply nested to parse at all: `module` is empty, so what other files say about its
  // declarations cannot be checked either (see driver::check).
  bool gave_up = false;
};

ParseResult parse(const source::SourceManager& sm, source::FileId file, diag::DiagnosticEngine& diags);

// Limits that keep any input from exhausting the stack: deeper nesting is reported as an error.
inline constexpr int kMaxNesting = 256;
inline constexpr int kMaxExprDepth = 1500;

}  // namespace orgos::syntax
