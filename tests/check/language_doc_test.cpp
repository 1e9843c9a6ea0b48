// docs/language.md is the language reference; its examples are programs, and these tests keep them honest.
// Every ```org block is checked on its own by the compiler and must produce no diagnostic at all, or
// exactly the codes its fence names (```org expect E0301 W0002, for examples of what the checker
// rejects), and be laid out as `orgctl fmt` lays it out; ```org fragment blocks are deliberately partial
// and not checked. The grammar's `declaration` and `stmt` rules are read from the grammar files, so that a
// construct added to the grammar without an example in the reference, or in examples/language-tour, fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/syntax/formatter.h"

namespace fs = std::filesystem;
using namespace orgos;

namespace {

struct Block {
  size_t line = 0;  // of the opening fence, 1-based
  std::string text;
  bool fragment = false;
  std::multiset<std::string> expect;  // codes the block must produce; empty: none
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const fs::path kDoc = fs::path(ORGOS_SOURCE_DIR) / "docs" / "language.md";

// The ```org blocks of a Markdown text, with the line of each opening fence.
std::vector<Block> org_blocks(const std::string& markdown) {
  std::vector<Block> out;
  std::istringstream in(markdown);
  std::string line;
  size_t n = 0;
  Block* open = nullptr;
  bool other_fence = false;  // inside a fence of another language, whose lines are not ours
  while (std::getline(in, line)) {
    ++n;
    bool fence = line.rfind("```", 0) == 0;
    if (open) {
      if (fence)
        open = nullptr;
      else
        open->text += line + "\n";
      continue;
    }
    if (!fence) continue;
    if (other_fence) {
      other_fence = false;
      continue;
    }
    std::istringstream info(line.substr(3));
    std::string lang, word;
    info >> lang;
    if (lang != "org") {
      other_fence = true;
      continue;
    }
    Block b;
    b.line = n;
    while (info >> word) {
      if (word == "fragment")
        b.fragment = true;
      else if (word != "expect")
        b.expect.insert(word);
    }
    out.push_back(std::move(b));
    open = &out.back();
  }
  if (open) out.back().expect.insert("(block never closed)");
  return out;
}

std::string where(const Block& b) {
  return "docs/language.md:" + std::to_string(b.line);
}

// Checks every block that is not a fragment; one message per block that does not check as declared.
std::vector<std::string> failures(const std::vector<Block>& blocks) {
  std::vector<std::string> out;
  for (const Block& b : blocks) {
    if (b.fragment) continue;
    auto c = driver::check_text("language.md", b.text);
    std::multiset<std::string> got;
    for (auto& d : c->diags.all()) got.insert(std::string(diag::info(d.code).name));
    if (got == b.expect) {
      // Examples are written as `orgctl fmt` writes code, so that they teach the canonical layout.
      std::string canonical;
      try {
        canonical = syntax::format_source(b.text);
      } catch (const syntax::FormatError& e) {
        canonical = e.what();
      }
      if (canonical != b.text)
        out.push_back("the ```org block at " + where(b) + " is not in the form `orgctl fmt` gives:\n" +
                      canonical);
      continue;
    }
    std::string want, have;
    for (auto& w : b.expect) want += " " + w;
    for (auto& h : got) have += " " + h;
    out.push_back("the ```org block at " + where(b) + " should give" +
                  (want.empty() ? " no diagnostic" : want) + " but gave" + (have.empty() ? " none" : have) +
                  ":\n" + diag::render_all_text(c->sources, c->diags));
  }
  return out;
}

// The grammar, read from its files so that the reference follows it.
struct Grammar {
  std::string parser = read(fs::path(ORGOS_SOURCE_DIR) / "grammar" / "OrgParser.g4");
  std::string lexer = read(fs::path(ORGOS_SOURCE_DIR) / "grammar" / "OrgLexer.g4");

  // The word a symbol starts with: a token's literal, or the first word of the rule it names
  // (`orgDecl` gives org, `ifStmt` gives if). Empty when it starts with a name or punctuation.
  std::string first_word(const std::string& symbol, int depth = 0) const {
    std::smatch m;
    if (std::isupper(static_cast<unsigned char>(symbol[0]))) {
      if (!std::regex_search(lexer, m, std::regex("\\n" + symbol + ":\\s*'([a-z_]+)';"))) return "";
      return m[1];
    }
    if (depth > 3 || !std::regex_search(parser, m, std::regex("\\n" + symbol + "\\s*:\\s*([A-Za-z_]+)")))
      return "";
    return first_word(m[1], depth + 1);
  }

