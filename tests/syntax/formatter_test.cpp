// The formatter behind `orgctl fmt`: canonical spacing, kept line breaks and comments, aligned tables,
// refusal of broken files, and the two promises every output must keep — formatting again changes nothing,
// and the tokens (comments included) are the same as the input's.
#include "compiler/syntax/formatter.h"

#include <antlr4-runtime.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "OrgLexer.h"
#include "compiler/diag/renderer.h"

using namespace orgos;
using syntax::format_source;
using syntax::significant_tokens;

namespace {

// Realistic sources, written untidily on purpose: every construct of the language with comments around,
// inside and after it.
const std::vector<std::string> kCorpus = {
    // records, enums, events, imports
    R"(// Spend control.   
package  acme.finance version "0.2.0"
import std.kernel.{ Employee ,Manager }
import std.finance as fin   // aliased


record Expense{ // what is spent
amount :Money<USD>   // the amount
   unit:Unit
 note : String?=none
lines: List< Line >
    check amount>0USD:"an expense has a positive amount"
  // more checks later

}
enum Category{travel,meals,
  equipment}
event expense.submitted{expense:Expense}
)",
    // a process with nested blocks, parallel, switch, loops, compensation, timeouts
    R"(process Purchase( order:Order ,limit : Money=10_000USD ){
   timeout 30d
   let total=-order.discount+ -3*(order.qty-1)
   if total>=limit{
         // big orders need the CFO
         approval cfo by CFO of order.unit
         within 2d
         escalate to Board
         quorum 2 of 3
   }
   else if total > 0 USD { approval by Manager of order.unit within 1d }
   else{ fail "empty order" }
   parallel join any{
   branch quote { task get_quote by Buyer within 3d }
   branch vet {
       task vet by Compliance outcomes ok,
          rejected
       on timeout { notify order.buyer "late" }
   }
   task notify_team by Clerk   // an anonymous branch
   }
   switch order.kind { case goods,services=>{ complete } else=>{ fail "unknown" } }
   for each l in order.lines in parallel max 3 { notify l.owner "ordered" }
   create Receipt { order: order.id, total: total,
     clerk: actor } as receipt
   compensate { update receipt { void: true } }
   wait for goods.received as g where g.order==order.id within 14d on timeout { fail "not delivered" }
   set order.note = lookup(order)[0]?.text ?? "none"
   call erp.post(order.id, amount: total) as posted
   on failure{notify order.buyer "rejected: "+order.id}
}
)",
    // rules in both layouts, decision tables, policies, metrics, functions
    R"(rule big_spend salience -5 when { Expense e where e.amount > 10 USD
  not Flag f }
then { start Review(e, level: -1) }
rule route
when expense.submitted e
then start Purchase(e.expense)
rule tidy when Expense e, Flag f where f.id == e.id then retract f
table level hit first{
input amount:Money,category:Category
output who:String, days:Int
| <1000USD|-||"manager"|2|
|1000 USD..5000 USD| travel,meals || "director"| 3 | // travel is special
  | -|not travel||"ceo" |5|
}
policy no_self: forbid approve Expense when actor==resource.submitter
policy p2 permit any Report
metric spend: Money = sum(e.amount for e in Expense where e.open) over 30d target < 50_000USD warn >= 40_000 USD
  alert > 60_000 USD emit spend.alert
fn variance(b: Budget) -> Decimal = (b.spent-b.amount)/b.amount
fn neg(x: Int) -> Int = -x*2 %3
)",
    // lifecycles, orgs with units, roles, templates, connectors, federation
    R"(// The organization.
org Acme from Startup(size: 5) {
  purpose for_profit
  legal_form operating_company
  jurisdiction "US-DE"
  currency USD
  units {
    division Engineering { team Platform   team Infra }
    department Finance // money
  }
  position cfo: CFO in Finance held by "carol", "dan"
  owns OpCo 80%
  controls Sub
  licenses ip to Partner
  lifecycle StartupLife
}
lifecycle StartupLife for org {
  initial ideation
  state formation,growth
  final dissolution
  transition launch: ideation, formation -> growth when true { notify actor "launched" }
}
role Manager extends Employee, Viewer { may approve Expense where resource.unit in actor.units  scope unit }
role CFO {}
template Startup(size: Int) {
  record Seat { n: Int }
}
connector erp {
  op post(id: String, amount: Money) -> { ref: String }
}
peer Bank at "https://bank.example" key "ed25519:abc"
agreement Banking with Bank {
  send payment.ordered
  receive payment.settled
  share record Invoice
}
// end of file


)",
};

std::string format_ok(const std::string& text) {
  try {
    return format_source(text);
  } catch (const syntax::FormatError& e) {
    ADD_FAILURE() << e.what();
    return {};
  }
}

