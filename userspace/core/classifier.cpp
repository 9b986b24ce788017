#include "core/classifier.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/verdict_reason.h"

namespace iohealth {
namespace {

// Ticks over which latency and errors are judged: long enough to smooth one odd tick, short
// enough that the verdict follows the storage within seconds.
std::size_t ticks_in(Duration d, const Timings& t) {
    const auto n = t.tick.count() > 0 ? d / t.tick : 1;
    return static_cast<std::size_t>(std::max<std::int64_t>(3, n));
}

std::size_t latency_window_ticks(const Timings& t) {
    return ticks_in(t.stall_after, t);
}

bool stalled_or_dead(Verdict v) {
    return v == Verdict::kStalled || v == Verdict::kDead;
}

struct Heartbeat {
    bool present = false;
    Duration stall{0};  // age of the pending or failing episode
    Duration gap{0};    // since the last success, while stuck
    std::optional<TimePoint> gap_start;
    std::optional<Duration> since_success;  // for the reason text: the real age
    bool progress = false;                  // a probe succeeded during this tick
};

// `not_before`: the last proof of life. A probe queued behind slow I/O that still completes
// is waiting on contention, not on a dead path: its episode cannot start before that.
// `carried`: an episode kept across a restart, the earliest the probe's episode can start.
Heartbeat read_heartbeat(const HeartbeatEvidence& hb, const PathPolicy& policy, TimePoint now,
                         TimePoint previous_tick, std::optional<TimePoint> not_before,
                         std::optional<TimePoint> carried) {
    Heartbeat h;
    h.present = hb.state != ProbeState::kAbsent;
    if (!h.present) return h;
    h.progress = hb.last_success && *hb.last_success > previous_tick;
    std::optional<TimePoint> episode;
    if (hb.state == ProbeState::kPending) episode = hb.pending_since;
    // Under `errors = degrade` a failing probe is an answer from the storage, not silence.
    if (hb.last_failed && hb.failing_since && policy.errors == ErrorPolicy::kFence)
        episode = episode ? std::min(*episode, *hb.failing_since) : *hb.failing_since;
    if (!episode) return h;
    if (carried && !h.progress) episode = std::min(*episode, *carried);
    TimePoint gap_start = hb.last_success ? *hb.last_success : *episode;
    if (hb.last_success) h.since_success = now - std::min(*hb.last_success, now);
    if (not_before) {
        episode = std::max(*episode, *not_before);
        gap_start = std::max(gap_start, *not_before);
    }
    // Sources stamp with their own clock reads, which may fall just after the tick's time.
    episode = std::min(*episode, now);
    gap_start = std::min(gap_start, now);
    h.stall = now - *episode;
    h.gap_start = gap_start;
    h.gap = now - gap_start;
    return h;
}

// A lower layer that ends a wait by itself (DRBD dropping a silent peer and continuing
// locally) must get the chance to: fencing first would reboot a host whose disk is fine.
// The wait is honoured up to one more dead_after, so a layer that never gives up cannot hold
// the fence off for ever.
std::optional<TimePoint> lower_layer_hold(const StorageFacts& f, const Timings& t,
                                          std::optional<TimePoint> dead_at) {
    if (!f.lower_layer_deadline || !dead_at) return std::nullopt;
    const TimePoint hold = std::min(*f.lower_layer_deadline + t.tick, *dead_at + t.dead_after);
    return hold > *dead_at ? std::optional(hold) : std::nullopt;
}

}  // namespace

Classification classify(const ClassifierState& previous, const EvidenceWindow& window,
                        const PathPolicy& policy, TimePoint now) {
    const Timings& t = policy.timings;
    const Sample& s = window.latest();
    const KernelEvidence& k = s.kernel;
    const bool degrade = policy.errors == ErrorPolicy::kDegrade;
    const Duration horizon = t.dead_after;

    ClassifierState st = previous;
    if (!st.started) {
        st.started = true;
        st.verdict = Verdict::kHealthy;
        st.since = now;
    }
    const TimePoint previous_tick =
        window.size() >= 2 ? window.ticks()[window.size() - 2].at : now - t.tick;

    Assessment a;
    a.at = now;
    const auto n = latency_window_ticks(t);
    const LatencyHistogram hist = window.latency_over(n);
    a.window_ticks = n;
    a.completed = window.completed_over(n);
    a.errors = window.errors_over(n);
    a.p50 = hist.percentile(0.50);
    a.p99 = hist.percentile(0.99);
    a.max_latency = hist.max();
    a.in_flight = k.in_flight;
    a.heartbeat_latency = s.heartbeat.last_latency;
    if (s.heartbeat.last_failed) {
        a.heartbeat_failures = s.heartbeat.failures;
        a.heartbeat_error = s.heartbeat.last_error;
    }
    if (s.heartbeat.state == ProbeState::kPending && s.heartbeat.pending_since)
        a.heartbeat_pending = now - std::min(*s.heartbeat.pending_since, now);
    a.resync_advancing = s.facts.resync_advancing;
    a.facts = s.facts;

    // --- proof of life: any of these ends every no-progress episode ---
    const bool kernel_progress = k.available && (k.succeeded() > 0 || (degrade && k.completed > 0));
    const Heartbeat hb = read_heartbeat(s.heartbeat, policy, now, previous_tick,
                                        st.last_proof_of_life, st.carried_since);
    a.proof_of_life = kernel_progress || hb.progress || a.resync_advancing;
    if (a.proof_of_life) st.last_proof_of_life = now;

    // --- kernel witness: outstanding or failing I/O with no successful completion ---
    const bool kernel_demand =
        k.available && (k.in_flight > 0 || (!degrade && k.errors.total() > 0));
    if (a.proof_of_life) {
        // A gap between completions that ends here is part of the path's service pattern.
        if (st.kernel_stuck_since && now - *st.kernel_stuck_since > t.tick)
            st.gaps.emplace_back(now, now - *st.kernel_stuck_since);
        // Requests still outstanding after the last completion start a new episode there.
        st.kernel_stuck_since = k.in_flight > 0
                                    ? std::optional(std::min(k.last_completion.value_or(now), now))
                                    : std::nullopt;
        st.kernel_last_demand = kernel_demand ? std::optional(now) : std::nullopt;
    } else if (kernel_demand) {
        // First sight of a stuck request: its exact age if the source knows it, else "now"
        // (later than the truth, so a deadline is never reached early), or the start of an
        // episode kept across a restart.
        if (!st.kernel_stuck_since) {
            TimePoint seen = k.oldest_in_flight_age ? now - *k.oldest_in_flight_age : now;
            if (st.carried_since) seen = std::min(seen, *st.carried_since);
            st.kernel_stuck_since = seen;
        }
        st.kernel_last_demand = now;
    } else if (st.kernel_last_demand && now - *st.kernel_last_demand > t.stall_after) {
        // Idle for longer than a stall: nothing is waiting, an old error is not a hang.
        st.kernel_stuck_since.reset();
        st.kernel_last_demand.reset();
    }
    if (st.kernel_stuck_since) a.kernel_stall = now - *st.kernel_stuck_since;
    // A kept episode ends with the first proof of life, or when nothing waits for a stall's
    // length (the heartbeat's next probe would be waiting by then).
    if (st.carried_since) {
        const bool idle = !kernel_demand && hb.stall == Duration{0};
        st.carried_idle_ticks = idle ? st.carried_idle_ticks + 1 : 0;
        if (a.proof_of_life || st.carried_idle_ticks > static_cast<int>(latency_window_ticks(t)))
            st.carried_since.reset();
    }
    std::erase_if(st.gaps, [&](const auto& g) { return now - g.first > horizon; });

    Heartbeat stuck_hb = hb;
    if (a.proof_of_life) {
        stuck_hb = Heartbeat{};
        stuck_hb.present = hb.present;
        stuck_hb.progress = hb.progress;
    }
    a.heartbeat_stall = stuck_hb.stall;
    a.heartbeat_gap = stuck_hb.gap;
    a.heartbeat_since_success = stuck_hb.since_success;

    // --- thresholds ---
    // A wait without completions is a stall only once it is clearly longer than the path's
    // recent service explains: the slowest I/O completed and the longest gap between
    // completions over the dead_after horizon (the heartbeat's last latency too), doubled.
    // And never before warn_after: I/O of any latency below the dead deadline is contention,
    // and the first wait of a contention cannot be told from a hang, so STALLED means "a
    // fence comes next". Capped two ticks before dead_after so STALLED precedes DEAD.
    Duration longest_gap{0};
    for (const auto& g : st.gaps) longest_gap = std::max(longest_gap, g.second);
    a.explained_wait = std::max({a.max_latency, s.heartbeat.last_latency, longest_gap,
                                 window.latency_over(horizon_ticks(t)).max()});
    const Duration floor = t.warn_after;
    const Duration cap = std::max(floor, t.dead_after - 2 * t.tick);
    a.stall_threshold = std::clamp(2 * a.explained_wait, floor, cap);
    a.kernel_witness = a.kernel_stall > Duration{0} && a.kernel_stall >= a.stall_threshold;
    a.heartbeat_witness = a.heartbeat_stall > Duration{0} && a.heartbeat_stall >= a.stall_threshold;
    const bool witness = a.kernel_witness || a.heartbeat_witness;
    if (witness)
        st.progress_ticks = 0;
    else if (a.proof_of_life)
        ++st.progress_ticks;
    a.progress_ticks = st.progress_ticks;

    const bool kernel_dead = a.kernel_stall >= t.dead_after && a.kernel_stall > Duration{0};
    const bool hb_dead = stuck_hb.stall > Duration{0} && a.heartbeat_gap >= t.dead_after;
    const bool both = policy.witnesses == DeadWitnesses::kBoth;
    bool dead = both ? (kernel_dead && hb_dead) : (kernel_dead || hb_dead);

    // How far the path has come toward DEAD, and when it gets there if nothing completes.
    Duration toward_dead{0};
    std::optional<TimePoint> kernel_dead_at, hb_dead_at;
    if (st.kernel_stuck_since) kernel_dead_at = *st.kernel_stuck_since + t.dead_after;
    if (stuck_hb.gap_start) hb_dead_at = *stuck_hb.gap_start + t.dead_after;
    if (both) {
        toward_dead = std::min(a.kernel_stall, a.heartbeat_gap);
        if (kernel_dead_at && hb_dead_at) a.dead_at = std::max(*kernel_dead_at, *hb_dead_at);
    } else {
        toward_dead = std::max(a.kernel_stall, a.heartbeat_gap);
        if (kernel_dead_at && hb_dead_at)
            a.dead_at = std::min(*kernel_dead_at, *hb_dead_at);
        else
            a.dead_at = kernel_dead_at ? kernel_dead_at : hb_dead_at;
    }
    if (const auto hold = lower_layer_hold(s.facts, t, a.dead_at)) {
        a.dead_at = hold;
        if (now < *hold && dead) st.held_for = s.facts.waiting_on;
        if (now < *hold) dead = false;
    }

    // --- slowness: a slow p99 or heartbeat, or a wait below the stall threshold ---
    const Duration worst_wait = std::max(a.kernel_stall, hb.stall);
    const Duration hb_latency = s.heartbeat.last_latency;
    const bool slow = a.p99 >= t.slow_io || hb_latency >= t.slow_io || worst_wait >= t.slow_io;
    // After a stall only waits count: the latencies of the backlog it released are the
    // stall's, not contention.
    const bool after_stall = stalled_or_dead(st.verdict) || st.verdict == Verdict::kRecovering;
    st.slow_ticks = (after_stall ? worst_wait >= t.slow_io : slow) ? st.slow_ticks + 1 : 0;

    // --- the verdict ---
    const Verdict prev = st.verdict;
    // Out of STALLED or DEAD only on sustained service, or when nothing waits any more.
    const bool unrecovered =
        st.progress_ticks < kSustainedProgressTicks && (kernel_demand || hb.stall > Duration{0});
    Verdict v;
    if (dead || (prev == Verdict::kDead && unrecovered)) {
        v = Verdict::kDead;
    } else if (witness || (prev == Verdict::kStalled && unrecovered)) {
        v = Verdict::kStalled;
    } else if (stalled_or_dead(prev) || (prev == Verdict::kRecovering && st.recovering_since &&
                                         now - *st.recovering_since < t.recover_after)) {
        if (prev != Verdict::kRecovering) st.recovering_since = now;
        v = Verdict::kRecovering;
        a.recovering_for = now - *st.recovering_since;
    } else if (a.errors > 0) {
        v = Verdict::kDegraded;
    } else if ((prev == Verdict::kContended && st.last_slow && now - *st.last_slow < horizon) ||
               st.slow_ticks >= policy.contended_enter_ticks) {
        v = Verdict::kContended;
    } else {
        v = Verdict::kHealthy;
    }
    // What holds CONTENDED: slowness as sustained as it takes to enter it (one odd tick is
    // noise), outside a stall (the backlog a stall releases is the stall's, not contention).
    if (!stalled_or_dead(v) && v != Verdict::kRecovering &&
        st.slow_ticks >= policy.contended_enter_ticks)
        st.last_slow = now;

    Classification out;
    out.previous = prev;
    // --- a stuck request: far older than everything completing around it ---
    // Older than dead_after (a whole path that old would be fenced) and than twice the slowest
    // recent completion, while the others complete: reported once per request, never a stall
    // (the no-progress episode restarts at every completion).
    if (k.oldest_in_flight_age && a.completed > 0 && !stalled_or_dead(v)) {
        const Duration slowest = window.latency_over(horizon_ticks(t)).max();
        const Duration threshold = std::max(t.dead_after, 2 * slowest);
        if (*k.oldest_in_flight_age >= threshold) {
            a.stuck_request = StuckRequest{*k.oldest_in_flight_age, k.oldest_in_flight_direction,
                                           k.in_flight, threshold};
            const TimePoint started = now - *k.oldest_in_flight_age;
            const bool same =
                st.stuck_reported && std::chrono::abs(started - *st.stuck_reported) <= t.tick;
            if (!same) {
                st.stuck_reported = started;
                out.stuck_request = true;
            }
        }
    }
    // --- near misses and warnings belong to the no-progress episode ---
    if (v == Verdict::kStalled || v == Verdict::kDead) {
        st.episode_worst = std::max(st.episode_worst, toward_dead);
        if (!st.warned && toward_dead >= t.warn_after) {
            st.warned = true;
            out.fence_imminent = v == Verdict::kStalled;
        }
    } else {
        if (prev == Verdict::kStalled && st.episode_worst >= t.warn_after)
            out.near_miss = NearMiss{st.episode_worst, t.dead_after, st.held_for};
        st.episode_worst = Duration{0};
        st.warned = false;
        st.held_for.clear();
    }
    if (v != Verdict::kRecovering) st.recovering_since.reset();

    out.verdict_changed = v != prev;
    if (out.verdict_changed) st.since = now;
    st.verdict = v;
    a.verdict = v;
    a.since = st.since;
    a.reason = render_reason(a, policy);
    out.state = std::move(st);
    out.assessment = std::move(a);
    return out;
}

ClassifierState carried_episode(TimePoint since) {
    ClassifierState st;
    st.carried_since = since;
    return st;
}

std::size_t horizon_ticks(const Timings& t) {
    return ticks_in(t.dead_after, t);
}

}  // namespace iohealth
