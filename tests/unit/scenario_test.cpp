// Table-driven scenarios on the virtual clock: each asserts the verdict timeline and the
// actions. Base policy: tick 1 s, stall_after 5 s, warn 20 s, dead_after 25 s.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "config/timings.h"
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

// The verdicts entered after `from` (all when omitted), space-separated: the whole sequence.
std::string sequence(const SimRun& run, TimePoint from = TimePoint{}) {
    std::string out;
    for (const auto& t : run.timeline)
        if (t.at > from) out += (out.empty() ? "" : " ") + std::string(to_string(t.verdict));
    return out;
}

// "CONTENDED@32 HEALTHY@100", printed by the issue 11 scenarios for the record.
void print_timeline(const SimRun& run) {
    std::string out;
    for (const auto& t : run.timeline)
        out += fmt::format(" {}@{}", to_string(t.verdict), format_seconds(t.at));
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::printf("timeline %s:%s (%zu changes)\n", info->name(), out.c_str(), run.timeline.size());
}

// Events a journald alert on PRIORITY<=4 (warning or worse) would page for.
std::size_t warnings(const SimRun& run) {
    return static_cast<std::size_t>(std::count_if(run.events.begin(), run.events.end(),
                                                  [](const Event& e) { return e.priority <= 4; }));
}

// The base policy at another io_timeout, derived as the config derives it.
PathPolicy policy_at(Duration io_timeout) {
    PathPolicy p = base_policy();
    p.timings = derive_timings(io_timeout, 1s);
    return p;
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

TEST(Scenario, FullStallIsStalledAtTheThresholdAndDeadAtTheDeadline) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 60s}});
    print_timeline(run);
    // The wait is slowness first (CONTENDED after two slow ticks), STALLED at the stall
    // threshold (warn_after after 5 ms service), DEAD at dead_after.
    EXPECT_EQ(sequence(run), "CONTENDED STALLED DEAD");
    EXPECT_EQ(run.first(Verdict::kContended), kLastCompletion + 2s);
    const auto stalled = run.first(Verdict::kStalled);
    ASSERT_TRUE(stalled);
    EXPECT_EQ(
        run.assessments[static_cast<std::size_t>((*stalled - at(0s)) / 1s) - 1].stall_threshold,
        20s);
    EXPECT_LE(*stalled - kLastCompletion, 20s + 2 * 1s);
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
    print_timeline(run);
    EXPECT_FALSE(run.ever(Verdict::kDead));
    EXPECT_TRUE(run.requests.empty());
    const auto near = run.of_type(EventType::kNearMiss);
    ASSERT_EQ(near.size(), 1u);
    EXPECT_EQ(near[0].at, kLastCompletion + 26s);
    EXPECT_NE(near[0].message.find("no progress for 24s of dead_after 25s"), std::string::npos)
        << near[0].message;
    // One tick of completions is not yet service: STALLED holds for it, RECOVERING comes with
    // the second (the near miss with it), HEALTHY after recover_after of stable progress.
    EXPECT_EQ(sequence(run), "CONTENDED STALLED RECOVERING HEALTHY");
    const auto recovering = run.first(Verdict::kRecovering);
    ASSERT_TRUE(recovering);
    EXPECT_EQ(*recovering, kLastCompletion + 26s);
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

// Issue 15: a probe that fails in microseconds (a short read, EIO) is failing, not stuck; the
// verdicts and the DEAD time are those of the test above.
TEST(Scenario, HeartbeatThatFailsFastIsFailingNotStuck) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kHealthy, kLeadIn}, {Storage::kFailing, 60s}});
    ASSERT_TRUE(run.ever(Verdict::kDead));
    bool failing = false;
    for (const Assessment& a : run.assessments) {
        EXPECT_EQ(a.reason.find("heartbeat stuck"), std::string::npos) << a.reason;
        failing = failing || a.reason.find("heartbeat failing") != std::string::npos;
    }
    EXPECT_TRUE(failing);
    const Assessment& last = run.assessments.back();
    EXPECT_NE(last.reason.find("failed probes, the last in 5ms: EIO; last success"),
              std::string::npos)
        << last.reason;
    EXPECT_GT(last.heartbeat_failures, 10u);
    EXPECT_EQ(last.heartbeat_error, "EIO");
}

