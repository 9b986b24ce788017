#pragma once
// The kinds of event the daemon reports, one enum for the escalation engine and every
// publisher. Each has a fixed journald MESSAGE_ID (systemd/iohealthd.catalog).
#include <string_view>

namespace iohealth {

enum class EventType {
    kVerdictChanged,
    kFenceImminent,
    kNearMiss,
    kEscalationStarted,
    kStepStarted,
    kStepSucceeded,
    kStepFailed,
    kStepRateLimited,
    kEscalationAverted,
    kFenceSuppressed,
    kEscalationExhausted,
    kModeChanged,
    kStuckRequest,
    kFenceDeclined,
};
inline constexpr int kEventTypes = 14;
std::string_view to_string(EventType t);
// 32 lowercase hex digits, as journald wants it.
std::string_view message_id(EventType t);

}  // namespace iohealth
