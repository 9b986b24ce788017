// /proc/self/mountstats parsing, on text captured in the qemu guest (tests/fixtures/nfs).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sources/nfs/nfs_mountstats.h"

namespace iohealth {
namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(IOHEALTH_SOURCE_DIR) + "/tests/fixtures/nfs/" + name);
    EXPECT_TRUE(in) << name;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const NfsMountStats& mount(const MountstatsParse& p, const std::string& mount_point) {
    for (const auto& m : p.mounts)
        if (m.mount_point == mount_point) return m;
    throw std::runtime_error("no mount " + mount_point);
}

TEST(NfsMountstats, KeepsOnlyNfsMountsWithUnescapedMountPoints) {
    const auto p = parse_mountstats(fixture("mountstats-start.txt"));
    EXPECT_TRUE(p.skipped.empty());
    ASSERT_EQ(p.mounts.size(), 3u);
    EXPECT_EQ(p.mounts[0].mount_point, "/mnt/nfs");
    EXPECT_EQ(p.mounts[0].device, "127.0.0.1:/");
    EXPECT_EQ(p.mounts[0].fstype, "nfs4");
    EXPECT_EQ(p.mounts[1].fstype, "nfs");
    EXPECT_EQ(p.mounts[2].mount_point, "/mnt/nfs space");
    EXPECT_NE(p.mounts[0].options.find("timeo=600"), std::string::npos);
}

TEST(NfsMountstats, ReadsPerOpCountersOfVersion11) {
    const auto p = parse_mountstats(fixture("mountstats-wrote.txt"));
    const auto& m = mount(p, "/mnt/nfs3");
    const auto& w = m.ops.at("WRITE");
    EXPECT_EQ(w.ops, 10u);
    EXPECT_EQ(w.ntrans, 10u);
    EXPECT_EQ(w.timeouts, 0u);
    EXPECT_EQ(w.bytes_sent, 42120u);
    EXPECT_EQ(w.bytes_recv, 1360u);
    EXPECT_EQ(w.queue_ms, 17u);
    EXPECT_EQ(w.rtt_ms, 174u);
    EXPECT_EQ(w.execute_ms, 204u);
    EXPECT_EQ(w.errors, 0u);
    EXPECT_EQ(data_op_totals(m).ops, 10u);
}

TEST(NfsMountstats, SumsTheTransportsOfNconnect) {
    const auto p = parse_mountstats(fixture("mountstats-wrote.txt"));
    const auto& x = mount(p, "/mnt/nfs3").xprt;
    ASSERT_TRUE(x);
    EXPECT_EQ(x->proto, "tcp");
    EXPECT_EQ(x->transports, 2);
    EXPECT_EQ(x->connect_count, 4u);
    EXPECT_EQ(x->sends, 21u);
    EXPECT_EQ(x->recvs, 21u);
    EXPECT_EQ(x->bad_xids, 0u);
}

TEST(NfsMountstats, AStoppedServerShowsReconnectsAndNoReplies) {
    const auto before = mount(parse_mountstats(fixture("mountstats-start.txt")), "/mnt/nfs");
    const auto stopped =
        mount(parse_mountstats(fixture("mountstats-server-stopped.txt")), "/mnt/nfs");
    const auto back = mount(parse_mountstats(fixture("mountstats-server-back.txt")), "/mnt/nfs");
    EXPECT_EQ(stopped.xprt->recvs, before.xprt->recvs);
    EXPECT_EQ(stopped.xprt->sends, before.xprt->sends);
    EXPECT_GT(stopped.xprt->connect_count, before.xprt->connect_count);
    EXPECT_GT(back.xprt->recvs, stopped.xprt->recvs);
    EXPECT_EQ(back.ops.at("OPEN").ops, 5u);
    EXPECT_EQ(back.ops.at("OPEN").errors, 5u);
}

TEST(NfsMountstats, ReadsUdpTransportsAndVersion10AndSkipsOddLines) {
    const auto p = parse_mountstats(fixture("odd-mountstats.txt"));
    ASSERT_EQ(p.mounts.size(), 2u);
    const auto& udp = p.mounts[0];
    EXPECT_EQ(udp.age_s, 42u);
    ASSERT_TRUE(udp.xprt);
    EXPECT_EQ(udp.xprt->proto, "udp");
    EXPECT_EQ(udp.xprt->connect_count, 0u);
    EXPECT_EQ(udp.xprt->sends, 100u);
    EXPECT_EQ(udp.xprt->recvs, 98u);
    EXPECT_EQ(udp.xprt->bad_xids, 1u);
    EXPECT_EQ(udp.ops.at("READ").timeouts, 2u);
    EXPECT_EQ(udp.ops.at("READ").errors, 0u);  // no errors column in 1.0
    EXPECT_EQ(data_op_totals(udp).ops, 10u);

    const auto& odd = p.mounts[1];
    EXPECT_FALSE(odd.xprt);
    EXPECT_FALSE(odd.ops.contains("WRITE"));
    EXPECT_EQ(odd.ops.at("COMMIT").ops, 4u);
    EXPECT_EQ(p.skipped.size(), 6u);  // age, 2 xprt, WRITE, garbage, truncated device line
}

TEST(NfsMountstats, UnescapesOctalAndLeavesTheRest) {
    EXPECT_EQ(unescape_mount_field("/mnt/a\\040b\\011c"), "/mnt/a b\tc");
    EXPECT_EQ(unescape_mount_field("/mnt/a\\04"), "/mnt/a\\04");
    EXPECT_EQ(unescape_mount_field("/mnt/a\\x41"), "/mnt/a\\x41");
}

TEST(NfsMountstats, EmptyTextGivesNothing) {
    const auto p = parse_mountstats("");
    EXPECT_TRUE(p.mounts.empty());
    EXPECT_TRUE(p.skipped.empty());
}

}  // namespace
}  // namespace iohealth
