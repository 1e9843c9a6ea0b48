#include "compiler/codegen/jit.h"

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <map>
#include <mutex>

#include "compiler/bundle/bundle.h"
#include "compiler/codegen/llvm_support.h"
#include "compiler/codegen/native_abi.h"
#include "compiler/interp/evaluator.h"

namespace orgos::codegen {

using interp::ErrorKind;
using ir::Kind;
using ir::Node;
using ir::Op;

namespace {

// Offsets inside ir::Value and ir::Record (value.h keeps them stable: they are the ABI).
constexpr uint64_t kAuxOffset = offsetof(ir::Value, aux);
constexpr uint64_t kTagOffset = offsetof(ir::Value, tag);
constexpr uint64_t kSlotsOffset = offsetof(ir::Record, slots);
constexpr uint64_t kNslotsOffset = offsetof(ir::Record, nslots);
constexpr uint64_t kTodayOffset = offsetof(interp::NativeCtx, today);
constexpr uint64_t kDepthOffset = offsetof(interp::NativeCtx, depth);
constexpr int32_t kMaxCallDepth = 200;  // the evaluator's limit (evaluator.cpp)

// A value in registers: its tag, its payload (i64, or i128 for Decimal and Money) and its aux word.
struct CV {
  llvm::Value* tag;
  llvm::Value* p;
  llvm::Value* aux;
};

class Gen {
 public:
  Gen(llvm::LLVMContext& c, llvm::Module& mod, const ir::Module& m) : C(c), M(mod), B(c), m_(m) {
    i8 = B.getInt8Ty();
    i32 = B.getInt32Ty();
    i64 = B.getInt64Ty();
    i128 = B.getInt128Ty();
    ptr = B.getPtrTy();
    fn_ty = llvm::FunctionType::get(i32, {ptr, ptr, ptr}, false);
    auto* eval_ty = llvm::FunctionType::get(i32, {ptr, i32, ptr, i32, i32, ptr}, false);
    rt_eval_ = llvm::Function::Create(eval_ty, llvm::Function::ExternalLinkage, "orgos_rt_eval", M);
    auto* dec_ty = llvm::FunctionType::get(i32, {ptr, ptr, ptr}, false);
    rt_mul_ = llvm::Function::Create(dec_ty, llvm::Function::ExternalLinkage, "orgos_rt_dec_mul", M);
    rt_div_ = llvm::Function::Create(dec_ty, llvm::Function::ExternalLinkage, "orgos_rt_dec_div", M);
  }

  std::vector<const Node*>
      fallbacks;  // handed to the evaluator, numbered as collect_fallbacks() numbers them

  void declare_all() {
    for (size_t i = 0; i < m_.functions.size(); ++i)
      fns_.push_back(
          llvm::Function::Create(fn_ty, llvm::Function::ExternalLinkage, "orgos_fn_" + std::to_string(i), M));
  }

  void define(size_t index) {
    const ir::Function& f = m_.functions[index];
    define_body(fns_[index], *f.body, static_cast<uint32_t>(f.params.size()), f.nlocals);
  }

  // A decision table's row condition becomes a function of the table's inputs returning Bool, so a table
  // is matched natively row by row; the evaluator keeps the hit policy and the outputs.
  void define_row(size_t table, size_t row) {
    const ir::Table& t = m_.tables[table];
    auto* fn = llvm::Function::Create(fn_ty, llvm::Function::ExternalLinkage, row_symbol(table, row), M);
    define_body(fn, *t.rows[row].condition, static_cast<uint32_t>(t.inputs.size()), 0);
  }

  void define_body(llvm::Function* fn, const Node& body, uint32_t nparams, uint32_t nlocals) {
    cur_ = fn;
    cur_nparams_ = nparams;
    cur_nlocals_ = nlocals;
    errs_.clear();
    auto* entry = llvm::BasicBlock::Create(C, "entry", cur_);
    B.SetInsertPoint(entry);
    entry_ = entry;
    args_ = cur_->getArg(0);
    out_ = cur_->getArg(1);
    ctx_ = cur_->getArg(2);
    CV r = gen(body);
    store_value(out_, r, body.type.kind);
    B.CreateRet(B.getInt32(interp::kNativeOk));
  }

