// orgctl run PATH — load the project's bundle (compiling it only when the sources changed) and run it.
// At this stage of the engine it evaluates the organization's metrics; scenarios and the workflow
// runtime plug in here as they land.
#include <chrono>
#include <iostream>

#include "compiler/diag/renderer.h"
#include "compiler/driver/build.h"
#include "compiler/interp/evaluator.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

void register_run(CLI::App& app) {
  struct Opts {
    std::string path = ".";
    std::string bundle;
    std::string engine = "interp";
    std::string stdlib;
    bool timing = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("run", "Run a project: load its bundle (compiling only if the sources changed)");
  cmd->add_option("path", opts->path, "project folder or .org file (default: .)");
  cmd->add_option("--bundle", opts->bundle, "bundle file (default: PROJECT/.orgos/bundle.orgb)");
  cmd->add_option("--engine", opts->engine, "how compiled code runs: interp (the reference interpreter)")
      ->check(CLI::IsMember({"interp"}));
  cmd->add_option("--stdlib", opts->stdlib, "the standard library folder");
  cmd->add_flag("--timing", opts->timing, "print how long loading took");
  cmd->footer(
      "Examples:\n"
      "  orgctl run examples/acme\n"
      "  orgctl run examples/acme --engine interp --timing\n"
      "Exit codes: 0 ran, 1 the sources have errors or a run-time error occurred, 3 cannot write the "
      "bundle.");
  cmd->callback([opts]() {
    auto t0 = std::chrono::steady_clock::now();
    orgos::driver::BuildOptions bo;
    bo.check.inputs = {opts->path};
    bo.check.stdlib_dir = opts->stdlib;
    bo.bundle_path = opts->bundle;
    auto r = orgos::driver::build_or_load(bo);
    if (auto* f = std::get_if<orgos::driver::BuildFailure>(&r)) {
      if (f->compilation) {
        std::cerr << orgos::diag::render_all_text(f->compilation->sources, f->compilation->diags,
                                                  {globals().colour});
        throw CLI::RuntimeError(kExitInputErrors);
      }
      std::cerr << "error: " << f->message << "\n";
      throw CLI::RuntimeError(kExitIo);
    }
    auto& b = std::get<orgos::driver::Built>(r);
    double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const auto& prog = b.bundle.program;
    const auto& mod = b.bundle.module;
    for (const auto& org : prog.orgs)
      std::cout << "org " << org.name << " (" << org.units.size() << " units, " << org.positions.size()
                << " positions)\n";
    std::cout << prog.processes.size() << " processes, " << prog.rules.size() << " rules, "
              << prog.policies.size() << " policies, " << mod.functions.size() << " compiled functions\n";
    orgos::interp::Evaluator ev(mod);
    bool failed = false;
    for (const auto& m : prog.metrics) {
      auto o = ev.call(m.formula, {});
      if (!o.ok()) {
        std::cout << "metric " << m.name << ": error: " << o.error->message << "\n";
        failed = true;
        continue;
      }
      std::cout << "metric " << m.name << " = " << orgos::interp::to_string(o.value, &mod);
      if (m.target != orgos::ir::kNone) {
        auto t = ev.call(m.target, {});
        if (t.ok())
          std::cout << "  (target " << orgos::ir::op_name(static_cast<orgos::ir::Op>(m.target_op)) << " "
                    << orgos::interp::to_string(t.value, &mod) << ")";
      }
      std::cout << "\n";
    }
    if (opts->timing)
      std::cerr << (b.from_cache ? "loaded cached bundle" : "compiled") << " in " << load_ms << " ms"
                << (b.stale_reason.empty() ? "" : " (" + b.stale_reason + ")") << "\n";
    throw CLI::RuntimeError(failed ? kExitInputErrors : kExitOk);
  });
}

}  // namespace orgctl