// The promises: same tokens as the input, and a second pass changes nothing.
void expect_stable(const std::string& input, const std::string& what) {
  std::string once = format_ok(input);
  EXPECT_EQ(significant_tokens(once), significant_tokens(input)) << what;
  EXPECT_EQ(format_ok(once), once) << what << "\n--- formatted once:\n" << once;
}

// The whitespace between the tokens of `text`, with what precedes each gap.
struct Gaps {
  std::vector<std::string> tokens;  // tokens[i] is followed by gaps[i + 1]; gaps[0] precedes the first
  std::vector<std::string> gaps;
  std::vector<bool> after_line_comment;
};
Gaps split(const std::string& text) {
  antlr4::ANTLRInputStream in(text);
  grammar::OrgLexer lexer(&in);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream ts(&lexer);
  ts.fill();
  Gaps g;
  g.gaps.emplace_back();
  g.after_line_comment.push_back(false);
  for (auto* t : ts.getTokens()) {
    if (t->getType() == antlr4::Token::EOF) break;
    if (t->getChannel() == antlr4::Token::HIDDEN_CHANNEL) {
      g.gaps.back() += t->getText();
      continue;
    }
    g.tokens.push_back(t->getText());
    g.gaps.emplace_back();
    g.after_line_comment.push_back(t->getType() == grammar::OrgLexer::LINE_COMMENT);
  }
  return g;
}

std::string join(const Gaps& g) {
  std::string out = g.gaps[0];
  for (size_t i = 0; i < g.tokens.size(); ++i) out += g.tokens[i] + g.gaps[i + 1];
  return out;
}

// Random blanks, keeping every gap's number of line breaks: the layout must not depend on them.
std::string shuffle_blanks(const std::string& text, std::mt19937& rng) {
  Gaps g = split(text);
  auto blanks = [&rng](int max) {
    std::string s;
    for (int n = std::uniform_int_distribution<int>(0, max)(rng); n > 0; --n) s += rng() % 3 ? ' ' : '\t';
    return s;
  };
  for (size_t i = 1; i < g.gaps.size(); ++i) {
    std::string& gap = g.gaps[i];
    size_t breaks = static_cast<size_t>(std::count(gap.begin(), gap.end(), '\n'));
    std::string fresh;
    if (breaks == 0) {
      // Blanks can be added between two tokens, but one is needed where there was one (`a b`).
      fresh = gap.empty() ? blanks(2) : " " + blanks(2);
    } else {
      for (size_t k = 0; k < breaks; ++k) fresh += blanks(3) + (rng() % 4 ? "\n" : "\r\n");
      fresh += blanks(6);
    }
    gap = fresh;
  }
  return join(g);
}

// Random line breaks added and removed between tokens (never the one ending a line comment).
std::string shuffle_breaks(const std::string& text, std::mt19937& rng) {
  Gaps g = split(text);
  for (size_t i = 1; i + 1 < g.gaps.size(); ++i) {
    if (rng() % 5) continue;
    std::string& gap = g.gaps[i];
    if (gap.find('\n') == std::string::npos)
      gap = rng() % 2 ? "\n" : "\n\n\n";
    else if (!g.after_line_comment[i])
      gap = " ";
  }
  return join(g);
}

std::vector<std::string> repository_sources() {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const char* dir : {"examples", "stdlib", "templates"}) {
    fs::path root = fs::path(ORGOS_SOURCE_DIR) / dir;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file() && it->path().extension() == ".org") files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Formatter, CorpusIsIdempotentAndKeepsEveryToken) {
  for (size_t i = 0; i < kCorpus.size(); ++i) expect_stable(kCorpus[i], "corpus #" + std::to_string(i));
}

TEST(Formatter, CanonicalLayout) {
  std::string in =
      "process P( x:Expense ,y : Int=-5 ){\n"
      "   let a=-x.amount+ -3*(y-1)\n"
      "   if a>=10_000USD{ approval by Manager of x.unit\n"
      "   within 2d }\n"
      "   else{ fail \"no\" }\n"
      "   create Hire { name: x.a, b: f(a)[0]?.b ?? 2,\n"
      "     c: [1,2] } as h\n"
      "}\n"
      "rule r\n"
      "when expense.submitted e\n"
      "then {\n"
      "start P(e.expense, y: 1)\n"
      "}\n"
      "record R { m: Map<String,List<Int>>? n: Int }\n";
  EXPECT_EQ(format_ok(in),
            "process P(x: Expense, y: Int = -5) {\n"
            "  let a = -x.amount + -3 * (y - 1)\n"
            "  if a >= 10_000 USD { approval by Manager of x.unit\n"
            "                         within 2d }\n"
            "  else { fail \"no\" }\n"
            "  create Hire { name: x.a, b: f(a)[0]?.b ?? 2,\n"
            "                c: [1, 2] } as h\n"
            "}\n"
            "rule r\n"
            "  when expense.submitted e\n"
            "  then {\n"
            "    start P(e.expense, y: 1)\n"
            "  }\n"
            "record R { m: Map<String, List<Int>>? n: Int }\n");
}

