#include "sources/drbd/drbd_facts.h"

#include <gtest/gtest.h>

#include "fixture_text.h"
#include "sources/drbd/drbd_startup_check.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;

DrbdResource resource(const std::string& fixture, const std::string& name) {
    DrbdState s;
    EXPECT_TRUE(s.apply_text(fixture_text("drbd", fixture)).empty());
    return s.resources().at(name);
}

DrbdResourceConfig config(const std::string& fixture, const std::string& name) {
    std::vector<std::string> errors;
    for (const auto& c : parse_drbd_show(fixture_text("drbd", fixture), errors))
        if (c.name == name) return c;
    ADD_FAILURE() << "no " << name << " in " << fixture;
    return {};
}

constexpr Duration kStale = 6s;  // 3 x a 2 s refresh

class DrbdFactsTest : public ::testing::Test {
  protected:
    StorageFacts at(TimePoint now) { return facts_.update("r0", tick_, now); }

    DrbdFacts facts_{kStale};
    DrbdTick tick_;
    TimePoint t0 = from_usec(100'000'000);
};

TEST_F(DrbdFactsTest, ResyncWhoseOutOfSyncFallsIsAdvancing) {
    const DrbdResource before = resource("now-84-resync-1.txt", "r0");
    const DrbdResource now = resource("now-84-resync-2.txt", "r0");
    tick_.state = &now;
    tick_.state_at = t0;
    tick_.previous = progress_of(before, t0 - 2s);
    tick_.latest = progress_of(now, t0);
    const StorageFacts f = at(t0 + 1s);
    EXPECT_TRUE(f.resync_active);
    EXPECT_TRUE(f.resync_advancing);
    EXPECT_EQ(f.note,
              "DRBD Primary UpToDate, peer peer Connected SyncSource Inconsistent oos 26056KiB");
}

TEST_F(DrbdFactsTest, ResyncThatStandsStillIsNotProofOfLife) {
    const DrbdResource r = resource("now-84-resync-2.txt", "r0");
    tick_.state = &r;
    tick_.state_at = t0;
    tick_.previous = progress_of(r, t0 - 2s);
    tick_.latest = progress_of(r, t0);
    EXPECT_TRUE(at(t0).resync_active);
    EXPECT_FALSE(at(t0).resync_advancing);
}

TEST_F(DrbdFactsTest, OldStatisticsProveNothing) {
    const DrbdResource before = resource("now-84-resync-1.txt", "r0");
    const DrbdResource now = resource("now-84-resync-2.txt", "r0");
    tick_.state = &now;
    tick_.state_at = t0;
    tick_.previous = progress_of(before, t0 - 2s);
    tick_.latest = progress_of(now, t0);
    EXPECT_TRUE(at(t0 + kStale).resync_advancing);
    EXPECT_FALSE(at(t0 + kStale + 1s).resync_advancing);  // drbdsetup stopped answering
}

TEST_F(DrbdFactsTest, Drbd9DoneRisingIsAdvancing) {
    DrbdResource r = resource("now-9-resync.txt", "r1");
    DrbdProgress before = progress_of(r, t0 - 2s);
    before.done = 40.0;  // out-of-sync unchanged: only done% moved
    tick_.state = &r;
    tick_.state_at = t0;
    tick_.previous = before;
    tick_.latest = progress_of(r, t0);
    EXPECT_TRUE(facts_.update("r1", tick_, t0).resync_advancing);
}

