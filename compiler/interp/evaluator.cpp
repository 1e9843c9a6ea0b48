// The tree-walking reference interpreter. Clarity over speed: every (operation, kind) pair is spelt
// out once here, and the JIT must agree with it on every generated case.
#include "compiler/interp/evaluator.h"

#include <algorithm>
#include <cstdio>

#include "compiler/interp/memory_blocks.h"
#include "compiler/syntax/literal.h"

namespace orgos::interp {

using namespace ir;

const char* error_kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::Overflow:
      return "overflow";
    case ErrorKind::DivisionByZero:
      return "division by zero";
    case ErrorKind::CurrencyMismatch:
      return "currency mismatch";
    case ErrorKind::NoneValue:
      return "none value";
    case ErrorKind::EmptyAggregate:
      return "empty aggregate";
    case ErrorKind::IndexRange:
      return "index out of range";
    case ErrorKind::NoMatch:
      return "no matching row";
    case ErrorKind::MultipleMatches:
      return "several matching rows";
    case ErrorKind::Host:
      return "host error";
  }
  return "error";
}

namespace {
// Thrown inside one evaluation only, caught by call(): keeps the evaluator's code straight-line.
struct Raised {
  RuntimeError err;
};
constexpr int kMaxCallDepth = 200;
}  // namespace

// ------------------------------------------------------------------ arena

// Values are carved from chunks (a bump pointer): the engine and the rules benchmark make records by the
// hundred thousand, and a malloc (plus a zeroing and a deque entry) for each was most of their cost.
// Chunks grow as memory_blocks.h schedules them (64 KiB, then huge pages); a request larger than a
// quarter of the current chunk gets a block of its own. Everything goes at clear().
void* Arena::alloc(size_t bytes) {
  bytes = (bytes + 15) & ~size_t{15};  // malloc'd blocks are 16-aligned
  if (bytes > chunk_ / 4) {
    blocks_.emplace_back(static_cast<char*>(alloc_block(bytes)));
    return blocks_.back().get();
  }
  if (left_ < bytes) {
    blocks_.emplace_back(static_cast<char*>(alloc_block(chunk_)));
    next_ = blocks_.back().get();
    left_ = chunk_;
    chunk_ = next_block_size(chunk_);
  }
  void* p = next_;
  next_ += bytes;
  left_ -= bytes;
  return p;
}

const String* Arena::string(std::string_view s) {
  auto* str = static_cast<String*>(alloc(sizeof(String) + s.size()));
  str->len = static_cast<uint32_t>(s.size());
  std::memcpy(str->data, s.data(), s.size());
  return str;
}

List* Arena::list(uint32_t len) {
  auto* l = static_cast<List*>(alloc(sizeof(List) + sizeof(Value) * (len ? len : 1)));
  l->len = len;
  for (uint32_t i = 0; i < len; ++i) l->items[i] = Value::none();
  return l;
}

Record* Arena::record(uint32_t type_id, uint32_t nslots) {
  auto* r = static_cast<Record*>(alloc(sizeof(Record) + sizeof(Value) * (nslots ? nslots : 1)));
  r->type_id = type_id;
  r->nslots = nslots;
  r->id = 0;
  for (uint32_t i = 0; i < nslots; ++i) r->slots[i] = Value::none();
  return r;
}

// ------------------------------------------------------------------ entry points

void Evaluator::fail(ErrorKind k, const std::string& msg, const source::Span& s) {
  throw Raised{{k, msg, s}};
}

Evaluator::Evaluator(const ir::Module& m, Host host, bool fast_guards) : m_(m), host_(std::move(host)) {
  if (!fast_guards) return;
  guards_.reserve(m.functions.size());
  for (const Function& f : m.functions) guards_.push_back(GuardProgram::compile(f));
}

Outcome Evaluator::call(uint32_t function, const std::vector<Value>& args) {
  Outcome out;
  const Function& fn = m_.functions.at(function);
  if (native_ && function < native_->functions.size() && native_->functions[function]) {
    NativeCtx ctx{this, host_.today, &depth_, native_->nodes.data()};
    depth_ = 0;
    native_error_.reset();
    int32_t st = native_->functions[function](args.data(), &out.value, &ctx);
    if (st == kNativeOk) return out;
    if (st == kNativeRaised && native_error_) {
      out.value = Value::none();
      out.error = std::move(native_error_);
      native_error_.reset();
      return out;
    }
    // Native code found an error; the walker words it (same semantics, so the same error).
    return call_reference(function, args);
  }
  // Guard-shaped functions take the fast path; it hands anything unusual back to the walker below.
  if (function < guards_.size() && guards_[function]) {
    auto r = guards_[function]->run(args.data());
    if (r != GuardProgram::Result::Bail) {
      out.value = Value::of_bool(r == GuardProgram::Result::True);
      return out;
    }
  }
  (void)fn;
  return call_reference(function, args);
}

