// Top-level declarations: everything an organization is made of.
#pragma once
#include "compiler/syntax/ast/stmt.h"

namespace orgos::ast {

enum class DeclKind {
  Org,
  Role,
  Record,
  Enum,
  Event,
  Process,
  Lifecycle,
  Rule,
  Table,
  Policy,
  Metric,
  Template,
  Connector,
  Peer,
  Agreement,
  Function
};
const char* keyword(DeclKind k);

struct Decl {
  DeclKind kind;
  Name name;  // events: the dotted name as one string
  Span span;
  Decl(DeclKind k, Span s) : kind(k), span(s) {}
  virtual ~Decl() = default;
};
using DeclPtr = std::unique_ptr<Decl>;

struct Param {
  Name name;
  TypeExpr type;
  ExprPtr default_value;
  Span span;
};

// ---- org
struct UnitDecl {
  Name kind;  // division, department, team, ...
  Name name;
  std::vector<UnitDecl> children;
  Span span;
};
struct PositionDecl {
  Name name;
  QualifiedName role;
  QualifiedName unit;  // optional
  std::vector<std::string> holders;
  Span span;
};
enum class RelationKind { Owns, Controls, Manages, LicensesIpTo };
struct OrgRelation {
  RelationKind kind;
  QualifiedName target;
  std::string percent;  // Owns: "60" or "12.5"
  Span span;
};
struct OrgDecl : Decl {
  QualifiedName from_template;
  std::vector<Arg> template_args;
  Name purpose, legal_form, currency;
  std::string jurisdiction;
  Span jurisdiction_span;
  std::vector<UnitDecl> units;
  std::vector<PositionDecl> positions;
  std::vector<OrgRelation> relations;
  QualifiedName lifecycle;
  OrgDecl(Span s) : Decl(DeclKind::Org, s) {}
};

// ---- roles
struct Grant {
  Name action;
  QualifiedName resource;  // optional
  ExprPtr where;
  Span span;
};
struct RoleDecl : Decl {
  std::vector<QualifiedName> extends;
  std::vector<Grant> grants;
  Name scope;  // `scope unit`: the role is held per unit
  RoleDecl(Span s) : Decl(DeclKind::Role, s) {}
};

// ---- data
struct Invariant {
  ExprPtr cond;
  std::string message;
  Span span;
};
struct RecordDecl : Decl {
  std::vector<FieldDecl> fields;
  std::vector<Invariant> checks;
  RecordDecl(Span s) : Decl(DeclKind::Record, s) {}
};
struct EnumDecl : Decl {
  std::vector<Name> values;
  EnumDecl(Span s) : Decl(DeclKind::Enum, s) {}
};
struct EventDecl : Decl {
  std::vector<FieldDecl> fields;
  EventDecl(Span s) : Decl(DeclKind::Event, s) {}
};

// ---- behaviour
struct ProcessDecl : Decl {
  std::vector<Param> params;
  ExprPtr timeout;
  Block body;
  Block on_failure, on_timeout;
  bool has_on_failure = false, has_on_timeout = false;
  ProcessDecl(Span s) : Decl(DeclKind::Process, s) {}
};

struct Transition {
  Name name;
  std::vector<Name> from;
  Name to;
  ExprPtr guard;
  Block effects;
  Span span;
};
struct LifecycleDecl : Decl {
  bool of_org = false;
  QualifiedName subject;  // the record type when !of_org
  Name initial;
  std::vector<Name> states;  // every state named by `state`, in order
  std::vector<Name> finals;
  std::vector<Transition> transitions;
  LifecycleDecl(Span s) : Decl(DeclKind::Lifecycle, s) {}
};

enum class PatternKind { Fact, Not, Exists, Accumulate };
struct Pattern {
  PatternKind kind = PatternKind::Fact;
  QualifiedName type;  // Fact/Not/Exists
  Name var;            // optional binding (Accumulate: the result name)
  ExprPtr where;       // Fact/Not/Exists: optional condition; Accumulate: the comprehension
  Span span;
};
struct RuleDecl : Decl {
  int64_t salience = 0;
  std::vector<Pattern> patterns;
  Block actions;
  RuleDecl(Span s) : Decl(DeclKind::Rule, s) {}
};

enum class HitPolicy { Unique, First, Priority, Any, Collect };
enum class EntryKind { Any, Compare, Range, Values, NotValues };
struct TableEntry {
  EntryKind kind = EntryKind::Any;
  BinaryOp cmp = BinaryOp::Eq;  // Compare
  std::vector<ExprPtr> values;  // Compare: 1; Range: 2 (low, high); Values: 1..n
  Span span;
};
struct TableRow {
  std::vector<TableEntry> inputs;
  std::vector<ExprPtr> outputs;
  Span span;
};
struct TableDecl : Decl {
  HitPolicy hit = HitPolicy::Unique;
  Name aggregate;  // Collect: sum, count, min, max (empty: a list)
  Span hit_span;
  std::vector<Param> inputs, outputs;
  std::vector<TableRow> rows;
  TableDecl(Span s) : Decl(DeclKind::Table, s) {}
};

struct PolicyDecl : Decl {
  bool forbid = false;
  Name action;  // empty: any action
  QualifiedName resource;
  ExprPtr when;
  PolicyDecl(Span s) : Decl(DeclKind::Policy, s) {}
};

struct MetricDecl : Decl {
  std::optional<TypeExpr> type;
  ExprPtr formula;
  ExprPtr window;
  BinaryOp target_op = BinaryOp::Eq, warn_op = BinaryOp::Eq, alert_op = BinaryOp::Eq;
  ExprPtr target, warn, alert;
  QualifiedName alert_event;
  MetricDecl(Span s) : Decl(DeclKind::Metric, s) {}
};

// ---- packaging, integration, federation
struct TemplateDecl : Decl {
  std::vector<Param> params;
  std::vector<DeclPtr> decls;
  TemplateDecl(Span s) : Decl(DeclKind::Template, s) {}
};

struct ConnectorOp {
  Name name;
  std::vector<Param> params;
  std::vector<FieldDecl> result;
  Span span;
};
struct ConnectorDecl : Decl {
  std::vector<ConnectorOp> ops;
  ConnectorDecl(Span s) : Decl(DeclKind::Connector, s) {}
};

struct PeerDecl : Decl {
  std::string address, key;
  PeerDecl(Span s) : Decl(DeclKind::Peer, s) {}
};

enum class AgreementItemKind { Send, Receive, ShareRecord, ShareProcess };
struct AgreementItem {
  AgreementItemKind kind;
  QualifiedName name;
  Span span;
};
struct AgreementDecl : Decl {
  QualifiedName peer;
  std::vector<AgreementItem> items;
  AgreementDecl(Span s) : Decl(DeclKind::Agreement, s) {}
};

struct FunctionDecl : Decl {
  std::vector<Param> params;
  TypeExpr result;
  ExprPtr body;
  FunctionDecl(Span s) : Decl(DeclKind::Function, s) {}
};

template <typename T>
T* as(Decl* d) {
  return static_cast<T*>(d);
}
template <typename T>
const T* as(const Decl* d) {
  return static_cast<const T*>(d);
}

}  // namespace orgos::ast
