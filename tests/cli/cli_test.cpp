// orgctl as a user runs it: a real process, its exit code and its output.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/temp_dir.h"

namespace {
struct Run {
  int code;
  std::string out;
};
Run run(const std::string& args) {
  std::string cmd = std::string(ORGCTL_PATH) + " " + args + " 2>&1";
  Run r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}
// A KPI's value in `orgctl metrics --json` output (an array of KPIs, as the server's metrics.get); "" when
// the output is not that or has no such KPI.
std::string kpi(const std::string& out, const std::string& name) {
  auto from = out.find('['), to = out.rfind(']');  // the output may carry stderr lines too
  if (from == std::string::npos || to == std::string::npos || to < from) return "";
  auto j = nlohmann::json::parse(out.substr(from, to - from + 1), nullptr, false);
  if (!j.is_array()) return "";
  for (auto& k : j)
    if (k.is_object() && k.value("name", "") == name) return k.value("value", "");
  return "";
}
}  // namespace

TEST(Cli, VersionAndHelp) {
  auto v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("orgctl 0."), std::string::npos);
  auto h = run("check --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("Examples:"), std::string::npos);
}

TEST(Cli, UnknownVerbOrFlagIsUsageError) {
  EXPECT_EQ(run("frobnicate").code, 2);
  EXPECT_EQ(run("check --no-such-flag x.org").code, 2);
}

TEST(Cli, CheckExitsOneOnMissingFile) {
  auto r = run("check /nonexistent/file.org");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;
}

TEST(Cli, CheckStructurePrintsDerivedSubsidiaries) {
  orgos_test::TempDir tmp("orgctl-structure");
  std::string dir = tmp.path().string();
  std::string file = dir + "/group.org";
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  FILE* f = fopen(file.c_str(), "w");
  fputs("org Holding { owns OpCo 80% owns Target 30% }\norg OpCo { owns Target 25% }\norg Target {}\n", f);
  fclose(f);
  auto r = run("check " + file + " --structure");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("subsidiary Target — look-through ownership 50%"), std::string::npos) << r.out;
  auto j = run("check " + file + " --structure --json");
  EXPECT_NE(j.out.find("\"parent\": \"Holding\""), std::string::npos) << j.out;
}

TEST(Cli, CompileWritesABundleAndReusesItUntilTheSourcesChange) {
  orgos_test::TempDir tmp("orgctl-compile");
  std::string dir = tmp.path().string();
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  FILE* f = fopen((dir + "/orgos.yaml").c_str(), "w");
  fputs("name: demo\nversion: 0.1.0\n", f);
  fclose(f);
  f = fopen((dir + "/main.org").c_str(), "w");
  fputs("fn double(x: Int) -> Int = x * 2\nmetric m = double(21)\n", f);
  fclose(f);
  auto first = run("compile " + dir);
  EXPECT_EQ(first.code, 0) << first.out;
  EXPECT_NE(first.out.find("compiled:"), std::string::npos) << first.out;
  auto second = run("compile " + dir);
  EXPECT_NE(second.out.find("up to date:"), std::string::npos) << second.out;
  f = fopen((dir + "/main.org").c_str(), "a");
  fputs("// changed\n", f);
  fclose(f);
  EXPECT_NE(run("compile " + dir).out.find("compiled:"), std::string::npos);
  // A damaged bundle is not trusted: it is rebuilt.
  f = fopen((dir + "/.orgos/bundle.orgb").c_str(), "r+");
  fseek(f, 20, SEEK_SET);
  fputc('!', f);
  fclose(f);
  EXPECT_NE(run("compile " + dir).out.find("compiled:"), std::string::npos);
  // Sources with errors: exit 1, no bundle change.
  f = fopen((dir + "/main.org").c_str(), "a");
  fputs("fn broken() -> Int = \"text\"\n", f);
  fclose(f);
  EXPECT_EQ(run("compile " + dir).code, 1);
}

TEST(Cli, RunLoadsTheBundleAndEvaluatesMetrics) {
  orgos_test::TempDir tmp("orgctl-run");
  std::string dir = tmp.path().string();
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  FILE* f = fopen((dir + "/main.org").c_str(), "w");
  fputs(
      "fn double(x: Int) -> Int = x * 2\nmetric answer = double(21) target == 42\n"
      "metric broken = 1 / (double(0))\n",
      f);
  fclose(f);
  auto r = run("run " + dir + "/main.org --timing");
  EXPECT_NE(r.out.find("answer = 42"), std::string::npos) << r.out;
  // A run-time error names the metric and makes the run fail.
  EXPECT_NE(r.out.find("broken = error: division by zero"), std::string::npos) << r.out;
  EXPECT_EQ(r.code, 1);
  auto again = run("run " + dir + "/main.org --timing");
  EXPECT_NE(again.out.find("loaded cached bundle"), std::string::npos) << again.out;
  EXPECT_EQ(run("run " + dir + "/main.org --engine llvm").code, 2);  // unknown engine: usage error
}

namespace {
// A temporary project folder holding one file, removed when the test ends.
struct GraphProject {
  orgos_test::TempDir tmp{"orgctl-graph"};
  std::string dir = tmp.path().string();
  explicit GraphProject(const std::string& text) {
    std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
    FILE* f = fopen((dir + "/main.org").c_str(), "w");
    fputs(text.c_str(), f);
    fclose(f);
  }
};
const char* kGraphProgram =
    "role Clerk {}\n"
    "event order.placed { id: String }\n"
    "process Fulfil(id: String) {\n"
    "  task pack by Clerk\n"
    "  if id == \"\" { fail \"no id\" }\n"
    "  parallel { task a by Clerk  task b by Clerk }\n"
    "  emit order.placed { id: id }\n"
    "}\n";
}  // namespace

TEST(Cli, GraphPrintsDotOfAKnownProcess) {
  GraphProject p(kGraphProgram);
  auto r = run("graph Fulfil " + p.dir);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("digraph"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("task pack"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shape=diamond"), std::string::npos) << r.out;
  // Package-qualified, and into a .dot file.
  auto f = run("graph main.Fulfil " + p.dir + " -o " + p.dir + "/fulfil.dot");
  EXPECT_EQ(f.code, 0) << f.out;
  FILE* in = fopen((p.dir + "/fulfil.dot").c_str(), "r");
  ASSERT_NE(in, nullptr);
  std::array<char, 8> head{};
  EXPECT_EQ(fread(head.data(), 1, 7, in), 7u);
  fclose(in);
  EXPECT_EQ(std::string(head.data()), "digraph");
  EXPECT_NE(run("graph --help").out.find("Examples:"), std::string::npos);
}

TEST(Cli, GraphOfAnUnknownProcessExitsOneWithTheClosestNames) {
  GraphProject p(kGraphProgram);
  auto r = run("graph Fulfill " + p.dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no process named `Fulfill`"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("did you mean `Fulfil`?"), std::string::npos) << r.out;
}

TEST(Cli, GraphOfSourcesWithErrorsExitsOne) {
  GraphProject p(std::string(kGraphProgram) + "process Broken() { run Nowhere() }\n");
  auto r = run("graph Fulfil " + p.dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("error["), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("digraph"), std::string::npos) << r.out;
}

TEST(Cli, GraphOutputFormats) {
  GraphProject p(kGraphProgram);
  EXPECT_EQ(run("graph Fulfil " + p.dir + " -o " + p.dir + "/fulfil.png").code, 2);
  // SVG goes through Graphviz's `dot`; without it on PATH the command says so and exits 3.
  std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", (p.dir + "/no-bin").c_str(), 1);
  auto r = run("graph Fulfil " + p.dir + " -o " + p.dir + "/fulfil.svg");
  setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("graphviz"), std::string::npos) << r.out;
}

TEST(Cli, RunOnAStoreResumesAndTheAuditChainVerifies) {
  orgos_test::TempDir tmp("orgctl-audit");
  std::string dir = tmp.path().string();
  std::string acme = std::string(ORGOS_SOURCE_DIR) + "/examples/language-tour";
  ASSERT_EQ(
      std::system(
          ("rm -rf " + dir + " && mkdir -p " + dir + " && cp -r " + acme + " " + dir + "/acme").c_str()),
      0);
  auto first = run("run " + dir + "/acme --db " + dir + "/state.db");
  EXPECT_EQ(first.code, 0) << first.out;
  // Running again on the same store applies nothing twice: every step is already in the log.
  auto again = run("run " + dir + "/acme --db " + dir + "/state.db -q");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("already in the store: resumed"), std::string::npos) << again.out;
  auto ok = run("audit verify --db " + dir + "/state.db");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("audit chain intact"), std::string::npos) << ok.out;
  auto exported = run("audit export --db " + dir + "/state.db");
  EXPECT_NE(exported.out.find("\"decision\":\"refused\""), std::string::npos) << exported.out;
  // Edit one entry behind the engine's back: verify names it and fails.
  ASSERT_EQ(
      std::system(
          ("sqlite3 " + dir +
           "/state.db \"UPDATE audit SET decision='forged' WHERE seq=2\" 2>/dev/null || "
           "python3 -c \"import sqlite3; c=sqlite3.connect('" +
           dir +
           "/state.db'); c.execute(\\\"UPDATE audit SET decision='forged' WHERE seq=2\\\"); c.commit()\"")
              .c_str()),
      0);
  auto bad = run("audit verify --db " + dir + "/state.db");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("entry 2"), std::string::npos) << bad.out;
  EXPECT_EQ(run("audit verify --db " + dir + "/missing.db").code, 3);
}

TEST(Cli, NewProjectFromATemplateChecksAndRunsAtOnce) {
  orgos_test::TempDir tmp("orgctl-new");
  std::string dir = tmp.path().string();
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  for (const char* t : {"for-profit/startup", "non-profit"}) {
    std::string proj = dir + "/" + (std::string(t) == "non-profit" ? "hope-trust" : "acme");
    auto r = run("new " + proj + " --template " + t);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(run("check " + proj).code, 0);
    auto ran = run("run " + proj + " -q");
    EXPECT_EQ(ran.code, 0) << ran.out;
  }
  FILE* f = fopen((dir + "/hope-trust/org.org").c_str(), "r");
  char buf[4096] = {0};
  fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  EXPECT_NE(std::string(buf).find("org HopeTrust {"), std::string::npos);
  EXPECT_EQ(run("new " + dir + "/acme").code, 1);  // exists
  auto unknown = run("new " + dir + "/x --template nope");
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.out.find("available templates"), std::string::npos);
}

