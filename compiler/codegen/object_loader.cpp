// Linking object code made by emit_object (jit.cpp) into this process: an ORC session and RuntimeDyld,
// no code generator. A process that runs bundles (orgctl run from its cache, an embedding host, the rules
// benchmark) needs only this file and native_abi.cpp, and so links only LLVM's object and linking
// libraries, not its code generator and passes.
#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/ExecutorProcessControl.h>
#include <llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h>
#include <llvm/ExecutionEngine/SectionMemoryManager.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include "compiler/codegen/jit.h"
#include "compiler/codegen/llvm_support.h"
#include "compiler/codegen/native_abi.h"
#include "compiler/interp/evaluator.h"

namespace orgos::codegen {

namespace {

// ---- runtime support: what generated code calls. Plain functions, registered as absolute symbols.

int32_t rt_eval(interp::NativeCtx* ctx, uint32_t node, const ir::Value* args, uint32_t nargs,
                uint32_t nlocals, ir::Value* out) {
  return ctx->eval->eval_for_native(*ctx->nodes[node], args, nargs, nlocals, out);
}
int32_t rt_dec_mul(const ir::Dec* a, const ir::Dec* b, ir::Dec* out) {
  return interp::dec::mul(*a, *b, *out) ? 0 : 1;
}
int32_t rt_dec_div(const ir::Dec* a, const ir::Dec* b, ir::Dec* out) {
  return interp::dec::div(*a, *b, *out);
}

// What loaded object code lives in: an ORC session with one JITDylib and RuntimeDyld's object linking
// layer. Only linking is needed here (the code is compiled already), so there is no LLJIT: LLJIT also
// builds a TargetMachine and a compile layer, which cost about 4 MB of resident memory and a few
// milliseconds that a process running from a bundle never uses.
struct ObjectSession {
  std::unique_ptr<llvm::orc::ExecutionSession> es;
  std::unique_ptr<llvm::orc::RTDyldObjectLinkingLayer> layer;
  ~ObjectSession() {
    if (es)
      if (auto e = es->endSession()) es->reportError(std::move(e));
  }
};

}  // namespace

std::shared_ptr<const interp::NativeCode> load_object(const ir::Module& m, const std::vector<uint8_t>& object,
                                                      JitStats* stats, std::string* error) {
  auto t0 = std::chrono::steady_clock::now();
  auto fail = [&](std::string why) -> std::shared_ptr<const interp::NativeCode> {
    if (error) *error = std::move(why);
    return nullptr;
  };
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char*>(object.data()), object.size()), "orgos-object");
  // Refuse anything that is not an object file for this machine before the linker sees it.
  auto parsed = llvm::object::ObjectFile::createObjectFile(buffer->getMemBufferRef());
  if (!parsed) return fail("the object code is not a valid object file: " + message(parsed.takeError()));
  const llvm::Triple host(llvm::sys::getProcessTriple());
  if ((*parsed)->getArch() != host.getArch())
    return fail("the object code is for another machine (" +
                std::string(llvm::Triple::getArchTypeName((*parsed)->getArch())) + ")");
  auto epc = llvm::orc::SelfExecutorProcessControl::Create();
  if (!epc) return fail(message(epc.takeError()));
  auto session = std::make_shared<ObjectSession>();
  session->es = std::make_unique<llvm::orc::ExecutionSession>(std::move(*epc));
  llvm::orc::ExecutionSession& es = *session->es;
  session->layer = std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(
      es, [] { return std::make_unique<llvm::SectionMemoryManager>(); });
  auto jd = es.createJITDylib("orgos");
  if (!jd) return fail(message(jd.takeError()));
  // Symbol names as the object file spells them: Mach-O prefixes an underscore, ELF and COFF do not.
  const std::string prefix = host.isOSBinFormatMachO() ? "_" : "";
  auto name = [&](const std::string& n) { return es.intern(prefix + n); };
  llvm::orc::SymbolMap support;
  auto add = [&](const char* n, auto* fn) {
    support[name(n)] =
        llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(fn), llvm::JITSymbolFlags::Exported);
  };
  add("orgos_rt_eval", &rt_eval);
  add("orgos_rt_dec_mul", &rt_dec_mul);
  add("orgos_rt_dec_div", &rt_dec_div);
  if (auto e = jd->define(llvm::orc::absoluteSymbols(std::move(support)))) return fail(message(std::move(e)));
  if (auto e = session->layer->add(*jd, std::move(buffer))) return fail(message(std::move(e)));

  // The fingerprint first (the first lookup links the object): another program's object is refused as
  // such, whatever symbols it has. Then every function and row in one lookup.
  auto fp = es.lookup(llvm::orc::makeJITDylibSearchOrder(&*jd), name("orgos_ir_fingerprint"));
  if (!fp) return fail("the object code carries no program fingerprint: " + message(fp.takeError()));
  if (*llvm::jitTargetAddressToPointer<const uint64_t*>(fp->getAddress()) != ir_fingerprint(m))
    return fail("the object code was made for another program (its fingerprint differs from this one's)");
  std::vector<std::string> wanted;
  for (size_t i = 0; i < m.functions.size(); ++i) wanted.push_back("orgos_fn_" + std::to_string(i));
  for (size_t t = 0; t < m.tables.size(); ++t)
    for (size_t r = 0; r < m.tables[t].rows.size(); ++r)
      if (m.tables[t].rows[r].condition) wanted.push_back(row_symbol(t, r));
  llvm::orc::SymbolLookupSet set;
  for (const std::string& w : wanted) set.add(name(w));
  auto found = es.lookup(llvm::orc::makeJITDylibSearchOrder(&*jd), std::move(set));
  if (!found) return fail("the object code does not match the bundle's IR: " + message(found.takeError()));
  auto at = [&](const std::string& w) { return (*found)[name(w)].getAddress(); };
  auto code = std::make_shared<interp::NativeCode>();
  collect_all_fallbacks(m, code->nodes);
  code->functions.resize(m.functions.size(), nullptr);
  for (size_t i = 0; i < m.functions.size(); ++i)
    code->functions[i] =
        llvm::jitTargetAddressToPointer<interp::NativeFn>(at("orgos_fn_" + std::to_string(i)));
  code->table_rows.resize(m.tables.size());
  for (size_t t = 0; t < m.tables.size(); ++t) {
    code->table_rows[t].resize(m.tables[t].rows.size(), nullptr);
    for (size_t r = 0; r < m.tables[t].rows.size(); ++r)
      if (m.tables[t].rows[r].condition)
        code->table_rows[t][r] = llvm::jitTargetAddressToPointer<interp::NativeFn>(at(row_symbol(t, r)));
  }
  code->owner = std::move(session);
  if (stats) stats->load_ms = ms_since(t0);
  return code;
}

}  // namespace orgos::codegen
