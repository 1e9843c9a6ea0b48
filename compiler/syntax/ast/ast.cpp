// Spellings of AST enums, for diagnostics and the formatter.
#include "compiler/syntax/ast/module.h"

namespace orgos::ast {

const char* spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
      return "+";
    case BinaryOp::Sub:
      return "-";
    case BinaryOp::Mul:
      return "*";
    case BinaryOp::Div:
      return "/";
    case BinaryOp::Mod:
      return "%";
    case BinaryOp::Eq:
      return "==";
    case BinaryOp::Ne:
      return "!=";
    case BinaryOp::Lt:
      return "<";
    case BinaryOp::Le:
      return "<=";
    case BinaryOp::Gt:
      return ">";
    case BinaryOp::Ge:
      return ">=";
    case BinaryOp::And:
      return "and";
    case BinaryOp::Or:
      return "or";
    case BinaryOp::In:
      return "in";
    case BinaryOp::NotIn:
      return "not in";
    case BinaryOp::Coalesce:
      return "??";
    case BinaryOp::IsNone:
      return "is none";
    case BinaryOp::IsSome:
      return "is not none";
  }
  return "?";
}

const char* keyword(StmtKind k) {
  switch (k) {
    case StmtKind::Task:
      return "task";
    case StmtKind::Approval:
      return "approval";
    case StmtKind::Emit:
      return "emit";
    case StmtKind::Create:
      return "create";
    case StmtKind::Update:
      return "update";
    case StmtKind::Set:
      return "set";
    case StmtKind::Call:
      return "call";
    case StmtKind::Run:
      return "run";
    case StmtKind::Notify:
      return "notify";
    case StmtKind::WaitEvent:
      return "wait for";
    case StmtKind::WaitUntil:
      return "wait until";
    case StmtKind::WaitTimer:
      return "wait";
    case StmtKind::If:
      return "if";
    case StmtKind::Switch:
      return "switch";
    case StmtKind::Parallel:
      return "parallel";
    case StmtKind::ForEach:
      return "for each";
    case StmtKind::Let:
      return "let";
    case StmtKind::Fail:
      return "fail";
    case StmtKind::Complete:
      return "complete";
    case StmtKind::Insert:
      return "insert";
    case StmtKind::Derive:
      return "derive";
    case StmtKind::Modify:
      return "modify";
    case StmtKind::Retract:
      return "retract";
    case StmtKind::Start:
      return "start";
    case StmtKind::Signal:
      return "signal";
  }
  return "?";
}

const char* keyword(DeclKind k) {
  switch (k) {
    case DeclKind::Org:
      return "org";
    case DeclKind::Role:
      return "role";
    case DeclKind::Record:
      return "record";
    case DeclKind::Enum:
      return "enum";
    case DeclKind::Event:
      return "event";
    case DeclKind::Process:
      return "process";
    case DeclKind::Lifecycle:
      return "lifecycle";
    case DeclKind::Rule:
      return "rule";
    case DeclKind::Table:
      return "table";
    case DeclKind::Policy:
      return "policy";
    case DeclKind::Metric:
      return "metric";
    case DeclKind::Template:
      return "template";
    case DeclKind::Connector:
      return "connector";
    case DeclKind::Peer:
      return "peer";
    case DeclKind::Agreement:
      return "agreement";
    case DeclKind::Function:
      return "fn";
  }
  return "?";
}

std::string TypeExpr::str() const {
  std::string s = name.str();
  if (!args.empty()) {
    s += '<';
    for (size_t i = 0; i < args.size(); ++i) {
      if (i) s += ", ";
      s += args[i].str();
    }
    s += '>';
  }
  if (optional) s += '?';
  return s;
}

}  // namespace orgos::ast
