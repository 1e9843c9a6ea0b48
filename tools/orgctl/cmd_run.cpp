// orgctl run PATH — load the project's bundle (compiling it only when the sources changed) and play a
// scenario on the workflow engine: the trace as it happens, then the KPIs. With no --scenario, the one
// named in the project's manifest is played; with none there, the metrics are evaluated on an empty org.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include "compiler/diag/renderer.h"
#include "compiler/driver/build.h"
#include "compiler/sema/manifest.h"
#include "compiler/source/source_reader.h"
#include "runtime/scenario/scenario.h"
#include "runtime/store/store.h"
#include "runtime/workflow/engine.h"
#include "runtime/workflow/project_identity.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace {

// The scenario the manifest names, relative to the project folder ("" when none).
std::string default_scenario(const std::string& project) {
  std::error_code ec;
  if (!std::filesystem::is_directory(project, ec) ||
      !std::filesystem::exists(std::filesystem::path(project) / orgos::sema::kManifestName, ec))
    return "";
  orgos::source::SourceManager sm;
  orgos::diag::DiagnosticEngine de;
  auto m = orgos::sema::read_manifest(project, sm, de);
  if (!m || m->scenario.empty()) return "";
  return (std::filesystem::path(project) / m->scenario).string();
}

}  // namespace

