// Human-readable listings of OrgIR: expression functions as nested forms and processes as numbered
// steps with their successors. `orgctl compile --dump` prints them; tests compare them.
#pragma once
#include <string>

#include "compiler/ir/ir.h"
#include "compiler/ir/program.h"

namespace orgos::ir {

std::string dump_node(const Node& n, const Module& m);
std::string dump_function(const Function& f, const Module& m);
std::string dump_process(const ProcessIR& p, const Module& m);
std::string dump(const Module& m, const Program& p);

}  // namespace orgos::ir
