#include "fuzz/frontend_harness.h"

#include <cstdio>
#include <cstdlib>

#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"
#include "compiler/syntax/formatter.h"

namespace orgos::fuzz {

namespace {

[[noreturn]] void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "front-end promise broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

void run_frontend(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto c = driver::check_text("fuzz.org", text);
  // Lowering is only defined on checked programs, exactly as `orgctl compile` uses it.
  if (!c->diags.has_errors()) (void)ir::lower(*c);

  // Formatting refuses broken input (FormatError); on input it accepts, the result must be a fixed point.
  std::string once;
  try {
    once = syntax::format_source(text);
  } catch (const syntax::FormatError&) {
    return;
  }
  std::string twice;
  try {
    twice = syntax::format_source(once);
  } catch (const syntax::FormatError& e) {
    broken("formatted output does not parse", e.what());
  }
  if (twice != once) broken("formatting is not idempotent", once);
}

}  // namespace orgos::fuzz
