// Walks ANTLR's parse tree and builds the project's AST (compiler/syntax/ast). Private to the syntax
// stage: this and parser.cpp are the only files that include generated ANTLR headers.
#pragma once
#include <functional>
#include <memory>

#include "OrgParser.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/syntax/ast/module.h"

namespace orgos::syntax {

class AstBuilder {
 public:
  // `to_span` maps ANTLR token positions (code points) to the project's byte-based spans. `clean` says
  // the parser met no syntax error (the bail-out stage succeeded), so no subtree needs error checks.
  AstBuilder(source::FileId file, diag::DiagnosticEngine& diags,
             std::function<source::Span(antlr4::Token*, antlr4::Token*)> to_span, bool clean)
      : file_(file), diags_(diags), to_span_(std::move(to_span)), clean_(clean) {}

  std::unique_ptr<ast::Module> build(grammar::OrgParser::FileContext* ctx, std::vector<std::string>& broken);

 private:
  using P = grammar::OrgParser;
  source::Span span(antlr4::ParserRuleContext* ctx);
  source::Span span(antlr4::tree::TerminalNode* t);
  bool has_error(antlr4::tree::ParseTree* t) const;
  static std::string text(antlr4::ParserRuleContext* c);
  static void append_text(antlr4::tree::ParseTree* t, std::string& out);

  ast::Name name(P::IdentContext* c);
  ast::Name name(antlr4::tree::TerminalNode* t);
  ast::QualifiedName qname(P::QualifiedNameContext* c);
  ast::TypeExpr type(P::TypeContext* c);
  std::string string_lit(antlr4::tree::TerminalNode* t);

  ast::DeclPtr decl(P::DeclarationContext* c);
  ast::DeclPtr org(P::OrgDeclContext* c);
  ast::UnitDecl unit(P::UnitDeclContext* c);
  ast::DeclPtr role(P::RoleDeclContext* c);
  ast::DeclPtr record(P::RecordDeclContext* c);
  ast::FieldDecl field(P::FieldDeclContext* c);
  ast::DeclPtr enumeration(P::EnumDeclContext* c);
  ast::DeclPtr event(P::EventDeclContext* c);
  ast::DeclPtr process(P::ProcessDeclContext* c);
  std::vector<ast::Param> params(P::ParamListContext* c);
  ast::Param param(P::ParamContext* c);
  ast::DeclPtr lifecycle(P::LifecycleDeclContext* c);
  ast::DeclPtr rule(P::RuleDeclContext* c);
  ast::Pattern pattern(P::PatternContext* c);
  ast::DeclPtr table(P::TableDeclContext* c);
  ast::TableEntry entry(P::InputEntryContext* c);
  ast::DeclPtr policy(P::PolicyDeclContext* c);
  ast::DeclPtr metric(P::MetricDeclContext* c);
  ast::DeclPtr templ(P::TemplateDeclContext* c);
  ast::DeclPtr connector(P::ConnectorDeclContext* c);
  ast::DeclPtr peer(P::PeerDeclContext* c);
  ast::DeclPtr agreement(P::AgreementDeclContext* c);
  ast::DeclPtr function(P::FunctionDeclContext* c);

  ast::Block block(P::BlockContext* c);
  ast::Block steps(const std::vector<P::StepContext*>& list);
  ast::StmtPtr step(P::StepContext* c);
  ast::StmtPtr stmt(P::StmtContext* c);
  ast::StmtPtr if_stmt(P::IfStmtContext* c);
  ast::Assignee assignee(P::AssigneeContext* c);
  std::vector<ast::FieldInit> record_lit(P::RecordLitContext* c);
  std::vector<ast::Arg> args(P::ArgListContext* c);

  ast::ExprPtr expr(P::ExprContext* c);
  ast::ExprPtr expr_inner(P::ExprContext* c);
  ast::ExprPtr primary(P::PrimaryContext* c);
  ast::ExprPtr literal(P::LiteralContext* c);
  ast::ExprPtr error_expr(source::Span s);
  static ast::BinaryOp cmp_op(P::CmpOpContext* c);

  source::FileId file_;
  diag::DiagnosticEngine& diags_;
  std::function<source::Span(antlr4::Token*, antlr4::Token*)> to_span_;
  bool clean_ = false;
  int depth_ = 0;
  bool too_deep_reported_ = false;
  bool too_deep_in_decl_ = false;  // the declaration being built hit kMaxExprDepth: it is dropped
};

}  // namespace orgos::syntax