bool Evaluator::try_fast(uint32_t function, const Value* args, Value& out) {
  if (native_ && function < native_->functions.size()) {
    if (NativeFn f = native_->functions[function]) {
      NativeCtx ctx{this, host_.today, &depth_, native_->nodes.data()};
      depth_ = 0;
      if (f(args, &out, &ctx) == kNativeOk) return true;
      native_error_.reset();
      return false;
    }
  }
  if (function < guards_.size() && guards_[function]) {
    auto r = guards_[function]->run(args);
    if (r != GuardProgram::Result::Bail) {
      out = Value::of_bool(r == GuardProgram::Result::True);
      return true;
    }
  }
  return false;
}

Outcome Evaluator::call_reference(uint32_t function, const std::vector<Value>& args) {
  Outcome out;
  const Function& fn = m_.functions.at(function);
  Frame f{&args, std::vector<Value>(fn.nlocals, Value::none())};
  depth_ = 0;  // a call from outside starts at depth 0, whatever an earlier failed call left behind
  try {
    out.value = eval(*fn.body, f);
  } catch (Raised& r) {
    out.error = std::move(r.err);
  }
  return out;
}

std::optional<Outcome> Evaluator::call_native(uint32_t function, const std::vector<Value>& args) {
  if (!native_ || function >= native_->functions.size() || !native_->functions[function]) return std::nullopt;
  Outcome out;
  NativeCtx ctx{this, host_.today, &depth_, native_->nodes.data()};
  depth_ = 0;
  native_error_.reset();
  int32_t st = native_->functions[function](args.data(), &out.value, &ctx);
  if (st == kNativeOk) return out;
  out.value = Value::none();
  if (st == kNativeRaised && native_error_) {
    out.error = std::move(native_error_);
  } else {
    out.error =
        RuntimeError{static_cast<ErrorKind>(st - 1), "reported by native code", m_.functions[function].span};
  }
  native_error_.reset();
  return out;
}

int32_t Evaluator::eval_for_native(const Node& n, const Value* args, uint32_t nargs, uint32_t nlocals,
                                   Value* out) {
  std::vector<Value> params(args, args + nargs);
  Frame f{&params, std::vector<Value>(nlocals, Value::none())};
  try {
    *out = eval(n, f);
    return kNativeOk;
  } catch (Raised& r) {
    native_error_ = std::move(r.err);
    return kNativeRaised;
  }
}

Outcome Evaluator::call_table(uint32_t t, const std::vector<Value>& args) {
  Outcome out;
  depth_ = 0;
  try {
    out.value = table(m_.tables.at(t), args, nullptr);
  } catch (Raised& r) {
    out.error = std::move(r.err);
  }
  return out;
}

// ------------------------------------------------------------------ evaluation

