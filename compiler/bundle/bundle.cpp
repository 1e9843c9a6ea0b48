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
    if (len == 0) return;  // dst may be an empty vector's null data()
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
    w.var(l.defaults.size());
    for (auto f : l.defaults) w.var(f == ir::kNone ? 0 : uint64_t{f} + 1);
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
    w.str(f.message);
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

// ---- the executable description (processes, rules, …)

void put_strs(Writer& w, const std::vector<std::string>& v) {
  w.var(v.size());
  for (auto& x : v) w.str(x);
}
void put_u32s(Writer& w, const std::vector<uint32_t>& v) {
  w.var(v.size());
  for (auto x : v) w.var(x);
}
// kNone is stored as 0 and every other index as index + 1, so the common "none" costs one byte.
void put_ix(Writer& w, uint32_t v) {
  w.var(v == ir::kNone ? 0 : uint64_t{v} + 1);
}

void put_process(Writer& w, const ir::ProcessIR& p) {
  w.str(p.name);
  put_ix(w, p.frame_layout);
  put_ix(w, p.instance_layout);
  w.var(p.param_slots.size());
  for (auto x : p.param_slots) put_ix(w, x);
  put_ix(w, p.timeout);
  put_ix(w, p.start);
  put_ix(w, p.on_failure);
  put_ix(w, p.on_timeout);
  put_ix(w, p.error_slot);
  put_span(w, p.span);
  w.var(p.steps.size());
  for (const ir::Step& s : p.steps) {
    w.u8(static_cast<uint8_t>(s.kind));
    w.str(s.name);
    w.str(s.role);
    for (uint32_t x : {s.layout, s.value, s.scope, s.within, s.where, s.escalate_scope, s.bind_slot,
                       s.set_slot, s.set_target, s.join, s.on_timeout, s.compensation})
      put_ix(w, x);
    w.str(s.escalate_role);
    w.var(s.fields.size());
    for (auto& f : s.fields) {
      put_ix(w, f.slot);
      put_ix(w, f.function);
    }
    w.var(s.args.size());
    for (auto x : s.args) put_ix(w, x);
    w.var(s.cases.size());
    for (auto x : s.cases) put_ix(w, x);
    put_u32s(w, s.case_target);
    put_strs(w, s.outcomes);
    w.u8(s.quorum_kind);
    w.i64(s.quorum_n);
    w.i64(s.quorum_of);
    w.var(s.join_count);
    w.i64(s.max_items);
    w.u8(s.parallel ? 1 : 0);
    w.var(s.next.size());
    for (auto x : s.next) put_ix(w, x);
    put_span(w, s.span);
  }
}

