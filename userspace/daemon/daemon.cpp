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
#include <sdbus-c++/sdbus-c++.h>
#include <spdlog/spdlog.h>

#include "actuators/custom_command.h"
#include "actuators/dry_run.h"
#include "actuators/graceful_reboot.h"
#include "actuators/restart_agent.h"
#include "actuators/router.h"
#include "actuators/sysrq_reboot.h"
#include "cloudstack/heartbeat_fence.h"
#include "daemon/bus_sink.h"
#include "daemon/control.h"
#include "daemon/engine.h"
#include "daemon/explain.h"
#include "daemon/status_line.h"
#include "daemon/storage_sources.h"
#include "daemon/vm_event_sink.h"
#include "dbus/bus_names.h"
#include "dbus/service.h"
#include "iohealth/version.h"
#include "journal/journald_sink.h"
#include "record/json.h"
#include "sources/block_devices.h"
#include "sources/bpf_block_source.h"
#include "sources/diskstats_source.h"
#include "sources/heartbeat_prober.h"
#include "sources/libvirt_path_vms.h"
#include "sources/libvirt_source.h"

namespace iohealth {
namespace {

// Unresolved devices are looked for again this often: a disk may appear after start-up.
constexpr Duration kResolveInterval = 5s;

struct Watched {
    PathConfig config;
    std::optional<dev_t> dev;
    std::unique_ptr<HeartbeatProber> prober;
    TimePoint next_resolve{};
    std::string last_error;
    StorageSource* storage = nullptr;  // the DRBD/NFS source that owns the path, if any
};

using StorageSources = std::vector<std::unique_ptr<StorageSource>>;

StorageSource* owner_of(const PathConfig& path, const StorageSources& sources) {
    for (const auto& s : sources)
        if (s->handles(path)) return s.get();
    return nullptr;
}

bool probe_cannot_run(const HeartbeatEvidence& hb) {
    return hb.last_failed && !hb.last_success &&
           (hb.last_error.starts_with("open: EPERM") || hb.last_error.starts_with("open: EACCES"));
}

// With no [path] sections: DRBD resources and NFS mounts their sources find, then the
// disks no such path already stands for (a DRBD device is watched as its resource).
std::vector<PathConfig> effective_paths(const DaemonConfig& config, const StorageSources& sources) {
    if (!config.paths.empty() || !config.discover_block_devices) return config.paths;
    std::vector<PathConfig> paths;
    std::vector<dev_t> covered;
    for (const auto& source : sources) {
        const auto policy = config.preset_defaults.find(source->preset());
        for (auto& p : source->discover(policy != config.preset_defaults.end() ? policy->second
                                                                               : config.defaults)) {
            try {
                covered.push_back(source->device_of(p).dev);
            } catch (const std::exception&) {
                // not resolvable yet: the daemon retries; no disk to leave out for it
            }
            paths.push_back(std::move(p));
        }
    }
    for (const auto& d : list_block_devices()) {
        if (std::find(covered.begin(), covered.end(), d.dev) != covered.end()) continue;
        PathConfig p;
        p.name = d.name;
        p.kind = PathKind::kDevice;
        p.target = d.devnode;
        p.preset = "block";
        p.policy = config.defaults;
        paths.push_back(std::move(p));
    }
    return paths;
}

// The device behind a path and the node its block heartbeat reads (empty: none).
ResolvedDevice resolve_device(Watched& w, const StorageSources& sources) {
    w.storage = owner_of(w.config, sources);
    if (w.storage) return w.storage->device_of(w.config);
    switch (w.config.kind) {
        case PathKind::kDevice:
            return {whole_disk(resolve_block_device(w.config.target)), w.config.target};
        case PathKind::kMount:
            return {whole_disk(resolve_block_device(w.config.target)), {}};
        case PathKind::kDrbd:
            break;
    }
    throw std::runtime_error(
        sources.empty() ? "DRBD resources need the DRBD source, which this build does not have"
                        : "no DRBD resource of that name (drbdsetup events2 does not list it)");
}

// Finds the device behind a path, logging each new failure once (a missing device is
// expected while it is being set up; the daemon keeps watching the rest).
void resolve(Watched& w, TimePoint now, const Clock& clock, const StorageSources& sources) {
    if (w.dev || now < w.next_resolve) return;
    w.next_resolve = now + kResolveInterval;
    ResolvedDevice device;
    try {
        device = resolve_device(w, sources);
        w.dev = device.dev;
    } catch (const std::exception& e) {
        if (e.what() != w.last_error)
            spdlog::error("Failed to resolve path '{}' ({} {}): {}; will retry every {}",
                          w.config.name, to_string(w.config.kind), w.config.target, e.what(),
                          format_duration(kResolveInterval));
        w.last_error = e.what();
        return;
    }
    w.last_error.clear();
    spdlog::info("Path '{}': {} {} is device {}{}", w.config.name, to_string(w.config.kind),
                 w.config.target, format_dev(*w.dev),
                 w.storage ? fmt::format(" (watched by the {} source)", w.storage->name()) : "");
    if (w.storage)
        for (const auto& warning : w.storage->check(w.config))
            spdlog::warn("Path '{}': {}", w.config.name, warning);
    const bool filesystem = w.config.kind == PathKind::kMount;
    if (w.config.policy.heartbeat && !w.prober && (filesystem || !device.node.empty())) {
        HeartbeatProber::Options o;
        o.kind =
            filesystem ? HeartbeatProber::Kind::kFilesystem : HeartbeatProber::Kind::kBlockDevice;
        o.target = filesystem ? w.config.target : device.node;
        o.interval = w.config.policy.timings.probe_interval;
        w.prober = std::make_unique<HeartbeatProber>(o, clock);
        w.prober->start();
    }
}

std::unique_ptr<KernelSource> make_kernel_source(bool no_bpf) {
    auto bpf = BpfBlockSource::make({.disabled = no_bpf});
    if (bpf.source) {
        spdlog::info("Kernel evidence: eBPF block probes");
        for (const auto& note : bpf.source->notes()) spdlog::info("eBPF: {}", note);
        return std::move(bpf.source);
    }
    spdlog::warn(
        "DEGRADED MODE: eBPF block probes unavailable ({}); kernel evidence comes from "
        "/proc/diskstats (no per-I/O latency, no error counts) plus the heartbeat",
        bpf.error);
    return std::make_unique<DiskstatsSource>();
}

std::unique_ptr<Executor> make_executor(const std::string& sysrq_path,
                                        const GracefulRebootOptions& graceful, EventSink& sink) {
    std::map<Action, std::unique_ptr<Executor>> real;
    real[Action::kLogOnly] = std::make_unique<LogOnlyExecutor>();
    real[Action::kRestartAgent] = std::make_unique<RestartAgentExecutor>();
    real[Action::kGracefulReboot] = std::make_unique<GracefulRebootExecutor>(graceful);
    real[Action::kCustom] = std::make_unique<CustomCommandExecutor>();
    SysrqRebootOptions sysrq;
    sysrq.trigger_path = sysrq_path;
    // The reason reaches the journal before the write: nothing after it is ever logged.
    sysrq.record_first = [&sink](const ActionRequest& r) {
        Event e{EventType::kStepStarted,
                SteadyClock{}.now(),
                2,
                r.path,
                fmt::format("rebooting now through {}: {}", "sysrq", r.reason),
                {}};
        e.fields.emplace_back("ACTION", "reboot");
        e.fields.emplace_back("STEP", std::to_string(r.step));
        e.fields.emplace_back("DRY_RUN", "0");
        sink.emit(e);
    };
    auto reboot = std::make_unique<SysrqRebootExecutor>(sysrq);
    if (!reboot->open_error().empty())
        spdlog::warn("The reboot step cannot run: {}", reboot->open_error());
    if (reboot->sysctl_warning()) spdlog::warn("{}", *reboot->sysctl_warning());
    real[Action::kReboot] = std::move(reboot);
    return std::make_unique<ActionRouter>(std::make_unique<DryRunExecutor>(sysrq_path),
                                          std::move(real));
}

// Looked up once here: the bus thread checks callers against the gid, never through NSS.
AdminGroup admin_group(const std::string& name) {
    std::string problem;
    AdminGroup group = resolve_admin_group(name, problem);
    if (group.gid)
        spdlog::info("Root and members of group '{}' (gid {}) may change mode, fence and reload",
                     name, *group.gid);
    else if (!name.empty())
        spdlog::warn("admin_group '{}': {}; only root may change mode, fence and reload", name,
                     problem);
    return group;
}

bool same_path(const PathConfig& a, const PathConfig& b) {
    return a.name == b.name && to_json(a) == to_json(b);
}

std::string mode_text(const EffectiveMode& m) {
    return m.maintenance ? "maintenance" : std::string(to_string(m.mode));
}

// Fence-by times move with the realtime/monotonic offset by a microsecond or so from tick
// to tick; milliseconds keep the property from changing when the deadline did not.
std::uint64_t realtime_ms_usec(TimePoint t) {
    return realtime_usec(t) / 1000 * 1000;
}

// Audit trail of a bus request: "disk swap (uid 0, pid 1234, :1.42)".
std::string with_caller(const std::string& reason, const Caller& c) {
    if (c.bus_name.empty()) return reason;
    return fmt::format("{} (uid {}, pid {}, {})", reason, c.uid, c.pid, c.bus_name);
}

class Daemon {
  public:
    Daemon(const DaemonConfig& config, const DaemonOptions& options)
        : config_(config), options_(options) {}
    int run();

