#include "daemon/bus_sink.h"

#include "dbus/service.h"

namespace iohealth {
namespace {

std::string action_text(const LadderChange& l) {
    return l.action ? std::string(to_string(*l.action)) : std::string();
}

}  // namespace

void BusSink::emit(const Event& e) {
    const LadderChange* ladder = e.ladder();
    // The journal has the event; a bus hiccup must not stop the loop (BusLink logs it).
    const auto send = [&](const std::function<void(BusService&)>& signal) {
        bus_.with_service(to_string(e.type).data(), signal);
    };
    switch (e.type) {
        case EventType::kVerdictChanged:
            if (const auto* v = std::get_if<VerdictChange>(&e.payload))
                send([&](BusService& s) {
                    s.emit_verdict_changed(e.path, std::string(to_string(v->previous)),
                                           std::string(to_string(v->assessment.verdict)),
                                           v->assessment.reason);
                });
            break;
        case EventType::kEscalationStarted:
            if (ladder)
                send([&](BusService& s) {
                    s.emit_escalation_started(e.path, ladder->detail.value_or(""));
                });
            break;
        case EventType::kStepStarted:
            // Only events about a request (an id) pair with a StepFinished; the journal-only
            // record the sysrq step writes just before the reboot has none.
            if (!ladder || !ladder->id) break;
            send([&](BusService& s) {
                s.emit_step_started(e.path, *ladder->id, ladder->step, action_text(*ladder),
                                    ladder->dry_run);
            });
            break;
        case EventType::kStepSucceeded:
        case EventType::kStepFailed:
            if (!ladder) break;
            send([&](BusService& s) {
                s.emit_step_finished(e.path, ladder->id.value_or(0), ladder->step,
                                     action_text(*ladder), e.type == EventType::kStepSucceeded,
                                     ladder->detail.value_or(""));
            });
            break;
        case EventType::kEscalationAverted:
            if (ladder)
                send([&](BusService& s) {
                    s.emit_escalation_averted(e.path, ladder->detail.value_or(""));
                });
            break;
        default:
            break;
    }
}

}  // namespace iohealth
