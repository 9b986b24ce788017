#pragma once
// graceful-reboot: ask logind for an orderly reboot (guests are shut down by
// libvirt-guests.service). "ok" means the reboot was requested and accepted; whether it
// completes is the escalation engine's business (its deadline, then the sysrq step).
#include <string>

#include "actuators/serial_worker.h"
#include "core/executor.h"

namespace iohealth {

struct GracefulRebootOptions {
    std::string bus_address;  // "" = the system bus
    Duration call_timeout = std::chrono::seconds(25);
};

class GracefulRebootExecutor final : public Executor {
  public:
    explicit GracefulRebootExecutor(GracefulRebootOptions options = {});
    void execute(const ActionRequest& request, Done done) override;

  private:
    ActionResult run(const ActionRequest& request, std::stop_token stop) const;

    GracefulRebootOptions options_;
    SerialWorker worker_;
};

}  // namespace iohealth
