// A daemon restarted during a stall (issue 13): the classifier and the ladder carried over
// through PathMonitor::carry_episode reach DEAD and the next steps at the times an
// uninterrupted daemon would, and a restart without a kept episode is never early.
#include <gtest/gtest.h>

#include "sim.h"

namespace iohealth::test {
namespace {

using namespace std::chrono_literals;

constexpr auto kLeadIn = 30s;
constexpr TimePoint kHang{kLeadIn};

// What a fresh process samples: its prober started a new probe at `restart`, and its kernel
// source never saw the requests issued before it.
Sample as_new_process_sees(Sample s, TimePoint restart) {
    if (s.heartbeat.pending_since && *s.heartbeat.pending_since < restart)
        s.heartbeat.pending_since = restart;
    s.heartbeat.last_success.reset();
    s.kernel.oldest_in_flight_age.reset();
    return s;
}

struct Restarted {
    std::optional<TimePoint> dead;
    std::vector<int> steps;  // ladder steps started after the restart
};

// Runs a stall through one monitor until `restart`, then through a second one, carried over
// (or not), and returns when the second one saw DEAD.
Restarted run_with_restart(TimePoint restart, bool carry, Duration stall = 60s) {
    Simulation sim(base_policy());
    const auto samples = sim.samples({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, stall}});
    PathConfig config;
    config.name = "disk0";
    config.policy = base_policy();
    PathMonitor before(config);
    PathMonitor after(config);
    const EffectiveMode mode;
    Restarted out;
    bool carried = false;
    for (const auto& s : samples) {
        if (s.at < restart) {
            before.tick(s, mode);
            continue;
        }
        if (!carried && carry) {
            EXPECT_TRUE(before.episode_since()) << "no episode under way at the restart";
            if (before.episode_since())
                after.carry_episode(*before.episode_since(), before.escalation().position());
        }
        carried = true;
        const TickOutput o = after.tick(as_new_process_sees(s, restart), mode);
        for (const auto& r : o.requests) out.steps.push_back(r.step);
        if (!out.dead && after.assessment().verdict == Verdict::kDead) out.dead = s.at;
    }
    return out;
}

TimePoint uninterrupted_dead() {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 60s}});
    return *run.first(Verdict::kDead);
}

TEST(Restart, CarriedEpisodeIsDeadAtTheOriginalDeadline) {
    const TimePoint expected = uninterrupted_dead();
    const Duration dead_after = base_policy().timings.dead_after;
    const Duration tick = base_policy().timings.tick;
    const Restarted r = run_with_restart(kHang + dead_after * 6 / 10, true);
    ASSERT_TRUE(r.dead);
    EXPECT_LE(std::chrono::abs(*r.dead - expected), tick)
        << format_seconds(*r.dead) << " vs " << format_seconds(expected);
    ASSERT_FALSE(r.steps.empty());
    EXPECT_EQ(r.steps.front(), 1);
}

TEST(Restart, WithoutAKeptEpisodeTheDeadlineCountsFromFirstSightNeverEarlier) {
    const Duration dead_after = base_policy().timings.dead_after;
    const TimePoint restart = kHang + dead_after * 6 / 10;
    const Restarted r = run_with_restart(restart, false);
    ASSERT_TRUE(r.dead);
    EXPECT_GE(*r.dead, restart + dead_after);
}

TEST(Restart, ALadderUnderWayResumesAfterItsLastStep) {
    const Duration dead_after = base_policy().timings.dead_after;
    const Duration hold = base_policy().ladder.at(0).hold;
    // Restarted just after step 2 started: the next is step 3, not step 1 again.
    const Restarted r = run_with_restart(kHang + dead_after + hold + 2s, true, 120s);
    ASSERT_FALSE(r.steps.empty());
    EXPECT_EQ(r.steps.front(), 3);
}

// --- the reboot guard on the ladder ---

Assessment dead_at(TimePoint now) {
    Assessment a;
    a.verdict = Verdict::kDead;
    a.at = now;
    return a;
}

PathPolicy ladder_policy() {
    PathPolicy p = base_policy();
    p.ladder = {{Action::kLogOnly, 2s}, {Action::kGracefulReboot, 2s}, {Action::kReboot, 2s}};
    return p;
}

TEST(RebootHold, HeldRebootStepsAreSkippedAtCritAndRunOnceReleased) {
    const PathPolicy p = ladder_policy();
    EscalationEngine e("disk0", p);
    e.hold_reboots("still dead after the fence at T");
    const EffectiveMode armed{Mode::kArmed, false, std::nullopt};
    std::vector<EscalationEvent> all;
    for (int s = 0; s <= 6; ++s) {
        auto out = e.on_assessment(dead_at(TimePoint{Duration{s * 1'000'000}}), armed,
                                   TimePoint{Duration{s * 1'000'000}});
        all.insert(all.end(), out.begin(), out.end());
    }
    std::vector<Action> run;
    int held = 0;
    for (const auto& x : all) {
        if (x.request) run.push_back(x.request->action);
        if (x.kind == EventType::kFenceSuppressed) {
            ++held;
            EXPECT_EQ(x.detail, "held: still dead after the fence at T");
            EXPECT_EQ(event_for("disk0", x, TimePoint{}, 0).priority, 2);
        }
    }
    EXPECT_EQ(run, std::vector<Action>{Action::kLogOnly});
    EXPECT_EQ(held, 2);

    e.release_reboots(TimePoint{7s});
    const auto out = e.on_assessment(dead_at(TimePoint{7s}), armed, TimePoint{7s});
    ASSERT_FALSE(out.empty());
    ASSERT_TRUE(out.front().request);
    EXPECT_EQ(out.front().request->action, Action::kGracefulReboot);
}

}  // namespace
}  // namespace iohealth::test
