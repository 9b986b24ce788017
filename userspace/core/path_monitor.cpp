#include "core/path_monitor.h"

namespace iohealth {

// `result_id`: the request a step result answers (0 for a tick). Events about one request
// carry its id (ID=) so publishers can pair a step's start with its finish (D-Bus StepStarted /
// StepFinished); format_event() leaves fields out, so replay output does not change.
void append_escalation(TickOutput& out, const std::string& path,
                       std::vector<EscalationEvent> events, TimePoint at, std::uint64_t result_id) {
    for (auto& e : events) {
        Event event = event_for(path, e, at);
        const std::uint64_t id = e.request ? e.request->id : result_id;
        const bool step_result = e.kind == EscalationEventKind::kStepSucceeded ||
                                 e.kind == EscalationEventKind::kStepFailed;
        if (e.request || (step_result && id != 0))
            event.fields.emplace_back("ID", std::to_string(id));
        if (e.request) out.requests.push_back(*e.request);
        out.events.push_back(std::move(event));
    }
}

PathMonitor::PathMonitor(PathConfig config, std::size_t window_ticks)
    : config_(std::move(config)),
      window_(window_ticks),
      escalation_(config_.name, config_.policy) {}

TickOutput PathMonitor::tick(Sample sample, const EffectiveMode& mode) {
    const TimePoint now = sample.at;
    window_.push(std::move(sample));
    Classification c = classify(state_, window_, config_.policy, now);
    TickOutput out;
    out.events = events_for(config_.name, c);
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

}  // namespace iohealth
