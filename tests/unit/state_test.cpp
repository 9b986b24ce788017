// What the daemon keeps across restarts and reboots (userspace/state/, issue 13): the files
// read back as written, a corrupt or partial file is a clear error and never a crash, stale
// records are told apart, and the reboot guard's decision table.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/escalation.h"
#include "integration/temp_dir.h"
#include "state/episode_store.h"
#include "state/fence_record.h"
#include "state/json_file.h"
#include "state/mode_store.h"
#include "state/reboot_guard.h"

namespace iohealth::state {
namespace {

using namespace std::chrono_literals;

class StateFileTest : public ::testing::Test {
  protected:
    std::filesystem::path file(const std::string& name) const { return dir_.path() + "/" + name; }
    void write_text(const std::string& name, const std::string& text) const {
        std::ofstream(file(name)) << text;
    }
    testing::TempDir dir_{"iohealth-state"};
};

TEST_F(StateFileTest, WrittenFileReadsBackAndLeavesNoTemporary) {
    const auto f = file("sub/x.json");
    ASSERT_EQ(write_json_file(f, {{"a", 1}}), "");
    const auto back = read_json_file(f);
    ASSERT_TRUE(back);
    ASSERT_TRUE(*back);
    EXPECT_EQ((**back)["a"], 1);
    EXPECT_FALSE(std::filesystem::exists(f.string() + ".tmp"));
}

TEST_F(StateFileTest, AbsentFileIsNothing) {
    const auto back = read_json_file(file("none.json"));
    ASSERT_TRUE(back);
    EXPECT_FALSE(*back);
}

TEST_F(StateFileTest, TruncatedOrForeignFileIsAClearError) {
    for (const char* text : {"{\"version\": 1, \"boo", "", "[1, 2]", "\x01\x02garbage"}) {
        write_text("bad.json", text);
        const auto back = read_json_file(file("bad.json"));
        ASSERT_FALSE(back) << text;
        EXPECT_NE(back.error().find("is not a JSON object (truncated or corrupt)"),
                  std::string::npos)
            << back.error();
    }
}

TEST(EpisodeStore, RoundTripsAndRefusesMissingFields) {
    EpisodeFile f{"boot-1",
                  {{"disk0", "7:0", from_usec(1'000'000), LadderPosition{2, from_usec(9'000'000)},
                    from_usec(5'000'000)},
                   {"nfs0", "0:52", from_usec(2'000'000), std::nullopt, from_usec(5'000'000)}}};
    const auto back = episode_file_from_json(to_json(f));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, f);

    auto j = to_json(f);
    j["episodes"][0].erase("since_usec");
    const auto partial = episode_file_from_json(j);
    ASSERT_FALSE(partial);
    EXPECT_NE(partial.error().find("malformed episode record"), std::string::npos);
    j = to_json(f);
    j["version"] = 7;
    EXPECT_FALSE(episode_file_from_json(j));
}

TEST(EpisodeStore, StaleRecordsAreToldApart) {
    const EpisodeRecord r{"disk0", "7:0", from_usec(10'000'000), std::nullopt,
                          from_usec(16'000'000)};
    const TimePoint now = from_usec(16'500'000);
    const Duration dead_after = 10s;
    EXPECT_EQ(stale_reason(r, "b1", "b1", "7:0", now, dead_after), std::nullopt);
    const auto reboot = stale_reason(r, "b0", "b1", "7:0", now, dead_after);
    ASSERT_TRUE(reboot);
    EXPECT_NE(reboot->find("written before a reboot"), std::string::npos) << *reboot;
    const auto device = stale_reason(r, "b1", "b1", "7:3", now, dead_after);
    ASSERT_TRUE(device);
    EXPECT_NE(device->find("device changed (was 7:0, now 7:3)"), std::string::npos) << *device;
    const auto future = stale_reason(r, "b1", "b1", "7:0", from_usec(12'000'000), dead_after);
    ASSERT_TRUE(future);
    EXPECT_NE(future->find("later than now"), std::string::npos) << *future;
    const auto old = stale_reason(r, "b1", "b1", "7:0", from_usec(26'000'001), dead_after);
    ASSERT_TRUE(old);
    EXPECT_NE(old->find("longer than dead_after"), std::string::npos) << *old;
    EXPECT_EQ(stale_reason(r, "b1", "b1", "7:0", from_usec(26'000'000), dead_after), std::nullopt);
}

TEST(ModeStore, NothingIsKeptForTheConfiguredMode) {
    EXPECT_EQ(mode_record(ModeState(Mode::kArmed), Mode::kArmed, std::nullopt), std::nullopt);
}

TEST(ModeStore, RuntimeModeIsKeptUnlessTheConfigurationChanged) {
    ModeState m(Mode::kDryRun);
    m.set(Mode::kArmed, "test");
    const auto record = mode_record(m, Mode::kDryRun, std::nullopt);
    ASSERT_TRUE(record);
    const auto back = mode_record_from_json(to_json(*record));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, *record);

