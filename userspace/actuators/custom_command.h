#pragma once
// custom: the operator's own command (argv from the request, no shell), killed with its process
// group after request.custom_timeout. The result is its real exit status, signal or timeout.
// The child sees IOHEALTH_PATH, IOHEALTH_REASON and IOHEALTH_STEP in its environment.
#include "actuators/serial_worker.h"
#include "core/executor.h"

namespace iohealth {

class CustomCommandExecutor final : public Executor {
  public:
    void execute(const ActionRequest& request, Done done) override;

  private:
    static ActionResult run(const ActionRequest& request, std::stop_token stop);

    SerialWorker worker_;
};

}  // namespace iohealth
