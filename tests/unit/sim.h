#pragma once
// A simulated path on the virtual clock for table-driven scenarios: the storage's behaviour
// per phase (healthy, contended, stalled, failing, idle) turned into the samples the real
// sources would report, including a heartbeat prober with one outstanding probe at a time.
#include <functional>
#include <string>
#include <vector>

#include "core/path_monitor.h"

namespace iohealth::test {

// kQueued: one slow request completes every 3 s and the heartbeat waits behind two of them.
// kServed and kHeld model each request of a steady load (`depth` outstanding, the heartbeat
// probe beside them, served in parallel): kServed completes each one after a latency drawn
// uniformly from the phase's range; under kHeld nothing completes until the phase ends, then
// everything held completes at once (a burst, or a hang that is released).
enum class Storage { kHealthy, kContended, kQueued, kStalled, kFailing, kIdle, kServed, kHeld };

struct Phase {
    Storage storage;
    Duration length;
    Duration latency_min{0};  // kServed: each request's latency is drawn from [min, max]
    Duration latency_max{0};
};

// A phase of kServed at `min`..`max` per request.
inline Phase served(Duration length, Duration min, Duration max) {
    return {Storage::kServed, length, min, max};
}

struct TimelineEntry {
    TimePoint at;
    Verdict verdict;
};

struct SimRun {
    std::vector<TimelineEntry> timeline;  // verdict changes
    std::vector<Event> events;
    std::vector<ActionRequest> requests;
    std::vector<Assessment> assessments;  // every tick

    std::vector<Event> of_type(EventType t) const;
    // First time the verdict became v at or after `from`.
    std::optional<TimePoint> first(Verdict v, TimePoint from = TimePoint{}) const;
    bool ever(Verdict v) const { return first(v).has_value(); }
    int changes_between(TimePoint from, TimePoint to) const;
};

// The base policy every scenario starts from (T = 10 s: stall 5 s, warn 20 s, dead 25 s),
// tweaked per test like chromium's BackoffEntry tests.
PathPolicy base_policy();

class Simulation {
  public:
    explicit Simulation(PathPolicy policy, Mode mode = Mode::kDryRun);

    // Results of executed requests: ok unless the action is listed in fail_actions.
    std::vector<Action> fail_actions;
    bool heartbeat = true;
    Duration base_latency = std::chrono::milliseconds(5);
    // kServed/kHeld: requests outstanding, and the first request issued at or after this time
    // never completes (lost by a driver) while the others go on.
    int depth = 4;
    std::optional<TimePoint> lose_request_at;

    SimRun run(const std::vector<Phase>& phases);
    // The samples a run would feed, one per tick, for driving other consumers (the Engine).
    std::vector<Sample> samples(const std::vector<Phase>& phases);
    ModeState& mode() { return mode_; }
    // Called at each tick before the sample is fed (e.g. to change the mode mid-run).
    std::function<void(TimePoint, ModeState&)> on_tick;
    // Sets what a storage-specific source (DRBD, NFS) would report at each tick.
    std::function<void(TimePoint, StorageFacts&)> facts;

  private:
    struct Request {
        TimePoint start;
        std::optional<TimePoint> due;  // none: held (kHeld) or lost
        bool lost = false;
        bool write = false;
    };

    Sample sample(const Phase& phase, TimePoint now);
    void begin(const Phase& phase);
    void serve(const Phase& phase, TimePoint now, Sample& out);
    std::optional<TimePoint> due_for(const Phase& phase, TimePoint start);

    PathPolicy policy_;
    ModeState mode_;
    TimePoint now_{};
    // heartbeat prober state
    std::optional<TimePoint> last_success_;
    std::optional<TimePoint> pending_since_;
    std::optional<TimePoint> failing_since_;
    TimePoint next_probe_{};
    bool last_failed_ = false;
    std::uint64_t failures_ = 0;
    Duration last_latency_{0};
    // kServed/kHeld
    std::vector<Request> load_;
    std::optional<Request> probe_;
    std::uint64_t issued_ = 0;
    std::uint64_t rng_ = 0x9e3779b97f4a7c15ULL;  // fixed seed: every run is the same
};

}  // namespace iohealth::test
