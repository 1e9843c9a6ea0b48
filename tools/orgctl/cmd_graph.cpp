// orgctl graph PROCESS [PATH…] — checks the sources, then writes the control-flow graph of one process as
// Graphviz DOT (stdout or a .dot file) or, through Graphviz's `dot`, as SVG.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/process_graph.h"
#include "tools/orgctl/commands.h"

extern char** environ;

namespace orgctl {
namespace {

namespace fs = std::filesystem;

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                          std::tolower(static_cast<unsigned char>(b[j - 1]))
                                      ? 0
                                      : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// What to tell a user whose process name matched nothing: the nearest names, else what there is.
std::string unknown_process_hint(const orgos::ir::ProcessIndex& index, const orgos::driver::Compilation& c,
                                 const std::string& wanted) {
  // Each process as the user would type it: its short name when that names it alone (as `Recruit` names
  // std.hr.Recruit), else its qualified name. The project's own come first when listing.
  std::set<std::string> names, own, imported;
  for (const auto& e : index.all()) {
    std::string local = e.qualified.substr(e.package.size() + 1);
    bool short_ok = wanted.find('.') == std::string::npos && index.find(local).size() == 1;
    std::string typed = short_ok ? local : e.qualified;
    names.insert(typed);
    (c.files[e.file].root ? own : imported).insert(typed);
  }
  if (names.empty()) return "the checked sources declare no process";
  size_t limit = std::max<size_t>(2, wanted.size() / 3);
  std::vector<std::pair<size_t, std::string>> near;
  auto lower = [](std::string t) {
    for (char& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return t;
  };
  for (const std::string& n : names) {
    size_t d = edit_distance(wanted, n);
    // A name typed short (`Approve` for `ApproveExpense`) is near too, ranked after close spellings.
    bool part = wanted.size() >= 3 && lower(n).find(lower(wanted)) != std::string::npos;
    if (d <= limit || part) near.push_back({d, n});
  }
  std::sort(near.begin(), near.end());
  std::string out;
  if (!near.empty()) {
    for (size_t i = 0; i < near.size() && i < 3; ++i) out += (i ? ", `" : "`") + near[i].second + "`";
    return "did you mean " + out + "?";
  }
  size_t shown = 0;
  for (const std::set<std::string>* group : {&own, &imported})
    for (const std::string& n : *group) {
      if (shown == 8) return "processes here: " + out + ", …";
      out += (shown++ ? ", `" : "`") + n + "`";
    }
  return "processes here: " + out;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t colon = p.find(':', start);
    std::string dir = p.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    if (access((fs::path(dir) / program).c_str(), X_OK) == 0) return true;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return false;
}

// Pipes DOT into `dot -Tsvg -o FILE` (no shell, so any file name is safe). Returns an error or "".
std::string render_svg(const std::string& dot_text, const std::string& file) {
  int fds[2];
  if (pipe(fds) != 0) return "cannot create a pipe to `dot`";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<std::string> args = {"dot", "-Tsvg", "-o", file};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "dot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[0]);
  if (rc != 0) {
    close(fds[1]);
    return "cannot run `dot`";
  }
  size_t written = 0;
  while (written < dot_text.size()) {
    ssize_t n = write(fds[1], dot_text.data() + written, dot_text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(fds[1]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "`dot` could not write `" + file + "`";
  return "";
}

}  // namespace

void register_graph(CLI::App& app) {
  struct Opts {
    std::string process;
    std::vector<std::string> paths;
    std::string output;
    std::string stdlib;
    std::vector<std::string> package_dirs;
    bool follow_symlinks = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("graph", "Draw the control-flow graph of a process (Graphviz DOT or SVG)");
  cmd->add_option("process", opts->process, "the process: `Name`, or `package.Name` when several share it")
      ->required();
  cmd->add_option("paths", opts->paths, "files or project folders (default: .)");
  cmd->add_option("-o,--output", opts->output, "write to FILE.dot (DOT) or FILE.svg (needs Graphviz `dot`)");
  cmd->add_option("--stdlib", opts->stdlib, "the standard library folder (default: the installed one)");
  cmd->add_option("--packages", opts->package_dirs, "folders of installed packages");
  cmd->add_flag(
      "--follow-symlinks", opts->follow_symlinks,
      "read source files that are symlinks leading out of their project folder (refused by default)");
  cmd->footer(
      "Examples:\n"
      "  orgctl graph ApproveExpense examples/language-tour        DOT on stdout\n"
      "  orgctl graph ApproveExpense examples/language-tour | dot -Tpng > approve.png\n"
      "  orgctl graph Recruit examples/acme -o recruit.svg  SVG (needs Graphviz)\n"
      "Exit codes: 0 written, 1 the input has errors or names no such process, 2 bad usage,\n"
      "3 cannot write the output (or `dot` is missing for .svg).");
  cmd->callback([opts]() {
    std::string ext = fs::path(opts->output).extension().string();
    if (!opts->output.empty() && ext != ".dot" && ext != ".svg") {
      std::cerr << "error: cannot write `" << opts->output << "`: the output must end in .dot or .svg\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    orgos::driver::CheckOptions co;
    co.inputs = opts->paths.empty() ? std::vector<std::string>{"."} : opts->paths;
    co.stdlib_dir = opts->stdlib;
    co.package_dirs = opts->package_dirs;
    co.follow_symlinks = opts->follow_symlinks;
    auto c = orgos::driver::check(co);
    if (!c->diags.all().empty())
      std::cerr << orgos::diag::render_all_text(c->sources, c->diags, {globals().colour});
    if (c->diags.has_errors()) throw CLI::RuntimeError(kExitInputErrors);

    orgos::ir::ProcessIndex index(*c);
    auto found = index.find(opts->process);
    if (found.empty()) {
      std::cerr << "error: no process named `" << opts->process << "`\n"
                << "  = hint: " << unknown_process_hint(index, *c, opts->process) << "\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    if (found.size() > 1) {
      std::cerr << "error: `" << opts->process << "` names " << found.size() << " processes:";
      for (auto* e : found) std::cerr << " `" << e->qualified << "`";
      std::cerr << "\n  = hint: write the name with its package, e.g. `" << found.front()->qualified << "`\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    const orgos::ir::ProcessEntry& entry = *found.front();
    orgos::ir::GraphOptions go;
    go.resolve = [&](const orgos::ast::CallStmt& call) { return index.resolve(entry, call.callee); };
    go.sources = &c->sources;
    orgos::ir::ProcessGraph pg = orgos::ir::build_process_graph(*entry.decl, go);
    pg.name = entry.qualified;
    std::string dot = orgos::ir::to_dot(pg);

    if (opts->output.empty()) {
      std::cout << dot;
      std::cout.flush();
      throw CLI::RuntimeError(std::cout ? kExitOk : kExitIo);
    }
    if (ext == ".svg") {
      if (!on_path("dot")) {
        std::cerr << "error: writing SVG needs Graphviz's `dot`, which is not on PATH\n"
                  << "  = hint: install graphviz (apt-get install graphviz), or write DOT with `-o "
                  << fs::path(opts->output).replace_extension(".dot").string() << "`\n";
        throw CLI::RuntimeError(kExitIo);
      }
      std::string err = render_svg(dot, opts->output);
      if (!err.empty()) {
        std::cerr << "error: " << err << "\n";
        throw CLI::RuntimeError(kExitIo);
      }
    } else {
      std::ofstream out(opts->output, std::ios::binary | std::ios::trunc);
      out << dot;
      out.close();
      if (!out) {
        std::cerr << "error: cannot write `" << opts->output << "`\n";
        throw CLI::RuntimeError(kExitIo);
      }
    }
    std::cerr << "wrote " << opts->output << " (process " << entry.qualified << ", "
              << boost::num_vertices(pg.g) << " nodes)\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