 private:
  // ---- memory <-> registers
  llvm::Value* at(llvm::Value* base, uint64_t off) { return B.CreateConstInBoundsGEP1_64(i8, base, off); }

  llvm::Type* payload_ty(Kind k) { return wide(k) ? i128 : i64; }

  CV load_value(llvm::Value* base, Kind k) {
    CV v;
    v.tag = B.CreateLoad(i8, at(base, kTagOffset));
    v.aux = B.CreateLoad(i32, at(base, kAuxOffset));
    if (wide(k))
      v.p = B.CreateAlignedLoad(i128, base, llvm::Align(16));
    else
      v.p = B.CreateAlignedLoad(i64, base, llvm::Align(16));
    return v;
  }

  void store_value(llvm::Value* dst, const CV& v, Kind k) {
    // Same bytes as the evaluator's Value constructors: payload, zeroed upper half for 64-bit payloads,
    // aux, tag, zero padding.
    B.CreateAlignedStore(llvm::ConstantInt::get(i128, 0), at(dst, 16), llvm::Align(16));
    if (wide(k)) {
      B.CreateAlignedStore(v.p, dst, llvm::Align(16));
    } else {
      B.CreateAlignedStore(v.p, dst, llvm::Align(16));
      B.CreateAlignedStore(B.getInt64(0), at(dst, 8), llvm::Align(8));
    }
    B.CreateStore(v.aux, at(dst, kAuxOffset));
    B.CreateStore(v.tag, at(dst, kTagOffset));
  }

  llvm::Value* entry_alloca(uint64_t bytes) {
    llvm::IRBuilder<> eb(entry_, entry_->begin());
    auto* a = eb.CreateAlloca(llvm::ArrayType::get(i8, bytes));
    a->setAlignment(llvm::Align(16));
    return a;
  }

  CV coerce(CV v, Kind k) {
    llvm::Type* want = payload_ty(k);
    if (v.p->getType() != want) v.p = want == i128 ? B.CreateSExt(v.p, i128) : B.CreateTrunc(v.p, i64);
    return v;
  }

  CV make(uint8_t tag, llvm::Value* p, llvm::Value* aux = nullptr) {
    return CV{B.getInt8(tag), p, aux ? aux : B.getInt32(0)};
  }
  CV none_of(Kind k) { return CV{B.getInt8(0), llvm::ConstantInt::get(payload_ty(k), 0), B.getInt32(0)}; }

  // ---- errors: a branch to a block returning 1 + kind
  llvm::BasicBlock* err_block(ErrorKind k) {
    auto it = errs_.find(k);
    if (it != errs_.end()) return it->second;
    auto* bb = llvm::BasicBlock::Create(C, "err", cur_);
    llvm::IRBuilder<> eb(bb);
    eb.CreateRet(eb.getInt32(1 + static_cast<int32_t>(k)));
    errs_[k] = bb;
    return bb;
  }
  void fail_if(llvm::Value* bad, ErrorKind k) {
    auto* cont = llvm::BasicBlock::Create(C, "ok", cur_);
    B.CreateCondBr(bad, err_block(k), cont);
    B.SetInsertPoint(cont);
  }
  void propagate(llvm::Value* status) {
    auto* cont = llvm::BasicBlock::Create(C, "ok", cur_);
    auto* bad = llvm::BasicBlock::Create(C, "raise", cur_);
    B.CreateCondBr(B.CreateICmpNE(status, B.getInt32(0)), bad, cont);
    B.SetInsertPoint(bad);
    B.CreateRet(status);
    B.SetInsertPoint(cont);
  }
  llvm::Value* is_none(const CV& v) { return B.CreateICmpEQ(v.tag, B.getInt8(0)); }

