#include "daemon/control.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actuators/dry_run.h"
#include "actuators/serial_worker.h"
#include "core/bounded_text.h"
#include "daemon/explain.h"
#include "dbus/errors.h"

namespace iohealth {
namespace {

int make_eventfd() {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        throw std::runtime_error(fmt::format("Failed to create eventfd: {}", std::strerror(errno)));
    return fd;
}

}  // namespace

std::string refusal_text(const ConfigResult& result) {
    std::string text = fmt::format("configuration refused ({} error{}):", result.errors.size(),
                                   result.errors.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < result.errors.size(); ++i)
        text += (i == 0 ? " " : "; ") + result.errors[i].to_string();
    return text;
}

DaemonControl::DaemonControl(const DaemonConfig& config, std::string sysrq_path, LoadConfig load,
                             const Clock& clock)
    : wake_fd_(make_eventfd()),
      sysrq_path_(std::move(sysrq_path)),
      load_(std::move(load)),
      clock_(clock),
      defaults_(config.defaults),
      reload_worker_(std::make_unique<SerialWorker>()) {}

DaemonControl::~DaemonControl() {
    shutdown();
    ::close(wake_fd_);
}

void DaemonControl::shutdown() {
    reload_worker_.reset();  // a reload being read finishes (and posts) first
    // Reloads that loaded but never reached the loop still get their answer.
    std::deque<Command> left;
    {
        std::lock_guard lock(mutex_);
        left.swap(queue_);
    }
    for (auto& c : left)
        if (auto* r = std::get_if<ReloadCommand>(&c)) r->done("iohealthd is stopping");
}

void DaemonControl::post(Command command) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(command));
    }
    const std::uint64_t one = 1;
    // EAGAIN only when the counter is saturated, which still leaves the fd readable.
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

std::vector<Command> DaemonControl::take() {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = ::read(wake_fd_, &count, sizeof count);
    std::lock_guard lock(mutex_);
    std::vector<Command> out(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.end()));
    queue_.clear();
    return out;
}

void DaemonControl::publish(std::map<std::string, PathSnapshot> paths, const EffectiveMode& mode) {
    std::lock_guard lock(mutex_);
    paths_ = std::move(paths);
    mode_ = mode;
}

void DaemonControl::set_config(const DaemonConfig& config) {
    std::lock_guard lock(mutex_);
    defaults_ = config.defaults;
}

void DaemonControl::set_mode(const ModeRequest& change, const Caller& caller) {
    post(SetModeCommand{change, caller});
}

ActionRequest DaemonControl::host_request(Action action, const std::string& reason) const {
    if (action == Action::kCustom && defaults_.custom_command.empty())
        throw ControlError(BusError::kFailed,
                           "No custom command is configured ([policy] custom_command)");
    ActionRequest r;
    r.action = action;
    r.reason = reason;
    r.deadline =
        action == Action::kGracefulReboot ? defaults_.timings.graceful_deadline : Duration{0};
    r.agent_unit = defaults_.agent_unit;
    r.custom_command = defaults_.custom_command;
    r.custom_timeout = defaults_.timings.custom_timeout;
    return r;
}

std::uint64_t DaemonControl::request_fence(Action action, const std::string& reason,
                                           const Caller& caller) {
    ActionRequest r;
    {
        std::lock_guard lock(mutex_);
        r = host_request(action, reason);
    }
    const std::uint64_t id = r.id = next_fence_id_++;
    post(FenceCommand{std::move(r), caller});
    return id;
}

HeartbeatFenceReply DaemonControl::request_heartbeat_fence(
    const std::string& reason, const std::map<std::string, std::string>& details,
    const Caller& caller) {
    HeartbeatPool pool = heartbeat_pool(details);
    std::vector<PathEvidence> evidence;
    EffectiveMode mode;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [name, snap] : paths_)
            evidence.push_back({name, snap.config.kind, snap.config.target, snap.window_ticks > 0,
                                snap.assessment});
        mode = mode_;
    }
    HeartbeatFenceDecision decision = decide_heartbeat_fence(pool, evidence, mode);
    const std::uint64_t id = next_fence_id_++;
    HeartbeatFenceReply reply{id, std::string(to_string(decision.reply)), decision.detail};
    post(HeartbeatFenceCommand{id, reason, caller, std::move(pool), std::move(decision)});
    return reply;
}

std::string DaemonControl::test_action(Action action, const Caller& caller) {
    ActionRequest r;
    {
        std::lock_guard lock(mutex_);
        r = host_request(action, "test-action");
    }
    r.dry_run = true;
    const std::string detail = describe_action(r, sysrq_path_);
    spdlog::info("TestAction {} by uid {} ({}): {}", to_string(action), caller.uid, caller.bus_name,
                 detail);
    return detail;
}

void DaemonControl::reload(const Caller& caller, ReloadDone done) {
    spdlog::info("Reload requested by uid {} ({})", caller.uid,
                 caller.bus_name.empty() ? "signal" : caller.bus_name);
    if (!reload_worker_) return done("iohealthd is stopping");
    reload_worker_->post([this, done = std::move(done)](std::stop_token) {
        ConfigResult result;
        try {
            result = load_();
        } catch (const std::exception& e) {
            done(fmt::format("Failed to read the configuration: {}", e.what()));
            return;
        }
        for (const auto& w : result.warnings) spdlog::warn("Reload: {}", w);
        if (!result.config) {
            const std::string text = refusal_text(result);
            spdlog::error("Reload refused, keeping the running configuration: {}", text);
            done(text);
            return;
        }
        post(ReloadCommand{std::move(*result.config), done});
    });
}

PathSnapshot DaemonControl::snapshot(const std::string& path) const {
    std::lock_guard lock(mutex_);
    const auto it = paths_.find(path);
    if (it == paths_.end())
        throw ControlError(BusError::kNoSuchPath, fmt::format("No path '{}' is monitored", path));
    return it->second;
}

void DaemonControl::refused(std::string_view method, const Caller& caller,
                            const std::string& needs) {
    std::uint64_t left_out = 0;
    {
        std::lock_guard lock(mutex_);
        if (!refusals_.allow(clock_.now(), left_out)) return;
    }
    spdlog::warn("Refused {} from uid {} (pid {}, {}): it needs {}{}", method, caller.uid,
                 caller.pid, escape_control(caller.bus_name), needs,
                 left_out ? fmt::format(" ({} more refusals were not logged)", left_out) : "");
}

std::string DaemonControl::explain(const std::string& path, bool privileged) {
    return explain_json(snapshot(path), privileged).dump();
}

std::vector<std::uint64_t> DaemonControl::histogram(const std::string& path) {
    const PathSnapshot s = snapshot(path);
    const auto& slots = s.window_latency.slots();
    return {slots.begin(), slots.end()};
}

}  // namespace iohealth