// Packets to the peer dropped: the write sits in DRBD (upper-pending 1), the backing disk
// owes nothing (lower-pending 0), the peer owes an ack (pending 1) and nothing completes.
TEST_F(DrbdFactsTest, WritesWaitingOnASilentPeerNameTheLinkAndDrbdsDeadline) {
    const DrbdResource r = resource("now-84-peer-silent-1.txt", "r0");
    const DrbdResourceConfig c = config("show-84-defaults.txt", "r0");
    tick_.state = &r;
    tick_.config = &c;
    tick_.device = DiskTick{.completed = 3, .writes = 0, .in_flight = 1};
    // The statistics were read before the writes stopped completing: no proof yet.
    tick_.state_at = t0 - 500ms;
    EXPECT_EQ(at(t0).waiting_on, "");
    tick_.state_at = t0 + 1500ms;
    const StorageFacts f = at(t0 + 2s);
    EXPECT_EQ(f.waiting_on, "replication link r0 to 127.0.0.1:7790");
    // Counted from the first tick without a write completion.
    EXPECT_EQ(f.lower_layer_deadline, t0 + 42s);
    EXPECT_EQ(f.lower_layer_rule,
              "ko-count 7 x timeout 6s (a silent peer sooner: ping-int 10s + ping-timeout 500ms)");
    EXPECT_FALSE(f.io_suspended);
    tick_.state_at = t0 + 3500ms;
    EXPECT_EQ(at(t0 + 4s).lower_layer_deadline, t0 + 42s);
    // A write completes: that wait is over; the next one has its own deadline.
    tick_.device->writes = 1;
    EXPECT_EQ(at(t0 + 5s).waiting_on, "");
    tick_.device->writes = 0;
    tick_.state_at = t0 + 5500ms;
    EXPECT_EQ(at(t0 + 6s).waiting_on, "");
    tick_.state_at = t0 + 6500ms;
    EXPECT_EQ(at(t0 + 7s).lower_layer_deadline, t0 + 6s + 42s);
}

TEST_F(DrbdFactsTest, WithoutItsOptionsTheLinkWaitUsesDrbdDefaults) {
    const DrbdResource r = resource("now-84-peer-silent-1.txt", "r0");
    tick_.state = &r;
    tick_.device = DiskTick{.completed = 0, .writes = 0, .in_flight = 1};
    tick_.state_at = t0 - 1s;
    at(t0);
    tick_.state_at = t0 + 500ms;
    const StorageFacts f = at(t0 + 1s);
    EXPECT_EQ(f.waiting_on, "replication link r0 to peer peer");
    EXPECT_EQ(f.lower_layer_deadline, t0 + 42s);
}

TEST_F(DrbdFactsTest, NoLinkWaitOnStaleStatistics) {
    const DrbdResource r = resource("now-84-peer-silent-1.txt", "r0");
    tick_.state = &r;
    tick_.device = DiskTick{.completed = 0, .writes = 0, .in_flight = 1};
    tick_.state_at = t0 - 1s;
    at(t0);
    tick_.state_at = t0 + 500ms;
    EXPECT_EQ(at(t0 + 500ms + kStale + 1s).waiting_on, "");
}

// dmsetup suspend under DRBD: DRBD itself waits for its backing disk (lower-pending), which
// it never gives up on (disk-timeout 0): no replication link, no DRBD deadline.
TEST_F(DrbdFactsTest, BackingDiskStuckIsNotALinkWait) {
    const DrbdResource r = resource("now-84-backing-suspended.txt", "r0");
    tick_.state = &r;
    tick_.state_at = t0;
    tick_.device = DiskTick{.completed = 0, .writes = 0, .in_flight = 1};
    tick_.backing = DiskTick{.completed = 0, .writes = 0, .in_flight = 1};
    tick_.backing_name = "dm-0";
    at(t0 - 1s);
    const StorageFacts f = at(t0);
    EXPECT_EQ(f.waiting_on, "");
    EXPECT_FALSE(f.lower_layer_deadline);
    EXPECT_EQ(f.note,
              "DRBD Primary UpToDate, peer peer Connected Established UpToDate; upper-pending 1 "
              "lower-pending 1; backing dm-0: 0 done, 1 in flight");
}

TEST_F(DrbdFactsTest, SuspendedAndQuorumLost) {
    const DrbdResource r = resource("now-9-quorum-lost.txt", "r0");
    tick_.state = &r;
    tick_.state_at = t0;
    tick_.device = DiskTick{.completed = 0, .writes = 0, .in_flight = 4};
    at(t0 - 1s);
    const StorageFacts f = at(t0);
    EXPECT_TRUE(f.io_suspended);
    EXPECT_EQ(f.suspended_reason, "quorum");
    EXPECT_TRUE(f.quorum_lost);
    EXPECT_EQ(f.waiting_on, "");  // suspended: DRBD holds the I/O itself, no peer deadline
}

TEST_F(DrbdFactsTest, DetachedDiskIsNamed) {
    const DrbdResource r = resource("now-84-detached.txt", "r0");
    tick_.state = &r;
    tick_.state_at = t0;
    EXPECT_EQ(at(t0).note,
              "DRBD Primary Diskless, peer peer Connected Established UpToDate (no local disk: "
              "I/O goes to the peer)");
}

