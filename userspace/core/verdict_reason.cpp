#include "core/verdict_reason.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace iohealth {
namespace {

bool stalled_or_dead(Verdict v) {
    return v == Verdict::kStalled || v == Verdict::kDead;
}

// The heartbeat's side of a stall. A probe outstanding for longer than the cadence it is
// started at is stuck; probes that keep finishing with an error (a short read from a detached
// loop device, EIO) are failing, however long the episode.
std::string describe_heartbeat(const Assessment& a, const PathPolicy& policy) {
    const std::string last_success =
        a.heartbeat_since_success
            ? fmt::format("last success {} ago", format_duration(*a.heartbeat_since_success))
            : std::string("no success yet");
    if (a.heartbeat_failures > 0 && a.heartbeat_pending < policy.timings.probe_interval)
        return fmt::format("heartbeat failing {} ({} failed probe{}, the last in {}: {}; {})",
                           format_duration(a.heartbeat_stall), a.heartbeat_failures,
                           a.heartbeat_failures == 1 ? "" : "s",
                           format_duration(a.heartbeat_latency), a.heartbeat_error, last_success);
    return fmt::format("heartbeat stuck {} ({})", format_duration(a.heartbeat_stall), last_success);
}

std::string describe_no_progress(const Assessment& a, const PathPolicy& policy) {
    std::string s;
    if (a.kernel_stall > Duration{0})
        s = fmt::format("no completion for {} with {} in flight", format_duration(a.kernel_stall),
                        a.in_flight);
    if (a.heartbeat_stall > Duration{0}) {
        if (!s.empty()) s += "; ";
        s += describe_heartbeat(a, policy);
    }
    return s;
}

std::string dead_in(const Assessment& a, const PathPolicy& policy) {
    if (a.dead_at)
        return fmt::format("; DEAD in {} if nothing completes", format_duration(*a.dead_at - a.at));
    if (policy.witnesses == DeadWitnesses::kBoth) return "; one witness only, DEAD needs both";
    return "";
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

std::string describe_verdict(const Assessment& a, const PathPolicy& policy) {
    const Timings& t = policy.timings;
    const bool witness = a.kernel_witness || a.heartbeat_witness;
    const auto held = [&] {
        return fmt::format("{} completions in {} ticks; {} of {} ticks with progress to recover",
                           a.completed, a.window_ticks, a.progress_ticks, kSustainedProgressTicks);
    };
    switch (a.verdict) {
        case Verdict::kDead:
            if (a.proof_of_life || (!witness && a.progress_ticks > 0))
                return "progress after DEAD: " + held();
            return fmt::format("no progress past dead_after {} ({} witnesses): {}",
                               format_duration(t.dead_after), to_string(policy.witnesses),
                               describe_no_progress(a, policy));
        case Verdict::kStalled:
            if (!witness) return "progress after the stall: " + held();
            return fmt::format("{} (stall threshold {}){}", describe_no_progress(a, policy),
                               format_duration(a.stall_threshold), dead_in(a, policy));
        case Verdict::kRecovering:
            return fmt::format("progress resumed: {} completions in {} ticks; stable for {} of {}",
                               a.completed, a.window_ticks, format_duration(a.recovering_for),
                               format_duration(t.recover_after));
        case Verdict::kDegraded:
            return fmt::format("{} errors among {} completions in {} ticks", a.errors, a.completed,
                               a.window_ticks);
        case Verdict::kContended:
            if (!a.proof_of_life &&
                (a.kernel_stall > Duration{0} || a.heartbeat_stall > Duration{0}))
                return fmt::format("waiting: {} (stall threshold {}){}",
                                   describe_no_progress(a, policy),
                                   format_duration(a.stall_threshold), dead_in(a, policy));
            return fmt::format(
                "slow but progressing: p99 {} (slow_io {}), heartbeat {}, {} completions in {} "
                "ticks",
                format_duration(a.p99), format_duration(t.slow_io),
                format_duration(a.heartbeat_latency), a.completed, a.window_ticks);
        case Verdict::kHealthy:
            break;
    }
    // No per-tick numbers: the Reason property signals its changes, and an idle path must not
    // signal every tick (the latencies are in the evidence and the explain document).
    return fmt::format("I/O completing within slow_io {}", format_duration(t.slow_io));
}

}  // namespace

std::string render_reason(const Assessment& a, const PathPolicy& policy) {
    std::string reason = describe_verdict(a, policy);
    if (a.stuck_request) {
        const StuckRequest& r = *a.stuck_request;
        reason += fmt::format(
            "; stuck request: a {}request outstanding {} while the others "
            "complete",
            r.direction ? std::string(to_string(*r.direction)) + " " : "", format_duration(r.age));
    }
    if (a.resync_advancing) reason += "; resync advancing (proof of life)";
    if (const std::string facts = describe_facts(a.facts, a.at, stalled_or_dead(a.verdict));
        !facts.empty() &&
        (a.verdict != Verdict::kHealthy || a.in_flight > 0 || a.facts.io_suspended))
        reason += "; " + facts;
    // Said on every verdict: the path no longer reads the device it was set up on.
    if (const std::string device = describe_device(a.facts.device_fate, a.facts.device_detail);
        !device.empty())
        reason += "; " + device;
    if (!a.facts.note.empty()) reason += "; " + a.facts.note;
    if (const std::string vms = describe_vm_facts(a.facts); !vms.empty()) reason += "; " + vms;
    return reason;
}

}  // namespace iohealth
