// `orgctl fmt`'s engine: every token OrgLexer produces, comments included, is written back in order with
// canonical spacing and indentation. A parse of the same text only supplies the structure spacing cannot
// see in the tokens (unary minus, type brackets, which line starts an item, decision-table rows).
#include "compiler/syntax/formatter.h"

#include <antlr4-runtime.h>

#include <algorithm>
#include <map>

#include "OrgLexer.h"
#include "OrgParser.h"
#include "compiler/diag/renderer.h"
#include "compiler/syntax/parser.h"

namespace orgos::syntax {
namespace {

using grammar::OrgLexer;
using grammar::OrgParser;

constexpr int kIndent = 2;
// item_of: the token starts an item of the file itself, or of no brace construct at all.
constexpr long kTopLevel = -1;
constexpr long kNotItem = -2;

// What the parse tree says about single tokens, by ANTLR token index.
enum Flag : uint8_t {
  kUnaryMinus = 1 << 0,   // `-` of a negation or a signed salience: stays attached to its operand
  kGeneric = 1 << 1,      // `<` `>` around type arguments: Money<USD>, not a comparison
  kTight = 1 << 2,        // `(` of a call or parameter list, `[` of an index: no space before
  kImportBrace = 1 << 3,  // `{` `}` of `import std.x.{A, B}`: no space inside
  kElse = 1 << 4,         // `else` of an `if`: lines up with the `if`, it does not continue a step
  kRowSep = 1 << 5,       // `|` or `||` between the cells of a decision-table row
};

bool is_opener(size_t t) {
  return t == OrgLexer::LBRACE || t == OrgLexer::LPAREN || t == OrgLexer::LBRACK;
}
bool is_closer(size_t t) {
  return t == OrgLexer::RBRACE || t == OrgLexer::RPAREN || t == OrgLexer::RBRACK;
}
bool is_comment(size_t t) {
  return t == OrgLexer::LINE_COMMENT || t == OrgLexer::BLOCK_COMMENT;
}

// The spelling a token keeps in canonical form: money as `<number> <CODE>` (the lexer allows any run of
// blanks in between), line comments without trailing blanks. Everything else is kept byte for byte.
std::string normalise(size_t type, const std::string& text) {
  if (type == OrgLexer::MONEY && text.size() > 3) {
    std::string number = text.substr(0, text.size() - 3);
    while (!number.empty() && (number.back() == ' ' || number.back() == '\t')) number.pop_back();
    return number + " " + text.substr(text.size() - 3);
  }
  if (type == OrgLexer::LINE_COMMENT) {
    std::string s = text;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
    return s;
  }
  return text;
}

// Columns a string takes on screen, counted in code points (cells may hold non-ASCII strings).
size_t width(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Line breaks in a run of whitespace; a lone CR counts as one, as editors show it.
int count_breaks(const std::string& ws) {
  int n = 0;
  for (size_t i = 0; i < ws.size(); ++i)
    if (ws[i] == '\n' || (ws[i] == '\r' && (i + 1 == ws.size() || ws[i + 1] != '\n'))) ++n;
  return n;
}

// The ANTLR objects of one lexing, kept together because the token stream points into the others.
struct Lexed {
  antlr4::ANTLRInputStream input;
  OrgLexer lexer;
  antlr4::CommonTokenStream tokens;
  explicit Lexed(const std::string& text) : input(text), lexer(&input), tokens(&lexer) {
    lexer.removeErrorListeners();  // bad characters are ERROR_CHAR tokens, never lexer errors
    tokens.fill();
  }
};

struct Row {
  size_t first = 0, last = 0;  // token indices of the opening and closing `|`
  long table = 0;              // rows of the same table are aligned together
};

struct Structure {
  std::vector<uint8_t> flags;
  // For a token that starts an item of a brace construct (a step of a block, a field of a record, a
  // declaration of the file...): the index of that construct's `{`, or kTopLevel. A line starting with
  // anything else inside braces continues the item above it and is indented one more step.
  std::vector<long> item_of;
  std::vector<Row> rows;
  std::vector<long> row_at;  // token index of a row's first `|` → index in rows, else -1
};

uint8_t terminal_flags(size_t type, antlr4::tree::ParseTree* parent) {
  switch (type) {
    case OrgLexer::MINUS:
      return dynamic_cast<OrgParser::NegExprContext*>(parent) ||
                     dynamic_cast<OrgParser::SignedIntContext*>(parent)
                 ? kUnaryMinus
                 : 0;
    case OrgLexer::LT:
    case OrgLexer::GT:
      return dynamic_cast<OrgParser::TypeContext*>(parent) ? kGeneric : 0;
    case OrgLexer::LPAREN:
      return dynamic_cast<OrgParser::ArgListContext*>(parent) ||
                     dynamic_cast<OrgParser::ParamListContext*>(parent) ||
                     dynamic_cast<OrgParser::ComprehensionPrimaryContext*>(parent)
                 ? kTight
                 : 0;
    case OrgLexer::LBRACK:
      return dynamic_cast<OrgParser::IndexExprContext*>(parent) ? kTight : 0;
    case OrgLexer::LBRACE:
    case OrgLexer::RBRACE:
      return dynamic_cast<OrgParser::ImportDeclContext*>(parent) ? kImportBrace : 0;
    case OrgLexer::ELSE:
      return dynamic_cast<OrgParser::IfStmtContext*>(parent) ? kElse : 0;
    case OrgLexer::PIPE:
    case OrgLexer::PIPE2:
      return dynamic_cast<OrgParser::TableRowContext*>(parent) ? kRowSep : 0;
    default:
      return 0;
  }
}

// One walk over the parse tree (iterative: expression chains can nest deeply).
Structure analyse(antlr4::tree::ParseTree* root, size_t ntokens) {
  Structure s;
  s.flags.assign(ntokens, 0);
  s.item_of.assign(ntokens, kNotItem);
  s.row_at.assign(ntokens, -1);
  std::vector<antlr4::tree::ParseTree*> work{root};
  while (!work.empty()) {
    auto* ctx = dynamic_cast<antlr4::ParserRuleContext*>(work.back());
    work.pop_back();
    if (!ctx) continue;
    bool file = dynamic_cast<OrgParser::FileContext*>(ctx) != nullptr;
    if (auto* row = dynamic_cast<OrgParser::TableRowContext*>(ctx);
        row && row->getStart() && row->getStop()) {
      auto* table = dynamic_cast<antlr4::ParserRuleContext*>(row->parent);
      size_t first = row->getStart()->getTokenIndex();
      if (first < ntokens && table && table->getStart()) {
        s.row_at[first] = static_cast<long>(s.rows.size());
        s.rows.push_back(
            {first, row->getStop()->getTokenIndex(), static_cast<long>(table->getStart()->getTokenIndex())});
      }
    }
    // Direct children between this construct's own `{` and `}` are its items; every child of the file is.
    long owner = file ? kTopLevel : kNotItem;
    for (auto* child : ctx->children) {
      work.push_back(child);
      if (auto* term = dynamic_cast<antlr4::tree::TerminalNode*>(child)) {
        antlr4::Token* tok = term->getSymbol();
        size_t idx = tok->getTokenIndex();
        if (idx >= ntokens) continue;
        s.flags[idx] |= terminal_flags(tok->getType(), ctx);
        if (!file && tok->getType() == OrgLexer::LBRACE) {
          owner = static_cast<long>(idx);
          continue;
        }
        if (!file && tok->getType() == OrgLexer::RBRACE) {
          owner = kNotItem;
          continue;
        }
        if (owner != kNotItem) s.item_of[idx] = owner;
      } else if (auto* sub = dynamic_cast<antlr4::ParserRuleContext*>(child)) {
        // A rule that matched nothing has no first token of its own.
        if (owner == kNotItem || !sub->getStart() || !sub->getStop() ||
            sub->getStop()->getTokenIndex() < sub->getStart()->getTokenIndex())
          continue;
        size_t idx = sub->getStart()->getTokenIndex();
        if (idx < ntokens) s.item_of[idx] = owner;
      }
    }
  }
  return s;
}

struct Tok {
  size_t type = 0;
  size_t index = 0;  // ANTLR token index, the key into Structure
  std::string text;  // normalised
  int breaks = 0;    // line breaks between the previous token and this one
};

struct Line {
  bool blank = false;
  int indent = 0;
  std::string code;     // the line after its indentation, except a trailing line comment
  std::string comment;  // a line comment after code
  size_t last_code_type = 0;
  // A decision-table row (cells and separators rendered by align_tables), or -1.
  long table = -1;
  std::vector<std::string> cells, seps;
};

// Lays the tokens out line by line (the original line breaks), then aligns table rows and trailing comments.
class Printer {
 public:
  Printer(std::vector<Tok> toks, Structure st) : toks_(std::move(toks)), st_(std::move(st)) {}

  std::string run() {
    for (size_t i = 0; i < toks_.size(); ++i) {
      if (i == 0 || toks_[i].breaks > 0) start_line(i);
      put(i);
    }
    finish_line();
    align_tables();
    return render();
  }

 private:
  struct Open {
    size_t index;  // token index of the bracket
    size_t type;
    int close;    // indentation of a line that starts with its closing bracket
    int content;  // indentation of the lines inside
    int visual;   // column of the code after it on its line, -1 when it ends its line
    size_t line;  // the output line it was opened on
  };

  // Indentation for a line that starts with a code token `u` that is not a closing bracket.
  int item_indent(const Tok& u) const {
    int base = stack_.empty() ? 0 : stack_.back().content;
    // Inside ( and [ every line is an element: continuation only makes sense between braces.
    if (!stack_.empty() && stack_.back().type != OrgLexer::LBRACE) return base;
    long owner = stack_.empty() ? kTopLevel : static_cast<long>(stack_.back().index);
    bool item = st_.item_of[u.index] == owner || (st_.flags[u.index] & kElse);
    return item ? base : base + kIndent;
  }

  // A line starting with closing brackets lines up with the line that opened the last of them.
  int closing_indent(size_t j) const {
    size_t run = 1;
    while (j + run < toks_.size() && toks_[j + run].breaks == 0 && is_closer(toks_[j + run].type)) ++run;
    run = std::min(run, stack_.size());
    return run == 0 ? 0 : stack_[stack_.size() - run].close;
  }

  int line_indent(size_t i) const {
    size_t n = toks_.size(), j = i;
    while (is_comment(toks_[j].type) && j + 1 < n && toks_[j + 1].breaks == 0) ++j;
    if (!is_comment(toks_[j].type))
      return is_closer(toks_[j].type) ? closing_indent(j) : item_indent(toks_[j]);
    // Only comments on this line: they belong to the code that follows, indented as it will be (inside the
    // block when what follows is its closing brace).
    size_t k = j + 1;
    while (k < n && is_comment(toks_[k].type)) ++k;
    if (k == n || is_closer(toks_[k].type)) return stack_.empty() ? 0 : stack_.back().content;
    return item_indent(toks_[k]);
  }

  // A row is aligned when it has a line to itself: nothing but a line comment after its last `|`, no line
  // break inside.
  bool row_has_own_line(size_t i) const {
    const Row& row = st_.rows[static_cast<size_t>(st_.row_at[toks_[i].index])];
    size_t k = i + 1;
    for (; k < toks_.size() && toks_[k].index <= row.last; ++k) {
      const Tok& t = toks_[k];
      if (t.breaks > 0 || t.type == OrgLexer::LINE_COMMENT ||
          t.text.find_first_of("\r\n") != std::string::npos)
        return false;
    }
    return k == toks_.size() || toks_[k].breaks > 0 || toks_[k].type == OrgLexer::LINE_COMMENT;
  }

  void start_line(size_t i) {
    const Tok& t = toks_[i];
    if (i > 0) {
      // The innermost bracket left open by the line just ended, if code followed it there: the lines
      // inside line up with that code instead of taking one more indentation step.
      //   create Hire { name: n, title: t,
      //                 unit: u }
      if (!stack_.empty() && stack_.back().line == line_id_ && stack_.back().visual >= 0)
        stack_.back().content = stack_.back().visual;
      bool after_open = is_opener(cur_.last_code_type);
      finish_line();
      // Runs of blank lines become one; none just inside brackets.
      if (t.breaks >= 2 && !after_open && !is_closer(t.type)) {
        Line blank;
        blank.blank = true;
        lines_.push_back(blank);
      }
    }
    cur_ = Line{};
    cur_.indent = line_indent(i);
    line_id_ = lines_.size();
    line_tokens_ = 0;
    if (st_.row_at[t.index] >= 0 && row_has_own_line(i)) {
      const Row& row = st_.rows[static_cast<size_t>(st_.row_at[t.index])];
      cur_.table = row.table;
      row_last_ = row.last;
      in_row_ = true;
    }
  }

  void finish_line() {
    if (line_tokens_ > 0) lines_.push_back(std::move(cur_));
    cur_ = Line{};
    line_tokens_ = 0;
  }

  // The space between two tokens on one line.
  std::string space(const Tok& a, const Tok& b) const {
    if (is_comment(a.type) || is_comment(b.type)) return " ";
    uint8_t fa = st_.flags[a.index], fb = st_.flags[b.index];
    switch (a.type) {
      case OrgLexer::LPAREN:
      case OrgLexer::LBRACK:
      case OrgLexer::DOT:
      case OrgLexer::QDOT:
        return "";
      default:
        break;
    }
    if ((fa & kUnaryMinus) || (a.type == OrgLexer::LT && (fa & kGeneric)) ||
        (a.type == OrgLexer::LBRACE && (fa & kImportBrace)))
      return "";
    switch (b.type) {
      case OrgLexer::COMMA:
      case OrgLexer::COLON:
      case OrgLexer::SEMI:
      case OrgLexer::RPAREN:
      case OrgLexer::RBRACK:
      case OrgLexer::DOT:
      case OrgLexer::QDOT:
      case OrgLexer::QUESTION:
        return "";
      default:
        break;
    }
    if ((fb & kTight) || (fb & kGeneric) || (b.type == OrgLexer::RBRACE && (fb & kImportBrace))) return "";
    if (a.type == OrgLexer::LBRACE && b.type == OrgLexer::RBRACE) return "";  // {}
    return " ";
  }

  void put(size_t i) {
    const Tok& t = toks_[i];
    bool first = line_tokens_++ == 0;
    if (in_row_) {
      if (st_.flags[t.index] & kRowSep) {
        if (!cur_.seps.empty()) cur_.cells.push_back(std::move(cell_));
        cell_.clear();
        cur_.seps.push_back(t.text);
        if (t.index == row_last_) in_row_ = false;
      } else {
        if (!cell_.empty()) cell_ += space(toks_[i - 1], t);
        cell_ += t.text;
      }
    } else if (t.type == OrgLexer::LINE_COMMENT && !first) {
      cur_.comment = t.text;
    } else {
      if (!first) cur_.code += space(toks_[i - 1], t);
      cur_.code += t.text;
    }
    if (is_comment(t.type)) return;
    cur_.last_code_type = t.type;
    if (is_opener(t.type)) {
      // A second bracket opened on the same line nests one step further than the first.
      bool same_line = !stack_.empty() && stack_.back().line == line_id_;
      int close = same_line ? stack_.back().content : cur_.indent;
      int visual = -1;
      if (!in_row_ && i + 1 < toks_.size() && toks_[i + 1].breaks == 0 &&
          toks_[i + 1].type != OrgLexer::LINE_COMMENT && cur_.code.find('\n') == std::string::npos)
        visual = cur_.indent + static_cast<int>(width(cur_.code) + space(t, toks_[i + 1]).size());
      stack_.push_back({t.index, t.type, close, close + kIndent, visual, line_id_});
    } else if (is_closer(t.type) && !stack_.empty()) {
      stack_.pop_back();
    }
  }

  // Pads the cells of every table's rows so that the separators line up: input columns by position
  // before `||`, output columns by position after it.
  void align_tables() {
    auto column = [](const Line& l, size_t cell) {
      int section = 0, pos = 0;
      for (size_t k = 1; k <= cell; ++k) {
        if (l.seps[k] == "||") {
          section = 1;
          pos = 0;
        } else {
          ++pos;
        }
      }
      return std::pair<int, int>{section, pos};
    };
    std::map<long, std::map<std::pair<int, int>, size_t>> widths;
    for (auto& l : lines_)
      if (l.table >= 0)
        for (size_t c = 0; c < l.cells.size(); ++c) {
          size_t& w = widths[l.table][column(l, c)];
          w = std::max(w, width(l.cells[c]));
        }
    for (auto& l : lines_) {
      if (l.table < 0) continue;
      auto& w = widths[l.table];
      std::string code = l.seps.empty() ? "" : l.seps[0];
      for (size_t c = 0; c < l.cells.size() && c + 1 < l.seps.size(); ++c) {
        code +=
            " " + l.cells[c] + std::string(w[column(l, c)] - width(l.cells[c]), ' ') + " " + l.seps[c + 1];
      }
      l.code = std::move(code);
    }
  }

  // Trailing comments of consecutive lines at one indentation start in one column, one space after the
  // longest code (a change of indentation starts a new group, as the code's shape changes there).
  std::string render() const {
    std::vector<size_t> comment_col(lines_.size(), 0);
    auto alignable = [](const Line& l) {
      return !l.blank && !l.comment.empty() && !l.code.empty() && l.code.find('\n') == std::string::npos;
    };
    for (size_t i = 0; i < lines_.size();) {
      if (!alignable(lines_[i])) {
        ++i;
        continue;
      }
      size_t j = i, col = 0;
      for (; j < lines_.size() && alignable(lines_[j]) && lines_[j].indent == lines_[i].indent; ++j)
        col = std::max(col, static_cast<size_t>(lines_[j].indent) + width(lines_[j].code) + 1);
      for (size_t k = i; k < j; ++k) comment_col[k] = col;
      i = j;
    }
    std::string out;
    for (size_t i = 0; i < lines_.size(); ++i) {
      const Line& l = lines_[i];
      if (!l.blank) {
        out.append(static_cast<size_t>(l.indent), ' ');
        out += l.code;
        if (!l.comment.empty()) {
          size_t at = static_cast<size_t>(l.indent) + width(l.code);
          out.append(comment_col[i] > at ? comment_col[i] - at : 1, ' ');
          out += l.comment;
        }
      }
      out += '\n';
    }
    return out;
  }

  std::vector<Tok> toks_;
  Structure st_;
  std::vector<Line> lines_;
  std::vector<Open> stack_;
  Line cur_;
  size_t line_id_ = 0, line_tokens_ = 0;
  bool in_row_ = false;
  size_t row_last_ = 0;
  std::string cell_;
};

}  // namespace

std::vector<std::string> significant_tokens(const std::string& text) {
  Lexed lx(text);
  std::vector<std::string> out;
  for (antlr4::Token* t : lx.tokens.getTokens()) {
    if (t->getType() == antlr4::Token::EOF) break;
    if (t->getChannel() == antlr4::Token::HIDDEN_CHANNEL) continue;
    out.push_back(std::string(lx.lexer.getVocabulary().getSymbolicName(t->getType())) + " " +
                  normalise(t->getType(), t->getText()));
  }
  return out;
}

std::optional<std::string> format_file(const source::SourceManager& sm, source::FileId file,
                                       diag::DiagnosticEngine& diags) {
  // A file that does not parse is never rewritten. Literal values the checker rejects (E0004: a date
  // that is not in the calendar, an integer past 64 bits) do not stop formatting: the layout is still
  // known, and `orgctl check` reports them.
  diag::DiagnosticEngine found;
  parse(sm, file, found);
  bool broken = std::any_of(found.all().begin(), found.all().end(), [](const diag::Diagnostic& d) {
    return d.severity == diag::Severity::Error && d.code != diag::Code::E0004;
  });
  if (broken) {
    for (auto& d : found.all()) {
      auto& copy = diags.report(d.code, d.span, d.message);
      copy.notes = d.notes;
      copy.hint = d.hint;
    }
    return std::nullopt;
  }

  const std::string& text = sm.file(file).text;
  Lexed lx(text);
  OrgParser parser(&lx.tokens);
  parser.removeErrorListeners();
  // As in parse(): SLL first, full LL only if SLL gives up. The text is known to parse.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
      antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  OrgParser::FileContext* tree = nullptr;
  try {
    tree = parser.file();
  } catch (antlr4::ParseCancellationException&) {
    lx.tokens.seek(0);
    parser.reset();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::LL);
    parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
    tree = parser.file();
  }
  const auto& all = lx.tokens.getTokens();
  Structure st = analyse(tree, all.size());

