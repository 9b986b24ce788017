#pragma once
// The seam between the pure escalation engine and whatever carries an action out.
// The engine emits ActionRequests; an Executor runs them and reports what really happened.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/policy.h"

namespace iohealth {

struct ActionRequest {
    std::uint64_t id = 0;  // unique per daemon run, ties the result to the request
    std::string path;
    Action action = Action::kLogOnly;
    int step = 0;                             // 1-based position in the ladder
    bool dry_run = true;                      // true: describe, never execute
    std::string reason;                       // the verdict's one-line reason
    Duration deadline{0};                     // graceful-reboot: the next step runs after this
    std::string agent_unit;                   // restart-agent
    std::vector<std::string> custom_command;  // custom (argv, no shell)
    Duration custom_timeout{0};
};

struct ActionResult {
    std::uint64_t id = 0;
    std::string path;
    Action action = Action::kLogOnly;
    bool ok = false;
    std::string detail;  // what happened, or the real error text
};

class Executor {
  public:
    using Done = std::function<void(ActionResult)>;
    virtual ~Executor() = default;
    // Must not block the caller on storage or on a bus round trip longer than a tick; `done`
    // may be called later and from another thread.
    virtual void execute(const ActionRequest& request, Done done) = 0;
};

}  // namespace iohealth
