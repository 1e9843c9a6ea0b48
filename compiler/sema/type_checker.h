// Resolves every name and checks every type in a compilation: declarations (decl_checker.cpp),
// process steps (stmt_checker.cpp) and expressions (expr_checker.cpp). Errors are reported once, at the
// innermost cause; an expression with an error gets the Error type, which is accepted everywhere so
// one mistake never cascades into many.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/sema/symbols.h"

namespace orgos::sema {

// Where an expression or step is: decides which names exist (`actor`, `resource`) and which steps
// are allowed (no human tasks inside a rule).
enum class Context { Other, Process, Rule, Lifecycle, Record, Policy, Metric, Table, Function };

class TypeChecker {
 public:
  TypeChecker(driver::Compilation& c, Symbols& symbols);
  void check_all();

 private:
  // A local name: a parameter, pattern variable, step result or `let`.
  struct Local {
    const Type* type = nullptr;
    source::Span span;
    std::map<std::string, const Type*> fields;  // for step results (task outcome, returns, call result)
    const std::vector<ast::Name>* outcomes = nullptr;  // a task's declared outcomes
    bool is_step = false;
    BindingKind kind = BindingKind::Let;
    uint32_t index = 0;
    const Binding* binding = nullptr;  // set by bind()
  };

  // ---- declarations (decl_checker.cpp)
  void decl(const ast::Decl* d);
  void org(const ast::OrgDecl* d);
  void role(const ast::RoleDecl* d);
  void record(const ast::RecordDecl* d);
  void event(const ast::EventDecl* d);
  void process(const ast::ProcessDecl* d);
  void lifecycle(const ast::LifecycleDecl* d);
  void rule(const ast::RuleDecl* d);
  void table(const ast::TableDecl* d);
  void policy(const ast::PolicyDecl* d);
  void metric(const ast::MetricDecl* d);
  void templ(const ast::TemplateDecl* d);
  void connector(const ast::ConnectorDecl* d);
  void agreement(const ast::AgreementDecl* d);
  void function(const ast::FunctionDecl* d);
  void fields(const std::vector<ast::FieldDecl>& fs, const char* what);
  void params(const std::vector<ast::Param>& ps, bool bind);

  // ---- steps (stmt_checker.cpp)
  void block(const ast::Block& b);
  void stmt(const ast::Stmt* s);
  void assignee(const ast::Assignee& a);
  void construct(const ast::ConstructStmt* s);
  void field_inits(const std::vector<ast::FieldInit>& inits, const std::vector<ast::FieldDecl>& decl_fields,
                   const std::string& what, source::Span where, bool require_all);
  void call(const ast::CallStmt* s);
  void args(const std::vector<ast::Arg>& args, const std::vector<ast::Param>& params,
            const std::string& callee, source::Span where);
  bool allowed(const ast::Stmt* s);

  // ---- expressions (expr_checker.cpp)
 public:
  const Type* expr(const ast::Expr* e, const Type* expected = nullptr);

 private:
  const Type* expr_inner(const ast::Expr* e, const Type* expected);
  const Type* literal(const ast::LiteralExpr* e);
  const Type* name(const ast::NameExpr* e, const Type* expected);
  const Type* field(const ast::FieldExpr* e);
  const Type* field_of(const Type* t, const ast::Name& f, source::Span where);
  const Type* call_expr(const ast::CallExpr* e);
  const Type* builtin_call(const std::string& fn, const ast::CallExpr* e, bool& handled);
  const Type* binary(const ast::BinaryExpr* e);
  const Type* comprehension(const ast::ComprehensionExpr* e);
  const Type* list(const ast::ListExpr* e, const Type* expected);
  // The declaration a name or dotted path denotes (a type, table, function), or null.
  const ast::Decl* decl_of(const ast::Expr* e);
  // The value of an optional used where a value is needed: reports E0302 and returns the inner type.
  const Type* need_value(const ast::Expr* e, const Type* t);
  void expect(const ast::Expr* e, const Type* got, const Type* want, const std::string& what);
  void expect_bool(const ast::Expr* e, const std::string& what);
  bool assignable(const Type* from, const Type* to) const;
  bool comparable(const Type* a, const Type* b) const;
  const Type* type_of(const ast::TypeExpr& t);
  const Type* resolve_type(const ast::TypeExpr& t);
  const Type* type_of_decl(const ast::Decl* d);
  const Type* unify(const Type* a, const Type* b);
  void currency_mismatch(const ast::BinaryExpr* e, const Type* l, const Type* r);

  // ---- optional narrowing: inside `if p is not none { … }` (and right of `p is not none and …`)
  // the path p has its non-optional type.
  static std::optional<std::string> path_of(const ast::Expr* e);
  static void narrowings(const ast::Expr* cond, bool when_true, std::set<std::string>& out);
  std::vector<std::set<std::string>> narrowed_;
  bool is_narrowed(const std::string& path) const;

  // ---- scopes
  void push() { scopes_.emplace_back(); }
  void pop() { scopes_.pop_back(); }
  void bind(const ast::Name& n, Local l);
  const Local* local(const std::string& n) const;

  diag::Diagnostic& report(diag::Code c, source::Span s, const std::string& m);
  const ast::Decl* lookup(const ast::QualifiedName& q);
  const ast::Decl* lookup_kind(const ast::QualifiedName& q, ast::DeclKind kind, const char* what);
  void unknown(const std::string& what, const std::string& name, source::Span where);

  driver::Compilation& c_;
  Program& prog_;
  TypeTable& types_;
  Symbols& sym_;
  size_t file_ = 0;
  Context ctx_ = Context::Other;
  std::vector<std::map<std::string, Local>> scopes_;
  const Type* resource_ = nullptr;           // policies and grants: the type of `resource`
  const ast::Decl* current_decl_ = nullptr;  // owner of the bindings made now
  // Each written type is resolved once, so an unknown type name is reported once, not at every use.
  std::unordered_map<const ast::TypeExpr*, const Type*> type_cache_;
};

// Names of the built-in functions (abs, min, …) and aggregates (count, sum, …).
bool is_builtin_function(const std::string& name);
bool is_aggregate(const std::string& name);

}  // namespace orgos::sema
