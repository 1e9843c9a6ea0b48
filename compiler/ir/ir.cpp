// Names of IR kinds and operations, for dumps and error messages.
#include "compiler/ir/ir.h"

namespace orgos::ir {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Int:
      return "Int";
    case Kind::Dec:
      return "Decimal";
    case Kind::Money:
      return "Money";
    case Kind::Bool:
      return "Bool";
    case Kind::Str:
      return "String";
    case Kind::Date:
      return "Date";
    case Kind::Dur:
      return "Duration";
    case Kind::Enum:
      return "Enum";
    case Kind::Rec:
      return "Record";
    case Kind::List:
      return "List";
    case Kind::None:
      return "none";
  }
  return "?";
}

const char* op_name(Op op) {
  switch (op) {
    case Op::Const:
      return "const";
    case Op::Param:
      return "param";
    case Op::Local:
      return "local";
    case Op::Today:
      return "today";
    case Op::AllOf:
      return "all";
    case Op::Field:
      return "field";
    case Op::OptField:
      return "?.";
    case Op::Index:
      return "index";
    case Op::ListLit:
      return "list";
    case Op::IntToDec:
      return "to_decimal";
    case Op::Neg:
      return "neg";
    case Op::Add:
      return "+";
    case Op::Sub:
      return "-";
    case Op::Mul:
      return "*";
    case Op::Div:
      return "/";
    case Op::Mod:
      return "%";
    case Op::Eq:
      return "==";
    case Op::Ne:
      return "!=";
    case Op::Lt:
      return "<";
    case Op::Le:
      return "<=";
    case Op::Gt:
      return ">";
    case Op::Ge:
      return ">=";
    case Op::And:
      return "and";
    case Op::Or:
      return "or";
    case Op::Not:
      return "not";
    case Op::IsNone:
      return "is none";
    case Op::Coalesce:
      return "??";
    case Op::In:
      return "in";
    case Op::Contains:
      return "contains";
    case Op::Agg:
      return "aggregate";
    case Op::Builtin:
      return "builtin";
    case Op::CallFn:
      return "call";
    case Op::CallTable:
      return "table";
  }
  return "?";
}

}  // namespace orgos::ir
