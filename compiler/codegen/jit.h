// Native code for OrgIR through LLVM's ORC JIT. Every function of a module becomes one native function
// in one LLVM module (batched: one compile for the whole program). Arithmetic, comparisons, Money currency
// checks, field loads, branches, short-circuit logic and calls between functions are inline machine code;
// strings, lists, aggregates, builtins and decision tables call back into the evaluator (runtime support),
// so the evaluator remains the single definition of meaning. See docs and bench/RESULTS-jit.md.
#pragma once
#include <memory>
#include <string>

#include "compiler/interp/native.h"
#include "compiler/ir/ir.h"

namespace orgos::codegen {

struct JitOptions {
  int opt_level = 1;  // LLVM code generation level 0..3 (bench/RESULTS-jit.md says why 1)
};

struct JitStats {
  size_t functions = 0;   // functions in the module
  size_t fallbacks = 0;   // nodes handed to runtime support
  double compile_ms = 0;  // IR generation + LLVM code generation, wall clock
};

// Compiles the module. The result must not outlive `m` (generated code points into its nodes). On
// failure returns null and says why in `error`; callers then run the evaluator alone.
std::shared_ptr<const interp::NativeCode> compile(const ir::Module& m, const JitOptions& opts = {},
                                                  JitStats* stats = nullptr, std::string* error = nullptr);

}  // namespace orgos::codegen
