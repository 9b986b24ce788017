// CloudStack integration, pure parts: agent.properties as the agent reads it, what each
// heartbeat-fence setting cuts from the configured ladder, and the host ladder that runs it
// (virtual time).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cloudstack/agent_properties.h"
#include "cloudstack/dropin_check.h"
#include "cloudstack/fence_decision.h"
#include "cloudstack/heartbeat_fence.h"
#include "core/host_ladder.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;

const std::vector<LadderStep> kConfigured{{Action::kLogOnly, 10s},
                                          {Action::kRestartAgent, 10s},
                                          {Action::kCustom, 10s},
                                          {Action::kGracefulReboot, 40s},
                                          {Action::kReboot, 10s}};

std::vector<Action> actions(const std::vector<LadderStep>& ladder) {
    std::vector<Action> out;
    for (const auto& s : ladder) out.push_back(s.action);
    return out;
}

AgentFenceSettings agent(std::string_view text) {
    return parse_agent_properties(text, "agent.properties");
}

TEST(AgentProperties, LastOccurrenceWinsAndBlankMeansDefault) {
    const auto s = agent(
        "# comment\n"
        "kvm.heartbeat.fence.action=log-only\n"
        "! another comment\n"
        "  kvm.heartbeat.fence.action = graceful-reboot  \r\n"
        "reboot.host.and.alert.management.on.heartbeat.timeout=\n");
    EXPECT_EQ(s.fence_action, "graceful-reboot");
    EXPECT_TRUE(s.reboot_on_heartbeat_timeout);
    EXPECT_TRUE(s.notes.empty());
}

TEST(AgentProperties, JavaSeparatorsAndContinuations) {
    EXPECT_EQ(agent("kvm.heartbeat.fence.action: restart-agent\n").fence_action, "restart-agent");
    EXPECT_EQ(agent("kvm.heartbeat.fence.action log-only\n").fence_action, "log-only");
    EXPECT_EQ(agent("kvm.heartbeat.fence.action=graceful-\\\n    reboot\n").fence_action,
              "graceful-reboot");
}

TEST(AgentProperties, BooleansAsCommonsBeanutilsConvertsThem) {
    for (const char* v : {"false", "FALSE", "no", "n", "off", "0"})
        EXPECT_FALSE(
            agent(std::string("reboot.host.and.alert.management.on.heartbeat.timeout=") + v)
                .reboot_on_heartbeat_timeout)
            << v;
    for (const char* v : {"true", "Yes", "y", "on", "1"})
        EXPECT_TRUE(agent(std::string("reboot.host.and.alert.management.on.heartbeat.timeout=") + v)
                        .reboot_on_heartbeat_timeout)
            << v;
    // Anything else is a conversion error, which the agent's converter answers with false.
    for (const char* v : {"maybe", "flase", "true  ", "TRUE\t", "yes please", "2"}) {
        const auto bad =
            agent(std::string("reboot.host.and.alert.management.on.heartbeat.timeout=") + v);
        EXPECT_FALSE(bad.reboot_on_heartbeat_timeout) << v;
        EXPECT_EQ(bad.notes.size(), 1u) << v;
    }
    const auto bad = agent("reboot.host.and.alert.management.on.heartbeat.timeout=maybe\r\n");
    ASSERT_EQ(bad.notes.size(), 1u);
    EXPECT_EQ(bad.notes[0],
              "agent.properties: reboot.host.and.alert.management.on.heartbeat.timeout = 'maybe' "
              "is not a Boolean the agent recognises; it reads false (commons-beanutils' "
              "default), so the agent never fences");
    // Blank (spaces only) is the default, true; leading blanks are the separator's.
    EXPECT_TRUE(agent("reboot.host.and.alert.management.on.heartbeat.timeout =   \n")
                    .reboot_on_heartbeat_timeout);
    EXPECT_FALSE(agent("reboot.host.and.alert.management.on.heartbeat.timeout =   no\r\n")
                     .reboot_on_heartbeat_timeout);
}