void register_run(CLI::App& app) {
  struct Opts {
    std::string path = ".";
    std::string scenario, db, bundle, stdlib;
    std::string engine = "jit";
    bool timing = false, quiet = false, json = false;
    size_t group_commit = 64;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("run", "Run a project: play a scenario on the workflow engine and show the KPIs");
  cmd->add_option("path", opts->path, "project folder or .org file (default: .)");
  cmd->add_option("-s,--scenario", opts->scenario, "scenario file (default: the one named in orgos.yaml)");
  cmd->add_option(
      "--db", opts->db,
      "SQLite store to run on (default: in memory). A store holding an interrupted run resumes it");
  cmd->add_option("--bundle", opts->bundle, "bundle file (default: PROJECT/.orgos/bundle.orgb)");
  add_engine_option(cmd, opts->engine);
  cmd->add_option("--group-commit", opts->group_commit,
                  "scenario steps per store transaction (one fsync each); 1 commits every step alone")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--stdlib", opts->stdlib, "the standard library folder");
  cmd->add_flag("-q,--quiet", opts->quiet, "print only the KPIs and the verdict, not the trace");
  cmd->add_flag("--timing", opts->timing, "print how long loading and running took");
  cmd->footer(
      "Examples:\n"
      "  orgctl run examples/acme                          the manifest's scenario, in memory\n"
      "  orgctl run examples/acme -s examples/acme/scenarios/ninety-days.yaml --db acme.db   durable\n"
      "Exit codes: 0 the scenario ran and every expectation held; 1 the sources have errors, a step was\n"
      "refused unexpectedly or an expectation failed; 2 bad usage; 3 cannot open the store or write the "
      "bundle.");
  cmd->callback(with_store_errors([opts]() {
    auto t0 = std::chrono::steady_clock::now();
    // A folder to run is a project: without orgos.yaml, reading every .org file below it (a home folder)
    // would take long and mean nothing.
    if (std::error_code ec;
        std::filesystem::is_directory(opts->path, ec) &&
        !std::filesystem::exists(std::filesystem::path(opts->path) / orgos::sema::kManifestName, ec)) {
      std::cerr << "error: `" << opts->path << "` is not a project folder: it holds no orgos.yaml\n"
                << "  hint: give a project folder (`orgctl new NAME` makes one) or a single .org file\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    orgos::driver::BuildOptions bo;
    bo.check.inputs = {opts->path};
    bo.check.stdlib_dir = opts->stdlib;
    check_bundle_path(opts->bundle, "--bundle");
    bo.bundle_path = opts->bundle;
    // A bundle named to be run is run only if it authenticates; it is not silently rebuilt in its place.
    if (!opts->bundle.empty()) bo.untrusted = orgos::driver::BuildOptions::Untrusted::Refuse;
    auto b = build_or_exit(bo);
    double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::string scenario = opts->scenario.empty() ? default_scenario(opts->path) : opts->scenario;
    if (opts->scenario.empty() && !scenario.empty()) {
      // The manifest's scenario is the project's: like its sources, it may not lead out of the project
      // (`scenario: ../../etc/shadow`, or a symlink there, printed that file's lines in diagnostics). A
      // file named with --scenario is the user's own choice.
      orgos::source::ReadPolicy within;
      within.root = opts->path;
      auto read = orgos::source::read_source_file(scenario, within);
      if (!read.ok() && read.problem != orgos::source::ReadProblem::Missing) {
        std::cerr << "error: " << read.message << " (the scenario orgos.yaml names)\n";
        if (read.problem == orgos::source::ReadProblem::OutsideProject)
          std::cerr << "  hint: copy the file into the project, or name it yourself with --scenario FILE\n";
        else if (!read.hint.empty())
          std::cerr << "  hint: " << read.hint << "\n";
        throw CLI::RuntimeError(kExitInputErrors);
      }
    }
    int64_t start = 0;
    if (!scenario.empty()) {
      std::string err;
      start = orgos::scenario::start_time(scenario, err);
      if (!err.empty()) {
        std::cerr << "error: " << err << "\n";
        throw CLI::RuntimeError(kExitInputErrors);
      }
    }
    std::unique_ptr<orgos::store::Store> store;
    try {
      store = std::make_unique<orgos::store::Store>(opts->db.empty() ? ":memory:" : opts->db);
    } catch (const orgos::store::StoreError& e) {
      store_failed(e);
    }
    orgos::workflow::EngineOptions eo;
    eo.start_time = start;
    eo.exec = exec_engine(opts->engine);
    eo.project = orgos::workflow::project_name(opts->path);
    if (!opts->quiet) eo.trace = [](const std::string& line) { std::cout << line << "\n"; };
    orgos::workflow::Engine engine(b.bundle, *store, eo);
    double ready_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!engine.jit_error().empty())
      std::cerr << "warning: running with the interpreter: native code generation failed: "
                << engine.jit_error() << "\n";
    for (const auto& org : b.bundle.program.orgs)
      std::cout << "org " << org.name << ": " << org.units.size() << " units, " << org.positions.size()
                << " positions, " << b.bundle.program.processes.size() << " processes, "
                << b.bundle.program.rules.size() << " rules\n";
    orgos::scenario::Result res;
    bool progress = isatty(STDERR_FILENO) && opts->quiet;
    if (!scenario.empty()) {
      orgos::scenario::Options so;
      so.group_commit = opts->group_commit;
      if (progress)
        so.on_step = [](const std::string& where, size_t i, size_t total) {
          // A bar on a terminal for long simulations: [#######-------]  45/90  scenarios/q1.yaml:120
          size_t width = 30, done = total ? i * width / total : width;
          std::cerr << "\r\x1b[K[" << std::string(done, '#') << std::string(width - done, '-') << "] " << i
                    << "/" << total << "  " << where << std::flush;
        };
      res = orgos::scenario::run(scenario, engine, so);
      if (progress) std::cerr << "\r\x1b[K";
    } else {
      res.metrics = engine.metrics();
    }
    std::cout << "\nKPIs\n";
    size_t width = 0;
    auto kpis = engine.kpis();
    for (auto& k : kpis) width = std::max(width, k.name.size() + 3 + k.value.size());
    for (auto& k : kpis) {
      std::string line = k.name + " = " + k.value;
      std::cout << "  " << line;
      if (!k.target.empty() || k.warn || k.alert) std::cout << std::string(width - line.size() + 2, ' ');
      if (!k.target.empty()) std::cout << "target " << k.target << ": " << k.verdict;
      if (k.alert)
        std::cout << (k.target.empty() ? "" : ", ") << "ALERT";
      else if (k.warn)
        std::cout << (k.target.empty() ? "" : ", ") << "warning";
      std::cout << "\n";
    }
    // Where every process ended up, and what the access checks decided.
    std::map<std::string, int> by_status;
    for (auto& i : engine.instances()) by_status[i.status]++;
    std::cout << "\ninstances:";
    if (by_status.empty()) std::cout << " none";
    bool first = true;
    for (auto& [status, n] : by_status) {
      std::cout << (first ? " " : ", ") << n << " " << status;
      first = false;
    }
    int refused = 0;
    auto audit = store->audit_entries();
    std::erase_if(audit, [](auto& a) { return a.kind != orgos::store::AuditKind::Access; });
    for (auto& a : audit) refused += a.decision == "refused";
    std::cout << "; open tasks: " << engine.tasks().size() << "; decisions audited: " << audit.size() << " ("
              << refused << " refused)\n";
    if (!scenario.empty()) {
      std::cout << res.steps << " steps";
      if (res.skipped) std::cout << " (" << res.skipped << " already in the store: resumed)";
      std::cout << "\n";
    }
    // Each problem under its own name: a refused step is not a failed expectation.
    for (auto& f : res.found) std::cerr << orgos::scenario::label(f.kind) << ": " << f.text << "\n";
    if (opts->timing)
      std::cerr << (b.from_cache ? "loaded cached bundle" : "compiled") << " in " << load_ms
                << " ms, engine ready (store open, "
                << (eo.exec == orgos::workflow::ExecEngine::Jit ? "native code" : "interpreter") << ") at "
                << ready_ms << " ms, ran in "
                << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() -
                       ready_ms
                << " ms\n";
    bool metric_error = false;
    for (auto& [n, v] : res.metrics) metric_error = metric_error || v.rfind("error:", 0) == 0;
    throw CLI::RuntimeError(res.ok && !metric_error ? kExitOk : kExitInputErrors);
  }));
}

}  // namespace orgctl
