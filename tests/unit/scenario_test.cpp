// Table-driven scenarios on the virtual clock: each asserts the verdict timeline and the
// actions. Base policy: tick 1 s, stall_after 5 s, warn 20 s, dead_after 25 s.
#include <gtest/gtest.h>

#include "sim.h"

namespace iohealth::test {
namespace {

using std::chrono::minutes;
constexpr TimePoint at(Duration d) {
    return TimePoint{d};
}

std::vector<Action> actions(const SimRun& run) {
    std::vector<Action> out;
    for (const auto& r : run.requests) out.push_back(r.action);
    return out;
}

// The healthy lead-in ends at 30 s: the last completion is seen at the 30 s tick, so a stall
// starting after it must be DEAD at 30 + dead_after = 55 s, never earlier, at most a tick later.
constexpr auto kLeadIn = 30s;
constexpr TimePoint kLastCompletion = at(kLeadIn);

TEST(Scenario, SteadyContentionNeverPassesContendedAndNeverFences) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kContended, minutes(10)}});
    EXPECT_TRUE(run.ever(Verdict::kContended));
    for (const auto& a : run.assessments)
        ASSERT_TRUE(a.verdict == Verdict::kHealthy || a.verdict == Verdict::kContended)
            << format_seconds(a.at) << " " << to_string(a.verdict) << ": " << a.reason;
    EXPECT_TRUE(run.requests.empty());
    EXPECT_TRUE(run.of_type(EventType::kEscalationStarted).empty());
    // No flapping: one change into CONTENDED for the whole 10 minutes.
    EXPECT_LE(run.changes_between(kLastCompletion, at(kLeadIn + minutes(10))), 2);
}

TEST(Scenario, HeartbeatQueuedBehindSlowIoThatCompletesIsContentionNotAStall) {
    // Regression: found end to end (a loop device serving one request at a time). The probe
    // waits 6 s behind 3 s requests; completions every 3 s are proof of life, so the probe's
    // wait is contention, never STALLED, even when one witness is enough for DEAD.
    for (auto witnesses : {DeadWitnesses::kBoth, DeadWitnesses::kEither}) {
        PathPolicy p = base_policy();
        p.witnesses = witnesses;
        Simulation sim(p);
        const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kQueued, minutes(5)}});
        EXPECT_TRUE(run.ever(Verdict::kContended)) << to_string(witnesses);
        EXPECT_FALSE(run.ever(Verdict::kDead));
        // The first 3 s gap after 5 ms I/O is a real 2-tick stall; once the window holds the
        // 3 s completions the threshold adapts and the queue is contention from then on.
        for (const auto& a : run.assessments) {
            if (a.at <= kLastCompletion + 10s) continue;
            ASSERT_TRUE(a.verdict == Verdict::kHealthy || a.verdict == Verdict::kContended)
                << to_string(witnesses) << " " << format_seconds(a.at) << " "
                << to_string(a.verdict) << ": " << a.reason;
        }
        EXPECT_TRUE(run.requests.empty());
    }
}

TEST(Scenario, FullStallIsStalledWithinTwoTicksAndDeadAtTheDeadline) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 60s}});
    const auto stalled = run.first(Verdict::kStalled);
    ASSERT_TRUE(stalled);
    EXPECT_LE(*stalled - kLastCompletion, 2 * 1s);
    const auto dead = run.first(Verdict::kDead);
    ASSERT_TRUE(dead);
    const TimePoint deadline = kLastCompletion + 25s;
    EXPECT_GE(*dead, deadline) << "DEAD before its deadline";
    EXPECT_LE(*dead, deadline + 1s) << "DEAD more than one tick late";
    // The ladder starts at DEAD and walks with its holds (dry-run: every request says so).
    ASSERT_GE(run.requests.size(), 3u);
    EXPECT_EQ(run.requests[0].action, Action::kLogOnly);
    EXPECT_EQ(run.requests[1].action, Action::kRestartAgent);
    EXPECT_EQ(run.requests[2].action, Action::kGracefulReboot);
    for (const auto& r : run.requests) EXPECT_TRUE(r.dry_run);
    const auto started = run.of_type(EventType::kStepStarted);
    EXPECT_EQ(started[0].at, *dead);
    EXPECT_EQ(started[1].at, *dead + 10s);
    EXPECT_EQ(started[2].at, *dead + 20s);
    // The verdict carries the numbers: both witnesses, past the deadline.
    const auto& dead_a = run.assessments[static_cast<std::size_t>((*dead - at(0s)) / 1s) - 1];
    EXPECT_EQ(dead_a.verdict, Verdict::kDead);
    EXPECT_GE(dead_a.kernel_stall, 25s);
    EXPECT_GE(dead_a.heartbeat_gap, 25s);
    EXPECT_EQ(dead_a.in_flight, 32u);
    EXPECT_NE(dead_a.reason.find("no completion for 25s with 32 in flight"), std::string::npos)
        << dead_a.reason;
    // A fence-imminent warning came before, at warn_after.
    const auto warn = run.of_type(EventType::kFenceImminent);
    ASSERT_EQ(warn.size(), 1u);
    EXPECT_EQ(warn[0].at, kLastCompletion + 20s);
}

