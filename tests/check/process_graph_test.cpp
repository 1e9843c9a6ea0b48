// Process control-flow graphs (compiler/ir/process_graph) and the checks built on them
// (compiler/sema/process_checks): graph shapes, DOT output, the call graph, and the E05xx case programs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/process_graph.h"

namespace fs = std::filesystem;
using namespace orgos;
using ir::NodeKind;

namespace {

// A parsed program and the graph of one of its processes (names resolved across the program).
struct Built {
  std::unique_ptr<driver::Compilation> c;
  std::unique_ptr<ir::ProcessIndex> index;
  ir::ProcessGraph pg;
};

Built build(const std::string& text, const std::string& process) {
  Built b;
  b.c = driver::parse_text("test.org", text);
  EXPECT_FALSE(b.c->diags.has_errors()) << diag::render_all_text(b.c->sources, b.c->diags);
  b.index = std::make_unique<ir::ProcessIndex>(*b.c);
  auto found = b.index->find(process);
  EXPECT_EQ(found.size(), 1u) << process;
  if (found.size() != 1) return b;
  const ir::ProcessEntry* e = found.front();
  ir::GraphOptions o;
  o.resolve = [&b, e](const ast::CallStmt& call) { return b.index->resolve(*e, call.callee); };
  o.sources = &b.c->sources;
  b.pg = ir::build_process_graph(*e->decl, o);
  return b;
}

std::vector<ir::Vertex> of_kind(const ir::ProcessGraph& pg, NodeKind k) {
  std::vector<ir::Vertex> out;
  for (ir::Vertex v = 0; v < boost::num_vertices(pg.g); ++v)
    if (pg.g[v].kind == k) out.push_back(v);
  return out;
}

bool has_edge(const ir::ProcessGraph& pg, ir::Vertex a, ir::Vertex b, ir::EdgeKind k) {
  for (auto [e, end] = boost::out_edges(a, pg.g); e != end; ++e)
    if (boost::target(*e, pg.g) == b && pg.g[*e].kind == k) return true;
  return false;
}

// The E05xx codes (process checks) a program produces; other checks evolve separately.
std::multiset<std::string> process_codes(const driver::Compilation& c) {
  std::multiset<std::string> out;
  for (auto& d : c.diags.all()) {
    std::string code(diag::info(d.code).name);
    if (code.rfind("E05", 0) == 0) out.insert(code);
  }
  return out;
}

std::multiset<std::string> codes_of(const std::string& text) {
  return process_codes(*driver::check_text("test.org", text));
}

const char* kPrelude =
    "role Clerk {}\n"
    "record Item { n: Int }\n"
    "event item.ready { n: Int }\n"
    "connector ledger { op post(n: Int) }\n";

}  // namespace

TEST(ProcessGraph, SequenceDecisionsAndEnds) {
  auto b = build(
      std::string(kPrelude) +
          "process P(n: Int) {\n"
          "  task inspect by Clerk\n"
          "  if n > 1 { emit item.ready { n: n } }\n"
          "  switch n { case 1 => { wait 1d } case 2 => { fail \"two\" } else { notify \"x\" \"y\" } }\n"
          "}\n",
      "P");
  const auto& pg = b.pg;
  EXPECT_EQ(pg.g[pg.start].kind, NodeKind::Start);
  EXPECT_EQ(pg.g[pg.end].kind, NodeKind::End);
  EXPECT_EQ(pg.g[pg.fail_end].kind, NodeKind::FailEnd);
  auto decisions = of_kind(pg, NodeKind::Decision);
  ASSERT_EQ(decisions.size(), 2u);
  // The `if` has its then edge and an implicit else edge; the switch one edge per case plus else.
  EXPECT_EQ(boost::out_degree(decisions[0], pg.g), 2u);
  EXPECT_EQ(boost::out_degree(decisions[1], pg.g), 3u);
  EXPECT_EQ(pg.g[decisions[0]].label, "if n > 1");
  auto merges = of_kind(pg, NodeKind::Merge);
  ASSERT_EQ(merges.size(), 2u);
  // The failing case does not reach the switch's merge: two of three branches do.
  EXPECT_EQ(boost::in_degree(merges[1], pg.g), 2u);
  auto fails = of_kind(pg, NodeKind::Fail);
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_TRUE(has_edge(pg, fails[0], pg.fail_end, ir::EdgeKind::Next));
  EXPECT_EQ(boost::out_degree(fails[0], pg.g), 1u);
  EXPECT_TRUE(has_edge(pg, merges[1], pg.end, ir::EdgeKind::Next));
  auto live = ir::reachable(pg.g, pg.roots);
  EXPECT_TRUE(std::all_of(live.begin(), live.end(), [](bool x) { return x; }));
  auto to_end = ir::reachable(pg.g, {pg.end, pg.fail_end}, /*reverse=*/true);
  EXPECT_TRUE(std::all_of(to_end.begin(), to_end.end(), [](bool x) { return x; }));
}

