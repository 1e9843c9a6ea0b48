// What the front-end does with inputs that are not honest source files: FIFOs, devices, huge, binary and
// symlinked files (compiler/source/source_reader.h), and with garbage that would flood the user with
// diagnostics or echo a 10 MB line in each of them (compiler/diag).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/source/source_reader.h"

namespace fs = std::filesystem;
using namespace orgos;

namespace {

// A fresh folder per test, removed at the end.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("orgos-srclim-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

std::unique_ptr<driver::Compilation> check(const std::string& input, bool follow = false) {
  driver::CheckOptions o;
  o.inputs = {input};
  o.follow_symlinks = follow;
  return driver::check(o);
}

// The E0005 messages of a compilation, one per line.
std::string read_errors(const driver::Compilation& c) {
  std::string out;
  for (auto& d : c.diags.all())
    if (d.code == diag::Code::E0005) out += d.message + "\n";
  return out;
}

}  // namespace

TEST(SourceLimits, AFifoIsRefusedWithoutWaitingForAWriter) {
  TempDir t("fifo");
  ASSERT_EQ(::mkfifo((t.path / "x.org").c_str(), 0600), 0);
  // Before: the read blocked forever on the FIFO (this test hung).
  auto r = source::read_source_file((t.path / "x.org").string());
  EXPECT_EQ(r.problem, source::ReadProblem::NotRegular);
  EXPECT_NE(r.message.find("FIFO"), std::string::npos) << r.message;
  auto c = check(t.path.string());
  EXPECT_NE(read_errors(*c).find("x.org` is a FIFO"), std::string::npos) << read_errors(*c);
}

TEST(SourceLimits, ADeviceIsRefusedNotReadForever) {
  TempDir t("device");
  fs::create_symlink("/dev/zero", t.path / "z.org");
  // Before: /dev/zero was read until memory ran out.
  auto c = check(t.path.string(), /*follow=*/true);
  EXPECT_NE(read_errors(*c).find("is a character device, not a regular file"), std::string::npos)
      << read_errors(*c);
}

TEST(SourceLimits, AFileOverTheSizeLimitIsRefusedNamingTheLimit) {
  TempDir t("size");
  std::string big = (t.path / "big.org").string();
  {
    int fd = ::open(big.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    // Sparse: costs no disk, and no memory unless read.
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(source::kMaxSourceBytes) + 1), 0);
    ::close(fd);
  }
  auto c = check(big);
  EXPECT_NE(read_errors(*c).find("over the limit of 16 MiB"), std::string::npos) << read_errors(*c);
  EXPECT_EQ(c->sources.size(), 0u);  // nothing of it was kept
}

TEST(SourceLimits, ABinaryFileIsOneDiagnosticNotThousands) {
  TempDir t("binary");
  std::string bytes(200 * 1024, '\0');
  std::mt19937 rng(7);
  for (char& ch : bytes) ch = static_cast<char>(rng());
  bytes[10] = '\0';
  std::string f = t.file("blob.org", bytes);
  auto c = check(f);
  ASSERT_EQ(c->diags.error_count(), 1u) << diag::render_all_text(c->sources, c->diags);
  EXPECT_NE(read_errors(*c).find("is not a text file"), std::string::npos) << read_errors(*c);
}

TEST(SourceLimits, ASymlinkOutOfTheProjectIsNotFollowedUnlessAsked) {
  TempDir outside("outside"), project("project");
  std::string secret = outside.file("secret.org", "this line is private\n");
  fs::create_symlink(secret, project.path / "leak.org");
  project.file("ok.org", "record A { x: Int }\n");
  // Before: the file was read and its first line echoed in a syntax error.
  auto c = check(project.path.string());
  std::string text = diag::render_all_text(c->sources, c->diags);
  EXPECT_EQ(text.find("private"), std::string::npos) << text;
  EXPECT_NE(read_errors(*c).find("outside the project"), std::string::npos) << text;
  // The same for a file named on its own: its folder is its project.
  auto single = check((project.path / "leak.org").string());
  EXPECT_NE(read_errors(*single).find("outside the project"), std::string::npos);
  // Asked for, it is read (and its text is a syntax error, as before).
  auto followed = check(project.path.string(), /*follow=*/true);
  EXPECT_EQ(read_errors(*followed), "");
  EXPECT_TRUE(followed->diags.has_errors());
}