TEST(Cli, InstancesAndMetricsOfAStore) {
  orgos_test::TempDir tmp("orgctl-inst");
  std::string dir = tmp.path().string();
  std::string acme = std::string(ORGOS_SOURCE_DIR) + "/examples/acme";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  ASSERT_EQ(run("run " + acme + " --db " + dir + "/s.db -q").code, 0);
  auto list = run("instances list " + acme + " --db " + dir + "/s.db --json");
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("\"process\": \"Onboarding\""), std::string::npos) << list.out;
  auto show = run("instances show 1 " + acme + " --db " + dir + "/s.db");
  EXPECT_NE(show.out.find("start Recruit #1"), std::string::npos) << show.out;
  EXPECT_EQ(run("instances show 999999 " + acme + " --db " + dir + "/s.db").code, 1);
  // Metrics read from the store after a restart still count the events that happened.
  auto m = run("metrics " + acme + " --db " + dir + "/s.db --json");
  EXPECT_EQ(kpi(m.out, "people_hired"), "5") << m.out;
  EXPECT_EQ(run("metrics " + acme + " --db " + dir + "/none.db").code, 3);
}

// `explain` on the language tour's store: Vendor #51 is the vendor that
// `unwatched_unapproved` fires on in the run's trace, and that `watch_risky` no longer matches once it
// was rescored.
TEST(Cli, ExplainSaysWhyARuleFiredOrNot) {
  namespace fs = std::filesystem;
  orgos_test::TempDir tmp("orgctl-explain");
  fs::path dir = tmp.path();
  std::string tour = std::string(ORGOS_SOURCE_DIR) + "/examples/language-tour";
  std::string db = " --db " + (dir / "s.db").string();
  auto trace = run("run " + tour + db);
  ASSERT_EQ(trace.code, 0) << trace.out;
  ASSERT_NE(trace.out.find("rule unwatched_unapproved fires on Vendor #51"), std::string::npos) << trace.out;

  auto fired = run("explain unwatched_unapproved 51 " + tour + db);
  EXPECT_EQ(fired.code, 0) << fired.out;
  EXPECT_NE(fired.out.find("Vendor #51"), std::string::npos) << fired.out;
  EXPECT_NE(fired.out.find("pattern 2: not Watch"), std::string::npos) << fired.out;
  EXPECT_NE(fired.out.find("match unwatched_unapproved:51: fired"), std::string::npos) << fired.out;

  auto not_fired = run("explain watch_risky 51 " + tour + db + " --json");
  EXPECT_EQ(not_fired.code, 0) << not_fired.out;
  EXPECT_NE(not_fired.out.find("\"type\": \"Vendor\""), std::string::npos) << not_fired.out;
  EXPECT_NE(not_fired.out.find("the fact fails its own condition (line 305)"), std::string::npos)
      << not_fired.out;
  EXPECT_NE(not_fired.out.find("the rule does not fire for it"), std::string::npos) << not_fired.out;
  // --json carries the answer as data too.
  auto j = nlohmann::json::parse(not_fired.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << not_fired.out;
  EXPECT_EQ(j["fires"], false);
  EXPECT_EQ(j["in_working_memory"], true);
  ASSERT_TRUE(j["patterns"].is_array() && !j["patterns"].empty()) << not_fired.out;
  EXPECT_EQ(j["patterns"][0]["verdict"], "fails_condition") << not_fired.out;
  EXPECT_EQ(j["patterns"][0]["line"], 305) << not_fired.out;
  EXPECT_TRUE(j["matches"].empty());
  auto fired_json = nlohmann::json::parse(run("explain unwatched_unapproved 51 " + tour + db + " --json").out,
                                          nullptr, false);
  ASSERT_FALSE(fired_json.is_discarded());
  EXPECT_EQ(fired_json["fires"], true);
  EXPECT_EQ(fired_json["matches"][0]["key"], "unwatched_unapproved:51");
  EXPECT_EQ(fired_json["matches"][0]["state"], "fired");
  EXPECT_EQ(fired_json["patterns"][1]["kind"], "not");

  // Bad input: each names what is unknown, exits non-zero and leaves the store as it was.
  auto before = fs::file_size(dir / "s.db");
  auto rule = run("explain no_such_rule 51 " + tour + db);
  EXPECT_EQ(rule.code, 1);
  EXPECT_NE(rule.out.find("no rule `no_such_rule`"), std::string::npos) << rule.out;
  EXPECT_NE(rule.out.find("watch_risky"), std::string::npos) << rule.out;  // the known rules are listed
  auto fact = run("explain watch_risky 999999 " + tour + db);
  EXPECT_EQ(fact.code, 1);
  EXPECT_NE(fact.out.find("no record #999999 in the store"), std::string::npos) << fact.out;
  auto store = run("explain watch_risky 51 " + tour + " --db " + (dir / "none.db").string());
  EXPECT_EQ(store.code, 3);
  EXPECT_NE(store.out.find("no store at"), std::string::npos) << store.out;
  EXPECT_FALSE(fs::exists(dir / "none.db"));
  EXPECT_EQ(run("explain watch_risky " + tour + db).code, 2);  // no record id: usage
  EXPECT_EQ(fs::file_size(dir / "s.db"), before);
}

namespace {
// A temporary folder for the fmt tests, removed when the test ends.
struct FmtDir {
  orgos_test::TempDir tmp{"orgctl-fmt"};
  std::string dir = tmp.path().string();
  FmtDir() { std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()); }
  void write(const std::string& name, const std::string& text) const {
    std::string path = dir + "/" + name;
    std::system(("mkdir -p \"$(dirname " + path + ")\"").c_str());
    FILE* f = fopen(path.c_str(), "wb");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
  }
  std::string read(const std::string& name) const {
    std::string out;
    FILE* f = fopen((dir + "/" + name).c_str(), "rb");
    if (!f) return "<missing>";
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
    fclose(f);
    return out;
  }
  // Every entry below the folder, hidden ones included: a rewrite must leave no temporary file behind.
  std::string listing() const {
    std::string out;
    FILE* p = popen(("cd " + dir + " && find . | sort").c_str(), "r");
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    pclose(p);
    return out;
  }
};
const char* kUnformatted =
    "record Expense{\namount:Money   // how much\n\n\n  check amount>0USD:\"positive\"}\n";
const char* kFormatted =
    "record Expense {\n  amount: Money // how much\n\n  check amount > 0 USD: \"positive\" }\n";
}  // namespace

TEST(Cli, FmtCheckListsUnformattedFilesAndChangesNothing) {
  FmtDir d;
  d.write("a.org", kUnformatted);
  d.write("sub/b.org", kFormatted);
  auto r = run("fmt --check " + d.dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(d.dir + "/a.org\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("b.org\n"), std::string::npos) << r.out;
  EXPECT_EQ(d.read("a.org"), kUnformatted);
  auto clean = run("fmt --check " + d.dir + "/sub/b.org");
  EXPECT_EQ(clean.code, 0) << clean.out;
  EXPECT_NE(clean.out.find("ok: 1 file"), std::string::npos) << clean.out;
}

TEST(Cli, FmtRewritesAtomicallyAndASecondRunChangesNothing) {
  FmtDir d;
  d.write("a.org", kUnformatted);
  d.write(".hidden/h.org", kUnformatted);  // hidden folders and build trees are not the user's sources
  d.write("build/gen.org", kUnformatted);
  std::string before = d.listing();
  auto r = run("fmt " + d.dir);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("formatted " + d.dir + "/a.org"), std::string::npos) << r.out;
  EXPECT_EQ(d.read("a.org"), kFormatted);
  EXPECT_EQ(d.read(".hidden/h.org"), kUnformatted);
  EXPECT_EQ(d.read("build/gen.org"), kUnformatted);
  EXPECT_EQ(d.listing(), before);  // no temporary file left next to it
  auto again = run("fmt " + d.dir + "/a.org");
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("0 reformatted, 1 already formatted"), std::string::npos) << again.out;
  EXPECT_EQ(d.read("a.org"), kFormatted);
  EXPECT_EQ(run("fmt --check " + d.dir + "/a.org").code, 0);
  // --stdout prints the canonical text and leaves the file alone.
  d.write("c.org", kUnformatted);
  auto printed = run("fmt --stdout " + d.dir + "/c.org");
  EXPECT_EQ(printed.code, 0) << printed.out;
  EXPECT_EQ(printed.out, kFormatted);
  EXPECT_EQ(d.read("c.org"), kUnformatted);
  EXPECT_EQ(run("fmt --stdout " + d.dir).code, 2);  // several files: one --stdout cannot hold them
}

