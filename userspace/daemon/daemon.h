#pragma once
// The live daemon: discovers and resolves paths, starts the heartbeat probers, reads the
// kernel source once per tick and drives the Engine. The loop itself never does storage I/O.
#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"
#include "daemon/kept_state.h"

namespace iohealth {

struct DaemonOptions {
    bool no_bpf = false;              // --no-bpf: /proc/diskstats + heartbeat only
    std::optional<Mode> mode;         // overrides [daemon] mode
    std::string record_path;          // overrides [daemon] record
    std::optional<Duration> run_for;  // --duration: stop after this long (tests, demos)
    std::string event_log;            // --event-log FILE: format_event() lines
    bool print_events = false;        // events on stdout too (--foreground)
    std::string sysrq_path;           // overrides [daemon] sysrq_trigger (tests)
    bool no_bus = false;              // --no-bus: publish nothing on D-Bus
    std::string bus_address;          // --bus-address: the "system bus" (tests, private buses)
    std::string config_path;          // what Reload and SIGHUP read again
    bool config_explicit = false;     // -c given: a missing file is an error, not the defaults
    StateDirs dirs = default_state_dirs();  // --runtime-dir, --state-dir
};

// The configuration file, or the built-in defaults (dry-run, this machine's disks) when no
// file was named and the default one does not exist.
ConfigResult load_daemon_config(const std::string& path, bool explicit_path);

// Runs until SIGINT/SIGTERM (or run_for); SIGHUP reloads the configuration. Returns the
// process exit code. `clock` is the one every part of the daemon reads.
int run_daemon(const DaemonConfig& config, const DaemonOptions& options, const Clock& clock);

}  // namespace iohealth