  // Every keyword of the lexer, and whether the parser's `ident` rule accepts it as a name too.
  std::map<std::string, bool> keywords() const {
    std::smatch m;
    std::regex_search(parser, m, std::regex("\\nident\\s*\\n\\s*:([^;]*);"));
    std::string ident = m[1];
    std::map<std::string, bool> out;
    std::regex tok("\\n([A-Z_]+): '([a-z_]+)';");
    for (auto it = std::sregex_iterator(lexer.begin(), lexer.end(), tok); it != std::sregex_iterator(); ++it)
      out[(*it)[2]] = has_token(ident, (*it)[1]);
    return out;
  }
  static bool has_token(const std::string& text, const std::string& token) {
    return std::regex_search(text, std::regex("(^|[^A-Z_])" + token + "($|[^A-Z_])"));
  }

  // The first word of each alternative of a rule, by the alternative's first symbol.
  std::map<std::string, std::string> alternatives(const std::string& rule) const {
    std::smatch m;
    std::map<std::string, std::string> out;
    if (!std::regex_search(parser, m, std::regex("\\n" + rule + "\\s*\\n\\s*:([^;]*);"))) return out;
    std::string body = ":" + std::string(m[1]);
    std::regex alt("(^|\\n)\\s*[:|]\\s*([A-Za-z_]+)");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), alt); it != std::sregex_iterator(); ++it) {
      std::string sym = (*it)[2];
      std::string w = first_word(sym);
      if (!w.empty()) out[sym] = w;
    }
    return out;
  }
};

// Program text without comments and strings, so that a keyword counts only where it is code.
std::string code_only(const std::string& text) {
  static const std::regex noise("//[^\\n]*|/\\*[\\s\\S]*?\\*/|\"([^\"\\\\\\n]|\\\\.)*\"");
  return std::regex_replace(text, noise, " ");
}

bool has_word(const std::string& code, const std::string& word) {
  return std::regex_search(code, std::regex("(^|[^A-Za-z0-9_])" + word + "($|[^A-Za-z0-9_])"));
}

void collect_kinds(const std::vector<ast::DeclPtr>& decls, std::set<std::string>& seen) {
  for (auto& d : decls) {
    seen.insert(ast::keyword(d->kind));
    if (d->kind == ast::DeclKind::Template)
      collect_kinds(static_cast<const ast::TemplateDecl&>(*d).decls, seen);
  }
}

// Declaration keywords (org, role, …, fn) and the package and import lines.
std::map<std::string, std::string> declaration_words(const Grammar& g) {
  auto out = g.alternatives("declaration");
  for (const char* r : {"packageDecl", "importDecl"}) out[r] = g.first_word(r);
  return out;
}

// What a compilation's root files declare, by keyword.
std::set<std::string> declared(const driver::Compilation& c) {
  std::set<std::string> seen;
  for (auto& f : c.files) {
    if (!f.root) continue;
    if (!f.module->package.empty()) seen.insert("package");
    if (!f.module->imports.empty()) seen.insert("import");
    collect_kinds(f.module->decls, seen);
  }
  return seen;
}

}  // namespace

TEST(LanguageDoc, EveryOrgBlockChecksAsDeclared) {
  auto blocks = org_blocks(read(kDoc));
  ASSERT_GT(blocks.size(), 20u) << "docs/language.md lost its examples";
  for (auto& f : failures(blocks)) ADD_FAILURE() << f;
  // Partial blocks are the exception: most examples are whole programs.
  size_t fragments = std::count_if(blocks.begin(), blocks.end(), [](const Block& b) { return b.fragment; });
  EXPECT_LE(fragments * 5, blocks.size()) << "too many ```org fragment blocks";
}

TEST(LanguageDoc, ABrokenBlockFailsWithItsLine) {
  std::string md =
      "# Title\n"
      "```org\nrecord R { amount: Money<USD> }\n```\n"  // lines 2-4: clean
      "Text.\n"
      "```org\nrecord S { amount: Money<USD> }\nfn f(s: S) -> Bool = s.amount > 3 EUR\n```\n"  // line 6
      "```org expect E0301\nfn g() -> Bool = 1 USD < 2 EUR\n```\n"  // the error it shows
      "```org fragment\napproval by CFO\n```\n"                     // not checked
      "```sh\n```org inside another fence is not a block\n```\n";
  auto blocks = org_blocks(md);
  ASSERT_EQ(blocks.size(), 4u);
  auto f = failures(blocks);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].find("docs/language.md:6 should give no diagnostic but gave E0301"), std::string::npos)
      << f[0];
  // A clean block in another layout than the formatter's fails too.
  auto untidy = failures(org_blocks("```org\nrecord  R{ n:Int }\n```\n"));
  ASSERT_EQ(untidy.size(), 1u);
  EXPECT_NE(untidy[0].find("docs/language.md:1 is not in the form"), std::string::npos) << untidy[0];
  // An example that is supposed to fail and does not is a failure too.
  auto clean = org_blocks("```org expect E0301\nfn g() -> Bool = 1 USD < 2 USD\n```\n");
  ASSERT_EQ(failures(clean).size(), 1u);
  EXPECT_NE(failures(clean)[0].find("docs/language.md:1"), std::string::npos);
}

