// The front-end under fuzzing: one input, taken as one .org file, through every stage a user's source goes
// through — parse, check, lower to IR, format. Shared by the libFuzzer target (fuzz_frontend.cpp) and the
// regression test that replays the seed corpus and every past finding in the ordinary test suite.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace orgos::fuzz {

// Runs the whole front-end over `data`. Returns normally for every input, valid or not; aborts (so the
// fuzzer reports it) only when a promise is broken: formatting a clean file must be idempotent and keep its
// tokens. Crashes, hangs and sanitizer reports are found by the instrumentation around it.
void run_frontend(const uint8_t* data, size_t size);

}  // namespace orgos::fuzz
