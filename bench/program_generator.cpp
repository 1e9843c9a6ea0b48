#include "bench/program_generator.h"

#include <algorithm>
#include <string_view>

namespace orgos::bench {

namespace {

constexpr std::string_view kHeader =
    R"(// Generated for the front-end benchmark: one business function, repeated.
package bench.generated

import std.kernel.{Employee, Manager}

)";

// One unit, modelled on stdlib's finance and hr packages; `#` stands for the unit's number.
constexpr std::string_view kUnit = R"(// ---- unit #: spending and onboarding
role Approver# extends Employee {
  may approve Claim#
}
role Clerk# extends Employee {}

enum Category# { travel, meals, equipment, software, other }
enum Stage# { submitted, approved, rejected, paid }

record Claim# {
  amount: Money
  category: Category#
  unit: Unit
  submitter: Actor
  purpose: String
  incurred_on: Date
  stage: Stage# = submitted
  check amount.amount > 0: "a claim has a positive amount"
  check len(purpose) >= 3: "say what the claim was for"
}

record Joiner# {
  name: String
  handle: String
  unit: Unit
  salary: Money
  start_date: Date
  check salary.amount > 0: "a salary is positive"
}

event u#.claim.submitted { claim: Claim# }
event u#.claim.approved { claim: Claim# }
event u#.claim.rejected { claim: Claim#, reason: String }
event u#.joiner.hired { joiner: Joiner# }
event u#.joiner.ready { joiner: Joiner# }

table level# hit first {
  input amount: Decimal, category: Category#
  output level: Int, deadline: Duration
  | < 1000         | -             || 1 | 2d |
  | 1000 .. 25_000 | travel, meals || 2 | 3d |
  | < 25_000       | -             || 2 | 3d |
  | -              | -             || 3 | 7d |
}

policy no_self_approval#: forbid approve Claim# when actor == resource.submitter

fn share#(c: Claim#, total: Decimal) -> Decimal = c.amount.amount / total

process Approve#(x: Claim#) {
  let level = level#(x.amount.amount, x.category)
  approval manager by Manager of x.unit within level.deadline escalate to Approver#
  if level.level >= 2 {
    approval second by Approver# within level.deadline
  }
  switch x.category {
    case travel {
      task check_itinerary by Clerk# within 2d outcomes ok, wrong
    }
    case equipment {
      task tag_asset by Clerk# within 5d
    }
    else {
      notify x.submitter "Your claim is being reviewed"
    }
  }
  emit u#.claim.approved { claim: x }
  notify x.submitter "Your claim \"" + x.purpose + "\" is approved"
  on failure {
    emit u#.claim.rejected { claim: x, reason: error }
  }
}

process Onboard#(j: Joiner#) {
  timeout 30d
  parallel {
    branch access {
      task accounts by Clerk# within 2d
      task laptop by Clerk# within 3d
    }
    branch desk {
      task assign_desk by Clerk# within 3d
    }
    branch buddy {
      task pick_buddy by Manager of j.unit within 5d returns { buddy: String }
    }
  }
  wait 1d
  emit u#.joiner.ready { joiner: j }
  notify j.handle "Welcome aboard, " + j.name + "!"
  on timeout { notify "hr" "onboarding of " + j.name + " is overdue" }
}

rule route#
  when u#.claim.submitted e
  then start Approve#(e.claim)

rule onboard# when u#.joiner.hired e then start Onboard#(e.joiner)

metric approved# = count(e in u#.claim.approved)
metric rejected# = count(e in u#.claim.rejected)
metric cycle_days# = avg(p.duration.days for p in Approve# where p.status == "completed")

)";

}  // namespace

std::string generate_program(size_t lines) {
  std::string out(kHeader);
  size_t unit_lines = static_cast<size_t>(std::count(kUnit.begin(), kUnit.end(), '\n'));
  size_t have = static_cast<size_t>(std::count(out.begin(), out.end(), '\n'));
  out.reserve(out.size() + (lines / unit_lines + 1) * (kUnit.size() + 64));
  for (size_t n = 0; have < lines; ++n, have += unit_lines) {
    std::string id = std::to_string(n);
    for (char ch : kUnit) {
      if (ch == '#')
        out += id;
      else
        out += ch;
    }
  }
  return out;
}

}  // namespace orgos::bench
