#include "core/host_ladder.h"

#include <algorithm>

namespace iohealth {

HostLadder::HostLadder(std::string name, PathPolicy policy, std::string reason, TimePoint requested)
    : name_(std::move(name)), policy_(std::move(policy)), escalation_(name_, policy_) {
    dead_.verdict = Verdict::kDead;
    dead_.reason = std::move(reason);
    dead_.since = requested;
}

TickOutput HostLadder::tick(const EffectiveMode& mode, TimePoint now) {
    TickOutput out;
    if (finished_) return out;
    dead_.at = now;
    auto events = escalation_.on_assessment(dead_, mode, now);
    finished_ = std::any_of(events.begin(), events.end(), [](const EscalationEvent& e) {
        return e.kind == EventType::kEscalationExhausted || e.kind == EventType::kFenceSuppressed;
    });
    append_escalation(out, name_, std::move(events), now);
    pending_ += out.requests.size();
    return out;
}

TickOutput HostLadder::on_result(const ActionResult& result, TimePoint now) {
    TickOutput out;
    auto events = escalation_.on_result(result, now);
    if (!events.empty()) --pending_;  // a result is reported once, and only for our requests
    append_escalation(out, name_, std::move(events), now, result.id);
    return out;
}

}  // namespace iohealth
