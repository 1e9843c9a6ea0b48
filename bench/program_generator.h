// A realistic, valid OrgOS program of any size, for the front-end throughput benchmark: units of one
// business function (roles, enums, records with checks, events, a decision table, a policy, processes with
// tasks, approvals, ifs, switches, parallel branches and waits, rules and metrics), repeated with distinct
// names until the requested number of lines is reached. A check test keeps it free of diagnostics.
#pragma once
#include <cstddef>
#include <string>

namespace orgos::bench {

// One .org file of at least `lines` lines (it stops after the unit that crosses the mark).
std::string generate_program(size_t lines);

}  // namespace orgos::bench
