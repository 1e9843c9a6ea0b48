#include "compiler/source/source_manager.h"

#include <algorithm>

namespace orgos::source {

FileId SourceManager::add(std::string path, std::string text) {
  auto f = std::make_unique<SourceFile>();
  f->id = static_cast<FileId>(files_.size());
  f->path = std::move(path);
  f->text = std::move(text);
  f->line_starts.push_back(0);
  for (uint32_t i = 0; i < f->text.size(); ++i)
    if (f->text[i] == '\n') f->line_starts.push_back(i + 1);
  files_.push_back(std::move(f));
  return files_.back()->id;
}

std::optional<FileId> SourceManager::load(const std::string& path, const ReadPolicy& policy,
                                          ReadResult* why) {
  ReadResult r = read_source_file(path, policy);
  if (!r.ok()) {
    if (why) *why = std::move(r);
    return std::nullopt;
  }
  return add(path, std::move(r.text));
}

std::string_view SourceManager::line_text(FileId id, uint32_t line) const {
  const SourceFile& f = file(id);
  if (line == 0 || line > f.line_starts.size()) return {};
  uint32_t b = f.line_starts[line - 1];
  uint32_t e = line < f.line_starts.size() ? f.line_starts[line] : static_cast<uint32_t>(f.text.size());
  std::string_view v(f.text.data() + b, e - b);
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

std::pair<uint32_t, uint32_t> SourceManager::position(FileId id, uint32_t offset) const {
  const SourceFile& f = file(id);
  auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - f.line_starts.begin());
  return {line, offset - f.line_starts[line - 1] + 1};
}

}  // namespace orgos::source
