#include "cloudstack/heartbeat_fence.h"

#include <fmt/format.h>
#include <algorithm>

namespace iohealth {
namespace {

// How far an action goes, gentlest first. A custom command is the operator's own action; it
// ranks below the reboots because choosing it in agent.properties means "not a reboot".
int strength(Action a) {
    switch (a) {
        case Action::kLogOnly:
            return 0;
        case Action::kRestartAgent:
            return 1;
        case Action::kCustom:
            return 2;
        case Action::kGracefulReboot:
            return 3;
        case Action::kReboot:
            return 4;
    }
    __builtin_unreachable();  // -Wswitch checks that every Action is listed
}

std::string names(const std::vector<LadderStep>& ladder) {
    std::string s;
    for (const auto& step : ladder)
        s += (s.empty() ? "" : ", ") + std::string(to_string(step.action));
    return s;
}

}  // namespace

HeartbeatFencePlan heartbeat_fence_plan(const std::vector<LadderStep>& configured,
                                        const std::optional<AgentFenceSettings>& agent) {
    HeartbeatFencePlan plan;
    std::optional<Action> cap;
    std::string why;
    if (!agent) {
        why = "no agent.properties configured ([cloudstack] agent_properties)";
    } else if (!agent->reboot_on_heartbeat_timeout) {
        cap = Action::kLogOnly;
        why = "reboot.host.and.alert.management.on.heartbeat.timeout = false";
    } else {
        const std::string& value = agent->fence_action;
        why = value.empty() ? "kvm.heartbeat.fence.action unset (hard-reboot)"
                            : fmt::format("kvm.heartbeat.fence.action = {}", value);
        if (value == "graceful-reboot")
            cap = Action::kGracefulReboot;
        else if (value == "restart-agent")
            cap = Action::kRestartAgent;
        else if (value == "log-only")
            cap = Action::kLogOnly;
        else if (value == "custom")
            cap = Action::kCustom;
        else if (!value.empty() && value != "hard-reboot" && value != "reboot")
            why += " (unknown; the agent treats it as hard-reboot)";
    }
    for (const LadderStep& step : configured)
        if (!cap || strength(step.action) <= strength(*cap)) plan.ladder.push_back(step);
    if (plan.ladder.empty()) plan.ladder.push_back({Action::kLogOnly, {}});
    plan.explanation = fmt::format("{}: ladder {}", why, names(plan.ladder));
    if (plan.ladder.size() < configured.size())
        plan.explanation += fmt::format(" (configured: {})", names(configured));
    return plan;
}

HeartbeatFencePlan declined_plan(const HeartbeatFencePlan& plan, bool restart_agent) {
    HeartbeatFencePlan out;
    for (const LadderStep& step : plan.ladder)
        if (step.action == Action::kLogOnly ||
            (restart_agent && step.action == Action::kRestartAgent))
            out.ladder.push_back(step);
    if (out.ladder.empty()) out.ladder.push_back({Action::kLogOnly, {}});
    out.explanation =
        fmt::format("declined: ladder {} (of {}{})", names(out.ladder), names(plan.ladder),
                    restart_agent ? "" : "; restart_agent_when_declined is off");
    return out;
}

}  // namespace iohealth
