// Values to and from JSON, guided by their IR types: how instance state is persisted, how scenario
// files and API messages supply event payloads and task data, and how traces show values. Money is
// "12.50 USD", dates "2026-01-31", durations "2d", records objects ({"$type": …, "$id": …, fields}).
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/interp/evaluator.h"
#include "compiler/ir/ir.h"

namespace orgos::workflow {

using nlohmann::json;

// Resolves names found in input data to engine objects: a unit name to its Unit record, a person's id
// to their Actor record, a record id to the live record.
struct Resolver {
  std::function<ir::Record*(const std::string& unit)> unit;
  std::function<ir::Record*(const std::string& actor)> actor;
  std::function<ir::Record*(int64_t id)> record;
  // The live record of a layout whose fields match ({"$ref": {"handle": "bo"}} in input data).
  std::function<ir::Record*(uint32_t layout, const json& where)> find;
  // Gives the fields left out (none) their declared defaults.
  std::function<void(ir::Record*)> fill_defaults;
  // How many of a layout's last fields the engine fills in itself (an event's `at`; a record's `id` and
  // `state`): input data need not give them. Unset: none.
  std::function<size_t(uint32_t layout)> engine_fields;
};

// How complete JSON must be. Input data (an event's payload, a process's arguments) gives every field that
// is neither optional (`T?`) nor defaulted: a missing one used to become none in a non-optional field.
// Stored state (an instance frame whose locals are not set yet) may leave fields none.
enum class Completeness { Partial, Complete };

class ValueCodec {
 public:
  ValueCodec(const ir::Module& m, interp::Arena& arena, Resolver r)
      : m_(m), arena_(arena), r_(std::move(r)) {}

  json to_json(const ir::Value& v, const ir::IType& t) const;
  // Appends exactly to_json(v, t).dump() to `out`, without building the document: records, lists and the
  // common leaves are written directly (fields in the document's sorted key order), the rest through
  // to_json. The engine writes
  // every changed instance's frame this way at every step.
  void write_json(const ir::Value& v, const ir::IType& t, std::string& out) const;
  // Reads `j` as a value of type `t`; on bad input sets `error` (what and where) and returns none.
  // With Completeness::Complete a null or missing value of a non-optional type is an error too.
  ir::Value from_json(const json& j, const ir::IType& t, std::string& error, const std::string& where,
                      Completeness c = Completeness::Partial) const;
  // A record of layout `layout` from an object of named fields; missing fields are none (Partial) or,
  // unless optional or defaulted, an error (Complete).
  ir::Record* record_from_json(const json& j, uint32_t layout, std::string& error, const std::string& where,
                               Completeness c = Completeness::Partial) const;

 private:
  const std::vector<size_t>& sorted_fields(uint32_t layout) const;
  // A layout's JSON keys as write_json writes them, made once: `"$type":"Name"`, and `,"field":` for each
  // field in key order (`order`: the field indexes).
  struct Keys {
    std::string type;
    std::vector<size_t> order;
    std::vector<std::string> names;
  };
  const Keys& keys(uint32_t layout) const;

  const ir::Module& m_;
  interp::Arena& arena_;
  Resolver r_;
  mutable std::vector<std::vector<size_t>> sorted_;  // per layout: field indexes in key order
  mutable std::vector<Keys> keys_;                   // per layout, made on first use
};

}  // namespace orgos::workflow