TEST(Scenario, StallEndingOneTickBeforeTheDeadlineIsANearMissWithoutFence) {
    Simulation sim(base_policy());
    // Nothing completes during ticks 31..54; the 55 s tick completes again.
    const SimRun run =
        sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 24s}, {Storage::kHealthy, 60s}});
    EXPECT_FALSE(run.ever(Verdict::kDead));
    EXPECT_TRUE(run.requests.empty());
    const auto near = run.of_type(EventType::kNearMiss);
    ASSERT_EQ(near.size(), 1u);
    EXPECT_EQ(near[0].at, kLastCompletion + 25s);
    EXPECT_NE(near[0].message.find("no progress for 24s of dead_after 25s"), std::string::npos)
        << near[0].message;
    // STALLED -> RECOVERING -> HEALTHY after recover_after of stable progress.
    const auto recovering = run.first(Verdict::kRecovering);
    ASSERT_TRUE(recovering);
    EXPECT_EQ(*recovering, kLastCompletion + 25s);
    EXPECT_EQ(run.first(Verdict::kHealthy, *recovering), *recovering + 5s);
}

TEST(Scenario, SawtoothOfStallsShorterThanTheDeadlineNeverReachesDead) {
    Simulation sim(base_policy());
    std::vector<Phase> phases{{Storage::kHealthy, kLeadIn}};
    for (int i = 0; i < 20; ++i) {
        phases.push_back({Storage::kStalled, 20s});
        phases.push_back({Storage::kHealthy, 2s});
    }
    const SimRun run = sim.run(phases);
    EXPECT_TRUE(run.ever(Verdict::kStalled));
    EXPECT_FALSE(run.ever(Verdict::kDead));
    EXPECT_TRUE(run.requests.empty());
}

TEST(Scenario, ErrorOnlyPathUnderFencePolicyIsDeadAtTheDeadline) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kFailing, 60s}});
    const auto dead = run.first(Verdict::kDead);
    ASSERT_TRUE(dead);
    // The first failing tick (31 s) starts the episode: not one tick earlier than 31 + 25.
    EXPECT_GE(*dead, kLastCompletion + 1s + 25s - 1s);
    EXPECT_LE(*dead, kLastCompletion + 1s + 25s);
    EXPECT_FALSE(run.requests.empty());
}

TEST(Scenario, ErrorOnlyPathUnderDegradePolicyIsDegradedNeverFenced) {
    PathPolicy p = base_policy();
    p.errors = ErrorPolicy::kDegrade;
    Simulation sim(p);
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kFailing, 120s}});
    EXPECT_TRUE(run.ever(Verdict::kDegraded));
    EXPECT_FALSE(run.ever(Verdict::kStalled));
    EXPECT_FALSE(run.ever(Verdict::kDead));
    EXPECT_TRUE(run.requests.empty());
}

TEST(Scenario, RecoveryMidLadderStopsTheLadder) {
    Simulation sim(base_policy());
    // DEAD at 55 s; step 2 (restart-agent) at 65 s; recovery at 71 s, before step 3 (75 s).
    const SimRun run = sim.run(
        {{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 40s}, {Storage::kHealthy, 120s}});
    EXPECT_EQ(actions(run), (std::vector{Action::kLogOnly, Action::kRestartAgent}));
    const auto averted = run.of_type(EventType::kEscalationAverted);
    ASSERT_EQ(averted.size(), 1u);
    EXPECT_EQ(averted[0].at, at(71s));
    EXPECT_NE(averted[0].message.find("after step 2 of 4"), std::string::npos)
        << averted[0].message;
}

TEST(Scenario, DryRunNeverExecutes) {
    Simulation sim(base_policy(), Mode::kDryRun);
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 120s}});
    ASSERT_EQ(actions(run), (std::vector{Action::kLogOnly, Action::kRestartAgent,
                                         Action::kGracefulReboot, Action::kReboot}));
    for (const auto& r : run.requests) EXPECT_TRUE(r.dry_run) << to_string(r.action);
    for (const auto& e : run.of_type(EventType::kStepStarted))
        EXPECT_EQ(e.message.rfind("dry-run: ", 0), 0u) << e.message;
}

