#pragma once
// One monitored path: its evidence window, classifier state and escalation engine.
// Pure like its parts: samples, mode and time go in; the assessment, events and action
// requests come out. The daemon and the replayer drive the same code.
#include <string>
#include <vector>

#include "core/classifier.h"
#include "core/escalation.h"
#include "core/events.h"

namespace iohealth {

struct TickOutput {
    std::vector<Event> events;
    std::vector<ActionRequest> requests;  // to be executed, in order
};

// Escalation events as published events (and the requests they carry) for `path`.
// `result_id`: the request a step result answers (0 for a tick).
void append_escalation(TickOutput& out, const std::string& path,
                       std::vector<EscalationEvent> events, TimePoint at,
                       std::uint64_t result_id = 0);

class PathMonitor {
  public:
    PathMonitor(PathConfig config, std::size_t window_ticks = 64);
    PathMonitor(const PathMonitor&) = delete;
    PathMonitor& operator=(const PathMonitor&) = delete;

    TickOutput tick(Sample sample, const EffectiveMode& mode);
    TickOutput on_result(const ActionResult& result, TimePoint now);
    // A no-progress episode that began at `since` before this process started, and the ladder
    // it had reached, if any: deadlines stay where they were (kept across a restart). Before
    // the first tick only.
    void carry_episode(TimePoint since, std::optional<LadderPosition> ladder);
    // The reboot guard on this path's ladder (EscalationEngine::hold_reboots).
    void hold_reboots(std::string why) { escalation_.hold_reboots(std::move(why)); }
    void release_reboots(TimePoint now) { escalation_.release_reboots(now); }
    // When the current no-progress episode began, if one is under way.
    std::optional<TimePoint> episode_since() const;

    const PathConfig& config() const { return config_; }
    const Assessment& assessment() const { return assessment_; }
    const EvidenceWindow& window() const { return window_; }
    const EscalationEngine& escalation() const { return escalation_; }

  private:
    PathConfig config_;
    EvidenceWindow window_;
    ClassifierState state_;
    Assessment assessment_;
    EscalationEngine escalation_;
};

}  // namespace iohealth
