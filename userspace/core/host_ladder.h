#pragma once
// A fence ladder the host asked for, not a path's verdict: the CloudStack agent's heartbeat
// timeout (RequestFence "heartbeat-timeout"). It walks its ladder with the path escalation
// engine, as if its path were DEAD from the request on: step 1 at once, each next step after
// the previous one's hold, dry-run unless armed, nothing while disarmed or in maintenance.
// Nothing averts it but the mode: the agent's request is the evidence. Pure, like the engine.
#include <string>

#include "core/path_monitor.h"

namespace iohealth {

class HostLadder {
  public:
    // `name` is the events' path ("heartbeat-timeout#3"); `policy` supplies the ladder with
    // its holds and the actions' settings (agent unit, custom command, repeat_interval).
    HostLadder(std::string name, PathPolicy policy, std::string reason, TimePoint requested);
    HostLadder(const HostLadder&) = delete;
    HostLadder& operator=(const HostLadder&) = delete;

    TickOutput tick(const EffectiveMode& mode, TimePoint now);
    TickOutput on_result(const ActionResult& result, TimePoint now);

    // Every step ran (or the mode suppressed the ladder): no further tick does anything.
    bool finished() const { return finished_; }
    // Finished, and every step's result is back.
    bool done() const { return finished_ && pending_ == 0; }
    const std::string& name() const { return name_; }

  private:
    std::string name_;
    PathPolicy policy_;  // before escalation_, which keeps a reference
    Assessment dead_;
    EscalationEngine escalation_;
    bool finished_ = false;
    std::size_t pending_ = 0;  // requests out without a result
};

}  // namespace iohealth