Value Evaluator::eval(const Node& n, Frame& f) {
  switch (n.op) {
    case Op::Const:
      return n.value;
    case Op::Param:
      return (*f.params)[n.index];
    case Op::Local:
      return f.locals[n.index];
    case Op::Today:
      return Value::of_date(host_.today);
    case Op::AllOf: {
      if (!host_.all_of) return Value::of_list(arena_.list(0));
      const List* l = host_.all_of(n.index, arena_);
      return Value::of_list(l ? l : arena_.list(0));
    }
    case Op::Field:
    case Op::OptField: {
      Value r = eval(*n.kids[0], f);
      if (r.is_none()) {
        if (n.op == Op::OptField) return Value::none();
        fail(ErrorKind::NoneValue, "reading a field of none", n.span);
      }
      if (n.index >= r.u.r->nslots) fail(ErrorKind::Host, "record has no such slot", n.span);
      return r.u.r->slots[n.index];
    }
    case Op::Index: {
      Value l = eval(*n.kids[0], f);
      Value i = eval(*n.kids[1], f);
      if (l.is_none() || i.is_none()) fail(ErrorKind::NoneValue, "indexing with none", n.span);
      if (i.u.i < 0 || i.u.i >= static_cast<int64_t>(l.u.l->len))
        fail(ErrorKind::IndexRange,
             "index " + std::to_string(i.u.i) + " is outside a list of " + std::to_string(l.u.l->len),
             n.span);
      return l.u.l->items[i.u.i];
    }
    case Op::ListLit: {
      List* l = arena_.list(static_cast<uint32_t>(n.kids.size()));
      for (size_t i = 0; i < n.kids.size(); ++i) l->items[i] = eval(*n.kids[i], f);
      return Value::of_list(l);
    }
    case Op::IntToDec: {
      Value v = eval(*n.kids[0], f);
      if (v.is_none()) return v;
      Dec d;
      dec::from_int(v.u.i, d);
      return Value::of_dec(d);
    }
    case Op::Neg: {
      Value v = eval(*n.kids[0], f);
      if (v.is_none()) fail(ErrorKind::NoneValue, "negating none", n.span);
      switch (n.type.kind) {
        case Kind::Int:
        case Kind::Dur: {
          int64_t r;
          if (__builtin_sub_overflow(int64_t{0}, v.u.i, &r))
            fail(ErrorKind::Overflow, "negation overflows", n.span);
          v.u.i = r;
          return v;
        }
        default: {
          Dec r;
          if (!dec::sub(0, v.u.d, r)) fail(ErrorKind::Overflow, "negation overflows", n.span);
          v.u.d = r;
          return v;
        }
      }
    }
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod: {
      Value a = eval(*n.kids[0], f);
      Value b = eval(*n.kids[1], f);
      if (a.is_none() || b.is_none()) fail(ErrorKind::NoneValue, "arithmetic on none", n.span);
      return arith(n, a, b);
    }
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
      Value a = eval(*n.kids[0], f);
      Value b = eval(*n.kids[1], f);
      return Value::of_bool(compare(n, a, b));
    }
    case Op::And: {
      if (!eval(*n.kids[0], f).u.i) return Value::of_bool(false);
      return Value::of_bool(eval(*n.kids[1], f).u.i != 0);
    }
    case Op::Or: {
      if (eval(*n.kids[0], f).u.i) return Value::of_bool(true);
      return Value::of_bool(eval(*n.kids[1], f).u.i != 0);
    }
    case Op::Not:
      return Value::of_bool(eval(*n.kids[0], f).u.i == 0);
    case Op::IsNone:
      return Value::of_bool(eval(*n.kids[0], f).is_none());
    case Op::Coalesce: {
      Value a = eval(*n.kids[0], f);
      return a.is_none() ? eval(*n.kids[1], f) : a;
    }
    case Op::In: {
      Value x = eval(*n.kids[0], f);
      Value l = eval(*n.kids[1], f);
      if (l.is_none()) fail(ErrorKind::NoneValue, "`in` on a none list", n.span);
      Node probe;
      probe.op = Op::Eq;
      probe.span = n.span;
      probe.kids.clear();
      for (uint32_t i = 0; i < l.u.l->len; ++i) {
        probe.type = n.kids[0]->type;
        if (compare(probe, x, l.u.l->items[i])) return Value::of_bool(true);
      }
      return Value::of_bool(false);
    }
    case Op::Contains: {
      Value s = eval(*n.kids[0], f);
      Value t = eval(*n.kids[1], f);
      if (s.is_none() || t.is_none()) fail(ErrorKind::NoneValue, "`contains` on none", n.span);
      return Value::of_bool(s.u.s->view().find(t.u.s->view()) != std::string_view::npos);
    }
    case Op::Agg:
      return aggregate(n, f);
    case Op::Builtin:
      return builtin(n, f);
    case Op::CallFn: {
      std::vector<Value> args;
      args.reserve(n.kids.size());
      for (auto& k : n.kids) args.push_back(eval(*k, f));
      if (++depth_ > kMaxCallDepth) {
        depth_ = 0;
        fail(ErrorKind::Overflow,
             "functions call each other more than " + std::to_string(kMaxCallDepth) + " deep", n.span);
      }
      const Function& fn = m_.functions.at(n.index);
      Frame inner{&args, std::vector<Value>(fn.nlocals, Value::none())};
      Value v = eval(*fn.body, inner);
      --depth_;
      return v;
    }
    case Op::CallTable: {
      std::vector<Value> args;
      for (auto& k : n.kids) args.push_back(eval(*k, f));
      return table(m_.tables.at(n.index), args, &n);
    }
  }
  return Value::none();
}

