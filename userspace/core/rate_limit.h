#pragma once
// How often a repeated thing is logged: at most `burst` times per `interval`; the rest are
// counted, and the next one logged says how many were left out.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/time.h"

namespace iohealth {

class RateLimit {
  public:
    RateLimit(std::size_t burst, Duration interval) : burst_(burst), interval_(interval) {}

    // Whether to log the occurrence at `now`. When it says yes, `suppressed` is the number of
    // occurrences left out since the last one logged.
    bool allow(TimePoint now, std::uint64_t& suppressed);

  private:
    const std::size_t burst_;
    const Duration interval_;
    std::optional<TimePoint> window_start_;
    std::size_t in_window_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace iohealth
