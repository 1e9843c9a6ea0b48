// Structural checks of processes, on the control-flow graphs of compiler/ir/process_graph.h: unreachable
// steps (E0500), paths that never end and sub-process loops with no wait (E0501), joins that can deadlock
// (E0502), loop bounds (E0503) and approval quorums (E0504). They read declarations only, never types.
#include "compiler/sema/process_checks.h"

#include <algorithm>
#include <boost/graph/strong_components.hpp>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>

#include "compiler/driver/compilation.h"
#include "compiler/ir/process_graph.h"
#include "compiler/source/source_manager.h"

namespace orgos::sema {

namespace {

using namespace ast;
using ir::NodeKind;
using ir::Vertex;

constexpr int kMaxLoopNesting = 4;

struct Checked {
  const ir::ProcessEntry* entry = nullptr;
  ir::ProcessGraph pg;
  std::vector<bool> live;  // reachable from start or a handler entry
};

// The head of a compound step (`if cond`, `for each x in xs`), so a diagnostic does not underline a
// whole multi-line block.
Span head_span(const Stmt* s) {
  Span sp = s->span;
  const Expr* head = nullptr;
  if (s->kind == StmtKind::If) head = as<IfStmt>(s)->cond.get();
  if (s->kind == StmtKind::Switch) head = as<SwitchStmt>(s)->subject.get();
  if (s->kind == StmtKind::ForEach) head = as<ForEachStmt>(s)->source.get();
  if (head && head->span.valid() && head->span.end > sp.begin && head->span.end <= sp.end)
    sp.end = head->span.end;
  if (s->kind == StmtKind::Parallel) sp.end = std::min(sp.end, sp.begin + 8);  // the keyword
  return sp;
}

// The `fail` and `complete` steps that end every branch of a compound step.
void terminators(const Stmt* s, std::vector<const Stmt*>& out) {
  auto last = [&](const Block& b) {
    for (auto it = b.rbegin(); it != b.rend(); ++it)
      if (*it) {
        terminators(it->get(), out);
        return;
      }
  };
  switch (s->kind) {
    case StmtKind::Fail:
    case StmtKind::Complete:
      out.push_back(s);
      break;
    case StmtKind::If:
      last(as<IfStmt>(s)->then_block);
      last(as<IfStmt>(s)->else_block);
      break;
    case StmtKind::Switch:
      for (const SwitchCase& c : as<SwitchStmt>(s)->cases) last(c.body);
      last(as<SwitchStmt>(s)->else_block);
      break;
    case StmtKind::Parallel:
      for (const Branch& b : as<ParallelStmt>(s)->branches) last(b.body);
      break;
    default:
      break;
  }
}

// Every nested block of a step, in source order (compensation last).
std::vector<const Block*> nested(const Stmt* s) {
  std::vector<const Block*> out;
  switch (s->kind) {
    case StmtKind::If:
      out = {&as<IfStmt>(s)->then_block, &as<IfStmt>(s)->else_block};
      break;
    case StmtKind::Switch:
      for (const SwitchCase& c : as<SwitchStmt>(s)->cases) out.push_back(&c.body);
      out.push_back(&as<SwitchStmt>(s)->else_block);
      break;
    case StmtKind::Parallel:
      for (const Branch& b : as<ParallelStmt>(s)->branches) out.push_back(&b.body);
      break;
    case StmtKind::ForEach:
      out.push_back(&as<ForEachStmt>(s)->body);
      break;
    case StmtKind::Task:
      out.push_back(&as<TaskStmt>(s)->on_timeout);
      break;
    case StmtKind::Approval:
      out.push_back(&as<ApprovalStmt>(s)->on_timeout);
      break;
    case StmtKind::WaitEvent:
      out.push_back(&as<WaitEventStmt>(s)->on_timeout);
      break;
    default:
      break;
  }
  out.push_back(&s->compensation);
  return out;
}

bool same_event(const std::string& a, const std::string& b) {
  if (a == b) return true;
  // `fin.expense.approved` and `expense.approved` may be one event seen through an import alias.
  auto ends = [](const std::string& l, const std::string& r) {
    return l.size() > r.size() && l.compare(l.size() - r.size(), r.size(), r) == 0 &&
           l[l.size() - r.size() - 1] == '.';
  };
  return ends(a, b) || ends(b, a);
}

class ProcessChecker {
 public:
  explicit ProcessChecker(driver::Compilation& c) : c_(c), index_(c) {}

