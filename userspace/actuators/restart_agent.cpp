#include "actuators/restart_agent.h"

#include <fmt/format.h>

#include <map>

#include "actuators/bus.h"

namespace iohealth {

RestartAgentExecutor::RestartAgentExecutor(RestartAgentOptions options)
    : options_(std::move(options)) {}

void RestartAgentExecutor::execute(const ActionRequest& request, Done done) {
    worker_.post([this, request, done = std::move(done)](std::stop_token stop) {
        done(run(request, stop));
    });
}

ActionResult RestartAgentExecutor::run(const ActionRequest& request, std::stop_token stop) const {
    ActionResult result{request.id, request.path, request.action, false, ""};
    const std::string& unit = request.agent_unit;
    if (unit.empty()) {
        result.detail = "Failed to restart the agent: no agent unit configured";
        return result;
    }
    if (stop.stop_requested()) {
        result.detail = fmt::format("restart of '{}' cancelled: daemon stopping", unit);
        return result;
    }
    try {
        auto connection = connect_bus(options_.bus_address);
        std::map<std::string, std::string> finished;  // job object path -> JobRemoved result
        auto manager = sdbus::createProxy(*connection, kSystemdService, kSystemdPath);
        // The match is in place before the call, so a job that finishes before the reply
        // arrives is not missed. No Subscribe(): systemd sends JobRemoved to the client that
        // queued the job without it (bus_foreach_bus() in src/core/dbus.c uses the job's
        // bus_track).
        manager->uponSignal("JobRemoved")
            .onInterface(kSystemdManager)
            .call([&finished](std::uint32_t, const sdbus::ObjectPath& job, const std::string&,
                              const std::string& job_result) { finished[job] = job_result; });
        manager->finishRegistration();

        sdbus::ObjectPath job;
        manager->callMethod("RestartUnit")
            .onInterface(kSystemdManager)
            .withTimeout(options_.call_timeout)
            .withArguments(unit, std::string("replace"))
            .storeResultsTo(job);

        const auto deadline = std::chrono::steady_clock::now() + options_.job_timeout;
        if (!process_until(
                *connection, [&] { return finished.contains(job); }, deadline, stop)) {
            result.detail =
                stop.stop_requested()
                    ? fmt::format("restart of '{}' (job {}) abandoned: daemon stopping", unit,
                                  std::string(job))
                    : fmt::format(
                          "restart of '{}' (job {}) gave no result within {}; it may "
                          "still be running",
                          unit, std::string(job), format_duration(options_.job_timeout));
            return result;
        }
        const std::string& outcome = finished.at(job);
        result.ok = outcome == "done";
        result.detail = result.ok
                            ? fmt::format("restarted '{}' (job {}: done)", unit, std::string(job))
                            : fmt::format(
                                  "Failed to restart '{}': job {} finished with "
                                  "result '{}'",
                                  unit, std::string(job), outcome);
    } catch (const sdbus::Error& e) {
        result.detail = fmt::format("Failed to restart '{}': {}", unit, error_text(e));
    }
    return result;
}

}  // namespace iohealth
