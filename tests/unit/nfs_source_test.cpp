// The NFS source without probes (mountstats only, the fallback and the cross-check), on
// readings captured in the qemu guest, and the fact derivation that tells "the server does not
// answer" from "the server answers, this mount's I/O waits".
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "integration/temp_dir.h"
#include "sources/nfs/nfs_evidence.h"
#include "sources/nfs/nfs_source.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;

const std::string kFixtures = std::string(IOHEALTH_SOURCE_DIR) + "/tests/fixtures/nfs/";

PathConfig mount_path(const std::string& name, const std::string& target,
                      const std::string& preset = "nfs") {
    PathConfig p;
    p.name = name;
    p.kind = PathKind::kMount;
    p.target = target;
    p.preset = preset;
    return p;
}

// An NfsSource reading the guest's mountinfo and a mountstats file the test replaces between
// ticks.
class NfsSourceTest : public ::testing::Test {
  protected:
    NfsSourceTest()
        : stats_(dir_.path() + "/mountstats"),
          source_(
              {.mountinfo = kFixtures + "mountinfo.txt", .mountstats = stats_, .probes = false}) {}

    void reading(const std::string& fixture) {
        std::filesystem::copy_file(kFixtures + fixture, stats_,
                                   std::filesystem::copy_options::overwrite_existing);
    }
    // One tick as the daemon does it: kernel evidence, then facts.
    void tick(const std::string& fixture) {
        reading(fixture);
        now_ += 1s;
        evidence_ = source_.collect(now_);
        facts_ = source_.collect(paths_, now_);
    }

    testing::TempDir dir_;
    std::string stats_;
    NfsSource source_;
    TimePoint now_{};
    std::vector<PathConfig> paths_{mount_path("nfs", "/mnt/nfs"), mount_path("nfs3", "/mnt/nfs3")};
    std::map<dev_t, KernelEvidence> evidence_;
    std::map<std::string, StorageFacts> facts_;
};

TEST_F(NfsSourceTest, OwnsNfsMountsAndUnmountedNfsPathsOnly) {
    EXPECT_TRUE(source_.handles(mount_path("a", "/mnt/nfs")));
    EXPECT_TRUE(source_.handles(mount_path("a", "/mnt/nfs space/")));
    EXPECT_TRUE(source_.handles(mount_path("a", "/mnt/later")));  // not mounted yet, nfs preset
    EXPECT_FALSE(source_.handles(mount_path("a", "/mnt/later", "block")));
    EXPECT_FALSE(source_.handles(mount_path("a", "/srv/exp")));  // a tmpfs mount
    PathConfig device = mount_path("a", "/mnt/nfs");
    device.kind = PathKind::kDevice;
    EXPECT_FALSE(source_.handles(device));
}

TEST_F(NfsSourceTest, TheDeviceIsTheSuperblockFromMountinfo) {
    const auto d = source_.device_of(mount_path("a", "/mnt/nfs3"));
    EXPECT_EQ(d.dev, makedev(0, 33));
    EXPECT_TRUE(d.node.empty());
    try {
        source_.device_of(mount_path("a", "/srv/exp"));
        FAIL() << "a tmpfs mount has no NFS device";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("tmpfs mount, not NFS"), std::string::npos);
    }
    EXPECT_THROW(source_.device_of(mount_path("a", "/mnt/later")), std::runtime_error);
}

TEST_F(NfsSourceTest, DiscoversEveryNfsMountWithTheNfsPreset) {
    PathPolicy defaults;
    defaults.timings.io_timeout = 30s;
    const auto paths = source_.discover(defaults);
    ASSERT_EQ(paths.size(), 3u);
    EXPECT_EQ(paths[0].name, "nfs-mnt-nfs");
    EXPECT_EQ(paths[1].name, "nfs-mnt-nfs3");
    EXPECT_EQ(paths[2].name, "nfs-mnt-nfs_space");
    EXPECT_EQ(paths[2].target, "/mnt/nfs space");
    for (const auto& p : paths) {
        EXPECT_EQ(p.kind, PathKind::kMount);
        EXPECT_EQ(p.preset, "nfs");
        EXPECT_EQ(p.policy.timings.io_timeout, 30s);
    }
}

TEST_F(NfsSourceTest, CheckWarnsAboutTheSoftMount) {
    auto soft = mount_path("nfs3", "/mnt/nfs3");
    soft.policy.timings.dead_after = 75s;
    const auto warnings = source_.check(soft);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("soft"), std::string::npos);
    auto hard = mount_path("nfs", "/mnt/nfs");
    hard.policy.timings.dead_after = 75s;
    EXPECT_TRUE(source_.check(hard).empty());
}

