// The benchmark's generated program must be what it claims: a valid program, so the parse + check
// throughput it measures is that of real, clean source (diagnostics would take another path).
#include <gtest/gtest.h>

#include <algorithm>

#include "bench/program_generator.h"
#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"

TEST(GeneratedProgram, IsCleanAndAsLongAsAsked) {
  std::string text = orgos::bench::generate_program(2000);
  size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  EXPECT_GE(lines, 2000u);
  EXPECT_LT(lines, 2200u);
  auto c = orgos::driver::check_text("generated.org", text);
  EXPECT_EQ(c->diags.all().size(), 0u) << orgos::diag::render_all_text(c->sources, c->diags);
}
