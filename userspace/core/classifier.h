#pragma once
// The classifier: a pure function of (previous state, evidence window, policy, now).
// It never reads a clock and never does I/O, so every rule is tested in virtual time.
// It decides from numbers only; the reason text is rendered from the assessment afterwards
// (core/verdict_reason.h), so the wording can change without touching a decision.
//
// Two witnesses of "no progress" are tracked independently:
//  - kernel: I/O is outstanding (or failing) and nothing completes successfully;
//  - heartbeat: the active probe is pending or failing.
// Any proof of life (a successful completion, a successful heartbeat, an advancing resync)
// ends both episodes: slow-but-progressing storage can never be STALLED or DEAD.
#include <optional>
#include <string>
#include <vector>

#include "core/evidence.h"
#include "core/policy.h"
#include "core/verdict.h"

namespace iohealth {

// Ticks with proof of life that end STALLED or DEAD: one completion is not yet service.
inline constexpr int kSustainedProgressTicks = 2;

// A request outstanding far longer than everything completing around it (lost by a driver,
// stuck behind a firmware bug): no stall while the others complete, but an incident.
struct StuckRequest {
    Duration age{0};  // at least this old
    std::optional<IoDirection> direction;
    std::uint32_t in_flight = 0;
    Duration threshold{0};  // max(dead_after, 2 x the slowest recent completion)
};

// A verdict and the numbers that produced it: what `explain`, journald and D-Bus show.
struct Assessment {
    Verdict verdict = Verdict::kHealthy;
    std::string reason;  // one line rendered from the numbers below (render_reason)
    TimePoint at;        // tick this assessment is for
    TimePoint since;     // when the path entered this verdict

    // Over the latency window (the last few ticks).
    std::size_t window_ticks = 0;
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;
    Duration p50{0};
    Duration p99{0};
    Duration max_latency{0};
    std::uint32_t in_flight = 0;
    Duration heartbeat_latency{0};  // of the last finished probe
    // A heartbeat that fails (a short read, EIO) answers fast: it is failing, not stuck.
    std::uint64_t heartbeat_failures = 0;  // consecutive failed probes, 0 after a success
    std::string heartbeat_error;           // the last failed probe's error ("short read: ...")
    Duration heartbeat_pending{0};         // age of the probe outstanding now, if any

    // No-progress evidence, zero when there is progress.
    Duration kernel_stall{0};     // no successful completion while I/O was outstanding
    Duration heartbeat_stall{0};  // age of the pending (or failing) heartbeat probe
    Duration heartbeat_gap{0};    // since the last successful heartbeat (or the last proof of
                                  // life, if later), while pending/failing
    std::optional<Duration> heartbeat_since_success;  // the probe's real age since its success
    // What the path's recent service explains: the slowest completed I/O and the longest gap
    // between completions over the dead_after horizon.
    Duration explained_wait{0};
    // max(stall_after, warn_after, 2 x explained_wait), below dead_after: a wait shorter than
    // this is slowness (CONTENDED), longer is STALLED.
    Duration stall_threshold{0};
    bool kernel_witness = false;     // kernel no-progress >= stall_threshold
    bool heartbeat_witness = false;  // heartbeat no-progress >= stall_threshold
    bool proof_of_life = false;      // this tick had a completion / heartbeat / resync progress
    bool resync_advancing = false;
    // Ticks with proof of life since the last no-progress witness: leaving STALLED or DEAD
    // needs sustained service, not one completion.
    int progress_ticks = 0;
    Duration recovering_for{0};        // RECOVERING: progress since entering it
    std::optional<TimePoint> dead_at;  // when DEAD follows if nothing completes (fence-by)
    std::optional<StuckRequest> stuck_request;
    StorageFacts facts;  // what the storage-specific sources said this tick
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
    // Last tick outside a stall with anything at or above slow_io: CONTENDED is left once the
    // dead_after horizon holds none.
    std::optional<TimePoint> last_slow;
    int progress_ticks = 0;                     // see Assessment::progress_ticks
    std::optional<TimePoint> recovering_since;  // progress continuously since (RECOVERING)
    // Gaps between completions that ended, (end, length), over the dead_after horizon.
    std::vector<std::pair<TimePoint, Duration>> gaps;
    std::optional<TimePoint> stuck_reported;  // start of the stuck request last reported
    Duration episode_worst{0};                // longest no-progress of the current stall
    bool warned = false;                      // fence-imminent emitted for this episode
    std::string held_for;  // DEAD was held in this episode for this lower layer's own deadline
    // A no-progress episode that began before this process (kept across a restart): both
    // witnesses count from here until the first proof of life, or until nothing waits.
    std::optional<TimePoint> carried_since;
    int carried_idle_ticks = 0;  // consecutive ticks with nothing waiting, while carried
};

// The state of a path whose no-progress episode began at `since`, before the daemon started
// (a restart during a stall): the deadline stays where it was.
ClassifierState carried_episode(TimePoint since);

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
    bool stuck_request = false;   // a stuck request seen for the first time in this tick
};

// `window.latest()` is the tick being classified; `now` is its time.
Classification classify(const ClassifierState& previous, const EvidenceWindow& window,
                        const PathPolicy& policy, TimePoint now);

// Ticks of evidence the classifier looks back over (the dead_after horizon): the least a
// path's evidence window must hold.
std::size_t horizon_ticks(const Timings& t);

}  // namespace iohealth
