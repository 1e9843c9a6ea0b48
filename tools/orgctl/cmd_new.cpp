// orgctl new NAME --template T — create a project from an organization-type template. The template is a
// complete project; it is copied and its manifest and org are renamed (the org's name is found by the
// parser, so only that declaration changes). The new project checks and runs at once.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "compiler/driver/compilation.h"
#include "compiler/sema/manifest.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace fs = std::filesystem;

namespace {

std::string templates_dir() {
  if (const char* env = std::getenv("ORGOS_TEMPLATES")) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "orgos" / "templates";
    if (fs::is_directory(installed, ec)) return installed.string();
  }
  return ORGOS_SOURCE_TEMPLATES;
}

std::vector<std::string> available(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->path().filename() == orgos::sema::kManifestName)
      out.push_back(fs::relative(it->path().parent_path(), root).string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The ASCII spelling of a Latin letter with a diacritic (é → e, ß → ss), or "". Identifiers of the
// language are ASCII (grammar/OrgLexer.g4, ID), so `orgctl new Café` names its org `Cafe` while the
// folder keeps the name given.
std::string ascii_letter(uint32_t cp) {
  static const char* const latin1[64] = {"A", "A", "A", "A", "A",  "A",  "AE", "C", "E", "E", "E",  "E", "I",
                                         "I", "I", "I", "D", "N",  "O",  "O",  "O", "O", "O", "",   "O", "U",
                                         "U", "U", "U", "Y", "TH", "ss", "a",  "a", "a", "a", "a",  "a", "ae",
                                         "c", "e", "e", "e", "e",  "i",  "i",  "i", "i", "d", "n",  "o", "o",
                                         "o", "o", "o", "",  "o",  "u",  "u",  "u", "u", "y", "th", "y"};
  static const char extended_a[] =
      "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOo"
      "OoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";
  static_assert(sizeof(extended_a) == 0x80 + 1);
  if (cp >= 0xC0 && cp <= 0xFF) return latin1[cp - 0xC0];
  if (cp >= 0x100 && cp <= 0x17F) return std::string(1, extended_a[cp - 0x100]);
  return {};
}

// The words of a project name in ASCII letters and digits: "my org" → {my, org}, "Café-Bar" → {Cafe, Bar}.
// Anything else separates words.
std::vector<std::string> name_words(const std::string& n) {
  std::vector<std::string> words(1);
  for (size_t i = 0; i < n.size();) {
    unsigned char c = static_cast<unsigned char>(n[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xC0 && c < 0xE0 && i + 1 < n.size()) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(n[i + 1]) & 0x3Fu);
      len = 2;
    } else if (c >= 0xE0) {
      len = c < 0xF0 ? 3 : 4;
      cp = 0xFFFF;  // beyond the letters ascii_letter knows
    }
    i += len;
    if (cp < 0x80 && std::isalnum(static_cast<int>(cp))) {
      words.back() += static_cast<char>(cp);
    } else if (std::string a = cp >= 0x80 ? ascii_letter(cp) : ""; !a.empty()) {
      words.back() += a;
    } else if (!words.back().empty()) {
      words.emplace_back();
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

// "acme-labs" → package `acme_labs`, org `AcmeLabs`.
std::string package_name(const std::string& n) {
  std::string out;
  for (const std::string& w : name_words(n)) {
    if (!out.empty()) out += '_';
    for (char c : w) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out[0]))) out = "org_" + out;
  if (out.back() == '_') out.pop_back();
  return out;
}
std::string org_name(const std::string& n) {
  std::string out;
  for (const std::string& w : name_words(n))
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(w[0]))) + w.substr(1);
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out[0]))) out = "Org" + out;
  return out;
}

// A path as it can be pasted into a shell: as is when it is plain, else in single quotes.
std::string shell_quoted(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s)  // bytes of non-ASCII characters (Café) need no quotes
    if (!std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80 &&
        std::string_view("_-./+,:@%").find(c) == std::string_view::npos)
      plain = false;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Moves the finished folder into place, never over anything: a plain rename would replace an empty folder
// made at `dst` in the meantime.
bool rename_no_replace(const fs::path& from, const fs::path& to, std::error_code& ec) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno != EINVAL && errno != ENOSYS) {
    ec = std::error_code(errno, std::generic_category());
    return false;
  }
  // A file system without RENAME_NOREPLACE: check, then rename (the check was also made at the start).
  if (fs::exists(fs::symlink_status(to, ec))) {
    ec = std::make_error_code(std::errc::file_exists);
    return false;
  }
  fs::rename(from, to, ec);
  return !ec;
}

}  // namespace