  void run() {
    graphs_.reserve(index_.all().size());
    for (const ir::ProcessEntry& e : index_.all()) {
      Checked k;
      k.entry = &e;
      ir::GraphOptions o;
      o.resolve = [this, &e](const CallStmt& call) { return index_.resolve(e, call.callee); };
      o.sources = &c_.sources;
      k.pg = ir::build_process_graph(*e.decl, o);
      k.live = ir::reachable(k.pg.g, k.pg.roots);
      graphs_.push_back(std::move(k));
    }
    collect_outside_emitters();
    for (const Checked& k : graphs_) {
      const ProcessDecl& p = *k.entry->decl;
      unreachable(k, p.body);
      unreachable(k, p.on_failure);
      unreachable(k, p.on_timeout);
      never_ends(k);
      joins(k);
      loops(p.body, 0, nullptr);
      loops(p.on_failure, 0, nullptr);
      loops(p.on_timeout, 0, nullptr);
      quorums(p);
    }
    call_loops();
  }

 private:
  // ---- E0500: steps no path reaches. One diagnostic per run of them, at the first.
  void unreachable(const Checked& k, const Block& b) {
    bool in_run = false;
    for (const StmtPtr& sp : b) {
      const Stmt* s = sp.get();
      if (!s) continue;
      auto v = k.pg.vertex_of.find(s);
      if (v == k.pg.vertex_of.end()) continue;
      if (!k.live[v->second]) {
        if (!in_run) report_unreachable(k, s);
        in_run = true;
        continue;
      }
      in_run = false;
      for (const Block* inner : nested(s)) unreachable(k, *inner);
    }
  }

  void report_unreachable(const Checked& k, const Stmt* s) {
    auto& d = c_.diags.report(diag::Code::E0500, head_span(s),
                              std::string("this `") + keyword(s->kind) +
                                  "` step can never run: the steps before it always end the process");
    auto cut = k.pg.cut_by.find(s);
    if (cut != k.pg.cut_by.end()) {
      const Stmt* t = cut->second;
      if (t->kind == StmtKind::Fail) {
        d.note(t->span, "the process fails here, so nothing after it in this block runs");
      } else if (t->kind == StmtKind::Complete) {
        d.note(t->span, "the process completes here, so nothing after it in this block runs");
      } else {
        d.note(head_span(t), std::string("every branch of this `") + keyword(t->kind) + "` ends the process");
        std::vector<const Stmt*> ends;
        terminators(t, ends);
        for (size_t i = 0; i < ends.size() && i < 3; ++i)
          d.note(ends[i]->span, std::string("it ends with `") + keyword(ends[i]->kind) + "` here");
      }
    }
    d.with_hint("remove the unreachable steps, or move them before the step that ends the process");
  }

  // ---- E0501: every step that can run must be able to reach the end (or the failed end).
  void never_ends(const Checked& k) {
    auto to_end = ir::reachable(k.pg.g, {k.pg.end, k.pg.fail_end}, /*reverse=*/true);
    for (Vertex v = 0; v < boost::num_vertices(k.pg.g); ++v) {
      const ir::GraphNode& n = k.pg.g[v];
      if (!k.live[v] || to_end[v] || !n.span.valid()) continue;
      c_.diags
          .report(diag::Code::E0501, n.stmt ? head_span(n.stmt) : n.span,
                  "`" + n.label.substr(0, n.label.find('\n')) + "` never reaches the end of process `" +
                      k.entry->decl->name.text + "`: every path from it loops or waits forever")
          .note(k.entry->decl->name.span, "the process is declared here")
          .with_hint("make sure every path can reach `complete`, `fail` or the end of the process");
      return;  // one per process: the rest follows from the first
    }
  }

