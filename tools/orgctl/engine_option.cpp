// `--engine jit|interp`, the same on every verb that runs compiled code (run, instances, metrics).
#include <string>

#include "tools/orgctl/commands.h"

namespace orgctl {

CLI::Option* add_engine_option(CLI::App* cmd, std::string& engine) {
  return cmd
      ->add_option(
          "--engine", engine,
          "how compiled code runs: jit (native code, the default) or interp (the reference interpreter)")
      ->check(CLI::IsMember({"jit", "interp"}));
}

orgos::workflow::ExecEngine exec_engine(const std::string& engine) {
  return engine == "interp" ? orgos::workflow::ExecEngine::Interp : orgos::workflow::ExecEngine::Jit;
}

}  // namespace orgctl