TEST(ProcessGraph, ParallelLoopsAndUnreachableSteps) {
  auto b =
      build(std::string(kPrelude) +
                "process P(items: List<Item>) {\n"
                "  parallel join 2 { task a by Clerk  task b by Clerk  branch c { wait for item.ready } }\n"
                "  for each i in items max 5 { emit item.ready { n: i.n } }\n"
                "  complete\n"
                "  task never by Clerk\n"
                "  task never2 by Clerk\n"
                "}\n",
            "P");
  const auto& pg = b.pg;
  auto forks = of_kind(pg, NodeKind::Fork), joins = of_kind(pg, NodeKind::Join);
  ASSERT_EQ(forks.size(), 1u);
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(boost::out_degree(forks[0], pg.g), 3u);
  EXPECT_EQ(boost::in_degree(joins[0], pg.g), 3u);
  EXPECT_EQ(pg.g[joins[0]].join, ast::JoinKind::Count);
  EXPECT_EQ(pg.g[joins[0]].join_count, 2);
  EXPECT_EQ(pg.g[joins[0]].branches, 3u);
  auto heads = of_kind(pg, NodeKind::LoopHead);
  ASSERT_EQ(heads.size(), 1u);
  auto emits = of_kind(pg, NodeKind::Emit);
  ASSERT_EQ(emits.size(), 1u);
  EXPECT_TRUE(has_edge(pg, heads[0], emits[0], ir::EdgeKind::Body));
  EXPECT_TRUE(has_edge(pg, emits[0], heads[0], ir::EdgeKind::LoopBack));
  EXPECT_NE(pg.g[heads[0]].label.find("max 5"), std::string::npos);
  auto completes = of_kind(pg, NodeKind::Complete);
  ASSERT_EQ(completes.size(), 1u);
  EXPECT_TRUE(has_edge(pg, heads[0], completes[0], ir::EdgeKind::Exit));
  EXPECT_TRUE(has_edge(pg, completes[0], pg.end, ir::EdgeKind::Next));
  // The steps after `complete` are drawn but cannot be reached; the first records what cut it off.
  auto live = ir::reachable(pg.g, pg.roots);
  auto tasks = of_kind(pg, NodeKind::Task);
  ASSERT_EQ(tasks.size(), 4u);
  EXPECT_FALSE(live[tasks[2]]);
  EXPECT_FALSE(live[tasks[3]]);
  EXPECT_EQ(boost::in_degree(tasks[2], pg.g), 0u);
  ASSERT_EQ(pg.cut_by.count(pg.g[tasks[2]].stmt), 1u);
  EXPECT_EQ(pg.cut_by.at(pg.g[tasks[2]].stmt)->kind, ast::StmtKind::Complete);
  EXPECT_EQ(pg.cut_by.count(pg.g[tasks[3]].stmt), 0u);
}