  // ---- E0502: joins that can never fire.
  void joins(const Checked& k) {
    ir::for_each_stmt(*k.entry->decl, [&](const Stmt& s) {
      if (s.kind != StmtKind::Parallel) return;
      auto* p = as<ParallelStmt>(&s);
      size_t n = p->branches.size();
      if (n == 0) {
        c_.diags
            .report(diag::Code::E0502, head_span(p),
                    "this `parallel` has no branches, so its join has nothing to wait for")
            .with_hint("add branches (`branch name { … }` or one step per branch), or remove the `parallel`");
        return;
      }
      if (p->join == JoinKind::Count && (p->join_count < 1 || static_cast<size_t>(p->join_count) > n)) {
        auto& d = c_.diags.report(
            diag::Code::E0502, p->join_span.valid() ? p->join_span : head_span(p),
            p->join_count < 1
                ? "`join " + std::to_string(p->join_count) + "` waits for no branch at all"
                : "`join " + std::to_string(p->join_count) + "` waits for " + std::to_string(p->join_count) +
                      " branches, but this `parallel` has only " + std::to_string(n) +
                      ": it can never continue");
        d.note(head_span(p), "the `parallel` with " + std::to_string(n) + (n == 1 ? " branch" : " branches"));
        d.with_hint("use a count from 1 to " + std::to_string(n) + ", `join any` or `join all`");
        return;
      }
      event_deadlock(k, p);
    });
  }

  // A branch that starts by waiting (with no deadline) for an event this process emits only after the
  // join can never finish; when too few other branches remain for the join, the process hangs.
  void event_deadlock(const Checked& k, const ParallelStmt* p) {
    auto j = k.pg.join_of.find(p);
    if (j == k.pg.join_of.end()) return;
    size_t n = p->branches.size();
    size_t needed = p->join == JoinKind::All   ? n
                    : p->join == JoinKind::Any ? 1
                                               : static_cast<size_t>(p->join_count);
    std::vector<bool> stop(boost::num_vertices(k.pg.g));
    stop[j->second] = true;
    auto before = ir::reachable_stopping_at(k.pg.g, k.pg.roots, stop);
    auto after = ir::reachable(k.pg.g, {j->second});
    struct Stuck {
      const WaitEventStmt* wait;
      Vertex emit;
    };
    std::vector<Stuck> stuck;
    for (const Branch& b : p->branches) {
      for (const StmtPtr& sp : b.body) {
        if (!sp || sp->kind != StmtKind::WaitEvent) continue;
        auto* w = as<WaitEventStmt>(sp.get());
        if (w->within) continue;  // a deadline ends the wait
        std::string ev = w->event.str();
        if (emitted_outside(ev, k.entry->decl)) continue;
        std::optional<Vertex> first_after;
        bool elsewhere = false;
        for (Vertex v = 0; v < boost::num_vertices(k.pg.g); ++v) {
          const ir::GraphNode& node = k.pg.g[v];
          if (!node.stmt) continue;
          bool emits = (node.kind == NodeKind::Emit && as<ConstructStmt>(node.stmt)->type.str() == ev) ||
                       (node.kind == NodeKind::Signal && as<SignalStmt>(node.stmt)->event.str() == ev);
          if (!emits) continue;
          if (before[v] || !after[v])
            elsewhere = true;
          else if (!first_after)
            first_after = v;
        }
        if (!elsewhere && first_after) {
          stuck.push_back({w, *first_after});
          break;
        }
      }
    }
    if (stuck.empty() || n - stuck.size() >= needed) return;
    const Stuck& s = stuck.front();
    std::string ev = s.wait->event.str();
    std::string join = p->join == JoinKind::All   ? "join all"
                       : p->join == JoinKind::Any ? "join any"
                                                  : "join " + std::to_string(p->join_count);
    c_.diags
        .report(diag::Code::E0502, s.wait->span,
                "this branch waits for `" + ev + "`, which the process emits only after the `" + join +
                    "` that waits for this branch: the join can never continue")
        .note(p->join_span.valid() ? p->join_span : head_span(p), "the join waits for this branch here")
        .note(k.pg.g[s.emit].span, "`" + ev + "` is emitted only here, after the join")
        .with_hint(
            p->join == JoinKind::Any
                ? "emit the event before the `parallel`, or give the wait a deadline (`within …`)"
                : "emit the event before the `parallel`, give the wait a deadline (`within …`), or use "
                  "`join any`");
  }

