#pragma once
// iohealthctl's text output: human units for microsecond values and the latency histogram as
// terminal bars. Pure functions of their inputs (no bus, no clock reads) so they are tested
// directly.
#include <cstdint>
#include <string>
#include <vector>

namespace iohealth::ctl {

// "0", "12us", "1.5ms", "2.25s", "4m10s", "2h05m".
std::string human_usec(std::uint64_t usec);

// A log2 slot's range in human units: slot 0 "0-2us", slot 10 "1ms-2ms" (1024-2048 us,
// shown in the unit of its lower bound), the last slot open-ended ">=36m".
std::string slot_label(int slot, int slots);

// One line per slot from the first to the last non-empty one:
// "   1ms-2ms    |##########          | 120". `width`: the longest bar. Empty: "(no completions)".
std::vector<std::string> histogram_bars(const std::vector<std::uint64_t>& slots, int width = 40);

// CLOCK_REALTIME microseconds as local "YYYY-MM-DD HH:MM:SS" and, relative to `now_usec`,
// " (in 25s)" or " (3s ago)"; "-" for 0 (none).
std::string when(std::uint64_t realtime_usec, std::uint64_t now_usec);

}  // namespace iohealth::ctl
