#include "compiler/sema/checker.h"

#include "compiler/driver/compilation.h"
#include "compiler/sema/process_checks.h"
#include "compiler/sema/program.h"

namespace orgos::sema {

void check_program(driver::Compilation& c) { check_processes(c); }

}  // namespace orgos::sema
