#include "daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/sysmacros.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "daemon/bus_link.h"
#include "daemon/bus_sink.h"
#include "daemon/commands.h"
#include "daemon/control.h"
#include "daemon/dropin_watch.h"
#include "daemon/engine.h"
#include "daemon/paths.h"
#include "daemon/status.h"
#include "daemon/storage_sources.h"
#include "daemon/vm_event_sink.h"
#include "daemon/wiring.h"
#include "dbus/bus_names.h"
#include "iohealth/version.h"
#include "journal/journald_sink.h"
#include "sources/libvirt/libvirt_path_vms.h"
#include "sources/libvirt/libvirt_source.h"

namespace iohealth {
namespace {

class Daemon {
  public:
    Daemon(const DaemonConfig& config, const DaemonOptions& options, const Clock& clock)
        : config_(config), options_(options), clock_(clock) {}
    int run();

  private:
    std::size_t set_paths(const DaemonConfig& config);
    void track_vms(std::map<std::string, Sample>& samples);
    void publish(TimePoint now);
    GuestsByPath guests_by_path() const;

    DaemonConfig config_;
    const DaemonOptions& options_;
    const Clock& clock_;
    FanoutSink outputs_;  // journald, --foreground, --event-log, the bus
    // Every event goes through here: fence steps and verdicts get the VMs they affect.
    VmEventSink sink_{outputs_, clock_};
    std::unique_ptr<LibvirtSource> libvirt_;  // null without [libvirt] uri
    PathVmTracker vm_tracker_;
    std::map<std::string, std::vector<VmStatus>> path_vms_;  // this tick's, by path name
    std::string status_line_;                                // last sd_notify STATUS=
    std::unique_ptr<Recorder> recorder_;
    std::unique_ptr<KernelSource> kernel_;
    StorageSources storage_;
    std::unique_ptr<WatchedPaths> watched_;
    std::unique_ptr<DaemonControl> control_;
    std::unique_ptr<BusLink> bus_;
    std::unique_ptr<Executor> executor_;
    std::unique_ptr<Engine> engine_;
    std::unique_ptr<CommandHandler> commands_;
    std::unique_ptr<KeptState> kept_;
    DropinWatch dropins_{options_.dirs.state};
    bool libvirt_connected_ = false;      // this tick's snapshot
    std::optional<TimePoint> vms_as_of_;  // when its VM lists were last known current
};

std::size_t Daemon::set_paths(const DaemonConfig& config) {
    const std::vector<PathConfig> paths = watched_->set(config);
    if (engine_) engine_->reconfigure(paths);
    return paths.size();
}

int Daemon::run() {
    // Blocked before any thread starts (probers, bus, executors) so only the loop sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    const int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd < 0) {
        spdlog::error("Failed to create signalfd: {}", std::strerror(errno));
        return 1;
    }
    struct CloseFd {
        int fd;
        ~CloseFd() { ::close(fd); }
    } close_signal_fd{signal_fd};

    const Mode mode = options_.mode.value_or(config_.mode);
    const std::string sysrq_path =
        options_.sysrq_path.empty() ? config_.sysrq_path : options_.sysrq_path;
    if (!options_.bus_address.empty())
        ::setenv("DBUS_SYSTEM_BUS_ADDRESS", options_.bus_address.c_str(), 1);

    outputs_.add(std::make_shared<JournaldSink>());
    if (options_.print_events) outputs_.add(std::make_shared<TextSink>(stdout));
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> event_log(nullptr, &std::fclose);
    if (!options_.event_log.empty()) {
        event_log.reset(std::fopen(options_.event_log.c_str(), "ae"));
        if (!event_log) {
            spdlog::error("Failed to open event log '{}': {}", options_.event_log,
                          std::strerror(errno));
            return 1;
        }
        outputs_.add(std::make_shared<TextSink>(event_log.get()));
    }

    storage_ = make_storage_sources(options_.no_bpf, clock_);
    for (const auto& s : storage_) spdlog::info("Storage source: {}", s->name());
    watched_ = std::make_unique<WatchedPaths>(storage_, clock_);
    const std::vector<PathConfig> paths = watched_->set(config_);

    const std::string record =
        options_.record_path.empty() ? config_.record_path : options_.record_path;
    if (!record.empty()) {
        try {
            recorder_ = std::make_unique<Recorder>(record, paths, mode);
        } catch (const std::exception& e) {
            spdlog::error("{}", e.what());
            return 1;
        }
    }