  bool native(const Node& n) { return compiled_inline(n); }

  CV fallback(const Node& n) {
    llvm::Value* node = B.getInt32(static_cast<uint32_t>(fallbacks.size()));
    fallbacks.push_back(&n);
    llvm::Value* out = entry_alloca(sizeof(ir::Value));
    llvm::Value* st =
        B.CreateCall(rt_eval_, {ctx_, node, args_, B.getInt32(cur_nparams_), B.getInt32(cur_nlocals_), out});
    propagate(st);
    return load_value(out, n.type.kind);
  }

  CV gen(const Node& n) {
    if (!native(n)) return fallback(n);
    Kind k = n.type.kind;
    switch (n.op) {
      case Op::Const: {
        const ir::Value& v = n.value;
        llvm::Value* p = wide(k) ? static_cast<llvm::Value*>(llvm::ConstantInt::get(
                                       C, llvm::APInt(128, {static_cast<uint64_t>(v.u.d),
                                                            static_cast<uint64_t>(v.u.d >> 64)})))
                                 : B.getInt64(static_cast<uint64_t>(v.u.i));
        return CV{B.getInt8(v.tag), p, B.getInt32(v.aux)};
      }
      case Op::Param:
        return load_value(at(args_, 32ull * n.index), k);
      case Op::Today:
        return make(ir::kTagDate, B.CreateLoad(i64, at(ctx_, kTodayOffset)));
      case Op::Field:
      case Op::OptField:
        return field(n);
      case Op::IntToDec: {
        CV v = gen(*n.kids[0]);
        llvm::Value* none = is_none(v);
        llvm::Value* d = B.CreateMul(B.CreateSExt(coerce(v, Kind::Int).p, i128),
                                     llvm::ConstantInt::get(i128, ir::kDecOne));
        return CV{B.CreateSelect(none, B.getInt8(0), B.getInt8(ir::kTagDec)),
                  B.CreateSelect(none, llvm::ConstantInt::get(i128, 0), d), B.getInt32(0)};
      }
      case Op::Neg: {
        CV v = gen(*n.kids[0]);
        fail_if(is_none(v), ErrorKind::NoneValue);
        v = coerce(v, k);
        llvm::Value* zero = llvm::ConstantInt::get(v.p->getType(), 0);
        auto [r, ovf] = with_overflow(llvm::Intrinsic::ssub_with_overflow, zero, v.p);
        fail_if(ovf, ErrorKind::Overflow);
        v.p = r;
        return v;
      }
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div:
      case Op::Mod:
        return arith(n);
      case Op::Eq:
      case Op::Ne:
      case Op::Lt:
      case Op::Le:
      case Op::Gt:
      case Op::Ge:
        return compare(n);
      case Op::And:
      case Op::Or:
        return logic(n);
      case Op::Not: {
        CV v = gen(*n.kids[0]);
        return make(ir::kTagBool, B.CreateZExt(B.CreateICmpEQ(coerce(v, Kind::Int).p, B.getInt64(0)), i64));
      }
      case Op::IsNone: {
        CV v = gen(*n.kids[0]);
        return make(ir::kTagBool, B.CreateZExt(is_none(v), i64));
      }
      case Op::Coalesce:
        return coalesce(n);
      case Op::CallFn:
        return call(n);
      default:
        return fallback(n);
    }
  }

  std::pair<llvm::Value*, llvm::Value*> with_overflow(llvm::Intrinsic::ID id, llvm::Value* a,
                                                      llvm::Value* b) {
    llvm::Value* r = B.CreateBinaryIntrinsic(id, a, b);
    return {B.CreateExtractValue(r, 0), B.CreateExtractValue(r, 1)};
  }

