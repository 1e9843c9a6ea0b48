// The last lines of the engine's trace, numbered, for `events.read`: a client asks for the lines after
// the last sequence number it saw and gets them from here. Bounded: the oldest lines fall out, and a
// reader that fell that far behind is told how many it missed (the store's input log stays the complete
// record). Used on the engine thread only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "runtime/workflow/trace_subject.h"

namespace orgos::net {

struct EventLine {
  int64_t seq = 0;  // 1, 2, … in the order lines were committed, within this server process
  int64_t at = 0;   // the engine clock when the line was published
  std::string line;
  workflow::TraceSubject about;  // what the line is about (workflow::Engine::trace_subject): who may read it
};

class EventRing {
 public:
  explicit EventRing(size_t capacity) : capacity_(capacity) {}

  // Appends a line and returns its sequence number.
  int64_t add(int64_t at, std::string line, workflow::TraceSubject about = {});

  struct Read {
    std::vector<EventLine> lines;
    int64_t missed = 0;  // lines after `after` that fell out of the ring before they were read
    int64_t next = 0;    // the last seq looked at (lines the reader may not see are passed over, not sent)
  };
  // At most `max` lines with seq > after that `visible` lets through (all when it is empty), oldest first.
  Read after(int64_t after, size_t max, const std::function<bool(const EventLine&)>& visible = {}) const;

  int64_t last() const { return next_seq_ - 1; }

 private:
  size_t capacity_;
  std::deque<EventLine> lines_;
  int64_t next_seq_ = 1;
};

}  // namespace orgos::net