TEST_F(NfsSourceTest, DataOpsFromMountstatsAreTheKernelEvidence) {
    source_.set_devices({makedev(0, 32), makedev(0, 33)});
    tick("mountstats-start.txt");  // baseline
    ASSERT_TRUE(evidence_.contains(makedev(0, 33)));
    EXPECT_TRUE(evidence_.at(makedev(0, 33)).available);
    EXPECT_EQ(evidence_.at(makedev(0, 33)).completed, 0u);

    tick("mountstats-wrote.txt");  // 10 O_DIRECT writes on /mnt/nfs3, 204 ms executing
    const auto& ev = evidence_.at(makedev(0, 33));
    EXPECT_EQ(ev.completed, 10u);
    EXPECT_EQ(ev.errors.total(), 0u);
    EXPECT_EQ(ev.bytes, 42120u + 1360u);
    EXPECT_EQ(ev.latency.count(), 10u);
    EXPECT_EQ(ev.latency.percentile(0.5),
              LatencyHistogram::slot_upper_bound(LatencyHistogram::slot_for(20400us)));
    EXPECT_EQ(ev.in_flight, 0u);
    EXPECT_EQ(evidence_.at(makedev(0, 32)).completed, 0u);
    EXPECT_EQ(facts_.at("nfs3").server_answering, true);  // recvs advanced: 21 -> ... replies
    EXPECT_TRUE(facts_.at("nfs3").waiting_on.empty());
}

TEST_F(NfsSourceTest, AStoppedServerIsNotAnsweringAndTheMountWaitsOnIt) {
    source_.set_devices({makedev(0, 32)});
    tick("mountstats-start.txt");
    const auto quiet = facts_.at("nfs");
    EXPECT_FALSE(quiet.server_answering) << "nothing asked, nothing known";

    tick("mountstats-server-stopped.txt");  // reconnecting, nothing sent, nothing received
    const auto& stopped = facts_.at("nfs");
    EXPECT_EQ(stopped.server_answering, false);
    EXPECT_EQ(stopped.waiting_on, "NFS server 127.0.0.1");
    EXPECT_NE(stopped.note.find("not answering"), std::string::npos) << stopped.note;
    EXPECT_EQ(evidence_.at(makedev(0, 32)).in_flight, 1u);
    EXPECT_EQ(evidence_.at(makedev(0, 32)).completed, 0u);

    tick("mountstats-server-stopped.txt");  // still nothing: still waiting
    EXPECT_EQ(facts_.at("nfs").server_answering, false);
    EXPECT_EQ(evidence_.at(makedev(0, 32)).in_flight, 1u);

    tick("mountstats-server-back.txt");  // replies again
    const auto& back = facts_.at("nfs");
    EXPECT_EQ(back.server_answering, true);
    EXPECT_EQ(back.server_last_reply, now_);
    EXPECT_TRUE(back.waiting_on.empty());
    EXPECT_EQ(evidence_.at(makedev(0, 32)).in_flight, 0u);
}

TEST_F(NfsSourceTest, AnUnmountedPathGetsNothing) {
    paths_.push_back(mount_path("later", "/mnt/later"));
    tick("mountstats-start.txt");
    EXPECT_FALSE(facts_.contains("later"));
    EXPECT_TRUE(facts_.contains("nfs"));
}

// --- the fact derivation, one tick ---

TEST(NfsFacts, NotAnsweringAtAll) {
    NfsTransportTick t;
    t.waiting = 2;
    t.oldest_wait = 14s;
    t.major_timeouts = 1;
    const auto f = nfs_facts("10.0.0.5", t, TimePoint{100s});
    EXPECT_EQ(f.server_answering, false);
    EXPECT_EQ(f.waiting_on, "NFS server 10.0.0.5");
    EXPECT_EQ(f.note,
              "NFS server 10.0.0.5 not answering: 2 RPC(s) waiting, oldest 14s, 1 major "
              "timeout(s)");
}

// The server replies (lease renewals, GETATTRs) while this mount's I/O stays outstanding: the
// outage is not the server's silence. Shown in the guest by vm.nfs-server (export suspended).
TEST(NfsFacts, AnswersWhileThisMountsIoWaits) {
    NfsTransportTick t;
    t.waiting = 1;
    t.oldest_wait = 40s;
    t.replies = 3;
    t.last_reply = TimePoint{100s};
    const auto f = nfs_facts("10.0.0.5", t, TimePoint{100s});
    EXPECT_EQ(f.server_answering, true);
    EXPECT_EQ(f.server_last_reply, TimePoint{100s});
    EXPECT_EQ(f.waiting_on, "NFS server 10.0.0.5");
    EXPECT_EQ(f.note,
              "NFS server 10.0.0.5 answers (3 replies this tick) while 1 RPC(s) wait, oldest 40s");
}

