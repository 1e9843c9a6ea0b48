// What generated code and the loader of object code must agree on, with no LLVM in it: which IR nodes are
// compiled inline and which go to runtime support (and how those are numbered), the program fingerprint
// object code carries, and the names of row symbols. The generator (jit.cpp) and the loader
// (object_loader.cpp) both use it; keeping it apart lets a process that only runs bundles link the loader
// without LLVM's code generator.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/ir.h"

namespace orgos::codegen {

inline bool wide(ir::Kind k) {
  return k == ir::Kind::Dec || k == ir::Kind::Money;
}
inline bool int_like(ir::Kind k) {
  return k == ir::Kind::Int || k == ir::Kind::Bool || k == ir::Kind::Date || k == ir::Kind::Dur ||
         k == ir::Kind::Enum;
}
inline bool numeric(ir::Kind k) {
  return int_like(k) || wide(k);
}

bool compiled_inline(const ir::Node& n);
// Every body that becomes native code, in the order both the generator and the loader number them: the
// module's functions, then each decision table's row conditions, table by table, row by row.
void collect_all_fallbacks(const ir::Module& m, std::vector<const ir::Node*>& out);
uint64_t ir_fingerprint(const ir::Module& m);
std::string row_symbol(size_t table, size_t row);

}  // namespace orgos::codegen
