// Diagnostics: what the compiler tells the user. A diagnostic has a code from codes.def, a message, the
// span it is about, notes pointing at related places, and an optional hint saying what to do.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "compiler/source/span.h"

namespace orgos::diag {

enum class Severity { Error, Warning, Note };

enum class Code {
#define DIAG(code, sev, title) code,
#include "compiler/diag/codes.def"
#undef DIAG
};

struct CodeInfo {
  Code code;
  std::string_view name;  // "E0300"
  Severity severity;
  std::string_view title;
};
const CodeInfo& info(Code c);
// Every code in the catalogue, in order.
const std::vector<CodeInfo>& all_codes();

struct Note {
  source::Span span;
  std::string message;
};

struct Diagnostic {
  Code code;
  Severity severity;
  source::Span span;
  std::string message;
  std::vector<Note> notes;
  std::string hint;

  Diagnostic& note(source::Span s, std::string m) {
    notes.push_back({s, std::move(m)});
    return *this;
  }
  Diagnostic& with_hint(std::string h) {
    hint = std::move(h);
    return *this;
  }
};

// Collects diagnostics from every stage; stages keep going after an error so one run reports them all.
class DiagnosticEngine {
 public:
  Diagnostic& report(Code code, source::Span span, std::string message);
  const std::vector<Diagnostic>& all() const { return diags_; }
  size_t error_count() const { return errors_; }
  size_t warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }
  // Orders by file, then position, so output is stable whatever order the checks ran in.
  void sort();
  // Caps on the diagnostics kept (and so shown): a garbage or binary input makes one per token, and past
  // the first screenful they only hide the first, real error and cost memory. Counts stay exact.
  static constexpr size_t kMaxPerFile = 100;
  static constexpr size_t kMaxDiagnostics = 500;
  // A message quotes source text (a token, a name); a quote longer than this is cut, so a 10 MB token
  // cannot make a 10 MB message.
  static constexpr size_t kMaxMessageBytes = 400;
  // Reported but not kept because of the caps, and how many of those were errors.
  size_t dropped() const { return dropped_; }
  size_t dropped_errors() const { return dropped_errors_; }

 private:
  std::vector<Diagnostic> diags_;
  std::vector<size_t> per_file_;  // kept diagnostics per file id
  Diagnostic overflow_;           // returned once a cap is reached so callers can still chain .note()
  size_t errors_ = 0, warnings_ = 0, dropped_ = 0, dropped_errors_ = 0;
};

}  // namespace orgos::diag
