// orgctl check PATH… — parse and check sources; exit 0 when clean, 1 when the input has errors.
#include <iostream>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

void register_check(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    bool json = false;
    bool deny_warnings = false;
    std::string stdlib;
    std::vector<std::string> package_dirs;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("check",
                                 "Parse and check OrgOS sources: names, types, processes, roles, lifecycles");
  cmd->add_option("paths", opts->paths, "files or project folders (a folder holding orgos.yaml)")->required();
  cmd->add_flag("--json", opts->json, "print diagnostics as JSON on stdout");
  cmd->add_flag("--deny-warnings", opts->deny_warnings, "treat warnings as errors (exit 1)");
  cmd->add_option("--stdlib", opts->stdlib, "the standard library folder (default: the installed one)");
  cmd->add_option("--packages", opts->package_dirs, "folders of installed packages");
  cmd->footer(
      "Examples:\n"
      "  orgctl check examples/acme          check a project\n"
      "  orgctl check spend.org --json        machine-readable diagnostics\n"
      "Exit codes: 0 clean, 1 the input has errors, 2 bad usage.");
  cmd->callback([opts]() {
    orgos::driver::CheckOptions co;
    co.inputs = opts->paths;
    co.stdlib_dir = opts->stdlib;
    co.package_dirs = opts->package_dirs;
    auto c = orgos::driver::check(co);
    if (opts->json) {
      std::cout << orgos::diag::render_json(c->sources, c->diags);
    } else {
      std::cerr << orgos::diag::render_all_text(c->sources, c->diags, {globals().colour});
      if (!c->diags.has_errors()) {
        size_t decls = 0;
        for (auto& f : c->files)
          if (f.root) decls += f.module->decls.size();
        std::cerr << "ok: " << c->files.size() << " files, " << decls << " declarations checked\n";
      }
    }
    bool failed = c->diags.has_errors() || (opts->deny_warnings && c->diags.warning_count() > 0);
    throw CLI::RuntimeError(failed ? kExitInputErrors : kExitOk);
  });
}

}  // namespace orgctl