  CV field(const Node& n) {
    Kind k = n.type.kind;
    CV r = gen(*n.kids[0]);
    llvm::Value* none = is_none(r);
    llvm::BasicBlock* none_bb = nullptr;
    llvm::BasicBlock* load_bb = llvm::BasicBlock::Create(C, "load", cur_);
    if (n.op == Op::OptField) {
      none_bb = B.GetInsertBlock();
      auto* join = llvm::BasicBlock::Create(C, "field", cur_);
      B.CreateCondBr(none, join, load_bb);
      B.SetInsertPoint(load_bb);
      CV v = load_slot(r, n);
      auto* from = B.GetInsertBlock();
      B.CreateBr(join);
      B.SetInsertPoint(join);
      CV z = none_of(k);
      return phi(z, none_bb, v, from, k);
    }
    B.CreateCondBr(none, err_block(ErrorKind::NoneValue), load_bb);
    B.SetInsertPoint(load_bb);
    return load_slot(r, n);
  }

  CV load_slot(const CV& r, const Node& n) {
    llvm::Value* rec = B.CreateIntToPtr(coerce(r, Kind::Rec).p, ptr);
    llvm::Value* nslots = B.CreateLoad(i32, at(rec, kNslotsOffset));
    fail_if(B.CreateICmpUGE(B.getInt32(n.index), nslots), ErrorKind::Host);
    return load_value(at(rec, kSlotsOffset + 32ull * n.index), n.type.kind);
  }

  CV phi(const CV& a, llvm::BasicBlock* ba, const CV& b, llvm::BasicBlock* bb, Kind k) {
    CV x = a, y = b;
    llvm::Type* pt = payload_ty(k);
    auto* tag = B.CreatePHI(i8, 2);
    tag->addIncoming(x.tag, ba);
    tag->addIncoming(y.tag, bb);
    auto* p = B.CreatePHI(pt, 2);
    p->addIncoming(x.p, ba);
    p->addIncoming(y.p, bb);
    auto* aux = B.CreatePHI(i32, 2);
    aux->addIncoming(x.aux, ba);
    aux->addIncoming(y.aux, bb);
    return CV{tag, p, aux};
  }

  // Int operations with the evaluator's rules: overflow and division by zero are errors; MIN % -1 is 0.
  llvm::Value* int_op(Op op, llvm::Value* x, llvm::Value* y) {
    switch (op) {
      case Op::Add:
      case Op::Sub:
      case Op::Mul: {
        auto id = op == Op::Add   ? llvm::Intrinsic::sadd_with_overflow
                  : op == Op::Sub ? llvm::Intrinsic::ssub_with_overflow
                                  : llvm::Intrinsic::smul_with_overflow;
        auto [r, ovf] = with_overflow(id, x, y);
        fail_if(ovf, ErrorKind::Overflow);
        return r;
      }
      case Op::Div:
      case Op::Mod: {
        fail_if(B.CreateICmpEQ(y, B.getInt64(0)), ErrorKind::DivisionByZero);
        llvm::Value* edge =
            B.CreateAnd(B.CreateICmpEQ(x, B.getInt64(INT64_MIN)), B.CreateICmpEQ(y, B.getInt64(-1)));
        if (op == Op::Div) {
          fail_if(edge, ErrorKind::Overflow);
          return B.CreateSDiv(x, y);
        }
        // srem of MIN by -1 is undefined in LLVM: divide by 1 instead, whose remainder is the same 0.
        llvm::Value* safe_y = B.CreateSelect(edge, B.getInt64(1), y);
        return B.CreateSRem(x, safe_y);
      }
      default:
        return B.getInt64(0);
    }
  }

