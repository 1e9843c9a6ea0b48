// Which fields of an ir::Step each step kind may carry. ir::Step holds the fields of every kind side by
// side; a field set on a kind that never reads it (a quorum on a switch, a join on a task) means the
// producer confused two kinds, and the runtime would silently ignore it. Lowering asserts in debug builds
// that everything it produced fits (lower.cpp); tests call the check directly.
#pragma once
#include <string>

#include "compiler/ir/program.h"

namespace orgos::ir {

// "" when `s` fits its kind, else what does not fit (e.g. "a quorum on a step of kind `switch`").
std::string step_shape_error(const Step& s);

// The first step of any process, lifecycle effect or rule action that does not fit its kind, named
// ("process Pay, step 3: a join on a step of kind `task`"), or "".
std::string program_shape_error(const Program& p);

}  // namespace orgos::ir
