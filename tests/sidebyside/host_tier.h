#pragma once
// The host tier of the side-by-side: on one faultfs-backed loop device (tests/harness), the
// real iohealthd (dry-run) and the peer model on real storage (peer_runner.h) watch the same
// storage through the same fault timeline, with VM-like reads running beside them.
#include <iosfwd>
#include <string>
#include <vector>

#include "sidebyside/result.h"

namespace iohealth::testing {
class FaultFsFixture;
}

namespace iohealth::sidebyside {

using namespace std::chrono_literals;

// iohealthd's defaults, which every tier scales.
inline constexpr Duration kIoTimeout = 10s;  // T
inline constexpr Duration kTick = 1s;
inline constexpr double kDeadAfterOverT = 2.5;

Duration scaled(Duration d, double scale);
double secs(Duration d);
// A timeline step's faultfs command (fault_timeline.h) applied to the harness.
void apply_fault(testing::FaultFsFixture& fs, const std::string& command);
// Sleeps until CLOCK_MONOTONIC reaches `at` seconds.
void sleep_until_mono(double at);
// iohealthd.conf: `mode`, no discovery, the tick and io_timeout times `scale`, then `paths`.
std::string iohealthd_config(double scale, const std::string& mode, const std::string& paths);

struct HostScenario {
    std::string name;
    std::string kind;                       // contention | dead
    std::string what;                       // one line for the report
    std::vector<peer::FaultStep> timeline;  // already scaled
    Duration length;                        // after the fault starts
};

// iohealthd's defaults (io_timeout 10 s, tick 1 s) and CloudStack's, each times `scale`.
// Fault magnitudes (the 0.5-3 s contention delays) are not scaled: relative to the scaled
// timings the contention is harsher, for both sides alike.
std::vector<HostScenario> host_scenarios(double scale);

struct HostRunOptions {
    double scale = 0.4;
    std::string iohealthd;  // the binary
};

// Runs one scenario (root, FUSE, loop devices); progress lines go to `log`.
ScenarioResult run_host_scenario(const HostScenario& s, const HostRunOptions& o, std::ostream& log);

// "iohealth io_timeout 4s, tick 400ms (DEAD after 10s without progress); peer: ..." for `scale`.
std::string timings_text(double scale);

}  // namespace iohealth::sidebyside
