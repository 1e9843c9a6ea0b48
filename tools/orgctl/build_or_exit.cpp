// The one way a verb turns a project into a bundle: compile-or-load, and on failure print the
// diagnostics (exit 1) or the I/O problem (exit 3) the same way for every verb.
#include <iostream>

#include "compiler/diag/renderer.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

orgos::driver::Built build_or_exit(const orgos::driver::BuildOptions& opts) {
  auto r = orgos::driver::build_or_load(opts);
  if (auto* f = std::get_if<orgos::driver::BuildFailure>(&r)) {
    if (f->compilation) {
      std::cerr << orgos::diag::render_all_text(f->compilation->sources, f->compilation->diags,
                                                {globals().colour});
      throw CLI::RuntimeError(kExitInputErrors);
    }
    std::cerr << "error: " << f->message << "\n";
    throw CLI::RuntimeError(kExitIo);
  }
  return std::move(std::get<orgos::driver::Built>(r));
}

}  // namespace orgctl
