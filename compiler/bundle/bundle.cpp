// Bundle encoding: a fixed header, the IR module, the object code, then a BLAKE2b-256 checksum of all
// of it. Integers are little-endian varints; every read is bounds-checked and trees are depth-limited,
// so a damaged file yields a LoadError rather than a crash or a half-built module.
#include "compiler/bundle/bundle.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <variant>

#include "compiler/driver/compilation.h"
#include "orgos/version.h"

namespace orgos::bundle {

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

class Writer {
 public:
  std::vector<uint8_t> out;
  void u8(uint8_t v) { out.push_back(v); }
  void var(uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
  }
  void i64(int64_t v) { var(static_cast<uint64_t>(v)); }
  void raw(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  void str(const std::string& s) {
    var(s.size());
    raw(s.data(), s.size());
  }
};

struct Corrupt {
  std::string what;
};

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  uint8_t u8() {
    need(1);
    return p_[pos_++];
  }
  uint64_t var() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = u8();
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw Corrupt{"an integer is longer than 10 bytes"};
  }
  uint32_t u32() {
    uint64_t v = var();
    if (v > UINT32_MAX) throw Corrupt{"a 32-bit value is out of range"};
    return static_cast<uint32_t>(v);
  }
  int64_t i64() { return static_cast<int64_t>(var()); }
  std::string str() {
    uint64_t len = var();
    need(len);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return s;
  }
  void raw(void* dst, size_t len) {
    need(len);
    std::memcpy(dst, p_ + pos_, len);
    pos_ += len;
  }
  // A count of items that each take at least one byte: cannot exceed what is left.
  uint64_t count() {
    uint64_t c = var();
    if (c > n_ - pos_) throw Corrupt{"a count is larger than the data that follows"};
    return c;
  }
  size_t pos() const { return pos_; }
  bool done() const { return pos_ == n_; }

