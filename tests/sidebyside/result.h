#pragma once
// One scenario's result as a JSON line: the input of the side-by-side table. The host tier
// (sidebyside run) writes them; another runner (the VM tier's DRBD/NFS scenarios) appends its
// own in the same form, with or without the "peer" object: without it, the table runs the
// peer model in virtual time on the scenario's timeline. Times are seconds after the fault
// starts.
//
//   {"scenario": "hang", "tier": "host", "kind": "dead" | "contention",
//    "scale": 0.4, "length_s": 168, "warmup_s": 36,
//    "timeline": [{"at_s": 0, "storage": "hang"}, {"at_s": 168, "storage": "heal"}],
//    "iohealth": {"fence_at_s": 10.2 | null,
//                 "verdicts": [{"at_s": 1.9, "verdict": "STALLED"}, ...], "note": "eBPF"},
//    "peer": {"source": "real storage", "fence_at_s": 152.4 | null,
//             "neighbours_dead_at_s": 30.0 | null}}
//
// "kind" says which acceptance rule applies: contention -> iohealth must not fence; dead ->
// iohealth must fence, no later than the peer. "scale" multiplies every timing of both sides
// (iohealth's io_timeout and tick, the peer's frequency, timeouts and sleeps); absent = 1.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sidebyside/fault_timeline.h"
#include "sidebyside/peer_outcome.h"

namespace iohealth::sidebyside {

struct VerdictAt {
    double at_s = 0;
    std::string verdict;
};

struct ScenarioResult {
    std::string scenario;
    std::string tier = "host";
    std::string kind;  // contention | dead
    double scale = 1.0;
    double length_s = 0;
    double warmup_s = 0;  // the peer started this long before the fault
    std::vector<peer::FaultStep> timeline;
    std::optional<double> iohealth_fence_at_s;
    std::vector<VerdictAt> iohealth_verdicts;
    std::string iohealth_note;
    std::string peer_source;  // "real storage", or "model, virtual time" (filled by the table)
    std::optional<double> peer_fence_at_s;
    std::optional<double> peer_neighbours_dead_at_s;
};

nlohmann::json to_json(const ScenarioResult& r);
// Throws std::runtime_error naming the missing or malformed field.
ScenarioResult result_from_json(const nlohmann::json& j);

// The peer's timings for a result: CloudStack's defaults times its scale.
peer::PeerTimings peer_timings(const ScenarioResult& r);
// Fills the peer fields from the model in virtual time when the result has none.
void complete_peer(ScenarioResult& r);

// "152.4 s (≙ 381 s)": measured, and at CloudStack's and iohealth's unscaled timings.
std::string time_text(double at_s, double scale);

// The acceptance rule of the result's kind: "ok", or why not.
std::string acceptance(const ScenarioResult& r);
// The markdown table: scenario, peer decision and time, iohealth decision and time, check.
std::string render_table(const std::vector<ScenarioResult>& results);

}  // namespace iohealth::sidebyside
