#pragma once
// The classifier: a pure function of (previous state, evidence window, policy, now).
// It never reads a clock and never does I/O, so every rule is tested in virtual time.
//
// Two witnesses of "no progress" are tracked independently:
//  - kernel: I/O is outstanding (or failing) and nothing completes successfully;
//  - heartbeat: the active probe is pending or failing.
// Any proof of life (a successful completion, a successful heartbeat, an advancing resync)
// ends both episodes: slow-but-progressing storage can never be STALLED or DEAD.
#include <optional>
#include <string>

#include "core/evidence.h"
#include "core/policy.h"
#include "core/verdict.h"

namespace iohealth {

// A verdict and the numbers that produced it: what `explain`, journald and D-Bus show.
struct Assessment {
    Verdict verdict = Verdict::kHealthy;
    std::string reason;  // one line, numbers not adjectives
    TimePoint at;        // tick this assessment is for
    TimePoint since;     // when the path entered this verdict

    // Over the latency window (the last few ticks).
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;
    Duration p50{0};
    Duration p99{0};
    Duration max_latency{0};
    std::uint32_t in_flight = 0;

    // No-progress evidence, zero when there is progress.
    Duration kernel_stall{0};        // no successful completion while I/O was outstanding
    Duration heartbeat_stall{0};     // age of the pending (or failing) heartbeat probe
    Duration heartbeat_gap{0};       // since the last successful heartbeat (or the last proof of
                                     // life, if later), while pending/failing
    Duration stall_threshold{0};     // adaptive: max(2 ticks, 2 x recent max latency), capped
    bool kernel_witness = false;     // kernel no-progress >= stall_threshold
    bool heartbeat_witness = false;  // heartbeat no-progress >= stall_threshold
    bool proof_of_life = false;      // this tick had a completion / heartbeat / resync progress
    bool resync_advancing = false;
    std::optional<TimePoint> dead_at;  // when DEAD follows if nothing completes (fence-by)
};

// What the classifier carries from one tick to the next.
struct ClassifierState {
    bool started = false;
    Verdict verdict = Verdict::kHealthy;
    TimePoint since;
    std::optional<TimePoint> kernel_stuck_since;  // start of the kernel no-progress episode
    std::optional<TimePoint> kernel_last_demand;  // last tick with I/O outstanding or failing
    std::optional<TimePoint> last_proof_of_life;  // last tick with any proof of life
    int slow_ticks = 0;                           // consecutive ticks at or above slow_io
    std::optional<TimePoint> calm_since;          // below slow_io/2 continuously since
    std::optional<TimePoint> recovering_since;    // progress continuously since (RECOVERING)
    Duration episode_worst{0};                    // longest no-progress of the current stall
    bool warned = false;                          // fence-imminent emitted for this episode
    std::string held_for;  // DEAD was held in this episode for this lower layer's own deadline
};

// A stall that ended after passing warn_after: it came close to a fence.
struct NearMiss {
    Duration stalled_for{0};
    Duration dead_after{0};
    std::string held_for;  // the lower layer DEAD waited for, when it did ("replication link ...")
};

struct Classification {
    ClassifierState state;
    Assessment assessment;
    bool verdict_changed = false;
    Verdict previous = Verdict::kHealthy;
    std::optional<NearMiss> near_miss;
    bool fence_imminent = false;  // crossed warn_after in this tick
};

// `window.latest()` is the tick being classified; `now` is its time.
Classification classify(const ClassifierState& previous, const EvidenceWindow& window,
                        const PathPolicy& policy, TimePoint now);

}  // namespace iohealth