 private:
  void need(uint64_t k) {
    if (k > n_ - pos_) throw Corrupt{"the data ends early"};
  }
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

constexpr int kMaxDepth = 2048;

// ---- writing

void put_type(Writer& w, const ir::IType& t) {
  w.u8(static_cast<uint8_t>(t.kind));
  w.u8(t.optional ? 1 : 0);
  w.var(t.id);
  w.var(t.currency);
  w.u8(t.elem ? 1 : 0);
  if (t.elem) put_type(w, *t.elem);
}

void put_span(Writer& w, const source::Span& s) {
  w.var(s.file == source::kNoFile ? 0 : uint64_t{s.file} + 1);
  w.var(s.begin);
  w.var(s.end);
  w.var(s.line);
  w.var(s.col);
}

void put_node(Writer& w, const ir::Node* n) {
  if (!n) {
    w.u8(0);
    return;
  }
  w.u8(1);
  w.u8(static_cast<uint8_t>(n->op));
  put_type(w, n->type);
  w.var(n->index);
  w.u8(static_cast<uint8_t>(n->agg));
  w.u8(static_cast<uint8_t>(n->fn));
  if (n->op == ir::Op::Const) {
    w.u8(n->value.tag);
    w.var(n->value.aux);
    uint64_t lo = static_cast<uint64_t>(static_cast<unsigned __int128>(n->value.u.d));
    uint64_t hi = static_cast<uint64_t>(static_cast<unsigned __int128>(n->value.u.d) >> 64);
    if (n->value.tag == ir::kTagString) lo = hi = 0;  // the text below is the value
    w.var(lo);
    w.var(hi);
    w.str(n->value.tag == ir::kTagString ? std::string(n->value.u.s->view()) : std::string());
  }
  put_span(w, n->span);
  w.var(n->kids.size());
  for (auto& k : n->kids) put_node(w, k.get());
}

void put_module(Writer& w, const ir::Module& m) {
  w.var(m.layouts.size());
  for (auto& l : m.layouts) {
    w.str(l.name);
    w.var(l.fields.size());
    for (size_t i = 0; i < l.fields.size(); ++i) {
      w.str(l.fields[i]);
      put_type(w, i < l.types.size() ? l.types[i] : ir::IType{});
    }
  }
  w.var(m.enums.size());
  for (auto& e : m.enums) {
    w.str(e.name);
    w.var(e.values.size());
    for (auto& v : e.values) w.str(v);
  }
  w.var(m.functions.size());
  for (auto& f : m.functions) {
    w.str(f.name);
    w.u8(static_cast<uint8_t>(f.kind));
    w.var(f.params.size());
    for (size_t i = 0; i < f.params.size(); ++i) {
      put_type(w, f.params[i]);
      w.str(i < f.param_names.size() ? f.param_names[i] : "");
    }
    put_type(w, f.result);
    w.var(f.nlocals);
    put_span(w, f.span);
    put_node(w, f.body.get());
  }
  w.var(m.tables.size());
  for (auto& t : m.tables) {
    w.str(t.name);
    w.u8(static_cast<uint8_t>(t.hit));
    w.u8(static_cast<uint8_t>(t.collect));
    w.var(t.inputs.size());
    for (auto& i : t.inputs) put_type(w, i);
    w.var(t.outputs.size());
    for (auto& o : t.outputs) put_type(w, o);
    w.var(t.result_layout);
    put_type(w, t.result);
    put_span(w, t.span);
    w.var(t.rows.size());
    for (auto& r : t.rows) {
      put_node(w, r.condition.get());
      w.var(r.outputs.size());
      for (auto& o : r.outputs) put_node(w, o.get());
      put_span(w, r.span);
    }
  }
}

// ---- reading

template <typename E>
E enum_of(uint8_t v, uint8_t max, const char* what) {
  if (v > max) throw Corrupt{std::string("unknown ") + what};
  return static_cast<E>(v);
}

ir::IType get_type(Reader& r, int depth = 0) {
  if (depth > kMaxDepth) throw Corrupt{"types are nested too deeply"};
  ir::IType t;
  t.kind = enum_of<ir::Kind>(r.u8(), static_cast<uint8_t>(ir::Kind::None), "value kind");
  t.optional = r.u8() != 0;
  t.id = r.u32();
  t.currency = r.u32();
  if (r.u8()) t.elem = std::make_shared<ir::IType>(get_type(r, depth + 1));
  return t;
}

source::Span get_span(Reader& r) {
  source::Span s;
  uint64_t f = r.var();
  s.file = f == 0 ? source::kNoFile : static_cast<source::FileId>(f - 1);
  s.begin = r.u32();
  s.end = r.u32();
  s.line = r.u32();
  s.col = r.u32();
  return s;
}

ir::NodePtr get_node(Reader& r, ir::Module& m, int depth) {
  if (depth > kMaxDepth) throw Corrupt{"expressions are nested too deeply"};
  if (!r.u8()) return nullptr;
  auto n = std::make_unique<ir::Node>();
  n->op = enum_of<ir::Op>(r.u8(), static_cast<uint8_t>(ir::Op::CallTable), "operation");
  n->type = get_type(r);
  n->index = r.u32();
  n->agg = enum_of<ir::AggKind>(r.u8(), static_cast<uint8_t>(ir::AggKind::List), "aggregate");
  n->fn =
      enum_of<ir::BuiltinFn>(r.u8(), static_cast<uint8_t>(ir::BuiltinFn::DurSeconds), "built-in function");
  if (n->op == ir::Op::Const) {
    n->value = ir::Value::none();
    n->value.tag = enum_of<uint8_t>(r.u8(), ir::kTagList, "value tag");
    n->value.aux = r.u32();
    uint64_t lo = r.var(), hi = r.var();
    n->value.u.d = static_cast<ir::Dec>((static_cast<unsigned __int128>(hi) << 64) | lo);
    n->text = r.str();
    if (n->value.tag == ir::kTagString)
      n->value.u.s = m.intern(n->text);
    else if (n->value.tag == ir::kTagList || n->value.tag == ir::kTagRecord)
      throw Corrupt{"a constant cannot be a list or a record"};
  }
  n->span = get_span(r);
  uint64_t kids = r.count();
  for (uint64_t i = 0; i < kids; ++i) n->kids.push_back(get_node(r, m, depth + 1));
  return n;
}

ir::Module get_module(Reader& r) {
  ir::Module m;
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::RecordLayout l;
    l.name = r.str();
    for (uint64_t k = 0, nf = r.count(); k < nf; ++k) {
      l.fields.push_back(r.str());
      l.types.push_back(get_type(r));
    }
    m.layouts.push_back(std::move(l));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::EnumInfo e;
    e.name = r.str();
    for (uint64_t k = 0, nv = r.count(); k < nv; ++k) e.values.push_back(r.str());
    m.enums.push_back(std::move(e));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::Function f;
    f.name = r.str();
    f.kind = enum_of<ir::FunctionKind>(r.u8(), static_cast<uint8_t>(ir::FunctionKind::Expr), "function kind");
    for (uint64_t k = 0, np = r.count(); k < np; ++k) {
      f.params.push_back(get_type(r));
      f.param_names.push_back(r.str());
    }
    f.result = get_type(r);
    f.nlocals = r.u32();
    f.span = get_span(r);
    f.body = get_node(r, m, 0);
    if (!f.body) throw Corrupt{"function `" + f.name + "` has no body"};
    m.functions.push_back(std::move(f));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::Table t;
    t.name = r.str();
    t.hit = enum_of<ir::HitPolicy>(r.u8(), static_cast<uint8_t>(ir::HitPolicy::Collect), "hit policy");
    t.collect =
        enum_of<ir::CollectAgg>(r.u8(), static_cast<uint8_t>(ir::CollectAgg::Max), "collect aggregate");
    for (uint64_t k = 0, ni = r.count(); k < ni; ++k) t.inputs.push_back(get_type(r));
    for (uint64_t k = 0, no = r.count(); k < no; ++k) t.outputs.push_back(get_type(r));
    t.result_layout = r.u32();
    t.result = get_type(r);
    t.span = get_span(r);
    for (uint64_t k = 0, nr = r.count(); k < nr; ++k) {
      ir::TableRow row;
      row.condition = get_node(r, m, 0);
      for (uint64_t o = 0, nout = r.count(); o < nout; ++o) row.outputs.push_back(get_node(r, m, 0));
      row.span = get_span(r);
      t.rows.push_back(std::move(row));
    }
    m.tables.push_back(std::move(t));
  }
  return m;
}

