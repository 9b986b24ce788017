#include "daemon/status.h"

#include <fmt/format.h>

#include "daemon/explain.h"
#include "sources/block/block_devices.h"

namespace iohealth {

std::string status_line(const std::string& mode, const std::vector<PathStatus>& paths) {
    std::map<std::string, int> by_verdict;  // name order: stable from tick to tick
    for (const auto& p : paths) ++by_verdict[p.verdict];
    std::string line =
        fmt::format("mode {}, {} path{}", mode, paths.size(), paths.size() == 1 ? "" : "s");
    const char* sep = ": ";
    for (const auto& [verdict, n] : by_verdict) {
        line += fmt::format("{}{} {}", sep, n, verdict);
        sep = ", ";
    }
    return line;
}

std::uint64_t realtime_ms_usec(TimePoint t) {
    return realtime_usec(t) / 1000 * 1000;
}

std::vector<PathSnapshot> project_status(const std::vector<std::unique_ptr<PathMonitor>>& monitors,
                                         const std::map<std::string, PathContext>& context,
                                         TimePoint now) {
    std::vector<PathSnapshot> out;
    for (const auto& monitor : monitors) {
        const PathMonitor& m = *monitor;
        const Assessment& a = m.assessment();
        const EscalationEngine& esc = m.escalation();
        const auto known = context.find(m.config().name);
        PathSnapshot snap;
        snap.config = m.config();
        snap.assessment = a;
        snap.window_ticks = m.window().size();
        if (!m.window().empty()) snap.latest = m.window().latest();
        snap.window_latency = m.window().latency_over(snap.window_ticks);
        snap.window_completed = m.window().completed_over(snap.window_ticks);
        snap.window_errors = m.window().errors_over(snap.window_ticks);
        snap.escalating = esc.active();
        snap.escalation_step = esc.active() ? esc.current_step() : 0;
        snap.next_step_at = esc.next_step_at();
        snap.taken_at = now;
        if (known != context.end() && known->second.dev)
            snap.device = format_dev(*known->second.dev);

        PathStatus& st = snap.status;
        st.name = m.config().name;
        st.kind = to_string(m.config().kind);
        st.target = m.config().target;
        st.verdict = to_string(a.verdict);
        st.reason = m.window().empty() ? "no evidence yet (first tick pending)" : a.reason;
        // The reboot guard is part of what the path's status says (bus, `iohealthctl status`).
        if (esc.reboots_held()) st.reason += "; reboot steps held: " + esc.reboot_hold();
        st.latency_p50_usec = std::uint64_t(a.p50.count());
        st.latency_p99_usec = std::uint64_t(a.p99.count());
        st.in_flight = a.in_flight;
        const auto& k = snap.latest.kernel;
        st.oldest_age_usec = std::uint64_t(
            (k.oldest_in_flight_age ? *k.oldest_in_flight_age : a.kernel_stall).count());
        const auto& hb = snap.latest.heartbeat;
        st.heartbeat_age_usec = std::uint64_t(
            (hb.last_success ? std::max(Duration{0}, snap.latest.at - *hb.last_success)
                             : a.heartbeat_gap)
                .count());
        st.errors = a.errors;
        st.escalation_step = snap.escalation_step;
        // The next ladder step while escalating, else, once STALLED, when DEAD follows if nothing
        // completes. Not before: a heartbeat a tick late on a busy host would otherwise set and
        // clear it (two PropertiesChanged) on a path that stays HEALTHY.
        const bool stalled = a.verdict == Verdict::kStalled || a.verdict == Verdict::kDead;
        const std::optional<TimePoint> fence_by =
            esc.active() ? snap.next_step_at : (stalled ? a.dead_at : std::nullopt);
        st.fence_by_usec = fence_by ? realtime_ms_usec(*fence_by) : 0;
        if (known != context.end()) st.vms = known->second.vms;
        out.push_back(std::move(snap));
    }
    return out;
}

}  // namespace iohealth
