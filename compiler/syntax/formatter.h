// The canonical layout of OrgOS source (`orgctl fmt`). It re-emits the lexer's token stream, comments
// included, with canonical spacing and indentation, so no comment can be lost; the user's line breaks stay.
// Only files that parse cleanly are formatted: a broken file is reported, never rewritten.
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"

namespace orgos::syntax {

// format_source's refusal: what() holds the rendered diagnostics (or, for a formatter bug caught by the
// self-check, which token would have changed).
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The canonical form of a loaded file. nullopt when the file has syntax errors: they are reported to
// `diags` and the caller must leave the file as it is. Throws FormatError if the result would not lex to
// the same tokens as the input (a formatter bug: refusing is better than damaging the file).
std::optional<std::string> format_file(const source::SourceManager& sm, source::FileId file,
                                       diag::DiagnosticEngine& diags);

// The same for text in memory (tests, editors). Throws FormatError on syntax errors.
std::string format_source(const std::string& text);

// What formatting promises to keep: the text of every token on the default and comment channels, in
// order, with money literals written `<number> <CODE>` and line comments without trailing blanks. `text`
// must be valid UTF-8, as every file that parses is.
std::vector<std::string> significant_tokens(const std::string& text);

}  // namespace orgos::syntax