TEST(Scenario, ArmedExecutesTheSameLadder) {
    Simulation sim(base_policy(), Mode::kArmed);
    sim.fail_actions = {Action::kGracefulReboot};  // a host that did not go down
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 120s}});
    ASSERT_EQ(actions(run), (std::vector{Action::kLogOnly, Action::kRestartAgent,
                                         Action::kGracefulReboot, Action::kReboot}));
    for (const auto& r : run.requests) EXPECT_FALSE(r.dry_run);
    // The failed graceful reboot is reported as failed and the hard reboot follows at once
    // (the next tick), not after the graceful deadline.
    const auto failed = run.of_type(EventType::kStepFailed);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_NE(failed[0].message.find("graceful-reboot FAILED: simulated failure"),
              std::string::npos);
    EXPECT_EQ(run.of_type(EventType::kStepStarted)[3].at, failed[0].at + 1s);
}

TEST(Scenario, DisarmedNeverExecutesAndSaysSoOnce) {
    Simulation sim(base_policy(), Mode::kDisarmed);
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 120s}});
    EXPECT_TRUE(run.ever(Verdict::kDead));
    EXPECT_TRUE(run.requests.empty());
    EXPECT_EQ(run.of_type(EventType::kFenceSuppressed).size(), 1u);
}

TEST(Scenario, MaintenanceReArmsOnTimeAndTheLadderThenRuns) {
    Simulation sim(base_policy(), Mode::kArmed);
    sim.mode().enter_maintenance(TimePoint{}, 90s, "storage upgrade");
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 120s}});
    // DEAD at 55 s inside maintenance: suppressed. Re-armed at 90 s: the ladder starts then.
    EXPECT_EQ(run.of_type(EventType::kFenceSuppressed).size(), 1u);
    const auto mode = run.of_type(EventType::kModeChanged);
    ASSERT_EQ(mode.size(), 1u);
    EXPECT_EQ(mode[0].at, at(90s));
    EXPECT_NE(mode[0].message.find("maintenance -> armed"), std::string::npos) << mode[0].message;
    ASSERT_FALSE(run.requests.empty());
    EXPECT_EQ(run.of_type(EventType::kStepStarted)[0].at, at(90s));
    EXPECT_FALSE(run.requests[0].dry_run);
}

TEST(Scenario, GracefulDeadlineTriggersTheNextStep) {
    PathPolicy p = base_policy();
    p.ladder = {{Action::kGracefulReboot, 40s}, {Action::kReboot, 10s}};
    Simulation sim(p, Mode::kArmed);
    // The graceful reboot "succeeds" (requested) but the host is still here 40 s later.
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 120s}});
    const auto started = run.of_type(EventType::kStepStarted);
    ASSERT_EQ(started.size(), 2u);
    EXPECT_EQ(run.requests[0].deadline, 40s);
    EXPECT_EQ(started[1].at - started[0].at, 40s);
    EXPECT_EQ(run.requests[1].action, Action::kReboot);
}

TEST(Scenario, RebootUnderWayIsNotUndoneByALateCompletion) {
    PathPolicy p = base_policy();
    p.ladder = {{Action::kGracefulReboot, 40s}, {Action::kReboot, 10s}};
    Simulation sim(p, Mode::kArmed);
    const SimRun run =
        sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 30s}, {Storage::kHealthy, 60s}});
    EXPECT_TRUE(run.of_type(EventType::kEscalationAverted).empty());
    EXPECT_EQ(actions(run), (std::vector{Action::kGracefulReboot, Action::kReboot}));
}

TEST(Scenario, RepeatedEpisodesRateLimitTheAgentRestart) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn},
                                {Storage::kStalled, 40s},
                                {Storage::kHealthy, 30s},
                                {Storage::kStalled, 40s},
                                {Storage::kHealthy, 10s}});
    const auto limited = run.of_type(EventType::kStepRateLimited);
    ASSERT_EQ(limited.size(),
              1u);  // restart-agent ran 70 s before (65 s, 135 s); log-only always runs
    EXPECT_NE(limited[0].message.find("step 2 restart-agent skipped: restart-agent ran 70s ago"),
              std::string::npos)
        << limited[0].message;
}

TEST(Scenario, OneWitnessAloneIsStalledNotDeadUnderTheBothRule) {
    Simulation sim(base_policy());
    sim.heartbeat = false;  // no prober on this path: the kernel is the only witness
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 120s}});
    EXPECT_TRUE(run.ever(Verdict::kStalled));
    EXPECT_FALSE(run.ever(Verdict::kDead));
    EXPECT_NE(run.assessments.back().reason.find("one witness only"), std::string::npos)
        << run.assessments.back().reason;
}

