// The compiled artifact (.orgb): OrgIR, native object code for the host, and a content hash of every
// source and package that went in. `orgctl run` loads a bundle without running LLVM when the hash of
// the current sources matches, and recompiles when it does not. A corrupt, truncated or foreign file is
// refused with a clear error and never half-loaded.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "compiler/ir/ir.h"
#include "compiler/ir/program.h"

namespace orgos::driver {
struct Compilation;
}

namespace orgos::bundle {

inline constexpr char kMagic[8] = {'O', 'R', 'G', 'B', 'N', 'D', 'L', '\x01'};
// 6: object code carries decision-table row conditions (orgos_row_<table>_<row>).
// 7: object code carries the fingerprint of the program it was made for (orgos_ir_fingerprint).
inline constexpr uint32_t kFormatVersion = 7;

struct Bundle {
  std::string source_hash;         // hex BLAKE2b-256 of the sources and packages (see content_hash)
  std::string host;                // target triple the object code is for, e.g. x86_64-pc-linux-gnu
  std::string compiler;            // orgctl version that wrote it
  std::vector<std::string> files;  // source paths by file id, so run-time errors can name file:line:col
  ir::Module module;
  ir::Program program;
  std::vector<uint8_t> object;  // native object code of every function and table (may be empty)
};

// The target this process runs on, as an LLVM-style triple (object code is only valid there).
std::string host_triple();

// BLAKE2b-256 over every file of the compilation (path and bytes, in path order), hex encoded.
std::string content_hash(const driver::Compilation& c);

// The whole bundle as bytes: header, sections, and a BLAKE2b checksum of everything before it.
std::vector<uint8_t> serialize(const Bundle& b);

struct LoadError {
  std::string message;  // what is wrong, and what to do
};
// Parses bytes written by serialize(). Returns the bundle or why it cannot be used; never crashes on
// any input.
std::variant<Bundle, LoadError> deserialize(const std::vector<uint8_t>& bytes);

// File helpers: write atomically (temp file + rename), read whole.
bool write_file(const std::string& path, const std::vector<uint8_t>& bytes, std::string& error);
std::optional<std::vector<uint8_t>> read_file(const std::string& path);

}  // namespace orgos::bundle