TEST(Formatter, IndentsByBracesAndContinuations) {
  std::string in =
      "process P {\n"
      "parallel { branch a {\n"
      "task t by C\n"
      "} }\n"
      "approval by M\n"
      "within f(1,\n"
      "2)\n"
      "task x by Y\n"
      "}\n";
  EXPECT_EQ(format_ok("import std.kernel.{\nEmployee,\nManager\n}\n"),
            "import std.kernel.{\n  Employee,\n  Manager\n}\n");
  EXPECT_EQ(format_ok(in),
            "process P {\n"
            "  parallel { branch a {\n"
            "      task t by C\n"
            "  } }\n"
            "  approval by M\n"
            "    within f(1,\n"
            "             2)\n"
            "  task x by Y\n"
            "}\n");
}

TEST(Formatter, KeepsEveryComment) {
  std::string in =
      "// file header   \n"
      "record A { // after the brace\n"
      "  x: Int    // trailing\n"
      "      // own line, re-indented\n"
      "  y: Int\n"
      "// before the closing brace\n"
      "}\n"
      "process P {\n"
      "  approval by M\n"
      "  // explains the deadline\n"
      "  within 2d\n"
      "}\n"
      "// last words";
  std::string out = format_ok(in);
  EXPECT_EQ(out,
            "// file header\n"
            "record A { // after the brace\n"
            "  x: Int // trailing\n"
            "  // own line, re-indented\n"
            "  y: Int\n"
            "  // before the closing brace\n"
            "}\n"
            "process P {\n"
            "  approval by M\n"
            "    // explains the deadline\n"
            "    within 2d\n"
            "}\n"
            "// last words\n");
  EXPECT_EQ(significant_tokens(out), significant_tokens(in));
}

TEST(Formatter, AlignsTrailingCommentsOfConsecutiveLines) {
  EXPECT_EQ(
      format_ok("record A {\n  x: Int // one\n  longer_name: String // two\n\n  z: Int   // three\n}\n"),
      "record A {\n"
      "  x: Int              // one\n"
      "  longer_name: String // two\n"
      "\n"
      "  z: Int // three\n"
      "}\n");
}

TEST(Formatter, BlockCommentsAreCopiedVerbatim) {
  std::string in = "record A {\n  /* a\n     multi-line   note */ x: Int /*inline*/\n}\n";
  std::vector<std::string> tokens = significant_tokens(in);
  bool lexed = std::any_of(tokens.begin(), tokens.end(),
                           [](const std::string& t) { return t.starts_with("BLOCK_COMMENT "); });
  if (!lexed) GTEST_SKIP() << "OrgLexer does not produce BLOCK_COMMENT for `/* ... */` followed by more text";
  std::string out = format_ok(in);
  EXPECT_EQ(out, "record A {\n  /* a\n     multi-line   note */ x: Int /*inline*/\n}\n");
  expect_stable(in, "block comments");
}

TEST(Formatter, CollapsesBlankLines) {
  std::string in =
      "\n\n\n// header\n\n\n\nrecord A {\n\n\n  x: Int\n\n\n\n  y: Int\n\n}\n\n\n"
      "process P {\n  // first\n\n  task t by C\n\n}\n\n\n\n";
  EXPECT_EQ(format_ok(in),
            "// header\n\nrecord A {\n  x: Int\n\n  y: Int\n}\n\n"
            "process P {\n  // first\n\n  task t by C\n}\n");
  EXPECT_EQ(format_ok("record A {}"), "record A {}\n");
  EXPECT_EQ(format_ok("  \n\t\n"), "");
  EXPECT_EQ(format_ok("record A {}\r\n\r\n\r\nrecord B {}\r\n"), "record A {}\n\nrecord B {}\n");
}