void register_new(CLI::App& app) {
  struct Opts {
    std::string name, templ = "for-profit/startup", template_dir;
    bool list = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("new", "Create a new organization project from a template");
  cmd->add_option("name", opts->name, "the project folder to create (also names the org)");
  cmd->add_option("-t,--template", opts->templ,
                  "the organization type, a name from `orgctl new --list` (default: for-profit/startup)");
  cmd->add_option("--template-dir", opts->template_dir,
                  "take templates from this folder instead of the installed set (each template is a "
                  "sub-folder holding orgos.yaml)");
  cmd->add_flag("--list", opts->list, "list the available templates");
  cmd->footer(
      "Examples:\n"
      "  orgctl new acme --template for-profit/startup\n"
      "  orgctl new hope --template non-profit\n"
      "  orgctl new \"my org\"                         the org is named MyOrg, the folder `my org`\n"
      "  orgctl new shop --template-dir ~/templates --template retail\n"
      "  orgctl new --list\n"
      "Nothing that exists is overwritten or removed.\n"
      "Exit codes: 0 created; 1 the folder exists or the template is unknown; 2 bad usage; 3 cannot write.");
  cmd->callback([opts]() {
    std::string root = opts->template_dir.empty() ? templates_dir() : opts->template_dir;
    std::error_code ec;
    if (!opts->template_dir.empty() && !fs::is_directory(root, ec)) {
      std::cerr << "error: --template-dir `" << root << "` is not a folder\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    std::vector<std::string> templates = available(root);
    if (opts->list) {
      for (auto& t : templates) std::cout << t << "\n";
      throw CLI::RuntimeError(kExitOk);
    }
    if (opts->name.empty()) {
      std::cerr << "error: give the new project's name, e.g. `orgctl new acme`\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    // A template is a name from the set, never a path: `--template /etc` or `../..` would copy any folder.
    if (std::find(templates.begin(), templates.end(), opts->templ) == templates.end()) {
      std::cerr << "error: no template `" << opts->templ << "`"
                << (opts->template_dir.empty() ? "" : " in `" + root + "`")
                << "\n  hint: available templates:";
      for (auto& t : templates) std::cerr << " " << t;
      std::cerr << (opts->template_dir.empty()
                        ? "; to use a folder of your own templates, add --template-dir DIR"
                        : "")
                << "\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    fs::path src = fs::path(root) / opts->templ;
    fs::path dst(opts->name);
    if (fs::exists(fs::symlink_status(dst, ec))) {
      std::cerr << "error: `" << opts->name << "` already exists\n  hint: choose a new folder name\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    std::string base = dst.filename().string();
    if (base.empty() || base == "." || base == "..") {
      std::cerr << "error: `" << opts->name << "` does not name a new folder\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    std::string pkg = package_name(base), org = org_name(base);
    // Copy into a fresh temporary folder next to the destination (mkdtemp: it cannot be anything that
    // existed) and rename at the end, so a failure leaves nothing behind and nothing else is touched.
    fs::path parent = dst.parent_path().empty() ? fs::path(".") : dst.parent_path();
    std::string pattern = (parent / ("." + base + ".orgctl-new-XXXXXX")).string();
    std::vector<char> tmpl(pattern.begin(), pattern.end());
    tmpl.push_back('\0');
    if (!::mkdtemp(tmpl.data())) {
      std::cerr << "error: cannot create a folder in `" << parent.string() << "`: " << std::strerror(errno)
                << "\n";
      throw CLI::RuntimeError(kExitIo);
    }
    fs::path tmp(tmpl.data());
    // Symlinks are copied as symlinks: a template's link is not followed to copy files from elsewhere.
    fs::copy(src, tmp, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (!ec) fs::remove_all(tmp / ".orgos", ec);
    if (ec) {
      std::cerr << "error: cannot write `" << tmp.string() << "`: " << ec.message() << "\n";
      fs::remove_all(tmp, ec);
      throw CLI::RuntimeError(kExitIo);
    }
    // The manifest's name becomes the project's.
    std::string manifest = read(tmp / orgos::sema::kManifestName);
    std::istringstream lines(manifest);
    std::string line, out;
    while (std::getline(lines, line)) out += (line.rfind("name:", 0) == 0 ? "name: " + pkg : line) + "\n";
    std::ofstream(tmp / orgos::sema::kManifestName, std::ios::trunc) << out;
    // Rename the org declaration (found by the parser) and its mentions in scenarios' comments stay as is.
    for (const std::string& f : orgos::driver::org_files(tmp.string())) {
      std::string text = read(f);
      auto c = orgos::driver::parse_text(f, text);
      std::vector<std::pair<uint32_t, uint32_t>> spans;
      for (auto& d : c->files[0].module->decls)
        if (d->kind == orgos::ast::DeclKind::Org) spans.push_back({d->name.span.begin, d->name.span.end});
      for (auto it = spans.rbegin(); it != spans.rend(); ++it)
        text.replace(it->first, it->second - it->first, org);
      if (!spans.empty()) std::ofstream(f, std::ios::trunc | std::ios::binary) << text;
    }
    if (!rename_no_replace(tmp, dst, ec)) {
      std::cerr << "error: cannot create `" << dst.string() << "`: " << ec.message() << "\n";
      fs::remove_all(tmp, ec);
      throw CLI::RuntimeError(ec == std::errc::file_exists ? kExitInputErrors : kExitIo);
    }
    std::string shown = shell_quoted(dst.string());
    std::cout << "created " << shown << " (org " << org << ", from template " << opts->templ << ")\n"
              << "next: orgctl check " << shown << " && orgctl run " << shown << "\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