void put_program(Writer& w, const ir::Program& p) {
  w.var(p.processes.size());
  for (auto& x : p.processes) put_process(w, x);
  w.var(p.lifecycles.size());
  for (auto& l : p.lifecycles) {
    w.str(l.name);
    w.u8(l.of_org ? 1 : 0);
    put_ix(w, l.subject_layout);
    w.str(l.initial);
    put_strs(w, l.states);
    put_strs(w, l.finals);
    w.var(l.transitions.size());
    for (auto& t : l.transitions) {
      w.str(t.name);
      put_strs(w, t.from);
      w.str(t.to);
      put_ix(w, t.guard);
      put_ix(w, t.effects);
    }
    w.var(l.effects.size());
    for (auto& e : l.effects) put_process(w, e);
  }
  w.var(p.rules.size());
  for (auto& r : p.rules) {
    w.str(r.name);
    w.i64(r.salience);
    w.var(r.patterns.size());
    for (auto& pt : r.patterns) {
      w.u8(pt.kind);
      put_ix(w, pt.layout);
      w.u8(pt.is_event ? 1 : 0);
      put_ix(w, pt.condition);
      put_ix(w, pt.alpha);
      put_ix(w, pt.eq_slot);
      put_ix(w, pt.eq_value);
      w.var(pt.keys.size());
      for (auto& k : pt.keys) {
        put_ix(w, k.left);
        put_ix(w, k.right);
      }
      put_ix(w, pt.beta);
      w.var(pt.reads.size());
      for (uint32_t t : pt.reads) put_ix(w, t);
    }
    put_process(w, r.actions);
  }
  w.var(p.policies.size());
  for (auto& x : p.policies) {
    w.str(x.name);
    w.u8(x.forbid ? 1 : 0);
    w.str(x.action);
    w.str(x.resource);
    put_ix(w, x.when);
  }
  w.var(p.roles.size());
  for (auto& r : p.roles) {
    w.str(r.name);
    put_strs(w, r.extends);
    w.u8(r.scoped ? 1 : 0);
    w.var(r.grants.size());
    for (auto& g : r.grants) {
      w.str(g.action);
      w.str(g.resource);
      put_ix(w, g.where);
    }
  }
  w.var(p.orgs.size());
  for (auto& o : p.orgs) {
    for (const std::string* x :
         {&o.name, &o.purpose, &o.legal_form, &o.jurisdiction, &o.currency, &o.lifecycle})
      w.str(*x);
    w.var(o.units.size());
    for (auto& u : o.units) {
      w.str(u.name);
      w.str(u.kind);
      w.str(u.parent);
    }
    w.var(o.positions.size());
    for (auto& pos : o.positions) {
      w.str(pos.name);
      w.str(pos.role);
      w.str(pos.unit);
      put_strs(w, pos.holders);
    }
  }
  w.var(p.metrics.size());
  for (auto& m : p.metrics) {
    w.str(m.name);
    for (uint32_t x : {m.formula, m.window, m.target, m.warn, m.alert}) put_ix(w, x);
    w.u8(m.target_op);
    w.u8(m.warn_op);
    w.u8(m.alert_op);
    w.str(m.alert_event);
  }
  w.var(p.connector_ops.size());
  for (auto& c : p.connector_ops) {
    w.str(c.connector);
    w.str(c.op);
    put_strs(w, c.params);
    put_ix(w, c.result_layout);
  }
  put_strs(w, p.events);
  w.var(p.event_layouts.size());
  for (auto x : p.event_layouts) put_ix(w, x);
  w.var(p.record_layouts.size());
  for (auto x : p.record_layouts) put_ix(w, x);
  w.var(p.record_checks.size());
  for (auto& v : p.record_checks) put_u32s(w, v);
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
    for (uint64_t k = 0, nd = r.count(); k < nd; ++k) {
      uint64_t v = r.var();
      if (v > ir::kNone) throw Corrupt{"a default names a function out of range"};
      l.defaults.push_back(v == 0 ? ir::kNone : static_cast<uint32_t>(v - 1));
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
    f.message = r.str();
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

std::vector<std::string> get_strs(Reader& r) {
  std::vector<std::string> v;
  for (uint64_t i = 0, n = r.count(); i < n; ++i) v.push_back(r.str());
  return v;
}
std::vector<uint32_t> get_u32s(Reader& r) {
  std::vector<uint32_t> v;
  for (uint64_t i = 0, n = r.count(); i < n; ++i) v.push_back(r.u32());
  return v;
}
uint32_t get_ix(Reader& r) {
  uint64_t v = r.var();
  if (v == 0) return ir::kNone;
  if (v - 1 >= ir::kNone) throw Corrupt{"an index is out of range"};
  return static_cast<uint32_t>(v - 1);
}

ir::ProcessIR get_process(Reader& r) {
  ir::ProcessIR p;
  p.name = r.str();
  p.frame_layout = get_ix(r);
  p.instance_layout = get_ix(r);
  for (uint64_t i = 0, n = r.count(); i < n; ++i) p.param_slots.push_back(get_ix(r));
  p.timeout = get_ix(r);
  p.start = get_ix(r);
  p.on_failure = get_ix(r);
  p.on_timeout = get_ix(r);
  p.error_slot = get_ix(r);
  p.span = get_span(r);
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::Step s;
    s.kind = enum_of<ir::StepKind>(r.u8(), static_cast<uint8_t>(ir::StepKind::End), "step kind");
    s.name = r.str();
    s.role = r.str();
    for (uint32_t* x : {&s.layout, &s.value, &s.scope, &s.within, &s.where, &s.escalate_scope, &s.bind_slot,
                        &s.set_slot, &s.set_target, &s.join, &s.on_timeout, &s.compensation})
      *x = get_ix(r);
    s.escalate_role = r.str();
    for (uint64_t k = 0, nf = r.count(); k < nf; ++k) {
      uint32_t slot = get_ix(r);
      s.fields.push_back({slot, get_ix(r)});
    }
    for (uint64_t k = 0, na = r.count(); k < na; ++k) s.args.push_back(get_ix(r));
    for (uint64_t k = 0, nc = r.count(); k < nc; ++k) s.cases.push_back(get_ix(r));
    s.case_target = get_u32s(r);
    s.outcomes = get_strs(r);
    s.quorum_kind = r.u8();
    s.quorum_n = r.i64();
    s.quorum_of = r.i64();
    s.join_count = r.u32();
    s.max_items = r.i64();
    s.parallel = r.u8() != 0;
    for (uint64_t k = 0, nn = r.count(); k < nn; ++k) s.next.push_back(get_ix(r));
    s.span = get_span(r);
    p.steps.push_back(std::move(s));
  }
  return p;
}

ir::Program get_program(Reader& r) {
  ir::Program p;
  for (uint64_t i = 0, n = r.count(); i < n; ++i) p.processes.push_back(get_process(r));
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::LifecycleIR l;
    l.name = r.str();
    l.of_org = r.u8() != 0;
    l.subject_layout = get_ix(r);
    l.initial = r.str();
    l.states = get_strs(r);
    l.finals = get_strs(r);
    for (uint64_t k = 0, nt = r.count(); k < nt; ++k) {
      ir::TransitionIR t;
      t.name = r.str();
      t.from = get_strs(r);
      t.to = r.str();
      t.guard = get_ix(r);
      t.effects = get_ix(r);
      l.transitions.push_back(std::move(t));
    }
    for (uint64_t k = 0, ne = r.count(); k < ne; ++k) l.effects.push_back(get_process(r));
    p.lifecycles.push_back(std::move(l));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::RuleIR rule;
    rule.name = r.str();
    rule.salience = r.i64();
    for (uint64_t k = 0, np = r.count(); k < np; ++k) {
      ir::PatternIR pt;
      pt.kind = enum_of<uint8_t>(r.u8(), 3, "pattern kind");
      pt.layout = get_ix(r);
      pt.is_event = r.u8() != 0;
      pt.condition = get_ix(r);
      pt.alpha = get_ix(r);
      pt.eq_slot = get_ix(r);
      pt.eq_value = get_ix(r);
      for (uint64_t j = 0, nk = r.count(); j < nk; ++j) {
        ir::JoinKeyIR k;
        k.left = get_ix(r);
        k.right = get_ix(r);
        pt.keys.push_back(k);
      }
      pt.beta = get_ix(r);
      for (uint64_t j = 0, nr = r.count(); j < nr; ++j) pt.reads.push_back(get_ix(r));
      rule.patterns.push_back(pt);
    }
    rule.actions = get_process(r);
    p.rules.push_back(std::move(rule));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::PolicyIR x;
    x.name = r.str();
    x.forbid = r.u8() != 0;
    x.action = r.str();
    x.resource = r.str();
    x.when = get_ix(r);
    p.policies.push_back(std::move(x));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::RoleIR role;
    role.name = r.str();
    role.extends = get_strs(r);
    role.scoped = r.u8() != 0;
    for (uint64_t k = 0, ng = r.count(); k < ng; ++k) {
      ir::GrantIR g;
      g.action = r.str();
      g.resource = r.str();
      g.where = get_ix(r);
      role.grants.push_back(std::move(g));
    }
    p.roles.push_back(std::move(role));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::OrgIR o;
    for (std::string* x : {&o.name, &o.purpose, &o.legal_form, &o.jurisdiction, &o.currency, &o.lifecycle})
      *x = r.str();
    for (uint64_t k = 0, nu = r.count(); k < nu; ++k) {
      ir::UnitIR u;
      u.name = r.str();
      u.kind = r.str();
      u.parent = r.str();
      o.units.push_back(std::move(u));
    }
    for (uint64_t k = 0, npos = r.count(); k < npos; ++k) {
      ir::PositionIR pos;
      pos.name = r.str();
      pos.role = r.str();
      pos.unit = r.str();
      pos.holders = get_strs(r);
      o.positions.push_back(std::move(pos));
    }
    p.orgs.push_back(std::move(o));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::MetricIR m;
    m.name = r.str();
    for (uint32_t* x : {&m.formula, &m.window, &m.target, &m.warn, &m.alert}) *x = get_ix(r);
    m.target_op = r.u8();
    m.warn_op = r.u8();
    m.alert_op = r.u8();
    m.alert_event = r.str();
    p.metrics.push_back(std::move(m));
  }
  for (uint64_t i = 0, n = r.count(); i < n; ++i) {
    ir::ConnectorOpIR c;
    c.connector = r.str();
    c.op = r.str();
    c.params = get_strs(r);
    c.result_layout = get_ix(r);
    p.connector_ops.push_back(std::move(c));
  }
  p.events = get_strs(r);
  for (uint64_t i = 0, n = r.count(); i < n; ++i) p.event_layouts.push_back(get_ix(r));
  for (uint64_t i = 0, n = r.count(); i < n; ++i) p.record_layouts.push_back(get_ix(r));
  for (uint64_t i = 0, n = r.count(); i < n; ++i) p.record_checks.push_back(get_u32s(r));
  return p;
}

