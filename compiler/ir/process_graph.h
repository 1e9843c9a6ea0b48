// Control-flow graphs of processes (Boost.Graph) and the whole-program graph of which process runs which.
// Built straight from the AST so the structural checks, `orgctl graph` and later stages share one shape
// of a process: one vertex per step, decisions and merges, forks and joins, loop heads, and handlers.
#pragma once
#include <boost/graph/adjacency_list.hpp>
#include <functional>
#include <iosfwd>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/syntax/ast/decl.h"

namespace orgos::source {
class SourceManager;
}
namespace orgos::driver {
struct Compilation;
}

namespace orgos::ir {

enum class NodeKind {
  Start,  // where the process begins
  End,    // it completed
  FailEnd,
  Task,
  Approval,
  Emit,
  Create,
  Update,
  Set,
  Call,  // a connector operation
  Run,   // a sub-process, waited for (`run X(…)`, or a bare `X(…)` naming a process)
  Notify,
  WaitEvent,
  WaitTimer,
  WaitUntil,
  Decision,  // if / switch
  Merge,
  Fork,  // parallel
  Join,
  LoopHead,  // for each
  Let,
  Fail,
  Complete,
  StartProcess,  // `start X(…)`: a new instance, not waited for
  Signal,
  Insert,
  Derive,
  Modify,
  Retract,
  FailureHandler,  // entry of `on failure`
  TimeoutHandler,  // entry of the process's `on timeout`
  Compensation     // entry of one step's `compensate { … }`
};
const char* name(NodeKind k);

enum class EdgeKind {
  Next,      // sequence
  Branch,    // a then/case/parallel branch
  Else,      // the else branch, written or implicit
  Body,      // loop head → first step of the body
  LoopBack,  // end of the body → loop head
  Exit,      // loop head → after the loop
  Timeout,   // a wait or human step's deadline passed → its `on timeout` block
  Handler    // handler entry → its block
};

struct GraphNode {
  NodeKind kind = NodeKind::Start;
  std::string label;
  const ast::Stmt* stmt = nullptr;  // null for start, ends, merges, joins and handler entries
  source::Span span;
  // Fork and Join: the branch count; Join also what it waits for (All: every branch).
  size_t branches = 0;
  ast::JoinKind join = ast::JoinKind::All;
  int64_t join_count = 0;
  // Run and StartProcess: the process named, when it resolved.
  const ast::ProcessDecl* callee = nullptr;
};

struct Edge {
  EdgeKind kind = EdgeKind::Next;
  std::string label;
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, GraphNode, Edge>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;

struct ProcessGraph {
  const ast::ProcessDecl* process = nullptr;
  std::string name;
  Graph g;
  Vertex start = 0, end = 0, fail_end = 0;
  // Where execution can begin: start, then each handler entry (failure, timeout, compensations). Handlers
  // are separate subgraphs, entered when the process fails or times out, so they are drawn and checked.
  std::vector<Vertex> roots;
  // Each step's first vertex (the step itself, or its decision, fork or loop head).
  std::unordered_map<const ast::Stmt*, Vertex> vertex_of;
  // Each `parallel`'s join (absent when no branch falls through to it).
  std::unordered_map<const ast::Stmt*, Vertex> join_of;
  // A step that follows, in its block, a step that never falls through: step → the step that cuts it off.
  std::unordered_map<const ast::Stmt*, const ast::Stmt*> cut_by;
};

// Resolves the process a `run`, `start` or bare call names, from the process being built; null when the
// name is not a process (a bare call to a connector operation or function).
using ProcessResolver = std::function<const ast::ProcessDecl*(const ast::CallStmt&)>;

struct GraphOptions {
  ProcessResolver resolve;                         // optional
  const source::SourceManager* sources = nullptr;  // optional: conditions and values in labels
};

ProcessGraph build_process_graph(const ast::ProcessDecl& p, const GraphOptions& opts = {});

// Graphviz DOT: boxes for human steps, diamonds for decisions, circles for start and end, bars for forks
// and joins, dashed edges into handlers.
std::string to_dot(const ProcessGraph& pg);
void write_dot(std::ostream& os, const ProcessGraph& pg);

// Which vertices can be reached from `from` following edges forwards (or backwards when `reverse`).
std::vector<bool> reachable(const Graph& g, const std::vector<Vertex>& from, bool reverse = false);
// Forwards, where a vertex marked in `stop` is reached but not gone through (a wait, a removed join).
std::vector<bool> reachable_stopping_at(const Graph& g, const std::vector<Vertex>& from,
                                        const std::vector<bool>& stop);

// ---------------------------------------------------------------- processes across the compilation

struct ProcessEntry {
  const ast::ProcessDecl* decl = nullptr;
  std::string package;
  const ast::TemplateDecl* in_template = nullptr;  // innermost template holding it, if any
  std::string qualified;                           // package[.Template].Name
  size_t file = 0;                                 // index into Compilation::files
};

// Every process of a compilation (templates included) and the name resolution `run`/`start`/bare calls
// need, done on declarations alone: the caller's template, its package, then its imports.
class ProcessIndex {
 public:
  explicit ProcessIndex(const driver::Compilation& c);
  const std::vector<ProcessEntry>& all() const { return entries_; }
  const ProcessEntry* entry(const ast::ProcessDecl* p) const;
  // The process a call in `from` names, or null.
  const ast::ProcessDecl* resolve(const ProcessEntry& from, const ast::QualifiedName& callee) const;
  // A process by name as a user writes it on the command line: `Name`, `pkg.Name`, `Template.Name` or
  // `pkg.Template.Name`. Unqualified names prefer the checked project over imported packages, then a
  // project template's process of that name; an ambiguous name yields every candidate.
  std::vector<const ProcessEntry*> find(const std::string& name) const;

 private:
  const ast::ProcessDecl* in_package(const std::string& pkg, const std::string& name) const;
  const driver::Compilation& c_;
  std::vector<ProcessEntry> entries_;
  std::set<std::string> packages_;
  std::map<std::pair<std::string, std::string>, const ast::ProcessDecl*> by_package_;  // outside templates
};

// The process call graph: an edge per `run`, bare call naming a process, and `start`.
enum class CallKind { Run, Bare, Start };
struct CallNode {
  const ast::ProcessDecl* process = nullptr;
  std::string name;
};
struct CallEdge {
  CallKind kind = CallKind::Run;
  const ast::CallStmt* stmt = nullptr;
};
using CallGraphT = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, CallNode, CallEdge>;
struct CallGraph {
  CallGraphT g;
  std::unordered_map<const ast::ProcessDecl*, CallGraphT::vertex_descriptor> vertex_of;
};

CallGraph build_call_graph(const ProcessIndex& index);
std::string to_dot(const CallGraph& cg);

// Calls every statement in a block, nested blocks, timeout blocks and compensations included.
void for_each_stmt(const ast::Block& b, const std::function<void(const ast::Stmt&)>& f);
// Every block of a process: body, on failure, on timeout.
void for_each_stmt(const ast::ProcessDecl& p, const std::function<void(const ast::Stmt&)>& f);

}  // namespace orgos::ir
