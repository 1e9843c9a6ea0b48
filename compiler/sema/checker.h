// The semantic checks of a compilation, run in order: declarations are collected per package, names
// and types are resolved and checked, then the structural checks (process graphs, lifecycles, org
// relations, tables, roles) and the warnings for duplicates and unused definitions.
#pragma once

namespace orgos::driver {
struct Compilation;
}

namespace orgos::sema {

void check_program(driver::Compilation& c);

}  // namespace orgos::sema