// Kind of the left operand decides; lowering has already normalised operand order (Money * Dec, not
// Dec * Money; Dur * Int, not Int * Dur) and widened Int to Dec where the other side is Dec.
Value Evaluator::arith(const Node& n, const Value& a, const Value& b) {
  Kind ka = n.kids[0]->type.kind, kb = n.kids[1]->type.kind;
  auto int_op = [&](int64_t x, int64_t y) -> int64_t {
    int64_t r = 0;
    bool ovf = false;
    switch (n.op) {
      case Op::Add:
        ovf = __builtin_add_overflow(x, y, &r);
        break;
      case Op::Sub:
        ovf = __builtin_sub_overflow(x, y, &r);
        break;
      case Op::Mul:
        ovf = __builtin_mul_overflow(x, y, &r);
        break;
      case Op::Mod:
        if (y == 0) fail(ErrorKind::DivisionByZero, "remainder of a division by zero", n.span);
        if (x == INT64_MIN && y == -1) return 0;
        r = x % y;
        break;
      case Op::Div:
        if (y == 0) fail(ErrorKind::DivisionByZero, "division by zero", n.span);
        if (x == INT64_MIN && y == -1)
          ovf = true;
        else
          r = x / y;
        break;
      default:
        break;
    }
    if (ovf) fail(ErrorKind::Overflow, std::string("integer overflow in `") + op_name(n.op) + "`", n.span);
    return r;
  };
  auto dec_op = [&](Dec x, Dec y) -> Dec {
    Dec r = 0;
    switch (n.op) {
      case Op::Add:
        if (!dec::add(x, y, r)) fail(ErrorKind::Overflow, "decimal overflow in `+`", n.span);
        break;
      case Op::Sub:
        if (!dec::sub(x, y, r)) fail(ErrorKind::Overflow, "decimal overflow in `-`", n.span);
        break;
      case Op::Mul:
        if (!dec::mul(x, y, r)) fail(ErrorKind::Overflow, "decimal overflow in `*`", n.span);
        break;
      case Op::Div: {
        int e = dec::div(x, y, r);
        if (e == 2) fail(ErrorKind::DivisionByZero, "division by zero", n.span);
        if (e == 1) fail(ErrorKind::Overflow, "decimal overflow in `/`", n.span);
        break;
      }
      default:
        fail(ErrorKind::Host, "operation not defined on decimals", n.span);
    }
    return r;
  };
  switch (ka) {
    case Kind::Int:
      return Value::of_int(int_op(a.u.i, b.u.i));
    case Kind::Dec:
      return Value::of_dec(dec_op(a.u.d, b.u.d));
    case Kind::Money: {
      if (kb == Kind::Money) {
        if (a.aux != b.aux)
          fail(ErrorKind::CurrencyMismatch,
               "cannot combine " + currency_name(a.aux) + " and " + currency_name(b.aux) + " amounts",
               n.span);
        Dec r = dec_op(a.u.d, b.u.d);
        return n.op == Op::Div ? Value::of_dec(r) : Value::of_money(r, a.aux);
      }
      Dec y = kb == Kind::Int ? static_cast<Dec>(b.u.i) * kDecOne : b.u.d;
      return Value::of_money(dec_op(a.u.d, y), a.aux);
    }
    case Kind::Dur: {
      if (kb == Kind::Dur) {
        if (n.op == Op::Div) {
          Dec x, y;
          dec::from_int(a.u.i, x);
          dec::from_int(b.u.i, y);
          return Value::of_dec(dec_op(x, y));
        }
        return Value::of_duration(int_op(a.u.i, b.u.i));
      }
      return Value::of_duration(int_op(a.u.i, b.u.i));  // Dur * Int, Dur / Int
    }
    case Kind::Date: {
      if (kb == Kind::Date) return Value::of_duration(int_op(a.u.i, b.u.i) * 86400);
      int64_t days = b.u.i / 86400;
      return Value::of_date(int_op(a.u.i, days));
    }
    case Kind::Str: {
      std::string s(a.u.s->view());
      s += b.u.s->view();
      return Value::of_string(arena_.string(s));
    }
    default:
      fail(ErrorKind::Host, "arithmetic on an unsupported kind", n.span);
  }
}

