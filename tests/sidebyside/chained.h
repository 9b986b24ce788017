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

#include <nlohmann/json.hpp>

#include "sidebyside/result.h"

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

// One `-c` of the agent, seconds after the fault, with iohealthd's reply as the drop-in
// journaled it: fencing | declined | fallback (iohealthd would not act) | none.
struct AgentFence {
    double at_s = 0;
    double took_s = 0;
    int exit = -1;
    std::string out;  // the script's stdout (the agent reads nothing from it)
    std::string reply;
    std::string detail;
};

// A ladder step iohealthd started: the path's own ladder ("pool") or a request's
// ("heartbeat-timeout#3", "heartbeat-declined#2").
struct LadderStep {
    double at_s = 0;
    std::string ladder;
    std::string action;  // log-only | restart-agent | graceful-reboot | reboot | ...
};

struct TimedText {
    double at_s = 0;
    std::string text;
};

struct ChainedResult {
    std::string scenario;
    std::string kind;
    std::string what;
    double scale = 1.0;
    double warmup_s = 0;
    double write_timeout_s = 0;
    std::vector<peer::FaultStep> timeline;
    double ran_s = 0;  // how long after the fault the run ended
    int agent_writes = 0;
    std::vector<AgentFence> agent_fences;
    std::vector<VerdictAt> verdicts;        // the pool's path
    std::vector<TimedText> declined;        // fence-declined events
    std::vector<LadderStep> steps;          // every step-started, in order
    std::vector<std::string> logind_calls;  // the mock's, in order
    std::string sysrq;                      // what iohealthd wrote to its sysrq trigger
    std::string dropin_sysrq;               // what the drop-in's stock fence wrote
    std::vector<std::string> dropin_crit;   // the drop-in's crit records (a fallback ran)
    // The stock peer: its -c (the reset follows fence_delay later), from this run's agent
    // when it called -c, else from the model in virtual time on the same timeline.
    std::string stock_source;
    std::optional<double> stock_fence_at_s;
    double stock_fence_delay_s = 0;

    // The first graceful-reboot or reboot step of any ladder.
    std::optional<LadderStep> first_reboot_rung() const;
};

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

nlohmann::json to_json(const ChainedResult& r);
// contention: the agent called -c, every reply `declined`, a fence-declined event, no reboot
// rung, logind never called, neither sysrq file written, no fallback. dead: a reboot rung ran
// (logind called or the sysrq file written) no later than the stock -c, every reply
// `fencing`, nothing declined, no fallback. "ok" or what failed.
std::string acceptance(const ChainedResult& r);
std::string render_chained_table(const std::vector<ChainedResult>& results);

}  // namespace iohealth::sidebyside
