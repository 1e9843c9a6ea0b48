// Process steps (and the actions of rules and lifecycle transitions, which use the same statements).
// Each step may carry a compensation block, run in reverse order when the process fails after it.
#pragma once
#include <optional>

#include "compiler/syntax/ast/expr.h"

namespace orgos::ast {

enum class StmtKind {
  Task,
  Approval,
  Emit,
  Create,
  Update,
  Set,
  Call,
  Run,
  Notify,
  WaitEvent,
  WaitUntil,
  WaitTimer,
  If,
  Switch,
  Parallel,
  ForEach,
  Let,
  Fail,
  Complete,
  Insert,
  Derive,
  Modify,
  Retract,
  Start,
  Signal
};
const char* keyword(StmtKind k);

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind;
  Span span;
  Block compensation;  // `compensate { ... }` after the step
  Stmt(StmtKind k, Span s) : kind(k), span(s) {}
  virtual ~Stmt() = default;
};

struct FieldInit {
  Name field;
  ExprPtr value;
};

// Manager, Manager of x.unit
struct Assignee {
  QualifiedName role;
  ExprPtr scope;  // optional
  Span span;
};

enum class QuorumKind { All, Majority, Unanimous, Count, Percent };
struct Quorum {
  QuorumKind kind = QuorumKind::All;  // default: the one approver must approve
  int64_t n = 0, of = 0;              // Count: n (of m, 0 when not given); Percent: n
  Span span;
};

struct FieldDecl {
  Name name;
  TypeExpr type;
  ExprPtr default_value;  // optional
  Span span;
};

struct TaskStmt : Stmt {
  Name name;
  Assignee assignee;
  ExprPtr within;                    // deadline, optional
  std::optional<Assignee> escalate;  // escalate to
  std::vector<Name> outcomes;        // default: done
  std::vector<FieldDecl> returns;    // data the completer provides
  Block on_timeout;
  bool has_on_timeout = false;
  TaskStmt(Span s) : Stmt(StmtKind::Task, s) {}
};

struct ApprovalStmt : Stmt {
  Name name;  // may be empty: an approval needs no name unless later steps read it
  Assignee assignee;
  Quorum quorum;
  ExprPtr within;
  std::optional<Assignee> escalate;
  Block on_timeout;
  bool has_on_timeout = false;
  ApprovalStmt(Span s) : Stmt(StmtKind::Approval, s) {}
};

// emit / insert / derive / create: a type name and field values.
struct ConstructStmt : Stmt {
  QualifiedName type;  // event name or record type
  std::vector<FieldInit> fields;
  bool has_fields = false;  // `emit x` without braces vs `emit x {}`
  Name bind;                // `create X {..} as x`
  ConstructStmt(StmtKind k, Span s) : Stmt(k, s) {}
};

// update / modify: an existing record and new field values.
struct UpdateStmt : Stmt {
  ExprPtr target;
  std::vector<FieldInit> fields;
  UpdateStmt(StmtKind k, Span s) : Stmt(k, s) {}
};

struct SetStmt : Stmt {
  ExprPtr target, value;
  SetStmt(Span s) : Stmt(StmtKind::Set, s) {}
};

// call connector.op(args) as r; run SubProcess(args) as r; start Process(args); bare `ledger.post(...)`.
struct CallStmt : Stmt {
  QualifiedName callee;
  std::vector<Arg> args;
  Name bind;
  bool bare = false;  // written without `call`/`run`: sema decides which it is
  CallStmt(StmtKind k, Span s) : Stmt(k, s) {}
};

struct NotifyStmt : Stmt {
  ExprPtr who, message;
  NotifyStmt(Span s) : Stmt(StmtKind::Notify, s) {}
};

struct WaitEventStmt : Stmt {
  QualifiedName event;
  Name bind;
  ExprPtr where, within;
  Block on_timeout;
  bool has_on_timeout = false;
  WaitEventStmt(Span s) : Stmt(StmtKind::WaitEvent, s) {}
};

// wait 3d (WaitTimer) / wait until date (WaitUntil)
struct WaitTimeStmt : Stmt {
  ExprPtr time;
  WaitTimeStmt(StmtKind k, Span s) : Stmt(k, s) {}
};

struct IfStmt : Stmt {
  ExprPtr cond;
  Block then_block;
  Block else_block;  // an `else if` is an IfStmt alone in the else block
  bool has_else = false;
  IfStmt(Span s) : Stmt(StmtKind::If, s) {}
};

struct SwitchCase {
  std::vector<ExprPtr> values;
  Block body;
  Span span;
};
struct SwitchStmt : Stmt {
  ExprPtr subject;
  std::vector<SwitchCase> cases;
  Block else_block;
  bool has_else = false;
  SwitchStmt(Span s) : Stmt(StmtKind::Switch, s) {}
};

enum class JoinKind { All, Any, Count };
struct Branch {
  Name name;  // optional
  Block body;
  Span span;
};
struct ParallelStmt : Stmt {
  JoinKind join = JoinKind::All;
  int64_t join_count = 0;
  Span join_span;
  std::vector<Branch> branches;
  ParallelStmt(Span s) : Stmt(StmtKind::Parallel, s) {}
};

struct ForEachStmt : Stmt {
  Name var;
  ExprPtr source;
  bool parallel = false;
  int64_t max = 0;  // 0: the default bound
  Span max_span;
  Block body;
  ForEachStmt(Span s) : Stmt(StmtKind::ForEach, s) {}
};

struct LetStmt : Stmt {
  Name name;
  std::optional<TypeExpr> type;
  ExprPtr value;
  LetStmt(Span s) : Stmt(StmtKind::Let, s) {}
};

// fail "reason" / complete / retract x
struct SimpleStmt : Stmt {
  ExprPtr value;  // optional
  SimpleStmt(StmtKind k, Span s) : Stmt(k, s) {}
};

// signal Process where cond with event.name { ... }
struct SignalStmt : Stmt {
  QualifiedName process;
  ExprPtr where;
  QualifiedName event;
  std::vector<FieldInit> fields;
  SignalStmt(Span s) : Stmt(StmtKind::Signal, s) {}
};

template <typename T>
T* as(Stmt* s) {
  return static_cast<T*>(s);
}
template <typename T>
const T* as(const Stmt* s) {
  return static_cast<const T*>(s);
}

}  // namespace orgos::ast
