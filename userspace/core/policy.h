#pragma once
// The decision policy, as plain documented structs. The config module fills them from INI
// files (userspace/config); the classifier and escalation engine only read them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace iohealth {

using namespace std::chrono_literals;

enum class Action { kLogOnly, kRestartAgent, kGracefulReboot, kReboot, kCustom };
std::string_view to_string(Action a);
std::optional<Action> action_from_string(std::string_view s);

// What the daemon does with a fence decision. Maintenance is a timed disarm kept apart
// (ModeState) so that it always re-arms.
enum class Mode { kDryRun, kArmed, kDisarmed };
std::string_view to_string(Mode m);
std::optional<Mode> mode_from_string(std::string_view s);

// Which independent witnesses must agree before DEAD. `both`: the kernel saw no progress
// and the heartbeat did not succeed, each for dead_after. `either`: one is enough.
enum class DeadWitnesses { kBoth, kEither };
std::string_view to_string(DeadWitnesses w);
std::optional<DeadWitnesses> witnesses_from_string(std::string_view s);

// An error-only path (every I/O fails, none succeeds). `fence`: errors are not progress, the
// path goes STALLED then DEAD like a hung one. `degrade`: the storage answers, so DEGRADED only.
enum class ErrorPolicy { kFence, kDegrade };
std::string_view to_string(ErrorPolicy e);
std::optional<ErrorPolicy> error_policy_from_string(std::string_view s);

// Every timing, derived from one base knob (io_timeout, "T") unless set explicitly.
// The derivation lives in one place: derive_timings() in config/timings.cpp.
struct Timings {
    Duration io_timeout = 10s;     // T: one I/O slower than this is abnormal
    Duration tick = 1s;            // sampling period of every source
    Duration probe_interval = 2s;  // T/5: heartbeat cadence
    Duration slow_io = 200ms;      // T/50: p99 at or above this is CONTENDED
    Duration stall_after = 5s;     // T/2: window of the latency and error figures
    Duration warn_after = 20s;     // 2T: "fence imminent", near miss, floor of the stall threshold
    Duration dead_after = 25s;     // 5T/2: no progress this long -> DEAD
    Duration graceful_deadline = 40s;  // 4T: after a graceful reboot starts, the next step runs
    Duration recover_after = 5s;       // T/2: stable progress needed to leave RECOVERING
    Duration step_hold = 10s;          // T: wait between ladder steps
    Duration repeat_interval = 300s;   // 30T: same action on the same path not again within
    Duration custom_timeout = 30s;     // 3T: a custom command is killed after this
};

struct LadderStep {
    Action action = Action::kLogOnly;
    Duration hold{0};  // after this step starts, wait this long before the next one
    bool operator==(const LadderStep&) const = default;
};

struct PathPolicy {
    Timings timings;
    DeadWitnesses witnesses = DeadWitnesses::kBoth;
    ErrorPolicy errors = ErrorPolicy::kFence;
    bool heartbeat = true;
    int contended_enter_ticks = 2;  // consecutive slow ticks before CONTENDED
    std::vector<LadderStep> ladder;
    std::string agent_unit = "cloudstack-agent.service";
    std::vector<std::string> custom_command;  // argv, run without a shell
};

enum class PathKind { kDevice, kMount, kDrbd };
std::string_view to_string(PathKind k);
std::optional<PathKind> path_kind_from_string(std::string_view s);

struct PathConfig {
    std::string name;  // the id used in logs, D-Bus and the CLI
    PathKind kind = PathKind::kDevice;
    std::string target;  // /dev/sdX, a mount point, or a DRBD resource name
    std::string preset;  // "", "block", "drbd", "nfs"
    PathPolicy policy;
};

}  // namespace iohealth