TEST(ProcessGraph, HandlersTimeoutsAndCompensationsAreSubgraphs) {
  auto b = build(std::string(kPrelude) +
                     "process P(n: Int) {\n"
                     "  timeout 30d\n"
                     "  wait for item.ready within 2d on timeout { notify \"x\" \"late\" }\n"
                     "  call ledger.post(n) compensate { call ledger.post(0 - n) }\n"
                     "  on failure { notify \"x\" \"failed\" }\n"
                     "  on timeout { notify \"x\" \"timed out\" }\n"
                     "}\n",
                 "P");
  const auto& pg = b.pg;
  EXPECT_EQ(pg.roots.size(), 4u);  // start, on failure, on timeout, one compensation
  auto fh = of_kind(pg, NodeKind::FailureHandler), th = of_kind(pg, NodeKind::TimeoutHandler),
       comp = of_kind(pg, NodeKind::Compensation);
  ASSERT_EQ(fh.size(), 1u);
  ASSERT_EQ(th.size(), 1u);
  ASSERT_EQ(comp.size(), 1u);
  EXPECT_EQ(pg.g[fh[0]].label, "on failure");
  EXPECT_EQ(pg.g[comp[0]].label, "compensate: call ledger.post");
  // Handlers are not reachable from start, only from their own entry, and end in the failed end.
  auto from_start = ir::reachable(pg.g, {pg.start});
  EXPECT_FALSE(from_start[fh[0]]);
  EXPECT_FALSE(from_start[comp[0]]);
  auto from_handler = ir::reachable(pg.g, {fh[0]});
  EXPECT_TRUE(from_handler[pg.fail_end]);
  EXPECT_FALSE(from_handler[pg.end]);
  // The wait's deadline: a timeout edge into its block, which rejoins the normal path.
  auto waits = of_kind(pg, NodeKind::WaitEvent);
  ASSERT_EQ(waits.size(), 1u);
  bool timeout_edge = false;
  for (auto [e, end] = boost::out_edges(waits[0], pg.g); e != end; ++e)
    timeout_edge = timeout_edge || pg.g[*e].kind == ir::EdgeKind::Timeout;
  EXPECT_TRUE(timeout_edge);
  auto calls = of_kind(pg, NodeKind::Call);
  EXPECT_EQ(calls.size(), 2u);  // the step and the one in its compensation
  EXPECT_EQ(boost::in_degree(calls[0], pg.g), 2u);
}

