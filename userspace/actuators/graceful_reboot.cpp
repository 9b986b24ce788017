#include "actuators/graceful_reboot.h"

#include <fmt/format.h>

#include "actuators/bus.h"

namespace iohealth {
namespace {

bool service_missing(const sdbus::Error& e) {
    return e.getName() == "org.freedesktop.DBus.Error.ServiceUnknown" ||
           e.getName() == "org.freedesktop.DBus.Error.NameHasNoOwner";
}

}  // namespace

GracefulRebootExecutor::GracefulRebootExecutor(GracefulRebootOptions options)
    : options_(std::move(options)) {}

void GracefulRebootExecutor::execute(const ActionRequest& request, Done done) {
    worker_.post([this, request, done = std::move(done)](std::stop_token stop) {
        done(run(request, stop));
    });
}

std::unique_ptr<HardwareWatchdog> GracefulRebootExecutor::arm_watchdog(const ActionRequest& request,
                                                                       std::string& detail) const {
    if (options_.watchdog_device.empty()) return nullptr;
    auto opened = HardwareWatchdog::open(options_.watchdog_device);
    std::string error = opened.error();
    auto watchdog = opened ? std::move(*opened) : nullptr;
    // Whole seconds (WDIOC_SETTIMEOUT), rounded up: never before the deadline.
    const auto timeout =
        std::chrono::ceil<std::chrono::seconds>(request.deadline + options_.watchdog_margin);
    if (watchdog) {
        if (auto e = watchdog->set_timeout(timeout)) error = *e;
        // A ping restarts the count from now with the new timeout.
        else if (auto k = watchdog->keepalive())
            error = *k;
    }
    if (!error.empty()) {
        detail = fmt::format("; no hardware watchdog backstop: {}", error);
        return nullptr;  // the destructor disarms it
    }
    detail = fmt::format("; {} armed to reset the host in {}s", options_.watchdog_device,
                         timeout.count());
    return watchdog;
}

ActionResult GracefulRebootExecutor::run(const ActionRequest& request, std::stop_token stop) const {
    ActionResult result{request.id, request.path, request.action, false, ""};
    if (stop.stop_requested()) {
        result.detail = "graceful reboot cancelled: daemon stopping";
        return result;
    }
    // Armed before logind is asked: once the reboot starts, this daemon may be stopped at any
    // moment. Left running only when the reboot was accepted; on failure its destructor
    // disarms it.
    std::string backstop;
    const auto watchdog = arm_watchdog(request, backstop);
    const auto accepted = [&](std::string detail) {
        if (watchdog) watchdog->leave_armed();
        result.ok = true;
        result.detail = std::move(detail) + backstop;
        return result;
    };
    std::unique_ptr<sdbus::IConnection> connection;
    try {
        connection = connect_bus(options_.bus_address);
    } catch (const sdbus::Error& e) {
        result.detail = "Failed to request a reboot: cannot connect to the bus: " + error_text(e);
        return result;
    }

    // logind first, as `systemctl reboot` does. flags=0: a privileged caller is not held back
    // by block inhibitors (SD_LOGIND_ROOT_CHECK_INHIBITORS unset, org.freedesktop.login1(5)).
    std::string logind_error;
    try {
        auto logind = sdbus::createProxy(*connection, kLogindService, kLogindPath);
        try {
            logind->callMethod("RebootWithFlags")
                .onInterface(kLogindManager)
                .withTimeout(options_.call_timeout)
                .withArguments(std::uint64_t{0})
                .storeResultsTo();
            return accepted("reboot requested: org.freedesktop.login1.Manager.RebootWithFlags(0)");
        } catch (const sdbus::Error& e) {
            // logind older than 246 has only Reboot(b interactive).
            if (e.getName() != "org.freedesktop.DBus.Error.UnknownMethod") throw;
        }
        logind->callMethod("Reboot")
            .onInterface(kLogindManager)
            .withTimeout(options_.call_timeout)
            .withArguments(/* interactive= */ false)
            .storeResultsTo();
        return accepted("reboot requested: org.freedesktop.login1.Manager.Reboot(false)");
    } catch (const sdbus::Error& e) {
        if (!service_missing(e)) {
            result.detail = "Failed to request a reboot from logind: " + error_text(e);
            return result;
        }
        logind_error = error_text(e);
    }

    // No logind: queue reboot.target the way systemctl's fallback does.
    try {
        auto systemd = sdbus::createProxy(*connection, kSystemdService, kSystemdPath);
        sdbus::ObjectPath job;
        systemd->callMethod("StartUnit")
            .onInterface(kSystemdManager)
            .withTimeout(options_.call_timeout)
            .withArguments(std::string("reboot.target"), std::string("replace-irreversibly"))
            .storeResultsTo(job);
        return accepted(fmt::format(
            "reboot requested: org.freedesktop.systemd1.Manager.StartUnit(reboot.target, "
            "replace-irreversibly) queued job {} (logind unavailable: {})",
            std::string(job), logind_error));
    } catch (const sdbus::Error& e) {
        result.detail = fmt::format(
            "Failed to request a reboot: logind unavailable ({}); "
            "systemd StartUnit(reboot.target) failed: {}",
            logind_error, error_text(e));
    }
    return result;
}

}  // namespace iohealth
