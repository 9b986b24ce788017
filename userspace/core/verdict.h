#pragma once
#include <optional>
#include <string_view>

namespace iohealth {

// Ordered from best to worst; the order matters only for "worse than" comparisons.
enum class Verdict {
    kHealthy,
    kContended,   // slow, but completions flow
    kDegraded,    // errors, but progress
    kRecovering,  // progress is back after STALLED/DEAD/DEGRADED, not yet stable
    kStalled,     // no progress, still under the dead deadline
    kDead,        // no progress past the deadline, confirmed by the required witnesses
};

std::string_view to_string(Verdict v);
std::optional<Verdict> verdict_from_string(std::string_view s);

}  // namespace iohealth