    const auto kept = restore_mode(*back, Mode::kDryRun, from_usec(0), 1'000'000);
    EXPECT_EQ(kept.mode.effective().mode, Mode::kArmed);
    EXPECT_EQ(kept.mode.source(), ModeSource::kRuntime);
    EXPECT_EQ(kept.note, "runtime mode armed kept");

    const auto changed = restore_mode(*back, Mode::kDisarmed, from_usec(0), 1'000'000);
    EXPECT_EQ(changed.mode.effective().mode, Mode::kDisarmed);
    EXPECT_EQ(changed.mode.source(), ModeSource::kConfig);
    EXPECT_NE(changed.note.find("configured mode changed from dry-run to disarmed"),
              std::string::npos)
        << changed.note;
}

TEST(ModeStore, MaintenanceKeepsItsEndAndAnEndedOneReArms) {
    const ModeRecord r{Mode::kArmed, std::nullopt, 100'000'000};  // ends at realtime 100 s
    // 2 minutes into a 30-minute window scaled: 28 s left at realtime 72 s.
    const auto kept = restore_mode(r, Mode::kArmed, from_usec(5'000'000), 72'000'000);
    const EffectiveMode e = kept.mode.effective();
    EXPECT_TRUE(e.maintenance);
    EXPECT_EQ(e.mode, Mode::kDisarmed);
    ASSERT_TRUE(e.maintenance_until);
    EXPECT_EQ(*e.maintenance_until, from_usec(33'000'000));
    EXPECT_EQ(kept.note, "maintenance kept, 28s left");
    ModeState m = kept.mode;
    const auto ended = m.expire(from_usec(33'000'000));
    ASSERT_TRUE(ended);
    EXPECT_EQ(m.effective().mode, Mode::kArmed);

    const auto late = restore_mode(r, Mode::kArmed, from_usec(5'000'000), 130'000'000);
    EXPECT_FALSE(late.mode.effective().maintenance);
    EXPECT_EQ(late.mode.effective().mode, Mode::kArmed);
    EXPECT_NE(late.note.find("maintenance ended 30s ago, re-armed"), std::string::npos)
        << late.note;
}

TEST(ModeStore, MalformedRecordIsAClearError) {
    const auto bad = mode_record_from_json({{"version", 1}, {"configured", "on"}});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("malformed mode record"), std::string::npos) << bad.error();
    EXPECT_FALSE(mode_record_from_json({{"configured", "armed"}}));
}

TEST(FenceRecordTest, RoundTripsAndRefusesAnUnknownAction) {
    const FenceRecord r{"disk0",
                        "7:0",
                        Action::kGracefulReboot,
                        3,
                        "no progress past dead_after 10s",
                        1'700'000'000'000'000,
                        "boot-1"};
    const auto back = fence_record_from_json(to_json(r));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, r);
    auto j = to_json(r);
    j["action"] = "explode";
    const auto bad = fence_record_from_json(j);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("unknown action"), std::string::npos) << bad.error();
}

TEST(RebootGuardTest, HoldsOnlyWhileRebootingCannotHelp) {
    RebootGuardFacts f;
    EXPECT_EQ(reboot_guard(f), RebootGuard::kNone);  // no fence for this path
    f.fenced_for_path = true;
    f.guests = GuestsOnPath::kNone;
    EXPECT_EQ(reboot_guard(f), RebootGuard::kHold);
    f.guests = GuestsOnPath::kSome;
    EXPECT_EQ(reboot_guard(f), RebootGuard::kRelease);
    f.guests = GuestsOnPath::kNone;
    f.served_io = true;
    EXPECT_EQ(reboot_guard(f), RebootGuard::kRelease);
    f.served_io = false;
    f.guests = GuestsOnPath::kUnknown;
    EXPECT_EQ(reboot_guard(f), RebootGuard::kHold);  // the documented default
    f.unknown = UnknownGuests::kAllow;
    EXPECT_EQ(reboot_guard(f), RebootGuard::kNone);
}

}  // namespace
}  // namespace iohealth::state
