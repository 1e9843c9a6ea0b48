// Bundles: what is written is what is read back (same results), and a damaged or foreign file is
// refused with a message, never a crash.
#include "compiler/bundle/bundle.h"

#include <gtest/gtest.h>

#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "compiler/bundle/bundle_auth.h"
#include "compiler/driver/build.h"
#include "compiler/driver/compilation.h"
#include "compiler/interp/evaluator.h"
#include "compiler/ir/lower.h"

using namespace orgos;

namespace {
const char* kSource =
    "enum Level { low, high }\n"
    "record Expense { amount: Money<USD>  purpose: String  check amount > 0 USD }\n"
    "fn level(x: Money<USD>) -> Level = if_high(x)\n"
    "fn if_high(x: Money<USD>) -> Level = high\n"
    "fn label(n: Int) -> String = \"n=\" + \"x\"\n"
    "fn total(xs: List<Int>) -> Int = sum(x * 2 for x in xs where x > 0)\n"
    "table fee hit first { input a: Money<USD> output f: Money<USD> | < 100 USD || 1 USD | | - || 2.50 USD | "
    "}\n"
    "fn fees(a: Money<USD>) -> Money<USD> = fee(a)\n";

bundle::Bundle make() {
  auto c = driver::check_text("b.org", kSource);
  EXPECT_FALSE(c->diags.has_errors());
  bundle::Bundle b;
  b.source_hash = bundle::content_hash(*c);
  b.host = "x86_64-pc-linux-gnu";
  b.files = {"b.org"};
  auto lowered = ir::lower(*c);
  b.module = std::move(lowered.module);
  b.program = std::move(lowered.program);
  return b;
}

std::string eval(const ir::Module& m, const std::string& fn, std::vector<ir::Value> args) {
  interp::Evaluator ev(m);
  auto o = ev.call(static_cast<uint32_t>(m.find_function(fn)), args);
  return o.ok() ? interp::to_string(o.value, &m) : interp::error_kind_name(o.error->kind);
}
}  // namespace

TEST(Bundle, RoundTripKeepsMeaning) {
  bundle::Bundle b = make();
  auto bytes = bundle::serialize(b);
  auto loaded = bundle::deserialize(bytes);
  ASSERT_TRUE(std::holds_alternative<bundle::Bundle>(loaded)) << std::get<bundle::LoadError>(loaded).message;
  auto& l = std::get<bundle::Bundle>(loaded);
  EXPECT_EQ(l.source_hash, b.source_hash);
  EXPECT_EQ(l.files, b.files);
  EXPECT_EQ(l.module.functions.size(), b.module.functions.size());
  auto usd = ir::Value::of_money(50 * ir::kDecOne, ir::currency_code("USD"));
  for (const char* fn : {"level", "label", "fees"})
    EXPECT_EQ(eval(l.module, fn, {usd}), eval(b.module, fn, {usd})) << fn;
  EXPECT_EQ(eval(l.module, "fees", {usd}), "1 USD");
  // Serialising the loaded bundle gives the same bytes: nothing was lost or reinterpreted.
  EXPECT_EQ(bundle::serialize(l), bytes);
}

TEST(Bundle, ContentHashFollowsTheSources) {
  auto a = driver::check_text("b.org", kSource);
  auto b = driver::check_text("b.org", std::string(kSource) + "\n// a comment changes the hash\n");
  EXPECT_EQ(bundle::content_hash(*a).size(), 64u);
  EXPECT_NE(bundle::content_hash(*a), bundle::content_hash(*b));
  EXPECT_EQ(bundle::content_hash(*a), bundle::content_hash(*driver::check_text("b.org", kSource)));
}

TEST(Bundle, ForeignAndDamagedFilesAreRefused) {
  auto bytes = bundle::serialize(make());
  auto err = [](const std::vector<uint8_t>& b) {
    auto r = bundle::deserialize(b);
    return std::holds_alternative<bundle::LoadError>(r) ? std::get<bundle::LoadError>(r).message
                                                        : std::string();
  };
  EXPECT_NE(err({'h', 'e', 'l', 'l', 'o'}).find("not an OrgOS bundle"), std::string::npos);
  auto flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  EXPECT_NE(err(flipped).find("damaged"), std::string::npos);
  // Every truncation is refused.
  for (size_t n = 0; n < bytes.size(); n += 7) EXPECT_FALSE(err({bytes.begin(), bytes.begin() + n}).empty());
}

