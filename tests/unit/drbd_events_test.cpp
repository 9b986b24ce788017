#include "sources/drbd/drbd_events.h"

#include <gtest/gtest.h>

#include "fixture_text.h"

namespace iohealth {
namespace {

DrbdState load(const std::string& name) {
    DrbdState s;
    const auto errors = s.apply_text(fixture_text("drbd", name));
    EXPECT_TRUE(errors.empty()) << name << ": " << (errors.empty() ? "" : errors.front());
    return s;
}

const DrbdResource& resource(const DrbdState& s, const std::string& name) {
    static const DrbdResource missing;
    const auto it = s.resources().find(name);
    EXPECT_NE(it, s.resources().end()) << "no resource " << name;
    return it == s.resources().end() ? missing : it->second;
}

TEST(DrbdEventLine, ParsesActionObjectAndFields) {
    std::string error;
    const auto e = parse_drbd_event(
        "change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 "
        "replication:SyncSource out-of-sync:52840",
        error);
    ASSERT_TRUE(e) << error;
    EXPECT_EQ(e->action, DrbdEvent::Action::kChange);
    EXPECT_EQ(e->object, DrbdEvent::Object::kPeerDevice);
    EXPECT_EQ(e->fields.at("replication"), "SyncSource");
    EXPECT_EQ(e->fields.at("out-of-sync"), "52840");
}

TEST(DrbdEventLine, SkipsTheTimestampAndKeepsColonsInValues) {
    std::string error;
    const auto e = parse_drbd_event(
        "2026-11-22T03:13:17.594863+00:00 exists path name:r0 peer-node-id:1 "
        "peer:ipv4:10.0.0.2:7789",
        error);
    ASSERT_TRUE(e) << error;
    EXPECT_EQ(e->object, DrbdEvent::Object::kPath);
    EXPECT_EQ(e->fields.at("peer"), "ipv4:10.0.0.2:7789");
}

TEST(DrbdEventLine, EndOfDump) {
    std::string error;
    const auto e = parse_drbd_event("exists -", error);
    ASSERT_TRUE(e) << error;
    EXPECT_EQ(e->object, DrbdEvent::Object::kEndOfDump);
}

struct BadLine {
    const char* name;
    const char* line;
    const char* error;
};

class DrbdEventBadLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(DrbdEventBadLine, IsRejectedWithAReason) {
    std::string error;
    EXPECT_FALSE(parse_drbd_event(GetParam().line, error));
    EXPECT_EQ(error, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, DrbdEventBadLine,
    ::testing::Values(BadLine{"ToolMessage", "Failed to modprobe drbd (No such file or directory)",
                              "unknown action 'Failed'"},
                      BadLine{"UnknownObject", "exists widget name:r0", "unknown object 'widget'"},
                      BadLine{"NoValue", "exists resource name:r0 role",
                              "field 'role' is not key:value"},
                      BadLine{"NoName", "exists resource role:Primary", "no name: field"},
                      BadLine{"TooShort", "exists", "expected 'ACTION OBJECT key:value...'"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DrbdState, Drbd84ResyncDump) {
    const DrbdState s = load("now-84-resync-1.txt");
    EXPECT_TRUE(s.complete());
    const auto& r0 = resource(s, "r0");
    EXPECT_EQ(r0.role, "Primary");
    EXPECT_FALSE(r0.io_suspended());
    EXPECT_EQ(r0.connections.at(0).state, "Connected");
    EXPECT_EQ(r0.connections.at(0).peer_role, "Secondary");
    EXPECT_EQ(r0.devices.at(0).minor, 0);
    EXPECT_EQ(r0.devices.at(0).disk, "UpToDate");
    EXPECT_FALSE(r0.devices.at(0).quorum);  // 8.4 has no quorum
    const auto& pd = r0.peer_devices.at({0, 0});
    EXPECT_EQ(pd.replication, "SyncSource");
    EXPECT_EQ(pd.peer_disk, "Inconsistent");
    EXPECT_EQ(pd.out_of_sync, 31164u);
    EXPECT_FALSE(pd.done);  // 8.4 prints no done:
    EXPECT_EQ(pd.pending, 3u);
    EXPECT_EQ(pd.unacked, 2u);
    EXPECT_EQ(resource(s, "r1").devices.at(0).minor, 1);
    EXPECT_EQ(resource(s, "r1").peer_devices.at({0, 0}).replication, "SyncTarget");
}

TEST(DrbdState, Drbd84PeerSilentWriteWaitsOnThePeer) {
    const DrbdState s = load("now-84-peer-silent-1.txt");
    const auto& d = resource(s, "r0");
    EXPECT_EQ(d.devices.at(0).upper_pending, 1u);
    EXPECT_EQ(d.devices.at(0).lower_pending, 0u);
    EXPECT_EQ(d.peer_devices.at({0, 0}).pending, 1u);
    EXPECT_EQ(d.connections.at(0).state, "Connected");  // DRBD has not noticed yet
}

TEST(DrbdState, Drbd84BackingDiskSuspendedWriteWaitsOnTheDisk) {
    const DrbdState s = load("now-84-backing-suspended.txt");
    const auto& d = resource(s, "r0");
    EXPECT_EQ(d.devices.at(0).upper_pending, 1u);
    EXPECT_EQ(d.devices.at(0).lower_pending, 1u);
    EXPECT_EQ(d.peer_devices.at({0, 0}).pending, 0u);
}

TEST(DrbdState, Drbd84UserSuspendAndDetach) {
    const DrbdState suspended = load("now-84-suspended-user.txt");
    EXPECT_EQ(resource(suspended, "r0").suspended, "user");
    EXPECT_TRUE(resource(suspended, "r0").io_suspended());
    const DrbdState detached = load("now-84-detached.txt");
    EXPECT_EQ(resource(detached, "r0").devices.at(0).disk, "Diskless");
}

TEST(DrbdState, Drbd9QuorumLostWithPaths) {
    const DrbdState s = load("now-9-quorum-lost.txt");
    const auto& r = resource(s, "r0");
    EXPECT_EQ(r.suspended, "quorum");
    EXPECT_EQ(r.devices.at(0).minor, 1000);
    EXPECT_EQ(r.devices.at(0).quorum, false);
    EXPECT_EQ(r.connections.size(), 2u);
    EXPECT_EQ(r.connections.at(1).name, "node2");
    EXPECT_EQ(r.connections.at(2).peer_address, "ipv4:10.0.0.3:7789");
}

TEST(DrbdState, Drbd9ResyncDone) {
    const DrbdState s = load("now-9-resync.txt");
    const auto& pd = resource(s, "r1").peer_devices.at({1, 0});
    EXPECT_EQ(pd.replication, "SyncTarget");
    ASSERT_TRUE(pd.done);
    EXPECT_DOUBLE_EQ(*pd.done, 50.0);
}

// The long-running form over the whole capture: the initial dump, then changes that carry
// only what changed (resync, peer lost and back, suspend, detach), helpers that change nothing.
TEST(DrbdState, Drbd84StreamFollowsChanges) {
    DrbdState s;
    const std::string text = fixture_text("drbd", "stream-84.txt");
    const auto errors = s.apply_text(text);
    EXPECT_TRUE(errors.empty()) << errors.front();
    EXPECT_TRUE(s.complete());
    // It ends with r0's disk detached after write errors, r1 seeing that.
    const auto& r0 = resource(s, "r0");
    EXPECT_EQ(r0.role, "Primary");
    EXPECT_FALSE(r0.io_suspended());
    EXPECT_EQ(r0.devices.at(0).disk, "Diskless");
    EXPECT_EQ(r0.connections.at(0).state, "Connected");
    EXPECT_EQ(resource(s, "r1").peer_devices.at({0, 0}).peer_disk, "Diskless");
}

TEST(DrbdState, ChangeKeepsFieldsItDoesNotName) {
    DrbdState s;
    s.apply_text(
        "exists device name:r0 volume:0 minor:3 disk:UpToDate upper-pending:0 lower-pending:0\n"
        "exists -\n"
        "change device name:r0 volume:0 lower-pending:2\n");
    const auto& d = resource(s, "r0").devices.at(0);
    EXPECT_EQ(d.minor, 3);
    EXPECT_EQ(d.disk, "UpToDate");
    EXPECT_EQ(d.lower_pending, 2u);
}

TEST(DrbdState, DestroyRemovesTheObjectAndItsPeerDevices) {
    DrbdState s;
    s.apply_text(
        "exists resource name:r0 role:Primary suspended:no\n"
        "exists connection name:r0 peer-node-id:1 connection:Connected\n"
        "exists peer-device name:r0 peer-node-id:1 volume:0 replication:Established\n"
        "destroy connection name:r0 peer-node-id:1\n"
        "exists resource name:r1 role:Secondary\n"
        "destroy resource name:r1\n");
    EXPECT_TRUE(resource(s, "r0").connections.empty());
    EXPECT_TRUE(resource(s, "r0").peer_devices.empty());
    EXPECT_FALSE(s.resources().contains("r1"));
}

TEST(DrbdState, BadNumberIsReportedAndTheRestApplies) {
    DrbdState s;
    const auto errors =
        s.apply_text("exists device name:r0 volume:0 minor:x disk:UpToDate upper-pending:1\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0],
              "minor 'x' is not valid (in 'exists device name:r0 volume:0 minor:x disk:UpToDate "
              "upper-pending:1')");
    EXPECT_EQ(resource(s, "r0").devices.at(0).disk, "UpToDate");
    EXPECT_EQ(resource(s, "r0").devices.at(0).upper_pending, 1u);
}

// drbd-utils prints resync-suspended with resync_susp_str(): "no", or user, peer and
// dependency in that order joined by commas; never "yes" (issue 15: every real paused resync
// was rejected as invalid).
TEST(DrbdState, ResyncSuspendedAsDrbdUtilsPrintsIt) {
    using R = DrbdPeerDevice::ResyncSuspended;
    const std::pair<const char*, R> cases[] = {
        {"no", R{}},
        {"user", R{true, false, false}},
        {"peer", R{false, true, false}},
        {"dependency", R{false, false, true}},
        {"user,peer", R{true, true, false}},
        {"peer,dependency", R{false, true, true}},
        {"user,peer,dependency", R{true, true, true}},
        {"max-parallel", R{false, false, false, true}},
        {"user,max-parallel", R{true, false, false, true}},
    };
    for (const auto& [text, expected] : cases) {
        DrbdState s;
        const auto errors = s.apply_text(
            std::string("exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 "
                        "replication:PausedSyncS resync-suspended:") +
            text + " out-of-sync:31164\n");
        EXPECT_TRUE(errors.empty()) << text << ": " << errors.front();
        EXPECT_EQ(resource(s, "r0").peer_devices.at({0, 0}).resync_suspended, expected) << text;
    }
    for (const char* bad : {"yes", "user,,peer", "user,user", "peer,", ",user", "paused"}) {
        DrbdState s;
        const auto errors = s.apply_text(
            std::string("exists peer-device name:r0 peer-node-id:0 volume:0 resync-suspended:") +
            bad + "\n");
        ASSERT_EQ(errors.size(), 1u) << bad;
        EXPECT_TRUE(
            errors[0].starts_with(std::string("resync-suspended '") + bad + "' is not valid"))
            << errors[0];
    }
}

}  // namespace
}  // namespace iohealth
