#include "core/path_monitor.h"

#include <algorithm>

namespace iohealth {

// `result_id`: the request a step result answers (0 for a tick).
void append_escalation(TickOutput& out, const std::string& path,
                       std::vector<EscalationEvent> events, TimePoint at, std::uint64_t result_id) {
    for (auto& e : events) {
        out.events.push_back(event_for(path, e, at, result_id));
        if (e.request) out.requests.push_back(*e.request);
    }
}

PathMonitor::PathMonitor(PathConfig config, std::size_t window_ticks)
    : config_(std::move(config)),
      window_(std::max(window_ticks, horizon_ticks(config_.policy.timings) + 1)),
      escalation_(config_.name, config_.policy) {}

TickOutput PathMonitor::tick(Sample sample, const EffectiveMode& mode) {
    const TimePoint now = sample.at;
    window_.push(std::move(sample));
    Classification c = classify(state_, window_, config_.policy, now);
    TickOutput out;
    out.events = events_for(config_.name, c, config_.target);
    state_ = std::move(c.state);
    assessment_ = std::move(c.assessment);
    append_escalation(out, config_.name, escalation_.on_assessment(assessment_, mode, now), now);
    return out;
}

TickOutput PathMonitor::on_result(const ActionResult& result, TimePoint now) {
    TickOutput out;
    append_escalation(out, config_.name, escalation_.on_result(result, now), now, result.id);
    return out;
}

void PathMonitor::carry_episode(TimePoint since, std::optional<LadderPosition> ladder) {
    state_ = carried_episode(since);
    if (ladder) escalation_.resume(*ladder);
}

std::optional<TimePoint> PathMonitor::episode_since() const {
    const Duration waited = std::max(assessment_.kernel_stall, assessment_.heartbeat_gap);
    if (waited <= Duration{0}) return std::nullopt;
    return assessment_.at - waited;
}

}  // namespace iohealth
