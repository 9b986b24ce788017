#include "actuators/custom_command.h"

#include <fmt/format.h>
#include <string.h>

#include <system_error>

#include "os/process.h"

namespace iohealth {
namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

void CustomCommandExecutor::execute(const ActionRequest& request, Done done) {
    worker_.post(
        [request, done = std::move(done)](std::stop_token stop) { done(run(request, stop)); });
}

ActionResult CustomCommandExecutor::run(const ActionRequest& request, std::stop_token stop) {
    ActionResult result{request.id, request.path, request.action, false, ""};
    if (request.custom_command.empty()) {
        result.detail = "Failed to run the custom action: no command configured";
        return result;
    }
    if (request.custom_timeout <= Duration::zero()) {
        result.detail = "Failed to run the custom action: no timeout configured";
        return result;
    }
    const std::string& program = request.custom_command.front();
    if (stop.stop_requested()) {
        result.detail = fmt::format("'{}' not started: daemon stopping", program);
        return result;
    }
    ProcessOutcome outcome;
    try {
        outcome = run_process(request.custom_command,
                              {"IOHEALTH_PATH=" + request.path, "IOHEALTH_REASON=" + request.reason,
                               "IOHEALTH_STEP=" + std::to_string(request.step)},
                              request.custom_timeout, stop);
    } catch (const std::system_error& e) {
        result.detail = e.what();
        return result;
    }
    using End = ProcessOutcome::End;
    switch (outcome.end) {
        case End::kExited:
            result.ok = outcome.status == 0;
            result.detail = fmt::format("'{}' exited with status {}", program, outcome.status);
            break;
        case End::kSignaled:
            result.detail =
                fmt::format("'{}' was killed by signal {} ({})", program, outcome.status,
                            sigabbrev_np(outcome.status) ? sigabbrev_np(outcome.status) : "?");
            break;
        case End::kTimedOut:
            result.detail = fmt::format("'{}' timed out after {} and was killed", program,
                                        format_duration(request.custom_timeout));
            break;
        case End::kCancelled:
            result.detail = fmt::format("'{}' was killed: daemon stopping", program);
            break;
    }
    if (!result.ok && !outcome.output.empty()) result.detail += ": " + trim(outcome.output);
    return result;
}

}  // namespace iohealth
