// The one way a verb turns a project into a bundle: compile-or-load, and on failure print the
// diagnostics (exit 1) or the I/O problem (exit 3) the same way for every verb.
#include <iostream>

#include "compiler/codegen/jit.h"
#include "compiler/diag/renderer.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

orgos::driver::Built build_or_exit(const orgos::driver::BuildOptions& given) {
  // Every bundle orgctl writes carries the host object code, so later runs start without code generation.
  orgos::driver::BuildOptions opts = given;
  if (!opts.make_object) opts.make_object = orgos::codegen::bundle_object_maker();
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