  private:
    void set_paths(const DaemonConfig& config);
    void sample_and_tick(TimePoint now);
    void track_vms(std::map<std::string, Sample>& samples);
    KernelSource* kernel_of(const Watched& w) const {
        KernelSource* own = w.storage ? w.storage->kernel_source() : nullptr;
        return own ? own : kernel_.get();
    }
    void handle(Command& command, TimePoint now);
    void handle(SetModeCommand& c, TimePoint now);
    void handle(FenceCommand& c, TimePoint now);
    void handle(HeartbeatFenceCommand& c, TimePoint now);
    void handle(FenceResultCommand& c, TimePoint now);
    void handle(ReloadCommand& c, TimePoint now);
    void publish(TimePoint now);
    Event host_step_event(EventType type, const ActionRequest& r, TimePoint now,
                          std::string message, const std::string& detail) const;

    DaemonConfig config_;
    const DaemonOptions& options_;
    const SteadyClock clock_;
    FanoutSink outputs_;                      // journald, --foreground, --event-log, the bus
    std::unique_ptr<LibvirtSource> libvirt_;  // null without [libvirt] uri
    PathVmTracker vm_tracker_;
    // Every event goes through here: fence steps get the VMs they affect.
    VmEventSink sink_{outputs_,
                      [this] {
                          return libvirt_
                                     ? std::optional(libvirt_->snapshot(LibvirtSource::kNoIoErrors))
                                     : std::nullopt;
                      },
                      clock_};
    std::vector<Watched> watched_;  // in configuration order, as the engine's monitors
    std::map<KernelSource*, std::vector<dev_t>> devices_;  // as last given to each source
    std::unique_ptr<Recorder> recorder_;
    std::unique_ptr<KernelSource> kernel_;
    StorageSources storage_;
    std::unique_ptr<DaemonControl> control_;
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<BusService> service_;
    std::unique_ptr<Executor> executor_;
    std::unique_ptr<Engine> engine_;
    std::map<std::uint64_t, ActionRequest> host_requests_;  // RequestFence in flight, by id
    std::string status_line_;                               // last sd_notify STATUS=
};

void Daemon::set_paths(const DaemonConfig& config) {
    std::vector<PathConfig> paths = effective_paths(config, storage_);
    for (auto& p : paths) p.policy.timings.tick = config_.tick;
    if (paths.empty()) spdlog::warn("No paths to monitor: none configured and none discovered");
    std::vector<Watched> next;
    for (const auto& p : paths) {
        auto kept = std::find_if(watched_.begin(), watched_.end(),
                                 [&](const Watched& w) { return same_path(w.config, p); });
        if (kept != watched_.end())
            next.push_back(std::move(*kept));
        else
            next.push_back(Watched{p, {}, {}, {}, {}, nullptr});
    }
    for (auto& w : watched_)  // the paths that went or changed
        if (w.prober) w.prober->stop();
    watched_ = std::move(next);
    if (engine_) engine_->reconfigure(paths);
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

    storage_ = make_storage_sources(options_.no_bpf);
    for (const auto& s : storage_) spdlog::info("Storage source: {}", s->name());
    set_paths(config_);
    std::vector<PathConfig> paths;
    for (const auto& w : watched_) paths.push_back(w.config);

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

    control_ = std::make_unique<DaemonControl>(config_, sysrq_path, [this] {
        return load_daemon_config(options_.config_path, options_.config_explicit);
    });
    if (!options_.no_bus) {
        try {
            connection_ = sdbus::createSystemBusConnection();
        } catch (const sdbus::Error& e) {
            // No system bus at all (a container, a rescue shell): monitoring and fencing do
            // not depend on it, so run on and say so. A bus named with --bus-address must work.
            if (!options_.bus_address.empty()) {
                spdlog::error("Failed to connect to the bus at {}: {}", options_.bus_address,
                              e.getMessage());
                return 1;
            }
            spdlog::warn(
                "No system bus ({}): running WITHOUT the D-Bus API, iohealthctl cannot reach "
                "this daemon",
                e.getMessage());
        }
    }
    if (connection_) {
        try {
            service_ = std::make_unique<BusService>(*connection_, *control_, kVersion,
                                                    admin_group(config_.admin_group));
            connection_->requestName(kBusName);  // objects first, then the name
            connection_->enterEventLoopAsync();
        } catch (const sdbus::Error& e) {
            spdlog::error(
                "Failed to publish {} on the bus: {} ({}); another iohealthd may be running "
                "(--no-bus runs without the bus API)",
                kBusName, e.getMessage(), e.getName());
            service_.reset();
            connection_.reset();
            return 1;
        }
        outputs_.add(std::make_shared<BusSink>(*service_));
    }

    kernel_ = make_kernel_source(options_.no_bpf);
    if (!config_.libvirt_uri.empty()) {
        libvirt_ = std::make_unique<LibvirtSource>(
            LibvirtSource::Options{.uri = config_.libvirt_uri}, clock_);
        libvirt_->start();
    }
    GracefulRebootOptions graceful;
    graceful.watchdog_device = config_.watchdog_device;
    // The watchdog fires a tick after the deadline: the daemon's own next step, if it still
    // runs, goes first and records why.
    graceful.watchdog_margin = config_.tick;
    executor_ = make_executor(sysrq_path, graceful, sink_);
    engine_ = std::make_unique<Engine>(paths, mode, sink_, *executor_, recorder_.get());

    const TimePoint start = clock_.now();
    spdlog::info("iohealthd monitoring {} path(s), mode {}, tick {}{}", paths.size(),
                 to_string(mode), format_duration(config_.tick),
                 service_ ? fmt::format(", on the bus as {}", kBusName) : ", no bus API");
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
        for (auto& c : commands) handle(c, clock_.now());
        if (!commands.empty()) publish(clock_.now());

        // --- tick ---
        // The tick is stamped with its scheduled time, not the wake-up time: deadlines then
        // fall on whole ticks instead of one tick late whenever the wake-up jitters. The
        // sample is taken just after that time, so a deadline is never met early.
        const TimePoint woke = clock_.now();
        if (woke < next_tick) continue;
        const TimePoint now = next_tick;
        next_tick += config_.tick;
        if (next_tick <= woke) next_tick = woke + config_.tick;  // fell behind: do not burst
        sample_and_tick(now);
        publish(now);
        sd_notify(0, "WATCHDOG=1");
        if (options_.run_for && now - start >= *options_.run_for) break;
    }
    sd_notify(0, "STOPPING=1");
    if (connection_) connection_->leaveEventLoop();
    control_->shutdown();  // answers pending reloads while the connection still exists
    engine_.reset();
    executor_.reset();  // joins the executors' workers; late results are dropped
    service_.reset();
    connection_.reset();
    for (auto& w : watched_)
        if (w.prober) w.prober->stop();
    return 0;
}

void Daemon::sample_and_tick(TimePoint now) {
    // --- resolve paths whose device was missing ---
    // The kernel evidence of each device comes from the block source, or from the storage
    // source that has its own (NFS RPCs).
    std::map<KernelSource*, std::vector<dev_t>> wanted;
    wanted[kernel_.get()];
    for (const auto& s : storage_)
        if (s->kernel_source()) wanted[s->kernel_source()];
    std::map<StorageSource*, std::vector<PathConfig>> owned;
    for (auto& w : watched_) {
        resolve(w, now, clock_, storage_);
        if (w.storage) owned[w.storage].push_back(w.config);
        if (w.dev) wanted[kernel_of(w)].push_back(*w.dev);
    }
    for (auto& [source, devices] : wanted) {
        if (devices == devices_[source]) continue;
        devices_[source] = devices;
        source->set_devices(devices);
    }

    // --- sample ---
    std::map<KernelSource*, std::map<dev_t, KernelEvidence>> evidence;
    for (const auto& [source, devices] : devices_) evidence[source] = source->collect(now);
    std::map<StorageSource*, std::map<std::string, StorageFacts>> facts;
    for (const auto& [source, paths] : owned) facts[source] = source->collect(paths, now);
    std::map<std::string, Sample> samples;
    for (auto& w : watched_) {
        Sample s;
        s.at = now;
        if (w.dev) {
            const auto& devices = evidence[kernel_of(w)];
            if (const auto it = devices.find(*w.dev); it != devices.end()) s.kernel = it->second;
        }
        if (w.storage) {
            const auto& known = facts[w.storage];
            if (const auto it = known.find(w.config.name); it != known.end()) s.facts = it->second;
        }
        if (w.prober) {
            s.heartbeat = w.prober->snapshot();
            if (probe_cannot_run(s.heartbeat)) {
                // Not the storage's answer: the probe is not allowed to open the device.
                spdlog::error("Heartbeat on '{}' cannot run ({}): kernel evidence only",
                              w.config.name, s.heartbeat.last_error);
                w.prober->stop();
                w.prober.reset();
                s.heartbeat = HeartbeatEvidence{};
            }
        }
        samples.emplace(w.config.name, std::move(s));
    }

    track_vms(samples);

    // --- decide and act ---
    engine_->tick(now, samples);
}

// Each path's guests, and their disks' I/O errors as the path's facts.
void Daemon::track_vms(std::map<std::string, Sample>& samples) {
    if (!libvirt_) return;
    std::vector<WatchedPath> paths;
    for (const auto& w : watched_) paths.push_back({&w.config, w.dev});
    std::map<std::string, std::vector<VmOnPath>> lists;
    const VmSnapshot snapshot = libvirt_->snapshot(vm_tracker_.seen());
    for (auto& [name, vms] : vm_tracker_.collect(snapshot, paths)) {
        if (const auto it = samples.find(name); it != samples.end())
            add_vm_facts(vms, it->second.facts);
        lists[name] = std::move(vms.vms);
    }
    sink_.set_path_vms(std::move(lists));
}

void Daemon::publish(TimePoint now) {
    const EffectiveMode mode = engine_->mode().effective();
    std::vector<PathStatus> statuses;
    std::map<std::string, PathSnapshot> snapshots;
    const auto& monitors = engine_->monitors();
    for (std::size_t i = 0; i < monitors.size(); ++i) {
        const PathMonitor& m = *monitors[i];
        const Assessment& a = m.assessment();
        const EscalationEngine& esc = m.escalation();
        PathSnapshot snap;
        snap.config = m.config();
        snap.assessment = a;
        snap.window_ticks = m.window().size();
        if (!m.window().empty()) snap.latest = m.window().latest();
        snap.window_latency = m.window().latency_over(snap.window_ticks);
        snap.window_completed = m.window().completed_over(snap.window_ticks);
        snap.window_errors = m.window().errors_over(snap.window_ticks);
        snap.escalating = esc.active();
        snap.escalation_step = esc.active() ? esc.current_step() : 0;
        snap.next_step_at = esc.next_step_at();
        snap.taken_at = now;
        if (i < watched_.size() && watched_[i].dev) snap.device = format_dev(*watched_[i].dev);

        PathStatus& st = snap.status;
        st.name = m.config().name;
        st.kind = to_string(m.config().kind);
        st.target = m.config().target;
        st.verdict = to_string(a.verdict);
        st.reason = m.window().empty() ? "no evidence yet (first tick pending)" : a.reason;
        st.latency_p50_usec = std::uint64_t(a.p50.count());
        st.latency_p99_usec = std::uint64_t(a.p99.count());
        st.in_flight = a.in_flight;
        const auto& k = snap.latest.kernel;
        st.oldest_age_usec = std::uint64_t(
            (k.oldest_in_flight_age ? *k.oldest_in_flight_age : a.kernel_stall).count());
        const auto& hb = snap.latest.heartbeat;
        st.heartbeat_age_usec = std::uint64_t(
            (hb.last_success ? std::max(Duration{0}, snap.latest.at - *hb.last_success)
                             : a.heartbeat_gap)
                .count());
        st.errors = a.errors;
        st.escalation_step = snap.escalation_step;
        // The next ladder step while escalating, else when DEAD follows if nothing completes.
        const std::optional<TimePoint> fence_by = esc.active() ? snap.next_step_at : a.dead_at;
        st.fence_by_usec = fence_by ? realtime_ms_usec(*fence_by) : 0;
        for (const auto& vm : sink_.path_vms(st.name)) st.vms.push_back({vm.name, vm.state});
        statuses.push_back(st);
        snapshots.emplace(st.name, std::move(snap));
    }
    control_->publish(std::move(snapshots), mode);
    // systemd's status line, sent when it changes (not every tick).
    if (std::string line = status_line(mode_text(mode), statuses); line != status_line_) {
        status_line_ = std::move(line);
        sd_notifyf(0, "STATUS=%s", status_line_.c_str());
    }
    if (!service_) return;
    try {
        service_->update(statuses);
        service_->set_manager({mode_text(mode), mode.maintenance_until
                                                    ? realtime_ms_usec(*mode.maintenance_until)
                                                    : 0});
    } catch (const std::exception& e) {
        spdlog::warn("Failed to publish the status on the bus: {}, ignoring", e.what());
    }
}

void Daemon::handle(Command& command, TimePoint now) {
    std::visit([&](auto& c) { handle(c, now); }, command);
}

void Daemon::handle(SetModeCommand& c, TimePoint now) {
    const ModeRequest& r = c.request;
    const std::string reason = with_caller(r.reason, c.caller);
    if (r.mode == "maintenance") {
        engine_->maintenance(
            r.maintenance_for > Duration{0} ? r.maintenance_for : kDefaultMaintenance, reason, now);
    } else if (const auto m = mode_from_string(r.mode)) {
        engine_->set_mode(*m, reason, now);
    } else {
        spdlog::error("Ignoring unknown mode '{}' from the bus", r.mode);  // the service checks
    }
}

Event Daemon::host_step_event(EventType type, const ActionRequest& r, TimePoint now,
                              std::string message, const std::string& detail) const {
    const bool real_fence = !r.dry_run && r.action != Action::kLogOnly;
    int priority = type == EventType::kStepFailed ? 3 : 5;
    if (type == EventType::kStepStarted) priority = real_fence ? 2 : 4;
    Event e{type, now, priority, "", std::move(message), {}};
    e.fields.emplace_back("STEP", "0");
    e.fields.emplace_back("ACTION", std::string(to_string(r.action)));
    e.fields.emplace_back("DRY_RUN", r.dry_run ? "1" : "0");
    e.fields.emplace_back("DETAIL", detail);
    e.fields.emplace_back("ID", std::to_string(r.id));
    return e;
}

void Daemon::handle(FenceCommand& c, TimePoint now) {
    ActionRequest r = c.request;
    // The mode at the time it runs: anything but armed only describes the action.
    r.dry_run = engine_->mode().effective().mode != Mode::kArmed;
    const std::string prefix = r.dry_run ? "dry-run: " : "";
    sink_.emit(host_step_event(EventType::kStepStarted, r, now,
                               fmt::format("{}requested {} started: {}", prefix,
                                           to_string(r.action), with_caller(r.reason, c.caller)),
                               with_caller(r.reason, c.caller)));
    host_requests_[r.id] = r;
    DaemonControl* control = control_.get();
    executor_->execute(r, [control](ActionResult result) {
        control->post(FenceResultCommand{std::move(result)});
    });
}

void Daemon::handle(HeartbeatFenceCommand& c, TimePoint now) {
    const std::string reason = with_caller(c.reason, c.caller);
    if (const HostLadder* running = engine_->running_host_ladder(kHeartbeatTimeoutAction)) {
        spdlog::warn("heartbeat-timeout request {} joins the ladder already running ({}): {}", c.id,
                     running->name(), reason);
        return;
    }
    std::optional<AgentFenceSettings> agent;
    if (const auto& file = config_.cloudstack_agent_properties; !file.empty()) {
        std::string error;
        agent = read_agent_properties(file, error);
        if (!agent)
            spdlog::error("{}; the heartbeat-timeout ladder runs as configured", error);
        else
            for (const auto& note : agent->notes) spdlog::warn("{}", note);
    }
    const HeartbeatFencePlan plan = heartbeat_fence_plan(config_.defaults.ladder, agent);
    spdlog::info("heartbeat-timeout request {}: {}", c.id, plan.explanation);
    PathPolicy policy = config_.defaults;
    policy.ladder = plan.ladder;
    engine_->start_host_ladder(
        std::make_unique<HostLadder>(fmt::format("{}#{}", kHeartbeatTimeoutAction, c.id),
                                     std::move(policy),
                                     fmt::format("{} [{}]", reason, plan.explanation), now),
        now);
}

void Daemon::handle(FenceResultCommand& c, TimePoint now) {
    const auto it = host_requests_.find(c.result.id);
    if (it == host_requests_.end()) return;
    const ActionRequest r = it->second;
    host_requests_.erase(it);
    const bool ok = c.result.ok;
    sink_.emit(host_step_event(
        ok ? EventType::kStepSucceeded : EventType::kStepFailed, r, now,
        fmt::format("{}requested {} {}: {}", r.dry_run ? "dry-run: " : "", to_string(r.action),
                    ok ? "succeeded" : "FAILED", c.result.detail),
        c.result.detail));
}

void Daemon::handle(ReloadCommand& c, TimePoint) {
    if (recorder_) {
        c.done(
            "Reload is not possible while recording (--record): the recording's header fixes "
            "the paths; restart iohealthd to record the new configuration");
        return;
    }
    const DaemonConfig& next = c.config;
    if (next.tick != config_.tick || next.sysrq_path != config_.sysrq_path ||
        next.mode != config_.mode)
        spdlog::warn(
            "Reload: [daemon] tick, sysrq_trigger and mode take effect at the next start "
            "(the running mode is changed with iohealthctl mode), ignoring");
    if (next.libvirt_uri != config_.libvirt_uri)
        spdlog::warn("Reload: [libvirt] uri takes effect at the next start, ignoring");
    DaemonConfig applied = next;
    applied.libvirt_uri = config_.libvirt_uri;
    applied.tick = config_.tick;
    applied.sysrq_path = config_.sysrq_path;
    applied.mode = config_.mode;
    set_paths(applied);
    config_ = std::move(applied);
    control_->set_config(config_);
    spdlog::info("Reloaded the configuration: {} path(s)", watched_.size());
    c.done("");
}

}  // namespace

ConfigResult load_daemon_config(const std::string& path, bool explicit_path) {
    if (!explicit_path && !std::filesystem::exists(path)) return load_config_text("", "<defaults>");
    return load_config(path);
}

int run_daemon(const DaemonConfig& config, const DaemonOptions& options) {
    return Daemon(config, options).run();
}

}  // namespace iohealth