TEST(LanguageDoc, EveryDeclarationOfTheGrammarHasACleanExample) {
  std::set<std::string> seen;
  for (const Block& b : org_blocks(read(kDoc))) {
    if (b.fragment || !b.expect.empty()) continue;
    auto c = driver::check_text("language.md", b.text);
    if (c->diags.has_errors()) continue;  // reported by EveryOrgBlockChecksAsDeclared
    for (auto& k : declared(*c)) seen.insert(k);
  }
  Grammar g;
  auto wanted = declaration_words(g);
  ASSERT_GE(wanted.size(), 18u) << "could not read the grammar's declarations";
  for (auto& [rule, kw] : wanted)
    EXPECT_TRUE(seen.count(kw)) << "docs/language.md has no clean example of `" << kw << "` (grammar rule "
                                << rule << ")";
}

TEST(LanguageDoc, EveryStepOfTheGrammarHasACleanExample) {
  std::string code;
  for (const Block& b : org_blocks(read(kDoc)))
    if (!b.fragment && b.expect.empty()) code += code_only(b.text);
  Grammar g;
  auto steps = g.alternatives("stmt");
  ASSERT_GE(steps.size(), 20u) << "could not read the grammar's steps";
  for (auto& [sym, kw] : steps)
    EXPECT_TRUE(has_word(code, kw)) << "docs/language.md has no clean example using `" << kw << "`";
}

// The reference lists the reserved words and the contextual ones in the two ```text blocks after "These
// words are reserved"; both lists must be exactly what the grammar says.
TEST(LanguageDoc, KeywordListsMatchTheGrammar) {
  std::string md = read(kDoc);
  size_t at = md.find("These words are reserved");
  ASSERT_NE(at, std::string::npos);
  std::set<std::string> listed[2];
  for (auto& l : listed) {
    size_t open = md.find("```text\n", at), close = md.find("\n```", open + 8);
    ASSERT_NE(close, std::string::npos);
    std::istringstream words(md.substr(open + 8, close - open - 8));
    for (std::string w; words >> w;) l.insert(w);
    at = close + 4;
  }
  std::set<std::string> reserved, contextual;
  for (auto& [w, name_too] : Grammar().keywords()) (name_too ? contextual : reserved).insert(w);
  EXPECT_EQ(listed[0], reserved) << "the reserved words of docs/language.md differ from the grammar's";
  EXPECT_EQ(listed[1], contextual) << "the contextual keywords of docs/language.md differ from the grammar's";
}

// examples/language-tour is the organization that uses every construct: it checks cleanly and declares
// and uses everything the grammar has (its scenario is played by the scenario tests).
TEST(LanguageTour, UsesEveryDeclarationAndStep) {
  fs::path dir = fs::path(ORGOS_SOURCE_DIR) / "examples" / "language-tour";
  driver::CheckOptions o;
  o.inputs = {dir.string()};
  auto c = driver::check(o);
  ASSERT_TRUE(c->diags.all().empty()) << diag::render_all_text(c->sources, c->diags);
  Grammar g;
  auto seen = declared(*c);
  for (auto& [rule, kw] : declaration_words(g))
    EXPECT_TRUE(seen.count(kw)) << "the language tour declares no `" << kw << "`";
  std::string code;
  for (auto& f : driver::org_files(dir.string())) code += code_only(read(f));
  for (auto& [sym, kw] : g.alternatives("stmt"))
    EXPECT_TRUE(has_word(code, kw)) << "the language tour never uses `" << kw << "`";
  // Clauses that are not steps of their own but that the tour is there to show.
  for (const char* w : {"salience", "compensate", "escalate", "quorum", "join", "within", "timeout", "max"})
    EXPECT_TRUE(has_word(code, w)) << "the language tour never uses `" << w << "`";
}
