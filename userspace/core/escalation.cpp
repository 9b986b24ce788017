#include "core/escalation.h"

#include <algorithm>

#include <fmt/format.h>

namespace iohealth {
namespace {
std::string ladder_text(const std::vector<LadderStep>& ladder) {
    std::string s;
    for (const auto& step : ladder) {
        if (!s.empty()) s += ", ";
        s += to_string(step.action);
    }
    return s;
}
}  // namespace

EscalationEngine::EscalationEngine(std::string path, const PathPolicy& policy)
    : path_(std::move(path)), policy_(policy) {}

std::optional<TimePoint> EscalationEngine::next_step_at() const {
    if (!active_ || step_ >= static_cast<int>(policy_.ladder.size())) return std::nullopt;
    return next_at_;
}

std::optional<LadderPosition> EscalationEngine::position() const {
    if (!active_) return std::nullopt;
    return LadderPosition{step_, next_at_};
}

void EscalationEngine::hold_reboots(std::string why) {
    reboot_hold_ = std::move(why);
}

void EscalationEngine::release_reboots(TimePoint now) {
    reboot_hold_.clear();
    if (!active_ || first_held_ == 0) return;
    step_ = first_held_ - 1;
    next_at_ = now;
    exhausted_ = false;
    first_held_ = 0;
}

void EscalationEngine::stop() {
    first_held_ = 0;
    active_ = false;
    latched_ = false;
    exhausted_ = false;
    step_ = 0;
}

std::vector<EscalationEvent> EscalationEngine::on_assessment(const Assessment& a,
                                                             const EffectiveMode& mode,
                                                             TimePoint now) {
    std::vector<EscalationEvent> out;
    const int steps = static_cast<int>(policy_.ladder.size());
    if (a.proof_of_life) resume_.reset();
    if (a.verdict != Verdict::kDead) {
        suppressed_ = false;
        if (!active_) return out;
        if (!latched_) {
            out.push_back({EventType::kEscalationAverted, step_, Action::kLogOnly, false,
                           fmt::format("path recovered ({}) after step {} of {}",
                                       to_string(a.verdict), step_, steps),
                           std::nullopt});
            stop();
            return out;
        }
        // A reboot is under way: a late completion does not stop it (stale writes may land).
    } else if (mode.mode == Mode::kDisarmed) {
        const std::string why = mode.maintenance ? "maintenance" : "mode disarmed";
        if (active_) {
            out.push_back({EventType::kFenceSuppressed, step_, Action::kLogOnly, false,
                           fmt::format("ladder stopped after step {} of {}: {}", step_, steps, why),
                           std::nullopt});
            stop();
            suppressed_ = true;
        } else if (!suppressed_) {
            out.push_back({EventType::kFenceSuppressed, 0, Action::kLogOnly, false,
                           fmt::format("path DEAD but fencing is off: {}", why), std::nullopt});
            suppressed_ = true;
        }
        return out;
    } else if (!active_) {
        active_ = true;
        const LadderPosition from = resume_.value_or(LadderPosition{0, now});
        step_ = std::clamp(from.step, 0, steps);
        next_at_ = from.next_at;
        resume_.reset();
        out.push_back({EventType::kEscalationStarted, step_, Action::kLogOnly,
                       mode.mode == Mode::kDryRun,
                       step_ == 0 ? fmt::format("ladder: {}", ladder_text(policy_.ladder))
                                  : fmt::format("ladder: {}; resumed after step {} (started "
                                                "before the daemon restarted)",
                                                ladder_text(policy_.ladder), step_),
                       std::nullopt});
    }
    start_next_steps(a, mode, now, out);
    return out;
}

void EscalationEngine::start_next_steps(const Assessment& a, const EffectiveMode& mode,
                                        TimePoint now, std::vector<EscalationEvent>& out) {
    const int steps = static_cast<int>(policy_.ladder.size());
    const bool dry_run = mode.mode != Mode::kArmed;
    while (step_ < steps && now >= next_at_) {
        const LadderStep& ls = policy_.ladder[static_cast<std::size_t>(step_)];
        ++step_;
        if (!reboot_hold_.empty() &&
            (ls.action == Action::kGracefulReboot || ls.action == Action::kReboot)) {
            if (first_held_ == 0) first_held_ = step_;
            out.push_back({EventType::kFenceSuppressed, step_, ls.action, dry_run,
                           fmt::format("held: {}", reboot_hold_), std::nullopt});
            next_at_ = now;
            continue;
        }
        const auto last = last_run_.find(ls.action);
        if (ls.action != Action::kReboot && ls.action != Action::kLogOnly &&
            last != last_run_.end() && now - last->second < policy_.timings.repeat_interval) {
            out.push_back({EventType::kStepRateLimited, step_, ls.action, dry_run,
                           fmt::format("{} ran {} ago (repeat_interval {})", to_string(ls.action),
                                       format_duration(now - last->second),
                                       format_duration(policy_.timings.repeat_interval)),
                           std::nullopt});
            next_at_ = now;
            continue;
        }
        ActionRequest r;
        r.id = next_id_++;
        r.path = path_;
        r.action = ls.action;
        r.step = step_;
        r.dry_run = dry_run;
        r.reason = a.reason;
        r.deadline = ls.action == Action::kGracefulReboot ? ls.hold : Duration{0};
        r.agent_unit = policy_.agent_unit;
        r.custom_command = policy_.custom_command;
        r.custom_timeout = policy_.timings.custom_timeout;
        last_run_[ls.action] = now;
        pending_[r.id] = {step_, ls.action, dry_run};
        next_at_ = now + ls.hold;
        std::string detail =
            step_ < steps
                ? fmt::format("step {} of {}; next step ({}) in {} if still DEAD", step_, steps,
                              to_string(policy_.ladder[step_].action), format_duration(ls.hold))
                : fmt::format("step {} of {}; last step", step_, steps);
        out.push_back(
            {EventType::kStepStarted, step_, ls.action, dry_run, std::move(detail), std::move(r)});
    }
    if (step_ == steps && !exhausted_ && now >= next_at_) {
        exhausted_ = true;
        out.push_back({EventType::kEscalationExhausted, step_, Action::kLogOnly, dry_run,
                       fmt::format("all {} steps ran and the path is still DEAD", steps),
                       std::nullopt});
    }
}

std::vector<EscalationEvent> EscalationEngine::on_result(const ActionResult& result,
                                                         TimePoint now) {
    std::vector<EscalationEvent> out;
    const auto it = pending_.find(result.id);
    if (it == pending_.end()) return out;  // not ours: a result is reported once
    const Pending p = it->second;
    pending_.erase(it);
    out.push_back({result.ok ? EventType::kStepSucceeded : EventType::kStepFailed, p.step, p.action,
                   p.dry_run, result.detail, std::nullopt});
    if (!active_ || p.step != step_) return out;
    if (result.ok) {
        if (!p.dry_run && (p.action == Action::kGracefulReboot || p.action == Action::kReboot))
            latched_ = true;
    } else if (now < next_at_) {
        next_at_ = now;  // a failed step does not hold the ladder back
    }
    return out;
}

}  // namespace iohealth
