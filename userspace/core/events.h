#pragma once
// Neutral event records: what publishers (journald, stdout, D-Bus, the recorder) are told.
// One type per alertable event, each with a fixed journald MESSAGE_ID (see
// systemd/iohealthd.catalog).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/classifier.h"
#include "core/escalation.h"
#include "core/mode.h"

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
};
std::string_view to_string(EventType t);
// 32 lowercase hex digits, as journald wants it.
std::string_view message_id(EventType t);

struct Event {
    EventType type;
    TimePoint at;
    int priority = 6;  // syslog scale: 2 crit .. 6 info
    std::string path;  // empty for daemon-wide events
    std::string message;
    // IOHEALTH_* fields without the prefix, in a fixed order (stable output for replays).
    std::vector<std::pair<std::string, std::string>> fields;

    // The value of field `key` (without the prefix), or null.
    const std::string* field(std::string_view key) const;
};

std::vector<Event> events_for(const std::string& path, const Classification& c);
Event event_for(const std::string& path, const EscalationEvent& e, TimePoint at);
Event event_for(const ModeChange& change, TimePoint at);

// One line, deterministic: "12.000 STALLED path=sda message... KEY=value ...".
std::string format_event(const Event& e);

}  // namespace iohealth
