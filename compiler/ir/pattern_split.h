// Splits a rule pattern's condition into the parts a match network evaluates at different places:
// conjuncts over the pattern's own fact (alpha), equalities between the earlier facts and this one
// (hashed join keys), one `fact.field == constant` (alpha index) and the rest (beta). The parts are
// new functions appended to the module; the original condition stays for explanations.
#pragma once
#include "compiler/ir/ir.h"
#include "compiler/ir/program.h"

namespace orgos::ir {

// `self` is the parameter index of the pattern's own fact in `pattern.condition` (kNone for an
// accumulation, whose `reads` are filled instead).
void split_pattern(Module& m, PatternIR& pattern, uint32_t self);

}  // namespace orgos::ir
