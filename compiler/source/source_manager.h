// Owns the text of every source file the compiler reads and maps byte offsets to lines and columns.
// Diagnostics use it to print the offending line with a caret underneath.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/source/source_reader.h"
#include "compiler/source/span.h"

namespace orgos::source {

struct SourceFile {
  FileId id = kNoFile;
  std::string path;  // as given by the user (relative paths stay relative, for stable output)
  std::string text;
  std::vector<uint32_t> line_starts;  // byte offset where each line begins
};

class SourceManager {
 public:
  // Adds a file from memory (tests, fuzzing, stdin). Never fails.
  FileId add(std::string path, std::string text);
  // Reads a file from disk under `policy` (regular files only, a size limit, text only, see
  // source_reader.h); nullopt when it is refused or cannot be read, and then `why` (if given) says why.
  std::optional<FileId> load(const std::string& path, const ReadPolicy& policy = {},
                             ReadResult* why = nullptr);

  const SourceFile& file(FileId id) const { return *files_.at(id); }
  size_t size() const { return files_.size(); }
  // The text of 1-based line `line` without its line break.
  std::string_view line_text(FileId id, uint32_t line) const;
  // Line and column (both 1-based) of a byte offset.
  std::pair<uint32_t, uint32_t> position(FileId id, uint32_t offset) const;

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace orgos::source