// Replies come when something asks, not every tick: a recent one counts if it came after the
// oldest waiting RPC was sent.
TEST(NfsFacts, ARecentReplyDuringTheWaitIsAnswering) {
    NfsTransportTick t;
    t.waiting = 1;
    t.oldest_wait = 8s;             // sent at 92 s
    t.last_reply = TimePoint{97s};  // 3 s ago, during the wait
    EXPECT_EQ(nfs_facts("s", t, TimePoint{100s}).server_answering, true);
    t.last_reply = TimePoint{91s};  // before the wait: says nothing about it
    EXPECT_EQ(nfs_facts("s", t, TimePoint{100s}).server_answering, false);
    t.oldest_wait = 20s;
    t.last_reply = TimePoint{94s};  // during the wait, but 6 s ago
    EXPECT_EQ(nfs_facts("s", t, TimePoint{100s}).server_answering, false);
}

TEST(NfsFacts, IdleOrBaselineClaimsNothing) {
    EXPECT_FALSE(nfs_facts("s", NfsTransportTick{}, TimePoint{}).server_answering);
    NfsTransportTick first;
    first.baseline = true;
    first.waiting = 1;
    const auto f = nfs_facts("s", first, TimePoint{});
    EXPECT_FALSE(f.server_answering);
    EXPECT_EQ(f.waiting_on, "NFS server s");
    NfsTransportTick answered;
    answered.replies = 5;
    EXPECT_EQ(nfs_facts("s", answered, TimePoint{}).server_answering, true);
    EXPECT_TRUE(nfs_facts("s", answered, TimePoint{}).note.empty());
}

// --- the probes' counters as evidence ---

TEST(NfsProbeEvidence, DeltasLatencyAndTheOldestWait) {
    NfsMountCounters prev, cur;
    prev.completed = 10;
    cur.issued = 4;
    cur.completed = 13;
    cur.bytes = 8192;
    cur.errors = {0, 1, 0};
    cur.latency[1].add(3ms, 2);
    cur.latency[2].add(40ms, 1);
    cur.last_complete_ns = 5'000'000'000;
    const NfsInFlight data{1, 9'000'000'000};
    const NfsInFlight waiting{2, 7'000'000'000};  // an OPEN older than the data RPC
    const auto ev = nfs_evidence_from_probes(prev, cur, data, waiting, 10'000'000'000);
    EXPECT_TRUE(ev.available);
    EXPECT_EQ(ev.issued, 4u);
    EXPECT_EQ(ev.completed, 3u);
    EXPECT_EQ(ev.errors.timeout, 1u);
    EXPECT_EQ(ev.bytes, 8192u);
    EXPECT_EQ(ev.latency.count(), 3u);
    EXPECT_EQ(ev.in_flight, 2u);
    EXPECT_EQ(ev.oldest_in_flight_age, 3s);
    EXPECT_EQ(ev.last_completion, TimePoint{5s});
}

TEST(NfsProbeEvidence, NothingInFlightIsAgeZero) {
    const auto ev = nfs_evidence_from_probes({}, {}, {}, {}, 10'000'000'000);
    EXPECT_EQ(ev.in_flight, 0u);
    EXPECT_EQ(ev.oldest_in_flight_age, 0s);
    EXPECT_FALSE(ev.last_completion);
}

TEST(NfsUnanswered, SendsAndReconnectsSinceTheLastReply) {
    UnansweredEstimate e;
    NfsXprtStats a{.proto = "tcp", .transports = 1, .connect_count = 2, .sends = 10, .recvs = 10};
    NfsXprtStats b = a;
    b.sends = 11;  // one request out, no reply
    EXPECT_EQ(e.update(a, b), 1u);
    NfsXprtStats c = b;
    c.sends = 12;  // retransmitted
    EXPECT_EQ(e.update(b, c), 2u);
    NfsXprtStats d = c;
    d.recvs = 11;  // the reply: a retransmit is not a second request
    EXPECT_EQ(e.update(c, d), 0u);
    NfsXprtStats f = d;
    f.connect_count = 3;  // reconnecting: a request waits for the connection
    EXPECT_EQ(e.update(d, f), 1u);
}

}  // namespace
}  // namespace iohealth
