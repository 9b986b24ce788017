// The peer model (tests/sidebyside/peer_model.h), CloudStack's KVMHAMonitor loop, in virtual
// time: each timing rule of the research (B.1, B.6) as a test, then the side-by-side's host
// scenarios on the model, and the result records the table reads.
#include <gtest/gtest.h>

#include <functional>

#include "sidebyside/chained_result.h"
#include "sidebyside/peer_outcome.h"
#include "sidebyside/result.h"

namespace iohealth::peer {
namespace {

using namespace std::chrono_literals;

const TimePoint kStart = TimePoint{} + 1000s;

// How a write started at `t` (seconds after kStart) ends: after `took`, ok or not; a
// nullopt `took` never ends.
struct WriteFate {
    std::optional<Duration> took;
    bool ok = true;
};
using Storage = std::function<WriteFate(double t)>;

struct PeerRun {
    std::optional<double> fence_at;
    std::vector<double> writes;  // start times
    std::vector<std::string> log;
    PeerModel model;
};

double rel(TimePoint t) {
    return std::chrono::duration<double>(t - kStart).count();
}

PeerRun drive(const Storage& storage, Duration length, PeerTimings timings = {}) {
    PeerRun run{std::nullopt, {}, {}, PeerModel(timings, kStart)};
    PeerModel& m = run.model;
    TimePoint now = kStart;
    std::optional<std::pair<TimePoint, bool>> pending;
    while (now <= kStart + length) {
        const PeerStep step = m.advance(now);
        if (step == PeerStep::kStartWrite) {
            run.writes.push_back(rel(now));
            const WriteFate f = storage(rel(now));
            pending.reset();
            if (f.took) pending = {now + *f.took, f.ok};
            continue;
        }
        if (step == PeerStep::kFence) {
            run.fence_at = rel(*m.fenced_at());
            break;
        }
        TimePoint next = kStart + length + 1s;
        if (auto w = m.next_wakeup()) next = std::min(next, *w);
        if (pending) next = std::min(next, pending->first);
        now = std::max(now, next);
        if (pending && pending->first <= now) {
            m.write_done(pending->first, pending->second, m.writes_started());
            pending.reset();
        }
    }
    run.log = m.log();
    return run;
}

const Storage kHealthy = [](double) { return WriteFate{10ms, true}; };
const Storage kEio = [](double) { return WriteFate{1ms, false}; };
const Storage kHung = [](double) { return WriteFate{std::nullopt, false}; };

TEST(PeerModel, HealthyStorageWritesOncePerRoundPlusTheWriteTime) {
    const PeerRun r = drive(kHealthy, 300s);
    EXPECT_FALSE(r.fence_at);
    ASSERT_GE(r.writes.size(), 5u);
    EXPECT_DOUBLE_EQ(r.writes[0], 0);
    EXPECT_NEAR(r.writes[1], 60.010, 1e-9);  // the period is frequency + the round's time
    EXPECT_NEAR(r.writes[2], 120.020, 1e-9);
    EXPECT_TRUE(r.log.empty());
}

TEST(PeerModel, FastErrorsFenceAfterFiveTriesAndFiveSleeps) {
    const PeerRun r = drive(kEio, 600s);
    ASSERT_TRUE(r.fence_at);
    EXPECT_NEAR(*r.fence_at, 5 * 10.001, 1e-9);  // B.6: about 55 s with the 5 s fence delay
    EXPECT_EQ(r.writes.size(), 5u);
    EXPECT_EQ(*r.model.reset_at(), *r.model.fenced_at() + 5s);
    ASSERT_EQ(r.log.size(), 6u);
    EXPECT_EQ(r.log[0], "0.001 Write heartbeat failed: Input/output error; try: 1 of 5.");
    EXPECT_EQ(r.log[4], "40.005 Write heartbeat failed: Input/output error; try: 5 of 5.");
    EXPECT_EQ(r.log[5], "50.005 Write heartbeat failed; stopping cloudstack-agent. (-c)");
}

TEST(PeerModel, HungWritesFenceAfterFiveTimeoutsAndFiveSleeps) {
    const PeerRun r = drive(kHung, 600s);
    ASSERT_TRUE(r.fence_at);
    EXPECT_DOUBLE_EQ(*r.fence_at, 5 * (60 + 10));  // B.6: about 355 s with the fence delay
    EXPECT_EQ(r.log[0], "60.000 Write heartbeat failed: timeout; try: 1 of 5.");
}

TEST(PeerModel, FourFailuresThenASuccessNeverFence) {
    // The failure count is per round: 4 errors and a success, every round, forever.
    int n = 0;
    const Storage flaky = [&](double) { return WriteFate{1ms, ++n % 5 == 0}; };
    const PeerRun r = drive(flaky, 3600s);
    EXPECT_FALSE(r.fence_at);
    EXPECT_GT(r.writes.size(), 100u);
}

TEST(PeerModel, RebootFlagOffNeverFencesAndKeepsTrying) {
    PeerTimings t;
    t.reboot_on_timeout = false;
    const PeerRun r = drive(kEio, 600s, t);
    EXPECT_FALSE(r.fence_at);
    // Round 2 starts one frequency after round 1's last sleep.
    ASSERT_GE(r.writes.size(), 6u);
    EXPECT_NEAR(r.writes[5], 50.005 + 60, 1e-9);
}

TEST(PeerModel, AWriteThatEndsAfterItsTimeoutIsIgnored) {
    // Each write takes 61 s: the agent gave up at 60 s, so every attempt counts as failed.
    const Storage slow = [](double) { return WriteFate{61s, true}; };
    const PeerRun r = drive(slow, 600s);
    ASSERT_TRUE(r.fence_at);
    EXPECT_DOUBLE_EQ(*r.fence_at, 350);
    EXPECT_FALSE(r.model.last_success());
}

TEST(PeerModel, ReaderDeadOnlyWhenOlderThanTheFrequencyInWholeSeconds) {
    PeerModel m({}, kStart);
    ASSERT_EQ(m.advance(kStart), PeerStep::kStartWrite);
    m.write_done(kStart + 100ms, true, m.writes_started());
    EXPECT_FALSE(m.reader_says_dead(kStart + 60s));
    EXPECT_FALSE(m.reader_says_dead(kStart + 60s + 900ms));  // date +%s: 60 is not > 60
    EXPECT_TRUE(m.reader_says_dead(kStart + 61s));
    EXPECT_EQ(m.reader_dead_from(), kStart + 61s);
}

TEST(PeerModel, TheFileHoldsTheStampTakenBeforeTheWrite) {
    // `date +%s` runs before the write: a write of 20 s is read as old as its start.
    PeerModel m({}, kStart);
    ASSERT_EQ(m.advance(kStart), PeerStep::kStartWrite);
    m.write_done(kStart + 20s, true, m.writes_started());
    EXPECT_EQ(m.last_success(), kStart + 20s);
    EXPECT_TRUE(m.reader_says_dead(kStart + 61s));
    EXPECT_EQ(m.reader_dead_from(), kStart + 61s);
}

TEST(PeerModel, TheAgentKeepsItsLoopAfterTheFence) {
    // A fence handed over and declined: the agent writes again the next round, and fences
    // again after five more failures.
    PeerModel m({}, kStart);
    TimePoint now = kStart;
    std::vector<TimePoint> fences;
    while (now < kStart + 200s) {
        const PeerStep step = m.advance(now);
        if (step == PeerStep::kStartWrite) {
            m.write_done(now + 1ms, false, m.writes_started());
            continue;
        }
        if (step == PeerStep::kFence) {
            fences.push_back(now);
            continue;
        }
        now = *m.next_wakeup();
    }
    ASSERT_EQ(fences.size(), 2u);
    EXPECT_EQ(m.fences(), 2);
    EXPECT_EQ(m.fenced_at(), kStart + 50005ms);  // the first
    // Round 2: a frequency after the first -c, five tries, five sleeps.
    EXPECT_EQ(fences[1], kStart + 50005ms + 60s + 50005ms);
}

TEST(PeerModel, NeverWrittenReadsAlive) {
    PeerModel m({}, kStart);
    EXPECT_FALSE(m.reader_says_dead(kStart + 1h));  // the stock check fails open
}

TEST(PeerModel, ScaledTimings) {
    const PeerTimings t = PeerTimings{}.scaled(0.4);
    EXPECT_EQ(t.update_frequency, 24s);
    EXPECT_EQ(t.write_timeout, 24s);
    EXPECT_EQ(t.retry_sleep, 4s);
    EXPECT_EQ(t.fence_delay, 2s);
    EXPECT_EQ(t.max_tries, 5);
}

// --- the model on fault timelines (faultfs semantics), as the table uses it

TEST(SimulatePeer, HangFromMidRoundFencesAfterTheRemainingSleepAndFiveRounds) {
    // Started 90 s early: writes at -90 and -30; the next round starts at +30.
    const auto o = simulate_peer({{0s, "hang"}}, {}, 90s, 420s);
    ASSERT_TRUE(o.fence_at);
    EXPECT_NEAR(std::chrono::duration<double>(*o.fence_at).count(), 30 + 350, 0.01);
    ASSERT_TRUE(o.neighbours_dead);
    // The last write landed at about -30 s: neighbours read DEAD 61 s later.
    EXPECT_NEAR(std::chrono::duration<double>(*o.neighbours_dead).count(), 31, 1.01);
}

TEST(SimulatePeer, ContentionBelowTheTimeoutNeverFences) {
    const auto o = simulate_peer({{0s, "delay 500 3000"}}, {}, 90s, 600s);
    EXPECT_FALSE(o.fence_at);
}

TEST(SimulatePeer, HangReleasedBeforeTheWriteTimeoutNeverFences) {
    const auto o = simulate_peer({{0s, "hang"}, {50s, "heal"}}, {}, 90s, 300s);
    EXPECT_FALSE(o.fence_at);
}

TEST(SimulatePeer, AMinuteOfErrorsFencesOrNotDependingOnThePhase) {
    // C1: the same 60 s EIO burst, hitting the round at two different points.
    const std::vector<FaultStep> burst{{0s, "eio"}, {60s, "heal"}};
    EXPECT_TRUE(simulate_peer(burst, {}, 60s, 300s).fence_at);   // burst starts with a round
    EXPECT_FALSE(simulate_peer(burst, {}, 90s, 300s).fence_at);  // 30 s into the sleep
}

TEST(SimulatePeer, ASharedStorageOutageNeverReadsDeadToTheNeighbours) {
    // The neighbours read the same storage: their `cat` hangs with it, and the stock check
    // says ALIVE; only this host's own path failing lets them read the stale file.
    const auto local = simulate_peer({{0s, "hang"}}, {}, 90s, 420s);
    ASSERT_TRUE(local.neighbours_dead);
    const auto shared = simulate_peer({{0s, "hang"}}, {}, 90s, 420s, 1, true);
    EXPECT_FALSE(shared.neighbours_dead);
    EXPECT_EQ(shared.fence_at, local.fence_at);  // the agent's own loop is the same
    // Once the storage is back (and this host is gone), the stale file reads DEAD.
    const auto healed = simulate_peer({{0s, "eio"}, {200s, "heal"}}, {}, 90s, 420s, 1, true);
    ASSERT_TRUE(healed.neighbours_dead);
    EXPECT_GE(*healed.neighbours_dead, 200s);
}

TEST(StorageModel, HeldWritesCompleteAtTheHealUnderTheModeThen) {
    const TimePoint o = kStart;
    StorageModel s({{0s, "hang"}, {10s, "release"}, {20s, "eio"}, {30s, "hang"}, {40s, "release"}},
                   o);
    const auto first = s.write(o + 1s);
    ASSERT_TRUE(first.done);
    EXPECT_EQ(*first.done, o + 10s + 200us);
    EXPECT_TRUE(first.ok);
    EXPECT_FALSE(s.write(o + 25s).ok);                                 // eio
    EXPECT_TRUE(s.write(o + 50s).ok);                                  // after release: normal
    EXPECT_FALSE(StorageModel({{0s, "hang"}}, o).write(o + 1s).done);  // never released
}

}  // namespace
}  // namespace iohealth::peer

