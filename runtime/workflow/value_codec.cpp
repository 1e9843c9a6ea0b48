#include "runtime/workflow/value_codec.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "compiler/syntax/literal.h"
#include "runtime/workflow/json_text.h"

namespace orgos::workflow {

using namespace ir;

namespace {
std::string duration_text(int64_t s) {
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace

json ValueCodec::to_json(const Value& v, const IType& t) const {
  if (v.is_none()) return nullptr;
  switch (v.tag) {
    case kTagInt:
      return v.u.i;
    case kTagBool:
      return v.u.i != 0;
    case kTagDec:
      return interp::dec::to_string(v.u.d);
    case kTagMoney:
      return interp::dec::to_string(v.u.d) + " " + currency_name(v.aux);
    case kTagDate:
      return syntax::format_date(v.u.i);
    case kTagDuration:
      return duration_text(v.u.i);
    case kTagEnum:
      if (v.aux < m_.enums.size() && v.u.i >= 0 &&
          v.u.i < static_cast<int64_t>(m_.enums[v.aux].values.size()))
        return m_.enums[v.aux].values[static_cast<size_t>(v.u.i)];
      return v.u.i;
    case kTagString:
      return std::string(v.u.s->view());
    case kTagList: {
      json a = json::array();
      IType et = t.elem ? *t.elem : IType{};
      for (uint32_t i = 0; i < v.u.l->len; ++i) a.push_back(to_json(v.u.l->items[i], et));
      return a;
    }
    case kTagRecord: {
      const Record* r = v.u.r;
      // People and units are named, not spelt out: they are the org's, and read back by name.
      if ((r->type_id == 0 || r->type_id == 1) && r->nslots > 0 && r->slots[0].tag == kTagString)
        return std::string(r->slots[0].u.s->view());
      json o = json::object();
      if (r->type_id < m_.layouts.size()) {
        const RecordLayout& l = m_.layouts[r->type_id];
        o["$type"] = l.name;
        if (r->id) o["$id"] = r->id;
        for (size_t i = 0; i < l.fields.size() && i < r->nslots; ++i)
          o[l.fields[i]] = to_json(r->slots[i], i < l.types.size() ? l.types[i] : IType{});
      }
      return o;
    }
  }
  return nullptr;
}

const std::vector<size_t>& ValueCodec::sorted_fields(uint32_t layout) const {
  if (sorted_.size() < m_.layouts.size()) sorted_.resize(m_.layouts.size());
  std::vector<size_t>& order = sorted_[layout];
  const RecordLayout& l = m_.layouts[layout];
  if (order.empty() && !l.fields.empty()) {
    std::vector<size_t> all(l.fields.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::stable_sort(all.begin(), all.end(), [&](size_t a, size_t b) { return l.fields[a] < l.fields[b]; });
    // A frame may hold two variables of one name (loops in different blocks): the document keeps the last.
    for (size_t k = 0; k < all.size(); ++k)
      if (k + 1 == all.size() || l.fields[all[k + 1]] != l.fields[all[k]]) order.push_back(all[k]);
  }
  return order;
}

void ValueCodec::write_json(const Value& v, const IType& t, std::string& out) const {
  if (v.is_none()) {
    out += "null";
    return;
  }
  switch (v.tag) {
    case kTagInt: {
      json_text::integer(out, v.u.i);
      return;
    }
    case kTagBool:
      out += v.u.i ? "true" : "false";
      return;
    case kTagString:
      json_text::string(out, v.u.s->view());
      return;
    case kTagDate:
      json_text::string(out, syntax::format_date(v.u.i));
      return;
    case kTagDec:
      json_text::string(out, interp::dec::to_string(v.u.d));
      return;
    case kTagMoney:
      json_text::string(out, interp::dec::to_string(v.u.d) + " " + currency_name(v.aux));
      return;
    case kTagEnum:
      if (v.aux < m_.enums.size() && v.u.i >= 0 &&
          v.u.i < static_cast<int64_t>(m_.enums[v.aux].values.size())) {
        json_text::string(out, m_.enums[v.aux].values[static_cast<size_t>(v.u.i)]);
        return;
      }
      break;
    case kTagList: {
      IType et = t.elem ? *t.elem : IType{};
      out += '[';
      for (uint32_t i = 0; i < v.u.l->len; ++i) {
        if (i) out += ',';
        write_json(v.u.l->items[i], et, out);
      }
      out += ']';
      return;
    }
    default:
      break;
  }
  const Record* r = v.tag == kTagRecord ? v.u.r : nullptr;
  bool named = r && (r->type_id == 0 || r->type_id == 1) && r->nslots > 0 && r->slots[0].tag == kTagString;
  if (named) {
    json_text::string(out, r->slots[0].u.s->view());  // a unit or person, written by name
    return;
  }
  if (!r || r->type_id >= m_.layouts.size()) {
    out += to_json(v, t).dump();  // another leaf: the document's own text
    return;
  }
  // Keys in std::map order, as the document has them: "$id" < "$type" < field names (letters, digits, _).
  const Keys& k = keys(r->type_id);
  out += '{';
  if (r->id) {
    out += "\"$id\":";
    out += std::to_string(r->id);
    out += ',';
  }
  out += k.type;
  for (size_t n = 0; n < k.order.size(); ++n) {
    size_t i = k.order[n];
    if (i >= r->nslots) continue;
    out += k.names[n];
    write_json(r->slots[i],
               i < m_.layouts[r->type_id].types.size() ? m_.layouts[r->type_id].types[i] : IType{}, out);
  }
  out += '}';
}

const ValueCodec::Keys& ValueCodec::keys(uint32_t layout) const {
  if (keys_.size() < m_.layouts.size()) keys_.resize(m_.layouts.size());
  Keys& k = keys_[layout];
  if (k.type.empty()) {
    const RecordLayout& l = m_.layouts[layout];
    k.type = "\"$type\":";
    json_text::string(k.type, l.name);
    k.order = sorted_fields(layout);
    for (size_t i : k.order) {
      std::string name = ",";
      json_text::string(name, l.fields[i]);
      k.names.push_back(name + ":");
    }
  }
  return k;
}

Record* ValueCodec::record_from_json(const json& j, uint32_t layout, std::string& error,
                                     const std::string& where, Completeness c) const {
  if (layout >= m_.layouts.size()) {
    error = where + ": unknown record type";
    return nullptr;
  }
  const RecordLayout& l = m_.layouts[layout];
  if (!j.is_object()) {
    error = where + ": expected an object with the fields of " + l.name;
    return nullptr;
  }
  // A reference to a live record ({"$id": 12}) is that record, if it is of this type: another type's record
  // would be read with this type's fields (past its own slots). Another type's id is read as an id that
  // names no record, so the answer does not tell the two apart.
  if (j.contains("$id") && j["$id"].is_number_integer() && r_.record)
    if (Record* live = r_.record(j["$id"].get<int64_t>()); live && live->type_id == layout) return live;
  // A reference by content ({"$ref": {"handle": "bo"}}) is the live record whose fields match.
  if (j.contains("$ref")) {
    Record* live = j["$ref"].is_object() && r_.find ? r_.find(layout, j["$ref"]) : nullptr;
    if (!live) error = where + ": no " + l.name + " matches " + j["$ref"].dump();
    return live;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key().rfind("$", 0) == 0) continue;
    if (std::find(l.fields.begin(), l.fields.end(), it.key()) == l.fields.end()) {
      error = where + ": " + l.name + " has no field `" + it.key() + "`";
      return nullptr;
    }
  }
  Record* r = arena_.record(layout, static_cast<uint32_t>(l.fields.size()));
  for (size_t i = 0; i < l.fields.size(); ++i) {
    const IType& ft = i < l.types.size() ? l.types[i] : IType{};
    auto f = j.find(l.fields[i]);
    if (f == j.end() || f->is_null()) continue;  // none: a default may fill it; checked below
    r->slots[i] = from_json(*f, ft, error, where + "." + l.fields[i], c);
    if (!error.empty()) return nullptr;
  }
  if (r_.fill_defaults) r_.fill_defaults(r);
  if (c == Completeness::Complete) {
    size_t own = l.fields.size() - std::min(l.fields.size(), r_.engine_fields ? r_.engine_fields(layout) : 0);
    for (size_t i = 0; i < own; ++i) {
      const IType& ft = i < l.types.size() ? l.types[i] : IType{};
      if (r->slots[i].is_none() && !ft.optional && ft.kind != Kind::None) {
        error = where + "." + l.fields[i] + ": missing; give every field of " + l.name +
                " that is not optional (`T?`) and has no default";
        return nullptr;
      }
    }
  }
  return r;
}

Value ValueCodec::from_json(const json& j, const IType& t, std::string& error, const std::string& where,
                            Completeness c) const {
  if (j.is_null()) {
    if (c == Completeness::Complete && !t.optional && t.kind != Kind::None)
      error = where + ": missing; it is not optional (`T?`), so give a value";
    return Value::none();
  }
  auto bad = [&](const std::string& what) {
    error = where + ": " + what;
    return Value::none();
  };
  switch (t.kind) {
    case Kind::Int:
      if (!j.is_number_integer()) return bad("expected a whole number");
      // An unsigned JSON number past INT64_MAX read as int64 wraps (18446744073709551615 was stored as -1).
      if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        return bad("out of range: a whole number from -9223372036854775808 to 9223372036854775807");
      return Value::of_int(j.get<int64_t>());
    case Kind::Bool:
      if (!j.is_boolean()) return bad("expected true or false");
      return Value::of_bool(j.get<bool>());
    case Kind::Dec: {
      std::string s = j.is_string() ? j.get<std::string>() : j.is_number() ? j.dump() : "";
      auto d = interp::dec::parse(s);
      if (!d) return bad("expected a decimal number like 12.5");
      return Value::of_dec(*d);
    }
    case Kind::Money: {
      if (!j.is_string()) return bad("expected an amount with its currency, like \"120.50 USD\"");
      std::string s = j.get<std::string>();
      auto sp = s.rfind(' ');
      if (sp == std::string::npos) return bad("expected an amount with its currency, like \"120.50 USD\"");
      auto d = interp::dec::parse(syntax::strip_separators(s.substr(0, sp)));
      uint32_t cur = currency_code(s.substr(sp + 1));
      if (!d || !cur) return bad("`" + s + "` is not an amount with an ISO currency code");
      if (t.currency && cur != t.currency)
        return bad("expected an amount in " + currency_name(t.currency) + ", got " + s);
      return Value::of_money(*d, cur);
    }
    case Kind::Str:
      if (!j.is_string()) return bad("expected text");
      return Value::of_string(arena_.string(j.get<std::string>()));
    case Kind::Date: {
      if (!j.is_string()) return bad("expected a date like 2026-01-31");
      auto d = syntax::parse_date(j.get<std::string>());
      if (!d) return bad("`" + j.get<std::string>() + "` is not a calendar date (YYYY-MM-DD)");
      return Value::of_date(*d);
    }
    case Kind::Dur: {
      if (j.is_number_integer()) return Value::of_duration(j.get<int64_t>());
      if (!j.is_string()) return bad("expected a duration like 2d or 3h");
      auto d = syntax::parse_duration(j.get<std::string>());
      if (!d) return bad("`" + j.get<std::string>() + "` is not a duration (like 2d, 3h, 30m)");
      return Value::of_duration(*d);
    }
    case Kind::Enum: {
      if (t.id >= m_.enums.size() || !j.is_string()) return bad("expected one of the enum's values");
      const auto& vals = m_.enums[t.id].values;
      auto it = std::find(vals.begin(), vals.end(), j.get<std::string>());
      if (it == vals.end())
        return bad("`" + j.get<std::string>() + "` is not a value of " + m_.enums[t.id].name);
      return Value::of_enum(it - vals.begin(), t.id);
    }
    case Kind::List: {
      if (!j.is_array()) return bad("expected a list");
      List* l = arena_.list(static_cast<uint32_t>(j.size()));
      IType et = t.elem ? *t.elem : IType{};
      for (size_t i = 0; i < j.size(); ++i) {
        l->items[i] = from_json(j[i], et, error, where + "[" + std::to_string(i) + "]", c);
        if (!error.empty()) return Value::none();
      }
      return Value::of_list(l);
    }
    case Kind::Rec: {
      // Units and people are named by a string; other records are objects (or {"$id": n}).
      if (j.is_string() && t.id == 1 && r_.unit) {  // Unit layout
        Record* u = r_.unit(j.get<std::string>());
        if (!u) return bad("no unit named `" + j.get<std::string>() + "`");
        return Value::of_record(u);
      }
      if (j.is_string() && t.id == 0 && r_.actor) {  // Actor layout
        Record* a = r_.actor(j.get<std::string>());
        if (!a) return bad("no person `" + j.get<std::string>() + "`");
        return Value::of_record(a);
      }
      if (j.is_number_integer() && r_.record) {
        Record* live = r_.record(j.get<int64_t>());
        if (!live) return bad("no record with id " + j.dump());
        return Value::of_record(live);
      }
      Record* r = record_from_json(j, t.id, error, where, c);
      return r ? Value::of_record(r) : Value::none();
    }
    case Kind::None:
      return Value::none();
  }
  return Value::none();
}

}  // namespace orgos::workflow
