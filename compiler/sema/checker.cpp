#include "compiler/sema/checker.h"

#include "compiler/driver/compilation.h"
#include "compiler/sema/process_checks.h"
#include "compiler/sema/program.h"
#include "compiler/sema/structure_checks.h"
#include "compiler/sema/symbols.h"
#include "compiler/sema/type_checker.h"

namespace orgos::sema {

void check_program(driver::Compilation& c) {
  Symbols symbols(c);
  symbols.build();
  TypeChecker(c, symbols).check_all();
  structure_checks(c, symbols);
  check_processes(c);
}

}  // namespace orgos::sema
