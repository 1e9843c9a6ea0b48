#include "compiler/source/safe_yaml.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace orgos::source {

namespace {

// Thrown from the event handler to stop the parser at the first thing refused.
struct Refused {
  YamlProblem problem;
};

YamlProblem at(const YAML::Mark& m, std::string message) {
  YamlProblem p;
  p.message = std::move(message);
  if (m.line >= 0) {
    p.line = m.line + 1;
    p.column = m.column + 1;
  }
  return p;
}

// Sees every node as an event and builds nothing: aliases are reported here without being expanded.
class Scanner : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override {
    throw Refused{at(m,
                     "YAML aliases (`*name`) are not accepted: an alias can expand to far more than the "
                     "file holds; write the value out where it is used")};
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    enter(m);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    enter(m);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void enter(const YAML::Mark& m) {
    if (++depth_ > kMaxYamlDepth)
      throw Refused{
          at(m, "the YAML nests deeper than " + std::to_string(kMaxYamlDepth) + " levels; flatten it")};
  }
  int depth_ = 0;
};

}  // namespace

std::string YamlDocument::describe(const std::string& path) const {
  std::string where = path;
  if (problem.line > 0) {
    where += ":" + std::to_string(problem.line);
    if (problem.column > 0) where += ":" + std::to_string(problem.column);
  }
  return where + ": " + problem.message;
}

YamlDocument load_yaml(const std::string& text) {
  YamlDocument d;
  if (text.size() > kMaxYamlBytes) {
    d.problem.message = "the file has " + std::to_string(text.size()) + " bytes, more than the limit of " +
                        std::to_string(kMaxYamlBytes) + "; split it";
    return d;
  }
  try {
    {
      std::istringstream in(text);
      YAML::Parser parser(in);
      Scanner scan;
      while (parser.HandleNextDocument(scan)) {
      }
    }
    d.root = YAML::Load(text);  // safe now: no alias to expand, nesting bounded
    d.ok = true;
  } catch (const Refused& r) {
    d.problem = r.problem;
  } catch (const YAML::Exception& e) {
    d.problem = at(e.mark, "not valid YAML: " + e.msg);
  }
  return d;
}

YamlDocument load_yaml_file(const std::string& path) {
  YamlDocument d;
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    d.problem.message = err == ENOENT ? "no such file; check the path"
                                      : std::string("cannot open the file: ") + std::strerror(err);
    return d;
  }
  struct stat st {};
  std::string text;
  bool read_ok = ::fstat(fd, &st) == 0;
  if (read_ok && !S_ISREG(st.st_mode)) {
    d.problem.message = S_ISDIR(st.st_mode) ? "this is a folder, not a YAML file"
                                            : "not a regular file (a device, FIFO or socket); give a file";
  } else if (read_ok && static_cast<uint64_t>(st.st_size) > kMaxYamlBytes) {
    d.problem.message = "the file has " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                        std::to_string(kMaxYamlBytes) + "; split it";
  } else if (read_ok) {
    // Read at most one byte past the limit: a file that grows while it is read is still bounded.
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > kMaxYamlBytes) break;
    }
    read_ok = n >= 0;
  }
  if (!read_ok) d.problem.message = std::string("cannot read the file: ") + std::strerror(errno);
  ::close(fd);
  if (!d.problem.message.empty()) return d;
  return load_yaml(text);
}

}  // namespace orgos::source
