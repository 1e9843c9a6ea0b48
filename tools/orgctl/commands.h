// Each orgctl verb lives in its own file (cmd_<verb>.cpp) and registers itself with the CLI here.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "compiler/driver/build.h"
#include "runtime/workflow/engine.h"

namespace orgctl {

// Exit codes, documented in docs/cli.md: 0 success, 1 the input has errors (diagnostics printed),
// 2 bad usage (unknown flag, missing argument), 3 an I/O problem outside the input (cannot write).
inline constexpr int kExitOk = 0;
inline constexpr int kExitInputErrors = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitIo = 3;

// Shared flags and terminal facts.
struct Globals {
  bool colour = false;  // stderr is a TTY and NO_COLOR is unset
};
Globals& globals();

// Compile-or-load the project; on failure prints why and throws the verb's exit code (1 or 3).
orgos::driver::Built build_or_exit(const orgos::driver::BuildOptions& opts);

// `--engine jit|interp` (default jit) on a verb that runs compiled code, and its engine setting.
CLI::Option* add_engine_option(CLI::App* cmd, std::string& engine);
orgos::workflow::ExecEngine exec_engine(const std::string& engine);

// A project (folder or bundle) with the store of a run and an engine over both (`--db FILE`).
struct Opened {
  orgos::bundle::Bundle bundle;
  std::unique_ptr<orgos::store::Store> store;
  std::unique_ptr<orgos::workflow::Engine> engine;
};
// On failure prints why and throws the verb's exit code (1 source errors, 3 no store).
std::unique_ptr<Opened> open_project(const std::string& path, const std::string& db,
                                     const std::string& engine);

void register_check(CLI::App& app);
void register_fmt(CLI::App& app);
void register_graph(CLI::App& app);
void register_compile(CLI::App& app);
void register_run(CLI::App& app);
void register_audit(CLI::App& app);
void register_new(CLI::App& app);
void register_instances(CLI::App& app);
void register_metrics(CLI::App& app);
void register_explain(CLI::App& app);

}  // namespace orgctl
