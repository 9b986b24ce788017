#pragma once
// graceful-reboot: ask logind for an orderly reboot (guests are shut down by
// libvirt-guests.service). "ok" means the reboot was requested and accepted; whether it
// completes is the escalation engine's business (its deadline, then the sysrq step).
#include <string>

#include "actuators/hardware_watchdog.h"
#include "actuators/serial_worker.h"
#include "core/executor.h"

namespace iohealth {

struct GracefulRebootOptions {
    std::string bus_address;  // "" = the system bus
    Duration call_timeout = std::chrono::seconds(25);
    // A hardware watchdog armed with the request's deadline plus `watchdog_margin` before the
    // reboot is requested, and left running ("" = none). Once the reboot starts, systemd
    // stops iohealthd, so nothing in it can run the next step at the deadline; the watchdog
    // keeps counting through the shutdown and resets the host if it hangs (docs/decisions.md).
    std::string watchdog_device;
    Duration watchdog_margin = std::chrono::seconds(1);
};

class GracefulRebootExecutor final : public Executor {
  public:
    explicit GracefulRebootExecutor(GracefulRebootOptions options = {});
    void execute(const ActionRequest& request, Done done) override;

  private:
    ActionResult run(const ActionRequest& request, std::stop_token stop) const;
    // Arms the watchdog for the request's deadline (null when none is configured or it
    // failed); `detail` says which, for the step's result.
    std::unique_ptr<HardwareWatchdog> arm_watchdog(const ActionRequest& request,
                                                   std::string& detail) const;

    GracefulRebootOptions options_;
    SerialWorker worker_;
};

}  // namespace iohealth
