// The parser driver: lexing, input sanitising, the two-stage ANTLR parse and syntax diagnostics.
// ANTLR works in code points while the project's spans are byte offsets (what editors and the caret
// renderer use), so token positions are mapped here, once.
#include "compiler/syntax/parser.h"

#include <antlr4-runtime.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "OrgLexer.h"
#include "OrgParser.h"
#include "compiler/syntax/ast_builder.h"

namespace orgos::syntax {

std::string fmt_hex(unsigned char c);

namespace {

using grammar::OrgLexer;
using grammar::OrgParser;

// Byte offsets of each code point, when the text is not pure ASCII (otherwise the mapping is identity).
struct PositionMap {
  const source::SourceManager& sm;
  source::FileId file;
  std::vector<uint32_t> cp_to_byte;  // empty: identity

  uint32_t byte(size_t cp) const {
    if (cp_to_byte.empty()) return static_cast<uint32_t>(cp);
    if (cp >= cp_to_byte.size()) return cp_to_byte.empty() ? 0 : cp_to_byte.back();
    return cp_to_byte[cp];
  }
  source::Span span(antlr4::Token* start, antlr4::Token* stop) const {
    source::Span s;
    s.file = file;
    const std::string& text = sm.file(file).text;
    if (start->getType() == antlr4::Token::EOF) {
      s.begin = s.end = static_cast<uint32_t>(text.size());
    } else {
      s.begin = byte(start->getStartIndex());
      size_t stop_cp =
          stop->getType() == antlr4::Token::EOF ? stop->getStartIndex() : stop->getStopIndex() + 1;
      s.end = byte(stop_cp);
      if (s.end < s.begin) s.end = s.begin;
    }
    auto [line, col] = sm.position(file, s.begin);
    s.line = line;
    s.col = col;
    return s;
  }
};

// Replaces each byte that is not part of valid UTF-8 with '?' (keeping byte offsets) and reports the first.
std::string sanitize_utf8(const std::string& in, std::optional<uint32_t>& first_bad,
                          std::vector<uint32_t>& cp_map) {
  std::string out = in;
  bool ascii = true;
  size_t i = 0;
  while (i < out.size()) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= out.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(out[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and code points past U+10FFFF, which the ANTLR runtime refuses.
      uint32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(out[i + k]) & 0x3F);
      if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
          (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        ok = false;
    }
    if (!ok) {
      if (!first_bad) first_bad = static_cast<uint32_t>(i);
      out[i] = '?';
      len = 1;
    }
    if (len > 1) ascii = false;
    cp_map.push_back(static_cast<uint32_t>(i));
    i += len;
  }
  cp_map.push_back(static_cast<uint32_t>(out.size()));
  if (ascii) cp_map.clear();
  return out;
}

std::string display(antlr4::Token* t) {
  if (!t || t->getType() == antlr4::Token::EOF) return "end of file";
  std::string s = t->getText();
  if (s.size() > 30) s = s.substr(0, 27) + "...";
  return "`" + s + "`";
}

class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorListener(diag::DiagnosticEngine& d, const PositionMap& pm) : diags_(d), pm_(pm) {}
  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t, size_t,
                   const std::string& msg, std::exception_ptr) override {
    // One error per offending token: recovery can report the same place several times.
    if (offending && offending->getTokenIndex() == last_index_ && count_ > 0) return;
    // Recovery often trips again right after the first error; a second error on the same line is
    // almost always that echo, so only the first one per line is reported.
    if (offending && count_ > 0 && offending->getLine() == last_line_) return;
    if (offending) {
      last_index_ = offending->getTokenIndex();
      last_line_ = offending->getLine();
    }
    ++count_;
    source::Span sp;
    if (offending) sp = pm_.span(offending, offending);
    std::string message = "unexpected " + display(offending);
    std::string hint;
    bool name_expected = false;
    if (auto* parser = dynamic_cast<antlr4::Parser*>(recognizer)) {
      antlr4::misc::IntervalSet expected = parser->getExpectedTokens();
      name_expected = expected.contains(static_cast<size_t>(OrgLexer::ID));
      auto tokens = expected.toList();
      if (!tokens.empty() && tokens.size() <= 6) {
        std::string list;
        for (size_t i = 0; i < tokens.size(); ++i) {
          if (i) list += i + 1 == tokens.size() ? " or " : ", ";
          list += parser->getVocabulary().getDisplayName(tokens[i]);
        }
        message += ", expected " + list;
      }
      auto* ctx = parser->getContext();
      if (ctx) {
        std::string rule = parser->getRuleNames()[ctx->getRuleIndex()];
        hint = "while reading " + describe(rule);
      }
    } else {
      message = msg;
    }
    // A keyword where a name was expected is the commonest cause: say so.
    if (offending && offending->getType() != antlr4::Token::EOF && name_expected) {
      std::string text = offending->getText();
      bool word = !text.empty() && std::all_of(text.begin(), text.end(), [](char ch) {
        return std::isalpha(static_cast<unsigned char>(ch)) || ch == '_';
      });
      if (word && offending->getType() != OrgLexer::ID)
        hint =
            "`" + text +
            "` is a reserved word of the language; if it is meant as a name, choose another (a more specific "
            "word, or `" +
            text + "_` with a suffix)";
    }
    auto& d = diags_.report(diag::Code::E0001, sp, message);
    if (!hint.empty()) d.with_hint(hint);
  }

