// Each orgctl verb lives in its own file (cmd_<verb>.cpp) and registers itself with the CLI here.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/driver/build.h"
#include "runtime/workflow/engine.h"

namespace orgctl {

// Exit codes, documented in docs/cli.md: 0 success, 1 the input has errors (diagnostics printed),
// 2 bad usage (unknown flag, missing argument), 3 an I/O problem outside the input (cannot write, no
// store, no server), 4 the engine or server refused the request (an error reply: its code is printed).
inline constexpr int kExitOk = 0;
inline constexpr int kExitInputErrors = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitIo = 3;
inline constexpr int kExitRefused = 4;

// Shared flags and terminal facts.
struct Globals {
  bool colour = false;  // stderr is a TTY and NO_COLOR is unset
  std::string connect;  // --connect URL: verbs that can talk to `orgctl serve` do
  std::string token;    // --token (or ORGOS_TOKEN): the API token sent with each request
  std::string tls_ca;   // --tls-ca (or ORGOS_TLS_CA): the CA a tls+tcp:// server's certificate must chain to
  bool tls_insecure = false;  // --tls-insecure: a tls+tcp:// server is not checked (encrypted, unproven)
};
Globals& globals();

// Compile-or-load the project; on failure prints why and throws the verb's exit code (1 or 3).
orgos::driver::Built build_or_exit(const orgos::driver::BuildOptions& opts);

// A bundle path given with `flag` (compile -o, run --bundle) that names something other than a file (a
// directory, say): prints why and throws exit 3. The bundle is written and read as one file.
void check_bundle_path(const std::string& bundle, const char* flag);

// `--engine jit|interp` (default jit) on a verb that runs compiled code, and its engine setting.
CLI::Option* add_engine_option(CLI::App* cmd, std::string& engine);
orgos::workflow::ExecEngine exec_engine(const std::string& engine);

// A project (folder or bundle) with the store of a run and an engine over both (`--db FILE`).
struct Opened {
  orgos::bundle::Bundle bundle;
  std::unique_ptr<orgos::store::Store> store;
  std::unique_ptr<orgos::workflow::Engine> engine;
};
// On failure prints why and throws the verb's exit code (1 source errors, 3 no store, or one that cannot be
// read with this project). An empty `db` means the project's own store, project_store(path). The store is
// opened read-only, so these verbs work beside a server that owns it.
std::unique_ptr<Opened> open_project(const std::string& path, const std::string& db,
                                     const std::string& engine);
// A store that cannot be opened or read (missing, damaged, of another project or version, in use by another
// writer, a failed commit): prints the error and what to do, and throws exit 3.
[[noreturn]] void store_failed(const orgos::store::StoreError& e);
// A verb's callback in which a StoreError it does not handle itself (a store that cannot be read, a failed
// commit on a full disk) is reported by store_failed (exit 3) instead of aborting orgctl.
template <typename F>
std::function<void()> with_store_errors(F f) {
  return [f]() {
    try {
      f();
    } catch (const orgos::store::StoreError& e) {
      store_failed(e);
    }
  };
}
// The durable store a project keeps by default: `.orgos/state.db` in the project folder (for a bundle or
// file, in its folder). `serve` creates it; the verbs that read a store use it when no --db is given.
std::string project_store(const std::string& path);
// Where a tasks/events/instances/metrics verb runs: on a server (--connect URL, the token's actor acts)
// or in-process on a local store (PATH --db FILE, --as ACTOR acts). Both take the same protocol requests
// (runtime/net/protocol.h), so they behave the same.
struct Target {
  std::string path = ".", db, engine = "jit", as;
};
// PATH, --db, --engine and (when an actor can act) --as on `cmd`.
void add_target_options(CLI::App* cmd, Target& t, bool acts);
// Runs one request; an error reply is printed (code, message, what to do) and throws exit 4; no server or
// no store throws exit 3.
nlohmann::json request(const Target& t, nlohmann::json req);
std::string target_footer();

// The JSON object given with `flag` (-p/--payload, --data), read strictly (runtime/net/strict_json.h): too
// deep, not JSON, a key twice, a number out of range or not an object prints what and where and throws
// exit 2. `example` is shown as a value that would do.
nlohmann::json json_object_option(const std::string& text, const std::string& flag,
                                  const std::string& example);
// A transform for an id option: decimal digits within int64, else a usage error that says so (CLI11 alone
// clamps 99999999999999999999 to INT64_MAX and reads 010 as octal).
CLI::Validator whole_number();

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
void register_serve(CLI::App& app);
void register_token(CLI::App& app);
void register_tasks(CLI::App& app);
void register_events(CLI::App& app);
// `store backup` (cmd_store.cpp); more `store` subcommands register there.
void register_store(CLI::App& app);
// `store verify` (cmd_store_verify.cpp), under the `store` verb made by register_store.
void register_store_verify(CLI::App* store);

}  // namespace orgctl
