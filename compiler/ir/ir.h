// OrgIR: the typed intermediate form of everything that computes — expressions, guards, rule
// conditions, record invariants, metric formulas, functions and decision tables. Every operand's kind
// is explicit (Int→Decimal widening is its own node), so the interpreter and the LLVM backend each
// implement one meaning per (operation, kind) pair and can be tested against each other.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/value.h"
#include "compiler/source/span.h"

namespace orgos::ir {

enum class Kind : uint8_t { Int, Dec, Money, Bool, Str, Date, Dur, Enum, Rec, List, None };
const char* kind_name(Kind k);

// The type of an IR value. `id` names the record layout (Rec) or enum (Enum); lists carry their
// element type.
struct IType {
  Kind kind = Kind::None;
  bool optional = false;
  uint32_t id = 0;
  uint32_t currency = 0;              // Money: statically known currency, 0 when only known at run time
  std::shared_ptr<const IType> elem;  // List
  static IType of(Kind k) {
    IType t;
    t.kind = k;
    return t;
  }
};

enum class Op : uint8_t {
  Const,     // value
  Param,     // index: function parameter
  Local,     // index: comprehension variable slot
  Today,     // the engine clock's date
  AllOf,     // index: record/event/process type id — every instance, from the host
  Field,     // index: slot of kids[0] (a record)
  OptField,  // index: slot of kids[0] (an optional record); none stays none
  Index,     // kids[0][kids[1]]
  ListLit,   // kids
  IntToDec,  // kids[0]
  Neg,
  Add,
  Sub,
  Mul,
  Div,
  Mod,  // kinds of kids decide the meaning (see interp/evaluator.cpp)
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,  // comparisons; Eq/Ne accept optional operands (none == none)
  And,
  Or,
  Not,       // short-circuit
  IsNone,    // kids[0] is none
  Coalesce,  // kids[0] ?? kids[1]
  In,        // kids[0] in kids[1] (a list)
  Contains,  // kids[0] (a string) contains kids[1]
  Agg,  // agg over kids[0] (a list) binding Local `index`; kids[1] filter or null; kids[2] element or null
  Builtin,    // fn: kids are the arguments
  CallFn,     // index: function; kids are the arguments
  CallTable,  // index: table; kids are the arguments
};
const char* op_name(Op op);

enum class AggKind : uint8_t { Count, Sum, Min, Max, Avg, All, Any, List };
enum class BuiltinFn : uint8_t {
  Abs,
  Round,
  Len,
  Lower,
  Upper,
  Year,
  Month,
  Day,
  DaysBetween,
  Min2,
  Max2,
  MoneyAmount,    // Money → its amount as a Decimal
  MoneyCurrency,  // Money → its ISO code as a String
  DurDays,
  DurHours,
  DurMinutes,
  DurSeconds  // whole units in a Duration (toward zero)
};

struct Node {
  Op op;
  IType type;          // the type of the result
  uint32_t index = 0;  // Param/Local/Field/AllOf/CallFn/CallTable/Agg (variable slot)
  AggKind agg = AggKind::Count;
  BuiltinFn fn = BuiltinFn::Abs;
  Value value = Value::none();  // Const
  std::string text;             // Const strings (the Value points into this)
  std::vector<std::unique_ptr<Node>> kids;
  source::Span span;  // where runtime errors point
};
using NodePtr = std::unique_ptr<Node>;

enum class FunctionKind : uint8_t { Fn, Guard, Check, Condition, Metric, Expr };

// A unit of compiled code: parameters in, one value out.
struct Function {
  std::string name;  // unique within the module, e.g. "Expense.check#0", "ApproveExpense.if@12:3"
  FunctionKind kind = FunctionKind::Expr;
  std::vector<IType> params;
  std::vector<std::string> param_names;
  IType result;
  uint32_t nlocals = 0;
  NodePtr body;
  source::Span span;
  std::string message;  // a record invariant's message (`check … : "message"`), shown when it fails
};

enum class HitPolicy : uint8_t { Unique, First, Priority, Any, Collect };
enum class CollectAgg : uint8_t { List, Sum, Count, Min, Max };

// A decision table: each row is a condition over the inputs (null: always) and output expressions.
struct TableRow {
  NodePtr condition;
  std::vector<NodePtr> outputs;
  source::Span span;
};
struct Table {
  std::string name;
  HitPolicy hit = HitPolicy::Unique;
  CollectAgg collect = CollectAgg::List;
  std::vector<IType> inputs;
  std::vector<IType> outputs;
  uint32_t result_layout = 0;  // record layout of the outputs when there is more than one
  IType result;
  std::vector<TableRow> rows;
  source::Span span;
};

// Fixed layout of a record (or event, or table result): field i lives in slot i.
struct RecordLayout {
  std::string name;
  std::vector<std::string> fields;
  std::vector<IType> types;
  std::vector<uint32_t> defaults;  // per field: the function computing its default, or kNone
};

struct EnumInfo {
  std::string name;
  std::vector<std::string> values;
};

struct Module {
  std::vector<Function> functions;
  std::vector<Table> tables;
  std::vector<RecordLayout> layouts;  // index = type id
  std::vector<EnumInfo> enums;        // index = enum id

  // Constant strings live as long as the module, so Const values can point at them.
  const String* intern(std::string_view text) {
    auto buf = std::make_unique<char[]>(sizeof(String) + text.size());
    auto* str = reinterpret_cast<String*>(buf.get());
    str->len = static_cast<uint32_t>(text.size());
    std::memcpy(str->data, text.data(), text.size());
    strings.push_back(std::move(buf));
    return str;
  }
  std::vector<std::unique_ptr<char[]>> strings;

  int find_function(const std::string& name) const {
    for (size_t i = 0; i < functions.size(); ++i)
      if (functions[i].name == name) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace orgos::ir