 private:
  static std::string describe(const std::string& rule) {
    static const std::map<std::string, std::string> names = {
        {"file", "the top level of the file (expected a declaration such as `record`, `process`, `rule`)"},
        {"stmt", "a process step"},
        {"step", "a process step"},
        {"block", "a block of steps"},
        {"expr", "an expression"},
        {"primary", "an expression"},
        {"recordDecl", "a record"},
        {"recordItem", "a record field (`name: Type`) or `check`"},
        {"fieldDecl", "a field (`name: Type`)"},
        {"processDecl", "a process"},
        {"roleDecl", "a role"},
        {"ruleDecl", "a rule"},
        {"tableDecl", "a decision table"},
        {"tableRow", "a table row (`| in | in || out |`)"},
        {"orgDecl", "an org"},
        {"orgItem", "an org attribute"},
        {"lifecycleDecl", "a lifecycle"},
        {"metricDecl", "a metric"},
        {"policyDecl", "a policy"},
        {"type", "a type"},
        {"importDecl", "an import"},
        {"ident", "a name"},
        {"qualifiedName", "a name"},
        {"typeRef", "a type name"},
        {"param", "a parameter (`name: Type`)"},
        {"taskClause", "a task"},
        {"argList", "arguments"},
        {"recordLit", "field values `{ name: value }`"},
    };
    auto it = names.find(rule);
    return it != names.end() ? it->second : "`" + rule + "`";
  }

  diag::DiagnosticEngine& diags_;
  const PositionMap& pm_;
  size_t last_index_ = SIZE_MAX;
  size_t last_line_ = SIZE_MAX;
  size_t count_ = 0;
};

