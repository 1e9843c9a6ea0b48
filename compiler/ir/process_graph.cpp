// Structured lowering of a process body into a Boost.Graph control-flow graph, its DOT rendering, and the
// whole-program graph of processes running processes. Names are resolved on declarations alone, so the
// graphs exist (and the checks run) even when type checking reported errors elsewhere.
#include "compiler/ir/process_graph.h"

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/pending/queue.hpp>
#include <set>
#include <sstream>

#include "compiler/driver/compilation.h"
#include "compiler/source/source_manager.h"

namespace orgos::ir {

const char* name(NodeKind k) {
  switch (k) {
    case NodeKind::Start:
      return "start";
    case NodeKind::End:
      return "end";
    case NodeKind::FailEnd:
      return "fail-end";
    case NodeKind::Task:
      return "task";
    case NodeKind::Approval:
      return "approval";
    case NodeKind::Emit:
      return "emit";
    case NodeKind::Create:
      return "create";
    case NodeKind::Update:
      return "update";
    case NodeKind::Set:
      return "set";
    case NodeKind::Call:
      return "call";
    case NodeKind::Run:
      return "run";
    case NodeKind::Notify:
      return "notify";
    case NodeKind::WaitEvent:
      return "wait-event";
    case NodeKind::WaitTimer:
      return "wait-timer";
    case NodeKind::WaitUntil:
      return "wait-until";
    case NodeKind::Decision:
      return "decision";
    case NodeKind::Merge:
      return "merge";
    case NodeKind::Fork:
      return "fork";
    case NodeKind::Join:
      return "join";
    case NodeKind::LoopHead:
      return "loop-head";
    case NodeKind::Let:
      return "let";
    case NodeKind::Fail:
      return "fail";
    case NodeKind::Complete:
      return "complete";
    case NodeKind::StartProcess:
      return "start-process";
    case NodeKind::Signal:
      return "signal";
    case NodeKind::Insert:
      return "insert";
    case NodeKind::Derive:
      return "derive";
    case NodeKind::Modify:
      return "modify";
    case NodeKind::Retract:
      return "retract";
    case NodeKind::FailureHandler:
      return "on-failure";
    case NodeKind::TimeoutHandler:
      return "on-timeout";
    case NodeKind::Compensation:
      return "compensation";
  }
  return "?";
}

namespace {

using namespace ast;

// An edge still to be drawn: it leaves `from` and goes to whatever comes next in the block.
struct Open {
  Vertex from;
  EdgeKind kind;
  std::string label;
};
using Frontier = std::vector<Open>;

class Builder {
 public:
  Builder(ProcessGraph& pg, const GraphOptions& o) : pg_(pg), opts_(o) {}

  void build(const ProcessDecl& p) {
    pg_.process = &p;
    pg_.name = p.name.text;
    pg_.start = add(NodeKind::Start, "start", nullptr, p.name.span);
    pg_.end = add(NodeKind::End, "end", nullptr, p.span);
    pg_.fail_end = add(NodeKind::FailEnd, "failed", nullptr, p.span);
    pg_.roots.push_back(pg_.start);
    connect(block(p.body, {{pg_.start, EdgeKind::Next, ""}}), pg_.end);
    if (p.has_on_failure) handler(NodeKind::FailureHandler, "on failure", p.on_failure, p.span, "");
    if (p.has_on_timeout) handler(NodeKind::TimeoutHandler, "on timeout", p.on_timeout, p.span, "timed out");
    // Compensations are collected while lowering (a compensation may itself hold steps with one).
    for (size_t i = 0; i < compensated_.size(); ++i) {
      const Stmt* s = compensated_[i];
      handler(NodeKind::Compensation, "compensate: " + pg_.g[pg_.vertex_of.at(s)].label, s->compensation,
              s->span, "");
    }
  }

