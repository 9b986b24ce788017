#pragma once
// What iohealthd runs when the CloudStack agent's heartbeat fence (`kvmheartbeat.sh -c`,
// `kvmspheartbeat.sh -c`) reaches it as RequestFence "heartbeat-timeout": its own configured
// ladder ([policy] ladder, with its holds), cut by the agent's settings. agent.properties can
// only make the ladder gentler, never harsher (docs/cloudstack.md has the table):
//   reboot.host.and.alert.management.on.heartbeat.timeout = false   -> log-only
//   kvm.heartbeat.fence.action = log-only                            -> log-only
//                                restart-agent                       -> up to restart-agent
//                                custom                              -> up to custom
//                                graceful-reboot                     -> up to graceful-reboot
//                                hard-reboot | reboot | unset | other -> the whole ladder
// "Up to X" keeps the ladder's steps no stronger than X, in the order
// log-only < restart-agent < custom < graceful-reboot < reboot.
#include <optional>
#include <string>
#include <vector>

#include "cloudstack/agent_properties.h"
#include "core/policy.h"

namespace iohealth {

struct HeartbeatFencePlan {
    std::vector<LadderStep> ladder;
    std::string explanation;  // which setting cut what, for the journal
};

// `agent` is nullopt when no agent.properties is configured (the ladder runs unchanged).
HeartbeatFencePlan heartbeat_fence_plan(const std::vector<LadderStep>& configured,
                                        const std::optional<AgentFenceSettings>& agent);

// What a request declined on the evidence (cloudstack/fence_decision.h) still runs of `plan`:
// log-only, and restart-agent when the operator opted in ([cloudstack]
// restart_agent_when_declined) and the plan has it.
HeartbeatFencePlan declined_plan(const HeartbeatFencePlan& plan, bool restart_agent);

}  // namespace iohealth