  // Events something other than process `self` can produce: other processes, rules, lifecycle effects,
  // metric alerts, and federation peers (`receive`).
  void collect_outside_emitters() {
    auto from_block = [&](const Block& b, const Decl* owner) {
      ir::for_each_stmt(b, [&](const Stmt& s) {
        if (s.kind == StmtKind::Emit) outside_.push_back({as<ConstructStmt>(&s)->type.str(), owner});
        if (s.kind == StmtKind::Signal) outside_.push_back({as<SignalStmt>(&s)->event.str(), owner});
      });
    };
    std::function<void(const std::vector<DeclPtr>&)> scan = [&](const std::vector<DeclPtr>& decls) {
      for (const DeclPtr& d : decls) {
        if (!d) continue;
        switch (d->kind) {
          case DeclKind::Process: {
            auto* p = as<ProcessDecl>(d.get());
            from_block(p->body, p);
            from_block(p->on_failure, p);
            from_block(p->on_timeout, p);
            break;
          }
          case DeclKind::Rule:
            from_block(as<RuleDecl>(d.get())->actions, d.get());
            break;
          case DeclKind::Lifecycle:
            for (const Transition& t : as<LifecycleDecl>(d.get())->transitions)
              from_block(t.effects, d.get());
            break;
          case DeclKind::Metric:
            if (!as<MetricDecl>(d.get())->alert_event.empty())
              outside_.push_back({as<MetricDecl>(d.get())->alert_event.str(), d.get()});
            break;
          case DeclKind::Agreement:
            for (const AgreementItem& it : as<AgreementDecl>(d.get())->items)
              if (it.kind == AgreementItemKind::Receive) outside_.push_back({it.name.str(), d.get()});
            break;
          case DeclKind::Template:
            scan(as<TemplateDecl>(d.get())->decls);
            break;
          default:
            break;
        }
      }
    };
    for (const driver::ParsedFile& f : c_.files)
      if (f.module) scan(f.module->decls);
  }

  bool emitted_outside(const std::string& ev, const Decl* self) const {
    for (auto& [name, owner] : outside_)
      if (owner != self && same_event(name, ev)) return true;
    return false;
  }

  // ---- E0503: loop bounds and nesting.
  void loops(const Block& b, int depth, const Stmt* outermost) {
    for (const StmtPtr& sp : b) {
      const Stmt* s = sp.get();
      if (!s) continue;
      int d = depth;
      const Stmt* outer = outermost;
      if (s->kind == StmtKind::ForEach) {
        auto* f = as<ForEachStmt>(s);
        if (f->max < 0)
          c_.diags
              .report(diag::Code::E0503, f->max_span.valid() ? f->max_span : head_span(f),
                      "`max 0` lets this loop run no iteration at all")
              .with_hint("a loop bound is at least 1; leave `max` out for the default bound");
        d = depth + 1;
        if (!outer) outer = s;
        if (d == kMaxLoopNesting + 1)
          c_.diags
              .report(diag::Code::E0503, head_span(f),
                      "`for each` loops nest " + std::to_string(d) + " deep here; at most " +
                          std::to_string(kMaxLoopNesting) + " are allowed")
              .note(head_span(outer), "the outermost of the nested loops")
              .with_hint("move the inner loops into a sub-process that the loop body runs");
      }
      for (const Block* inner : nested(s)) {
        // A compensation runs on its own when the process fails, not inside the loops around its step.
        bool own = inner == &s->compensation;
        loops(*inner, own ? 0 : d, own ? nullptr : outer);
      }
    }
  }

  // ---- E0504: approval quorums.
  std::string text(Span s) const {
    if (!s.valid() || s.file >= c_.sources.size()) return "";
    const std::string& src = c_.sources.file(s.file).text;
    if (s.end > src.size() || s.end < s.begin) return "";
    return src.substr(s.begin, s.end - s.begin);
  }