 private:
  Vertex add(NodeKind k, std::string label, const Stmt* s, Span span) {
    GraphNode n;
    n.kind = k;
    n.label = std::move(label);
    n.stmt = s;
    n.span = span;
    return boost::add_vertex(std::move(n), pg_.g);
  }

  void connect(const Frontier& f, Vertex to, const EdgeKind* kind = nullptr) {
    for (const Open& o : f) boost::add_edge(o.from, to, Edge{kind ? *kind : o.kind, o.label}, pg_.g);
  }

  void handler(NodeKind k, const std::string& label, const Block& b, Span span,
               const std::string& end_label) {
    Vertex v = add(k, label, nullptr, span);
    pg_.roots.push_back(v);
    Frontier out = block(b, {{v, EdgeKind::Handler, ""}});
    for (Open& o : out)
      if (o.label.empty()) o.label = end_label;
    connect(out, pg_.fail_end);
  }

  // Source text of a span, whitespace collapsed and shortened, for labels; empty without sources.
  std::string text(Span s) const {
    if (!opts_.sources || !s.valid() || s.file >= opts_.sources->size()) return "";
    const std::string& src = opts_.sources->file(s.file).text;
    if (s.begin >= src.size() || s.end > src.size() || s.end <= s.begin) return "";
    std::string out;
    for (size_t i = s.begin; i < s.end; ++i) {
      char c = src[i];
      bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
      if (space) {
        if (!out.empty() && out.back() != ' ') out += ' ';
      } else {
        out += c;
      }
    }
    constexpr size_t kMax = 40;
    if (out.size() > kMax) {
      out.resize(kMax);
      // Do not cut a UTF-8 sequence in half.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
      if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
      out += "…";
    }
    return out;
  }
  std::string text(const Expr* e) const { return e ? text(e->span) : ""; }
  std::string with(const std::string& head, const std::string& tail) const {
    return tail.empty() ? head : head + " " + tail;
  }

  static std::string quorum(const Quorum& q) {
    switch (q.kind) {
      case QuorumKind::All:
        return "";
      case QuorumKind::Majority:
        return "majority";
      case QuorumKind::Unanimous:
        return "unanimous";
      case QuorumKind::Count:
        return "quorum " + std::to_string(q.n) + (q.of ? " of " + std::to_string(q.of) : "");
      case QuorumKind::Percent:
        return "quorum " + std::to_string(q.n) + "%";
    }
    return "";
  }

