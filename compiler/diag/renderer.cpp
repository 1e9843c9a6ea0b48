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

std::string location(const source::SourceManager& sm, const source::Span& s) {
  if (!s.valid()) return "orgctl";
  return fmt::format("{}:{}:{}", sm.file(s.file).path, s.line, s.col);
}

// The source line with an underline: ^ at the start of the span, ~ for the rest of it on that line.
void excerpt(std::string& out, const source::SourceManager& sm, const source::Span& s, const Paint& p,
             const char* colour) {
  if (!s.valid() || s.line == 0) return;
  std::string_view line = sm.line_text(s.file, s.line);
  std::string num = std::to_string(s.line);
  std::string pad(num.size(), ' ');
  // Tabs become single spaces so the caret lines up whatever the terminal's tab width.
  std::string shown(line);
  std::replace(shown.begin(), shown.end(), '\t', ' ');
  out += fmt::format("{} {}\n", pad, p("34", "|"));
  out += fmt::format("{} {} {}\n", p("34", num), p("34", "|"), shown);
  size_t start = s.col > 0 ? s.col - 1 : 0;
  if (start > shown.size()) start = shown.size();
  size_t len = s.end > s.begin ? s.end - s.begin : 1;
  if (start + len > shown.size()) len = shown.size() > start ? shown.size() - start : 1;
  if (len == 0) len = 1;
  std::string mark = "^" + std::string(len - 1, '~');
  out += fmt::format("{} {} {}{}\n", pad, p("34", "|"), std::string(start, ' '), p(colour, mark));
}

}  // namespace

std::string render_text(const source::SourceManager& sm, const Diagnostic& d, const RenderOptions& opt) {
  Paint p{opt.colour};
  const CodeInfo& ci = info(d.code);
  const char* colour = d.severity == Severity::Error ? "1;31" : "1;33";
  std::string out =
      fmt::format("{}: {}: {}\n", p("1", location(sm, d.span)),
                  p(colour, fmt::format("{}[{}]", severity_word(d.severity), ci.name)), p("1", d.message));
  excerpt(out, sm, d.span, p, colour);
  for (const Note& n : d.notes) {
    if (n.span.valid()) {
      out += fmt::format("{}: {}: {}\n", p("1", location(sm, n.span)), p("1;36", "note"), n.message);
      excerpt(out, sm, n.span, p, "1;36");
    } else {
      out += fmt::format("  = {}: {}\n", p("1;36", "note"), n.message);
    }
  }
  if (!d.hint.empty()) out += fmt::format("  = {}: {}\n", p("1;32", "hint"), d.hint);
  return out;
}

std::string render_all_text(const source::SourceManager& sm, const DiagnosticEngine& de,
                            const RenderOptions& opt) {
  std::string out;
  for (const Diagnostic& d : de.all()) out += render_text(sm, d, opt);
  if (de.dropped() > 0) out += fmt::format("... and {} more diagnostics not shown\n", de.dropped());
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
  // Invalid UTF-8 in a message (from a bad input file) must not make the output itself invalid.
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace orgos::diag