TEST(Bundle, CorruptContentWithAValidChecksumIsStillRefusedSafely) {
  // Damage the IR section and then fix the checksum, as a hostile or buggy writer could: the reader
  // must validate the structure itself.
  auto bytes = bundle::serialize(make());
  for (size_t i = 20; i + 32 < bytes.size(); i += 3) {
    auto copy = bytes;
    copy[i] ^= 0xff;
    unsigned char sum[32];
    crypto_generichash(sum, sizeof sum, copy.data(), copy.size() - 32, nullptr, 0);
    std::copy(sum, sum + 32, copy.end() - 32);
    auto r = bundle::deserialize(copy);  // must not crash; may load if the flip hit a harmless byte
    (void)r;
  }
  SUCCEED();
}

TEST(Bundle, ExampleOrganizationRoundTripsWithItsProcesses) {
  driver::CheckOptions o;
  o.inputs = {std::string(ORGOS_SOURCE_DIR) + "/examples/language-tour"};
  auto c = driver::check(o);
  ASSERT_FALSE(c->diags.has_errors());
  auto lowered = ir::lower(*c);
  bundle::Bundle b;
  b.source_hash = bundle::content_hash(*c);
  b.module = std::move(lowered.module);
  b.program = std::move(lowered.program);
  ASSERT_FALSE(b.program.processes.empty());
  ASSERT_FALSE(b.program.rules.empty());
  ASSERT_FALSE(b.program.orgs.empty());
  auto bytes = bundle::serialize(b);
  auto loaded = bundle::deserialize(bytes);
  ASSERT_TRUE(std::holds_alternative<bundle::Bundle>(loaded)) << std::get<bundle::LoadError>(loaded).message;
  auto& l = std::get<bundle::Bundle>(loaded);
  EXPECT_EQ(l.program.processes.size(), b.program.processes.size());
  EXPECT_EQ(l.program.processes[0].steps.size(), b.program.processes[0].steps.size());
  EXPECT_EQ(bundle::serialize(l), bytes);
}

// ---- sealed bundle files: only bundles written with the local key are loaded

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path dir;
  TempDir() {
    dir = fs::temp_directory_path() / ("orgos-bundle-auth-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
};

bundle::Key key_at(const std::string& path) {
  auto k = bundle::load_or_create_key(path);
  EXPECT_TRUE(std::holds_alternative<bundle::Key>(k)) << std::get<std::string>(k);
  return std::holds_alternative<bundle::Key>(k) ? std::get<bundle::Key>(k) : bundle::Key{};
}

std::string refusal(const std::vector<uint8_t>& file, const bundle::Key& key) {
  auto r = bundle::open_sealed(file, key);
  return std::holds_alternative<bundle::LoadError>(r) ? std::get<bundle::LoadError>(r).message : "";
}

// What an editor of the file can do: change one byte of the bundle inside and recompute the bundle's own
// checksum, so that the unkeyed check passes.
std::vector<uint8_t> edit_with_recomputed_checksum(std::vector<uint8_t> sealed, size_t at) {
  const size_t head = sizeof bundle::kSealMagic + 32;
  sealed[head + at] ^= 0x01;
  unsigned char sum[32];
  crypto_generichash(sum, sizeof sum, sealed.data() + head, sealed.size() - head - 32, nullptr, 0);
  std::copy(sum, sum + 32, sealed.end() - 32);
  return sealed;
}

}  // namespace

