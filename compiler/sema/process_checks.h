// Structural checks of processes on their control-flow graphs (built with Boost.Graph): every step
// reachable, every path reaches the end, no join that can deadlock, no loop (through sub-processes)
// without a wait.
#pragma once

namespace orgos::driver {
struct Compilation;
}

namespace orgos::sema {

void check_processes(driver::Compilation& c);

}  // namespace orgos::sema
