// The reference interpreter over OrgIR: the definition of what every expression means. The JIT is
// tested against it. Semantics, in one place:
// - Int is 64-bit; +, -, *, %, unary - and abs overflow is an error (never wraps). Int / Int is lowered
//   to Decimal division.
// - Decimal and Money amounts are 128-bit billionths. + - * / are exact to 9 places; * and / round the
//   9th place half away from zero; overflow and division by zero are errors.
// - Money + Money and comparisons need equal currencies at run time, else a currency error.
// - Date ± Duration moves by whole days (the seconds are divided by 86400, toward zero).
// - min/max/avg of an empty list are errors; sum of an empty list is 0 (0 of the list's currency for
//   Money); count/all/any are 0/true/false.
// - Reading a field of none, or a none where a value is needed, is an error.
// - String comparison is bytewise; lower/upper change ASCII letters only.
#pragma once
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/interp/guard_program.h"
#include "compiler/interp/native.h"
#include "compiler/ir/ir.h"

namespace orgos::interp {

enum class ErrorKind : uint8_t {
  Overflow,
  DivisionByZero,
  CurrencyMismatch,
  NoneValue,
  EmptyAggregate,
  IndexRange,
  NoMatch,
  MultipleMatches,
  Host
};
const char* error_kind_name(ErrorKind k);

struct RuntimeError {
  ErrorKind kind;
  std::string message;
  source::Span span;
};

// Allocation for values made during evaluation (strings, lists, records). Freed as a whole.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;  // next_ points into blocks_: neither copied nor moved
  Arena& operator=(const Arena&) = delete;
  const ir::String* string(std::string_view s);
  ir::List* list(uint32_t len);
  ir::Record* record(uint32_t type_id, uint32_t nslots);
  void clear() {
    blocks_.clear();
    next_ = nullptr;
    left_ = 0;
    chunk_ = kFirstChunk;
  }

 private:
  static constexpr size_t kFirstChunk = 64 << 10;
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  void* alloc(size_t bytes);
  std::vector<std::unique_ptr<char, Free>> blocks_;
  size_t chunk_ = kFirstChunk;  // the next chunk's size
  char* next_ = nullptr;        // the current chunk's free space
  size_t left_ = 0;
};

// What evaluation needs from the engine: the clock and the instances of a type.
struct Host {
  int64_t today = 0;  // days since 1970-01-01
  std::function<const ir::List*(uint32_t type_id, Arena&)> all_of;
};

// Result of one evaluation: a value, or the first runtime error.
struct Outcome {
  ir::Value value = ir::Value::none();
  std::optional<RuntimeError> error;
  bool ok() const { return !error.has_value(); }
};

class Evaluator {
 public:
  // `fast_guards` off evaluates everything with the tree-walker (the tests compare the two).
  Evaluator(const ir::Module& m, Host host = {}, bool fast_guards = true);
  Outcome call(uint32_t function, const std::vector<ir::Value>& args);
  // The tree-walker alone (no fast guards, no native code): the reference for the other two.
  Outcome call_reference(uint32_t function, const std::vector<ir::Value>& args);
  Outcome call_table(uint32_t table, const std::vector<ir::Value>& args);
  // The hot path for a caller that tests conditions many times over (the rules network): native code,
  // else the guard fast path, without building an Outcome. False when neither applies or the call
  // raised: the caller then uses call(), which evaluates (and words any error) the usual way.
  bool try_fast(uint32_t function, const ir::Value* args, ir::Value& out);
  Arena& arena() { return arena_; }
  // The engine clock moves between calls; `today` reads this.
  void set_today(int64_t days) { host_.today = days; }

  // Runs `call` through native code where `code` has a function (see compiler/codegen). Null detaches.
  void attach_native(std::shared_ptr<const NativeCode> code) { native_ = std::move(code); }
  bool has_native() const { return native_ != nullptr; }
  // One call through native code only, for differential tests: the error kind is the one the native
  // code itself reported. nullopt when the function has no native code.
  std::optional<Outcome> call_native(uint32_t function, const std::vector<ir::Value>& args);
  // Runtime support for native code: evaluates one node with the walker. Returns kNativeOk or
  // kNativeRaised (the error is kept for the native call's caller).
  int32_t eval_for_native(const ir::Node& n, const ir::Value* args, uint32_t nargs, uint32_t nlocals,
                          ir::Value* out);

 private:
  struct Frame {
    const std::vector<ir::Value>* params;
    std::vector<ir::Value> locals;
  };
  ir::Value eval(const ir::Node& n, Frame& f);
  ir::Value arith(const ir::Node& n, const ir::Value& a, const ir::Value& b);
  bool compare(const ir::Node& n, const ir::Value& a, const ir::Value& b);
  ir::Value aggregate(const ir::Node& n, Frame& f);
  ir::Value builtin(const ir::Node& n, Frame& f);
  ir::Value table(const ir::Table& t, const std::vector<ir::Value>& args, const ir::Node* at);
  [[noreturn]] void fail(ErrorKind k, const std::string& msg, const source::Span& s);

  const ir::Module& m_;
  Host host_;
  std::vector<std::optional<GuardProgram>> guards_;  // per function: its fast form, if it has one
  Arena arena_;
  int32_t depth_ = 0;
  std::shared_ptr<const NativeCode> native_;
  std::optional<RuntimeError> native_error_;  // recorded by runtime support during a native call
};

// Decimal helpers shared with the JIT's runtime support (same rounding, same overflow rules).
namespace dec {
bool add(ir::Dec a, ir::Dec b, ir::Dec& out);
bool sub(ir::Dec a, ir::Dec b, ir::Dec& out);
bool mul(ir::Dec a, ir::Dec b, ir::Dec& out);  // false on overflow
int div(ir::Dec a, ir::Dec b, ir::Dec& out);   // 0 ok, 1 overflow, 2 division by zero
bool from_int(int64_t i, ir::Dec& out);
// Rounds to `places` decimal places (0..9), half away from zero.
bool round(ir::Dec a, int places, ir::Dec& out);
std::string to_string(ir::Dec d);
// Parses "123.45" (no separators) into billionths; nullopt if it has more than 9 places or overflows.
std::optional<ir::Dec> parse(std::string_view s);
}  // namespace dec

// Renders a value for traces and test failures ("12.50 USD", "2026-01-31", "none", "[1, 2]").
std::string to_string(const ir::Value& v, const ir::Module* m = nullptr);

}  // namespace orgos::interp