  llvm::Value* dec_op(Op op, llvm::Value* x, llvm::Value* y) {
    switch (op) {
      case Op::Add:
      case Op::Sub: {
        auto [r, ovf] = with_overflow(
            op == Op::Add ? llvm::Intrinsic::sadd_with_overflow : llvm::Intrinsic::ssub_with_overflow, x, y);
        fail_if(ovf, ErrorKind::Overflow);
        return r;
      }
      case Op::Mul:
      case Op::Div: {
        // Rounded 128-bit multiply and divide need a 256-bit intermediate: the evaluator's own routines.
        llvm::Value* a = entry_alloca(16);
        llvm::Value* b = entry_alloca(16);
        llvm::Value* o = entry_alloca(16);
        B.CreateAlignedStore(x, a, llvm::Align(16));
        B.CreateAlignedStore(y, b, llvm::Align(16));
        llvm::Value* st = B.CreateCall(op == Op::Mul ? rt_mul_ : rt_div_, {a, b, o});
        fail_if(B.CreateICmpEQ(st, B.getInt32(1)), ErrorKind::Overflow);
        if (op == Op::Div) fail_if(B.CreateICmpEQ(st, B.getInt32(2)), ErrorKind::DivisionByZero);
        return B.CreateAlignedLoad(i128, o, llvm::Align(16));
      }
      default:
        return llvm::ConstantInt::get(i128, 0);
    }
  }

  llvm::Value* widen(const CV& v, Kind k) {
    if (wide(k)) return coerce(v, k).p;
    return B.CreateMul(B.CreateSExt(coerce(v, Kind::Int).p, i128), llvm::ConstantInt::get(i128, ir::kDecOne));
  }

  CV arith(const Node& n) {
    Kind ka = n.kids[0]->type.kind, kb = n.kids[1]->type.kind;
    CV a = gen(*n.kids[0]);
    CV b = gen(*n.kids[1]);
    fail_if(B.CreateOr(is_none(a), is_none(b)), ErrorKind::NoneValue);
    switch (ka) {
      case Kind::Int:
        return make(ir::kTagInt, int_op(n.op, coerce(a, Kind::Int).p, coerce(b, Kind::Int).p));
      case Kind::Dec:
        return make(ir::kTagDec, dec_op(n.op, coerce(a, Kind::Dec).p, widen(b, kb)));
      case Kind::Money: {
        if (kb == Kind::Money) {
          fail_if(B.CreateICmpNE(a.aux, b.aux), ErrorKind::CurrencyMismatch);
          llvm::Value* r = dec_op(n.op, coerce(a, ka).p, coerce(b, kb).p);
          return n.op == Op::Div ? make(ir::kTagDec, r) : make(ir::kTagMoney, r, a.aux);
        }
        return make(ir::kTagMoney, dec_op(n.op, coerce(a, ka).p, widen(b, kb)), a.aux);
      }
      case Kind::Dur: {
        if (kb == Kind::Dur && n.op == Op::Div)
          return make(ir::kTagDec, dec_op(Op::Div, widen(a, Kind::Int), widen(b, Kind::Int)));
        return make(ir::kTagDuration, int_op(n.op, coerce(a, Kind::Int).p, coerce(b, Kind::Int).p));
      }
      case Kind::Date: {
        if (kb == Kind::Date) {
          llvm::Value* days = int_op(n.op, coerce(a, Kind::Int).p, coerce(b, Kind::Int).p);
          return make(ir::kTagDuration, B.CreateMul(days, B.getInt64(86400)));
        }
        llvm::Value* days = B.CreateSDiv(coerce(b, Kind::Int).p, B.getInt64(86400));
        return make(ir::kTagDate, int_op(n.op, coerce(a, Kind::Int).p, days));
      }
      default:
        return none_of(n.type.kind);  // not reached: native() admits only the kinds above
    }
  }

  llvm::CmpInst::Predicate pred(Op op) {
    switch (op) {
      case Op::Eq:
        return llvm::CmpInst::ICMP_EQ;
      case Op::Ne:
        return llvm::CmpInst::ICMP_NE;
      case Op::Lt:
        return llvm::CmpInst::ICMP_SLT;
      case Op::Le:
        return llvm::CmpInst::ICMP_SLE;
      case Op::Gt:
        return llvm::CmpInst::ICMP_SGT;
      default:
        return llvm::CmpInst::ICMP_SGE;
    }
  }

