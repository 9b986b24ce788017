// The chained side-by-side as acceptance tests (issue 12, deliverable 4): the CloudStack agent's
// loop writes its heartbeat through the real kvmheartbeat.sh drop-in onto an ext4 pool on a
// faultfs-backed loop device, the real iohealthd (armed, a test sysrq file, python-dbusmock's
// logind on a system-like private dbus-daemon) watches that pool, and the agent's -c goes
// through the drop-in into iohealthd (chained.h). Each case asserts what ran, in which order,
// and when against the stock fence. Root, FUSE, mkfs.ext4 and python3-dbusmock, else skipped
// with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <regex>

#include "sidebyside/chained.h"

namespace iohealth::sidebyside {
namespace {

constexpr double kScale = 0.4;
constexpr double kTick = 0.4;      // iohealthd's, at kScale
constexpr double kDeadAfter = 10;  // 2.5 x io_timeout (4 s)
constexpr double kStepHold = 4;    // io_timeout

class ChainedTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (auto why = chained_unavailable_reason()) {
            std::printf("SKIPPED: %s\n", why->c_str());
            GTEST_SKIP() << *why;
        }
    }

    ChainedResult run(const std::string& name) {
        const auto scenarios = chained_scenarios(kScale);
        const auto it = std::find_if(scenarios.begin(), scenarios.end(),
                                     [&](const ChainedScenario& s) { return s.name == name; });
        EXPECT_NE(it, scenarios.end()) << name;
        if (it == scenarios.end()) return {};
        ChainedResult r = run_chained_scenario(
            *it, {kScale, IOHEALTHD, IOHEALTH_SOURCE_DIR "/contrib/cloudstack"}, std::cout);
        std::cout << render_chained_table({r}) << to_json(r).dump(2) << "\n" << std::flush;
        return r;
    }

    static std::vector<std::string> verdicts_after_fault(const ChainedResult& r) {
        std::vector<std::string> out;
        for (const auto& v : r.verdicts)
            if (v.at_s >= 0) out.push_back(v.verdict);
        return out;
    }
    static std::optional<double> verdict_at(const ChainedResult& r, const std::string& verdict) {
        for (const auto& v : r.verdicts)
            if (v.at_s >= 0 && v.verdict == verdict) return v.at_s;
        return std::nullopt;
    }
    // The steps one ladder ("pool", or a request's name up to '#') started, in order.
    static std::vector<LadderStep> ladder(const ChainedResult& r, const std::string& name) {
        std::vector<LadderStep> out;
        for (const auto& s : r.steps)
            if (s.at_s >= 0 && s.ladder.substr(0, s.ladder.find('#')) == name) out.push_back(s);
        return out;
    }
    static std::vector<std::string> actions(const std::vector<LadderStep>& steps) {
        std::vector<std::string> out;
        for (const auto& s : steps) out.push_back(s.action);
        return out;
    }

    // A dead path: STALLED, then DEAD at dead_after; the path's own ladder climbs log-only ->
    // restart-agent (no systemd on the test bus: it fails, the next step follows) ->
    // graceful-reboot, which calls logind; then, after graceful_deadline, the sysrq step.
    // The reboot rung runs no later than the stock -c. The drop-in's fallback never runs.
    static void expect_fenced_by_the_paths_ladder(const ChainedResult& r) {
        const auto dead = verdict_at(r, "DEAD");
        ASSERT_TRUE(dead) << "the pool's path never went DEAD";
        const auto v = verdicts_after_fault(r);
        EXPECT_EQ(v.back(), "DEAD");
        EXPECT_NE(std::find(v.begin(), v.end(), "STALLED"), v.end()) << "DEAD without STALLED";
        EXPECT_GE(*dead, kDeadAfter - kTick);
        EXPECT_LE(*dead, kDeadAfter + 3 * kTick) << "DEAD late";

        const auto pool = ladder(r, "pool");
        const auto ran = actions(pool);
        ASSERT_GE(ran.size(), 3u);
        EXPECT_EQ(std::vector<std::string>(ran.begin(), ran.begin() + 3),
                  (std::vector<std::string>{"log-only", "restart-agent", "graceful-reboot"}));
        EXPECT_NEAR(pool[0].at_s, *dead, kTick) << "the ladder starts at DEAD";
        EXPECT_GE(pool[1].at_s, pool[0].at_s + kStepHold - kTick) << "log-only's hold";
        EXPECT_GE(pool[2].at_s, pool[1].at_s);
        const auto rung = r.first_reboot_rung();
        ASSERT_TRUE(rung);
        EXPECT_EQ(rung->ladder, "pool");
        EXPECT_EQ(rung->action, "graceful-reboot");
        EXPECT_EQ(r.logind_calls, std::vector<std::string>{"RebootWithFlags"});
        const bool sysrq_step = std::find(ran.begin(), ran.end(), "reboot") != ran.end();
        EXPECT_EQ(r.sysrq, sysrq_step ? "b" : "") << "the sysrq trigger against the reboot step";

        ASSERT_TRUE(r.stock_fence_at_s);
        EXPECT_LE(rung->at_s, *r.stock_fence_at_s) << "fenced after the stock peer";
        EXPECT_TRUE(r.declined.empty()) << r.declined.front().text;
        EXPECT_EQ(r.dropin_sysrq, "") << "the drop-in ran the stock fence";
        EXPECT_TRUE(r.dropin_crit.empty()) << r.dropin_crit.front();
        EXPECT_EQ(acceptance(r), "ok");
    }
};

