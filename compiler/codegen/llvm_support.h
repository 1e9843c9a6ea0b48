// Small helpers the code generator and the object loader share (private to the codegen libraries: LLVM's
// headers stay inside them).
#pragma once
#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <string>

namespace orgos::codegen {

inline std::string message(llvm::Error e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << e;
  return os.str();
}

inline double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace orgos::codegen
