// Native code for OrgIR through LLVM's ORC JIT. Every function of a module becomes one native function
// in one LLVM module (batched: one compile for the whole program). Arithmetic, comparisons, Money currency
// checks, field loads, branches, short-circuit logic and calls between functions are inline machine code;
// strings, lists, aggregates, builtins and decision tables call back into the evaluator (runtime support),
// so the evaluator remains the single definition of meaning. See docs and bench/RESULTS-jit.md.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/interp/native.h"
#include "compiler/ir/ir.h"

namespace orgos::codegen {

struct JitOptions {
  int opt_level = 1;  // LLVM code generation level 0..3 (bench/RESULTS-jit.md says why 1)
};

struct JitStats {
  size_t functions = 0;     // functions in the module
  size_t fallbacks = 0;     // nodes handed to runtime support
  size_t instructions = 0;  // LLVM IR instructions generated
  size_t object_bytes = 0;  // size of the object code
  double codegen_ms = 0;    // IR generation + LLVM code generation to an object, wall clock
  double load_ms = 0;       // linking the object into a JIT session and resolving every function
};

// Object code for the host of every function of the module (what a bundle caches). The code holds no
// addresses: it names runtime support by symbol and the nodes it hands back by index.
std::optional<std::vector<uint8_t>> emit_object(const ir::Module& m, const JitOptions& opts = {},
                                                JitStats* stats = nullptr, std::string* error = nullptr);

// Links object code made by emit_object for the same module into a JIT session. Refuses (null, with the
// reason in `error`) an object that is not one, is for another machine, or does not match the module.
// The result must not outlive `m`.
std::shared_ptr<const interp::NativeCode> load_object(const ir::Module& m, const std::vector<uint8_t>& object,
                                                      JitStats* stats = nullptr,
                                                      std::string* error = nullptr);

// For driver::BuildOptions::make_object: emit_object at the level bundles use, empty when it fails.
std::function<std::vector<uint8_t>(const ir::Module&)> bundle_object_maker();

// Native code for a bundle: its cached object code when it has one for this machine, else freshly
// generated (at level 0: the fastest to produce). Null when neither works; `error` says why.
std::shared_ptr<const interp::NativeCode> native_for_bundle(const ir::Module& m,
                                                            const std::vector<uint8_t>& object,
                                                            const std::string& host,
                                                            std::string* error = nullptr);

// emit_object then load_object. On failure returns null and says why; callers then run the evaluator alone.
std::shared_ptr<const interp::NativeCode> compile(const ir::Module& m, const JitOptions& opts = {},
                                                  JitStats* stats = nullptr, std::string* error = nullptr);

}  // namespace orgos::codegen
