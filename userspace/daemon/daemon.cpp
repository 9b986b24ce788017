#include "daemon/daemon.h"

#include <signal.h>
#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actuators/custom_command.h"
#include "actuators/dry_run.h"
#include "actuators/graceful_reboot.h"
#include "actuators/restart_agent.h"
#include "actuators/router.h"
#include "actuators/sysrq_reboot.h"
#include "daemon/engine.h"
#include "journal/journald_sink.h"
#include "sources/block_devices.h"
#include "sources/bpf_block_source.h"
#include "sources/diskstats_source.h"
#include "sources/heartbeat_prober.h"

namespace iohealth {
namespace {

// Unresolved devices are looked for again this often: a disk may appear after start-up.
constexpr Duration kResolveInterval = 5s;

struct Watched {
    PathConfig config;
    std::optional<dev_t> dev;
    std::string device_node;
    std::unique_ptr<HeartbeatProber> prober;
    TimePoint next_resolve{};
    std::string last_error;
};

bool probe_cannot_run(const HeartbeatEvidence& hb) {
    return hb.last_failed && !hb.last_success &&
           (hb.last_error.starts_with("open: EPERM") || hb.last_error.starts_with("open: EACCES"));
}

std::vector<PathConfig> effective_paths(const DaemonConfig& config) {
    if (!config.paths.empty() || !config.discover_block_devices) return config.paths;
    std::vector<PathConfig> paths;
    for (const auto& d : list_block_devices()) {
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

// Finds the device behind a path, logging each new failure once (a missing device is
// expected while it is being set up; the daemon keeps watching the rest).
void resolve(Watched& w, TimePoint now, const Clock& clock) {
    if (w.dev || now < w.next_resolve) return;
    w.next_resolve = now + kResolveInterval;
    try {
        switch (w.config.kind) {
            case PathKind::kDevice:
            case PathKind::kMount:
                w.dev = whole_disk(resolve_block_device(w.config.target));
                break;
            case PathKind::kDrbd:
                throw std::runtime_error("DRBD resources need the DRBD source (not in this build)");
        }
    } catch (const std::exception& e) {
        if (e.what() != w.last_error)
            spdlog::error("Failed to resolve path '{}' ({} {}): {}; will retry every {}",
                          w.config.name, to_string(w.config.kind), w.config.target, e.what(),
                          format_duration(kResolveInterval));
        w.last_error = e.what();
        return;
    }
    w.last_error.clear();
    spdlog::info("Path '{}': {} {} is device {}", w.config.name, to_string(w.config.kind),
                 w.config.target, format_dev(*w.dev));
    if (w.config.policy.heartbeat && !w.prober) {
        HeartbeatProber::Options o;
        o.kind = w.config.kind == PathKind::kMount ? HeartbeatProber::Kind::kFilesystem
                                                   : HeartbeatProber::Kind::kBlockDevice;
        o.target = w.config.target;
        o.interval = w.config.policy.timings.probe_interval;
        w.prober = std::make_unique<HeartbeatProber>(o, clock);
        w.prober->start();
    }
}

std::unique_ptr<KernelSource> make_kernel_source(bool no_bpf) {
    auto bpf = BpfBlockSource::make({.disabled = no_bpf});
    if (bpf.source) {
        spdlog::info("Kernel evidence: eBPF block probes");
        return std::move(bpf.source);
    }
    spdlog::warn(
        "DEGRADED MODE: eBPF block probes unavailable ({}); kernel evidence comes from "
        "/proc/diskstats (no per-I/O latency, no error counts) plus the heartbeat",
        bpf.error);
    return std::make_unique<DiskstatsSource>();
}

std::unique_ptr<Executor> make_executor(const std::string& sysrq_path, EventSink& sink) {
    std::map<Action, std::unique_ptr<Executor>> real;
    real[Action::kLogOnly] = std::make_unique<LogOnlyExecutor>();
    real[Action::kRestartAgent] = std::make_unique<RestartAgentExecutor>();
    real[Action::kGracefulReboot] = std::make_unique<GracefulRebootExecutor>();
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

}  // namespace

int run_daemon(const DaemonConfig& config, const DaemonOptions& options) {
    const SteadyClock clock;
    const Mode mode = options.mode.value_or(config.mode);
    const std::string sysrq_path =
        options.sysrq_path.empty() ? config.sysrq_path : options.sysrq_path;

    FanoutSink sink;
    sink.add(std::make_shared<JournaldSink>());
    if (options.print_events) sink.add(std::make_shared<TextSink>(stdout));
    std::FILE* event_log = nullptr;
    if (!options.event_log.empty()) {
        event_log = std::fopen(options.event_log.c_str(), "ae");
        if (!event_log) {
            spdlog::error("Failed to open event log '{}': {}", options.event_log,
                          std::strerror(errno));
            return 1;
        }
        sink.add(std::make_shared<TextSink>(event_log));
    }

    std::vector<Watched> watched;
    std::vector<PathConfig> paths = effective_paths(config);
    for (auto& p : paths) p.policy.timings.tick = config.tick;
    if (paths.empty()) spdlog::warn("No paths to monitor: none configured and none discovered");
    for (const auto& p : paths) watched.push_back(Watched{p, {}, {}, {}, {}, {}});

    std::unique_ptr<Recorder> recorder;
    const std::string record =
        options.record_path.empty() ? config.record_path : options.record_path;
    if (!record.empty()) {
        try {
            recorder = std::make_unique<Recorder>(record, paths, mode);
        } catch (const std::exception& e) {
            spdlog::error("{}", e.what());
            return 1;
        }
    }

    auto kernel = make_kernel_source(options.no_bpf);
    auto executor = make_executor(sysrq_path, sink);
    Engine engine(paths, mode, sink, *executor, recorder.get());

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    const TimePoint start = clock.now();
    spdlog::info("iohealthd monitoring {} path(s), mode {}, tick {}", paths.size(), to_string(mode),
                 format_duration(config.tick));
    if (mode == Mode::kDryRun)
        spdlog::info("Dry-run: fence actions are described in the log, never executed");
    sd_notify(0, "READY=1");

    std::vector<dev_t> devices;
    TimePoint next_tick = start + config.tick;
    for (;;) {
        // Wait for the tick, or a signal: one call, no polling.
        const Duration wait = next_tick - clock.now();
        if (wait > Duration{0}) {
            const timespec ts{static_cast<time_t>(wait.count() / 1'000'000),
                              static_cast<long>((wait.count() % 1'000'000) * 1000)};
            const int sig = sigtimedwait(&signals, nullptr, &ts);
            if (sig == SIGINT || sig == SIGTERM) {
                spdlog::info("Stopping on signal {}", sig);
                break;
            }
        }
        const TimePoint now = clock.now();
        next_tick += config.tick;
        if (next_tick <= now) next_tick = now + config.tick;  // we fell behind: do not burst

        // --- resolve paths whose device was missing ---
        std::vector<dev_t> wanted;
        for (auto& w : watched) {
            resolve(w, now, clock);
            if (w.dev) wanted.push_back(*w.dev);
        }
        if (wanted != devices) {
            devices = wanted;
            kernel->set_devices(devices);
        }

        // --- sample ---
        const auto evidence = kernel->collect(now);
        std::map<std::string, Sample> samples;
        for (auto& w : watched) {
            Sample s;
            s.at = now;
            if (w.dev) {
                if (const auto it = evidence.find(*w.dev); it != evidence.end())
                    s.kernel = it->second;
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

        // --- decide and act ---
        engine.tick(now, samples);
        sd_notify(0, "WATCHDOG=1");
        if (options.run_for && now - start >= *options.run_for) break;
    }
    sd_notify(0, "STOPPING=1");
    for (auto& w : watched)
        if (w.prober) w.prober->stop();
    if (event_log) std::fclose(event_log);
    return 0;
}

}  // namespace iohealth
