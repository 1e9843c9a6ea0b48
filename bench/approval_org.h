// The organization the runtime benchmarks drive: one role held by one person, and a process of five
// approvals in a row started by an event, so every input is one step transition of one instance.
#pragma once
#include <cstdint>

#include "compiler/bundle/bundle.h"
#include "runtime/workflow/value_codec.h"

namespace orgos::bench {

extern const char* const kApprovalOrg;
bundle::Bundle approval_bundle();         // checked and lowered; throws on a compile error
workflow::json claim_payload(int64_t n);  // the payload of the n-th claim.filed event

}  // namespace orgos::bench
