// iohealthd: storage I/O health monitor and graded fencing for KVM hosts.
#include <syslog.h>
#include <unistd.h>

#include <cstdio>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "config/config.h"
#include "daemon/daemon.h"
#include "daemon/logging.h"
#include "daemon/replay.h"
#include "iohealth/version.h"
#include "journal/event_sink.h"

namespace {
constexpr const char* kDefaultConfig = "/etc/iohealth/iohealthd.conf";
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"iohealthd: tells slow storage from dead storage and fences only the dead"};
    app.set_version_flag("--version", iohealth::kVersion);
    std::string config_path = kDefaultConfig;
    bool check_config = false;
    std::string replay_file;
    iohealth::DaemonOptions opt;
    std::string mode;
    double duration_s = 0;
    std::string log_level = "info";
    auto* config_opt = app.add_option("-c,--config", config_path,
                                      "configuration file; drop-ins are read from FILE.d/*.conf");
    app.add_flag("--check-config", check_config,
                 "validate the configuration, print every effective value and its origin, exit");
    app.add_option("--replay", replay_file,
                   "run a recording through the classifier and escalation, print the events, exit")
        ->check(CLI::ExistingFile);
    app.add_option("--record", opt.record_path, "record the evidence stream to FILE (JSON lines)");
    app.add_option("--mode", mode, "override the configured mode")
        ->check(CLI::IsMember({"dry-run", "armed", "disarmed"}));
    app.add_flag("--no-bpf", opt.no_bpf, "do not load the eBPF probes (degraded mode)");
    app.add_option("--duration", duration_s, "stop after SECONDS (default: run until signalled)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--event-log", opt.event_log, "append one line per event to FILE");
    app.add_flag("--foreground", opt.print_events, "print events on stdout as well");
    app.add_option("--sysrq-trigger", opt.sysrq_path, "write the reboot to FILE (tests)");
    app.add_flag("--no-bus", opt.no_bus, "do not publish the D-Bus API (no iohealthctl)");
    app.add_option("--bus-address", opt.bus_address,
                   "use ADDR as the system bus for the API and the fence calls (tests)");
    app.add_option("--runtime-dir", opt.dirs.runtime,
                   "keep the no-progress episodes here, in memory (default: systemd's "
                   "$RUNTIME_DIRECTORY, /run/iohealth; none: not kept)");
    app.add_option("--state-dir", opt.dirs.state,
                   "keep the runtime mode and the last fence here (default: systemd's "
                   "$STATE_DIRECTORY, /var/lib/iohealth; none: not kept)");
    app.add_option("--log-level", log_level, "diagnostics level")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    CLI11_PARSE(app, argc, argv);

    iohealth::setup_logging(log_level);

    if (!replay_file.empty()) {
        iohealth::TextSink out(stdout);
        const std::string error = iohealth::replay(replay_file, out);
        if (!error.empty()) {
            std::fprintf(stderr, "iohealthd: %s\n", error.c_str());
            return 1;
        }
        return 0;
    }

    opt.config_path = config_path;
    opt.config_explicit = config_opt->count() > 0;
    const auto result = iohealth::load_daemon_config(config_path, opt.config_explicit);
    const char* warning = iohealth::stream_priority_prefix(LOG_WARNING);
    const char* error = iohealth::stream_priority_prefix(LOG_ERR);
    for (const auto& w : result.warnings)
        std::fprintf(stderr, "%swarning: %s\n", warning, w.c_str());
    if (!result.config) {
        for (const auto& e : result.errors)
            std::fprintf(stderr, "%serror: %s\n", error, e.to_string().c_str());
        std::fprintf(stderr, "%siohealthd: configuration refused (%zu error%s)\n", error,
                     result.errors.size(), result.errors.size() == 1 ? "" : "s");
        return 1;
    }
    if (check_config) {
        std::fputs(iohealth::render_effective(*result.config).c_str(), stdout);
        return 0;
    }
    if (!mode.empty()) opt.mode = iohealth::mode_from_string(mode);
    if (duration_s > 0)
        opt.run_for = iohealth::Duration{static_cast<std::int64_t>(duration_s * 1e6)};
    const iohealth::SteadyClock clock;
    return iohealth::run_daemon(*result.config, opt, clock);
}