  // The node of a step that is one vertex (everything but decisions, forks, loops and ends).
  std::pair<NodeKind, std::string> single(const Stmt* s, const ProcessDecl*& callee) const {
    switch (s->kind) {
      case StmtKind::Task: {
        auto* t = as<TaskStmt>(s);
        return {NodeKind::Task, "task " + t->name.text + "\nby " + t->assignee.role.str()};
      }
      case StmtKind::Approval: {
        auto* a = as<ApprovalStmt>(s);
        std::string l = with("approval", a->name.text) + "\nby " + a->assignee.role.str();
        std::string q = quorum(a->quorum);
        return {NodeKind::Approval, q.empty() ? l : l + "\n" + q};
      }
      case StmtKind::Emit:
        return {NodeKind::Emit, "emit " + as<ConstructStmt>(s)->type.str()};
      case StmtKind::Insert:
        return {NodeKind::Insert, "insert " + as<ConstructStmt>(s)->type.str()};
      case StmtKind::Derive:
        return {NodeKind::Derive, "derive " + as<ConstructStmt>(s)->type.str()};
      case StmtKind::Create: {
        auto* c = as<ConstructStmt>(s);
        return {NodeKind::Create, "create " + c->type.str() + (c->bind.empty() ? "" : " as " + c->bind.text)};
      }
      case StmtKind::Update:
        return {NodeKind::Update, with("update", text(as<UpdateStmt>(s)->target.get()))};
      case StmtKind::Modify:
        return {NodeKind::Modify, with("modify", text(as<UpdateStmt>(s)->target.get()))};
      case StmtKind::Set:
        return {NodeKind::Set, with("set", text(as<SetStmt>(s)->target.get()))};
      case StmtKind::Call:
      case StmtKind::Run:
      case StmtKind::Start: {
        auto* c = as<CallStmt>(s);
        // `call` always names a connector operation; `run`, `start` and bare calls may name a process.
        if (opts_.resolve && (s->kind != StmtKind::Call || c->bare)) callee = opts_.resolve(*c);
        std::string n = c->callee.str();
        if (s->kind == StmtKind::Start) return {NodeKind::StartProcess, "start " + n};
        if (s->kind == StmtKind::Run || callee) return {NodeKind::Run, "run " + n};
        return {NodeKind::Call, "call " + n};
      }
      case StmtKind::Notify:
        return {NodeKind::Notify, with("notify", text(as<NotifyStmt>(s)->who.get()))};
      case StmtKind::WaitEvent: {
        auto* w = as<WaitEventStmt>(s);
        std::string l = "wait for " + w->event.str();
        if (w->within) l += with("\nwithin", text(w->within.get()));
        return {NodeKind::WaitEvent, l};
      }
      case StmtKind::WaitTimer:
        return {NodeKind::WaitTimer, with("wait", text(as<WaitTimeStmt>(s)->time.get()))};
      case StmtKind::WaitUntil:
        return {NodeKind::WaitUntil, with("wait until", text(as<WaitTimeStmt>(s)->time.get()))};
      case StmtKind::Let:
        return {NodeKind::Let, "let " + as<LetStmt>(s)->name.text};
      case StmtKind::Retract:
        return {NodeKind::Retract, with("retract", text(as<SimpleStmt>(s)->value.get()))};
      case StmtKind::Signal: {
        auto* g = as<SignalStmt>(s);
        return {NodeKind::Signal, "signal " + g->process.str() + "\nwith " + g->event.str()};
      }
      case StmtKind::Fail:
        return {NodeKind::Fail, with("fail", text(as<SimpleStmt>(s)->value.get()))};
      case StmtKind::Complete:
        return {NodeKind::Complete, "complete"};
      case StmtKind::If:
      case StmtKind::Switch:
      case StmtKind::Parallel:
      case StmtKind::ForEach:
        break;
    }
    return {NodeKind::Let, keyword(s->kind)};
  }

  Frontier block(const Block& b, Frontier in) {
    const Stmt* prev = nullptr;
    bool prev_live = false;
    for (const StmtPtr& sp : b) {
      const Stmt* s = sp.get();
      if (!s) continue;
      if (in.empty() && prev && prev_live) pg_.cut_by[s] = prev;
      bool live = !in.empty();
      in = stmt(s, std::move(in));
      prev = s;
      prev_live = live;
    }
    return in;
  }

