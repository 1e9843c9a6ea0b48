// Reads one source file from disk, refusing what is not a source file before reading a byte of it: a FIFO
// would block forever, a device like /dev/zero never ends, a huge file exhausts memory, a binary file
// drowns the user in diagnostics, and a symlink out of the project would echo another file's lines (say
// /etc/passwd) in diagnostics. Each refusal says what the file is and what to do.
#pragma once
#include <cstdint>
#include <string>

namespace orgos::source {

// Largest source file read (sources, manifests): far above any real program, far below memory trouble.
inline constexpr uint64_t kMaxSourceBytes = 16u * 1024 * 1024;

enum class ReadProblem {
  None,
  Missing,         // no such file
  NotRegular,      // a FIFO, device, socket or folder
  TooLarge,        // over ReadPolicy::max_bytes
  NotText,         // holds NUL bytes: a binary file
  OutsideProject,  // a symlink (or a path through one) that leads out of ReadPolicy::root
  Unreadable,      // permissions or an I/O error
};

struct ReadPolicy {
  uint64_t max_bytes = kMaxSourceBytes;
  // When set, the file's real path (symlinks resolved) must lie inside this folder, unless
  // follow_symlinks is on.
  std::string root;
  bool follow_symlinks = false;
};

struct ReadResult {
  ReadProblem problem = ReadProblem::None;
  std::string text;     // the file's bytes, when problem is None
  std::string message;  // what is wrong, naming the file
  std::string hint;     // what to do
  bool ok() const { return problem == ReadProblem::None; }
};

ReadResult read_source_file(const std::string& path, const ReadPolicy& policy = {});

}  // namespace orgos::source
