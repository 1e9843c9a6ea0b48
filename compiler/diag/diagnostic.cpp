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

namespace {

// Cuts an over-long message on a UTF-8 character boundary and says so.
std::string clip(std::string m) {
  if (m.size() <= DiagnosticEngine::kMaxMessageBytes) return m;
  size_t cut = DiagnosticEngine::kMaxMessageBytes;
  while (cut > 0 && (static_cast<unsigned char>(m[cut]) & 0xC0) == 0x80) --cut;
  m.resize(cut);
  return m + "… (message cut)";
}

}  // namespace

Diagnostic& DiagnosticEngine::report(Code code, source::Span span, std::string message) {
  const CodeInfo& ci = info(code);
  if (ci.severity == Severity::Error)
    ++errors_;
  else
    ++warnings_;
  size_t* in_file = nullptr;
  if (span.valid()) {
    if (per_file_.size() <= span.file) per_file_.resize(span.file + 1, 0);
    in_file = &per_file_[span.file];
  }
  if (diags_.size() >= kMaxDiagnostics || (in_file && *in_file >= kMaxPerFile)) {
    ++dropped_;
    if (ci.severity == Severity::Error) ++dropped_errors_;
    overflow_ = Diagnostic{code, ci.severity, span, {}, {}, {}};
    return overflow_;
  }
  if (in_file) ++*in_file;
  diags_.push_back(Diagnostic{code, ci.severity, span, clip(std::move(message)), {}, {}});
  return diags_.back();
}

void DiagnosticEngine::sort() {
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.span.file != b.span.file) return a.span.file < b.span.file;
    return a.span.begin < b.span.begin;
  });
}

}  // namespace orgos::diag
