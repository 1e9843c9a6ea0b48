// libFuzzer entry point for the front-end; see docs/building.md, "Fuzzing".
#include <cstddef>
#include <cstdint>

#include "fuzz/frontend_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  orgos::fuzz::run_frontend(data, size);
  return 0;
}
