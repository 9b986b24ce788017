// Record and replay: the live pipeline (Engine + Recorder) and --replay must produce the same
// events from the same evidence, and a replay must be identical every time.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "actuators/dry_run.h"
#include "daemon/engine.h"
#include "daemon/replay.h"
#include "journal/journald_sink.h"
#include "sim.h"

namespace iohealth::test {
namespace {

std::vector<std::string> lines(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(format_event(e));
    return out;
}

class ReplayTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("iohealth-replay-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // A live run: stall to DEAD, a maintenance window and a mode change, then recovery.
    std::vector<Event> record(const std::filesystem::path& file) {
        PathConfig path;
        path.name = "sim0";
        path.policy = base_policy();
        Simulation sim(path.policy);
        const auto samples = sim.samples({{Storage::kHealthy, 30s},
                                          {Storage::kStalled, 50s},
                                          {Storage::kHealthy, 20s},
                                          {Storage::kStalled, 40s},
                                          {Storage::kHealthy, 10s}});
        MemorySink sink;
        DryRunExecutor executor;
        Recorder recorder(file, {path}, Mode::kDryRun);
        Engine engine({path}, Mode::kDryRun, sink, executor, &recorder);
        for (const auto& s : samples) {
            if (s.at == TimePoint{100s}) engine.maintenance(20s, "test window", s.at);
            if (s.at == TimePoint{130s}) engine.set_mode(Mode::kArmed, "operator", s.at);
            engine.tick(s.at, {{"sim0", s}});
        }
        return sink.events();
    }

    std::filesystem::path dir_;
};

TEST_F(ReplayTest, ReplayReproducesTheLiveEventsExactlyAndTwice) {
    const auto file = dir_ / "run.jsonl";
    const auto live = lines(record(file));
    ASSERT_GT(live.size(), 10u);  // DEAD, a ladder, averted, mode changes...
    MemorySink first, second;
    ASSERT_EQ(replay(file, first), "");
    ASSERT_EQ(replay(file, second), "");
    EXPECT_EQ(lines(first.events()), live);
    EXPECT_EQ(lines(second.events()), live);
}

TEST_F(ReplayTest, CommittedFixtureReplaysToItsGoldenOutput) {
    // tests/fixtures/replay/: a recording and the events it must produce. Regenerate both with
    // IOHEALTH_UPDATE_GOLDEN=1 after an intended behaviour change, and review the diff.
    const std::filesystem::path fixtures = IOHEALTH_SOURCE_DIR "/tests/fixtures/replay";
    if (std::getenv("IOHEALTH_UPDATE_GOLDEN")) {
        record(fixtures / "stall-maintenance-armed.jsonl");
        MemorySink out;
        ASSERT_EQ(replay(fixtures / "stall-maintenance-armed.jsonl", out), "");
        std::ofstream golden(fixtures / "stall-maintenance-armed.events");
        for (const auto& l : lines(out.events())) golden << l << "\n";
    }
    MemorySink out;
    ASSERT_EQ(replay(fixtures / "stall-maintenance-armed.jsonl", out), "");
    std::ifstream golden(fixtures / "stall-maintenance-armed.events");
    std::vector<std::string> expected;
    for (std::string l; std::getline(golden, l);) expected.push_back(l);
    EXPECT_EQ(lines(out.events()), expected);
}

TEST_F(ReplayTest, BrokenRecordingsAreRefusedWithFileAndLine) {
    const auto file = dir_ / "bad.jsonl";
    record(file);
    {
        std::ofstream append(file, std::ios::app);
        append << "{\"sample\": {\"at\": 1}}\n";
    }
    MemorySink out;
    const std::string error = replay(file, out);
    EXPECT_NE(error.find("bad.jsonl:"), std::string::npos) << error;
    EXPECT_NE(error.find("key 'kernel' not found"), std::string::npos) << error;

    std::ofstream(dir_ / "other.jsonl") << "{\"format\": \"something-else\"}\n";
    EXPECT_NE(replay(dir_ / "other.jsonl", out).find("other.jsonl:1: not an iohealth recording"),
              std::string::npos);
    EXPECT_NE(replay(dir_ / "missing.jsonl", out).find("Failed to open recording"),
              std::string::npos);
}

TEST(JournalFields, CarryMessageIdPriorityAndEvidence) {
    Assessment a;
    a.verdict = Verdict::kDead;
    a.reason = "why";
    a.kernel_stall = 25s;
    const Event e{
        EventType::kVerdictChanged,         TimePoint{5s}, 2, "vda", "STALLED -> DEAD: why",
        VerdictChange{Verdict::kStalled, a}};
    const auto f = journal_fields(e);
    const std::vector<std::string> expected{
        "MESSAGE_ID=3c5e1f6f0b8a4d6e9a2b7c41d0e8f512",
        "PRIORITY=2",
        "MESSAGE=vda: STALLED -> DEAD: why",
        "SYSLOG_IDENTIFIER=iohealthd",
        "DOCUMENTATION=man:iohealthd(8)",
        "IOHEALTH_EVENT=verdict-changed",
        "IOHEALTH_PATH=vda",
        "IOHEALTH_OLD_VERDICT=STALLED",
        "IOHEALTH_VERDICT=DEAD",
        "IOHEALTH_REASON=why",
        "IOHEALTH_COMPLETED=0",
        "IOHEALTH_ERRORS=0",
        "IOHEALTH_IN_FLIGHT=0",
        "IOHEALTH_P99_USEC=0",
        "IOHEALTH_KERNEL_STALL_USEC=25000000",
        "IOHEALTH_HEARTBEAT_STALL_USEC=0",
        "IOHEALTH_HEARTBEAT_GAP_USEC=0",
    };
    EXPECT_EQ(f, expected);
}

TEST(JournalFields, EveryEventTypeHasItsOwnMessageId) {
    std::set<std::string_view> ids;
    for (int t = 0; t < kEventTypes; ++t) {
        const auto id = message_id(static_cast<EventType>(t));
        EXPECT_EQ(id.size(), 32u) << to_string(static_cast<EventType>(t));
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEventTypes));
}

}  // namespace
}  // namespace iohealth::test