  // Comparisons follow the evaluator: none is equal only to none and has no order; Money needs equal
  // currencies; Int against Decimal compares the widened value.
  CV compare(const Node& n) {
    Kind ka = n.kids[0]->type.kind, kb = n.kids[1]->type.kind;
    bool eq_op = n.op == Op::Eq || n.op == Op::Ne;
    CV a = gen(*n.kids[0]);
    CV b = gen(*n.kids[1]);
    llvm::Value* an = is_none(a);
    llvm::Value* bn = is_none(b);
    llvm::Value* any_none = B.CreateOr(an, bn);
    auto* none_bb = llvm::BasicBlock::Create(C, "cmp.none", cur_);
    auto* val_bb = llvm::BasicBlock::Create(C, "cmp.val", cur_);
    auto* join = llvm::BasicBlock::Create(C, "cmp", cur_);
    B.CreateCondBr(any_none, none_bb, val_bb);

    B.SetInsertPoint(none_bb);
    llvm::Value* none_result;
    if (!eq_op) {
      B.CreateBr(err_block(ErrorKind::NoneValue));
      none_result = nullptr;
    } else {
      llvm::Value* same = B.CreateAnd(an, bn);
      none_result = n.op == Op::Eq ? same : B.CreateNot(same);
      B.CreateBr(join);
    }

    B.SetInsertPoint(val_bb);
    llvm::Value* r;
    if (int_like(ka) && kb != Kind::Dec) {
      r = B.CreateICmp(pred(n.op), coerce(a, Kind::Int).p, coerce(b, Kind::Int).p);
    } else {
      if (ka == Kind::Money) fail_if(B.CreateICmpNE(a.aux, b.aux), ErrorKind::CurrencyMismatch);
      r = B.CreateICmp(pred(n.op), widen(a, ka), widen(b, kb));
    }
    auto* val_end = B.GetInsertBlock();
    B.CreateBr(join);

    B.SetInsertPoint(join);
    auto* res = B.CreatePHI(B.getInt1Ty(), 2);
    res->addIncoming(r, val_end);
    if (none_result) res->addIncoming(none_result, none_bb);
    return make(ir::kTagBool, B.CreateZExt(res, i64));
  }

  CV logic(const Node& n) {
    bool is_and = n.op == Op::And;
    CV a = gen(*n.kids[0]);
    llvm::Value* av = B.CreateICmpNE(coerce(a, Kind::Int).p, B.getInt64(0));
    auto* from = B.GetInsertBlock();
    auto* rhs = llvm::BasicBlock::Create(C, is_and ? "and.rhs" : "or.rhs", cur_);
    auto* join = llvm::BasicBlock::Create(C, is_and ? "and" : "or", cur_);
    if (is_and)
      B.CreateCondBr(av, rhs, join);
    else
      B.CreateCondBr(av, join, rhs);
    B.SetInsertPoint(rhs);
    CV b = gen(*n.kids[1]);
    llvm::Value* bv = B.CreateICmpNE(coerce(b, Kind::Int).p, B.getInt64(0));
    auto* rhs_end = B.GetInsertBlock();
    B.CreateBr(join);
    B.SetInsertPoint(join);
    auto* res = B.CreatePHI(B.getInt1Ty(), 2);
    res->addIncoming(B.getInt1(!is_and), from);
    res->addIncoming(bv, rhs_end);
    return make(ir::kTagBool, B.CreateZExt(res, i64));
  }

  CV coalesce(const Node& n) {
    Kind k = n.type.kind;
    CV a = coerce(gen(*n.kids[0]), k);
    auto* from = B.GetInsertBlock();
    auto* rhs = llvm::BasicBlock::Create(C, "coalesce.rhs", cur_);
    auto* join = llvm::BasicBlock::Create(C, "coalesce", cur_);
    B.CreateCondBr(is_none(a), rhs, join);
    B.SetInsertPoint(rhs);
    CV b = coerce(gen(*n.kids[1]), k);
    auto* rhs_end = B.GetInsertBlock();
    B.CreateBr(join);
    B.SetInsertPoint(join);
    return phi(a, from, b, rhs_end, k);
  }

