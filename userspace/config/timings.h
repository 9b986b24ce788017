#pragma once
// The one place where every timing is derived from io_timeout.
#include <array>
#include <string_view>

#include "core/policy.h"

namespace iohealth {

// Every timing of the policy from one base knob T = io_timeout (sanlock's timeouts.c idea).
// `tick` is the daemon's sampling period; it is not derived but is carried along.
Timings derive_timings(Duration io_timeout, Duration tick);

// The timings derived from io_timeout, by config key, in the order they are documented and
// printed. io_timeout and tick are not in this table: they are inputs, not derived.
struct DerivedTiming {
    std::string_view key;
    Duration Timings::*member;
};
inline constexpr std::array<DerivedTiming, 10> kDerivedTimings{{
    {"probe_interval", &Timings::probe_interval},
    {"slow_io", &Timings::slow_io},
    {"stall_after", &Timings::stall_after},
    {"warn_after", &Timings::warn_after},
    {"dead_after", &Timings::dead_after},
    {"graceful_deadline", &Timings::graceful_deadline},
    {"recover_after", &Timings::recover_after},
    {"step_hold", &Timings::step_hold},
    {"repeat_interval", &Timings::repeat_interval},
    {"custom_timeout", &Timings::custom_timeout},
}};

}  // namespace iohealth