TEST(AgentProperties, MissingFileIsAnErrorNamingIt) {
    const auto read = read_agent_properties("/nonexistent/agent.properties");
    EXPECT_FALSE(read);
    EXPECT_EQ(read.error(),
              "Failed to read '/nonexistent/agent.properties': No such file or directory");
}

TEST(HeartbeatFencePlan, EachSettingCutsTheConfiguredLadder) {
    using A = Action;
    const std::vector<std::pair<std::string, std::vector<Action>>> rows{
        {"", actions(kConfigured)},
        {"kvm.heartbeat.fence.action=hard-reboot", actions(kConfigured)},
        {"kvm.heartbeat.fence.action=reboot", actions(kConfigured)},
        {"kvm.heartbeat.fence.action=explode", actions(kConfigured)},
        {"kvm.heartbeat.fence.action=graceful-reboot",
         {A::kLogOnly, A::kRestartAgent, A::kCustom, A::kGracefulReboot}},
        {"kvm.heartbeat.fence.action=custom", {A::kLogOnly, A::kRestartAgent, A::kCustom}},
        {"kvm.heartbeat.fence.action=restart-agent", {A::kLogOnly, A::kRestartAgent}},
        {"kvm.heartbeat.fence.action=log-only", {A::kLogOnly}},
        {"reboot.host.and.alert.management.on.heartbeat.timeout=false\n"
         "kvm.heartbeat.fence.action=hard-reboot",
         {A::kLogOnly}},
    };
    for (const auto& [text, expected] : rows)
        EXPECT_EQ(actions(heartbeat_fence_plan(kConfigured, agent(text)).ladder), expected) << text;
}

TEST(HeartbeatFencePlan, WithoutAgentPropertiesTheLadderRunsAsConfigured) {
    const auto plan = heartbeat_fence_plan(kConfigured, std::nullopt);
    EXPECT_EQ(plan.ladder, kConfigured);
    EXPECT_EQ(plan.explanation,
              "no agent.properties configured ([cloudstack] agent_properties): ladder log-only, "
              "restart-agent, custom, graceful-reboot, reboot");
}

TEST(HeartbeatFencePlan, KeepsHoldsAndSaysWhatItCut) {
    const auto plan =
        heartbeat_fence_plan(kConfigured, agent("kvm.heartbeat.fence.action=restart-agent"));
    EXPECT_EQ(plan.ladder,
              (std::vector<LadderStep>{{Action::kLogOnly, 10s}, {Action::kRestartAgent, 10s}}));
    EXPECT_EQ(plan.explanation,
              "kvm.heartbeat.fence.action = restart-agent: ladder log-only, restart-agent "
              "(configured: log-only, restart-agent, custom, graceful-reboot, reboot)");
}

TEST(HeartbeatFencePlan, NothingLeftMeansLogOnly) {
    const auto plan = heartbeat_fence_plan({{Action::kReboot, 10s}},
                                           agent("kvm.heartbeat.fence.action=restart-agent"));
    EXPECT_EQ(actions(plan.ladder), std::vector<Action>{Action::kLogOnly});
}

// --- HostLadder, in virtual time

TimePoint at(Duration d) {
    return TimePoint{} + 1000s + d;
}

struct Started {
    Duration at;
    Action action;
    bool dry_run;
};

// Ticks every second for `length`, answering every request at once with success.
std::vector<Started> run(HostLadder& ladder, Mode mode, Duration length) {
    std::vector<Started> out;
    EffectiveMode m;
    m.mode = mode;
    for (Duration t = 0s; t <= length; t += 1s) {
        auto o = ladder.tick(m, at(t));
        for (const auto& r : o.requests) {
            out.push_back({t, r.action, r.dry_run});
            ladder.on_result({r.id, r.path, r.action, true, "ok"}, at(t));
        }
    }
    return out;
}

