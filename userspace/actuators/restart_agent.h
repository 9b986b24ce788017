#pragma once
// restart-agent: systemd restarts the management agent (cloudstack-agent.service), and the
// result is the job's real outcome from JobRemoved, not the fact that the call was accepted.
#include <string>

#include "actuators/serial_worker.h"
#include "core/executor.h"

namespace iohealth {

struct RestartAgentOptions {
    std::string bus_address;                           // "" = the system bus
    Duration call_timeout = std::chrono::seconds(25);  // sd-bus's default method timeout
    // Bound on waiting for the job: the agent's own stop+start timeouts (90 s each by default)
    // could exceed it, in which case the step reports "no result" and the ladder moves on.
    Duration job_timeout = std::chrono::seconds(120);
};

class RestartAgentExecutor final : public Executor {
  public:
    explicit RestartAgentExecutor(RestartAgentOptions options = {});
    void execute(const ActionRequest& request, Done done) override;

  private:
    ActionResult run(const ActionRequest& request, std::stop_token stop) const;

    RestartAgentOptions options_;
    SerialWorker worker_;  // last: joined before the options it reads
};

}  // namespace iohealth
