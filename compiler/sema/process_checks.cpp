#include "compiler/sema/process_checks.h"

#include "compiler/driver/compilation.h"

namespace orgos::sema {

void check_processes(driver::Compilation&) {}

}  // namespace orgos::sema
