#include "actuators/dry_run.h"

#include <fmt/format.h>

namespace iohealth {

std::string describe_action(const ActionRequest& request, const std::string& sysrq_trigger) {
    switch (request.action) {
        case Action::kLogOnly:
            return "dry-run: would log only";
        case Action::kRestartAgent:
            return fmt::format(
                "dry-run: would call org.freedesktop.systemd1.Manager.RestartUnit {} replace",
                request.agent_unit);
        case Action::kGracefulReboot:
            return "dry-run: would call org.freedesktop.login1.Manager.RebootWithFlags 0";
        case Action::kReboot:
            return fmt::format("dry-run: would write 'b' to {}", sysrq_trigger);
        case Action::kCustom:
            // The program and how many arguments: this text reaches the bus's StepFinished
            // signals, which every local user may receive, and an argument may be a token.
            return fmt::format(
                "dry-run: would run {} with {} argument(s) (timeout {})",
                request.custom_command.empty() ? std::string("nothing")
                                               : request.custom_command.front(),
                request.custom_command.empty() ? 0 : request.custom_command.size() - 1,
                format_duration(request.custom_timeout));
    }
    return "dry-run: unknown action";
}

void DryRunExecutor::execute(const ActionRequest& request, Done done) {
    done(
        {request.id, request.path, request.action, true, describe_action(request, sysrq_trigger_)});
}

void LogOnlyExecutor::execute(const ActionRequest& request, Done done) {
    done({request.id, request.path, request.action, true, "logged"});
}

}  // namespace iohealth