  CV call(const Node& n) {
    const ir::Function& callee = m_.functions.at(n.index);
    llvm::Value* args = entry_alloca(32ull * std::max<size_t>(1, n.kids.size()));
    for (size_t i = 0; i < n.kids.size(); ++i) {
      CV v = gen(*n.kids[i]);
      store_value(at(args, 32ull * i), v, n.kids[i]->type.kind);
    }
    // The evaluator's depth counter, shared: both paths stop runaway recursion at the same call.
    llvm::Value* depth_ptr = B.CreateLoad(ptr, at(ctx_, kDepthOffset));
    llvm::Value* d = B.CreateAdd(B.CreateLoad(i32, depth_ptr), B.getInt32(1));
    B.CreateStore(d, depth_ptr);
    auto* over = llvm::BasicBlock::Create(C, "too.deep", cur_);
    auto* cont = llvm::BasicBlock::Create(C, "call", cur_);
    B.CreateCondBr(B.CreateICmpSGT(d, B.getInt32(kMaxCallDepth)), over, cont);
    B.SetInsertPoint(over);
    B.CreateStore(B.getInt32(0), depth_ptr);
    B.CreateBr(err_block(ErrorKind::Overflow));
    B.SetInsertPoint(cont);
    llvm::Value* out = entry_alloca(sizeof(ir::Value));
    llvm::Value* st = B.CreateCall(fns_.at(n.index), {args, out, ctx_});
    propagate(st);
    B.CreateStore(B.CreateSub(B.CreateLoad(i32, depth_ptr), B.getInt32(1)), depth_ptr);
    (void)callee;
    return load_value(out, n.type.kind);
  }

