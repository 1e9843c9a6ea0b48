#include "bench/approval_org.h"

#include <stdexcept>
#include <string>

#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"

namespace orgos::bench {

const char* const kApprovalOrg = R"org(
role Clerk {}
record Claim { amount: Money<USD>  purpose: String }
event claim.filed { claim: Claim }
org Bench {
  units { department Ops }
  position clerk: Clerk in Ops held by "ann"
}
process Approve(c: Claim) {
  approval first by Clerk within 5d
  approval second by Clerk within 5d
  approval third by Clerk within 5d
  approval fourth by Clerk within 5d
  approval fifth by Clerk within 5d
}
rule route when claim.filed e then start Approve(e.claim)
metric approved = count(i in Approve where i.status == "completed")
)org";

bundle::Bundle approval_bundle() {
  auto c = driver::check_text("bench.org", kApprovalOrg);
  if (c->diags.has_errors()) throw std::runtime_error(diag::render_all_text(c->sources, c->diags));
  auto lw = ir::lower(*c);
  bundle::Bundle b;
  b.module = std::move(lw.module);
  b.program = std::move(lw.program);
  b.source_hash = "bench";
  b.files = {"bench.org"};
  return b;
}

workflow::json claim_payload(int64_t n) {
  return {{"claim",
           {{"amount", std::to_string(100 + n % 900) + " USD"}, {"purpose", "claim " + std::to_string(n)}}}};
}

}  // namespace orgos::bench