TEST_F(DrbdFactsTest, DetachedDiskWithoutThePeerFailsIo) {
    DrbdResource r = resource("now-84-detached.txt", "r0");
    r.connections.clear();  // drbdsetup disconnect: 8.4 destroys the connection
    r.peer_devices.clear();
    tick_.state = &r;
    tick_.state_at = t0;
    EXPECT_EQ(at(t0).note,
              "DRBD Primary Diskless (no local disk, no peer with the data: I/O fails)");
}

TEST_F(DrbdFactsTest, NoStateSaysWhy) {
    tick_.unavailable = "the drbd kernel module is not loaded (/proc/drbd is missing)";
    EXPECT_EQ(at(t0).note,
              "no DRBD state: the drbd kernel module is not loaded (/proc/drbd is missing)");
    tick_.unavailable.clear();
    EXPECT_EQ(at(t0).note, "DRBD resource r0 does not exist");
}

TEST(DrbdPeerGiveUp, KoCountTimesTimeoutOrThePingRule) {
    EXPECT_EQ(drbd_peer_give_up(DrbdNetTimeouts{}), 42s);
    // The request timer drops the peer after ko-count x timeout even before a ping is due.
    EXPECT_EQ(drbd_peer_give_up({.timeout = 6s, .ko_count = 2, .ping_int = 15s}), 12s);
    EXPECT_EQ(drbd_peer_give_up_rule({.timeout = 6s, .ko_count = 2, .ping_int = 15s}),
              "ko-count 2 x timeout 6s");
    EXPECT_EQ(drbd_peer_give_up({.timeout = 6s, .ko_count = 0}), 10500ms);
    EXPECT_EQ(drbd_peer_give_up_rule({.timeout = 6s, .ko_count = 0}),
              "ping-int 10s + ping-timeout 500ms (ko-count 0: a peer that answers pings is never "
              "dropped)");
}

PathConfig drbd_path(Duration dead_after) {
    PathConfig p;
    p.name = "drbd-r0";
    p.kind = PathKind::kDrbd;
    p.target = "r0";
    p.policy.timings.dead_after = dead_after;
    return p;
}

TEST(DrbdStartupCheck, Drbd84DefaultsGiveUpAfterTheDrbdPresetsDeadAfter) {
    const auto w = drbd_startup_warnings(drbd_path(25s), config("show-84-defaults.txt", "r0"));
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0],
              "path 'drbd-r0' (DRBD resource r0): DRBD drops a peer 127.0.0.1:7790 that stops "
              "acknowledging writes only after ko-count 7 x timeout 6s (a silent peer sooner: "
              "ping-int 10s + ping-timeout 500ms) = 42s, later than dead_after 25s; DEAD is held "
              "while the writes are seen waiting on that link, but if the heartbeat stalls too "
              "iohealth fences before DRBD gives up (make ko-count x timeout shorter than "
              "dead_after)");
    EXPECT_TRUE(
        drbd_startup_warnings(drbd_path(45s), config("show-84-defaults.txt", "r0")).empty());
}

TEST(DrbdStartupCheck, ShortKoCountIsQuiet) {
    // ko-count 3 x timeout 2s = 6s
    EXPECT_TRUE(drbd_startup_warnings(drbd_path(7s), config("show-84-r0-ko3.txt", "r0")).empty());
    EXPECT_EQ(drbd_startup_warnings(drbd_path(5s), config("show-84-r0-ko3.txt", "r0")).size(), 1u);
}

TEST(DrbdStartupCheck, Drbd9SuspendingOptions) {
    const auto w = drbd_startup_warnings(drbd_path(25s), config("show-9.txt", "r0"));
    ASSERT_EQ(w.size(), 3u);  // peer node 1 (42 s), on-no-quorum, fencing; not peer node 2 (4 s)
    EXPECT_NE(w[0].find("10.0.0.2:7789"), std::string::npos) << w[0];
    EXPECT_EQ(w[1],
              "path 'drbd-r0' (DRBD resource r0): on-no-quorum suspend-io freezes I/O without "
              "quorum and DRBD never ends that wait: iohealth fences after dead_after 25s "
              "(on-no-quorum io-error fails the I/O instead)");
    EXPECT_EQ(w[2],
              "path 'drbd-r0' (DRBD resource r0): fencing resource-and-stonith suspends I/O "
              "until the fence-peer handler returns; a handler slower than dead_after 25s lets "
              "iohealth fence this host first");
}

}  // namespace
}  // namespace iohealth