TEST(ProcessGraph, DotHasShapesAndEscapedLabels) {
  auto b = build(std::string(kPrelude) +
                     "process P(n: Int) {\n"
                     "  task review by Clerk\n"
                     "  if n > 1 { fail \"too \\\"big\\\"\" }\n"
                     "  parallel { task a by Clerk  task b by Clerk }\n"
                     "}\n",
                 "P");
  std::string dot = ir::to_dot(b.pg);
  EXPECT_EQ(dot.rfind("digraph", 0), 0u) << dot;
  EXPECT_NE(dot.find("label=\"process P\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("task review\\nby Clerk"), std::string::npos) << dot;
  EXPECT_NE(dot.find("shape=diamond"), std::string::npos);
  EXPECT_NE(dot.find("shape=circle"), std::string::npos);
  EXPECT_NE(dot.find("shape=doublecircle"), std::string::npos);
  EXPECT_NE(dot.find("style=\"filled,bold\""), std::string::npos);  // human steps
  EXPECT_NE(dot.find("height=0.15"), std::string::npos);            // fork and join bars
  EXPECT_NE(dot.find("fail \\\"too \\\\\\\"big\\\\\\\"\\\"\""), std::string::npos) << dot;
}

TEST(ProcessGraph, CallGraphCountsRunBareCallsAndStartButNotConnectors) {
  auto c = driver::parse_text("test.org",
                              std::string(kPrelude) +
                                  "process A(n: Int) { run B(n)  C(n)  start A(n)  ledger.post(n) }\n"
                                  "process B(n: Int) { wait 1d }\n"
                                  "process C(n: Int) { call ledger.post(n) }\n"
                                  "template Shop(n: Int) { process Inner(k: Int) { run Inner(k) } }\n");
  ir::ProcessIndex index(*c);
  ASSERT_EQ(index.all().size(), 4u);
  EXPECT_EQ(index.all()[3].qualified, "main.Shop.Inner");
  auto cg = ir::build_call_graph(index);
  std::multiset<std::pair<std::string, ir::CallKind>> edges;
  for (auto [e, end] = boost::edges(cg.g); e != end; ++e)
    edges.insert(
        {cg.g[boost::source(*e, cg.g)].name + "->" + cg.g[boost::target(*e, cg.g)].name, cg.g[*e].kind});
  std::multiset<std::pair<std::string, ir::CallKind>> want = {
      {"main.A->main.B", ir::CallKind::Run},
      {"main.A->main.C", ir::CallKind::Bare},
      {"main.A->main.A", ir::CallKind::Start},
      {"main.Shop.Inner->main.Shop.Inner", ir::CallKind::Run}};
  EXPECT_EQ(edges, want);
  EXPECT_NE(ir::to_dot(cg).find("digraph"), std::string::npos);
  EXPECT_EQ(index.find("Inner").size(), 1u);
  EXPECT_EQ(index.find("main.A").size(), 1u);
  EXPECT_TRUE(index.find("Nope").empty());
}

TEST(ProcessChecks, CaseFilesProduceExactlyTheirProcessCodes) {
  fs::path dir = fs::path(ORGOS_SOURCE_DIR) / "tests" / "check" / "cases";
  for (const char* name :
       {"E0500_unreachable.org", "E0501_loop.org", "E0502_join.org", "E0503_bound.org", "E0504_quorum.org"}) {
    std::ifstream in(dir / name);
    ASSERT_TRUE(in) << name;
    std::string first;
    std::getline(in, first);
    ASSERT_EQ(first.rfind("// expect:", 0), 0u) << name;
    std::multiset<std::string> want;
    std::istringstream words(first.substr(10));
    for (std::string w; words >> w;) want.insert(w);
    driver::CheckOptions o;
    o.inputs = {(dir / name).string()};
    o.stdlib_dir = (dir / "stdlib").string();
    auto c = driver::check(o);
    EXPECT_EQ(process_codes(*c), want) << name << "\n" << diag::render_all_text(c->sources, c->diags);
  }
}

TEST(ProcessChecks, ValidProgramsHaveNoProcessDiagnostics) {
  for (const char* rel : {"tests/check/cases/valid_program.org", "examples/language-tour"}) {
    driver::CheckOptions o;
    o.inputs = {(fs::path(ORGOS_SOURCE_DIR) / rel).string()};
    auto c = driver::check(o);
    EXPECT_TRUE(process_codes(*c).empty()) << rel << "\n" << diag::render_all_text(c->sources, c->diags);
  }
}

TEST(ProcessChecks, UnreachableRunIsOneDiagnosticWithANoteAtTheCut) {
  auto c = driver::check_text("test.org", std::string(kPrelude) +
                                              "process P(n: Int) {\n"
                                              "  fail \"stop\"\n"
                                              "  task a by Clerk\n"
                                              "  task b by Clerk\n"
                                              "}\n");
  std::vector<const diag::Diagnostic*> e0500;
  for (auto& d : c->diags.all())
    if (d.code == diag::Code::E0500) e0500.push_back(&d);
  ASSERT_EQ(e0500.size(), 1u);
  EXPECT_EQ(e0500[0]->span.line, 7u);
  ASSERT_EQ(e0500[0]->notes.size(), 1u);
  EXPECT_EQ(e0500[0]->notes[0].span.line, 6u);
  EXPECT_FALSE(e0500[0]->hint.empty());
}

TEST(ProcessChecks, WaitsAndStartsBreakSubprocessLoops) {
  // A waits by running B, which always waits before it ends.
  EXPECT_TRUE(codes_of(std::string(kPrelude) + "process A(n: Int) { run B(n)  run A(n) }\n"
                                               "process B(n: Int) { task t by Clerk }\n")
                  .empty());
  // Only one branch of B waits: A can run itself again without waiting.
  EXPECT_EQ(codes_of(std::string(kPrelude) + "process A(n: Int) { run B(n)  run A(n) }\n"
                                             "process B(n: Int) { if n > 1 { task t by Clerk } }\n"),
            std::multiset<std::string>{"E0501"});
  // Three processes in a cycle: one diagnostic, with the chain in its notes.
  auto c = driver::check_text("test.org", std::string(kPrelude) +
                                              "process A(n: Int) { run B(n) }\n"
                                              "process B(n: Int) { run C(n) }\n"
                                              "process C(n: Int) { emit item.ready { n: n }  run A(n) }\n");
  ASSERT_EQ(process_codes(*c), std::multiset<std::string>{"E0501"});
  for (auto& d : c->diags.all())
    if (d.code == diag::Code::E0501) {
      EXPECT_NE(d.message.find("A → B → C → A"), std::string::npos) << d.message;
      EXPECT_EQ(d.notes.size(), 2u);
    }
}

TEST(ProcessChecks, JoinDeadlockNeedsTheOnlyEmitterAfterTheJoin) {
  std::string waits_then_emits =
      "process P(n: Int) {\n"
      "  parallel { branch w { wait for item.ready }  task t by Clerk }\n"
      "  emit item.ready { n: n }\n"
      "}\n";
  EXPECT_EQ(codes_of(std::string(kPrelude) + waits_then_emits), std::multiset<std::string>{"E0502"});
  // Emitted before the join too, or by someone else: the event can arrive.
  EXPECT_TRUE(codes_of(std::string(kPrelude) +
                       "process P(n: Int) {\n"
                       "  emit item.ready { n: n }\n"
                       "  parallel { branch w { wait for item.ready }  task t by Clerk }\n"
                       "  emit item.ready { n: n }\n"
                       "}\n")
                  .empty());
  EXPECT_TRUE(
      codes_of(std::string(kPrelude) + waits_then_emits + "process Q(n: Int) { emit item.ready { n: n } }\n")
          .empty());
  // `join 2` of three branches still continues without the waiting one; `join any` too.
  EXPECT_TRUE(
      codes_of(std::string(kPrelude) +
               "process P(n: Int) {\n"
               "  parallel join 2 { branch w { wait for item.ready }  task t by Clerk  task u by Clerk }\n"
               "  emit item.ready { n: n }\n"
               "}\n")
          .empty());
}

TEST(ProcessChecks, LoopNestingCountsOnlyLoopsAndReportsOnce) {
  std::string deep = "process P(items: List<Item>) {\n";
  for (int i = 0; i < 7; ++i) deep += "for each x" + std::to_string(i) + " in items {\n";
  deep += "emit item.ready { n: x0.n }\n";
  for (int i = 0; i < 7; ++i) deep += "}\n";
  deep += "}\n";
  EXPECT_EQ(codes_of(std::string(kPrelude) + deep), std::multiset<std::string>{"E0503"});
  std::string four = "process P(items: List<Item>) {\n";
  for (int i = 0; i < 4; ++i) four += "for each x" + std::to_string(i) + " in items { if x0.n > 1 {\n";
  four += "emit item.ready { n: x0.n }\n";
  for (int i = 0; i < 4; ++i) four += "} }\n";
  four += "}\n";
  EXPECT_TRUE(codes_of(std::string(kPrelude) + four).empty());
}
