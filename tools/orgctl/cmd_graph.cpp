#include "tools/orgctl/commands.h"

namespace orgctl {

void register_graph(CLI::App&) {}

}  // namespace orgctl
