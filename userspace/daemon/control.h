#pragma once
// The daemon's side of the bus API (dbus/control_handler.h). Bus calls run on the bus thread:
// they only queue a command for the daemon loop (waking it through an eventfd) or read the
// snapshot the loop publishes once per tick. Nothing here waits for the loop or for storage;
// the configuration file of a Reload is read on a worker thread of its own.
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cloudstack/fence_decision.h"
#include "config/config.h"
#include "core/classifier.h"
#include "core/executor.h"
#include "core/mode.h"
#include "core/rate_limit.h"
#include "dbus/control_handler.h"
#include "dbus/path_status.h"

namespace iohealth {

class SerialWorker;

// Maintenance asked for without a length (SetMode timeout 0, `iohealthctl mode maintenance`
// without --for) lasts this long: long enough for a disk swap, short enough that a forgotten
// window re-arms the same working day.
inline constexpr Duration kDefaultMaintenance = std::chrono::hours(1);

// One path as `explain` and `histogram` see it: copied by the loop at the end of each tick.
struct PathSnapshot {
    PathStatus status;
    PathConfig config;
    std::string device;  // "7:0"; empty while the target is not resolved
    Assessment assessment;
    Sample latest;  // the last tick's raw evidence
    std::size_t window_ticks = 0;
    LatencyHistogram window_latency;  // completions over the whole evidence window
    std::uint64_t window_completed = 0;
    std::uint64_t window_errors = 0;
    bool escalating = false;
    int escalation_step = 0;
    std::optional<TimePoint> next_step_at;
    TimePoint taken_at;  // CLOCK_MONOTONIC
};

// Commands for the loop, in arrival order.
struct SetModeCommand {
    ModeRequest request;
    Caller caller;
};
struct FenceCommand {  // RequestFence: the loop decides dry-run from the mode it is in
    ActionRequest request;
    Caller caller;
};
struct HeartbeatFenceCommand {  // RequestHeartbeatFence: decided on the bus thread's snapshot
    std::uint64_t id;
    std::string reason;
    Caller caller;
    HeartbeatPool pool;
    HeartbeatFenceDecision decision;  // what the caller was told will happen
};
struct FenceResultCommand {  // what the executor reported for a RequestFence
    ActionResult result;
};
struct ReloadCommand {  // a configuration that already loaded and validated
    DaemonConfig config;
    ControlHandler::ReloadDone done;
};
using Command = std::variant<SetModeCommand, FenceCommand, HeartbeatFenceCommand,
                             FenceResultCommand, ReloadCommand>;

class DaemonControl final : public ControlHandler {
  public:
    // `load` reads and validates the configuration file (on the reload worker).
    using LoadConfig = std::function<ConfigResult()>;
    DaemonControl(const DaemonConfig& config, std::string sysrq_path, LoadConfig load,
                  const Clock& clock);
    ~DaemonControl() override;
    DaemonControl(const DaemonControl&) = delete;
    // Before the bus connection goes (after its event loop stopped): finishes the reload being
    // read and answers every reload still waiting, so no reply outlives the connection.
    void shutdown();
    DaemonControl& operator=(const DaemonControl&) = delete;

    // Readable while commands wait; the loop polls it with its signalfd.
    int wake_fd() const { return wake_fd_; }
    // Any thread.
    void post(Command command);
    // Loop thread: the waiting commands, oldest first (clears the wake-up).
    std::vector<Command> take();

    // Loop thread, once per tick (and after a command changed something).
    void publish(std::map<std::string, PathSnapshot> paths, const EffectiveMode& mode);
    // Loop thread, after a reload: the defaults RequestFence and TestAction use.
    void set_config(const DaemonConfig& config);

    // ControlHandler (bus thread).
    void set_mode(const ModeRequest& change, const Caller& caller) override;
    std::uint64_t request_fence(Action action, const std::string& reason,
                                const Caller& caller) override;
    HeartbeatFenceReply request_heartbeat_fence(const std::string& reason,
                                                const std::map<std::string, std::string>& pool,
                                                const Caller& caller) override;
    std::string test_action(Action action, const Caller& caller) override;
    void reload(const Caller& caller, ReloadDone done) override;
    void refused(std::string_view method, const Caller& caller, const std::string& needs) override;
    std::string explain(const std::string& path, bool privileged) override;
    std::vector<std::uint64_t> histogram(const std::string& path) override;

  private:
    ActionRequest host_request(Action action, const std::string& reason) const;  // under mutex_
    PathSnapshot snapshot(const std::string& path) const;

    const int wake_fd_;
    const std::string sysrq_path_;
    const LoadConfig load_;
    const Clock& clock_;
    std::atomic<std::uint64_t> next_fence_id_{1};

    mutable std::mutex mutex_;  // everything below
    std::deque<Command> queue_;
    std::map<std::string, PathSnapshot> paths_;
    EffectiveMode mode_;
    PathPolicy defaults_;
    RateLimit refusals_{10, std::chrono::minutes(1)};  // journaled refused callers

    std::unique_ptr<SerialWorker> reload_worker_;  // last: stopped before the rest goes
};

// "configuration refused (2 errors): FILE:LINE: [section] key: message; ...".
std::string refusal_text(const ConfigResult& result);

}  // namespace iohealth