TEST(BundleAuth, KeyIsCreatedOnFirstUsePrivateAndStable) {
  TempDir t;
  std::string path = t / "config/orgos/bundle.key";
  bundle::Key a = key_at(path);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(t / "config/orgos").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::file_size(path), 32u);
  EXPECT_EQ(key_at(path).bytes, a.bytes);  // read back, not made again
  // A key others may read could be used to forge bundles: refused with what to do.
  fs::permissions(path, fs::perms::group_read, fs::perm_options::add);
  auto shared = bundle::load_or_create_key(path);
  ASSERT_TRUE(std::holds_alternative<std::string>(shared));
  EXPECT_NE(std::get<std::string>(shared).find("chmod 600"), std::string::npos)
      << std::get<std::string>(shared);
  // A key of the wrong size is refused, not padded.
  std::ofstream(t / "short.key") << "too short";
  fs::permissions(t / "short.key", fs::perms::owner_read | fs::perms::owner_write);
  auto s = bundle::load_or_create_key(t / "short.key");
  ASSERT_TRUE(std::holds_alternative<std::string>(s));
  EXPECT_NE(std::get<std::string>(s).find("not 32 bytes"), std::string::npos);
}

TEST(BundleAuth, OneEditedByteWithARecomputedChecksumIsRefused) {
  TempDir t;
  bundle::Key key = key_at(t / "k");
  auto inner = bundle::serialize(make());
  auto sealed = bundle::seal(inner, key);
  auto ok = bundle::open_sealed(sealed, key);
  ASSERT_TRUE(std::holds_alternative<bundle::Bundle>(ok)) << std::get<bundle::LoadError>(ok).message;
  EXPECT_EQ(bundle::serialize(std::get<bundle::Bundle>(ok)), inner);
  // Every single edited byte of the bundle, with its checksum made right again, is refused (without the
  // key the checksum alone was all there was, and an edit in the object code would have been run).
  for (size_t at = 0; at + 32 < inner.size(); at += 5) {
    auto edited = edit_with_recomputed_checksum(sealed, at);
    EXPECT_NE(refusal(edited, key).find("does not authenticate"), std::string::npos) << "byte " << at;
  }
  // Sealed with another machine's key, or not sealed at all (an older orgctl, a copy from a store).
  bundle::Key other = key_at(t / "other");
  EXPECT_NE(refusal(sealed, other).find("does not authenticate"), std::string::npos);
  EXPECT_NE(refusal(inner, key).find("not sealed"), std::string::npos);
  EXPECT_NE(refusal({'h', 'i'}, key).find("not an OrgOS bundle"), std::string::npos);
  for (size_t n = 0; n < sealed.size(); n += 11)
    EXPECT_FALSE(refusal({sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(n)}, key).empty());
}

namespace {
driver::BuildOptions project(const TempDir& t) {
  std::ofstream(t / "p.org") << "fn double(x: Int) -> Int = x * 2\nmetric m = double(21)\n";
  driver::BuildOptions bo;
  bo.check.inputs = {t / "p.org"};
  bo.check.stdlib_dir = std::string(ORGOS_SOURCE_DIR) + "/stdlib";
  bo.key_path = t / "bundle.key";
  return bo;
}
std::vector<uint8_t> bytes_of(const std::string& path) {
  return *bundle::read_file(path);
}
void put(const std::string& path, const std::vector<uint8_t>& b) {
  std::string err;
  ASSERT_TRUE(bundle::write_file(path, b, err)) << err;
}
}  // namespace