PathPolicy policy_with(std::vector<LadderStep> ladder) {
    PathPolicy p;
    p.ladder = std::move(ladder);
    return p;
}

PathEvidence evidence(std::string name, PathKind kind, std::string target, Verdict v) {
    PathEvidence p{std::move(name), kind, std::move(target), true, {}};
    p.assessment.verdict = v;
    p.assessment.reason = "p99 2.1 s, 40 completions";
    return p;
}

EffectiveMode mode(Mode m) {
    return {m, false, std::nullopt};
}

const HeartbeatPool kNfsPool = heartbeat_pool({{"script", "kvmheartbeat.sh"},
                                               {"server", "10.0.0.5"},
                                               {"export", "/export/primary"},
                                               {"mount", "/mnt/3e5a6b8c/"}});

TEST(HeartbeatFenceDecision, ProgressingPathDeclinesAndNamesTheEvidence) {
    for (const Verdict v :
         {Verdict::kHealthy, Verdict::kContended, Verdict::kDegraded, Verdict::kRecovering}) {
        const auto d =
            decide_heartbeat_fence(kNfsPool,
                                   {evidence("sda", PathKind::kDevice, "/dev/sda", Verdict::kDead),
                                    evidence("primary", PathKind::kMount, "/mnt/3e5a6b8c", v)},
                                   mode(Mode::kArmed));
        EXPECT_EQ(d.reply, FenceReply::kDeclined) << to_string(v);
        EXPECT_EQ(d.evidence, FenceCase::kProgressing);
        ASSERT_TRUE(d.path);
        EXPECT_EQ(d.path->name, "primary");
        EXPECT_EQ(d.detail,
                  fmt::format("CloudStack asked to fence after its heartbeat writes timed out; "
                              "the storage is slow but progressing: path primary (/mnt/3e5a6b8c) "
                              "is {}: p99 2.1 s, 40 completions",
                              to_string(v)));
    }
}

TEST(HeartbeatFenceDecision, NoProgressFences) {
    for (const Verdict v : {Verdict::kStalled, Verdict::kDead}) {
        const auto d = decide_heartbeat_fence(
            kNfsPool, {evidence("primary", PathKind::kMount, "/mnt/3e5a6b8c", v)},
            mode(Mode::kArmed));
        EXPECT_EQ(d.reply, FenceReply::kFencing);
        EXPECT_EQ(d.evidence, FenceCase::kNoProgress);
        EXPECT_TRUE(d.detail.starts_with("no progress: path primary")) << d.detail;
    }
}

TEST(HeartbeatFenceDecision, OneStuckResourceOfALinstorPoolFences) {
    const auto pool = heartbeat_pool({{"script", "kvmspheartbeat.sh"}, {"resource", "r0 r1"}});
    const std::vector<PathEvidence> paths{
        evidence("r0", PathKind::kDrbd, "r0", Verdict::kContended),
        evidence("r1", PathKind::kDrbd, "r1", Verdict::kStalled)};
    EXPECT_EQ(decide_heartbeat_fence(pool, paths, mode(Mode::kArmed)).evidence,
              FenceCase::kNoProgress);
    EXPECT_EQ(decide_heartbeat_fence(pool, {paths[0]}, mode(Mode::kArmed)).reply,
              FenceReply::kDeclined);
}