bool Evaluator::compare(const Node& n, const Value& a, const Value& b) {
  bool eq_op = n.op == Op::Eq || n.op == Op::Ne;
  if (a.is_none() || b.is_none()) {
    if (!eq_op)
      fail(ErrorKind::NoneValue, "comparing none with `" + std::string(op_name(n.op)) + "`", n.span);
    bool same = a.is_none() && b.is_none();
    return n.op == Op::Eq ? same : !same;
  }
  int c = 0;
  switch (a.tag) {
    case kTagInt:
    case kTagBool:
    case kTagDate:
    case kTagDuration:
    case kTagEnum:
      if (b.tag == kTagDec) {  // Int compared with Decimal without an explicit widening
        Dec x = static_cast<Dec>(a.u.i) * kDecOne;
        c = x < b.u.d ? -1 : x > b.u.d ? 1 : 0;
      } else {
        c = a.u.i < b.u.i ? -1 : a.u.i > b.u.i ? 1 : 0;
      }
      break;
    case kTagMoney:
      if (a.aux != b.aux)
        fail(ErrorKind::CurrencyMismatch,
             "cannot compare " + currency_name(a.aux) + " with " + currency_name(b.aux), n.span);
      [[fallthrough]];
    case kTagDec: {
      Dec y = b.tag == kTagInt ? static_cast<Dec>(b.u.i) * kDecOne : b.u.d;
      c = a.u.d < y ? -1 : a.u.d > y ? 1 : 0;
      break;
    }
    case kTagString: {
      int r = a.u.s->view().compare(b.u.s->view());
      c = r < 0 ? -1 : r > 0 ? 1 : 0;
      break;
    }
    case kTagRecord:
      // Identity: the same instance, or two views of the same entity.
      c = (a.u.r == b.u.r || (a.u.r->id != 0 && a.u.r->id == b.u.r->id)) ? 0 : 1;
      break;
    case kTagList: {
      if (!eq_op) fail(ErrorKind::Host, "lists have no order", n.span);
      const List *x = a.u.l, *y = b.u.l;
      c = x->len == y->len ? 0 : 1;
      Node probe;
      probe.op = Op::Eq;
      for (uint32_t i = 0; c == 0 && i < x->len; ++i) c = compare(probe, x->items[i], y->items[i]) ? 0 : 1;
      break;
    }
    default:
      c = 0;
  }
  switch (n.op) {
    case Op::Eq:
      return c == 0;
    case Op::Ne:
      return c != 0;
    case Op::Lt:
      return c < 0;
    case Op::Le:
      return c <= 0;
    case Op::Gt:
      return c > 0;
    case Op::Ge:
      return c >= 0;
    default:
      return false;
  }
}

