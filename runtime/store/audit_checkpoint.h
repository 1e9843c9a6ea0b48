// A checkpoint of the audit chain: its head (entry count, last seq and hash) and the input log's length at
// one moment, MACed with the audit key and kept outside the store. Comparing a store with it shows that
// nothing recorded before it was removed, rewritten, reordered or renumbered — which the chain alone cannot
// show for its own end (deleting the last entries leaves a valid shorter chain).
#pragma once
#include <cstdint>
#include <string>

#include "runtime/store/audit_key.h"

namespace orgos::store {

class Store;

struct AuditCheckpoint {
  int64_t entries = 0, last_seq = 0;
  std::string last_hash;
  int64_t inputs = 0;  // the input log's last seq
  int64_t at = 0;      // wall clock when it was taken (seconds since 1970)
  std::string mac;

  // The head of `s` now, MACed with `key`.
  static AuditCheckpoint take(Store& s, const AuditKey& key, int64_t now);
  // Throws StoreError when `text` is not a checkpoint.
  static AuditCheckpoint parse(const std::string& text);
  std::string to_json() const;
  bool authentic(const AuditKey& key) const;

 private:
  std::string signed_content() const;
};

}  // namespace orgos::store