TEST(SourceLimits, ASymlinkInsideTheProjectIsRead) {
  TempDir project("inside");
  fs::create_directories(project.path / "shared");
  project.file("shared/a.txt", "record A { x: Int }\n");
  fs::create_symlink(project.path / "shared" / "a.txt", project.path / "a.org");
  auto c = check(project.path.string());
  EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
}

TEST(DiagnosticCaps, AtMostAHundredPerFileAndFiveHundredInAll) {
  diag::DiagnosticEngine de;
  for (uint32_t file = 0; file < 8; ++file)
    for (uint32_t i = 0; i < 1000; ++i) de.report(diag::Code::E0002, {file, i, i + 1, 1, i + 1}, "bad");
  EXPECT_EQ(de.error_count(), 8000u);  // counts stay exact
  EXPECT_EQ(de.all().size(), diag::DiagnosticEngine::kMaxDiagnostics);
  size_t in_first = 0;
  for (auto& d : de.all()) in_first += d.span.file == 0;
  EXPECT_EQ(in_first, diag::DiagnosticEngine::kMaxPerFile);
  EXPECT_EQ(de.dropped(), 7500u);
  source::SourceManager sm;
  for (int i = 0; i < 8; ++i) sm.add("f" + std::to_string(i) + ".org", "x\n");
  std::string text = diag::render_all_text(sm, de);
  EXPECT_NE(text.find("... and 7500 more errors not shown"), std::string::npos);
  EXPECT_NE(text.find("8000 errors, 0 warnings"), std::string::npos);
  auto json = nlohmann::json::parse(diag::render_json(sm, de));
  EXPECT_EQ(json["diagnostics"].size(), diag::DiagnosticEngine::kMaxDiagnostics);
  EXPECT_EQ(json["errors"], 8000);
  EXPECT_EQ(json["not_shown"], 7500);
}

TEST(DiagnosticCaps, GarbageSourceIsCappedAndTheFirstErrorsStayFirst) {
  std::string junk(200 * 1024, ' ');
  std::mt19937 rng(11);
  for (char& ch : junk) ch = static_cast<char>(rng() % 255 + 1);  // no NUL: read as text
  auto c = driver::check_text("junk.org", junk);
  EXPECT_GT(c->diags.error_count(), 1000u);
  EXPECT_LE(c->diags.all().size(), diag::DiagnosticEngine::kMaxPerFile);
  std::string text = diag::render_all_text(c->sources, c->diags);
  EXPECT_LT(text.size(), 200u * 1024) << "the rendering is bounded, not proportional to the input";
  EXPECT_NE(text.find("more errors not shown"), std::string::npos);
}

TEST(DiagnosticRendering, ALongLineIsEchoedAsAWindowWithTheCaretInPlace) {
  // A 10 MB line with a stray character near its end. Before: the whole line was echoed in each diagnostic.
  std::string line = "record A { x: Int }" + std::string(10'000'000, ' ') + "$ record B {}";
  auto c = driver::parse_text("long.org", line + "\n");
  ASSERT_EQ(c->diags.all().size(), 1u);
  std::string text = diag::render_text(c->sources, c->diags.all()[0]);
  EXPECT_LT(text.size(), 1000u) << text.substr(0, 2000);
  // The excerpt line `1 | …   $ record B {}` and the caret line below it: the caret is under the `$`,
  // counting the leading `…` as one column.
  auto lines_from = [&](size_t at) {
    size_t a = text.find('\n', at) + 1, b = text.find('\n', a) + 1, e = text.find('\n', b);
    return std::pair{text.substr(a, b - a - 1), text.substr(b, e - b)};
  };
  auto [src, caret] = lines_from(text.find("|\n"));
  ASSERT_NE(src.find("…"), std::string::npos) << src;
  size_t caret_col = caret.find('^');
  ASSERT_NE(caret_col, std::string::npos) << caret;
  size_t ellipsis = src.find("…");
  std::string shown = src.substr(0, ellipsis) + "." + src.substr(ellipsis + std::string("…").size());
  ASSERT_LT(caret_col, shown.size());
  EXPECT_EQ(shown[caret_col], '$') << src << "\n" << caret;
}