  Frontier stmt(const Stmt* s, Frontier in) {
    if (!s->compensation.empty()) compensated_.push_back(s);
    switch (s->kind) {
      case StmtKind::If:
        return if_stmt(as<IfStmt>(s), std::move(in));
      case StmtKind::Switch:
        return switch_stmt(as<SwitchStmt>(s), std::move(in));
      case StmtKind::Parallel:
        return parallel(as<ParallelStmt>(s), std::move(in));
      case StmtKind::ForEach:
        return for_each(as<ForEachStmt>(s), std::move(in));
      default:
        break;
    }
    const ProcessDecl* callee = nullptr;
    auto [kind, label] = single(s, callee);
    Vertex v = add(kind, label, s, s->span);
    pg_.g[v].callee = callee;
    pg_.vertex_of[s] = v;
    connect(in, v);
    if (s->kind == StmtKind::Fail) {
      boost::add_edge(v, pg_.fail_end, Edge{EdgeKind::Next, ""}, pg_.g);
      return {};
    }
    if (s->kind == StmtKind::Complete) {
      boost::add_edge(v, pg_.end, Edge{EdgeKind::Next, ""}, pg_.g);
      return {};
    }
    Frontier out{{v, EdgeKind::Next, ""}};
    // A deadline's `on timeout` block runs instead of the normal continuation, then rejoins it.
    const Block* on_timeout = nullptr;
    if (s->kind == StmtKind::Task && as<TaskStmt>(s)->has_on_timeout)
      on_timeout = &as<TaskStmt>(s)->on_timeout;
    if (s->kind == StmtKind::Approval && as<ApprovalStmt>(s)->has_on_timeout)
      on_timeout = &as<ApprovalStmt>(s)->on_timeout;
    if (s->kind == StmtKind::WaitEvent && as<WaitEventStmt>(s)->has_on_timeout)
      on_timeout = &as<WaitEventStmt>(s)->on_timeout;
    if (on_timeout) {
      Frontier t = block(*on_timeout, {{v, EdgeKind::Timeout, "timeout"}});
      out.insert(out.end(), t.begin(), t.end());
    }
    return out;
  }

  // Branch outcomes meet at a merge; no merge when no branch falls through.
  Frontier merge(const Frontier& outs) {
    if (outs.empty()) return {};
    Vertex m = add(NodeKind::Merge, "", nullptr, {});
    connect(outs, m);
    return {{m, EdgeKind::Next, ""}};
  }

  Frontier if_stmt(const IfStmt* s, Frontier in) {
    Vertex d = add(NodeKind::Decision, with("if", text(s->cond.get())), s, s->span);
    pg_.vertex_of[s] = d;
    connect(in, d);
    Frontier outs = block(s->then_block, {{d, EdgeKind::Branch, "then"}});
    Frontier e = s->has_else ? block(s->else_block, {{d, EdgeKind::Else, "else"}})
                             : Frontier{{d, EdgeKind::Else, "else"}};
    outs.insert(outs.end(), e.begin(), e.end());
    return merge(outs);
  }

  Frontier switch_stmt(const SwitchStmt* s, Frontier in) {
    Vertex d = add(NodeKind::Decision, with("switch", text(s->subject.get())), s, s->span);
    pg_.vertex_of[s] = d;
    connect(in, d);
    Frontier outs;
    for (size_t i = 0; i < s->cases.size(); ++i) {
      const SwitchCase& c = s->cases[i];
      std::string label;
      for (const ExprPtr& v : c.values) {
        std::string t = text(v.get());
        if (!t.empty()) label += (label.empty() ? "" : ", ") + t;
      }
      if (label.empty()) label = "case " + std::to_string(i + 1);
      Frontier o = block(c.body, {{d, EdgeKind::Branch, label}});
      outs.insert(outs.end(), o.begin(), o.end());
    }
    Frontier e = s->has_else ? block(s->else_block, {{d, EdgeKind::Else, "else"}})
                             : Frontier{{d, EdgeKind::Else, "else"}};
    outs.insert(outs.end(), e.begin(), e.end());
    return merge(outs);
  }

  Frontier parallel(const ParallelStmt* s, Frontier in) {
    Vertex f = add(NodeKind::Fork, "parallel", s, s->span);
    pg_.g[f].branches = s->branches.size();
    pg_.vertex_of[s] = f;
    connect(in, f);
    Frontier outs;
    for (size_t i = 0; i < s->branches.size(); ++i) {
      const Branch& b = s->branches[i];
      std::string label = b.name.empty() ? "branch " + std::to_string(i + 1) : b.name.text;
      Frontier o = block(b.body, {{f, EdgeKind::Branch, label}});
      outs.insert(outs.end(), o.begin(), o.end());
    }
    // With no branch there is nothing to wait for: the fork flows straight into its join.
    if (s->branches.empty()) outs.push_back({f, EdgeKind::Next, ""});
    if (outs.empty()) return {};
    std::string label = "join all";
    int64_t count = static_cast<int64_t>(s->branches.size());
    if (s->join == JoinKind::Any) {
      label = "join any";
      count = 1;
    } else if (s->join == JoinKind::Count) {
      label = "join " + std::to_string(s->join_count);
      count = s->join_count;
    }
    Vertex j = add(NodeKind::Join, label, nullptr, s->join_span.valid() ? s->join_span : s->span);
    pg_.g[j].branches = s->branches.size();
    pg_.g[j].join = s->join;
    pg_.g[j].join_count = count;
    pg_.join_of[s] = j;
    connect(outs, j);
    return {{j, EdgeKind::Next, ""}};
  }