// The incident: the agent's writes time out while every I/O completes within seconds. The agent
// calls -c after five failed tries; iohealthd answers `declined` with the evidence, runs only
// log-only, and nothing reboots.
TEST_F(ChainedTest, ContentionTheAgentsFenceIsDeclinedAndNoRebootRungRuns) {
    const ChainedResult r = run("contention");
    ASSERT_FALSE(r.agent_fences.empty()) << "the agent never called -c";
    // Five timeouts (2 s) and five retry sleeps (4 s) after the round that the fault met.
    EXPECT_GE(r.agent_fences.front().at_s, 5 * (2 + 4));
    const std::regex evidence(
        "^CloudStack asked to fence after its heartbeat writes timed out; the storage is slow "
        "but progressing: path pool \\(.*/pool\\) is (HEALTHY|CONTENDED|DEGRADED|RECOVERING): .+");
    for (const auto& f : r.agent_fences) {
        EXPECT_EQ(f.exit, 0) << "-c at " << f.at_s;
        EXPECT_EQ(f.out, "") << "-c prints nothing, as stock";
        EXPECT_EQ(f.reply, "declined") << "-c at " << f.at_s << ": " << f.detail;
        EXPECT_TRUE(std::regex_search(f.detail, evidence)) << f.detail;
    }
    for (const auto& v : verdicts_after_fault(r))
        EXPECT_TRUE(v != "STALLED" && v != "DEAD") << "contention read as no progress: " << v;

    // One fence-declined event per -c, after it, naming the request, the pool and the evidence.
    ASSERT_EQ(r.declined.size(), r.agent_fences.size());
    for (std::size_t i = 0; i < r.declined.size(); ++i) {
        EXPECT_GE(r.declined[i].at_s, r.agent_fences[i].at_s);
        EXPECT_TRUE(std::regex_search(
            r.declined[i].text,
            std::regex("^heartbeat fence request [0-9]+ from 192.0.2.10:/export/primary on "
                       ".*/pool \\(kvmheartbeat.sh\\) declined: CloudStack asked to fence")))
            << r.declined[i].text;
        EXPECT_NE(r.declined[i].text.find(r.agent_fences[i].detail), std::string::npos)
            << "the event and the reply carry the same evidence";
    }

    // What ran: only the declined request's log-only, after the -c; nothing on the path.
    EXPECT_TRUE(ladder(r, "pool").empty());
    const auto declined = ladder(r, "heartbeat-declined");
    ASSERT_FALSE(declined.empty());
    for (const auto& s : declined) EXPECT_EQ(s.action, "log-only");
    EXPECT_GE(declined.front().at_s, r.agent_fences.front().at_s);
    EXPECT_EQ(r.steps.size(), declined.size()) << "a step of another ladder ran";
    EXPECT_FALSE(r.first_reboot_rung());
    EXPECT_TRUE(r.logind_calls.empty()) << "logind was called";
    EXPECT_EQ(r.sysrq, "") << "iohealthd wrote its sysrq trigger";
    EXPECT_EQ(r.dropin_sysrq, "") << "the drop-in ran the stock fence";
    EXPECT_TRUE(r.dropin_crit.empty()) << "a declined fence is no fallback";
    EXPECT_EQ(acceptance(r), "ok");
}

// This host's path hangs: iohealthd fences through the path's ladder at DEAD + the holds, long
// before the stock agent's five timeouts (the model's -c on the same timeline).
TEST_F(ChainedTest, HangIsFencedBeforeTheStockPeer) {
    const ChainedResult r = run("hang");
    expect_fenced_by_the_paths_ladder(r);
    EXPECT_EQ(r.stock_source, "model, virtual time");
    EXPECT_TRUE(r.agent_fences.empty()) << "the agent's writes wait for their 24 s timeout";
}

// Every I/O fails: the path's ladder fences; the agent's -c (five fast failures later) is
// answered `fencing` with the path's DEAD evidence and starts the heartbeat-timeout ladder.
TEST_F(ChainedTest, EioStormIsFencedAndTheAgentsLaterFenceIsFencing) {
    const ChainedResult r = run("eio-storm");
    expect_fenced_by_the_paths_ladder(r);
    ASSERT_EQ(r.agent_fences.size(), 1u);
    const AgentFence& f = r.agent_fences.front();
    EXPECT_EQ(r.stock_source, "this run's agent");
    EXPECT_EQ(f.exit, 0);
    EXPECT_EQ(f.out, "");
    EXPECT_EQ(f.reply, "fencing") << f.detail;
    EXPECT_TRUE(std::regex_search(f.detail, std::regex("no progress: path pool \\(.*/pool\\) is "
                                                       "DEAD: ")))
        << f.detail;
    EXPECT_GT(f.at_s, r.first_reboot_rung()->at_s) << "the agent fenced before iohealthd";
    const auto request = ladder(r, "heartbeat-timeout");
    ASSERT_FALSE(request.empty()) << "the fencing request started no ladder";
    EXPECT_EQ(request.front().action, "log-only");
    EXPECT_GE(request.front().at_s, f.at_s);
}

// The shared storage is gone for every host: on this host as the hang (the neighbours' view is
// the stock model's: they never read it DEAD); fenced before the stock peer.
TEST_F(ChainedTest, SharedOutageIsFencedBeforeTheStockPeer) {
    const ChainedResult r = run("shared-outage");
    expect_fenced_by_the_paths_ladder(r);
    EXPECT_TRUE(r.agent_fences.empty());
}

}  // namespace
}  // namespace iohealth::sidebyside