  void quorums(const ProcessDecl& p) {
    ir::for_each_stmt(p, [&](const Stmt& s) {
      if (s.kind != StmtKind::Approval) return;
      const Quorum& q = as<ApprovalStmt>(&s)->quorum;
      std::string written = text(q.span);
      Span at = q.span.valid() ? q.span : s.span;
      if (q.kind == QuorumKind::Count) {
        // `2 of 0` and a plain `2` both leave `of` at 0: the source tells them apart.
        bool has_of = written.find(" of") != std::string::npos || written.find("\tof") != std::string::npos ||
                      written.find("\nof") != std::string::npos;
        if (q.n < 1)
          c_.diags
              .report(diag::Code::E0504, at,
                      "a quorum of " + std::to_string(q.n) + " approvals approves nothing")
              .with_hint("a quorum needs at least 1 approval");
        else if (has_of && q.of < 1)
          c_.diags
              .report(diag::Code::E0504, at,
                      "a quorum out of " + std::to_string(q.of) + " approvers can never be met")
              .with_hint("the approvers counted (`of M`) must be at least 1");
        else if (has_of && q.n > q.of)
          c_.diags
              .report(diag::Code::E0504, at,
                      "quorum " + std::to_string(q.n) + " of " + std::to_string(q.of) +
                          " needs more approvals than there are approvers")
              .with_hint("use at most " + std::to_string(q.of) + " approvals, or count more approvers");
      } else if (q.kind == QuorumKind::Percent) {
        std::string digits;
        for (char ch : written)
          if ((ch >= '0' && ch <= '9') || ch == '.') digits += ch;
        double v = digits.empty() ? static_cast<double>(q.n) : std::strtod(digits.c_str(), nullptr);
        if (v < 1 || v > 100)
          c_.diags
              .report(
                  diag::Code::E0504, at,
                  "quorum " + (written.empty() ? std::to_string(q.n) + "%" : written) + " is outside 1%–100%")
              .with_hint(v > 100 ? "`quorum 100%` (or `unanimous`) already needs every approver"
                                 : "a quorum needs at least 1% of the approvers");
      }
    });
  }

  // ---- E0501: sub-process loops without a wait.
  // A process "must wait" when every way to its normal end passes a wait (human steps wait too, and so
  // does running a process that must wait). A call is wait-free when start reaches it without passing a
  // wait. A cycle of wait-free `run`s (and bare calls) spins forever; `start` makes a new, separate
  // instance and is not part of it.
  static bool waits(NodeKind k) {
    return k == NodeKind::Task || k == NodeKind::Approval || k == NodeKind::WaitEvent ||
           k == NodeKind::WaitTimer || k == NodeKind::WaitUntil;
  }

  std::vector<bool> blocking(const Checked& k, const std::map<const ProcessDecl*, bool>& must_wait) const {
    std::vector<bool> stop(boost::num_vertices(k.pg.g));
    for (Vertex v = 0; v < stop.size(); ++v) {
      const ir::GraphNode& n = k.pg.g[v];
      auto mw = n.callee ? must_wait.find(n.callee) : must_wait.end();
      stop[v] = waits(n.kind) || (n.kind == NodeKind::Run && mw != must_wait.end() && mw->second);
    }
    return stop;
  }

