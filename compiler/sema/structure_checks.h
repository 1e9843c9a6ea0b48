// Structural checks (lifecycle state graphs, ownership, role holders, unique-table overlaps) and the
// warnings for unused definitions and imports.
#pragma once
#include "compiler/sema/symbols.h"

namespace orgos::sema {

void structure_checks(driver::Compilation& c, Symbols& symbols);

}  // namespace orgos::sema