TEST(DiagnosticRendering, AHugeTokenIsNotCopiedIntoTheMessage) {
  // Before: "unknown name `xxx…`" held the whole megabyte, in memory and in the output.
  std::string name(1'000'000, 'x');
  auto c = driver::check_text("tok.org", "fn f() -> Int = " + name + "\n");
  ASSERT_FALSE(c->diags.all().empty());
  for (auto& d : c->diags.all()) EXPECT_LE(d.message.size(), diag::DiagnosticEngine::kMaxMessageBytes + 40);
}

TEST(DiagnosticOrder, TooDeeplyNestedIsTheOnlyErrorNotABogusTypeError) {
  // Before: the partial tree left by the depth limit was type-checked, and an E0305 on `none + none`
  // came first.
  std::string chain = "fn f() -> Int = 1";
  for (int i = 0; i < 3000; ++i) chain += " + 1";
  auto c = driver::check_text("deep.org", chain + "\nfn g() -> Int = 2\n");
  ASSERT_EQ(c->diags.all().size(), 1u) << diag::render_all_text(c->sources, c->diags);
  EXPECT_EQ(c->diags.all()[0].message, "expression is too deeply nested");
  // The declaration cut short is dropped as a broken one; the rest of the file is still checked.
  EXPECT_EQ(c->files[0].module->decls.size(), 1u);
}

TEST(SourceLimits, AManifestIsReadUnderTheSameRules) {
  TempDir outside("manifest-outside"), project("manifest-project");
  std::string yaml = outside.file("orgos.yaml", "name: elsewhere\nversion: 0.1.0\n");
  fs::create_symlink(yaml, project.path / "orgos.yaml");
  project.file("a.org", "record A { x: Int }\n");
  // Before: the manifest was read through any symlink (and a FIFO in its place blocked).
  auto c = check(project.path.string());
  EXPECT_NE(read_errors(*c).find("orgos.yaml` leads through a symlink"), std::string::npos)
      << read_errors(*c);
  auto followed = check(project.path.string(), /*follow=*/true);
  EXPECT_FALSE(followed->diags.has_errors()) << diag::render_all_text(followed->sources, followed->diags);
  fs::remove(project.path / "orgos.yaml");
  ASSERT_EQ(::mkfifo((project.path / "orgos.yaml").c_str(), 0600), 0);
  auto fifo = check(project.path.string());
  EXPECT_NE(read_errors(*fifo).find("is a FIFO"), std::string::npos) << read_errors(*fifo);
}

TEST(DiagnosticOrder, AFileTooDeepToParseLeavesNoCascadeInOtherFiles) {
  TempDir t("gave-up");
  t.file("a.org", "record R { x: Int }\nfn f() -> Int = " + std::string(300, '(') + "1" +
                      std::string(300, ')') + "\n");
  t.file("b.org", "fn g(r: R) -> Int = r.x\n");
  // Before: b.org got "unknown type `R`", though R is declared: the parser had given up on a.org.
  auto c = check(t.path.string());
  ASSERT_EQ(c->diags.all().size(), 1u) << diag::render_all_text(c->sources, c->diags);
  EXPECT_NE(c->diags.all()[0].message.find("nesting is deeper than"), std::string::npos);
}

TEST(DiagnosticRendering, ControlCharactersOfTheInputDoNotReachTheTerminal) {
  // Before: the excerpt echoed the line as it was, so an escape sequence in a comment (here: clear the
  // screen) or a carriage return acted on the user's terminal.
  auto c = driver::parse_text("esc\x1b.org", "record A { x: Int } /* \x1b[2J\r */ $\n");
  ASSERT_EQ(c->diags.all().size(), 1u);
  std::string text = diag::render_all_text(c->sources, c->diags);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_NE(text.find("esc\\x1b.org:1:"), std::string::npos) << text;
  // Each control character stays one column: the caret is still under the `$`.
  size_t src = text.find("1 | "), caret = text.find('^');
  ASSERT_NE(src, std::string::npos);
  size_t line_start = text.rfind('\n', caret) + 1;
  EXPECT_EQ(text[src + (caret - line_start)], '$') << text;
}