// Function and step indices must point inside the module and the process, or the runtime would
// index out of bounds.
void validate_program(const ir::Program& p, const ir::Module& m) {
  auto fn = [&](uint32_t f) {
    if (f != ir::kNone && f >= m.functions.size()) throw Corrupt{"a step names a missing function"};
  };
  auto lay = [&](uint32_t l) {
    if (l != ir::kNone && l >= m.layouts.size()) throw Corrupt{"a step names a missing record layout"};
  };
  auto proc = [&](const ir::ProcessIR& pr) {
    auto step = [&](uint32_t s) {
      if (s != ir::kNone && s >= pr.steps.size()) throw Corrupt{"a step jumps outside its process"};
    };
    step(pr.start);
    step(pr.on_failure);
    step(pr.on_timeout);
    fn(pr.timeout);
    lay(pr.frame_layout);
    lay(pr.instance_layout);
    for (const ir::Step& s : pr.steps) {
      for (uint32_t f : {s.value, s.scope, s.within, s.where, s.escalate_scope, s.set_target}) fn(f);
      lay(s.layout);
      for (auto& fv : s.fields) fn(fv.function);
      for (auto a : s.args) fn(a);
      for (auto c : s.cases) fn(c);
      for (auto t : s.case_target)
        if (t >= s.next.size()) throw Corrupt{"a switch case has no target"};
      for (uint32_t x : {s.join, s.on_timeout, s.compensation}) step(x);
      for (auto n : s.next) step(n);
    }
  };
  for (auto& pr : p.processes) proc(pr);
  for (auto& l : p.lifecycles) {
    lay(l.subject_layout);
    for (auto& t : l.transitions) {
      fn(t.guard);
      if (t.effects != ir::kNone && t.effects >= l.effects.size())
        throw Corrupt{"a transition names missing effects"};
    }
    for (auto& e : l.effects) proc(e);
  }
  for (auto& r : p.rules) {
    for (auto& pt : r.patterns) {
      for (uint32_t f : {pt.condition, pt.alpha, pt.eq_value, pt.beta}) fn(f);
      for (auto& k : pt.keys) {
        fn(k.left);
        fn(k.right);
      }
      lay(pt.layout);
      for (uint32_t t : pt.reads) lay(t);
    }
    proc(r.actions);
  }
  for (auto& x : p.policies) fn(x.when);
  for (auto& r : p.roles)
    for (auto& g : r.grants) fn(g.where);
  for (auto& mt : p.metrics)
    for (uint32_t f : {mt.formula, mt.window, mt.target, mt.warn, mt.alert}) fn(f);
  for (auto l : p.event_layouts) lay(l);
  for (auto l : p.record_layouts) lay(l);
  for (auto& v : p.record_checks)
    for (auto f : v) fn(f);
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
  for (auto& l : m.layouts)
    for (auto d : l.defaults)
      if (d != ir::kNone && d >= m.functions.size())
        throw Corrupt{"a field default names a missing function"};
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
  Writer prog;
  put_program(prog, b.program);
  w.var(prog.out.size());
  w.raw(prog.out.data(), prog.out.size());
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
    uint64_t prog_len = r.var();
    size_t prog_start = r.pos();
    b.program = get_program(r);
    if (r.pos() - prog_start != prog_len) throw Corrupt{"the program section has the wrong length"};
    validate_program(b.program, b.module);
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
