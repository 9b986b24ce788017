#pragma once
// The escalation engine: walks a path's ladder while the path is DEAD. Pure: it is handed
// the assessment, the mode and `now`, and returns what happened; executors run the requests.
//
// Rules:
//  - the ladder starts when the verdict becomes DEAD; step 1 runs at once, each next step
//    runs `hold` after the previous one started (a failed step lets the next run at once);
//  - any verdict but DEAD stops the ladder ("averted"), unless an armed reboot step already
//    succeeded (a reboot under way is not undone by one late completion);
//  - disarmed (or maintenance) never starts a step; it says so once per episode;
//  - the same action on the same path does not run twice within repeat_interval, except
//    `log-only` (a log line costs nothing) and `reboot`, the last resort, never suppressed.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/classifier.h"
#include "core/event_type.h"
#include "core/executor.h"
#include "core/mode.h"

namespace iohealth {

struct EscalationEvent {
    EventType kind;  // kEscalationStarted .. kEscalationExhausted
    int step = 0;    // 1-based, 0 when not about one step
    Action action = Action::kLogOnly;
    bool dry_run = false;
    std::string detail;
    std::optional<ActionRequest> request;  // kStepStarted only
};

// Where a path's ladder stood: the last step started and when the next one is due.
struct LadderPosition {
    int step = 0;  // 1-based
    TimePoint next_at;
    bool operator==(const LadderPosition&) const = default;
};

class EscalationEngine {
  public:
    EscalationEngine(std::string path, const PathPolicy& policy);

    std::vector<EscalationEvent> on_assessment(const Assessment& a, const EffectiveMode& mode,
                                               TimePoint now);
    std::vector<EscalationEvent> on_result(const ActionResult& result, TimePoint now);

    bool active() const { return active_; }
    int current_step() const { return step_; }  // 1-based; 0 when idle
    // When the next step runs if the path stays DEAD.
    std::optional<TimePoint> next_step_at() const;
    // The ladder under way, if any (what a restarted daemon resumes).
    std::optional<LadderPosition> position() const;
    // A ladder that was under way before the daemon restarted: when the path is DEAD it
    // continues after `p.step` instead of starting over; forgotten at the first proof of life.
    void resume(LadderPosition p) { resume_ = p; }
    // Reboot steps are skipped (reported once each, at crit, with `why`) while held; the lower
    // rungs run. Released, a ladder under way runs its skipped reboot steps at once.
    void hold_reboots(std::string why);
    void release_reboots(TimePoint now);
    bool reboots_held() const { return !reboot_hold_.empty(); }
    const std::string& reboot_hold() const { return reboot_hold_; }  // why, while held

  private:
    void start_next_steps(const Assessment& a, const EffectiveMode& mode, TimePoint now,
                          std::vector<EscalationEvent>& out);
    void stop();

    std::string path_;
    const PathPolicy& policy_;
    bool active_ = false;
    bool latched_ = false;     // an armed reboot step succeeded
    bool suppressed_ = false;  // kSuppressed already said for this episode
    int step_ = 0;             // last started step, 1-based
    TimePoint next_at_;
    bool exhausted_ = false;  // kExhausted already said for this episode
    std::optional<LadderPosition> resume_;
    std::string reboot_hold_;  // why reboot steps are held; empty: they run
    int first_held_ = 0;       // the first reboot step skipped in this ladder, 1-based
    struct Pending {
        int step;
        Action action;
        bool dry_run;
    };
    std::map<std::uint64_t, Pending> pending_;  // request id -> what it was
    std::map<Action, TimePoint> last_run_;
    std::uint64_t next_id_ = 1;
};

}  // namespace iohealth