TEST(BundleAuth, AnEditedCachedBundleIsRebuiltAndANamedOneRefused) {
  TempDir t;
  auto bo = project(t);
  auto first = driver::build_or_load(bo);
  ASSERT_TRUE(std::holds_alternative<driver::Built>(first));
  std::string path = std::get<driver::Built>(first).bundle_path;
  auto again = driver::build_or_load(bo);
  ASSERT_TRUE(std::get<driver::Built>(again).from_cache);  // sealed with the key, so trusted
  // An edit the unkeyed checks accept: the bundle still parses, names the same sources and hash, so the
  // old reader (checksum, then staleness) loaded and ran it. Searched from the end (the IR and program).
  auto sealed = bytes_of(path);
  const size_t head = sizeof bundle::kSealMagic + 32;
  std::vector<uint8_t> edited;
  for (size_t at = sealed.size() - head - 33; at > 100 && edited.empty(); --at) {
    auto e = edit_with_recomputed_checksum(sealed, at);
    auto inner = bundle::deserialize(std::vector<uint8_t>(e.begin() + head, e.end()));
    auto* b = std::get_if<bundle::Bundle>(&inner);
    if (b && b->source_hash == std::get<driver::Built>(first).bundle.source_hash &&
        b->files == std::get<driver::Built>(first).bundle.files)
      edited = e;
  }
  ASSERT_FALSE(edited.empty());
  put(path, edited);
  // The cache: not loaded, rebuilt, and written sealed again.
  auto rebuilt = driver::build_or_load(bo);
  ASSERT_TRUE(std::holds_alternative<driver::Built>(rebuilt));
  EXPECT_FALSE(std::get<driver::Built>(rebuilt).from_cache);
  EXPECT_NE(std::get<driver::Built>(rebuilt).stale_reason.find("does not authenticate"), std::string::npos)
      << std::get<driver::Built>(rebuilt).stale_reason;
  EXPECT_NE(bytes_of(path), edited);
  EXPECT_TRUE(driver::build_or_load(bo).index() == 0 &&
              std::get<driver::Built>(driver::build_or_load(bo)).from_cache);
  // Named to be run: refused with the reason, and the file left as it is.
  put(path, edited);
  auto named = bo;
  named.bundle_path = path;
  named.untrusted = driver::BuildOptions::Untrusted::Refuse;
  auto refused = driver::build_or_load(named);
  ASSERT_TRUE(std::holds_alternative<driver::BuildFailure>(refused));
  EXPECT_NE(std::get<driver::BuildFailure>(refused).message.find("does not authenticate"), std::string::npos)
      << std::get<driver::BuildFailure>(refused).message;
  EXPECT_EQ(bytes_of(path), edited);
}

TEST(BundleAuth, AFileThatIsNotABundleIsNeverOverwritten) {
  TempDir t;
  auto bo = project(t);
  std::ofstream(t / "notes.txt") << "my notes, not a bundle\n";
  bo.bundle_path = t / "notes.txt";
  for (auto untrusted : {driver::BuildOptions::Untrusted::Rebuild, driver::BuildOptions::Untrusted::Refuse}) {
    bo.untrusted = untrusted;
    for (bool force : {false, true}) {
      bo.force = force;
      auto r = driver::build_or_load(bo);
      ASSERT_TRUE(std::holds_alternative<driver::BuildFailure>(r));
      EXPECT_NE(std::get<driver::BuildFailure>(r).message.find("is not an OrgOS bundle"), std::string::npos)
          << std::get<driver::BuildFailure>(r).message;
    }
  }
  std::ifstream in(t / "notes.txt");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "my notes, not a bundle\n");
  // A bundle (even a stale or damaged one) is orgctl's to replace.
  bo.bundle_path = t / "p.orgb";
  bo.force = false;
  bo.untrusted = driver::BuildOptions::Untrusted::Rebuild;
  ASSERT_TRUE(std::holds_alternative<driver::Built>(driver::build_or_load(bo)));
}

TEST(BundleAuth, ProcessesCreatingTheKeyAtOnceAllGetTheSameWholeKey) {
  TempDir t;
  std::string path = t / "race/bundle.key";
  constexpr int kProcs = 8;
  int fds[kProcs][2];
  for (auto& fd : fds) {
    ASSERT_EQ(::pipe(fd), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto k = bundle::load_or_create_key(path);
      std::string out =
          std::holds_alternative<bundle::Key>(k)
              ? std::string(std::get<bundle::Key>(k).bytes.begin(), std::get<bundle::Key>(k).bytes.end())
              : "error: " + std::get<std::string>(k);
      (void)!::write(fd[1], out.data(), out.size());
      ::_exit(0);
    }
    ::close(fd[1]);
  }
  std::vector<std::string> keys;
  for (auto& fd : fds) {
    std::string got;
    char buf[256];
    ssize_t n;
    while ((n = ::read(fd[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    ::close(fd[0]);
    keys.push_back(got);
  }
  while (::wait(nullptr) > 0) {
  }
  bundle::Key on_disk = key_at(path);
  for (auto& k : keys) EXPECT_EQ(k, std::string(on_disk.bytes.begin(), on_disk.bytes.end()));
  // No temporary file is left beside the key.
  EXPECT_EQ(std::distance(fs::directory_iterator(t / "race"), fs::directory_iterator{}), 1);
}
