#pragma once
// One clock for every decision. The classifier and the escalation engine never read a clock:
// they are handed `now`, so every timing rule is testable in virtual microseconds.
#include <chrono>
#include <cstdint>
#include <string>

namespace iohealth {

using Duration = std::chrono::microseconds;

// Monotonic time, microseconds since an arbitrary origin (CLOCK_MONOTONIC in the daemon,
// zero at the start of a test or a replay).
struct MonoClock {
    using duration = Duration;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<MonoClock, Duration>;
    static constexpr bool is_steady = true;
};
using TimePoint = MonoClock::time_point;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

// CLOCK_MONOTONIC: does not jump with wall-clock changes (NTP steps must never fence).
class SteadyClock final : public Clock {
  public:
    TimePoint now() const override;
};

// A clock that moves only when told to: unit tests and replays.
class VirtualClock final : public Clock {
  public:
    explicit VirtualClock(TimePoint start = TimePoint{}) : now_(start) {}
    TimePoint now() const override { return now_; }
    void advance(Duration d) { now_ += d; }
    void set(TimePoint t) { now_ = t; }

  private:
    TimePoint now_;
};

constexpr TimePoint from_usec(std::int64_t usec) {
    return TimePoint{Duration{usec}};
}
constexpr std::int64_t to_usec(TimePoint t) {
    return t.time_since_epoch().count();
}
constexpr std::int64_t to_usec(Duration d) {
    return d.count();
}

// "1.500s", "250ms", "12us": short and exact enough for logs and explanations.
std::string format_duration(Duration d);
// Seconds with millisecond precision, for timelines: "12.000".
std::string format_seconds(TimePoint t);

// The longest duration anything accepts, from the config, the CLI or the bus (a week): the
// derivations (up to 30 x io_timeout) can never overflow, and no maintenance outlasts it.
inline constexpr Duration kMaxDuration = std::chrono::hours(24 * 7);

}  // namespace iohealth
