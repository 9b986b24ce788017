#include "sidebyside/peer_outcome.h"

#include <algorithm>

namespace iohealth::peer {

PeerOutcome simulate_peer(const std::vector<FaultStep>& steps, const PeerTimings& timings,
                          Duration warmup, Duration length, unsigned seed, bool shared) {
    const TimePoint origin = TimePoint{} + std::chrono::hours(1);
    const TimePoint end = origin + length;
    StorageModel storage(steps, origin, seed);
    PeerModel model(timings, origin - warmup);
    NeighbourWatch neighbours(origin);
    PeerOutcome out;
    // The attempt the loop waits for: when it ends (never: held past the end, or none) and how.
    constexpr TimePoint kNever = TimePoint::max();
    TimePoint pending_at = kNever;
    bool pending_ok = false;
    TimePoint now = origin - warmup;
    TimePoint next_check = origin;
    while (now <= end) {
        const PeerStep step = model.advance(now);
        if (step == PeerStep::kStartWrite) {
            const StorageModel::Outcome o = storage.write(now);
            pending_at = o.done.value_or(kNever);
            pending_ok = o.ok;
            continue;
        }
        if (step == PeerStep::kFence) {
            out.fence_at = *model.fenced_at() - origin;
            break;
        }
        TimePoint next = end + std::chrono::seconds(1);
        if (const auto wake = model.next_wakeup()) next = std::min(next, *wake);
        next = std::min(next, pending_at);
        // The neighbours look once a second, with whatever was written by then.
        while (next_check <= std::min(next, end)) {
            neighbours.check(model, next_check, !shared || storage.readable(next_check));
            next_check += std::chrono::seconds(1);
        }
        now = std::max(now, next);
        if (pending_at <= now) {
            model.write_done(pending_at, pending_ok, model.writes_started());
            pending_at = kNever;
        }
    }
    for (; next_check <= end; next_check += std::chrono::seconds(1))  // after a fence the
        neighbours.check(model, next_check, !shared || storage.readable(next_check));  // file ages
    out.neighbours_dead = neighbours.first_dead();
    out.log = model.log();
    return out;
}

}  // namespace iohealth::peer
