#include "core/events.h"

#include <fmt/format.h>

#include "core/enum_table.h"

namespace iohealth {
namespace {

constexpr EnumTable<EventType, kEventTypes> kNames{{
    {EventType::kVerdictChanged, "verdict-changed"},
    {EventType::kFenceImminent, "fence-imminent"},
    {EventType::kNearMiss, "near-miss"},
    {EventType::kEscalationStarted, "escalation-started"},
    {EventType::kStepStarted, "step-started"},
    {EventType::kStepSucceeded, "step-succeeded"},
    {EventType::kStepFailed, "step-failed"},
    {EventType::kStepRateLimited, "step-rate-limited"},
    {EventType::kEscalationAverted, "escalation-averted"},
    {EventType::kFenceSuppressed, "fence-suppressed"},
    {EventType::kEscalationExhausted, "escalation-exhausted"},
    {EventType::kModeChanged, "mode-changed"},
    {EventType::kStuckRequest, "stuck-request"},
    {EventType::kFenceDeclined, "fence-declined"},
}};

// Generated once, never reused for another meaning: alert rules match on them.
constexpr EnumTable<EventType, kEventTypes> kMessageIds{{
    {EventType::kVerdictChanged, "3c5e1f6f0b8a4d6e9a2b7c41d0e8f512"},
    {EventType::kFenceImminent, "8a1d2c3b4e5f46a7b8c9d0e1f2a3b4c5"},
    {EventType::kNearMiss, "5b7e9d1c3a2f4e6d8c0b1a2f3e4d5c6b"},
    {EventType::kEscalationStarted, "7f3a9c2e1d4b4f6a8e0c2b4d6f8a1c3e"},
    {EventType::kStepStarted, "2e4c6a8b0d1f43a5b7c9e1d3f5a7b9c2"},
    {EventType::kStepSucceeded, "9d8c7b6a5f4e43d2c1b0a9f8e7d6c5b4"},
    {EventType::kStepFailed, "1a3c5e7f9b2d44f6a8c0e2b4d6f8a0c1"},
    {EventType::kStepRateLimited, "4f2d0b9e7c5a43e1f9d7b5c3a1e9f7d5"},
    {EventType::kEscalationAverted, "6c4a2e0f8d6b44a2c0e8f6d4b2a0c8e6"},
    {EventType::kFenceSuppressed, "0e2c4a6f8b1d43e5a7c9f1b3d5e7a9c0"},
    {EventType::kEscalationExhausted, "c2e4a6b8d0f243a5c7e9b1d3f5a7c9e1"},
    {EventType::kModeChanged, "b1d3f5a7c9e24b4d6f8a0c2e4b6d8f0a"},
    {EventType::kStuckRequest, "a8e7454ff00b4485975d8c1aaa8a6b8d"},
    {EventType::kFenceDeclined, "5d0f7c2a9e6b4c1d8a3f0e7b2c9d4a61"},
}};

int verdict_priority(Verdict v) {
    switch (v) {
        case Verdict::kDead:
            return 2;
        case Verdict::kStalled:
            return 3;
        case Verdict::kDegraded:
            return 4;
        // Contention is slowness the path explains, no incident: notice, never a page.
        case Verdict::kContended:
        case Verdict::kRecovering:
        case Verdict::kHealthy:
            return 5;
    }
    return 6;
}

}  // namespace

std::string_view to_string(EventType t) {
    return enum_name(kNames, t);
}
std::string_view message_id(EventType t) {
    return enum_name(kMessageIds, t);
}

std::vector<Event> events_for(const std::string& path, const Classification& c,
                              const std::string& device) {
    std::vector<Event> out;
    const Assessment& a = c.assessment;
    if (c.verdict_changed)
        out.push_back(
            {EventType::kVerdictChanged, a.at, verdict_priority(a.verdict), path,
             fmt::format("{} -> {}: {}", to_string(c.previous), to_string(a.verdict), a.reason),
             VerdictChange{c.previous, a}});
    if (c.fence_imminent)
        out.push_back({EventType::kFenceImminent, a.at, 3, path,
                       fmt::format("fence imminent: {}", a.reason), VerdictWarning{a}});
    if (c.near_miss)
        out.push_back(
            {EventType::kNearMiss, a.at, 4, path,
             fmt::format("near miss: no progress for {} of dead_after {}{}, then I/O completed",
                         format_duration(c.near_miss->stalled_for),
                         format_duration(c.near_miss->dead_after),
                         c.near_miss->held_for.empty()
                             ? std::string()
                             : fmt::format(" (DEAD held for {}, which gave up by itself)",
                                           c.near_miss->held_for)),
             NearMissSeen{*c.near_miss, a}});
    if (c.stuck_request && a.stuck_request) {
        const StuckRequest& r = *a.stuck_request;
        out.push_back(
            {EventType::kStuckRequest, a.at, 4, path,
             fmt::format("stuck request: a {}request outstanding {} while the others complete "
                         "({} in flight, p99 {}); not counted toward DEAD",
                         r.direction ? std::string(to_string(*r.direction)) + " " : "",
                         format_duration(r.age), r.in_flight, format_duration(a.p99)),
             StuckRequestSeen{r, device, a}});
    }
    return out;
}

Event event_for(const std::string& path, const EscalationEvent& x, TimePoint at,
                std::uint64_t request_id) {
    const bool real_fence =
        !x.dry_run && x.kind == EventType::kStepStarted && x.action != Action::kLogOnly;
    int priority = 3;
    if (real_fence) priority = 2;
    if (x.kind == EventType::kEscalationAverted) priority = 5;
    // A reboot held by the reboot guard: the path is dead and will stay unfenced.
    if (x.kind == EventType::kFenceSuppressed && x.step > 0 && x.action != Action::kLogOnly)
        priority = 2;
    std::string what = x.step > 0 ? fmt::format("step {} {}", x.step, to_string(x.action)) : "";
    std::string prefix = x.dry_run ? "dry-run: " : "";
    std::string message;
    switch (x.kind) {
        case EventType::kStepStarted:
            message = fmt::format("{}{} started: {}", prefix, what, x.detail);
            break;
        case EventType::kStepSucceeded:
            message = fmt::format("{}{} succeeded: {}", prefix, what, x.detail);
            break;
        case EventType::kStepFailed:
            message = fmt::format("{}{} FAILED: {}", prefix, what, x.detail);
            break;
        case EventType::kStepRateLimited:
            message = fmt::format("{}{} skipped: {}", prefix, what, x.detail);
            break;
        case EventType::kFenceSuppressed:
            message = x.step > 0 && x.action != Action::kLogOnly
                          ? fmt::format("{}{} {}", prefix, what, x.detail)
                          : fmt::format("{}{}: {}", prefix, to_string(x.kind), x.detail);
            break;
        default:
            message = fmt::format("{}{}: {}", prefix, to_string(x.kind), x.detail);
    }
    LadderChange ladder;
    if (x.step > 0) ladder.action = x.action;
    ladder.step = x.step;
    ladder.dry_run = x.dry_run;
    ladder.detail = x.detail;
    // Events about one request carry its id so publishers can pair a step's start with its
    // finish (D-Bus StepStarted / StepFinished).
    const std::uint64_t id = x.request ? x.request->id : request_id;
    const bool step_result =
        x.kind == EventType::kStepSucceeded || x.kind == EventType::kStepFailed;
    if (x.request || (step_result && id != 0)) ladder.id = id;
    return {x.kind, at, priority, path, std::move(message), std::move(ladder)};
}

Event event_for(const ModeChange& change, TimePoint at) {
    return {EventType::kModeChanged,
            at,
            4,
            "",
            fmt::format("mode {} -> {}: {}", mode_text(change.from), mode_text(change.to),
                        change.reason),
            change};
}

Event request_event(EventType type, const ActionRequest& r, TimePoint at,
                    const std::string& detail) {
    const bool real_fence = !r.dry_run && r.action != Action::kLogOnly;
    int priority = type == EventType::kStepFailed ? 3 : 5;
    if (type == EventType::kStepStarted) priority = real_fence ? 2 : 4;
    std::string outcome = "started";
    if (type != EventType::kStepStarted)
        outcome = type == EventType::kStepSucceeded ? "succeeded" : "FAILED";
    return {type,
            at,
            priority,
            "",
            fmt::format("{}requested {} {}: {}", r.dry_run ? "dry-run: " : "", to_string(r.action),
                        outcome, detail),
            LadderChange{r.action, 0, r.dry_run, detail, r.id}};
}

Event fence_declined(const FenceDeclinedSeen& seen, TimePoint at) {
    return {EventType::kFenceDeclined,
            at,
            4,
            seen.path,
            fmt::format("heartbeat fence request {} from {} declined: {}", seen.id, seen.pool,
                        seen.detail),
            seen};
}

Event reboot_record(const ActionRequest& r, TimePoint at) {
    return {EventType::kStepStarted,
            at,
            2,
            r.path,
            fmt::format("rebooting now through {}: {}", "sysrq", r.reason),
            LadderChange{Action::kReboot, r.step, false, std::nullopt, std::nullopt}};
}

std::string format_event(const Event& e) {
    std::string line = fmt::format("{} {}", format_seconds(e.at), to_string(e.type));
    if (!e.path.empty()) line += fmt::format(" path={}", e.path);
    line += " " + e.message;
    return line;
}

}  // namespace iohealth