    control_ = std::make_unique<DaemonControl>(
        config_, sysrq_path,
        [this] { return load_daemon_config(options_.config_path, options_.config_explicit); },
        clock_);
    if (!options_.no_bus) {
        bus_ = std::make_unique<BusLink>(*control_, kVersion, admin_group(config_.admin_group));
        const BusLink::Attempt first = bus_->connect();
        if (!first.connected && !options_.bus_address.empty()) {
            // A bus named with --bus-address must work.
            spdlog::error("Failed to connect to the bus at {}: {}", options_.bus_address,
                          first.error);
            return 1;
        }
        if (first.connected && !first.published) {
            spdlog::error(
                "Failed to publish {} on the bus: {}; another iohealthd may be running "
                "(--no-bus runs without the bus API)",
                kBusName, first.error);
            return 1;
        }
        if (!first.connected)
            // No system bus yet (a container, a rescue shell, dbus not started): monitoring and
            // fencing do not depend on it, so run on, say so, and join it when it appears.
            spdlog::warn(
                "No system bus ({}): running WITHOUT the D-Bus API (iohealthctl cannot reach "
                "this daemon) until the bus appears",
                first.error);
        bus_->start();
        outputs_.add(std::make_shared<BusSink>(*bus_));
    }

    kernel_ = make_kernel_source(options_.no_bpf);
    if (!config_.libvirt_uri.empty()) {
        libvirt_ = std::make_unique<LibvirtSource>(
            LibvirtSource::Options{.uri = config_.libvirt_uri}, clock_);
        libvirt_->start();
        sink_.set_vms(libvirt_->snapshot(LibvirtSource::kNoIoErrors), {});  // until the first tick
    }
    GracefulRebootOptions graceful;
    graceful.watchdog_device = config_.watchdog_device;
    // The watchdog fires a tick after the deadline: the daemon's own next step, if it still
    // runs, goes first and records why.
    graceful.watchdog_margin = config_.tick;
    kept_ = std::make_unique<KeptState>(options_.dirs, clock_, state::UnknownGuests::kHold);
    executor_ =
        kept_->recording(make_executor(sysrq_path, graceful, sink_, clock_), watched_->paths());
    engine_ = std::make_unique<Engine>(paths, mode, sink_, *executor_, recorder_.get());
    engine_->restore_mode(kept_->restore_mode(mode, clock_.now()));
    kept_->read_episodes();
    kept_->read_last_fence(*engine_, watched_->paths(), clock_.now());
    commands_ = std::make_unique<CommandHandler>(
        config_, *engine_, sink_, *executor_, *control_, recorder_ != nullptr,
        [this](const DaemonConfig& config) { return set_paths(config); });

    const TimePoint start = clock_.now();
    spdlog::info("iohealthd monitoring {} path(s), mode {} ({}), tick {}{}", paths.size(),
                 mode_text(engine_->mode().effective()), to_string(engine_->mode().source()),
                 format_duration(config_.tick),
                 bus_ ? fmt::format(", on the bus as {}", kBusName) : ", no bus API");
    if (mode == Mode::kDryRun)
        spdlog::info("Dry-run: fence actions are described in the log, never executed");
    publish(start);
    sd_notify(0, "READY=1");

