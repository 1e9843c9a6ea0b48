// Turns diagnostics into what people and tools read: compiler-style text with the source line and a
// caret underline, or JSON (one object per diagnostic) for editors and scripts.
#pragma once
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"

namespace orgos::diag {

struct RenderOptions {
  bool colour = false;
};

// file:line:col: error[E0123]: message, then the line with ^~~~ under the span, notes and the hint.
std::string render_text(const source::SourceManager& sm, const Diagnostic& d, const RenderOptions& opt = {});
// All diagnostics, then a one-line summary ("2 errors, 1 warning").
std::string render_all_text(const source::SourceManager& sm, const DiagnosticEngine& de,
                            const RenderOptions& opt = {});
// {"diagnostics": [...], "errors": N, "warnings": N}
std::string render_json(const source::SourceManager& sm, const DiagnosticEngine& de);

}  // namespace orgos::diag
