#pragma once
// Durations as operators write them: "250us", "500ms", "10s", "5m", "1h", "1.5s".
#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"

namespace iohealth {

// A parsed duration, or the reason it is not one (a message that quotes the input).
struct DurationParse {
    std::optional<Duration> value;
    std::string error;
};

// A number (decimal point allowed) immediately followed by one unit: us, ms, s, m, h.
// A bare number is refused on purpose: "500" meant as milliseconds would otherwise become
// eight minutes of waiting before a fence. Values above kMaxDuration (core/time.h) are refused
// too.
DurationParse parse_duration(std::string_view text);

}  // namespace iohealth