    TimePoint next_tick = start + config_.tick;
    bool stopping = false;
    while (!stopping) {
        // --- wait: the tick, a signal or a bus command, in one call ---
        const Duration wait = std::max(Duration{0}, next_tick - clock_.now());
        const timespec ts{static_cast<time_t>(wait.count() / 1'000'000),
                          static_cast<long>((wait.count() % 1'000'000) * 1000)};
        pollfd fds[2] = {{signal_fd, POLLIN, 0}, {control_->wake_fd(), POLLIN, 0}};
        if (::ppoll(fds, 2, &ts, nullptr) < 0 && errno != EINTR) {
            spdlog::error("Failed to wait for the next tick: {}", std::strerror(errno));
            break;
        }
        signalfd_siginfo si{};
        while (::read(signal_fd, &si, sizeof si) == sizeof si) {
            if (si.ssi_signo == SIGHUP) {
                control_->reload({0, 0, ""}, [](const std::string& error) {
                    if (error.empty()) spdlog::info("Reloaded the configuration (SIGHUP)");
                });
                continue;
            }
            spdlog::info("Stopping on signal {}", si.ssi_signo);
            stopping = true;
        }
        if (stopping) break;

        // --- commands from the bus (and results of RequestFence) ---
        auto commands = control_->take();
        for (auto& c : commands) commands_->handle(c, clock_.now());
        if (!commands.empty()) {
            kept_->save_mode(engine_->mode(), mode);
            publish(clock_.now());
        }

        // --- tick ---
        // The tick is stamped with its scheduled time, not the wake-up time: deadlines then
        // fall on whole ticks instead of one tick late whenever the wake-up jitters. The
        // sample is taken just after that time, so a deadline is never met early.
        const TimePoint woke = clock_.now();
        if (woke < next_tick) continue;
        const TimePoint now = next_tick;
        next_tick += config_.tick;
        if (next_tick <= woke) next_tick = woke + config_.tick;  // fell behind: do not burst
        std::map<std::string, Sample> samples = watched_->sample(now, *kernel_);
        track_vms(samples);
        kept_->before_tick(*engine_, watched_->paths(), now);
        engine_->tick(now, samples);
        kept_->after_tick(*engine_, watched_->paths(), guests_by_path(), now);
        kept_->save_mode(engine_->mode(), mode);
        publish(now);
        dropins_.check(now);
        sd_notify(0, "WATCHDOG=1");
        if (options_.run_for && now - start >= *options_.run_for) break;
    }
    sd_notify(0, "STOPPING=1");
    // Outcomes already in, recorded before anything stops: logind's acceptance of a graceful
    // reboot (with the watchdog it armed) arrives just as systemd stops this daemon for it.
    engine_->drain_results(clock_.now());
    if (bus_) bus_->stop();
    control_->shutdown();  // answers pending reloads while the connection still exists
    commands_.reset();
    engine_.reset();
    executor_.reset();  // joins the executors' workers; late results are dropped
    bus_.reset();
    watched_->stop();
    return 0;
}

// Each path's guests, and their disks' I/O errors as the path's facts; the lists go to the
// status and to the event sink.
void Daemon::track_vms(std::map<std::string, Sample>& samples) {
    if (!libvirt_) return;
    std::vector<WatchedPath> paths;
    for (const auto& w : watched_->paths()) paths.push_back({&w.config, w.dev});
    std::map<std::string, std::vector<VmOnPath>> lists;
    VmSnapshot snapshot = libvirt_->snapshot(vm_tracker_.seen());
    libvirt_connected_ = snapshot.connected;
    vms_as_of_ = snapshot.as_of;
    path_vms_.clear();
    for (auto& [name, vms] : vm_tracker_.collect(snapshot, paths)) {
        if (const auto it = samples.find(name); it != samples.end())
            add_vm_facts(vms, it->second.facts);
        for (const auto& vm : vms.vms) path_vms_[name].push_back({vm.name, vm.state});
        lists[name] = std::move(vms.vms);
    }
    sink_.set_vms(std::move(snapshot), std::move(lists));
}

GuestsByPath Daemon::guests_by_path() const {
    if (!libvirt_ || !libvirt_connected_) return std::nullopt;
    std::map<std::string, std::size_t> guests;
    for (const auto& [name, vms] : path_vms_) guests[name] = vms.size();
    return guests;
}

void Daemon::publish(TimePoint now) {
    const EffectiveMode mode = engine_->mode().effective();
    std::map<std::string, PathContext> context;
    for (const auto& w : watched_->paths()) context[w.config.name].dev = w.dev;
    for (const auto& [name, vms] : path_vms_) context[name].vms = vms;
    std::vector<PathStatus> statuses;
    std::map<std::string, PathSnapshot> snapshots;
    for (auto& snap : project_status(engine_->monitors(), context, now)) {
        statuses.push_back(snap.status);
        snapshots.emplace(snap.status.name, std::move(snap));
    }
    control_->publish(std::move(snapshots), mode);
    // systemd's status line, sent when it changes (not every tick).
    if (std::string line = status_line(mode_text(mode), statuses); line != status_line_) {
        status_line_ = std::move(line);
        sd_notifyf(0, "STATUS=%s", status_line_.c_str());
    }
    if (bus_)
        bus_->update(
            statuses,
            {mode_text(mode),
             mode.maintenance_until ? realtime_ms_usec(*mode.maintenance_until) : 0,
             mode.maintenance ? "maintenance" : std::string(to_string(engine_->mode().source())),
             !libvirt_            ? "off"
             : libvirt_connected_ ? "connected"
                                  : "unreachable",
             vms_as_of_ ? realtime_ms_usec(*vms_as_of_) : 0});
}

}  // namespace

ConfigResult load_daemon_config(const std::string& path, bool explicit_path) {
    // A dangling symbolic link is a file that is there, and load_config() refuses it.
    if (!explicit_path && !std::filesystem::exists(std::filesystem::symlink_status(path)))
        return load_config_text("", "<defaults>");
    return load_config(path);
}

int run_daemon(const DaemonConfig& config, const DaemonOptions& options, const Clock& clock) {
    return Daemon(config, options, clock).run();
}

}  // namespace iohealth