  llvm::LLVMContext& C;
  llvm::Module& M;
  llvm::IRBuilder<> B;
  const ir::Module& m_;
  llvm::Type *i8, *i32, *i64, *i128, *ptr;
  llvm::FunctionType* fn_ty;
  llvm::Function *rt_eval_, *rt_mul_, *rt_div_;
  std::vector<llvm::Function*> fns_;
  llvm::Function* cur_ = nullptr;
  uint32_t cur_nparams_ = 0, cur_nlocals_ = 0;  // of the body being generated
  llvm::BasicBlock* entry_ = nullptr;
  llvm::Value *args_ = nullptr, *out_ = nullptr, *ctx_ = nullptr;
  std::map<ErrorKind, llvm::BasicBlock*> errs_;
};

// Numbers of LLVM's code generation levels, as JitOptions::opt_level gives them.
llvm::CodeGenOpt::Level level(int n) {
  switch (n) {
    case 0:
      return llvm::CodeGenOpt::None;
    case 1:
      return llvm::CodeGenOpt::Less;
    case 2:
      return llvm::CodeGenOpt::Default;
    default:
      return llvm::CodeGenOpt::Aggressive;
  }
}

}  // namespace

namespace {

llvm::Expected<llvm::orc::JITTargetMachineBuilder> host_machine(int opt_level) {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (jtmb) jtmb->setCodeGenOptLevel(level(opt_level));
  return jtmb;
}

}  // namespace

std::optional<std::vector<uint8_t>> emit_object(const ir::Module& m, const JitOptions& opts, JitStats* stats,
                                                std::string* error) {
  auto t0 = std::chrono::steady_clock::now();
  auto fail = [&](std::string why) -> std::optional<std::vector<uint8_t>> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  auto jtmb = host_machine(opts.opt_level);
  if (!jtmb) return fail(message(jtmb.takeError()));
  auto tm = jtmb->createTargetMachine();
  if (!tm) return fail(message(tm.takeError()));
  // At level 0 the point is speed of code generation: the fast instruction selector, as clang -O0 uses.
  if (opts.opt_level == 0) (*tm)->setO0WantsFastISel(true);

  llvm::LLVMContext ctx;
  llvm::Module mod("orgos", ctx);
  mod.setDataLayout((*tm)->createDataLayout());
  mod.setTargetTriple((*tm)->getTargetTriple().str());
  Gen g(ctx, mod, m);
  g.declare_all();
  for (size_t i = 0; i < m.functions.size(); ++i) {
    if (!m.functions[i].body) return fail("function " + m.functions[i].name + " has no body");
    g.define(i);
  }
  for (size_t t = 0; t < m.tables.size(); ++t)
    for (size_t r = 0; r < m.tables[t].rows.size(); ++r)
      if (m.tables[t].rows[r].condition) g.define_row(t, r);
  new llvm::GlobalVariable(mod, llvm::Type::getInt64Ty(ctx), true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantInt::get(llvm::Type::getInt64Ty(ctx), ir_fingerprint(m)),
                           "orgos_ir_fingerprint");
  std::string verify;
  llvm::raw_string_ostream vos(verify);
  if (llvm::verifyModule(mod, &vos)) return fail("generated code does not verify: " + vos.str());
  // load_object numbers the handed-back nodes again from the IR alone; both numberings must agree.
  std::vector<const Node*> expected;
  collect_all_fallbacks(m, expected);
  if (expected != g.fallbacks)
    return fail("internal: the generator met " + std::to_string(g.fallbacks.size()) +
                " handed-back nodes in another order than the loader numbers them (" +
                std::to_string(expected.size()) + ")");

  if (opts.opt_level > 0) {
    // IR optimisation before instruction selection: the generator re-reads a parameter and re-checks a
    // record's slot count at every field access; CSE and GVN keep one of each (bench/RESULTS-jit.md).
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm->get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    auto level = opts.opt_level == 1   ? llvm::OptimizationLevel::O1
                 : opts.opt_level == 2 ? llvm::OptimizationLevel::O2
                                       : llvm::OptimizationLevel::O3;
    pb.buildPerModuleDefaultPipeline(level).run(mod, mam);
  }
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  if ((*tm)->addPassesToEmitFile(pm, os, nullptr, llvm::CGFT_ObjectFile))
    return fail("LLVM cannot emit object code for " + (*tm)->getTargetTriple().str());
  pm.run(mod);
  if (stats) {
    stats->functions = m.functions.size();
    stats->fallbacks = g.fallbacks.size();
    stats->instructions = mod.getInstructionCount();
    stats->object_bytes = buf.size();
    stats->codegen_ms = ms_since(t0);
  }
  return std::vector<uint8_t>(buf.begin(), buf.end());
}

std::shared_ptr<const interp::NativeCode> compile(const ir::Module& m, const JitOptions& opts,
                                                  JitStats* stats, std::string* error) {
  auto object = emit_object(m, opts, stats, error);
  if (!object) return nullptr;
  return load_object(m, *object, stats, error);
}

std::function<std::vector<uint8_t>(const ir::Module&)> bundle_object_maker() {
  return [](const ir::Module& m) { return emit_object(m, {}).value_or(std::vector<uint8_t>{}); };
}

std::shared_ptr<const interp::NativeCode> native_for_bundle(const ir::Module& m,
                                                            const std::vector<uint8_t>& object,
                                                            const std::string& host, std::string* error) {
  if (!object.empty() && host == bundle::host_triple()) {
    if (auto code = load_object(m, object, nullptr, error)) return code;
  }
  // No usable object code (none, another machine's, or an older generator's): make it now. A failure to
  // load the cached object is not an error when this succeeds.
  JitOptions quick;
  quick.opt_level = 0;
  auto code = compile(m, quick, nullptr, error);
  if (code && error) error->clear();
  return code;
}

}  // namespace orgos::codegen
