// orgctl new NAME --template T — create a project from an organization-type template. The template is a
// complete project; it is copied and its manifest and org are renamed (the org's name is found by the
// parser, so only that declaration changes). The new project checks and runs at once.
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

// "acme-labs" → package `acme_labs`, org `AcmeLabs`.
std::string package_name(const std::string& n) {
  std::string out;
  for (char c : n)
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out[0]))) out = "org_" + out;
  return out;
}
std::string org_name(const std::string& n) {
  std::string out;
  bool up = true;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(c)) : c;
    up = false;
  }
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out[0]))) out = "Org" + out;
  return out;
}

}  // namespace

void register_new(CLI::App& app) {
  struct Opts {
    std::string name, templ = "for-profit/startup";
    bool list = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("new", "Create a new organization project from a template");
  cmd->add_option("name", opts->name, "the project folder to create (also names the org)");
  cmd->add_option("-t,--template", opts->templ, "the organization type (default: for-profit/startup)");
  cmd->add_flag("--list", opts->list, "list the available templates");
  cmd->footer(
      "Examples:\n"
      "  orgctl new acme --template for-profit/startup\n"
      "  orgctl new hope --template non-profit\n"
      "  orgctl new --list\n"
      "Exit codes: 0 created; 1 the folder exists or the template is unknown; 3 cannot write.");
  cmd->callback([opts]() {
    std::string root = templates_dir();
    if (opts->list) {
      for (auto& t : available(root)) std::cout << t << "\n";
      throw CLI::RuntimeError(kExitOk);
    }
    if (opts->name.empty()) {
      std::cerr << "error: give the new project's name, e.g. `orgctl new acme`\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    fs::path src = fs::path(root) / opts->templ;
    std::error_code ec;
    if (!fs::exists(src / orgos::sema::kManifestName, ec)) {
      std::cerr << "error: no template `" << opts->templ << "`\n  hint: available templates:";
      for (auto& t : available(root)) std::cerr << " " << t;
      std::cerr << "\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    fs::path dst(opts->name);
    if (fs::exists(dst, ec)) {
      std::cerr << "error: `" << opts->name << "` already exists\n  hint: choose a new folder name\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    std::string pkg = package_name(dst.filename().string()), org = org_name(dst.filename().string());
    // Copy into a temporary folder first and rename at the end, so a failure leaves nothing behind.
    fs::path tmp = dst.string() + ".orgctl-new";
    fs::remove_all(tmp, ec);
    fs::copy(src, tmp, fs::copy_options::recursive, ec);
    fs::remove_all(tmp / ".orgos", ec);
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
    fs::rename(tmp, dst, ec);
    if (ec) {
      std::cerr << "error: cannot create `" << dst.string() << "`: " << ec.message() << "\n";
      fs::remove_all(tmp, ec);
      throw CLI::RuntimeError(kExitIo);
    }
    std::cout << "created " << dst.string() << " (org " << org << ", from template " << opts->templ << ")\n"
              << "next: orgctl check " << dst.string() << " && orgctl run " << dst.string() << "\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
