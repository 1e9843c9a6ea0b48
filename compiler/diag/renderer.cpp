#include "compiler/diag/renderer.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace orgos::diag {
namespace {

const char* severity_word(Severity s) {
  switch (s) {
    case Severity::Error:
      return "error";
    case Severity::Warning:
      return "warning";
    case Severity::Note:
      return "note";
  }
  return "error";
}

struct Paint {
  bool on;
  std::string operator()(const char* code, std::string_view s) const {
    if (!on) return std::string(s);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, s);
  }
};

bool control(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Text from the input (a message quoting it, a file name) with control characters written as \xNN: an
// escape sequence in a source file must not reach the user's terminal and act there.
std::string escaped(std::string_view s) {
  if (std::none_of(s.begin(), s.end(), control)) return std::string(s);
  std::string out;
  for (char c : s)
    out += control(c) ? fmt::format("\\x{:02x}", static_cast<unsigned char>(c)) : std::string(1, c);
  return out;
}

std::string location(const source::SourceManager& sm, const source::Span& s) {
  if (!s.valid()) return "orgctl";
  return fmt::format("{}:{}:{}", escaped(sm.file(s.file).path), s.line, s.col);
}

// How much of a source line an excerpt shows. A longer line (minified or generated text, a binary file
// read as text) is shown as a window around the span, with … where it was cut: echoing a 10 MB line in
// every diagnostic would make gigabytes of output.
constexpr size_t kExcerptWidth = 200;
constexpr size_t kExcerptLead = 60;  // of the window, how much comes before the span

bool continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The source line with an underline: ^ at the start of the span, ~ for the rest of it on that line.
void excerpt(std::string& out, const source::SourceManager& sm, const source::Span& s, const Paint& p,
             const char* colour) {
  if (!s.valid() || s.line == 0) return;
  std::string_view line = sm.line_text(s.file, s.line);
  std::string num = std::to_string(s.line);
  std::string pad(num.size(), ' ');
  size_t start = s.col > 0 ? s.col - 1 : 0;
  if (start > line.size()) start = line.size();
  size_t len = s.end > s.begin ? s.end - s.begin : 1;
  // The window [from, to) of the line that is shown, cut on character boundaries.
  size_t from = 0, to = line.size();
  if (line.size() > kExcerptWidth) {
    from = start > kExcerptLead ? start - kExcerptLead : 0;
    while (from > 0 && continuation_byte(line[from])) --from;
    to = std::min(line.size(), from + kExcerptWidth);
    while (to < line.size() && continuation_byte(line[to])) ++to;
  }
  std::string_view window = line.substr(from, to - from);
  // Tabs become single spaces so the caret lines up whatever the terminal's tab width.
  std::string shown(window);
  std::replace(shown.begin(), shown.end(), '\t', ' ');
  // Other control characters (an escape sequence, a carriage return) become `?`, one column as well.
  std::replace_if(shown.begin(), shown.end(), control, '?');
  std::string lead = from > 0 ? "…" : "";  // one column wide
  std::string tail = to < line.size() ? "…" : "";
  size_t at = start - from;
  if (at + len > shown.size()) len = shown.size() > at ? shown.size() - at : 1;
  if (len == 0) len = 1;
  out += fmt::format("{} {}\n", pad, p("34", "|"));
  out += fmt::format("{} {} {}{}{}\n", p("34", num), p("34", "|"), lead, shown, tail);
  std::string mark = "^" + std::string(len - 1, '~');
  out += fmt::format("{} {} {}{}\n", pad, p("34", "|"), std::string(at + (lead.empty() ? 0 : 1), ' '),
                     p(colour, mark));
}

}  // namespace

std::string render_text(const source::SourceManager& sm, const Diagnostic& d, const RenderOptions& opt) {
  Paint p{opt.colour};
  const CodeInfo& ci = info(d.code);
  const char* colour = d.severity == Severity::Error ? "1;31" : "1;33";
  std::string out = fmt::format("{}: {}: {}\n", p("1", location(sm, d.span)),
                                p(colour, fmt::format("{}[{}]", severity_word(d.severity), ci.name)),
                                p("1", escaped(d.message)));
  excerpt(out, sm, d.span, p, colour);
  for (const Note& n : d.notes) {
    if (n.span.valid()) {
      out += fmt::format("{}: {}: {}\n", p("1", location(sm, n.span)), p("1;36", "note"), escaped(n.message));
      excerpt(out, sm, n.span, p, "1;36");
    } else {
      out += fmt::format("  = {}: {}\n", p("1;36", "note"), escaped(n.message));
    }
  }
  if (!d.hint.empty()) out += fmt::format("  = {}: {}\n", p("1;32", "hint"), escaped(d.hint));
  return out;
}

std::string render_all_text(const source::SourceManager& sm, const DiagnosticEngine& de,
                            const RenderOptions& opt) {
  std::string out;
  for (const Diagnostic& d : de.all()) out += render_text(sm, d, opt);
  if (de.dropped() > 0) {
    size_t errors = de.dropped_errors(), warnings = de.dropped() - errors;
    std::string what = warnings == 0 ? fmt::format("{} more error{}", errors, errors == 1 ? "" : "s")
                       : errors == 0 ? fmt::format("{} more warning{}", warnings, warnings == 1 ? "" : "s")
                                     : fmt::format("{} more diagnostics ({} errors, {} warnings)",
                                                   de.dropped(), errors, warnings);
    out += fmt::format("... and {} not shown (at most {} per file and {} in all are shown)\n", what,
                       DiagnosticEngine::kMaxPerFile, DiagnosticEngine::kMaxDiagnostics);
  }
  if (de.error_count() + de.warning_count() > 0) {
    out += fmt::format("{} error{}, {} warning{}\n", de.error_count(), de.error_count() == 1 ? "" : "s",
                       de.warning_count(), de.warning_count() == 1 ? "" : "s");
  }
  return out;
}

std::string render_json(const source::SourceManager& sm, const DiagnosticEngine& de) {
  using nlohmann::json;
  auto span_json = [&](const source::Span& s) {
    json j = json::object();
    if (!s.valid()) return j;
    auto [el, ec] = sm.position(s.file, s.end);
    j["file"] = sm.file(s.file).path;
    j["line"] = s.line;
    j["column"] = s.col;
    j["end_line"] = el;
    j["end_column"] = ec;
    return j;
  };
  json list = json::array();
  for (const Diagnostic& d : de.all()) {
    json j = span_json(d.span);
    j["severity"] = severity_word(d.severity);
    j["code"] = std::string(info(d.code).name);
    j["message"] = d.message;
    json notes = json::array();
    for (const Note& n : d.notes) {
      json nj = span_json(n.span);
      nj["message"] = n.message;
      notes.push_back(nj);
    }
    j["notes"] = notes;
    if (!d.hint.empty()) j["hint"] = d.hint;
    list.push_back(j);
  }
  json out = {{"diagnostics", list}, {"errors", de.error_count()}, {"warnings", de.warning_count()}};
  // Past the caps (see DiagnosticEngine), how many were counted in errors/warnings but not listed.
  if (de.dropped() > 0) out["not_shown"] = de.dropped();
  // Invalid UTF-8 in a message (from a bad input file) must not make the output itself invalid.
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace orgos::diag
