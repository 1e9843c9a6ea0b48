// The contract between the evaluator and native code generated for a module (compiler/codegen). The
// evaluator stays the definition of meaning: native code computes the common operations inline and hands
// every other node back to the evaluator through runtime support, so both paths share one semantics.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "compiler/ir/value.h"

namespace orgos::ir {
struct Node;
}

namespace orgos::interp {

class Evaluator;

// Passed to every native function. Plain C layout: generated code reads `today` and `depth` directly.
struct NativeCtx {
  Evaluator* eval;               // runtime support reaches the evaluator (arena, host) through this
  int64_t today;                 // the engine clock's date (days since 1970-01-01)
  int32_t* depth;                // the evaluator's call depth, shared so both paths stop at the same limit
  const ir::Node* const* nodes;  // NativeCode::nodes: code names the nodes it hands back by index, so
                                 // object code holds no addresses and can be cached in a bundle
};

// A compiled function: reads its parameters from `args`, writes its result to `out`. Returns kNativeOk,
// 1 + ErrorKind for an error the native code detected itself (the evaluator re-runs the call to word the
// message), or kNativeRaised when runtime support already recorded the error in the evaluator.
using NativeFn = int32_t (*)(const ir::Value* args, ir::Value* out, NativeCtx* ctx);
inline constexpr int32_t kNativeOk = 0;
inline constexpr int32_t kNativeRaised = 100;

struct NativeCode {
  std::vector<NativeFn> functions;                // one per module function (null: run by the evaluator)
  std::vector<std::vector<NativeFn>> table_rows;  // per table, per row: its condition (null: none)
  std::vector<const ir::Node*> nodes;             // the nodes native code hands to the evaluator, by index
  std::shared_ptr<void> owner;                    // keeps the code alive (the JIT session)
};

}  // namespace orgos::interp