  void call_loops() {
    std::map<const ProcessDecl*, bool> must_wait;
    std::map<const ProcessDecl*, size_t> index_of;
    for (size_t i = 0; i < graphs_.size(); ++i) {
      must_wait[graphs_[i].entry->decl] = false;
      index_of[graphs_[i].entry->decl] = i;
    }
    // Fixpoint on a worklist: once a process must wait, only the processes that run it can change.
    std::vector<std::vector<size_t>> callers(graphs_.size());
    for (size_t i = 0; i < graphs_.size(); ++i)
      for (Vertex v = 0; v < boost::num_vertices(graphs_[i].pg.g); ++v) {
        const ir::GraphNode& n = graphs_[i].pg.g[v];
        if (n.kind == NodeKind::Run && n.callee && index_of.count(n.callee))
          callers[index_of[n.callee]].push_back(i);
      }
    std::vector<size_t> work(graphs_.size());
    for (size_t i = 0; i < work.size(); ++i) work[i] = work.size() - 1 - i;
    while (!work.empty()) {
      size_t i = work.back();
      work.pop_back();
      const Checked& k = graphs_[i];
      if (must_wait[k.entry->decl]) continue;
      auto r = ir::reachable_stopping_at(k.pg.g, {k.pg.start}, blocking(k, must_wait));
      if (r[k.pg.end]) continue;
      must_wait[k.entry->decl] = true;
      for (size_t caller : callers[i])
        if (!must_wait[graphs_[caller].entry->decl]) work.push_back(caller);
    }
    // The graph of wait-free calls, one vertex per process.
    using G = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                    boost::property<boost::edge_name_t, const CallStmt*>>;
    G g(graphs_.size());
    for (size_t i = 0; i < graphs_.size(); ++i) {
      const Checked& k = graphs_[i];
      auto r = ir::reachable_stopping_at(k.pg.g, {k.pg.start}, blocking(k, must_wait));
      for (Vertex v = 0; v < r.size(); ++v) {
        const ir::GraphNode& n = k.pg.g[v];
        if (!r[v] || n.kind != NodeKind::Run || !n.callee || !index_of.count(n.callee)) continue;
        boost::add_edge(i, index_of[n.callee], as<CallStmt>(n.stmt), g);
      }
    }
    std::vector<size_t> comp(graphs_.size());
    size_t ncomp = graphs_.empty() ? 0 : boost::strong_components(g, &comp[0]);
    auto name_of = boost::get(boost::edge_name, g);
    for (size_t cid = 0; cid < ncomp; ++cid) {
      size_t root = graphs_.size();
      for (size_t i = 0; i < comp.size() && root == graphs_.size(); ++i)
        if (comp[i] == cid) root = i;
      // Breadth-first from the first-declared member, inside the component, to the call back to it.
      std::vector<std::optional<G::edge_descriptor>> via(graphs_.size());
      std::vector<bool> seen(graphs_.size());
      std::vector<size_t> queue{root};
      seen[root] = true;
      std::optional<G::edge_descriptor> closing;
      for (size_t qi = 0; qi < queue.size() && !closing; ++qi) {
        size_t u = queue[qi];
        for (auto [e, e_end] = boost::out_edges(u, g); e != e_end && !closing; ++e) {
          size_t t = boost::target(*e, g);
          if (comp[t] != cid) continue;
          if (t == root) {
            closing = *e;
          } else if (!seen[t]) {
            seen[t] = true;
            via[t] = *e;
            queue.push_back(t);
          }
        }
      }
      if (!closing) continue;  // a lone process that does not run itself
      std::vector<G::edge_descriptor> chain{*closing};
      for (size_t at = boost::source(*closing, g); at != root; at = boost::source(*via[at], g))
        chain.insert(chain.begin(), *via[at]);
      auto pname = [&](size_t i) { return graphs_[i].entry->decl->name.text; };
      const CallStmt* call = name_of[*closing];
      std::string message;
      if (chain.size() == 1) {
        message = "`" + pname(root) + "` runs itself before waiting for anything: it loops forever";
      } else {
        std::string path = pname(root);
        for (auto& e : chain) path += " → " + pname(boost::target(e, g));
        message = "`" + path + "` loops forever: no process on this cycle waits before running the next";
      }
      auto& d = c_.diags.report(diag::Code::E0501, call->callee.span.valid() ? call->callee.span : call->span,
                                message);
      for (size_t i = 0; i + 1 < chain.size(); ++i)
        d.note(name_of[chain[i]]->callee.span, "`" + pname(boost::source(chain[i], g)) + "` runs `" +
                                                   pname(boost::target(chain[i], g)) +
                                                   "` here, without waiting first");
      // Not `start` instead: a process that starts itself without waiting loops just the same, in new
      // instances (the engine undoes such an input at its instance limit).
      d.with_hint(
          "wait for something before the call (a task, an approval, `wait for …`, `wait 1d`); a repetition "
          "that needs no wait is a `for each`");
    }
  }

  driver::Compilation& c_;
  ir::ProcessIndex index_;
  std::vector<Checked> graphs_;
  std::vector<std::pair<std::string, const Decl*>> outside_;  // event name, who produces it
};

}  // namespace

void check_processes(driver::Compilation& c) {
  ProcessChecker(c).run();
}

}  // namespace orgos::sema
