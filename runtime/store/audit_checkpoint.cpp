#include "runtime/store/audit_checkpoint.h"

#include <nlohmann/json.hpp>

#include "runtime/store/store.h"

namespace orgos::store {

namespace {
constexpr const char* kFormat = "orgos-audit-checkpoint/1";
}

AuditCheckpoint AuditCheckpoint::take(Store& s, const AuditKey& key, int64_t now) {
  AuditCheckpoint cp;
  for (const AuditEntry& e : s.audit_entries()) {
    ++cp.entries;
    cp.last_seq = e.seq;
    cp.last_hash = e.hash;
  }
  cp.inputs = s.last_input_seq();
  cp.at = now;
  cp.mac = key.mac(cp.signed_content());
  return cp;
}

std::string AuditCheckpoint::signed_content() const {
  return std::string(kFormat) + " " + std::to_string(entries) + " " + std::to_string(last_seq) + " " +
         last_hash + " " + std::to_string(inputs) + " " + std::to_string(at);
}

bool AuditCheckpoint::authentic(const AuditKey& key) const {
  return key.mac(signed_content()) == mac;
}

std::string AuditCheckpoint::to_json() const {
  return nlohmann::json{{"format", kFormat},
                        {"entries", entries},
                        {"last_seq", last_seq},
                        {"last_hash", last_hash},
                        {"inputs", inputs},
                        {"at", at},
                        {"mac", mac}}
             .dump(2) +
         "\n";
}

AuditCheckpoint AuditCheckpoint::parse(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [](const std::string& why) {
    return StoreError("not an audit checkpoint (" + why + "); make one with `orgctl audit checkpoint`");
  };
  if (!j.is_object()) throw bad("not a JSON object");
  if (j.value("format", "") != kFormat) throw bad(std::string("no \"format\": \"") + kFormat + "\"");
  AuditCheckpoint cp;
  try {
    cp.entries = j.at("entries").get<int64_t>();
    cp.last_seq = j.at("last_seq").get<int64_t>();
    cp.last_hash = j.at("last_hash").get<std::string>();
    cp.inputs = j.at("inputs").get<int64_t>();
    cp.at = j.at("at").get<int64_t>();
    cp.mac = j.at("mac").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw bad(e.what());
  }
  return cp;
}

}  // namespace orgos::store