Value Evaluator::aggregate(const Node& n, Frame& f) {
  Value src = eval(*n.kids[0], f);
  if (src.is_none()) fail(ErrorKind::NoneValue, "aggregating over none", n.span);
  const List* l = src.u.l;
  const Node* filter = n.kids.size() > 1 ? n.kids[1].get() : nullptr;
  const Node* element = n.kids.size() > 2 ? n.kids[2].get() : nullptr;
  int64_t count = 0;
  Value acc = Value::none();
  std::vector<Value> picked;
  Node cmp;  // for min/max through compare()
  cmp.span = n.span;
  // Sums go through arith() so they get the same overflow and currency rules as `+`.
  Node add;
  add.op = Op::Add;
  add.span = n.span;
  const IType elem_type = element ? element->type : (n.kids[0]->type.elem ? *n.kids[0]->type.elem : n.type);
  add.kids.push_back(std::make_unique<Node>());
  add.kids.push_back(std::make_unique<Node>());
  add.kids[0]->type = elem_type;
  add.kids[1]->type = elem_type;
  for (uint32_t i = 0; i < l->len; ++i) {
    f.locals[n.index] = l->items[i];
    if (filter && !eval(*filter, f).u.i) continue;
    Value v = element ? eval(*element, f) : l->items[i];
    ++count;
    switch (n.agg) {
      case AggKind::Count:
        if (element && !v.u.i) --count;  // count(cond for x in xs) counts the true ones
        break;
      case AggKind::All:
        if (!v.u.i) return Value::of_bool(false);
        break;
      case AggKind::Any:
        if (v.u.i) return Value::of_bool(true);
        break;
      case AggKind::List:
        picked.push_back(v);
        break;
      case AggKind::Sum:
      case AggKind::Avg: {
        if (v.is_none()) fail(ErrorKind::NoneValue, "summing a none value", n.span);
        if (acc.is_none()) {
          acc = v;
          break;
        }
        acc = arith(add, acc, v);
        break;
      }
      case AggKind::Min:
      case AggKind::Max:
        if (v.is_none()) fail(ErrorKind::NoneValue, "comparing a none value", n.span);
        if (acc.is_none())
          acc = v;
        else {
          cmp.op = n.agg == AggKind::Min ? Op::Lt : Op::Gt;
          if (compare(cmp, v, acc)) acc = v;
        }
        break;
    }
  }
  switch (n.agg) {
    case AggKind::Count:
      return Value::of_int(count);
    case AggKind::All:
      return Value::of_bool(true);
    case AggKind::Any:
      return Value::of_bool(false);
    case AggKind::List: {
      List* out = arena_.list(static_cast<uint32_t>(picked.size()));
      std::copy(picked.begin(), picked.end(), out->items);
      return Value::of_list(out);
    }
    case AggKind::Sum:
      if (acc.is_none()) {
        switch (n.type.kind) {
          case Kind::Int:
            return Value::of_int(0);
          case Kind::Dur:
            return Value::of_duration(0);
          case Kind::Money:
            return Value::of_money(0, n.type.currency);
          default:
            return Value::of_dec(0);
        }
      }
      return acc;
    case AggKind::Avg: {
      if (count == 0) fail(ErrorKind::EmptyAggregate, "average of no values", n.span);
      if (acc.tag == kTagDuration) return Value::of_duration(acc.u.i / count);
      Dec total = acc.tag == kTagInt ? static_cast<Dec>(acc.u.i) * kDecOne : acc.u.d;
      Dec r;
      dec::div(total, static_cast<Dec>(count) * kDecOne, r);
      return acc.tag == kTagMoney ? Value::of_money(r, acc.aux) : Value::of_dec(r);
    }
    case AggKind::Min:
    case AggKind::Max:
      if (acc.is_none())
        fail(ErrorKind::EmptyAggregate, std::string(n.agg == AggKind::Min ? "min" : "max") + " of no values",
             n.span);
      return acc;
  }
  return Value::none();
}

