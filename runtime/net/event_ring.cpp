#include "runtime/net/event_ring.h"

#include <algorithm>

namespace orgos::net {

int64_t EventRing::add(int64_t at, std::string line, workflow::TraceSubject about) {
  int64_t seq = next_seq_++;
  lines_.push_back(EventLine{seq, at, std::move(line), std::move(about)});
  while (lines_.size() > capacity_) lines_.pop_front();
  return seq;
}

EventRing::Read EventRing::after(int64_t after, size_t max,
                                 const std::function<bool(const EventLine&)>& visible) const {
  Read r;
  r.next = std::min(after, last());
  if (lines_.empty() || after >= last()) return r;
  int64_t first = lines_.front().seq;
  int64_t from = std::max(after + 1, first);
  if (after + 1 < first) r.missed = first - (after + 1);
  // Sequence numbers are consecutive, so the first wanted line's place is known without a search.
  for (size_t i = static_cast<size_t>(from - first); i < lines_.size() && r.lines.size() < max; ++i) {
    r.next = lines_[i].seq;
    if (!visible || visible(lines_[i])) r.lines.push_back(lines_[i]);
  }
  return r;
}

}  // namespace orgos::net