TEST(Scenario, ALostOrReplacedDeviceIsSaidInTheReasonOfEveryVerdict) {
    Simulation sim(base_policy());
    sim.facts = [](TimePoint now, StorageFacts& f) {
        if (now < TimePoint{} + 40s) return;
        f.device_fate = DeviceFate::kReplaced;
        f.device_detail = "loop3 now reads /b.img, was /a.img";
    };
    const SimRun run = sim.run({{Storage::kHealthy, 60s}});
    EXPECT_EQ(run.assessments.back().verdict, Verdict::kHealthy);
    EXPECT_NE(
        run.assessments.back().reason.find("; device replaced: loop3 now reads /b.img, was /a.img"),
        std::string::npos)
        << run.assessments.back().reason;
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
    // DEAD at 55 s; step 2 (restart-agent) at 65 s; completions from 71 s, sustained (a second
    // tick) at 72 s, before step 3 (75 s).
    const SimRun run = sim.run(
        {{Storage::kHealthy, kLeadIn}, {Storage::kStalled, 40s}, {Storage::kHealthy, 120s}});
    EXPECT_EQ(actions(run), (std::vector{Action::kLogOnly, Action::kRestartAgent}));
    const auto averted = run.of_type(EventType::kEscalationAverted);
    ASSERT_EQ(averted.size(), 1u);
    EXPECT_EQ(averted[0].at, at(72s));
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

// --- contention of every shape (issue 11): the phase reads CONTENDED, HEALTHY before and
// after, at most 2 changes, never STALLED, no fence-imminent, no fence, no warning ---

// A load of 4 requests served in parallel, 1-5 ms each before and after the contention.
constexpr Duration kFastMin = std::chrono::milliseconds(1);
constexpr Duration kFastMax = std::chrono::milliseconds(5);

void expect_contention_phase(const SimRun& run, TimePoint from, TimePoint to) {
    print_timeline(run);
    EXPECT_EQ(sequence(run), "CONTENDED HEALTHY");
    EXPECT_LE(run.changes_between(from, to), 2);
    const auto contended = run.first(Verdict::kContended);
    ASSERT_TRUE(contended);
    EXPECT_GT(*contended, from);
    EXPECT_LE(*contended, from + 3s) << "CONTENDED late";
    EXPECT_FALSE(run.ever(Verdict::kStalled));
    EXPECT_TRUE(run.of_type(EventType::kFenceImminent).empty());
    EXPECT_TRUE(run.requests.empty());
    EXPECT_EQ(warnings(run), 0u) << "contention is no incident to page for";
    for (const auto& a : run.assessments) {
        if (a.verdict != Verdict::kContended) continue;
        ASSERT_LT(a.kernel_stall, a.stall_threshold) << format_seconds(a.at) << " " << a.reason;
    }
}

TEST(Scenario, UniformContentionHalfToThreeSecondsIsOneContendedPhase) {
    // The first measurement: every I/O 0.5-3 s for 60 s at io_timeout 4s (slow_io
    // 80 ms, warn_after 8s, dead_after 10s). Was 19 changes through STALLED and RECOVERING.
    Simulation sim(policy_at(4s));
    const SimRun run = sim.run({served(kLeadIn, kFastMin, kFastMax), served(60s, 500ms, 3s),
                                served(60s, kFastMin, kFastMax)});
    expect_contention_phase(run, kLastCompletion, kLastCompletion + 60s);
    // HEALTHY again once the dead_after horizon (10 s) holds no slow I/O.
    EXPECT_LE(*run.first(Verdict::kHealthy), kLastCompletion + 60s + 10s + 3s);
}

TEST(Scenario, DeepContentionEightToTwentySecondsIsOneContendedPhase) {
    // The second measurement: every I/O 8-20 s for 2 minutes at the default deadline
    // (25 s). Was 18 changes between STALLED and RECOVERING, never CONTENDED.
    Simulation sim(base_policy());
    const SimRun run = sim.run({served(kLeadIn, kFastMin, kFastMax), served(120s, 8s, 20s),
                                served(60s, kFastMin, kFastMax)});
    expect_contention_phase(run, kLastCompletion, kLastCompletion + 120s);
    // The pattern raised the stall threshold above warn_after, to its cap.
    EXPECT_EQ(run.assessments[static_cast<std::size_t>(kLeadIn / 1s) + 100].stall_threshold, 23s);
}

TEST(Scenario, ContentionRampIsOneContendedPhase) {
    // 1 ms, then 50 ms (below slow_io 200 ms: still HEALTHY), then 2 s per I/O.
    Simulation sim(base_policy());
    const SimRun run = sim.run({served(kLeadIn, 1ms, 1ms), served(30s, 50ms, 50ms),
                                served(60s, 2s, 2s), served(60s, 1ms, 1ms)});
    expect_contention_phase(run, kLastCompletion + 30s, kLastCompletion + 90s);
}

TEST(Scenario, BurstsOfNoCompletionAreOneContendedPhase) {
    // 5 s without any completion every 15 s, service between, at io_timeout 10s: each burst
    // is a wait below the stall threshold; the bursts' latencies hold CONTENDED between them.
    Simulation sim(policy_at(10s));
    std::vector<Phase> phases{served(kLeadIn, kFastMin, kFastMax)};
    for (int i = 0; i < 6; ++i) {
        phases.push_back({Storage::kHeld, 5s});
        phases.push_back(served(10s, kFastMin, kFastMax));
    }
    phases.push_back(served(60s, kFastMin, kFastMax));
    const SimRun run = sim.run(phases);
    expect_contention_phase(run, kLastCompletion, kLastCompletion + 90s);
}

TEST(Scenario, LongerBurstsAreStalledOnceThenExplainedByThePattern) {
    // Bursts of 22 s (past warn_after, short of dead_after) every 25 s: the first is STALLED
    // (a near miss); its gap, inside the dead_after horizon, explains the next ones, which
    // read CONTENDED.
    Simulation sim(base_policy());
    std::vector<Phase> phases{served(kLeadIn, kFastMin, kFastMax)};
    for (int i = 0; i < 4; ++i) {
        phases.push_back({Storage::kHeld, 22s});
        phases.push_back(served(3s, kFastMin, kFastMax));
    }
    phases.push_back(served(60s, kFastMin, kFastMax));
    const SimRun run = sim.run(phases);
    print_timeline(run);
    EXPECT_EQ(sequence(run), "CONTENDED STALLED RECOVERING CONTENDED HEALTHY");
    EXPECT_EQ(run.of_type(EventType::kNearMiss).size(), 1u);
    EXPECT_EQ(run.of_type(EventType::kFenceImminent).size(), 1u);
    EXPECT_TRUE(run.requests.empty());
}

TEST(Scenario, LostRequestUnderLoadIsReportedOnceNeverAStallNorAFence) {
    // One request never completes while the other three and the heartbeat go on (80 s).
    Simulation sim(base_policy());
    sim.lose_request_at = kLastCompletion;
    const SimRun run =
        sim.run({served(kLeadIn, kFastMin, kFastMax), served(80s, kFastMin, kFastMax)});
    print_timeline(run);
    EXPECT_EQ(sequence(run), "");
    EXPECT_TRUE(run.requests.empty());
    const auto stuck = run.of_type(EventType::kStuckRequest);
    ASSERT_EQ(stuck.size(), 1u) << "once per request";
    // Reported at dead_after of age (the slowest completion is 5 ms), within 2 x dead_after.
    EXPECT_GE(stuck[0].at, kLastCompletion + 25s);
    EXPECT_LE(stuck[0].at, kLastCompletion + 2 * 25s);
    EXPECT_EQ(stuck[0].priority, 4);
    EXPECT_NE(stuck[0].message.find("stuck request: a read request outstanding 2"),
              std::string::npos)
        << stuck[0].message;
    EXPECT_EQ(std::get<StuckRequestSeen>(stuck[0].payload).request.in_flight, 4u);
    EXPECT_EQ(warnings(run), 1u) << "the stuck request is the one warning";
    EXPECT_NE(run.assessments.back().reason.find("stuck request: a read request outstanding"),
              std::string::npos)
        << run.assessments.back().reason;
}

TEST(Scenario, SlowRequestsUnderDeepContentionAreNotStuck) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({served(kLeadIn, kFastMin, kFastMax), served(120s, 8s, 20s)});
    EXPECT_TRUE(run.of_type(EventType::kStuckRequest).empty());
}