TEST(Cli, FmtLeavesAFileWithSyntaxErrorsUnchanged) {
  FmtDir d;
  const char* broken = "record A { amount: }\n\n\n   process   P {}\n";
  d.write("bad.org", broken);
  d.write("good.org", kUnformatted);
  auto r = run("fmt " + d.dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("bad.org:1:20: error[E0001]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("left unchanged"), std::string::npos) << r.out;
  EXPECT_EQ(d.read("bad.org"), broken);
  EXPECT_EQ(d.read("good.org"), kFormatted);  // the other files are still formatted
  EXPECT_EQ(run("fmt --check " + d.dir + "/bad.org").code, 1);
  EXPECT_EQ(d.read("bad.org"), broken);
}

TEST(Cli, FmtOfAMissingPathExitsOne) {
  auto r = run("fmt /nonexistent/file.org");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/file.org: no such file or directory"), std::string::npos) << r.out;
  EXPECT_EQ(run("fmt --check --stdout x.org").code, 2);
  EXPECT_EQ(run("fmt").code, 2);
  auto h = run("fmt --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("Examples:"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("Exit codes:"), std::string::npos) << h.out;
}

TEST(Cli, ShippedSourcesAreInCanonicalForm) {
  // What the project ships is what `orgctl fmt` would write: users copy from it.
  std::string root = ORGOS_SOURCE_DIR;
  auto r = run("fmt --check " + root + "/stdlib " + root + "/templates " + root + "/examples");
  EXPECT_EQ(r.code, 0) << r.out;
}

// Native code and the interpreter run the 90-day example to the same trace and KPIs; an unknown engine is
// a usage error.
TEST(Cli, RunUnderBothEnginesGivesTheSameOutput) {
  std::string acme = std::string(ORGOS_SOURCE_DIR) + "/examples/acme";
  auto jit = run("run " + acme + " --engine jit");
  auto interp = run("run " + acme + " --engine interp");
  EXPECT_EQ(jit.code, 0) << jit.out;
  EXPECT_EQ(interp.code, 0) << interp.out;
  EXPECT_EQ(jit.out, interp.out);
  EXPECT_GT(jit.out.size(), 1000u);
  auto bad = run("run " + acme + " --engine fast");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--engine"), std::string::npos) << bad.out;
}

namespace {
// A project for the server verbs: clerks who may post orders and pack them, and bob who may do neither.
struct ShopProject {
  std::filesystem::path dir;
  ShopProject() {
    dir = std::filesystem::temp_directory_path() / ("orgctl-shop-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    write("orgos.yaml", "name: shop\nversion: 0.1.0\n");
    write("shop.org",
          "role Clerk { may post }\nrole Boss {}\nevent order.placed { ref: String }\n"
          "org Shop {\n  units { department Sales }\n  position a: Clerk in Sales held by \"ann\"\n"
          "  position c: Clerk in Sales held by \"cid\"\n  position b: Boss in Sales held by \"bob\"\n}\n"
          "process Fulfil(ref: String) {\n  task pack by Clerk outcomes packed, lost\n}\n"
          "rule on_order when order.placed e then start Fulfil(e.ref)\n"
          "metric orders = count(e in order.placed)\n"
          "event refund.asked { ref: String }\nprocess Refund(ref: String) {\n  approval by Boss\n}\n"
          "rule on_refund when refund.asked e then start Refund(e.ref)\n");
  }
  ~ShopProject() { std::filesystem::remove_all(dir); }
  void write(const std::string& name, const std::string& text) const {
    FILE* f = fopen((dir / name).c_str(), "wb");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
  }
  std::string db() const { return (dir / "shop.db").string(); }
  std::string path() const { return dir.string(); }
};

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// The first task's id in `tasks list --json` output (ids are shared with instances, so not 1).
std::string first_id(const std::string& json) {
  auto p = json.find("\"id\": ");
  if (p == std::string::npos) return "0";
  p += 6;
  return json.substr(p, json.find_first_not_of("0123456789", p) - p);
}

// `orgctl serve` as a child process: its stdout is read until it says where it listens.
struct Serving {
  pid_t pid = -1;
  std::string url, events;
  // `args`: the listen address and what else the test gives serve.
  explicit Serving(const ShopProject& p, std::vector<std::string> args = {"--listen", "tcp://127.0.0.1:0"}) {
    int fds[2];
    if (pipe(fds) != 0) return;
    std::vector<std::string> all = {"orgctl", "serve", p.path(), "--db", p.db(), "--engine", "interp"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      execv(ORGCTL_PATH, argv.data());
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[512];
    while (url.empty() && fgets(line, sizeof line, out)) {
      std::string l(line);
      if (!l.empty() && l.back() == '\n') l.pop_back();
      if (l.rfind("serving on ", 0) == 0) url = l.substr(11);
      if (l.rfind("events on ", 0) == 0) events = l.substr(10);
    }
    fclose(out);
  }
  // SIGTERM, as a service manager stops it; the exit code.
  int stop() {
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  ~Serving() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};
}  // namespace

TEST(Cli, TokenAddListRevoke) {
  ShopProject p;
  auto add = run("token add ann --db " + p.db());
  ASSERT_EQ(add.code, 0) << add.out;
  EXPECT_EQ(first_line(add.out).rfind("orgos_", 0), 0u) << add.out;
  EXPECT_EQ(first_line(add.out).size(), 6u + 64u) << add.out;
  auto list = run("token list --db " + p.db() + " --json");
  EXPECT_NE(list.out.find("\"actor\": \"ann\""), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(first_line(add.out)), std::string::npos) << "the token itself is never listed";
  EXPECT_EQ(run("token revoke 1 --db " + p.db()).code, 0);
  EXPECT_NE(run("token list --db " + p.db()).out.find("revoked"), std::string::npos);
  auto none = run("token revoke 99 --db " + p.db());
  EXPECT_EQ(none.code, 1) << none.out;
  EXPECT_NE(none.out.find("token list"), std::string::npos) << none.out;
  EXPECT_EQ(run("token list --db " + p.path() + "/missing.db").code, 3);
  EXPECT_EQ(run("token add --db " + p.db()).code, 2);
}

// The whole loop through a real server process: post an event, see its task, claim and complete it, read
// instances, metrics and the event stream; wrong tokens and out-of-order commands are refused with their
// codes; SIGTERM stops the server cleanly.
TEST(Cli, ServeAndConnect) {
  ShopProject p;
  std::string ann = first_line(run("token add ann --db " + p.db()).out);
  std::string cid = first_line(run("token add cid --db " + p.db()).out);
  std::string sys = first_line(run("token add system --db " + p.db()).out);
  Serving s(p);
  ASSERT_FALSE(s.url.empty());
  std::string as_ann = "--connect " + s.url + " --token " + ann + " ";
  std::string as_cid = "--connect " + s.url + " --token " + cid + " ";
  auto post = run(as_ann + "events post order.placed --payload '{\"ref\": \"o-1\"}' --key o-1");
  EXPECT_EQ(post.code, 0) << post.out;
  EXPECT_NE(post.out.find("posted order.placed (key o-1)"), std::string::npos) << post.out;
  EXPECT_NE(
      run(as_ann + "events post order.placed -p '{\"ref\": \"o-1\"}' --key o-1").out.find("already posted"),
      std::string::npos);
  auto list = run(as_ann + "tasks list --json");
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("\"name\": \"pack\""), std::string::npos) << list.out;
  std::string id = first_id(list.out);
  // --connect after the verb works too.
  auto text = run("tasks list " + as_ann);
  EXPECT_NE(text.out.find("#" + id + "\tFulfil #"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\tpack\tClerk\topen\tpacked|lost"), std::string::npos) << text.out;
  EXPECT_EQ(run(as_ann + "tasks claim " + id).code, 0);
  auto taken = run(as_cid + "tasks claim " + id);
  EXPECT_EQ(taken.code, 4) << taken.out;
  EXPECT_NE(taken.out.find("error [conflict]: task #" + id + " is claimed by ann"), std::string::npos)
      << taken.out;
  auto done = run(as_ann + "tasks complete " + id + " --outcome packed");
  EXPECT_EQ(done.code, 0) << done.out;
  EXPECT_NE(done.out.find("completed task #" + id), std::string::npos) << done.out;
  auto again = run(as_ann + "tasks complete " + id);
  EXPECT_EQ(again.code, 4) << again.out;
  EXPECT_NE(again.out.find("[conflict]"), std::string::npos) << again.out;
  auto missing = run(as_ann + "tasks complete 4242");
  EXPECT_EQ(missing.code, 4) << missing.out;
  EXPECT_NE(missing.out.find("[not_found]"), std::string::npos) << missing.out;
  auto inst = run(as_ann + "instances list --json");
  EXPECT_NE(inst.out.find("\"status\": \"completed\""), std::string::npos) << inst.out;
  auto m = run(as_ann + "metrics --json");
  EXPECT_EQ(kpi(m.out, "orders"), "1") << m.out;
  // The stream, followed with a token: a tail started now sees the next event's lines (system's sees every
  // line; a clerk's only the lines of instances the clerk may read, so within its timeout it may see none,
  // and ends with 0 either way).
  auto clerk_tail = run(as_cid + "events tail -n 1 --timeout 1");
  EXPECT_EQ(clerk_tail.code, 0) << clerk_tail.out;
  std::string as_sys = "--connect " + s.url + " --token " + sys + " ";
  FILE* tail =
      popen((std::string(ORGCTL_PATH) + " " + as_sys + "events tail -n 1 --timeout 20 --json").c_str(), "r");
  std::string tailed;
  for (int i = 0; i < 100; ++i) {  // posting until the subscription is up and a line arrives
    run(as_cid + "events post order.placed -p '{\"ref\": \"t\"}' --key t-" + std::to_string(i));
    pollfd pfd{fileno(tail), POLLIN, 0};
    if (poll(&pfd, 1, 100) > 0) break;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), tail)) > 0) tailed.append(buf.data(), n);
  EXPECT_EQ(pclose(tail), 0);
  EXPECT_NE(tailed.find("\"line\":"), std::string::npos) << tailed;
  // Refusals: no token, a wrong one, no server.
  EXPECT_EQ(run("--connect " + s.url + " tasks list").code, 2);
  auto wrong = run("--connect " + s.url + " --token orgos_nope tasks list");
  EXPECT_EQ(wrong.code, 4) << wrong.out;
  EXPECT_NE(wrong.out.find("[unauthenticated]"), std::string::npos) << wrong.out;
  auto bob = first_line(run("token add bob --db " + p.db()).out);
  auto refused =
      run("--connect " + s.url + " --token " + bob + " events post order.placed -p '{\"ref\": \"b\"}'");
  EXPECT_EQ(refused.code, 4) << refused.out;
  EXPECT_NE(refused.out.find("[refused]: bob may not post"), std::string::npos) << refused.out;
  EXPECT_EQ(s.stop(), 0);
  auto gone = run(as_ann + "tasks list");
  EXPECT_EQ(gone.code, 3) << gone.out;
  EXPECT_NE(gone.out.find("is `orgctl serve` running"), std::string::npos) << gone.out;
}

// Without a server the same verbs work in-process on a store, with --as naming the actor.
TEST(Cli, TasksAndEventsOnALocalStore) {
  ShopProject p;
  std::string on = " " + p.path() + " --db " + p.db() + " --engine interp";
  EXPECT_EQ(run("token add ann --db " + p.db()).code, 0);  // creates the store
  auto post = run("events post order.placed" + on + " --as ann -p '{\"ref\": \"x\"}' --key x");
  EXPECT_EQ(post.code, 0) << post.out;
  std::string id = first_id(run("tasks list" + on + " --json").out);
  auto who = run("tasks complete " + id + on);
  EXPECT_EQ(who.code, 2) << who.out;
  EXPECT_NE(who.out.find("--as ACTOR"), std::string::npos) << who.out;
  EXPECT_EQ(run("tasks complete " + id + on + " --as bob").code, 4);
  auto done = run("tasks complete " + id + on + " --as ann -o packed");
  EXPECT_EQ(done.code, 0) << done.out;
  EXPECT_NE(run("tasks list" + on + " --all").out.find("done (ann)"), std::string::npos);
  // An approval is decided, by the role it asks for.
  EXPECT_EQ(run("events post refund.asked" + on + " --as ann -p '{\"ref\": \"r\"}'").code, 0);
  std::string approval = first_id(run("tasks list" + on + " --json").out);
  EXPECT_EQ(run("tasks decide " + approval + on + " --as bob").code, 2);  // neither --approve nor --reject
  auto decided = run("tasks decide " + approval + on + " --as bob --approve");
  EXPECT_EQ(decided.code, 0) << decided.out;
  EXPECT_NE(decided.out.find("approved #" + approval), std::string::npos) << decided.out;
  EXPECT_EQ(run("tasks list").code, 2);  // neither --db nor --connect
  EXPECT_EQ(run("events post x.y" + on + " --as ann -p 'not json'").code, 2);
  EXPECT_EQ(run("events tail").code, 2);
}

TEST(Cli, ServerVerbsHaveHelpWithExamples) {
  for (const char* verb : {"serve", "token add", "token revoke", "token list", "tasks list", "tasks claim",
                           "tasks complete", "tasks decide", "events post", "events tail"}) {
    auto h = run(std::string(verb) + " --help");
    EXPECT_EQ(h.code, 0) << verb;
    EXPECT_NE(h.out.find("Example"), std::string::npos) << verb << "\n" << h.out;
    EXPECT_NE(h.out.find("Exit codes"), std::string::npos) << verb << "\n" << h.out;
  }
}

// A project keeps its durable store at .orgos/state.db: `token` (run in the project folder) and `serve`
// create it, and the verbs that read a store use it when no --db is given; without one they say where
// they looked.
TEST(Cli, AProjectsOwnStoreIsTheDefault) {
  namespace fs = std::filesystem;
  // orgctl started in another working directory (run() prefixes the binary: the first command is a no-op).
  auto run_in = [](const std::string& cwd, const std::string& args) {
    return run("--version >/dev/null && cd '" + cwd + "' && " + std::string(ORGCTL_PATH) + " " + args);
  };
  orgos_test::TempDir tmp("orgctl-default-store");
  fs::path dir = tmp.path();
  fs::path acme = dir / "acme";
  fs::copy(fs::path(ORGOS_SOURCE_DIR) / "examples/acme", acme, fs::copy_options::recursive);
  fs::remove_all(acme / ".orgos");
  auto none = run("instances list " + acme.string());
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.out.find(".orgos/state.db"), std::string::npos) << none.out;
  auto token = run("token add dan --db " + (dir / "elsewhere.db").string());
  EXPECT_EQ(token.code, 0) << token.out;
  // `token add` in a folder that is not a project, without --db, refuses and says what to do.
  auto outside = run_in(dir.string(), "token add dan");
  EXPECT_EQ(outside.code, 2);
  EXPECT_NE(outside.out.find("not a project"), std::string::npos) << outside.out;
  // Inside the project it creates the project's store.
  EXPECT_EQ(run_in(acme.string(), "token add dan").code, 0);
  EXPECT_TRUE(fs::exists(acme / ".orgos/state.db"));
  ASSERT_EQ(run("run " + acme.string() + " --db " + (acme / ".orgos/state.db").string() + " -q").code, 0);
  auto list = run("instances list " + acme.string() + " --json");
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("\"process\": \"Onboarding\""), std::string::npos) << list.out;
  auto m = run("metrics " + acme.string() + " --json");
  EXPECT_EQ(kpi(m.out, "people_hired"), "5") << m.out;
}

// ---- the store: one writer, refusing what is broken, backup

namespace {
// SQL run on a store behind orgctl's back: the damage a test needs.
void sql_on(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  std::string m = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << m;
}
// `orgctl serve` on a shop project's store, as a child process, until it says where it listens.
struct Owner {
  pid_t pid = -1;
  std::string url;
  explicit Owner(const ShopProject& p) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::string db = p.db(), path = p.path();
      execl(ORGCTL_PATH, "orgctl", "serve", path.c_str(), "--db", db.c_str(), "--listen", "tcp://127.0.0.1:0",
            "--engine", "interp", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[512];
    while (url.empty() && fgets(line, sizeof line, out)) {
      std::string l(line);
      if (l.rfind("serving on ", 0) == 0) url = l.substr(11, l.size() - 12);
    }
    fclose(out);
  }
  int stop(int sig = SIGTERM) {
    if (pid <= 0) return -1;
    kill(pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  ~Owner() { stop(SIGKILL); }
};

// Exit 3 with the message (never an abort, 134, or a usage error).
void refused(const Run& r, const std::string& says, const std::string& what) {
  EXPECT_EQ(r.code, 3) << what << ":\n" << r.out;
  EXPECT_NE(r.out.find(says), std::string::npos) << what << ":\n" << r.out;
  EXPECT_EQ(r.out.find("terminate"), std::string::npos) << what << ":\n" << r.out;
}
}  // namespace

// Two servers on one store both acknowledged inputs as instance 1, and one was lost; `events post --db`
// beside a server raced its id counter. The owner holds the store; other writers are refused naming it,
// and the verbs that only read work beside it.
TEST(Cli, OneProcessWritesAStore) {
  ShopProject p;
  ASSERT_EQ(run("token add ann --db " + p.db()).code, 0);
  std::string on = " " + p.path() + " --db " + p.db() + " --engine interp";
  ASSERT_EQ(run("events post order.placed" + on + " --as ann -p '{\"ref\": \"r1\"}'").code, 0);
  Owner srv(p);
  ASSERT_FALSE(srv.url.empty());
  std::string pid = "process " + std::to_string(srv.pid);
  refused(run("serve" + on + " --listen tcp://127.0.0.1:0"), pid, "a second server");
  refused(run("events post order.placed" + on + " --as ann -p '{\"ref\": \"r2\"}'"), pid, "events post --db");
  refused(run("run" + on + " -q"), pid, "run --db");
  auto list = run("instances list" + on + " --json");
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("\"process\": \"Fulfil\""), std::string::npos) << list.out;
  EXPECT_EQ(run("tasks list" + on).code, 0);
  EXPECT_EQ(run("metrics" + on).code, 0);
  EXPECT_EQ(run("token list --db " + p.db()).code, 0);
  EXPECT_EQ(run("token add cid --db " + p.db()).code, 0) << "tokens are managed beside the server";
  auto audit = run("audit export --db " + p.db());
  EXPECT_EQ(audit.code, 0) << audit.out;
  // The one input posted before the server started, and nothing from the refused writers.
  EXPECT_EQ(srv.stop(), 0);
  auto after = run("instances list" + on);
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_EQ(std::count(after.out.begin(), after.out.end(), '\n'), 1) << after.out;
  // The owner gone, a writer may open the store again.
  EXPECT_EQ(run("events post order.placed" + on + " --as ann -p '{\"ref\": \"r3\"}'").code, 0);
}

// A damaged store is refused with exit 3 and what is wrong — never replaced by a new empty one, never an
// abort (bad rows and garbage meta aborted `instances`, `metrics` and `serve`).
TEST(Cli, ABrokenStoreIsRefused) {
  ShopProject p;
  std::string project = " " + p.path() + " --engine interp";
  auto verbs = [&](const std::string& db, const std::string& says, const std::string& what) {
    std::string on = project + " --db " + db;
    refused(run("instances list" + on), says, what + ", instances");
    refused(run("metrics" + on), says, what + ", metrics");
    refused(run("tasks list" + on), says, what + ", tasks");
    refused(run("events post order.placed" + on + " --as ann -p '{\"ref\": \"x\"}'"), says,
            what + ", events");
    refused(run("run" + on + " -q"), says, what + ", run");
    refused(run("serve" + on + " --listen tcp://127.0.0.1:0"), says, what + ", serve");
  };
  std::string empty = (p.dir / "empty.db").string();
  p.write("empty.db", "");
  verbs(empty, "empty (0 bytes)", "a 0-byte file");
  EXPECT_EQ(std::filesystem::file_size(empty), 0u) << "not made a new store";

  auto fresh = [&](const std::string& name) {
    std::string db = (p.dir / name).string();
    EXPECT_EQ(
        run("events post order.placed" + project + " --db " + db + " --as ann -p '{\"ref\": \"r\"}'").code, 3)
        << "events post does not create a store";
    EXPECT_EQ(run("token add ann --db " + db).code, 0);
    EXPECT_EQ(
        run("events post order.placed" + project + " --db " + db + " --as ann -p '{\"ref\": \"r\"}'").code,
        0);
    return db;
  };
  std::string no_table = fresh("no-table.db");
  sql_on(no_table, "DROP TABLE task");
  verbs(no_table, "table `task` is missing", "a missing table");

  std::string bad_meta = fresh("bad-meta.db");
  sql_on(bad_meta, "UPDATE meta SET value = 'garbage' WHERE key = 'clock'");
  verbs(bad_meta, "does not decode", "garbage meta");

  std::string bad_row = fresh("bad-row.db");
  sql_on(bad_row, "UPDATE instance SET tokens = '[[1, 2' ");
  verbs(bad_row, "does not decode", "a bad JSON row");
}

// A store written by another project (or another version of this one) is refused with what differs.
TEST(Cli, AStoreOfAnotherProjectIsRefused) {
  ShopProject p;
  std::string acme = std::string(ORGOS_SOURCE_DIR) + "/examples/acme";
  std::string db = (p.dir / "acme.db").string();
  ASSERT_EQ(run("run " + acme + " --db " + db + " -q --engine interp").code, 0);
  std::string on = " " + p.path() + " --db " + db + " --engine interp";
  // The store records its project: another one is named as such, before its rows are read.
  for (const char* verb : {"instances list", "metrics", "tasks list"})
    refused(run(std::string(verb) + on), "belongs to another project", verb);
  refused(run("run" + on + " -q"), "belongs to another project", "run");
  refused(run("explain on_order 1" + on), "belongs to another project", "explain");
  // Another version of the same project: a unit renamed in org.org after the store was written.
  std::filesystem::path acme2 = p.dir / "acme2";
  std::filesystem::copy(acme, acme2, std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(acme2 / ".orgos");
  std::string db2 = (p.dir / "acme2.db").string();
  ASSERT_EQ(run("run " + acme2.string() + " --db " + db2 + " -q --engine interp").code, 0);
  std::ifstream in(acme2 / "org.org");
  std::string org((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t at;
       (at = org.find("Design\n")) != std::string::npos || (at = org.find("Design ")) != std::string::npos;)
    org.replace(at, 6, "Designing");
  p.write("acme2/org.org", org);
  std::string on2 = " " + acme2.string() + " --db " + db2 + " --engine interp";
  for (const char* verb : {"instances list", "metrics", "tasks list"})
    refused(run(std::string(verb) + on2), "no unit named `Design`", std::string("renamed unit, ") + verb);
  // A writer of that version is refused before it writes anything: its bundle is not kept in the store.
  auto bundles = [&] {
    sqlite3* h = nullptr;
    int n = -1;
    if (sqlite3_open_v2(db2.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(h, "SELECT count(*) FROM bundle", -1, &st, nullptr) == SQLITE_OK &&
          sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
      sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
  };
  ASSERT_EQ(bundles(), 1);
  refused(run("run" + on2 + " -q"), "no unit named `Design`", "renamed unit, run");
  EXPECT_EQ(bundles(), 1) << "the refused version's bundle was stored";
}

TEST(Cli, ADirectoryIsNoBundle) {
  ShopProject p;
  std::filesystem::create_directories(p.dir / "out");
  std::string out = (p.dir / "out").string();
  refused(run("compile " + p.path() + " -o " + out), "is a directory", "compile -o DIR");
  refused(run("run " + p.path() + " --bundle " + out + " --engine interp"), "is a directory",
          "run --bundle DIR");
}

// A backup taken while the server runs holds every input it acknowledged, though they are still in the
// write-ahead log (copying the .db file alone loses them); the copy opens as a store. OUT is never
// overwritten.
TEST(Cli, StoreBackupHoldsWhatTheLogHolds) {
  ShopProject p;
  std::string token = first_line(run("token add ann --db " + p.db()).out);
  Owner srv(p);
  ASSERT_FALSE(srv.url.empty());
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(run("--connect " + srv.url + " --token " + token +
                  " events post order.placed -p '{\"ref\": \"r" + std::to_string(i) + "\"}'")
                  .code,
              0);
  std::string copy = (p.dir / "copy.db").string();
  auto b = run("store backup --db " + p.db() + " " + copy);
  EXPECT_EQ(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("(20 inputs)"), std::string::npos) << b.out;
  srv.stop(SIGKILL);  // the server dies: its log is left as it was
  auto list = run("instances list " + p.path() + " --db " + copy + " --engine interp");
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 20) << list.out;
  refused(run("store backup --db " + p.db() + " " + copy), "exists", "backup onto an existing file");
  refused(run("store backup --db " + (p.dir / "none.db").string() + " " + (p.dir / "c2.db").string()),
          "no store", "backup of no store");
}

// ---- Sources that are not honest files, and `orgctl new`
#include <sys/stat.h>  // mkfifo

namespace {
// A fresh folder for one test, removed at the end.
struct Scratch {
  std::filesystem::path dir;
  explicit Scratch(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / ("orgctl-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string q(const std::string& rel = "") const {
    return "'" + (rel.empty() ? dir : dir / rel).string() + "'";
  }
};
void write_text(const std::filesystem::path& p, const std::string& text) {
  FILE* f = fopen(p.c_str(), "w");
  fputs(text.c_str(), f);
  fclose(f);
}
}  // namespace

TEST(Cli, CheckRefusesAFifoInsteadOfHanging) {
  Scratch s("fifo");
  write_text(s.dir / "a.org", "record A { x: Int }\n");
  ASSERT_EQ(::mkfifo((s.dir / "x.org").c_str(), 0600), 0);
  // Before: `check` blocked forever opening the FIFO; `timeout` turns that into exit 124.
  std::string cmd = "timeout 20 " + std::string(ORGCTL_PATH) + " check " + s.q() + " 2>&1";
  ::Run r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("is a FIFO (named pipe), not a regular file"), std::string::npos) << r.out;
}

TEST(Cli, CheckDoesNotEchoAFileBehindASymlinkOutOfTheProject) {
  Scratch outside("outside"), project("project");
  write_text(outside.dir / "secret.txt", "root:x:0:0:secret-line:/root:/bin/bash\n");
  std::filesystem::create_symlink(outside.dir / "secret.txt", project.dir / "x.org");
  // Before: a syntax error quoted the target's first line.
  auto r = run("check " + project.q());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.find("secret-line"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outside the project"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--follow-symlinks"), std::string::npos) << r.out;
  auto fmt = run("fmt --check " + project.q());
  EXPECT_EQ(fmt.code, 1);
  EXPECT_NE(fmt.out.find("outside the project"), std::string::npos) << fmt.out;
  // Asked for, the link is followed (and the file is, as before, no valid source).
  auto followed = run("check --follow-symlinks " + project.q());
  EXPECT_NE(followed.out.find("secret-line"), std::string::npos) << followed.out;
}

TEST(Cli, NewNeverRemovesWhatExists) {
  Scratch s("new-keep");
  // Before: `new x` silently removed a folder named x.orgctl-new (its scratch name) with all in it.
  std::filesystem::create_directories(s.dir / "x.orgctl-new");
  write_text(s.dir / "x.orgctl-new" / "keep.txt", "mine\n");
  auto r = run("new " + s.q("x"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(s.dir / "x.orgctl-new" / "keep.txt"));
  EXPECT_TRUE(std::filesystem::exists(s.dir / "x" / "orgos.yaml"));
  // No scratch folder is left next to it.
  size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(s.dir)) entries += e.path().filename() != "";
  EXPECT_EQ(entries, 2u);
  // An existing folder, even an empty one, is never replaced.
  std::filesystem::create_directories(s.dir / "empty");
  EXPECT_EQ(run("new " + s.q("empty")).code, 1);
  EXPECT_TRUE(std::filesystem::is_empty(s.dir / "empty"));
}

TEST(Cli, NewTakesATemplateNameNotAPath) {
  Scratch s("new-template");
  std::string templates = std::string(ORGOS_SOURCE_DIR) + "/templates";
  // Before: an absolute path (or ../..) was copied, whatever folder it named.
  auto abs = run("new " + s.q("a") + " --template " + templates + "/non-profit");
  EXPECT_EQ(abs.code, 1) << abs.out;
  EXPECT_NE(abs.out.find("--template-dir"), std::string::npos) << abs.out;
  EXPECT_FALSE(std::filesystem::exists(s.dir / "a"));
  EXPECT_EQ(run("new " + s.q("b") + " --template ../../etc").code, 1);
  auto own = run("new " + s.q("c") + " --template-dir " + templates + " --template non-profit");
  EXPECT_EQ(own.code, 0) << own.out;
  auto list = run("new --list --template-dir " + templates + "/for-profit");
  EXPECT_EQ(list.out, "startup\n");
}

TEST(Cli, NewQuotesThePathItPrintsAndMakesAnOrgNameOfAnyName) {
  Scratch s("new-names");
  auto spaced = run("new " + s.q("my org"));
  ASSERT_EQ(spaced.code, 0) << spaced.out;
  EXPECT_NE(spaced.out.find("orgctl check '" + (s.dir / "my org").string() + "'"), std::string::npos)
      << spaced.out;
  EXPECT_NE(spaced.out.find("(org MyOrg,"), std::string::npos) << spaced.out;
  // Identifiers are ASCII: `Café` keeps its folder name and makes the org `Cafe` (before: `Caf`).
  auto cafe = run("new " + s.q("Café"));
  ASSERT_EQ(cafe.code, 0) << cafe.out;
  EXPECT_NE(cafe.out.find("(org Cafe,"), std::string::npos) << cafe.out;
  EXPECT_TRUE(std::filesystem::exists(s.dir / "Café" / "orgos.yaml"));
  EXPECT_EQ(run("check " + s.q("Café")).code, 0);
  EXPECT_EQ(run("check " + s.q("my org")).code, 0);
}

// ---- Every verb refuses clearly: unknown verbs and processes, help examples, a folder without manifest
#include <fstream>
#include <regex>
#include <sstream>

TEST(Cli, AnUnknownVerbIsNamedWithTheClosest) {
  // Before: "A subcommand is required", naming neither the word nor a verb.
  auto r = run("frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown verb `frobnicate`"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check"), std::string::npos) << r.out;  // the verbs are listed
  auto typo = run("--connect tcp://127.0.0.1:1 chek x.org");
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.out.find("unknown verb `chek`"), std::string::npos) << typo.out;
  EXPECT_NE(typo.out.find("did you mean `orgctl check`?"), std::string::npos) << typo.out;
  EXPECT_EQ(run("--version").code, 0);
}

TEST(Cli, GraphSuggestsAnImportedProcessByTheNameThatWorks) {
  std::string acme = std::string(ORGOS_SOURCE_DIR) + "/examples/acme";
  // Before: the hint listed eight std.* processes; `Recruit` (std.hr.Recruit) was too far from `Recrut`
  // in its qualified spelling to be offered.
  auto r = run("graph Recrut " + acme);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("did you mean `Recruit`?"), std::string::npos) << r.out;
  EXPECT_EQ(run("graph Recruit " + acme).code, 0);
}

TEST(Cli, HelpExamplesNameWhatExists) {
  const std::string src = ORGOS_SOURCE_DIR;
  // The sources examples name actors, events, outcomes and processes of: examples/acme and the stdlib.
  std::string sources;
  for (const char* dir : {"/examples/acme", "/stdlib"})
    for (auto& e : std::filesystem::recursive_directory_iterator(src + dir))
      if (e.path().extension() == ".org") {
        std::ifstream in(e.path());
        std::stringstream ss;
        ss << in.rdbuf();
        sources += ss.str();
      }
  auto declared = [&](const std::string& pattern) { return std::regex_search(sources, std::regex(pattern)); };
  const char* verbs[] = {
      "check",        "fmt",         "graph",          "compile",        "run",         "audit verify",
      "audit export", "new",         "instances list", "instances show", "explain",     "metrics",
      "serve",        "token add",   "token list",     "tasks list",     "tasks claim", "tasks complete",
      "tasks decide", "events post", "events tail",    "store backup"};
  size_t checked = 0;
  for (const char* verb : verbs) {
    std::string help = run(std::string(verb) + " --help").out;
    size_t at = help.find("Example");
    if (at == std::string::npos) continue;
    std::string ex = help.substr(at);
    SCOPED_TRACE(std::string(verb) + ":\n" + ex);
    std::smatch m;
    for (auto it = ex.cbegin(); std::regex_search(it, ex.cend(), m, std::regex(R"(examples/[\w./-]+)"));
         it = m.suffix().first, ++checked)
      EXPECT_TRUE(std::filesystem::exists(src + "/" + m.str())) << m.str();
    for (auto it = ex.cbegin(); std::regex_search(it, ex.cend(), m, std::regex(R"( -s ([\w./-]+))"));
         it = m.suffix().first, ++checked)
      EXPECT_TRUE(std::filesystem::exists(src + "/" + m[1].str())) << "no scenario " << m[1];
    // Lower-case: ACTOR and the like are placeholders.
    for (auto it = ex.cbegin();
         std::regex_search(it, ex.cend(), m, std::regex(R"((--as|token add) ([a-z]\w*))"));
         it = m.suffix().first, ++checked)
      EXPECT_TRUE(m[2] == "system" || declared("held by [^\\n]*\"" + m[2].str() + "\""))
          << "no actor " << m[2];
    for (auto it = ex.cbegin(); std::string(verb) == "tasks complete" &&
                                std::regex_search(it, ex.cend(), m, std::regex(R"((-o|--outcome) (\w+))"));
         it = m.suffix().first, ++checked)
      EXPECT_TRUE(declared("outcomes [^\\n]*\\b" + m[2].str() + "\\b")) << "no outcome " << m[2];
    for (auto it = ex.cbegin(); std::regex_search(it, ex.cend(), m, std::regex(R"(events post ([\w.]+))"));
         it = m.suffix().first, ++checked)
      EXPECT_TRUE(declared("event " + std::regex_replace(m[1].str(), std::regex("\\."), "\\.") + " "))
          << "no event " << m[1];
    for (auto it = ex.cbegin();
         std::regex_search(it, ex.cend(), m, std::regex(R"(graph ([\w.]+) (examples/\S+))"));
         it = m.suffix().first, ++checked)
      EXPECT_EQ(run("graph " + m[1].str() + " " + src + "/" + m[2].str()).code, 0) << m.str();
  }
  EXPECT_GT(checked, 20u) << "the examples were found and read";
}

TEST(Cli, RunOfAFolderWithoutAManifestSaysSo) {
  Scratch s("run-no-manifest");
  write_text(s.dir / "a.org", "record A { x: Int }\n");
  // Before: it ran every .org file below the folder (a home folder: all of it) and exited 0.
  auto r = run("run " + s.q());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("is not a project folder: it holds no orgos.yaml"), std::string::npos) << r.out;
  EXPECT_EQ(run("run " + s.q("a.org") + " -q").code, 0);  // a single file still runs
}

// ---- scenario files and bundle files as a user gives them

namespace scenario_bundle_cli {

namespace fs = std::filesystem;

// Every orgctl run by this test binary seals bundles with a key of its own, not the user's; the key's
// folder goes when the binary ends.
const fs::path kKeyDir = fs::temp_directory_path() / ("orgctl-test-key-" + std::to_string(::getpid()));
const bool kOwnKey = [] {
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(kKeyDir, ec);
  });
  return setenv("ORGOS_BUNDLE_KEY", (kKeyDir / "bundle.key").c_str(), 1) == 0;
}();

struct Project {
  fs::path dir;
  explicit Project(const std::string& name)
      : dir(fs::temp_directory_path() / ("orgctl-d1-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    put("orgos.yaml", "name: demo\nversion: 0.1.0\n");
    put("main.org",
        "role Ops {}\norg O { units { department D } position o: Ops in D held by \"op\" }\n"
        "event ping { n: Int }\nprocess P(n: Int) { task work by Ops }\nrule r when ping e then start "
        "P(e.n)\n");
  }
  ~Project() { fs::remove_all(dir); }
  void put(const std::string& rel, const std::string& bytes) const {
    FILE* f = fopen((dir / rel).c_str(), "wb");
    fwrite(bytes.data(), 1, bytes.size(), f);
    fclose(f);
  }
  std::string get(const std::string& rel) const {
    FILE* f = fopen((dir / rel).c_str(), "rb");
    std::string s;
    if (!f) return s;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    fclose(f);
    return s;
  }
  std::string q(const std::string& rel = "") const {
    return "'" + (rel.empty() ? dir : dir / rel).string() + "'";
  }
};

}  // namespace scenario_bundle_cli

TEST(CliScenario, RefusedStepsMisspeltKeysAndAliasesAreReportedForWhatTheyAre) {
  using scenario_bundle_cli::Project;
  ASSERT_TRUE(scenario_bundle_cli::kOwnKey);
  Project p("scenario");
  p.put("refused.yaml", "name: r\nsteps:\n  - event: ping\n    payload: {n: 1}\n    as: op\n");
  auto r = run("run " + p.q() + " -q -s " + p.q("refused.yaml"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("refused: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("op may not post ping"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("expectation failed"), std::string::npos) << r.out;  // it said so before
  p.put("typo.yaml", "name: t\nsteps:\n  - event: ping\n    paylod: {n: 1}\n");
  auto t = run("run " + p.q() + " -q -s " + p.q("typo.yaml"));
  EXPECT_EQ(t.code, 1) << t.out;
  EXPECT_NE(t.out.find("typo.yaml:4:5: unknown key `paylod` in a step (did you mean `payload`?)"),
            std::string::npos)
      << t.out;
  p.put("bomb.yaml", "name: b\nsteps: []\na: &a [x, x]\nb: [*a, *a]\n");
  auto b = run("run " + p.q() + " -q -s " + p.q("bomb.yaml"));
  EXPECT_EQ(b.code, 1) << b.out;
  EXPECT_NE(b.out.find("bomb.yaml:4:5: YAML aliases"), std::string::npos) << b.out;
  auto missing = run("run " + p.q() + " -q -s " + p.q("nope.yaml"));
  EXPECT_EQ(missing.code, 1) << missing.out;
  EXPECT_NE(missing.out.find("nope.yaml: no such file"), std::string::npos) << missing.out;
}

TEST(CliScenario, AFailedScenarioFailsAgainWhenRerunOnItsStore) {
  using scenario_bundle_cli::Project;
  Project p("rerun");
  p.put("s.yaml",
        "name: s\nsteps:\n  - event: ping\n    payload: {n: 1}\n    as: op\n  - event: ping\n    payload: "
        "{n: 2}\n");
  std::string cmd = "run " + p.q() + " -q -s " + p.q("s.yaml") + " --db " + p.q("s.db");
  auto first = run(cmd);
  EXPECT_EQ(first.code, 1) << first.out;
  // Before, the second run found both steps in the log, skipped them and exited 0.
  auto second = run(cmd);
  EXPECT_EQ(second.code, 1) << second.out;
  EXPECT_NE(
      second.out.find("op may not post ping: no role or policy permits it (in an earlier run on this store)"),
      std::string::npos)
      << second.out;
}

TEST(CliBundle, AnEditedBundleIsNeverRunAndANonBundleNeverOverwritten) {
  using scenario_bundle_cli::Project;
  Project p("bundle");
  ASSERT_EQ(run("run " + p.q() + " -q").code, 0);
  std::string cached = p.get(".orgos/bundle.orgb");
  ASSERT_EQ(cached.substr(0, 8), "ORGBSEAL");
  std::string edited = cached;
  edited[edited.size() / 2] ^= 0x20;
  // The cache: rebuilt, not loaded.
  p.put(".orgos/bundle.orgb", edited);
  auto rebuilt = run("run " + p.q() + " -q --timing");
  EXPECT_EQ(rebuilt.code, 0) << rebuilt.out;
  EXPECT_NE(rebuilt.out.find("compiled in"), std::string::npos) << rebuilt.out;
  EXPECT_EQ(p.get(".orgos/bundle.orgb"), cached);  // same sources, same sealed bytes
  // Named with --bundle: refused with the reason (exit 3), left as it is.
  p.put("edited.orgb", edited);
  auto named = run("run " + p.q() + " -q --bundle " + p.q("edited.orgb"));
  EXPECT_EQ(named.code, 3) << named.out;
  EXPECT_NE(named.out.find("does not authenticate with this machine's bundle key"), std::string::npos)
      << named.out;
  EXPECT_EQ(p.get("edited.orgb"), edited);
  // A file that is not a bundle is not overwritten (before, the compiled bundle replaced it).
  p.put("notes.txt", "my notes\n");
  auto notes = run("run " + p.q() + " -q --bundle " + p.q("notes.txt"));
  EXPECT_EQ(notes.code, 3) << notes.out;
  EXPECT_NE(notes.out.find("is not an OrgOS bundle; it is left as it is"), std::string::npos) << notes.out;
  EXPECT_EQ(p.get("notes.txt"), "my notes\n");
}

// ---- the audit chain and `store verify` (each test with its own audit key, passed with --audit-key)

#include <sqlite3.h>

#include <fstream>
#include <iterator>

namespace audit_cli {
namespace fs = std::filesystem;

struct Dir {
  fs::path dir;
  explicit Dir(const std::string& name) {
    dir = fs::temp_directory_path() / ("orgctl-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Dir() { fs::remove_all(dir); }
  std::string at(const std::string& f) const { return (dir / f).string(); }
  // A copy of a shipped example to run, without its cached bundle.
  std::string project(const std::string& example) const {
    fs::copy(fs::path(ORGOS_SOURCE_DIR) / "examples" / example, dir / "project", fs::copy_options::recursive);
    fs::remove_all(dir / "project" / ".orgos");
    return at("project");
  }
};

void sql(const std::string& db, const std::string& q) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, q.c_str(), nullptr, nullptr, &err);
  std::string m = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << q << ": " << m;
}

bool has(const Run& r, const std::string& text) {
  return r.out.find(text) != std::string::npos;
}
}  // namespace audit_cli

// A checkpoint kept outside the store shows what the chain alone cannot: its last entries deleted, or all.
TEST(CliAudit, ACheckpointShowsTruncationAndDeletionOfEverything) {
  audit_cli::Dir d("audit-cp");
  std::string key = " --audit-key " + d.at("audit.key"), db = d.at("state.db"), cp = d.at("state.checkpoint");
  auto ran = run("run " + d.project("language-tour") + " -q --db " + db + key);
  ASSERT_EQ(ran.code, 0) << ran.out;
  auto taken = run("audit checkpoint --db " + db + " --out " + cp + key);
  ASSERT_EQ(taken.code, 0) << taken.out;
  auto ok = run("audit verify --db " + db + " --checkpoint " + cp + key);
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(audit_cli::has(ok, "authenticated with the audit key")) << ok.out;
  // The last three entries go, and with them the inputs they recorded.
  audit_cli::sql(
      db,
      "DELETE FROM input_log WHERE seq IN (SELECT ref FROM audit WHERE kind = 'input' AND seq > "
      "(SELECT max(seq) - 3 FROM audit)); DELETE FROM audit WHERE seq > (SELECT max(seq) - 3 FROM audit)");
  auto cut = run("audit verify --db " + db + " --checkpoint " + cp + key);
  EXPECT_EQ(cut.code, 1) << cut.out;
  EXPECT_TRUE(audit_cli::has(cut, "entries were removed")) << cut.out;
  audit_cli::sql(db, "DELETE FROM audit; DELETE FROM input_log");
  auto none = run("audit verify --db " + db + " --checkpoint " + cp + key + " --json");
  EXPECT_EQ(none.code, 1) << none.out;
  EXPECT_TRUE(audit_cli::has(none, "the store has 0")) << none.out;
  // A checkpoint of a broken chain is refused; an edited checkpoint file is not authentic.
  auto again = run("audit checkpoint --db " + db + " --out " + d.at("other.checkpoint") + key);
  EXPECT_EQ(again.code, 0) << again.out;  // an empty chain is a chain
  std::string text;
  {
    std::ifstream f(cp);
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  auto pos = text.find("\"entries\": ");
  ASSERT_NE(pos, std::string::npos) << text;
  text.replace(pos, 11, "\"entries\": 0, \"x\": ");
  {
    std::ofstream f(cp, std::ios::trunc);
    f << text;
  }
  auto forged = run("audit verify --db " + db + " --checkpoint " + cp + key);
  EXPECT_EQ(forged.code, 1) << forged.out;
  EXPECT_TRUE(audit_cli::has(forged, "is not authenticated by the audit key")) << forged.out;
  EXPECT_EQ(run("audit verify --db " + db + " --checkpoint " + d.at("missing.checkpoint") + key).code, 3);
}

// A checkpoint is never written over anything (it replaced the store itself, other files, a FIFO, a device
// node), and only a small regular file is read as one (a FIFO hung verify, /dev/zero filled memory).
TEST(CliAudit, ACheckpointNeverReplacesAFileAndOnlyAFileIsReadAsOne) {
  audit_cli::Dir d("audit-cp-out");
  std::string key = " --audit-key " + d.at("audit.key"), db = d.at("state.db");
  ASSERT_EQ(run("run " + d.project("language-tour") + " -q --db " + db + key).code, 0);
  auto size_before = std::filesystem::file_size(db);
  auto onto_store = run("audit checkpoint --db " + db + " --out " + db + key);
  EXPECT_EQ(onto_store.code, 3) << onto_store.out;
  EXPECT_TRUE(audit_cli::has(onto_store, "never written over")) << onto_store.out;
  EXPECT_EQ(std::filesystem::file_size(db), size_before);
  EXPECT_EQ(run("audit verify --db " + db + key).code, 0) << "the store is still a store";
  std::string fifo = d.at("fifo.checkpoint");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(run("audit checkpoint --db " + db + " --out " + fifo + key).code, 3);
  EXPECT_TRUE(std::filesystem::is_fifo(fifo)) << "the FIFO is left as it was";
  auto from_fifo = run("audit verify --db " + db + " --checkpoint " + fifo + key);
  EXPECT_EQ(from_fifo.code, 3) << from_fifo.out;
  EXPECT_TRUE(audit_cli::has(from_fifo, "not a regular file")) << from_fifo.out;
  auto from_zero = run("audit verify --db " + db + " --checkpoint /dev/zero" + key);
  EXPECT_EQ(from_zero.code, 3) << from_zero.out;
  std::string fresh = d.at("new.checkpoint");
  EXPECT_EQ(run("audit checkpoint --db " + db + " --out " + fresh + key).code, 0);
  EXPECT_EQ(run("audit verify --db " + db + " --checkpoint " + fresh + key).code, 0);
}

// Every input is audited (the scenario's system events too), an edited input or token row is named, and a
// verify without the key says what it could not check.
TEST(CliAudit, InputsAndTokensAreInTheChainAndNoKeyIsSaid) {
  audit_cli::Dir d("audit-in");
  std::string key = " --audit-key " + d.at("audit.key"), db = d.at("state.db");
  ASSERT_EQ(run("run " + d.project("language-tour") + " -q --db " + db + key).code, 0);
  auto exported = run("audit export --db " + db);
  EXPECT_TRUE(audit_cli::has(exported, "\"kind\":\"input\"")) << exported.out.substr(0, 2000);
  EXPECT_TRUE(audit_cli::has(exported, "\"actor\":\"system\"")) << exported.out.substr(0, 2000);
  auto token = run("token add alice --db " + db + key);
  ASSERT_EQ(token.code, 0) << token.out;
  ASSERT_EQ(run("token revoke 1 --db " + db + key).code, 0);
  ASSERT_EQ(run("audit verify --db " + db + key).code, 0);
  audit_cli::sql(db, "UPDATE token SET revoked = 0 WHERE id = 1");
  auto revived = run("audit verify --db " + db + key);
  EXPECT_EQ(revived.code, 1) << revived.out;
  EXPECT_TRUE(audit_cli::has(revived, "token 1 was changed outside orgctl")) << revived.out;
  audit_cli::sql(db, "UPDATE token SET revoked = 1 WHERE id = 1");
  audit_cli::sql(db, "UPDATE input_log SET at = at + 3600 WHERE seq = 2");
  auto edited = run("audit verify --db " + db + key);
  EXPECT_EQ(edited.code, 1) << edited.out;
  EXPECT_TRUE(audit_cli::has(edited, "input 2 (")) << edited.out;
  EXPECT_TRUE(audit_cli::has(edited, "was changed after it was applied")) << edited.out;
  audit_cli::sql(db, "UPDATE input_log SET at = at - 3600 WHERE seq = 2");
  // No key anywhere (a HOME without one): the plain chain is checked, and the verdict says so.
  ::Run plain{0, ""};
  {
    std::string cmd = "env -u ORGOS_AUDIT_KEY -u XDG_CONFIG_HOME HOME=" + d.at("home") + " " + ORGCTL_PATH +
                      " audit verify --db " + db + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) plain.out.append(buf.data(), n);
    int st = pclose(p);
    plain.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  EXPECT_EQ(plain.code, 0) << plain.out;
  EXPECT_TRUE(audit_cli::has(plain, "the entries are unauthenticated")) << plain.out;
  EXPECT_FALSE(std::filesystem::exists(d.at("home"))) << "verify made a key";
  // A key named but missing is an error, not a silent plain check.
  EXPECT_EQ(run("audit verify --db " + db + " --audit-key " + d.at("missing.key")).code, 3);
}

// The state tables are what the input log produced: a salary changed in a stored record is named.
TEST(CliStore, VerifyNamesAChangedSalary) {
  audit_cli::Dir d("store-verify");
  std::string key = " --audit-key " + d.at("audit.key"), db = d.at("state.db");
  std::string acme = d.project("acme");
  auto ran = run("run " + acme + " -q --db " + db + key);
  ASSERT_EQ(ran.code, 0) << ran.out;
  auto same = run("store verify --db " + db + " " + acme);
  EXPECT_EQ(same.code, 0) << same.out;
  EXPECT_TRUE(audit_cli::has(same, "stored state matches the replay")) << same.out;
  audit_cli::sql(
      db,
      "UPDATE record SET doc = replace(doc, '\"salary\":\"150000 USD\"', '\"salary\":\"990000 USD\"') "
      "WHERE doc LIKE '%\"salary\":\"150000 USD\"%'");
  auto changed = run("store verify --db " + db + " " + acme);
  EXPECT_EQ(changed.code, 1) << changed.out;
  EXPECT_TRUE(audit_cli::has(changed, "(Hire) field salary: stored 990000 USD, replayed 150000 USD"))
      << changed.out;
  // The audit chain cannot see this (the state is not in it); the replay can.
  EXPECT_EQ(run("audit verify --db " + db + key).code, 0);
  EXPECT_EQ(run("store verify --db " + d.at("missing.db") + " " + acme).code, 3);
}

TEST(Cli, AnUnknownOrMissingVerbOfAVerbIsNamed) {
  // Before: "A subcommand is required" for both.
  auto typo = run("tasks lst");
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.out.find("unknown verb `tasks lst`"), std::string::npos) << typo.out;
  EXPECT_NE(typo.out.find("did you mean `orgctl tasks list`?"), std::string::npos) << typo.out;
  auto missing = run("token");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.out.find("`orgctl token` needs a verb: add, revoke, list"), std::string::npos)
      << missing.out;
  EXPECT_EQ(run("tasks --help").code, 0);
}

// `run --db` on a full disk aborted on an uncaught StoreError; it says so and exits 3. Needs a small tmpfs
// (skipped where the test may not mount one).
TEST(Cli, RunOnAFullDiskExitsThree) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("orgctl-full-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m") != 0) {
    std::filesystem::remove(dir);
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    std::filesystem::path dir;
    ~Unmount() {
      ::umount2(dir.c_str(), MNT_DETACH);
      std::filesystem::remove_all(dir);
    }
  } unmount{dir};
  {
    FILE* f = fopen((dir / "filler").c_str(), "wb");
    std::string block(4096, 'f');
    while (fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    fclose(f);
  }
  std::filesystem::resize_file(dir / "filler", std::filesystem::file_size(dir / "filler") - 120 * 1024);
  std::string acme = std::string(ORGOS_SOURCE_DIR) + "/examples/acme";
  refused(run("run " + acme + " --db " + (dir / "s.db").string() + " -q --engine interp"), "full",
          "run on a full disk");
}

TEST(Cli, AGlobalOptionWithoutItsValueIsNamed) {
  // Before the verb check learnt this, `orgctl --connect` was answered "`orgctl` needs a verb".
  auto r = run("--connect");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--connect"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("needs a verb"), std::string::npos) << r.out;
  // A flag before an option with a value: the value is not taken for the verb (a bool flag was counted as
  // taking a value, so `--tls-insecure` swallowed `--connect` and its URL became an "unknown verb").
  auto f = run("--tls-insecure --connect tcp://127.0.0.1:1 --token x tasks list");
  EXPECT_EQ(f.out.find("unknown verb"), std::string::npos) << f.out;
}

// A payload nested 60,000 deep is refused before it is parsed (orgctl died of SIGSEGV parsing it).
TEST(Cli, ADeeplyNestedPayloadIsRefusedNotACrash) {
  std::string deep = "{\"sku\":" + std::string(60000, '[') + std::string(60000, ']') + "}";
  auto r = run("--connect tcp://127.0.0.1:1 --token x events post supply.stock.low -p '" + deep + "'");
  EXPECT_EQ(r.code, 2) << r.out.substr(0, 300);
  EXPECT_NE(r.out.find("nests deeper than 64"), std::string::npos) << r.out.substr(0, 300);
  auto d = run("--connect tcp://127.0.0.1:1 --token x tasks complete 1 --data '" + deep + "'");
  EXPECT_EQ(d.code, 2) << d.out.substr(0, 300);
}

// A payload that nlohmann reads loosely is refused saying what and where: 1e400 was "not a JSON object",
// a key given twice was accepted with its last value (and sent on).
TEST(Cli, APayloadWithANumberOutOfRangeOrAKeyTwiceIsNamed) {
  const std::string on = "--connect tcp://127.0.0.1:1 --token x ";
  auto big = run(on + "events post order.placed -p '{\"ref\": \"a\", \"n\": [1, 1e400]}'");
  EXPECT_EQ(big.code, 2) << big.out;
  EXPECT_NE(big.out.find("number out of range at /n/1"), std::string::npos) << big.out;
  EXPECT_EQ(big.out.find("not a JSON object"), std::string::npos) << big.out;
  auto alone = run(on + "events post order.placed -p 1e400");
  EXPECT_EQ(alone.code, 2) << alone.out;
  EXPECT_NE(alone.out.find("out of range"), std::string::npos) << alone.out;
  auto twice = run(on + "events post order.placed -p '{\"ref\": \"a\", \"ref\": \"b\"}'");
  EXPECT_EQ(twice.code, 2) << twice.out;  // it was sent: exit 3, no server
  EXPECT_NE(twice.out.find("duplicate key \"ref\""), std::string::npos) << twice.out;
  auto data = run(on + "tasks complete 1 --data '{\"note\": {\"a\": 1, \"a\": 2}}'");
  EXPECT_EQ(data.code, 2) << data.out;
  EXPECT_NE(data.out.find("duplicate key \"a\" in the object at /note"), std::string::npos) << data.out;
  auto array = run(on + "events post order.placed -p '[1]'");
  EXPECT_EQ(array.code, 2) << array.out;
  EXPECT_NE(array.out.find("array, not an object"), std::string::npos) << array.out;
}

// An id past int64 was clamped to 9223372036854775807 (and acted on as that task), and 010 was octal 8.
TEST(Cli, AnIdBeyondInt64IsRefusedNotClamped) {
  const std::string on = " --connect tcp://127.0.0.1:1 --token x";
  for (const char* verb : {"tasks claim", "tasks complete", "tasks decide --approve", "instances show"}) {
    auto r = run(std::string(verb) + " 99999999999999999999" + on);
    EXPECT_EQ(r.code, 2) << verb << ": " << r.out;  // it was sent: exit 3, no server
    EXPECT_NE(r.out.find("out of range"), std::string::npos) << verb << ": " << r.out;
  }
  EXPECT_EQ(run("token revoke 9223372036854775808 --db /nonexistent.db").code, 2);
  auto hex = run("tasks claim 0x10" + on);
  EXPECT_EQ(hex.code, 2) << hex.out;
  EXPECT_NE(hex.out.find("not a whole number"), std::string::npos) << hex.out;
  ShopProject p;
  ASSERT_EQ(run("token add ann --db " + p.db()).code, 0);  // creates the store
  auto octal = run("tasks claim 010 " + p.path() + " --db " + p.db() + " --as ann --engine interp");
  EXPECT_EQ(octal.code, 4) << octal.out;
  EXPECT_NE(octal.out.find("no task #10"), std::string::npos) << octal.out;
}

// Each refusal's hint fits its case: a key reused on `events post` hinted at `tasks list`; a missing task's
// message and hint both named `tasks list`; `compile -o /dev/null` suggested writing to
// /dev/null/bundle.orgb.
TEST(Cli, ARefusalsHintFitsItsCase) {
  ShopProject p;
  std::string on = " " + p.path() + " --db " + p.db() + " --engine interp --as ann";
  ASSERT_EQ(run("token add ann --db " + p.db()).code, 0);  // creates the store
  ASSERT_EQ(run("events post order.placed" + on + " -p '{\"ref\": \"a\"}' --key k").code, 0);
  auto again = run("events post order.placed" + on + " -p '{\"ref\": \"b\"}' --key k");
  EXPECT_EQ(again.code, 4) << again.out;
  EXPECT_NE(again.out.find("[conflict]"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("tasks list"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("hint: a --key is for retrying the same request"), std::string::npos) << again.out;
  auto missing = run("tasks claim 999" + on);
  EXPECT_EQ(missing.code, 4) << missing.out;
  size_t first = missing.out.find("tasks list");
  ASSERT_NE(first, std::string::npos) << missing.out;
  EXPECT_EQ(missing.out.find("tasks list", first + 1), std::string::npos) << "said twice:\n" << missing.out;
  // A task that is done: its conflict hint names the list that shows done tasks.
  std::string id = first_id(run("tasks list " + p.path() + " --db " + p.db() + " --json").out);
  ASSERT_EQ(run("tasks complete " + id + on + " -o packed").code, 0);
  auto done = run("tasks complete " + id + on + " -o packed");
  EXPECT_EQ(done.code, 4) << done.out;
  EXPECT_NE(done.out.find("tasks list --all"), std::string::npos) << done.out;
  // serve on a store another server owns, or on a damaged one: "give --db a new file" was the hint for
  // both (starting over beside the real store); each now gets the hint of its case.
  {
    Serving first(p);
    ASSERT_FALSE(first.url.empty());
    auto second =
        run("serve " + p.path() + " --db " + p.db() + " --engine interp --listen tcp://127.0.0.1:0");
    EXPECT_EQ(second.code, 3) << second.out;
    EXPECT_NE(second.out.find("is in use"), std::string::npos) << second.out;
    EXPECT_EQ(second.out.find("a new file"), std::string::npos) << second.out;
    EXPECT_NE(second.out.find("hint: stop the process that owns it"), std::string::npos) << second.out;
  }
  p.write("bad.db", "garbage, not a store");
  auto damaged =
      run("serve " + p.path() + " --db " + p.path() + "/bad.db --engine interp --listen tcp://127.0.0.1:0");
  EXPECT_EQ(damaged.code, 3) << damaged.out;
  EXPECT_EQ(damaged.out.find("a new file"), std::string::npos) << damaged.out;
  EXPECT_NE(damaged.out.find("backup"), std::string::npos) << damaged.out;
  // A folder given as --db is no damaged store: the hint was how to put a backup in its place.
  for (const char* verb : {"instances list", "tasks list", "metrics"}) {
    auto folder = run(std::string(verb) + " " + p.path() + " --db " + p.path() + " --engine interp");
    EXPECT_EQ(folder.code, 3) << verb << ": " << folder.out;
    EXPECT_NE(folder.out.find("it is not a file"), std::string::npos) << verb << ": " << folder.out;
    EXPECT_EQ(folder.out.find("backup"), std::string::npos) << verb << ": " << folder.out;
    EXPECT_NE(folder.out.find("hint: give the store's file with --db"), std::string::npos) << folder.out;
  }
  // `instances show` cannot run on a server (it says so when asked to): its hint names --db alone.
  auto show = run("instances show 1 " + p.path() + " --engine interp");
  EXPECT_EQ(show.code, 2) << show.out;
  EXPECT_EQ(show.out.find("--connect"), std::string::npos) << show.out;
  EXPECT_NE(run("instances list " + p.path() + " --engine interp").out.find("--connect"), std::string::npos);
  auto dev = run("compile " + p.path() + " -o /dev/null");
  EXPECT_EQ(dev.code, 3) << dev.out;
  EXPECT_EQ(dev.out.find("/dev/null/"), std::string::npos) << dev.out;
  EXPECT_NE(dev.out.find("hint: name a file"), std::string::npos) << dev.out;
}

// serve over TLS with a self-signed certificate: a client that checks it with --tls-ca is served; one with
// no CA is refused before it connects (unless it says --tls-insecure), one with another CA at the handshake.
// The unauthenticated event stream needs --public-events.
TEST(Cli, ServeOverTlsIsVerifiedByTheClient) {
  ShopProject p;
  auto cert = [&](const std::string& name) {
    std::string c = p.path() + "/" + name + ".pem", k = p.path() + "/" + name + ".key";
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
        "/CN=localhost -addext subjectAltName=DNS:localhost,DNS:127.0.0.1 -keyout " +
        k + " -out " + c + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "openssl is needed: " << cmd;
    return std::make_pair(c, k);
  };
  auto [crt, key] = cert("server");
  auto [other, other_key] = cert("other");
  std::string sys = first_line(run("token add system --db " + p.db()).out);
  auto no_flag = run("serve " + p.path() + " --db " + p.db() + " --events tcp://127.0.0.1:0");
  EXPECT_EQ(no_flag.code, 2) << no_flag.out;
  EXPECT_NE(no_flag.out.find("--public-events"), std::string::npos) << no_flag.out;
  Serving s(p, {"--listen", "tls+tcp://127.0.0.1:0", "--tls-cert", crt, "--tls-key", key});
  ASSERT_EQ(s.url.rfind("tls+tcp://127.0.0.1:", 0), 0u) << s.url;
  std::string to = "--connect " + s.url + " --token " + sys + " ";
  auto ok = run(to + "--tls-ca " + crt + " tasks list");
  EXPECT_EQ(ok.code, 0) << ok.out;
  auto none = run(to + "tasks list");
  EXPECT_EQ(none.code, 3) << none.out;
  EXPECT_NE(none.out.find("--tls-ca"), std::string::npos) << none.out;
  auto wrong = run(to + "--tls-ca " + other + " tasks list");
  EXPECT_EQ(wrong.code, 3) << wrong.out;
  EXPECT_NE(wrong.out.find("not signed by the CA"), std::string::npos) << wrong.out;
  EXPECT_EQ(s.stop(), 0);
}

// The manifest's scenario may not lead out of the project (a symlink to another file printed its lines in
// "unknown key" errors); a file with thousands of problems lists at most 100 of them.
TEST(CliScenario, TheManifestsScenarioStaysInTheProjectAndProblemsAreCapped) {
  ShopProject p;
  std::string outside = p.path() + "-outside.yaml";
  {
    std::ofstream f(outside);
    f << "secret-line-one: 1\nsecret-line-two: 2\n";
  }
  std::filesystem::create_directories(p.path() + "/scenarios");
  std::filesystem::create_symlink(outside, p.path() + "/scenarios/evil.yaml");
  std::ofstream(p.path() + "/orgos.yaml", std::ios::app) << "scenario: scenarios/evil.yaml\n";
  auto r = run("run " + p.path());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out.find("secret-line"), std::string::npos) << r.out;
  // Named explicitly, a file with 5,000 misspelt keys: 100 listed, the rest counted.
  std::string many = p.path() + "-many.yaml";
  {
    std::ofstream f(many);
    f << "steps: []\n";
    for (int i = 0; i < 5000; ++i) f << "k" << i << ": 1\n";
  }
  auto m = run("run " + p.path() + " -s " + many);
  EXPECT_EQ(m.code, 1);
  EXPECT_NE(m.out.find("more problems not shown"), std::string::npos) << m.out.substr(0, 500);
  EXPECT_LT(std::count(m.out.begin(), m.out.end(), '\n'), 150) << m.out.substr(0, 500);
  std::filesystem::remove(outside);
  std::filesystem::remove(many);
}