TEST(HeartbeatFenceDecision, NoPathOrNoEvidenceFencesAndSaysWhich) {
    auto d = decide_heartbeat_fence(
        kNfsPool, {evidence("other", PathKind::kMount, "/mnt/other", Verdict::kHealthy)},
        mode(Mode::kArmed));
    EXPECT_EQ(d.reply, FenceReply::kFencing);
    EXPECT_EQ(d.evidence, FenceCase::kNoPath);
    EXPECT_EQ(d.detail,
              "no monitored path for 10.0.0.5:/export/primary on /mnt/3e5a6b8c/ "
              "(kvmheartbeat.sh): the agent's request is the evidence");
    PathEvidence pending =
        evidence("primary", PathKind::kMount, "/mnt/3e5a6b8c", Verdict::kHealthy);
    pending.assessed = false;
    d = decide_heartbeat_fence(kNfsPool, {pending}, mode(Mode::kArmed));
    EXPECT_EQ(d.reply, FenceReply::kFencing);
    EXPECT_EQ(d.evidence, FenceCase::kNoEvidence);
    // The old RequestFence "heartbeat-timeout" names no pool.
    EXPECT_EQ(decide_heartbeat_fence(heartbeat_pool({}), {pending}, mode(Mode::kArmed)).evidence,
              FenceCase::kNoPath);
}

TEST(HeartbeatFenceDecision, NotArmedIsNotActingWhateverTheEvidence) {
    const std::vector<PathEvidence> paths{
        evidence("primary", PathKind::kMount, "/mnt/3e5a6b8c", Verdict::kContended)};
    for (const Mode m : {Mode::kDryRun, Mode::kDisarmed}) {
        const auto d = decide_heartbeat_fence(kNfsPool, paths, mode(m));
        EXPECT_EQ(d.reply, FenceReply::kNotActing);
        EXPECT_EQ(d.evidence, FenceCase::kProgressing);
        EXPECT_TRUE(d.detail.find(": would be declined: ") != std::string::npos) << d.detail;
    }
    const auto d = decide_heartbeat_fence(
        kNfsPool, paths, {Mode::kDisarmed, true, TimePoint{std::chrono::hours(1)}});
    EXPECT_EQ(d.reply, FenceReply::kNotActing);
    EXPECT_TRUE(d.detail.starts_with("maintenance: would be declined")) << d.detail;
}

TEST(HeartbeatFencePlan, DeclinedKeepsOnlyTheGentleSteps) {
    const auto plan = heartbeat_fence_plan(kConfigured, std::nullopt);
    EXPECT_EQ(actions(declined_plan(plan, false).ladder), std::vector<Action>{Action::kLogOnly});
    EXPECT_EQ(actions(declined_plan(plan, true).ladder),
              (std::vector<Action>{Action::kLogOnly, Action::kRestartAgent}));
    // A ladder without log-only still logs.
    const auto reboot_only = heartbeat_fence_plan({{Action::kReboot, 10s}}, std::nullopt);
    EXPECT_EQ(actions(declined_plan(reboot_only, true).ladder),
              std::vector<Action>{Action::kLogOnly});
}

TEST(DropinCheck, OnlyIohealthsDiversionsAreExpected) {
    const std::string db =
        "/usr/bin/foo\n/usr/bin/foo.distrib\nother\n"
        "/k/kvmheartbeat.sh\n/k/kvmheartbeat.sh.stock\niohealth\n"
        "/k/kvmsmpheartbeat.sh\n/k/kvmsmpheartbeat.sh.stock\niohealth\n";
    EXPECT_EQ(diverted_for(db, "iohealth"),
              (std::vector<std::filesystem::path>{"/k/kvmheartbeat.sh", "/k/kvmsmpheartbeat.sh"}));
    EXPECT_TRUE(diverted_for("", "iohealth").empty());
}

TEST(DropinCheck, TheDropinsAreBesideTheProgramsPrefix) {
    EXPECT_EQ(dropin_dir("/usr/sbin/iohealthd"), "/usr/share/iohealth/cloudstack");
    EXPECT_EQ(dropin_dir("/opt/io/sbin/iohealthd"), "/opt/io/share/iohealth/cloudstack");
}

