#pragma once
// Neutral event records: what publishers (journald, stdout, D-Bus) are told. Built here only;
// each type carries its typed payload, which the publishers read (text only at the edges).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/classifier.h"
#include "core/escalation.h"
#include "core/event_type.h"
#include "core/mode.h"

namespace iohealth {

// What each type of event carries, typed; the journald sink turns it into IOHEALTH_* fields.
struct VerdictChange {  // kVerdictChanged
    Verdict previous = Verdict::kHealthy;
    Assessment assessment;
};
struct VerdictWarning {  // kFenceImminent
    Assessment assessment;
};
struct NearMissSeen {  // kNearMiss
    NearMiss near_miss;
    Assessment assessment;
};
struct StuckRequestSeen {  // kStuckRequest
    StuckRequest request;
    std::string device;  // the path's target (/dev/sdX, a DRBD resource, a mount point)
    Assessment assessment;
};
// kFenceDeclined: CloudStack's heartbeat fence request, declined because the pool's path
// progresses (cloudstack/fence_decision.h).
struct FenceDeclinedSeen {
    std::uint64_t id = 0;  // the request's id, as RequestHeartbeatFence replied
    std::string pool;      // what the drop-in named: "10.0.0.5:/export on /mnt/pool (...)"
    std::string path;      // the path whose evidence declined it
    std::string device;    // its target
    std::string detail;    // the sentence the caller got
    Assessment assessment;
};
// kEscalationStarted .. kEscalationExhausted: a path's ladder, a host ladder, or a RequestFence
// (step 0).
struct LadderChange {
    std::optional<Action> action;  // with `step`: the event is about one step
    int step = 0;                  // 1-based in a ladder; 0: a RequestFence
    bool dry_run = false;
    std::optional<std::string> detail;
    std::optional<std::uint64_t> id;  // the request a step is about: pairs start with finish
};
using EventPayload = std::variant<VerdictChange, VerdictWarning, NearMissSeen, LadderChange,
                                  ModeChange,  // kModeChanged
                                  StuckRequestSeen, FenceDeclinedSeen>;

// The guests an event affects, added by the daemon's VM sink.
struct EventVms {
    struct Vm {
        std::string name;
        std::string state;
    };
    std::vector<Vm> vms;
    bool host = false;  // the whole host's guests (a reboot), else the path's
    std::string known;  // "live", or how old the list is while libvirt is unreachable
};

struct Event {
    EventType type;
    TimePoint at;
    int priority = 6;  // syslog scale: 2 crit .. 6 info
    std::string path;  // empty for daemon-wide events
    std::string message;
    EventPayload payload;
    std::optional<EventVms> vms = std::nullopt;

    // The ladder payload, or null for the other types.
    const LadderChange* ladder() const { return std::get_if<LadderChange>(&payload); }
};

// `device`: the path's target, named by a stuck-request event.
std::vector<Event> events_for(const std::string& path, const Classification& c,
                              const std::string& device = "");
// `request_id`: the request an escalation event is about, when it carries none itself (a
// step's result); 0: none.
Event event_for(const std::string& path, const EscalationEvent& e, TimePoint at,
                std::uint64_t request_id = 0);
Event event_for(const ModeChange& change, TimePoint at);
// A RequestFence's start (kStepStarted) or result (kStepSucceeded/kStepFailed); `detail` is
// the caller's reason or the executor's detail.
Event request_event(EventType type, const ActionRequest& r, TimePoint at,
                    const std::string& detail);
Event fence_declined(const FenceDeclinedSeen& seen, TimePoint at);
// The record the sysrq reboot writes before the trigger: nothing after it is ever logged.
Event reboot_record(const ActionRequest& r, TimePoint at);

// One line, deterministic: "12.000 STALLED path=sda message... KEY=value ...".
std::string format_event(const Event& e);

}  // namespace iohealth
