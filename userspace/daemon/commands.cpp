#include "daemon/commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cloudstack/agent_properties.h"
#include "cloudstack/heartbeat_fence.h"
#include "core/bounded_text.h"

namespace iohealth {
namespace {

// The host ladder a declined heartbeat fence request runs (log-only, maybe restart-agent).
constexpr std::string_view kDeclinedLadder = "heartbeat-declined";

// Audit trail of a bus request: "disk swap (uid 0, pid 1234, :1.42)".
std::string with_caller(const std::string& reason, const Caller& c) {
    if (c.bus_name.empty()) return reason;
    return fmt::format("{} (uid {}, pid {}, {})", reason, c.uid, c.pid, c.bus_name);
}

}  // namespace

void CommandHandler::handle(Command& command, TimePoint now) {
    std::visit([&](auto& c) { handle(c, now); }, command);
}

void CommandHandler::handle(SetModeCommand& c, TimePoint now) {
    const ModeRequest& r = c.request;
    const std::string reason = with_caller(r.reason, c.caller);
    if (r.mode == "maintenance") {
        engine_.maintenance(
            r.maintenance_for > Duration{0} ? r.maintenance_for : kDefaultMaintenance, reason, now);
    } else if (const auto m = mode_from_string(r.mode)) {
        engine_.set_mode(*m, reason, now);
    } else {
        spdlog::error("Ignoring unknown mode '{}' from the bus", r.mode);  // the service checks
    }
}

void CommandHandler::handle(FenceCommand& c, TimePoint now) {
    ActionRequest r = c.request;
    // The mode at the time it runs: anything but armed only describes the action.
    r.dry_run = engine_.mode().effective().mode != Mode::kArmed;
    sink_.emit(request_event(EventType::kStepStarted, r, now, with_caller(r.reason, c.caller)));
    host_requests_[r.id] = r;
    DaemonControl* control = &control_;
    executor_.execute(r, [control](ActionResult result) {
        control->post(FenceResultCommand{std::move(result)});
    });
}

void CommandHandler::handle(HeartbeatFenceCommand& c, TimePoint now) {
    const std::string reason = with_caller(c.reason, c.caller);
    const HeartbeatFenceDecision& d = c.decision;
    const std::string pool = describe(c.pool);
    if (d.reply == FenceReply::kDeclined && d.path)
        sink_.emit(fence_declined(
            {c.id, pool, d.path->name, d.path->target, d.detail, d.path->assessment}, now));
    // A declined request runs its gentle ladder under its own name, so that a later request
    // that fences never joins it.
    const bool declined = d.evidence == FenceCase::kProgressing;
    const std::string_view ladder_name = declined ? kDeclinedLadder : kHeartbeatTimeoutAction;
    if (const HostLadder* running = engine_.running_host_ladder(ladder_name)) {
        spdlog::warn(
            "heartbeat-timeout request {} ({}, {}) joins the ladder already running "
            "({}): {}",
            c.id, escape_control(pool), to_string(d.reply), running->name(),
            escape_control(reason));
        return;
    }
    std::optional<AgentFenceSettings> agent;
    if (const auto& file = config_.cloudstack_agent_properties; !file.empty()) {
        auto read = read_agent_properties(file);
        if (!read) {
            spdlog::error("{}; the heartbeat-timeout ladder runs as configured", read.error());
        } else {
            for (const auto& note : read->notes) spdlog::warn("{}", note);
            agent = std::move(*read);
        }
    }
    HeartbeatFencePlan plan = heartbeat_fence_plan(config_.defaults.ladder, agent);
    if (declined) plan = declined_plan(plan, config_.cloudstack_restart_agent_when_declined);
    // The caller's text, escaped: one log line per request, whatever it sent.
    spdlog::info("heartbeat-timeout request {} for {}: {}; {}", c.id, escape_control(pool),
                 escape_control(d.detail), plan.explanation);
    PathPolicy policy = config_.defaults;
    policy.ladder = plan.ladder;
    engine_.start_host_ladder(
        std::make_unique<HostLadder>(fmt::format("{}#{}", ladder_name, c.id), std::move(policy),
                                     fmt::format("{} [{}; {}]", reason, d.detail, plan.explanation),
                                     now),
        now);
}

void CommandHandler::handle(FenceResultCommand& c, TimePoint now) {
    const auto it = host_requests_.find(c.result.id);
    if (it == host_requests_.end()) return;
    const ActionRequest r = it->second;
    host_requests_.erase(it);
    sink_.emit(request_event(c.result.ok ? EventType::kStepSucceeded : EventType::kStepFailed, r,
                             now, c.result.detail));
}

void CommandHandler::handle(ReloadCommand& c, TimePoint) {
    if (recording_) {
        c.done(
            "Reload is not possible while recording (--record): the recording's header fixes "
            "the paths; restart iohealthd to record the new configuration");
        return;
    }
    const DaemonConfig& next = c.config;
    if (next.tick != config_.tick || next.sysrq_path != config_.sysrq_path ||
        next.mode != config_.mode)
        spdlog::warn(
            "Reload: [daemon] tick, sysrq_trigger and mode take effect at the next start "
            "(the running mode is changed with iohealthctl mode), ignoring");
    if (next.libvirt_uri != config_.libvirt_uri)
        spdlog::warn("Reload: [libvirt] uri takes effect at the next start, ignoring");
    DaemonConfig applied = next;
    applied.libvirt_uri = config_.libvirt_uri;
    applied.tick = config_.tick;
    applied.sysrq_path = config_.sysrq_path;
    applied.mode = config_.mode;
    const std::size_t paths = apply_paths_(applied);
    config_ = std::move(applied);
    control_.set_config(config_);
    spdlog::info("Reloaded the configuration: {} path(s)", paths);
    c.done("");
}

}  // namespace iohealth
