#include "daemon/bus_sink.h"

#include <spdlog/spdlog.h>

#include <sdbus-c++/Error.h>

namespace iohealth {
namespace {

std::string text(const Event& e, std::string_view key) {
    const std::string* v = e.field(key);
    return v ? *v : std::string();
}
std::uint64_t number(const Event& e, std::string_view key) {
    const std::string* v = e.field(key);
    return v ? std::stoull(*v) : 0;
}

}  // namespace

void BusSink::emit(const Event& e) {
    try {
        switch (e.type) {
            case EventType::kVerdictChanged:
                service_.emit_verdict_changed(e.path, text(e, "OLD_VERDICT"), text(e, "VERDICT"),
                                              text(e, "REASON"));
                break;
            case EventType::kEscalationStarted:
                service_.emit_escalation_started(e.path, text(e, "DETAIL"));
                break;
            case EventType::kStepStarted:
                // Only events about a request (ID=) pair with a StepFinished; the journal-only
                // record the sysrq step writes just before the reboot has none.
                if (!e.field("ID")) break;
                service_.emit_step_started(e.path, number(e, "ID"), int(number(e, "STEP")),
                                           text(e, "ACTION"), text(e, "DRY_RUN") == "1");
                break;
            case EventType::kStepSucceeded:
            case EventType::kStepFailed:
                service_.emit_step_finished(e.path, number(e, "ID"), int(number(e, "STEP")),
                                            text(e, "ACTION"), e.type == EventType::kStepSucceeded,
                                            text(e, "DETAIL"));
                break;
            case EventType::kEscalationAverted:
                service_.emit_escalation_averted(e.path, text(e, "DETAIL"));
                break;
            default:
                break;
        }
    } catch (const std::exception& x) {
        // The journal has the event; a bus hiccup must not stop the loop.
        spdlog::warn("Failed to send the {} signal for '{}': {}, ignoring", to_string(e.type),
                     e.path, x.what());
    }
}

}  // namespace iohealth