TEST(Formatter, AlignsDecisionTableRows) {
  std::string in =
      "table approval_level hit first {\n"
      "  input amount: Decimal, category: ExpenseCategory\n"
      "  output level: Int, deadline: Duration\n"
      "  | < 1000 | - || 1 | 2d |\n"
      "  |1000 .. 25_000|travel,meals||2|3d| // the usual\n"
      "  // a comment between rows\n"
      "  | < 25_000 | - || 20 | 3d |\n"
      "  | - | - || 3 | 7d | | - | - || 4 | 8d |\n"
      "}\n";
  EXPECT_EQ(format_ok(in),
            "table approval_level hit first {\n"
            "  input amount: Decimal, category: ExpenseCategory\n"
            "  output level: Int, deadline: Duration\n"
            "  | < 1000         | -             || 1  | 2d |\n"
            "  | 1000 .. 25_000 | travel, meals || 2  | 3d | // the usual\n"
            "  // a comment between rows\n"
            "  | < 25_000       | -             || 20 | 3d |\n"
            "  | - | - || 3 | 7d | | - | - || 4 | 8d |\n"
            "}\n");
  // The standard library's tables are already in this form.
  std::string sla =
      "table sla hit unique {\n"
      "  input severity: Severity\n"
      "  output acknowledge: Duration, resolve: Duration\n"
      "  | sev1 || 15m | 4h  |\n"
      "  | sev2 || 1h  | 1d  |\n"
      "  | sev4 || 2d  | 10d |\n"
      "}\n";
  EXPECT_EQ(format_ok(sla), sla);
}

TEST(Formatter, NormalisesMoney) {
  EXPECT_EQ(format_ok("fn f() -> Money = 10_000USD + 5\tEUR + 12.50   GBP\n"),
            "fn f() -> Money = 10_000 USD + 5 EUR + 12.50 GBP\n");
  // The code must stay on the number's line to be money at all; a line break keeps two tokens.
  expect_stable("fn f() -> Money = 10_000USD.amount\n", "money then a field");
}

TEST(Formatter, UnaryMinusStaysAttached) {
  EXPECT_EQ(format_ok("fn f(x: Int) -> Int = x-  -5 * - x + f( -1 ) - [ -1,-2 ][0]\n"),
            "fn f(x: Int) -> Int = x - -5 * -x + f(-1) - [-1, -2][0]\n");
  EXPECT_EQ(format_ok("rule r salience - 5 when Expense e then retract e\n"),
            "rule r salience -5 when Expense e then retract e\n");
  // In a table, a lone `-` is "any value", not a sign.
  std::string t = "table t {\n  input a: Int\n  output b: Int\n  | - || -1 |\n}\n";
  EXPECT_EQ(format_ok(t), t);
}

TEST(Formatter, RefusesFilesWithSyntaxErrors) {
  for (const char* bad : {"record A { amount: }\n", "record A { x: Int $ }\n",
                          "record A { s: String = \"open\n}\n", "process P { task t by }\n"}) {
    try {
      format_source(bad);
      ADD_FAILURE() << "formatted a broken file: " << bad;
    } catch (const syntax::FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("error[E000"), std::string::npos) << e.what();
    }
  }
  source::SourceManager sm;
  auto id = sm.add("broken.org", "record A { x: }\n");
  diag::DiagnosticEngine diags;
  EXPECT_FALSE(syntax::format_file(sm, id, diags).has_value());
  EXPECT_TRUE(diags.has_errors());
  EXPECT_NE(diag::render_all_text(sm, diags).find("broken.org:1:15"), std::string::npos);
}

TEST(Formatter, InvalidLiteralValuesDoNotStopFormatting) {
  // Not a calendar date: the checker's business, the layout is still clear.
  EXPECT_EQ(format_ok("fn d() -> Date = 2026-13-01\n"), "fn d() -> Date = 2026-13-01\n");
}

TEST(Formatter, LayoutDependsOnlyOnTokensAndLineBreaks) {
  std::mt19937 rng(20260131);
  for (size_t i = 0; i < kCorpus.size(); ++i) {
    std::string canonical = format_ok(kCorpus[i]);
    for (int round = 0; round < 20; ++round) {
      std::string noisy = shuffle_blanks(kCorpus[i], rng);
      ASSERT_EQ(significant_tokens(noisy), significant_tokens(kCorpus[i])) << noisy;
      EXPECT_EQ(format_ok(noisy), canonical) << "corpus #" << i << " with blanks shuffled:\n" << noisy;
    }
  }
}

TEST(Formatter, AnyLineBreaksGiveAStableLayout) {
  std::mt19937 rng(7);
  for (size_t i = 0; i < kCorpus.size(); ++i)
    for (int round = 0; round < 30; ++round) {
      std::string broken = shuffle_breaks(kCorpus[i], rng);
      expect_stable(broken, "corpus #" + std::to_string(i) + " with line breaks moved:\n" + broken);
    }
}

TEST(Formatter, RepositorySourcesAreStable) {
  std::mt19937 rng(42);
  for (const auto& path : repository_sources()) {
    std::string text = read(path);
    expect_stable(text, path);
    for (int round = 0; round < 3; ++round) {
      std::string broken = shuffle_breaks(text, rng);
      expect_stable(broken, path + " with line breaks moved");
    }
  }
}