// Indices inside the module must point at things that exist, or evaluation would read out of bounds.
void validate(const ir::Module& m) {
  std::function<void(const ir::Node*)> check = [&](const ir::Node* n) {
    if (!n) return;
    if (n->op == ir::Op::CallFn && n->index >= m.functions.size())
      throw Corrupt{"a call names a missing function"};
    if (n->op == ir::Op::CallTable && n->index >= m.tables.size())
      throw Corrupt{"a call names a missing table"};
    for (auto& k : n->kids) check(k.get());
  };
  for (auto& f : m.functions) check(f.body.get());
  for (auto& t : m.tables)
    for (auto& r : t.rows) {
      check(r.condition.get());
      for (auto& o : r.outputs) check(o.get());
    }
}

}  // namespace

std::string host_triple() {
#if defined(__x86_64__)
  std::string arch = "x86_64";
#elif defined(__aarch64__)
  std::string arch = "aarch64";
#else
  std::string arch = "unknown";
#endif
#if defined(__linux__)
  return arch + "-pc-linux-gnu";
#else
  return arch + "-unknown-unknown";
#endif
}

// BLAKE2b (crypto_generichash) needs no sodium_init(): it uses no randomness and no CPU dispatch state.
std::string content_hash(const driver::Compilation& c) {
  std::map<std::string, const std::string*> files;  // path order: independent of load order
  for (size_t i = 0; i < c.sources.size(); ++i)
    files[c.sources.file(static_cast<source::FileId>(i)).path] =
        &c.sources.file(static_cast<source::FileId>(i)).text;
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  for (auto& [path, text] : files) {
    uint64_t sizes[2] = {path.size(), text->size()};
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(sizes), sizeof sizes);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(path.data()), path.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(text->data()), text->size());
  }
  unsigned char out[32];
  crypto_generichash_final(&st, out, sizeof out);
  return hex(out, sizeof out);
}

std::vector<uint8_t> serialize(const Bundle& b) {
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.var(kFormatVersion);
  w.str(b.source_hash);
  w.str(b.host);
  w.str(b.compiler.empty() ? std::string(ORGOS_VERSION) : b.compiler);
  w.var(b.files.size());
  for (auto& f : b.files) w.str(f);
  Writer mod;
  put_module(mod, b.module);
  w.var(mod.out.size());
  w.raw(mod.out.data(), mod.out.size());
  w.var(b.object.size());
  w.raw(b.object.data(), b.object.size());
  unsigned char sum[32];
  crypto_generichash(sum, sizeof sum, w.out.data(), w.out.size(), nullptr, 0);
  w.raw(sum, sizeof sum);
  return std::move(w.out);
}

std::variant<Bundle, LoadError> deserialize(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < sizeof kMagic + 32 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return LoadError{"this is not an OrgOS bundle (wrong magic number); rebuild it with `orgctl compile`"};
  unsigned char sum[32];
  crypto_generichash(sum, sizeof sum, bytes.data(), bytes.size() - 32, nullptr, 0);
  if (sodium_memcmp(sum, bytes.data() + bytes.size() - 32, 32) != 0)
    return LoadError{"the bundle is damaged (its checksum does not match); rebuild it with `orgctl compile`"};
  try {
    Reader r(bytes.data() + sizeof kMagic, bytes.size() - sizeof kMagic - 32);
    uint64_t version = r.var();
    if (version != kFormatVersion)
      return LoadError{"the bundle has format version " + std::to_string(version) +
                       ", this orgctl reads version " + std::to_string(kFormatVersion) +
                       "; rebuild it with `orgctl compile`"};
    Bundle b;
    b.source_hash = r.str();
    b.host = r.str();
    b.compiler = r.str();
    for (uint64_t i = 0, n = r.count(); i < n; ++i) b.files.push_back(r.str());
    uint64_t mod_len = r.var();
    size_t mod_start = r.pos();
    b.module = get_module(r);
    if (r.pos() - mod_start != mod_len) throw Corrupt{"the IR section has the wrong length"};
    validate(b.module);
    uint64_t obj_len = r.count();
    b.object.resize(obj_len);
    r.raw(b.object.data(), obj_len);
    if (!r.done()) throw Corrupt{"there is data after the last section"};
    return b;
  } catch (const Corrupt& c) {
    return LoadError{"the bundle is damaged: " + c.what + "; rebuild it with `orgctl compile`"};
  }
}

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes, std::string& error) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = "cannot write `" + tmp + "`";
      return false;
    }
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      error = "writing `" + tmp + "` failed (disk full?)";
      std::remove(tmp.c_str());
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    error = "cannot replace `" + path + "`: " + ec.message();
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<std::vector<uint8_t>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace orgos::bundle
