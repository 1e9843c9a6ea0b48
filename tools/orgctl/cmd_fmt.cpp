#include "tools/orgctl/commands.h"

namespace orgctl {

void register_fmt(CLI::App&) {}

}  // namespace orgctl