  Frontier for_each(const ForEachStmt* s, Frontier in) {
    std::string label = "for each " + s->var.text + with(" in", text(s->source.get()));
    if (s->parallel) label += " in parallel";
    if (s->max > 0) label += " max " + std::to_string(s->max);
    Vertex h = add(NodeKind::LoopHead, label, s, s->span);
    pg_.vertex_of[s] = h;
    connect(in, h);
    Frontier body = block(s->body, {{h, EdgeKind::Body, "each"}});
    EdgeKind back = EdgeKind::LoopBack;
    for (Open& o : body) o.label.clear();
    connect(body, h, &back);
    return {{h, EdgeKind::Exit, "done"}};
  }

  ProcessGraph& pg_;
  const GraphOptions& opts_;
  std::vector<const Stmt*> compensated_;
};

// DOT needs quotes and backslashes escaped; a newline in a label becomes the `\n` line break.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

struct VertexWriter {
  const Graph& g;
  void operator()(std::ostream& os, Vertex v) const {
    const GraphNode& n = g[v];
    std::string attrs;
    switch (n.kind) {
      case NodeKind::Start:
        attrs = "shape=circle, style=filled, fillcolor=\"#d9ead3\"";
        break;
      case NodeKind::End:
        attrs = "shape=doublecircle, style=filled, fillcolor=\"#d9ead3\"";
        break;
      case NodeKind::FailEnd:
        attrs = "shape=doublecircle, color=\"#cc0000\", style=filled, fillcolor=\"#f4cccc\"";
        break;
      case NodeKind::Task:
      case NodeKind::Approval:
        attrs = "shape=box, style=\"filled,bold\", fillcolor=\"#fff2cc\"";
        break;
      case NodeKind::Decision:
        attrs = "shape=diamond";
        break;
      case NodeKind::Merge:
        attrs = "shape=point, width=0.12";
        break;
      case NodeKind::Fork:
      case NodeKind::Join:
        attrs = "shape=box, style=filled, fillcolor=black, fontcolor=white, fontsize=9, height=0.15, width=2";
        break;
      case NodeKind::LoopHead:
        attrs = "shape=trapezium";
        break;
      case NodeKind::WaitEvent:
      case NodeKind::WaitTimer:
      case NodeKind::WaitUntil:
        attrs = "shape=hexagon";
        break;
      case NodeKind::Fail:
        attrs = "shape=box, style=\"rounded,filled\", fillcolor=\"#f4cccc\"";
        break;
      case NodeKind::FailureHandler:
      case NodeKind::TimeoutHandler:
      case NodeKind::Compensation:
        attrs = "shape=octagon, style=dashed";
        break;
      default:
        attrs = "shape=box, style=rounded";
        break;
    }
    os << "[label=\"" << escape(n.label) << "\", " << attrs << "]";
  }
};

struct EdgeWriter {
  const Graph& g;
  void operator()(std::ostream& os, boost::graph_traits<Graph>::edge_descriptor e) const {
    const Edge& ed = g[e];
    os << "[";
    if (!ed.label.empty()) os << "label=\"" << escape(ed.label) << "\", ";
    switch (ed.kind) {
      case EdgeKind::LoopBack:
        os << "style=dashed, constraint=false";
        break;
      case EdgeKind::Timeout:
        os << "style=dashed, color=\"#e69138\"";
        break;
      case EdgeKind::Handler:
        os << "style=dashed";
        break;
      default:
        os << "style=solid";
        break;
    }
    os << "]";
  }
};

struct GraphWriter {
  std::string title;
  void operator()(std::ostream& os) const {
    os << "label=\"" << escape(title) << "\";\nlabelloc=t;\nrankdir=TB;\n"
       << "node [fontname=\"Helvetica\", fontsize=11];\nedge [fontname=\"Helvetica\", fontsize=9];\n";
  }
};

template <typename G>
std::vector<bool> bfs_reach(const G& g, const std::vector<Vertex>& from) {
  size_t n = boost::num_vertices(g);
  std::vector<boost::default_color_type> colour(n, boost::white_color);
  auto cmap = boost::make_iterator_property_map(colour.begin(), boost::get(boost::vertex_index, g));
  boost::queue<Vertex> q;
  for (Vertex s : from)
    if (s < n && colour[s] == boost::white_color)
      boost::breadth_first_visit(g, s, q, boost::default_bfs_visitor(), cmap);
  std::vector<bool> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = colour[i] != boost::white_color;
  return out;
}

void visit_block(const Block& b, const std::function<void(const Stmt&)>& f) {
  for (const StmtPtr& sp : b) {
    const Stmt* s = sp.get();
    if (!s) continue;
    f(*s);
    switch (s->kind) {
      case StmtKind::If:
        visit_block(as<IfStmt>(s)->then_block, f);
        visit_block(as<IfStmt>(s)->else_block, f);
        break;
      case StmtKind::Switch:
        for (const SwitchCase& c : as<SwitchStmt>(s)->cases) visit_block(c.body, f);
        visit_block(as<SwitchStmt>(s)->else_block, f);
        break;
      case StmtKind::Parallel:
        for (const Branch& br : as<ParallelStmt>(s)->branches) visit_block(br.body, f);
        break;
      case StmtKind::ForEach:
        visit_block(as<ForEachStmt>(s)->body, f);
        break;
      case StmtKind::Task:
        visit_block(as<TaskStmt>(s)->on_timeout, f);
        break;
      case StmtKind::Approval:
        visit_block(as<ApprovalStmt>(s)->on_timeout, f);
        break;
      case StmtKind::WaitEvent:
        visit_block(as<WaitEventStmt>(s)->on_timeout, f);
        break;
      default:
        break;
    }
    visit_block(s->compensation, f);
  }
}

}  // namespace

ProcessGraph build_process_graph(const ast::ProcessDecl& p, const GraphOptions& opts) {
  ProcessGraph pg;
  Builder(pg, opts).build(p);
  return pg;
}

void write_dot(std::ostream& os, const ProcessGraph& pg) {
  boost::write_graphviz(os, pg.g, VertexWriter{pg.g}, EdgeWriter{pg.g}, GraphWriter{"process " + pg.name});
}

std::string to_dot(const ProcessGraph& pg) {
  std::ostringstream os;
  write_dot(os, pg);
  return os.str();
}

std::vector<bool> reachable(const Graph& g, const std::vector<Vertex>& from, bool reverse) {
  if (reverse) return bfs_reach(boost::make_reverse_graph(g), from);
  return bfs_reach(g, from);
}

namespace {
// Keeps the edges that leave vertices not marked `stop`.
struct NotFromStop {
  const Graph* g = nullptr;
  const std::vector<bool>* stop = nullptr;
  bool operator()(boost::graph_traits<Graph>::edge_descriptor e) const {
    Vertex s = boost::source(e, *g);
    return s >= stop->size() || !(*stop)[s];
  }
};
}  // namespace

std::vector<bool> reachable_stopping_at(const Graph& g, const std::vector<Vertex>& from,
                                        const std::vector<bool>& stop) {
  boost::filtered_graph<Graph, NotFromStop> fg(g, NotFromStop{&g, &stop});
  return bfs_reach(fg, from);
}

void for_each_stmt(const ast::Block& b, const std::function<void(const ast::Stmt&)>& f) {
  visit_block(b, f);
}

void for_each_stmt(const ast::ProcessDecl& p, const std::function<void(const ast::Stmt&)>& f) {
  visit_block(p.body, f);
  visit_block(p.on_failure, f);
  visit_block(p.on_timeout, f);
}

// ---------------------------------------------------------------- processes across the compilation

ProcessIndex::ProcessIndex(const driver::Compilation& c) : c_(c) {
  std::function<void(const std::vector<ast::DeclPtr>&, size_t, const std::string&, const std::string&,
                     const ast::TemplateDecl*)>
      scan = [&](const std::vector<ast::DeclPtr>& decls, size_t file, const std::string& pkg,
                 const std::string& prefix, const ast::TemplateDecl* tmpl) {
        for (const ast::DeclPtr& d : decls) {
          if (!d) continue;
          if (d->kind == ast::DeclKind::Process) {
            ProcessEntry e;
            e.decl = ast::as<ast::ProcessDecl>(d.get());
            e.package = pkg;
            e.in_template = tmpl;
            e.qualified = prefix + d->name.text;
            e.file = file;
            entries_.push_back(std::move(e));
          } else if (d->kind == ast::DeclKind::Template) {
            auto* t = ast::as<ast::TemplateDecl>(d.get());
            scan(t->decls, file, pkg, prefix + t->name.text + ".", t);
          }
        }
      };
  for (size_t i = 0; i < c.files.size(); ++i)
    if (c.files[i].module)
      scan(c.files[i].module->decls, i, c.files[i].package, c.files[i].package + ".", nullptr);
  for (const driver::ParsedFile& f : c.files) packages_.insert(f.package);
  for (const ProcessEntry& e : entries_)
    if (!e.in_template)
      by_package_.emplace(std::make_pair(e.package, e.decl->name.text), e.decl);  // first wins
}

const ProcessEntry* ProcessIndex::entry(const ast::ProcessDecl* p) const {
  for (const ProcessEntry& e : entries_)
    if (e.decl == p) return &e;
  return nullptr;
}

const ast::ProcessDecl* ProcessIndex::in_package(const std::string& pkg, const std::string& name) const {
  auto it = by_package_.find({pkg, name});
  return it == by_package_.end() ? nullptr : it->second;
}

const ast::ProcessDecl* ProcessIndex::resolve(const ProcessEntry& from,
                                              const ast::QualifiedName& callee) const {
  if (callee.empty()) return nullptr;
  std::string full = callee.str();
  // Inside a template its own processes come first, as its other declarations do.
  if (from.in_template && callee.parts.size() == 1)
    for (const ProcessEntry& e : entries_)
      if (e.in_template == from.in_template && e.decl->name.text == full) return e.decl;
  if (const ast::ProcessDecl* d = in_package(from.package, full)) return d;
  const ast::Module* m = from.file < c_.files.size() ? c_.files[from.file].module.get() : nullptr;
  if (m) {
    for (const ast::Import& imp : m->imports) {
      // The package is the longest prefix of the import path that names a package.
      std::string pkg;
      size_t used = 0;
      for (size_t n = imp.path.parts.size(); n >= 1 && pkg.empty(); --n) {
        std::string prefix;
        for (size_t i = 0; i < n; ++i) prefix += (i ? "." : "") + imp.path.parts[i].text;
        if (packages_.count(prefix)) {
          pkg = prefix;
          used = n;
        }
      }
      if (pkg.empty()) continue;
      if (imp.selective) {
        for (const ast::ImportItem& item : imp.items)
          if ((item.alias.empty() ? item.name.text : item.alias.text) == full)
            if (const ast::ProcessDecl* d = in_package(pkg, item.name.text)) return d;
      } else if (used < imp.path.parts.size()) {
        std::string rest;
        for (size_t i = used; i < imp.path.parts.size(); ++i)
          rest += (i > used ? "." : "") + imp.path.parts[i].text;
        if ((imp.alias.empty() ? imp.path.parts.back().text : imp.alias.text) == full)
          if (const ast::ProcessDecl* d = in_package(pkg, rest)) return d;
      } else {
        std::string alias = imp.alias.empty() ? imp.path.parts.back().text : imp.alias.text;
        if (full.size() > alias.size() + 1 && full.compare(0, alias.size() + 1, alias + ".") == 0)
          if (const ast::ProcessDecl* d = in_package(pkg, full.substr(alias.size() + 1))) return d;
      }
    }
  }
  // A name written with its whole package: `std.finance.Reimburse`.
  for (const std::string& pkg : packages_)
    if (full.size() > pkg.size() + 1 && full.compare(0, pkg.size() + 1, pkg + ".") == 0)
      if (const ast::ProcessDecl* d = in_package(pkg, full.substr(pkg.size() + 1))) return d;
  return nullptr;
}

std::vector<const ProcessEntry*> ProcessIndex::find(const std::string& name) const {
  std::vector<const ProcessEntry*> exact, in_root, imported, in_template;
  for (const ProcessEntry& e : entries_) {
    if (e.qualified == name) exact.push_back(&e);
    std::string local = e.qualified.substr(e.package.size() + 1);  // without the package
    if (local == name)
      (c_.files[e.file].root ? in_root : imported).push_back(&e);
    else if (e.in_template && e.decl->name.text == name && c_.files[e.file].root)
      in_template.push_back(&e);  // `Inner` for `Shop.Inner`, when nothing else has the name
  }
  if (!exact.empty()) return exact;
  if (!in_root.empty()) return in_root;
  return imported.empty() ? in_template : imported;
}

CallGraph build_call_graph(const ProcessIndex& index) {
  CallGraph cg;
  for (const ProcessEntry& e : index.all()) {
    auto v = boost::add_vertex(CallNode{e.decl, e.qualified}, cg.g);
    cg.vertex_of[e.decl] = v;
  }
  for (const ProcessEntry& e : index.all()) {
    for_each_stmt(*e.decl, [&](const ast::Stmt& s) {
      if (s.kind != ast::StmtKind::Run && s.kind != ast::StmtKind::Start && s.kind != ast::StmtKind::Call)
        return;
      auto* c = ast::as<ast::CallStmt>(&s);
      if (s.kind == ast::StmtKind::Call && !c->bare) return;  // `call` always names a connector operation
      const ast::ProcessDecl* target = index.resolve(e, c->callee);
      if (!target) return;
      CallKind k = s.kind == ast::StmtKind::Start ? CallKind::Start
                   : s.kind == ast::StmtKind::Run ? CallKind::Run
                                                  : CallKind::Bare;
      boost::add_edge(cg.vertex_of.at(e.decl), cg.vertex_of.at(target), CallEdge{k, c}, cg.g);
    });
  }
  return cg;
}

std::string to_dot(const CallGraph& cg) {
  std::ostringstream os;
  boost::write_graphviz(
      os, cg.g,
      [&](std::ostream& o, CallGraphT::vertex_descriptor v) {
        o << "[label=\"" << escape(cg.g[v].name) << "\", shape=box, style=rounded]";
      },
      [&](std::ostream& o, CallGraphT::edge_descriptor e) {
        CallKind k = cg.g[e].kind;
        o << "[label=\"" << (k == CallKind::Start ? "start" : "run") << "\""
          << (k == CallKind::Start ? ", style=dashed" : "") << "]";
      },
      GraphWriter{"processes"});
  return os.str();
}

}  // namespace orgos::ir