namespace iohealth::sidebyside {
namespace {

TEST(SideBySideResult, JsonLinesRoundTripAndTheTableSimulatesAMissingPeer) {
    const auto line = nlohmann::json::parse(R"({"scenario": "nfs-server-stopped", "tier": "vm",
        "kind": "dead", "length_s": 500, "timeline": [{"at_s": 0, "storage": "hang"}],
        "iohealth": {"fence_at_s": 75.4, "verdicts": [{"at_s": 12.0, "verdict": "STALLED"},
        {"at_s": 75.2, "verdict": "DEAD"}]}})");
    ScenarioResult r = result_from_json(line);
    EXPECT_EQ(r.scale, 1.0);
    EXPECT_DOUBLE_EQ(r.warmup_s, 90);
    EXPECT_EQ(result_from_json(to_json(r)).iohealth_verdicts.size(), 2u);
    complete_peer(r);
    EXPECT_EQ(r.peer_source, "model, virtual time");
    ASSERT_TRUE(r.peer_fence_at_s);
    EXPECT_NEAR(*r.peer_fence_at_s, 380, 0.01);
    EXPECT_EQ(acceptance(r), "ok");
    const std::string table = render_table({r});
    EXPECT_NE(table.find(
                  "| nfs-server-stopped (dead) | vm | hang @0s | fence at 380.0 s [model, "
                  "virtual time] | 31.0 s | fence at 75.4 s | STALLED 12.0 s → DEAD 75.2 s | ok |"),
              std::string::npos)
        << table;
}

// The chained tier's rules (chained_result.h) on results built by hand: each failure is named.
ChainedResult declined_contention() {
    ChainedResult r;
    r.scenario = "contention";
    r.kind = "contention";
    r.scale = 0.4;
    r.write_timeout_s = 2;
    r.timeline = {{Duration{0}, "delay 500 3000"}};
    r.agent_fences = {{42.1, 0.03, 0, "", "declined", "… is CONTENDED: …"}};
    r.declined = {{42.1,
                   "heartbeat fence request 1 … declined: … path pool (/p) is CONTENDED: "
                   "waiting"}};
    r.steps = {{42.1, "heartbeat-declined#1", "log-only"}};
    r.ran_s = 50.1;
    r.stock_source = "this run's agent";
    r.stock_fence_at_s = 42.1;
    return r;
}

ChainedResult fenced_hang() {
    ChainedResult r;
    r.scenario = "hang";
    r.kind = "dead";
    r.what = "every I/O of this host's path hangs";
    r.scale = 0.4;
    r.write_timeout_s = 24;
    r.timeline = {{Duration{0}, "hang"}};
    r.steps = {{10.4, "pool", "log-only"},
               {14.4, "pool", "restart-agent"},
               {15.2, "pool", "graceful-reboot"}};
    r.logind_calls = {"RebootWithFlags"};
    r.ran_s = 16.3;
    r.stock_source = "model, virtual time";
    r.stock_fence_at_s = 152;
    return r;
}

TEST(ChainedResult, ContentionRules) {
    EXPECT_EQ(acceptance(declined_contention()), "ok");
    auto r = declined_contention();
    r.agent_fences.clear();
    EXPECT_EQ(acceptance(r), "FAIL: the agent never called -c");
    r = declined_contention();
    r.agent_fences[0].reply = "fencing";
    EXPECT_EQ(acceptance(r), "FAIL: the -c at 42.1 s was answered fencing");
    r = declined_contention();
    r.declined.clear();
    EXPECT_EQ(acceptance(r), "FAIL: no fence-declined event");
    r = declined_contention();
    r.steps.push_back({44.1, "heartbeat-declined#1", "reboot"});
    EXPECT_EQ(acceptance(r), "FAIL: reboot ran at 44.1 s");
    r = declined_contention();
    r.logind_calls = {"RebootWithFlags"};
    EXPECT_EQ(acceptance(r), "FAIL: logind was called");
    r = declined_contention();
    r.sysrq = "b";
    EXPECT_EQ(acceptance(r), "FAIL: iohealthd wrote its sysrq trigger");
    r = declined_contention();
    r.dropin_sysrq = "b\n";
    EXPECT_EQ(acceptance(r), "FAIL: the drop-in's stock fence wrote its sysrq trigger");
    r = declined_contention();
    r.dropin_crit = {"<10>heartbeat: … will not act"};
    EXPECT_EQ(acceptance(r), "FAIL: the drop-in's fallback ran: <10>heartbeat: … will not act");
}

TEST(ChainedResult, DeadPathRules) {
    EXPECT_EQ(acceptance(fenced_hang()), "ok");
    auto r = fenced_hang();
    r.steps.pop_back();
    EXPECT_EQ(acceptance(r), "FAIL: no reboot rung ran");
    r = fenced_hang();
    r.steps[2].at_s = -1;  // before the fault: not this fault's fence
    EXPECT_EQ(acceptance(r), "FAIL: no reboot rung ran");
    r = fenced_hang();
    r.logind_calls.clear();
    EXPECT_EQ(acceptance(r), "FAIL: graceful-reboot ran but logind was not called");
    r = fenced_hang();
    r.steps[2].action = "reboot";
    EXPECT_EQ(acceptance(r), "FAIL: the sysrq trigger holds no 'b'");
    r.sysrq = "b";
    EXPECT_EQ(acceptance(r), "ok");
    r = fenced_hang();
    r.stock_fence_at_s = 15;
    EXPECT_EQ(acceptance(r), "FAIL: fenced at 15.2 s, after the stock -c at 15.0 s");
    r = fenced_hang();
    r.stock_fence_at_s.reset();
    EXPECT_EQ(acceptance(r), "FAIL: no stock fence time to compare with");
    r = fenced_hang();
    r.agent_fences = {{32.2, 0.04, 0, "", "declined", "…"}};
    EXPECT_EQ(acceptance(r), "FAIL: the -c at 32.2 s was answered declined");
    r = fenced_hang();
    r.declined = {{20, "declined"}};
    EXPECT_EQ(acceptance(r), "FAIL: a fence was declined on a dead path");
}

TEST(ChainedResult, TableRowsAndJson) {
    const std::string table = render_chained_table({declined_contention(), fenced_hang()});
    EXPECT_NE(table.find("| contention (contention) | delay 500 3000 @0s | 42.1 s (2 s) | declined "
                         "(path CONTENDED) | heartbeat-declined: log-only 42.1 s | no reboot "
                         "rung (ran 50.1 s) vs stock -c 42.1 s (≙ 105 s) [this run's agent] | "
                         "ok |"),
              std::string::npos)
        << table;
    EXPECT_NE(table.find("| hang (dead) | hang @0s | not by 16.3 s (24 s) | — | pool: log-only "
                         "10.4 s → restart-agent 14.4 s → graceful-reboot 15.2 s (logind "
                         "RebootWithFlags) | graceful-reboot 15.2 s (≙ 38 s) vs stock -c 152.0 s "
                         "(≙ 380 s) [model, virtual time] | ok |"),
              std::string::npos)
        << table;
    const auto j = to_json(fenced_hang());
    EXPECT_EQ(j["tier"], "chained");
    EXPECT_EQ(j["what"], "every I/O of this host's path hangs");
    EXPECT_DOUBLE_EQ(j["iohealth"]["reboot_rung_at_s"].get<double>(), 15.2);
    EXPECT_EQ(j["check"], "ok");
}

TEST(SideBySideResult, AcceptanceRules) {
    ScenarioResult r;
    r.kind = "contention";
    EXPECT_EQ(acceptance(r), "ok");
    r.iohealth_fence_at_s = 5;
    EXPECT_EQ(acceptance(r), "FAIL: iohealth fenced under contention");
    r.kind = "dead";
    r.peer_fence_at_s = 4;
    EXPECT_EQ(acceptance(r), "FAIL: iohealth fenced after the peer");
    r.peer_fence_at_s.reset();
    EXPECT_EQ(acceptance(r), "ok");  // the peer never fenced a dead path: iohealth did
    r.iohealth_fence_at_s.reset();
    EXPECT_EQ(acceptance(r), "FAIL: iohealth did not fence a dead path");
}

TEST(SideBySideResult, BadLinesNameWhatIsWrong) {
    auto error = [](const char* text) {
        try {
            result_from_json(nlohmann::json::parse(text));
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(error(R"({"kind": "dead"})"), "result: missing \"scenario\"");
    EXPECT_EQ(error(R"({"scenario": "x", "kind": "slow", "length_s": 1, "timeline": [],
                        "iohealth": {}})"),
              "scenario x: kind 'slow' (expected contention or dead)");
    EXPECT_EQ(error(R"({"scenario": "x", "kind": "dead", "length_s": 1,
                        "timeline": [{"at_s": 0, "storage": "unplug"}], "iohealth": {}})"),
              "scenario x: storage 'unplug' (expected delay MIN_MS [MAX_MS], hang, eio, release "
              "or heal)");
}

}  // namespace
}  // namespace iohealth::sidebyside