// Lexical errors become diagnostics of their own, and the bad tokens are hidden from the parser so one
// stray character does not also produce a cascade of syntax errors. Also rejects nesting deep enough to
// exhaust the parser's stack.
bool prescan(antlr4::CommonTokenStream& tokens, diag::DiagnosticEngine& diags, const PositionMap& pm) {
  int depth = 0, unary_run = 0;
  for (antlr4::Token* t : tokens.getTokens()) {
    auto* ct = dynamic_cast<antlr4::CommonToken*>(t);
    switch (t->getType()) {
      case OrgLexer::ERROR_CHAR: {
        std::string c = t->getText();
        std::string shown = (c.size() == 1 && (static_cast<unsigned char>(c[0]) < 0x20 || c[0] == 0x7f))
                                ? "\\x" + fmt_hex(static_cast<unsigned char>(c[0]))
                                : c;
        diags.report(diag::Code::E0002, pm.span(t, t), "invalid character `" + shown + "`")
            .with_hint("remove it, or put it inside a string literal");
        if (ct) ct->setChannel(antlr4::Token::HIDDEN_CHANNEL);
        break;
      }
      case OrgLexer::UNTERMINATED_STRING:
        diags.report(diag::Code::E0003, pm.span(t, t), "string is not closed before the end of the line")
            .with_hint("add the closing `\"`");
        // Read it as the string it was meant to be, so the rest of the line parses without echo errors.
        if (ct) ct->setType(OrgLexer::STRING);
        break;
      case OrgLexer::UNTERMINATED_COMMENT:
        diags
            .report(diag::Code::E0003, pm.span(t, t),
                    "block comment is not closed before the end of the file")
            .with_hint("add the closing `*/`");
        if (ct) ct->setChannel(antlr4::Token::HIDDEN_CHANNEL);
        break;
      case OrgLexer::LPAREN:
      case OrgLexer::LBRACK:
      case OrgLexer::LBRACE:
        if (++depth > kMaxNesting) {
          diags
              .report(diag::Code::E0001, pm.span(t, t),
                      "nesting is deeper than " + std::to_string(kMaxNesting) + " levels")
              .with_hint("split the construct into smaller processes, functions or `let` steps");
          return false;
        }
        break;
      case OrgLexer::RPAREN:
      case OrgLexer::RBRACK:
      case OrgLexer::RBRACE:
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
    if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL) {
      bool unary = t->getType() == OrgLexer::NOT || t->getType() == OrgLexer::MINUS;
      unary_run = unary ? unary_run + 1 : 0;
      if (unary_run > kMaxNesting) {
        diags.report(diag::Code::E0001, pm.span(t, t), "too many prefix operators in a row");
        return false;
      }
    }
  }
  return true;
}

}  // namespace

ParseResult parse(const source::SourceManager& sm, source::FileId file, diag::DiagnosticEngine& diags) {
  ParseResult result;
  PositionMap pm{sm, file, {}};
  std::optional<uint32_t> bad;
  std::string text = sanitize_utf8(sm.file(file).text, bad, pm.cp_to_byte);
  if (bad) {
    source::Span s{file, *bad, *bad + 1, 0, 0};
    auto [l, c] = sm.position(file, *bad);
    s.line = l;
    s.col = c;
    diags.report(diag::Code::E0002, s, "the file is not valid UTF-8")
        .with_hint("save the file as UTF-8; the invalid bytes were read as `?`");
  }

  antlr4::ANTLRInputStream input(text);
  OrgLexer lexer(&input);
  lexer.removeErrorListeners();  // every character is a token (ERROR_CHAR), so the lexer cannot fail
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  size_t before = diags.error_count();
  if (!prescan(tokens, diags, pm)) {
    result.module = std::make_unique<ast::Module>();
    result.module->file = file;
    result.had_syntax_errors = true;
    result.gave_up = true;
    return result;
  }

  OrgParser parser(&tokens);
  parser.removeErrorListeners();
  // Stage 1: SLL prediction, bail at the first error. Almost every valid file finishes here.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
      antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  OrgParser::FileContext* tree = nullptr;
  bool clean = true;
  try {
    tree = parser.file();
  } catch (antlr4::ParseCancellationException&) {
    // Stage 2: full LL with error recovery and reporting, so every syntax error of the file is listed.
    clean = false;
    tokens.seek(0);
    parser.reset();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::LL);
    parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
    SyntaxErrorListener listener(diags, pm);
    parser.addErrorListener(&listener);
    tree = parser.file();
    parser.removeErrorListeners();
  }
  result.had_syntax_errors = diags.error_count() > before;
  AstBuilder builder(
      file, diags, [&pm](antlr4::Token* a, antlr4::Token* b) { return pm.span(a, b); }, clean);
  result.module = builder.build(tree, result.broken_names);
  return result;
}

std::string fmt_hex(unsigned char c) {
  static const char* digits = "0123456789abcdef";
  return std::string{digits[c >> 4], digits[c & 15]};
}

}  // namespace orgos::syntax
