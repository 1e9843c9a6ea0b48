// The OrgOS version, for hosts that embed the engine and for `orgctl --version`.
#pragma once

#define ORGOS_VERSION "0.1.0"
#define ORGOS_VERSION_MAJOR 0
#define ORGOS_VERSION_MINOR 1
#define ORGOS_VERSION_PATCH 0