  std::vector<Tok> toks;
  int breaks = 0;
  for (antlr4::Token* t : all) {
    if (t->getType() == antlr4::Token::EOF) break;
    if (t->getChannel() == antlr4::Token::HIDDEN_CHANNEL) {
      breaks += count_breaks(t->getText());
      continue;
    }
    // A line comment runs to the end of its line whatever the whitespace after it says.
    if (!toks.empty() && toks.back().type == OrgLexer::LINE_COMMENT) breaks = std::max(breaks, 1);
    toks.push_back({t->getType(), t->getTokenIndex(), normalise(t->getType(), t->getText()), breaks});
    breaks = 0;
  }
  std::string out = Printer(std::move(toks), std::move(st)).run();

  // The promise, checked on every file: the same tokens in the same order. A difference is a formatter bug;
  // refusing keeps the file intact.
  auto before = significant_tokens(text), after = significant_tokens(out);
  if (before != after) {
    size_t k = 0;
    while (k < before.size() && k < after.size() && before[k] == after[k]) ++k;
    std::string was = k < before.size() ? before[k] : "end of file",
                now = k < after.size() ? after[k] : "end of file";
    throw FormatError("internal formatter error in " + sm.file(file).path + ": token " +
                      std::to_string(k + 1) + " would change from `" + was + "` to `" + now +
                      "`; the file was left unchanged");
  }
  return out;
}

std::string format_source(const std::string& text) {
  source::SourceManager sm;
  source::FileId id = sm.add("<source>", text);
  diag::DiagnosticEngine diags;
  auto out = format_file(sm, id, diags);
  if (!out) throw FormatError(diag::render_all_text(sm, diags));
  return *out;
}

}  // namespace orgos::syntax
