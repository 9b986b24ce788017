#pragma once
// What the daemon implements for the bus: the requests that change or query its state.
// Every call arrives on the bus thread after the service validated the arguments and the
// caller; it must return quickly (hand work to the daemon loop) and never touch storage.
// Refuse with ControlError (dbus/errors.h); any other exception becomes Error.Internal.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/policy.h"
#include "core/time.h"

namespace iohealth {

// Who asked, for the journal entry that records it.
struct Caller {
    uid_t uid = 0;
    pid_t pid = 0;
    std::string bus_name;  // ":1.42"
};

// RequestFence's action for a host's storage-heartbeat timeout (the CloudStack drop-in scripts,
// contrib/cloudstack/): not one action but the configured ladder, cut by the agent's settings.
inline constexpr std::string_view kHeartbeatTimeoutAction = "heartbeat-timeout";

struct ModeRequest {
    std::string mode;             // dry-run | armed | disarmed | maintenance (validated)
    Duration maintenance_for{0};  // maintenance only; zero: the configured default
    std::string reason;           // non-empty
};

// What RequestHeartbeatFence replies: the request's id, "fencing" | "declined" | "not-acting",
// and why.
struct HeartbeatFenceReply {
    std::uint64_t id = 0;
    std::string reply;
    std::string detail;
};

class ControlHandler {
  public:
    virtual ~ControlHandler() = default;

    virtual void set_mode(const ModeRequest& change, const Caller& caller) = 0;
    // Queues the action; returns the ActionRequest id that StepStarted/StepFinished will carry.
    virtual std::uint64_t request_fence(Action action, const std::string& reason,
                                        const Caller& caller) = 0;
    // RequestHeartbeatFence (RequestFence "heartbeat-timeout": no pool): decides on the
    // evidence for the pool and queues what it decided. Refused unless the daemon implements it.
    virtual HeartbeatFenceReply request_heartbeat_fence(
        const std::string& reason, const std::map<std::string, std::string>& pool,
        const Caller& caller);
    // What the action would do now, carried out as a dry run.
    virtual std::string test_action(Action action, const Caller& caller) = 0;
    // Re-reads the configuration off the bus thread; `done` is called exactly once, from any
    // thread: with "" when the new configuration is in force, else with the reason it was
    // refused (sent as Error.Failed; the daemon keeps the old configuration).
    using ReloadDone = std::function<void(const std::string& error)>;
    virtual void reload(const Caller& caller, ReloadDone done) = 0;

    // A changing method refused to `caller`, who is neither root nor in the admin group
    // (`needs` says what it would take): for the journal. Any thread; must not block.
    virtual void refused(std::string_view method, const Caller& caller,
                         const std::string& needs) = 0;

    // For a published path (the service checked the name): the verdict and its evidence as
    // JSON, and the latency histogram's slot counts (core/histogram.h layout). `privileged`:
    // the caller may change things (root or the admin group) and sees command lines whole;
    // anyone else sees custom_command reduced to its executable.
    virtual std::string explain(const std::string& path, bool privileged) = 0;
    virtual std::vector<std::uint64_t> histogram(const std::string& path) = 0;
};

}  // namespace iohealth