TEST(Scenario, HangAfterContentionIsStalledAtTheRaisedThresholdAndDeadOnTime) {
    // 0.5-3 s contention raises the threshold to 2 x 4 s (log2 upper bound) = 8 s, below the
    // warn_after floor: STALLED at 20 s, DEAD at 25 s after the last completion.
    Simulation sim(base_policy());
    const SimRun run = sim.run(
        {served(kLeadIn, kFastMin, kFastMax), served(30s, 500ms, 3s), {Storage::kStalled, 40s}});
    print_timeline(run);
    EXPECT_EQ(sequence(run), "CONTENDED STALLED DEAD");
    const auto dead = run.first(Verdict::kDead);
    const auto stalled = run.first(Verdict::kStalled);
    ASSERT_TRUE(dead && stalled);
    EXPECT_EQ(*dead - *stalled, 5s);
}

TEST(Scenario, OneCompletionDuringAStallIsNotRecovery) {
    // One tick of completions 21 s into a stall: it is progress (DEAD moves to 25 s after it),
    // but not service: STALLED holds, then DEAD at the new deadline.
    PathPolicy p = base_policy();
    p.witnesses = DeadWitnesses::kEither;
    Simulation either(p);
    either.heartbeat = false;
    const SimRun run = either.run({{Storage::kHealthy, kLeadIn},
                                   {Storage::kStalled, 21s},
                                   {Storage::kHealthy, 1s},
                                   {Storage::kStalled, 40s}});
    print_timeline(run);
    EXPECT_EQ(sequence(run), "CONTENDED STALLED DEAD");
    EXPECT_EQ(run.first(Verdict::kDead), kLastCompletion + 22s + 25s);
}

TEST(Scenario, IdleDeviceIsHealthy) {
    Simulation sim(base_policy());
    const SimRun run = sim.run({{Storage::kIdle, minutes(5)}});
    EXPECT_TRUE(run.timeline.empty());
}

}  // namespace
}  // namespace iohealth::test
