#pragma once
// `iohealthctl explain`: a path's verdict with the numbers behind it, as one JSON document
// (the D-Bus Explain method). Built on the bus thread from the loop's last snapshot.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "daemon/control.h"

namespace iohealth {

// A CLOCK_MONOTONIC time as CLOCK_REALTIME microseconds since the epoch (what the bus
// publishes), through the offset between the two clocks now; 0 for times before the epoch.
std::uint64_t realtime_usec(TimePoint monotonic);

// `privileged`: custom_command whole; otherwise only its executable, with
// "custom_command_hidden_arguments" counting what was left out (a token in it stays secret).
nlohmann::json explain_json(const PathSnapshot& s, bool privileged);

}  // namespace iohealth
