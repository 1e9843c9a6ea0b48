// orgctl check PATH… — parse and check sources; exit 0 when clean, 1 when the input has errors.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/sema/org_structure.h"
#include "tools/orgctl/commands.h"

namespace orgctl {
namespace {

// The derived group structure of the orgs in the checked project (not of imported packages).
void print_structure(const orgos::driver::Compilation& c, bool json) {
  std::vector<const orgos::ast::OrgDecl*> orgs;
  for (auto& f : c.files)
    if (f.root)
      for (auto& d : f.module->decls)
        if (d->kind == orgos::ast::DeclKind::Org)
          orgs.push_back(orgos::ast::as<orgos::ast::OrgDecl>(d.get()));
  auto facts = orgos::sema::derive_org_structure(orgs);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (auto& f : facts)
      out.push_back({{"org", f.name},
                     {"parent", f.parent},
                     {"subsidiaries", f.subsidiaries},
                     {"effective_ownership_percent", f.effective_ownership},
                     {"manages", f.managed},
                     {"licenses_ip_to", f.licensees}});
    std::cout << nlohmann::json{{"orgs", out}}.dump(2) << "\n";
    return;
  }
  for (auto& f : facts) {
    std::cout << f.name;
    if (!f.parent.empty()) std::cout << " (controlled by " << f.parent << ")";
    std::cout << "\n";
    for (auto& s : f.subsidiaries) {
      auto it = f.effective_ownership.find(s);
      std::cout << "  subsidiary " << s;
      if (it != f.effective_ownership.end()) std::cout << " — look-through ownership " << it->second << "%";
      std::cout << "\n";
    }
    for (auto& [o, pct] : f.effective_ownership)
      if (std::find(f.subsidiaries.begin(), f.subsidiaries.end(), o) == f.subsidiaries.end())
        std::cout << "  holds " << pct << "% of " << o << "\n";
    for (auto& m : f.managed) std::cout << "  manages " << m << "\n";
    for (auto& l : f.licensees) std::cout << "  licenses IP to " << l << "\n";
  }
}

}  // namespace

void register_check(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    bool json = false;
    bool deny_warnings = false;
    bool structure = false;
    std::string stdlib;
    std::vector<std::string> package_dirs;
    bool follow_symlinks = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("check",
                                 "Parse and check OrgOS sources: names, types, processes, roles, lifecycles");
  cmd->add_option("paths", opts->paths, "files or project folders (a folder holding orgos.yaml)")->required();
  cmd->add_flag("--json", opts->json, "print diagnostics as JSON on stdout");
  cmd->add_flag("--deny-warnings", opts->deny_warnings, "treat warnings as errors (exit 1)");
  cmd->add_flag("--structure", opts->structure,
                "also print the org structure derived from ownership and control relations");
  cmd->add_option("--stdlib", opts->stdlib, "the standard library folder (default: the installed one)");
  cmd->add_option("--packages", opts->package_dirs, "folders of installed packages");
  cmd->add_flag(
      "--follow-symlinks", opts->follow_symlinks,
      "read source files that are symlinks leading out of their project folder (refused by default)");
  cmd->footer(
      "Examples:\n"
      "  orgctl check examples/acme          check a project\n"
      "  orgctl check spend.org --json        machine-readable diagnostics\n"
      "  orgctl check group/ --structure      subsidiaries and look-through ownership\n"
      "Exit codes: 0 clean, 1 the input has errors, 2 bad usage.");
  cmd->callback([opts]() {
    orgos::driver::CheckOptions co;
    co.inputs = opts->paths;
    co.stdlib_dir = opts->stdlib;
    co.package_dirs = opts->package_dirs;
    co.follow_symlinks = opts->follow_symlinks;
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
    if (opts->structure && !c->diags.has_errors()) print_structure(*c, opts->json);
    bool failed = c->diags.has_errors() || (opts->deny_warnings && c->diags.warning_count() > 0);
    throw CLI::RuntimeError(failed ? kExitInputErrors : kExitOk);
  });
}

}  // namespace orgctl
