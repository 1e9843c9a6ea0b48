#include "compiler/syntax/parser.h"

#include <gtest/gtest.h>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"

using namespace orgos;

namespace {
std::unique_ptr<driver::Compilation> parse(const std::string& text) {
  return driver::parse_text("t.org", text);
}
std::vector<std::string> codes(const driver::Compilation& c) {
  std::vector<std::string> out;
  for (auto& d : c.diags.all()) out.emplace_back(diag::info(d.code).name);
  return out;
}
}  // namespace

TEST(Parser, BuildsDeclarationsWithSpans) {
  auto c = parse(
      "record Expense {\n  amount: Money\n  check amount > 0 USD\n}\nevent expense.submitted { expense: "
      "Expense }\n");
  ASSERT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  auto& m = *c->files[0].module;
  ASSERT_EQ(m.decls.size(), 2u);
  EXPECT_EQ(m.decls[0]->kind, ast::DeclKind::Record);
  EXPECT_EQ(m.decls[0]->name.text, "Expense");
  EXPECT_EQ(m.decls[0]->span.line, 1u);
  EXPECT_EQ(m.decls[1]->name.text, "expense.submitted");
  EXPECT_EQ(m.decls[1]->span.line, 5u);
  auto* rec = ast::as<ast::RecordDecl>(m.decls[0].get());
  ASSERT_EQ(rec->checks.size(), 1u);
  auto* cmp = ast::dyn<ast::BinaryExpr>(rec->checks[0].cond.get());
  ASSERT_NE(cmp, nullptr);
  EXPECT_EQ(cmp->op, ast::BinaryOp::Gt);
  auto* money = ast::dyn<ast::LiteralExpr>(cmp->rhs.get());
  ASSERT_NE(money, nullptr);
  EXPECT_EQ(money->currency, "USD");
  EXPECT_EQ(money->number, "0");
}

TEST(Parser, ReportsEverySyntaxErrorInOneRun) {
  auto c = parse("record A { x: }\nrecord B { y: Int }\nrecord C { z: = }\n");
  EXPECT_EQ(c->diags.error_count(), 2u) << diag::render_all_text(c->sources, c->diags);
  // The good declaration in between survives; the broken ones are remembered by name.
  ASSERT_EQ(c->files[0].module->decls.size(), 1u);
  EXPECT_EQ(c->files[0].module->decls[0]->name.text, "B");
  EXPECT_EQ(c->files[0].broken_names, (std::vector<std::string>{"A", "C"}));
}

TEST(Parser, LexicalErrorsHaveTheirOwnCodes) {
  auto c = parse("record A { x: Int $ }\nrecord B { s: String = \"open\n}\n/* never closed");
  auto got = codes(*c);
  EXPECT_NE(std::find(got.begin(), got.end(), "E0002"), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), "E0003"), got.end());
}

TEST(Parser, ClosedBlockCommentsAreCommentsEvenWhenAnotherFollows) {
  // A block comment that is closed must never be taken for an unclosed one running to the end of the file.
  auto c = parse("record A {}\n/* one */\nrecord B { /* two ** */ x: Int }\n/* three */");
  EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  EXPECT_EQ(c->files[0].module->decls.size(), 2u);
}

TEST(Parser, InvalidUtf8IsReportedNotFatal) {
  auto c = parse(std::string("record A { x: Int }\n// caf\xC3 \xFF\n"));
  auto got = codes(*c);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "E0002");
  EXPECT_EQ(c->files[0].module->decls.size(), 1u);
}

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "fn f() -> Int = " + std::string(5000, '(') + "1" + std::string(5000, ')');
  auto c = parse(deep);
  EXPECT_TRUE(c->diags.has_errors());
  std::string chain = "fn g() -> Int = 1";
  for (int i = 0; i < 20000; ++i) chain += " + 1";
  auto c2 = parse(chain);
  EXPECT_TRUE(c2->diags.has_errors());
  auto c3 = parse("fn h() -> Bool = " + [] {
    std::string s;
    for (int i = 0; i < 5000; ++i) s += "not ";
    return s;
  }() + "true");
  EXPECT_TRUE(c3->diags.has_errors());
}

TEST(Parser, SpansCountBytesAfterMultibyteCharacters) {
  auto c = parse("// café ☕\nrecord A { x: Int $ }\n");
  ASSERT_EQ(c->diags.all().size(), 1u);
  EXPECT_EQ(c->diags.all()[0].span.line, 2u);
  EXPECT_EQ(c->diags.all()[0].span.col, 19u);
}

TEST(Parser, MoneyDurationDateAndPercentLiterals) {
  auto c = parse(
      "fn f() -> Bool = 10_000 EUR > 5 EUR and 2d < 3h * 24 and 2026-01-31 > 2025-12-31 and 60% > 0.5\n");
  ASSERT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  auto bad = parse("fn f() -> Date = 2026-02-30\n");
  ASSERT_EQ(codes(*bad), std::vector<std::string>{"E0004"});
}

TEST(Diagnostics, TextShowsTheLineAndACaret) {
  auto c = parse("record A {\n  x: Int $\n}\n");
  std::string out = diag::render_all_text(c->sources, c->diags);
  EXPECT_NE(out.find("t.org:2:10: error[E0002]: invalid character `$`"), std::string::npos) << out;
  EXPECT_NE(out.find("2 |   x: Int $"), std::string::npos) << out;
  EXPECT_NE(out.find("  |          ^"), std::string::npos) << out;
  EXPECT_NE(out.find("1 error, 0 warnings"), std::string::npos) << out;
}

TEST(Diagnostics, JsonCarriesCodePositionAndHint) {
  auto c = parse("record A {\n  x: Int $\n}\n");
  std::string out = diag::render_json(c->sources, c->diags);
  EXPECT_NE(out.find("\"code\": \"E0002\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"line\": 2"), std::string::npos) << out;
  EXPECT_NE(out.find("\"hint\""), std::string::npos) << out;
}
