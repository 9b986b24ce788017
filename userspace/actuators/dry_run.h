#pragma once
// Dry run: says exactly what the real executor would do, does nothing, reports ok.
#include <string>

#include "core/executor.h"

namespace iohealth {

// "dry-run: would call org.freedesktop.systemd1.Manager.RestartUnit cloudstack-agent.service
// replace". `sysrq_trigger` is the path the real reboot executor writes to.
std::string describe_action(const ActionRequest& request,
                            const std::string& sysrq_trigger = "/proc/sysrq-trigger");

class DryRunExecutor final : public Executor {
  public:
    explicit DryRunExecutor(std::string sysrq_trigger = "/proc/sysrq-trigger")
        : sysrq_trigger_(std::move(sysrq_trigger)) {}
    void execute(const ActionRequest& request, Done done) override;

  private:
    std::string sysrq_trigger_;
};

// log-only: the journal entry and D-Bus signal are the action; the escalation engine writes
// them, so carrying it out is only acknowledging it.
class LogOnlyExecutor final : public Executor {
  public:
    void execute(const ActionRequest& request, Done done) override;
};

}  // namespace iohealth
