// orgctl compile PATH — check, lower and write the project's bundle (IR + content hash).
#include <chrono>
#include <filesystem>
#include <iostream>

#include "compiler/diag/renderer.h"
#include "compiler/driver/build.h"
#include "compiler/ir/dump.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

void register_compile(CLI::App& app) {
  struct Opts {
    std::string path = ".";
    std::string output;
    std::string stdlib;
    bool force = false;
    bool dump = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd =
      app.add_subcommand("compile", "Check and compile a project into a bundle (.orgb) that `run` loads");
  cmd->add_option("path", opts->path, "project folder or .org file (default: .)");
  cmd->add_option("-o,--output", opts->output, "bundle file (default: PROJECT/.orgos/bundle.orgb)");
  cmd->add_flag("--force", opts->force, "rebuild even if the bundle is up to date");
  cmd->add_flag("--dump", opts->dump, "print the compiled IR: functions and process steps");
  cmd->add_option("--stdlib", opts->stdlib, "the standard library folder");
  cmd->footer(
      "Examples:\n"
      "  orgctl compile examples/acme              writes examples/acme/.orgos/bundle.orgb\n"
      "  orgctl compile spend.org -o spend.orgb\n"
      "Exit codes: 0 written (or already current), 1 the sources have errors, 3 cannot write the bundle.");
  cmd->callback([opts]() {
    auto t0 = std::chrono::steady_clock::now();
    orgos::driver::BuildOptions bo;
    bo.check.inputs = {opts->path};
    bo.check.stdlib_dir = opts->stdlib;
    check_bundle_path(opts->output, "-o");
    bo.bundle_path = opts->output;
    bo.force = opts->force;
    auto b = build_or_exit(bo);
    if (opts->dump) std::cout << orgos::ir::dump(b.bundle.module, b.bundle.program);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << (b.from_cache ? "up to date: " : "compiled: ") << b.bundle_path << " ("
              << b.bundle.module.functions.size() << " functions, " << b.bundle.module.tables.size()
              << " tables, " << b.bundle.files.size() << " source files, " << static_cast<int>(ms)
              << " ms)\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

void check_bundle_path(const std::string& bundle, const char* flag) {
  std::error_code ec;
  auto st = std::filesystem::status(bundle, ec);
  if (bundle.empty() || !std::filesystem::exists(st) || std::filesystem::is_regular_file(st)) return;
  // A file in it is a fitting example only for a directory: under /dev/null or a FIFO it is nonsense.
  bool dir = std::filesystem::is_directory(st);
  std::cerr << "error: " << flag << " `" << bundle << "` is " << (dir ? "a directory" : "not a regular file")
            << "; a bundle is one file\n  hint: name a file, e.g. " << flag << " "
            << (dir ? (std::filesystem::path(bundle) / "bundle.orgb").string() : std::string("app.orgb"))
            << "\n";
  throw CLI::RuntimeError(kExitIo);
}

}  // namespace orgctl
