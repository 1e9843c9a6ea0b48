// Expressions: literals, names, field access, calls, operators, list comprehensions. One struct per
// kind, told apart by `kind` (LLVM-style classof) rather than dynamic_cast chains.
#pragma once
#include <cstdint>

#include "compiler/syntax/ast/node.h"

namespace orgos::ast {

enum class ExprKind { Literal, Name, Field, Call, Index, Unary, Binary, List, Comprehension };

struct Expr {
  ExprKind kind;
  Span span;
  explicit Expr(ExprKind k, Span s) : kind(k), span(s) {}
  virtual ~Expr() = default;
};
using ExprPtr = std::unique_ptr<Expr>;

enum class LiteralKind { Int, Decimal, Money, Duration, Percent, Date, String, Bool, None };

// Literal values are decoded once by the builder: numbers as text without '_' (exact, for decimal
// arithmetic later), durations in seconds, dates as days since 1970-01-01, strings unescaped.
struct LiteralExpr : Expr {
  LiteralKind lit;
  std::string number;     // Int, Decimal, Money, Percent: digits with optional '.'
  std::string currency;   // Money: ISO 4217 code
  int64_t int_value = 0;  // Int: the value; Duration: seconds; Date: days since epoch
  std::string text;       // String: unescaped contents
  bool bool_value = false;
  LiteralExpr(LiteralKind k, Span s) : Expr(ExprKind::Literal, s), lit(k) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::Literal; }
};

struct NameExpr : Expr {
  std::string name;
  NameExpr(std::string n, Span s) : Expr(ExprKind::Name, s), name(std::move(n)) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::Name; }
};

// a.b, or a?.b when `optional_chain` (yields none when a is none).
struct FieldExpr : Expr {
  ExprPtr object;
  Name field;
  bool optional_chain = false;
  FieldExpr(ExprPtr o, Name f, bool opt, Span s)
      : Expr(ExprKind::Field, s), object(std::move(o)), field(std::move(f)), optional_chain(opt) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::Field; }
};

struct Arg {
  Name label;  // empty for positional arguments
  ExprPtr value;
};

struct CallExpr : Expr {
  ExprPtr callee;
  std::vector<Arg> args;
  CallExpr(ExprPtr c, std::vector<Arg> a, Span s)
      : Expr(ExprKind::Call, s), callee(std::move(c)), args(std::move(a)) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::Call; }
};

struct IndexExpr : Expr {
  ExprPtr object, index;
  IndexExpr(ExprPtr o, ExprPtr i, Span s)
      : Expr(ExprKind::Index, s), object(std::move(o)), index(std::move(i)) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::Index; }
};

enum class UnaryOp { Neg, Not };
struct UnaryExpr : Expr {
  UnaryOp op;
  ExprPtr operand;
  UnaryExpr(UnaryOp o, ExprPtr x, Span s) : Expr(ExprKind::Unary, s), op(o), operand(std::move(x)) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::Unary; }
};

enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  And,
  Or,
  In,
  NotIn,
  Coalesce,
  IsNone,
  IsSome
};
const char* spelling(BinaryOp op);
struct BinaryExpr : Expr {
  BinaryOp op;
  ExprPtr lhs, rhs;  // rhs is null for IsNone / IsSome
  Span op_span;
  BinaryExpr(BinaryOp o, ExprPtr l, ExprPtr r, Span s, Span ops)
      : Expr(ExprKind::Binary, s), op(o), lhs(std::move(l)), rhs(std::move(r)), op_span(ops) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::Binary; }
};

struct ListExpr : Expr {
  std::vector<ExprPtr> items;
  ListExpr(std::vector<ExprPtr> i, Span s) : Expr(ExprKind::List, s), items(std::move(i)) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::List; }
};

// sum(l.amount for l in order.lines where l.taxable); count(x in Expense); all(x.ok for x in xs)
struct ComprehensionExpr : Expr {
  Name aggregate;   // count, sum, min, max, avg, all, any, list
  ExprPtr element;  // null: the variable itself
  Name var;
  ExprPtr source;  // a list expression or the name of a record/event/process type
  ExprPtr filter;  // optional
  ComprehensionExpr(Span s) : Expr(ExprKind::Comprehension, s) {}
  static bool classof(const Expr* e) { return e->kind == ExprKind::Comprehension; }
};

template <typename T>
T* dyn(Expr* e) {
  return e && T::classof(e) ? static_cast<T*>(e) : nullptr;
}
template <typename T>
const T* dyn(const Expr* e) {
  return e && T::classof(e) ? static_cast<const T*>(e) : nullptr;
}

// Type as written: Money<USD>, List<Employee>, Date?
struct TypeExpr {
  QualifiedName name;
  std::vector<TypeExpr> args;
  bool optional = false;
  Span span;
  std::string str() const;
};

}  // namespace orgos::ast
