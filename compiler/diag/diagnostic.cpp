#include "compiler/diag/diagnostic.h"

#include <algorithm>

namespace orgos::diag {

const std::vector<CodeInfo>& all_codes() {
  static const std::vector<CodeInfo> codes = {
#define DIAG(code, sev, title) {Code::code, #code, Severity::sev, title},
#include "compiler/diag/codes.def"
#undef DIAG
  };
  return codes;
}

const CodeInfo& info(Code c) {
  return all_codes()[static_cast<size_t>(c)];
}

Diagnostic& DiagnosticEngine::report(Code code, source::Span span, std::string message) {
  const CodeInfo& ci = info(code);
  if (ci.severity == Severity::Error)
    ++errors_;
  else
    ++warnings_;
  if (diags_.size() >= kMaxDiagnostics) {
    ++dropped_;
    overflow_ = Diagnostic{code, ci.severity, span, std::move(message), {}, {}};
    return overflow_;
  }
  diags_.push_back(Diagnostic{code, ci.severity, span, std::move(message), {}, {}});
  return diags_.back();
}

void DiagnosticEngine::sort() {
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.span.file != b.span.file) return a.span.file < b.span.file;
    return a.span.begin < b.span.begin;
  });
}

}  // namespace orgos::diag
