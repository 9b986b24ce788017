#include "core/classifier.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

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
Heartbeat read_heartbeat(const HeartbeatEvidence& hb, const PathPolicy& policy, TimePoint now,
                         TimePoint previous_tick, std::optional<TimePoint> not_before) {
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

std::string describe_no_progress(const Assessment& a, const Heartbeat& h) {
    std::string s;
    if (a.kernel_stall > Duration{0})
        s = fmt::format("no completion for {} with {} in flight", format_duration(a.kernel_stall),
                        a.in_flight);
    if (h.stall > Duration{0}) {
        if (!s.empty()) s += "; ";
        s += h.since_success
                 ? fmt::format("heartbeat stuck {} (last success {} ago)", format_duration(h.stall),
                               format_duration(*h.since_success))
                 : fmt::format("heartbeat stuck {} (no success yet)", format_duration(h.stall));
    }
    return s;
}

// What the storage-specific sources know about the wait: which component holds the I/O,
// when the lower layer gives up on it by itself, whether the NFS server still answers.
// `stuck`: STALLED or DEAD, when a server that answers means this host's I/O is the problem.
std::string describe_facts(const StorageFacts& f, TimePoint now, bool stuck) {
    std::vector<std::string> parts;
    if (f.io_suspended)
        parts.push_back(f.suspended_reason.empty()
                            ? std::string("I/O suspended by the storage")
                            : fmt::format("I/O suspended ({})", f.suspended_reason));
    if (f.quorum_lost) parts.push_back("quorum lost");
    if (!f.waiting_on.empty()) {
        std::string w = "waiting on " + f.waiting_on;
        if (f.lower_layer_deadline) {
            const Duration left = *f.lower_layer_deadline - now;
            w += left > Duration{0}
                     ? fmt::format(", which gives up by itself in {}", format_duration(left))
                     : fmt::format(", which should have given up {} ago", format_duration(-left));
            if (!f.lower_layer_rule.empty()) w += fmt::format(" ({})", f.lower_layer_rule);
        }
        parts.push_back(std::move(w));
    }
    if (f.server_answering) {
        const std::string last =
            f.server_last_reply
                ? fmt::format("last reply {} ago",
                              format_duration(std::max(Duration{0}, now - *f.server_last_reply)))
                : std::string("no reply seen");
        if (!*f.server_answering)
            parts.push_back(fmt::format("server not answering ({})", last));
        else
            parts.push_back(stuck
                                ? fmt::format("server answers ({}): this host's I/O is stuck", last)
                                : fmt::format("server answers ({})", last));
    }
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
    return s;
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
    a.completed = window.completed_over(n);
    a.errors = window.errors_over(n);
    a.p50 = hist.percentile(0.50);
    a.p99 = hist.percentile(0.99);
    a.max_latency = hist.max();
    a.in_flight = k.in_flight;
    a.resync_advancing = s.facts.resync_advancing;

    // --- proof of life: any of these ends every no-progress episode ---
    const bool kernel_progress = k.available && (k.succeeded() > 0 || (degrade && k.completed > 0));
    const Heartbeat hb =
        read_heartbeat(s.heartbeat, policy, now, previous_tick, st.last_proof_of_life);
    a.proof_of_life = kernel_progress || hb.progress || a.resync_advancing;
    if (a.proof_of_life) st.last_proof_of_life = now;

    // --- kernel witness: outstanding or failing I/O with no successful completion ---
    const bool kernel_demand =
        k.available && (k.in_flight > 0 || (!degrade && k.errors.total() > 0));
    if (a.proof_of_life) {
        // Requests still outstanding after the last completion start a new episode there.
        st.kernel_stuck_since = k.in_flight > 0
                                    ? std::optional(std::min(k.last_completion.value_or(now), now))
                                    : std::nullopt;
        st.kernel_last_demand = kernel_demand ? std::optional(now) : std::nullopt;
    } else if (kernel_demand) {
        // First sight of a stuck request: its exact age if the source knows it, else "now"
        // (later than the truth, so a deadline is never reached early).
        if (!st.kernel_stuck_since)
            st.kernel_stuck_since = k.oldest_in_flight_age ? now - *k.oldest_in_flight_age : now;
        st.kernel_last_demand = now;
    } else if (st.kernel_last_demand && now - *st.kernel_last_demand > t.stall_after) {
        // Idle for longer than a stall: nothing is waiting, an old error is not a hang.
        st.kernel_stuck_since.reset();
        st.kernel_last_demand.reset();
    }
    if (st.kernel_stuck_since) a.kernel_stall = now - *st.kernel_stuck_since;

    Heartbeat stuck_hb = hb;
    if (a.proof_of_life) {
        stuck_hb = Heartbeat{};
        stuck_hb.present = hb.present;
        stuck_hb.progress = hb.progress;
    }
    a.heartbeat_stall = stuck_hb.stall;
    a.heartbeat_gap = stuck_hb.gap;

    // --- thresholds ---
    // A gap without completions is only a stall once it is clearly longer than the slowest
    // recent I/O: under 3 s contention a 2 s gap is normal, after 5 ms completions it is not.
    // The slowest recent I/O is looked for over the dead_after horizon and in the heartbeat's
    // last latency: at the onset of a slowdown the gaps between completions outlast the
    // latency window, which would then hold no completion and drop the threshold to 2 ticks.
    const Duration slowest = std::max({a.max_latency, s.heartbeat.last_latency,
                                       window.latency_over(ticks_in(t.dead_after, t)).max()});
    a.stall_threshold = std::min(t.stall_after, std::max(2 * t.tick, 2 * slowest));
    a.kernel_witness = a.kernel_stall > Duration{0} && a.kernel_stall >= a.stall_threshold;
    a.heartbeat_witness = a.heartbeat_stall > Duration{0} && a.heartbeat_stall >= a.stall_threshold;

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

    // --- contention hysteresis: enter after N slow ticks, leave after recover_after calm ---
    // A request or probe waiting while other I/O completes is no stall, but it is slowness.
    // Without completions a wait is a stall candidate instead, judged by the stall threshold.
    const Duration worst_wait = a.proof_of_life ? std::max(a.kernel_stall, hb.stall) : Duration{0};
    const Duration hb_latency = s.heartbeat.last_latency;
    const bool slow = a.p99 >= t.slow_io || hb_latency >= t.slow_io || worst_wait >= t.slow_io;
    const bool calm =
        a.p99 < t.slow_io / 2 && hb_latency < t.slow_io / 2 && worst_wait < t.slow_io / 2;
    st.slow_ticks = slow ? st.slow_ticks + 1 : 0;
    if (calm) {
        if (!st.calm_since) st.calm_since = now;
    } else {
        st.calm_since.reset();
    }

    // --- the verdict ---
    const Verdict prev = st.verdict;
    Verdict v;
    std::string reason;
    if (dead || (prev == Verdict::kDead && !a.proof_of_life)) {
        v = Verdict::kDead;
        reason = fmt::format("no progress past dead_after {} ({} witnesses): {}",
                             format_duration(t.dead_after), to_string(policy.witnesses),
                             describe_no_progress(a, stuck_hb));
    } else if (a.kernel_witness || a.heartbeat_witness) {
        v = Verdict::kStalled;
        reason = fmt::format("{} (stall threshold {})", describe_no_progress(a, stuck_hb),
                             format_duration(a.stall_threshold));
        if (a.dead_at)
            reason +=
                fmt::format("; DEAD in {} if nothing completes", format_duration(*a.dead_at - now));
        else if (both)
            reason += "; one witness only, DEAD needs both";
    } else if (stalled_or_dead(prev) || (prev == Verdict::kRecovering && st.recovering_since &&
                                         now - *st.recovering_since < t.recover_after)) {
        if (prev != Verdict::kRecovering) st.recovering_since = now;
        v = Verdict::kRecovering;
        reason = fmt::format("progress resumed: {} completions in {} ticks; stable for {} of {}",
                             a.completed, n, format_duration(now - *st.recovering_since),
                             format_duration(t.recover_after));
    } else if (a.errors > 0) {
        v = Verdict::kDegraded;
        reason =
            fmt::format("{} errors among {} completions in {} ticks", a.errors, a.completed, n);
    } else if ((prev == Verdict::kContended &&
                !(st.calm_since && now - *st.calm_since >= t.recover_after)) ||
               st.slow_ticks >= policy.contended_enter_ticks) {
        v = Verdict::kContended;
        reason = fmt::format(
            "slow but progressing: p99 {} (slow_io {}), heartbeat {}, {} completions in {} ticks",
            format_duration(a.p99), format_duration(t.slow_io), format_duration(hb_latency),
            a.completed, n);
    } else {
        v = Verdict::kHealthy;
        reason = fmt::format("{} completions in {} ticks, p99 {}, heartbeat {}", a.completed, n,
                             format_duration(a.p99), format_duration(hb_latency));
    }
    if (a.resync_advancing) reason += "; resync advancing (proof of life)";
    if (const std::string facts = describe_facts(s.facts, now, stalled_or_dead(v));
        !facts.empty() && (v != Verdict::kHealthy || a.in_flight > 0 || s.facts.io_suspended))
        reason += "; " + facts;
    if (!s.facts.note.empty()) reason += "; " + s.facts.note;
    if (const std::string vms = describe_vm_facts(s.facts); !vms.empty()) reason += "; " + vms;

    Classification out;
    out.previous = prev;
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
    a.reason = std::move(reason);
    out.state = std::move(st);
    out.assessment = std::move(a);
    return out;
}

}  // namespace iohealth
