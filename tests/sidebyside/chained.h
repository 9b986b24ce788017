#pragma once
// The chained side-by-side: CloudStack's agent loop (the peer model, peer_runner.h) writes its
// heartbeat through the real drop-in (contrib/cloudstack/kvmheartbeat.sh, dropin_agent.h) onto
// an ext4 pool mounted `sync,dirsync` (each write reaches the storage, as on the agent's
// sync,noac NFS mount) on a faultfs-backed loop device (tests/harness); the real iohealthd,
// armed, watches that mount as a path, with a test sysrq trigger and python-dbusmock's logind
// on a system-like private dbus-daemon; when the agent's round fails, its `-c` goes through
// the drop-in's busctl call into that iohealthd. What ran, and when, is read back from
// iohealthd's --event-log, the mock's call log, both sysrq files and the drop-in's syslog.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "sidebyside/chained_result.h"

namespace iohealth::sidebyside {

struct ChainedScenario {
    std::string name;
    std::string kind;  // contention: no reboot rung may run | dead: fenced, no later than stock
    std::string what;
    std::vector<peer::FaultStep> timeline;  // scaled
    Duration write_timeout{};               // the agent's heartbeat.update.timeout in this scenario
    bool shared = false;  // the neighbours' storage too (the stock model's neighbours)
    // dead: go on after iohealthd's reboot rung until the agent's -c was answered.
    bool await_agent_fence = false;
    Duration length{};  // after the fault, at most
};

// The four scenarios at `scale` (every timing of both sides; not the fault magnitudes).
std::vector<ChainedScenario> chained_scenarios(double scale);

struct ChainedRunOptions {
    double scale = 0.4;
    std::string iohealthd;  // the binary
    std::string dropins;    // contrib/cloudstack
};

// Runs one scenario (root, FUSE, loop devices, dbus-daemon, python3-dbusmock); progress lines
// go to `log`.
ChainedResult run_chained_scenario(const ChainedScenario& s, const ChainedRunOptions& o,
                                   std::ostream& log);
// Why a chained run cannot start here (no root, FUSE, mkfs.ext4, dbusmock), if so.
std::optional<std::string> chained_unavailable_reason();

}  // namespace iohealth::sidebyside