TEST(DropinCheck, SaysWhichScriptIsNoLongerTheDropin) {
    namespace fs = std::filesystem;
    char tmpl[] = "/tmp/iohealth-dropin-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    const fs::path dir = tmpl, scripts = dir / "kvm", dropins = dir / "dropins";
    fs::create_directories(scripts);
    fs::create_directories(dropins);
    for (const char* f : {"kvmheartbeat.sh", "kvmspheartbeat.sh", "kvmsmpheartbeat.sh"})
        std::ofstream(dropins / f) << "#!/bin/bash\n";
    fs::create_symlink(dropins / "kvmheartbeat.sh", scripts / "kvmheartbeat.sh");
    std::ofstream(scripts / "kvmspheartbeat.sh") << "# a new stock script copied over it\n";
    const std::vector<fs::path> diverted{scripts / "kvmheartbeat.sh", scripts / "kvmspheartbeat.sh",
                                         scripts / "kvmsmpheartbeat.sh"};
    const auto found = misplaced_dropins(diverted, dropins);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0], (scripts / "kvmspheartbeat.sh").string() +
                            " is no longer iohealth's drop-in (" +
                            (dropins / "kvmspheartbeat.sh").string() +
                            "): the CloudStack agent fences without iohealthd; run "
                            "'iohealth-cloudstack enable'");
    EXPECT_TRUE(found[1].starts_with((scripts / "kvmsmpheartbeat.sh").string() + " is missing"));
    fs::remove(scripts / "kvmspheartbeat.sh");
    fs::create_symlink(dropins / "kvmspheartbeat.sh", scripts / "kvmspheartbeat.sh");
    fs::create_symlink(dropins / "kvmsmpheartbeat.sh", scripts / "kvmsmpheartbeat.sh");
    EXPECT_TRUE(misplaced_dropins(diverted, dropins).empty());
    fs::remove_all(dir);
}

TEST(HostLadder, WalksTheLadderWithItsHoldsThenFinishes) {
    HostLadder ladder("heartbeat-timeout#1",
                      policy_with({{Action::kLogOnly, 2s},
                                   {Action::kRestartAgent, 3s},
                                   {Action::kGracefulReboot, 5s},
                                   {Action::kReboot, 2s}}),
                      "agent asked", at(0s));
    const auto started = run(ladder, Mode::kDryRun, 30s);
    ASSERT_EQ(started.size(), 4u);
    EXPECT_EQ(started[0].at, 0s);
    EXPECT_EQ(started[1].at, 2s);
    EXPECT_EQ(started[2].at, 5s);
    EXPECT_EQ(started[3].at, 10s);
    EXPECT_EQ(started[3].action, Action::kReboot);
    EXPECT_TRUE(std::all_of(started.begin(), started.end(), [](auto& s) { return s.dry_run; }));
    EXPECT_TRUE(ladder.finished());
    EXPECT_TRUE(ladder.done());
}

TEST(HostLadder, ArmedStepsAreRealAndTheEventsNameTheLadder) {
    HostLadder ladder("heartbeat-timeout#7", policy_with({{Action::kLogOnly, 1s}}), "agent asked",
                      at(0s));
    EffectiveMode m;
    m.mode = Mode::kArmed;
    const auto out = ladder.tick(m, at(0s));
    ASSERT_EQ(out.requests.size(), 1u);
    EXPECT_FALSE(out.requests[0].dry_run);
    EXPECT_EQ(out.requests[0].path, "heartbeat-timeout#7");
    EXPECT_EQ(out.requests[0].reason, "agent asked");
    ASSERT_FALSE(out.events.empty());
    EXPECT_EQ(out.events[0].type, EventType::kEscalationStarted);
    EXPECT_EQ(out.events[0].path, "heartbeat-timeout#7");
    EXPECT_FALSE(ladder.done());  // its result is not back yet
}

TEST(HostLadder, DisarmedRunsNothing) {
    HostLadder ladder("heartbeat-timeout#2", policy_with({{Action::kReboot, 1s}}), "agent asked",
                      at(0s));
    EXPECT_TRUE(run(ladder, Mode::kDisarmed, 5s).empty());
    EXPECT_TRUE(ladder.finished());
}

}  // namespace
}  // namespace iohealth