Value Evaluator::builtin(const Node& n, Frame& f) {
  std::vector<Value> a;
  for (auto& k : n.kids) {
    a.push_back(eval(*k, f));
    if (a.back().is_none()) fail(ErrorKind::NoneValue, "a built-in function was given none", n.span);
  }
  switch (n.fn) {
    case BuiltinFn::Abs: {
      Value v = a[0];
      if (v.tag == kTagInt || v.tag == kTagDuration) {
        if (v.u.i == INT64_MIN) fail(ErrorKind::Overflow, "abs overflows", n.span);
        v.u.i = v.u.i < 0 ? -v.u.i : v.u.i;
      } else {
        Dec r;
        if (v.u.d < 0 && !dec::sub(0, v.u.d, r)) fail(ErrorKind::Overflow, "abs overflows", n.span);
        if (v.u.d < 0) v.u.d = r;
      }
      return v;
    }
    case BuiltinFn::Round: {
      Value v = a[0];
      if (v.tag == kTagInt) return v;
      int64_t places = a.size() > 1 ? a[1].u.i : 0;
      Dec r;
      if (!dec::round(v.u.d, static_cast<int>(std::clamp<int64_t>(places, 0, 9)), r))
        fail(ErrorKind::Overflow, "rounding overflows", n.span);
      v.u.d = r;
      return v;
    }
    case BuiltinFn::Len:
      return Value::of_int(a[0].tag == kTagString ? a[0].u.s->len : a[0].u.l->len);
    case BuiltinFn::Lower:
    case BuiltinFn::Upper: {
      std::string s(a[0].u.s->view());
      for (char& c : s) {
        if (n.fn == BuiltinFn::Lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (n.fn == BuiltinFn::Upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      return Value::of_string(arena_.string(s));
    }
    case BuiltinFn::Year:
    case BuiltinFn::Month:
    case BuiltinFn::Day: {
      std::string d = syntax::format_date(a[0].u.i);  // YYYY-MM-DD (years 0..9999)
      size_t dash = d.find('-', 1);
      int64_t y = std::stoll(d.substr(0, dash));
      int64_t m = std::stoll(d.substr(dash + 1, 2));
      int64_t day = std::stoll(d.substr(dash + 4, 2));
      return Value::of_int(n.fn == BuiltinFn::Year ? y : n.fn == BuiltinFn::Month ? m : day);
    }
    case BuiltinFn::DaysBetween: {
      int64_t r;
      if (__builtin_sub_overflow(a[1].u.i, a[0].u.i, &r))
        fail(ErrorKind::Overflow, "days_between overflows", n.span);
      return Value::of_int(r);
    }
    case BuiltinFn::MoneyAmount:
      return Value::of_dec(a[0].u.d);
    case BuiltinFn::MoneyCurrency:
      return Value::of_string(arena_.string(currency_name(a[0].aux)));
    case BuiltinFn::DurDays:
      return Value::of_int(a[0].u.i / 86400);
    case BuiltinFn::DurHours:
      return Value::of_int(a[0].u.i / 3600);
    case BuiltinFn::DurMinutes:
      return Value::of_int(a[0].u.i / 60);
    case BuiltinFn::DurSeconds:
      return Value::of_int(a[0].u.i);
    case BuiltinFn::Min2:
    case BuiltinFn::Max2: {
      Node cmp;
      cmp.op = n.fn == BuiltinFn::Min2 ? Op::Le : Op::Ge;
      cmp.span = n.span;
      return compare(cmp, a[0], a[1]) ? a[0] : a[1];
    }
  }
  return Value::none();
}

Value Evaluator::table(const Table& t, const std::vector<Value>& args, const Node* at) {
  source::Span where = at ? at->span : t.span;
  Frame f{&args, {}};
  std::vector<size_t> hits;
  // Row conditions run as native code when the module has it; an error it reports is re-raised with the
  // evaluator's words by evaluating the same condition again.
  const std::vector<NativeFn>* native_rows = nullptr;
  if (native_) {
    size_t ti = static_cast<size_t>(&t - m_.tables.data());
    if (ti < native_->table_rows.size()) native_rows = &native_->table_rows[ti];
  }
  auto holds = [&](size_t i) -> bool {
    const TableRow& row = t.rows[i];
    if (!row.condition) return true;
    if (native_rows && (*native_rows)[i]) {
      Value out;
      NativeCtx ctx{this, host_.today, &depth_, native_->nodes.data()};
      native_error_.reset();
      int32_t st = (*native_rows)[i](args.data(), &out, &ctx);
      if (st == kNativeOk) return out.u.i != 0;
      if (st == kNativeRaised && native_error_) {
        RuntimeError e = std::move(*native_error_);
        native_error_.reset();
        throw Raised{std::move(e)};
      }
    }
    return eval(*row.condition, f).u.i != 0;
  };
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (!holds(i)) continue;
    hits.push_back(i);
    if (t.hit == HitPolicy::First) break;
  }
  auto outputs = [&](size_t row) -> Value {
    const TableRow& r = t.rows[row];
    if (r.outputs.size() == 1) return eval(*r.outputs[0], f);
    Record* rec = arena_.record(t.result_layout, static_cast<uint32_t>(r.outputs.size()));
    for (size_t k = 0; k < r.outputs.size(); ++k) rec->slots[k] = eval(*r.outputs[k], f);
    return Value::of_record(rec);
  };
  switch (t.hit) {
    case HitPolicy::First:
    case HitPolicy::Unique:
    case HitPolicy::Any:
      if (hits.empty()) {
        if (t.result.optional) return Value::none();
        fail(ErrorKind::NoMatch, "no row of table `" + t.name + "` matches", where);
      }
      if (t.hit == HitPolicy::Unique && hits.size() > 1)
        fail(ErrorKind::MultipleMatches,
             "rows " + std::to_string(hits[0] + 1) + " and " + std::to_string(hits[1] + 1) +
                 " of unique table `" + t.name + "` both match",
             where);
      return outputs(hits[0]);
    case HitPolicy::Priority: {
      // The matching row whose first output is greatest (enum order, or numeric value) wins; ties go
      // to the earlier row.
      if (hits.empty()) {
        if (t.result.optional) return Value::none();
        fail(ErrorKind::NoMatch, "no row of table `" + t.name + "` matches", where);
      }
      size_t best = hits[0];
      Value best_v = eval(*t.rows[best].outputs[0], f);
      Node cmp;
      cmp.op = Op::Gt;
      cmp.span = where;
      for (size_t k = 1; k < hits.size(); ++k) {
        Value v = eval(*t.rows[hits[k]].outputs[0], f);
        if (compare(cmp, v, best_v)) {
          best = hits[k];
          best_v = v;
        }
      }
      return outputs(best);
    }
    case HitPolicy::Collect: {
      if (t.collect == CollectAgg::Count) return Value::of_int(static_cast<int64_t>(hits.size()));
      std::vector<Value> vals;
      for (size_t h : hits) vals.push_back(outputs(h));
      if (t.collect == CollectAgg::List) {
        List* l = arena_.list(static_cast<uint32_t>(vals.size()));
        std::copy(vals.begin(), vals.end(), l->items);
        return Value::of_list(l);
      }
      if (vals.empty()) {
        if (t.collect == CollectAgg::Sum) {
          switch (t.result.kind) {
            case Kind::Int:
              return Value::of_int(0);
            case Kind::Dur:
              return Value::of_duration(0);
            case Kind::Money:
              return Value::of_money(0, t.result.currency);
            default:
              return Value::of_dec(0);
          }
        }
        fail(ErrorKind::EmptyAggregate, "no row of table `" + t.name + "` matches", where);
      }
      Value acc = vals[0];
      Node op;
      op.span = where;
      op.kids.push_back(std::make_unique<Node>());
      op.kids.push_back(std::make_unique<Node>());
      op.kids[0]->type = t.result;
      op.kids[1]->type = t.result;
      for (size_t k = 1; k < vals.size(); ++k) {
        if (t.collect == CollectAgg::Sum) {
          op.op = Op::Add;
          acc = arith(op, acc, vals[k]);
        } else {
          op.op = t.collect == CollectAgg::Min ? Op::Lt : Op::Gt;
          if (compare(op, vals[k], acc)) acc = vals[k];
        }
      }
      return acc;
    }
  }
  return Value::none();
}

// ------------------------------------------------------------------ printing

std::string to_string(const Value& v, const Module* m) {
  switch (v.tag) {
    case kTagNone:
      return "none";
    case kTagInt:
      return std::to_string(v.u.i);
    case kTagBool:
      return v.u.i ? "true" : "false";
    case kTagDec:
      return dec::to_string(v.u.d);
    case kTagMoney:
      return dec::to_string(v.u.d) + " " + currency_name(v.aux);
    case kTagDate:
      return syntax::format_date(v.u.i);
    case kTagDuration: {
      int64_t s = v.u.i;
      if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
      if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
      if (s % 60 == 0) return std::to_string(s / 60) + "m";
      return std::to_string(s) + "s";
    }
    case kTagEnum:
      if (m && v.aux < m->enums.size() && v.u.i >= 0 &&
          v.u.i < static_cast<int64_t>(m->enums[v.aux].values.size()))
        return m->enums[v.aux].values[v.u.i];
      return "#" + std::to_string(v.u.i);
    case kTagString:
      return "\"" + std::string(v.u.s->view()) + "\"";
    case kTagList: {
      std::string s = "[";
      for (uint32_t i = 0; i < v.u.l->len; ++i) s += (i ? ", " : "") + to_string(v.u.l->items[i], m);
      return s + "]";
    }
    case kTagRecord: {
      std::string name = m && v.u.r->type_id < m->layouts.size() ? m->layouts[v.u.r->type_id].name : "record";
      std::string s = name + " {";
      for (uint32_t i = 0; i < v.u.r->nslots; ++i) {
        std::string field =
            m && v.u.r->type_id < m->layouts.size() && i < m->layouts[v.u.r->type_id].fields.size()
                ? m->layouts[v.u.r->type_id].fields[i]
                : std::to_string(i);
        s += (i ? ", " : " ") + field + ": " + to_string(v.u.r->slots[i], m);
      }
      return s + " }";
    }
  }
  return "?";
}

}  // namespace orgos::interp
