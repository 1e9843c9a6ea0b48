// The types of the language. Types are interned in a TypeTable, so two types are equal exactly when
// their pointers are. Money carries its currency when it is known statically (Money<USD>, `5 USD`);
// `Money` alone has a currency known only at run time.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "compiler/syntax/ast/decl.h"

namespace orgos::sema {

enum class TypeKind {
  Error,  // the type of an expression that already had an error: accepted everywhere, no cascade
  Int,
  Decimal,
  Money,
  Bool,
  String,
  Date,
  Duration,
  None,  // the type of `none`: fits any optional
  Enum,
  Record,
  Event,
  Role,
  Process,
  Table,
  Function,
  Connector,
  Unit,   // an org unit (division, department, team)
  Actor,  // whoever issues a command: a person or a system
  Org,
  List,
  Optional,
};

struct Type {
  TypeKind kind;
  explicit Type(TypeKind k) : kind(k) {}
  std::string currency;             // Money: "" when known only at run time
  const ast::Decl* decl = nullptr;  // Enum, Record, Event, Role, Process, Table, Function, Connector
  const Type* elem = nullptr;       // List, Optional
  std::string str() const;
  bool is_numeric() const { return kind == TypeKind::Int || kind == TypeKind::Decimal; }
  bool is_error() const { return kind == TypeKind::Error; }
};

class TypeTable {
 public:
  TypeTable();
  const Type* error() const { return error_; }
  const Type* int_() const { return int_t_; }
  const Type* decimal() const { return decimal_; }
  const Type* bool_() const { return bool_t_; }
  const Type* string() const { return string_; }
  const Type* date() const { return date_; }
  const Type* duration() const { return duration_; }
  const Type* none() const { return none_; }
  const Type* unit() const { return unit_; }
  const Type* actor() const { return actor_; }
  const Type* org() const { return org_; }
  const Type* money(const std::string& currency);
  const Type* list(const Type* elem);
  const Type* optional(const Type* elem);  // optional(optional(T)) == optional(T)
  const Type* of_decl(TypeKind kind, const ast::Decl* d);

 private:
  const Type* make(Type t);
  std::vector<std::unique_ptr<Type>> owned_;
  std::map<std::string, const Type*> money_;
  std::map<const Type*, const Type*> list_, optional_;
  std::map<std::pair<int, const ast::Decl*>, const Type*> decl_;
  const Type *error_, *int_t_, *decimal_, *bool_t_, *string_, *date_, *duration_, *none_, *unit_, *actor_,
      *org_;
};

// ISO 4217 currency codes the language accepts in Money literals and Money<...> types.
bool is_currency_code(const std::string& code);

}  // namespace orgos::sema
