#pragma once
// What one chained run (chained.h) saw, as data: the agent's -c calls with iohealthd's replies,
// the pool's verdicts, every ladder step, the fence-declined events, the mock logind's calls
// and both sysrq files; its JSON line, its acceptance rule and its table row. Pure: tested in
// tests/unit/peer_model_test.cpp.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sidebyside/result.h"

namespace iohealth::sidebyside {

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

// graceful-reboot or reboot: a step that takes the host down.
bool is_reboot_rung(const std::string& action);

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

nlohmann::json to_json(const ChainedResult& r);
// contention: the agent called -c, every reply `declined`, a fence-declined event, no reboot
// rung, logind never called, neither sysrq file written, no fallback. dead: a reboot rung ran
// (logind called or the sysrq file written) no later than the stock -c, every reply
// `fencing`, nothing declined, no fallback. "ok" or what failed.
std::string acceptance(const ChainedResult& r);
std::string render_chained_table(const std::vector<ChainedResult>& results);

}  // namespace iohealth::sidebyside
