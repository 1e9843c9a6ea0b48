#include "compiler/sema/types.h"

#include <set>

namespace orgos::sema {

std::string Type::str() const {
  switch (kind) {
    case TypeKind::Error:
      return "<error>";
    case TypeKind::Int:
      return "Int";
    case TypeKind::Decimal:
      return "Decimal";
    case TypeKind::Money:
      return currency.empty() ? "Money" : "Money<" + currency + ">";
    case TypeKind::Bool:
      return "Bool";
    case TypeKind::String:
      return "String";
    case TypeKind::Date:
      return "Date";
    case TypeKind::Duration:
      return "Duration";
    case TypeKind::None:
      return "none";
    case TypeKind::Unit:
      return "Unit";
    case TypeKind::Actor:
      return "Actor";
    case TypeKind::Org:
      return "Org";
    case TypeKind::List:
      return "List<" + elem->str() + ">";
    case TypeKind::Optional:
      return elem->str() + "?";
    case TypeKind::Enum:
    case TypeKind::Record:
    case TypeKind::Event:
    case TypeKind::Role:
    case TypeKind::Process:
    case TypeKind::Table:
    case TypeKind::Function:
    case TypeKind::Connector:
      return decl ? decl->name.text : "?";
  }
  return "?";
}

TypeTable::TypeTable() {
  error_ = make(Type(TypeKind::Error));
  int_t_ = make(Type(TypeKind::Int));
  decimal_ = make(Type(TypeKind::Decimal));
  bool_t_ = make(Type(TypeKind::Bool));
  string_ = make(Type(TypeKind::String));
  date_ = make(Type(TypeKind::Date));
  duration_ = make(Type(TypeKind::Duration));
  none_ = make(Type(TypeKind::None));
  unit_ = make(Type(TypeKind::Unit));
  actor_ = make(Type(TypeKind::Actor));
  org_ = make(Type(TypeKind::Org));
}

const Type* TypeTable::make(Type t) {
  owned_.push_back(std::make_unique<Type>(std::move(t)));
  return owned_.back().get();
}

const Type* TypeTable::money(const std::string& currency) {
  auto it = money_.find(currency);
  if (it != money_.end()) return it->second;
  Type t(TypeKind::Money);
  t.currency = currency;
  return money_[currency] = make(t);
}

const Type* TypeTable::list(const Type* elem) {
  auto it = list_.find(elem);
  if (it != list_.end()) return it->second;
  Type t(TypeKind::List);
  t.elem = elem;
  return list_[elem] = make(t);
}

const Type* TypeTable::optional(const Type* elem) {
  if (elem->kind == TypeKind::Optional || elem->kind == TypeKind::Error || elem->kind == TypeKind::None)
    return elem;
  auto it = optional_.find(elem);
  if (it != optional_.end()) return it->second;
  Type t(TypeKind::Optional);
  t.elem = elem;
  return optional_[elem] = make(t);
}

const Type* TypeTable::of_decl(TypeKind kind, const ast::Decl* d) {
  auto key = std::make_pair(static_cast<int>(kind), d);
  auto it = decl_.find(key);
  if (it != decl_.end()) return it->second;
  Type t(kind);
  t.decl = d;
  return decl_[key] = make(t);
}

bool is_currency_code(const std::string& code) {
  // ISO 4217 active codes (2024 list), plus XAU/XAG for precious metals.
  static const std::set<std::string> codes = {
      "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD",
      "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY",
      "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP",
      "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
      "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
      "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
      "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
      "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
      "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
      "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF",
      "XPF", "YER", "ZAR", "ZMW", "ZWL", "XAU", "XAG"};
  return codes.count(code) > 0;
}

}  // namespace orgos::sema