TEST(Scenario, OneWitnessIsEnoughWhenThePolicySaysEither) {
    PathPolicy p = base_policy();
    p.witnesses = DeadWitnesses::kEither;
    Simulation sim(p);
    sim.heartbeat = false;
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 60s}});
    EXPECT_EQ(run.first(Verdict::kDead), kLastCompletion + 25s);
}

TEST(Scenario, LowerLayerThatGivesUpByItselfHoldsDeadUntilItsDeadline) {
    // DRBD waiting on a silent peer drops it after ko-count x timeout and goes on locally:
    // fencing before that would reboot a host whose disk is fine.
    Simulation sim(base_policy());
    const TimePoint gives_up = kLastCompletion + 40s;  // past dead_after (25 s)
    sim.facts = [&](TimePoint now, StorageFacts& f) {
        if (now <= kLastCompletion) return;
        f.waiting_on = "replication link r0 to 127.0.0.2:7790";
        f.lower_layer_deadline = gives_up;
        f.lower_layer_rule = "ko-count 7 x timeout 6s";
    };
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 60s}});
    const auto dead = run.first(Verdict::kDead);
    ASSERT_TRUE(dead);
    EXPECT_EQ(*dead, gives_up + 1s) << "DEAD must wait for the lower layer, then not linger";
    for (const auto& a : run.assessments) {
        if (a.verdict != Verdict::kStalled) continue;
        EXPECT_NE(a.reason.find("waiting on replication link r0"), std::string::npos) << a.reason;
        EXPECT_NE(a.reason.find("(ko-count 7 x timeout 6s)"), std::string::npos) << a.reason;
        ASSERT_TRUE(a.dead_at);
        EXPECT_EQ(*a.dead_at, gives_up + 1s);
    }
}

TEST(Scenario, LowerLayerThatGivesUpInTimeIsANearMissThatSaysDeadWasHeld) {
    Simulation sim(base_policy());
    sim.facts = [&](TimePoint now, StorageFacts& f) {
        if (now <= kLastCompletion || now > kLastCompletion + 36s) return;
        f.waiting_on = "replication link r0 to 127.0.0.2:7790";
        f.lower_layer_deadline = kLastCompletion + 40s;
    };
    // DRBD drops the peer 36 s in and writes complete locally again.
    const SimRun run =
        sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 36s}, {Storage::kHealthy, 20s}});
    EXPECT_FALSE(run.ever(Verdict::kDead));
    EXPECT_TRUE(run.requests.empty());
    const auto misses = run.of_type(EventType::kNearMiss);
    ASSERT_EQ(misses.size(), 1u);
    EXPECT_NE(misses[0].message.find("(DEAD held for replication link r0 to 127.0.0.2:7790, "
                                     "which gave up by itself)"),
              std::string::npos)
        << misses[0].message;
}

TEST(Scenario, LowerLayerThatNeverGivesUpHoldsDeadForOneMoreDeadlineAtMost) {
    Simulation sim(base_policy());
    sim.facts = [&](TimePoint now, StorageFacts& f) {
        if (now <= kLastCompletion) return;
        f.waiting_on = "replication link r0 to 127.0.0.2:7790";
        f.lower_layer_deadline = kLastCompletion + minutes(30);
    };
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 90s}});
    const auto dead = run.first(Verdict::kDead);
    ASSERT_TRUE(dead);
    EXPECT_EQ(*dead, kLastCompletion + 2 * 25s);
}

TEST(Scenario, NfsStallSaysWhetherTheServerStillAnswers) {
    for (const bool answering : {false, true}) {
        Simulation sim(base_policy());
        sim.facts = [&](TimePoint now, StorageFacts& f) {
            if (now <= kLastCompletion) return;
            f.waiting_on = "NFS server 127.0.0.1";
            f.server_answering = answering;
            f.server_last_reply = answering ? now - 1s : kLastCompletion;
        };
        const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 30s}});
        ASSERT_TRUE(run.ever(Verdict::kDead));  // the facts explain; they do not veto
        const Assessment& last = run.assessments.back();
        const std::string expected =
            answering ? "server answers (last reply 1s ago): this host's I/O is stuck"
                      : "server not answering (last reply 30s ago)";
        EXPECT_NE(last.reason.find(expected), std::string::npos) << last.reason;
        EXPECT_NE(last.reason.find("waiting on NFS server 127.0.0.1"), std::string::npos);
    }
}

TEST(Scenario, IdleDeviceIsHealthy) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kIdle, minutes(5)}});
    EXPECT_TRUE(run.timeline.empty());
}

}  // namespace
}  // namespace iohealth::test
