// An "expense desk" host application: it opens an organization, submits an expense on behalf of a user,
// lets the manager approve it, and prints the tasks, the instances and the KPIs — all through the public
// API in <orgos/orgos.hpp>.
#include <orgos/orgos.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: expense_desk PROJECT [STDLIB]\n";
    return 2;
  }
  orgos::OpenOptions opts;
  if (argc > 2) opts.stdlib = argv[2];
  opts.start_time = 1767600000;  // 2026-01-05
  auto opened = orgos::Organization::open(argv[1], opts);
  if (!opened) {
    std::cerr << "cannot open: " << opened.error().message << "\n";
    return 1;
  }
  orgos::Organization& org = opened.value();
  org.subscribe([](const std::string& line) { std::cout << "  " << line << "\n"; });
  auto posted = org.post_event(
      "expense.submitted",
      R"({"expense": {"amount": "240 USD", "category": "meals", "unit": "Engineering", "submitter": "noor",
          "purpose": "team lunch", "incurred_on": "2026-01-05"}})",
      "system", "desk-1");
  if (!posted) {
    std::cerr << "refused: " << posted.error().message << "\n";
    return 1;
  }
  for (const orgos::Task& t : org.tasks()) {
    std::cout << "open task #" << t.id << " " << t.name << " for " << t.role << " of " << t.unit << "\n";
    auto decided = org.decide(t.id, "ben", true, "desk-2");
    if (!decided) std::cerr << "refused: " << decided.error().message << "\n";
  }
  for (const orgos::Instance& i : org.instances())
    std::cout << i.process << " #" << i.id << " " << i.status << "\n";
  if (auto metrics = org.metrics(); !metrics)  // an error value if the store's events cannot be read
    std::cerr << "metrics: " << metrics.error().message << "\n";
  else
    for (const orgos::Metric& m : metrics.value())
      if (m.name == "approved_expenses") std::cout << "approved_expenses = " << m.value << "\n";
  // A bad input is an error value, not a crash.
  auto bad = org.post_event("expense.submitted", "{not json", "system", "desk-3");
  std::cout << "bad input: " << (bad ? "accepted?!" : bad.error().message) << "\n";
  return 0;
}
