#include "sources/drbd/drbd_show.h"

#include <gtest/gtest.h>

#include "fixture_text.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;

std::vector<DrbdResourceConfig> load(const std::string& name) {
    std::vector<std::string> errors;
    auto out = parse_drbd_show(fixture_text("drbd", name), errors);
    EXPECT_TRUE(errors.empty()) << errors.front();
    return out;
}

TEST(DrbdShow, Drbd84Defaults) {
    const auto all = load("show-84-defaults.txt");
    ASSERT_EQ(all.size(), 2u);
    const auto& r0 = all[0];
    EXPECT_EQ(r0.name, "r0");
    ASSERT_EQ(r0.peers.size(), 1u);
    EXPECT_EQ(r0.peers[0].peer_node_id, 0);
    EXPECT_EQ(r0.peers[0].address, "127.0.0.1:7790");
    EXPECT_EQ(r0.peers[0].net, DrbdNetTimeouts{});  // 6 s, 7, 10 s, 500 ms
    EXPECT_EQ(r0.peers[0].net.timeout, 6s);
    EXPECT_EQ(r0.peers[0].net.ping_timeout, 500ms);
    ASSERT_EQ(r0.volumes.size(), 1u);
    EXPECT_EQ(r0.volumes[0].minor, 0);
    EXPECT_EQ(r0.volumes[0].disk, "/dev/dm-0");
    EXPECT_EQ(r0.fencing, "dont-care");
    EXPECT_EQ(r0.on_io_error, "detach");
    EXPECT_EQ(r0.quorum, "off");
    EXPECT_EQ(r0.on_no_quorum, "");
    EXPECT_EQ(r0.disk_timeout, 0s);
    EXPECT_EQ(all[1].name, "r1");
    EXPECT_EQ(all[1].peers[0].address, "127.0.0.1:7789");
    EXPECT_EQ(all[1].volumes[0].disk, "/dev/dm-1");
}

TEST(DrbdShow, Drbd84ChangedNetOptions) {
    const auto all = load("show-84-r0-ko3.txt");
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].peers[0].net.ko_count, 3);
    EXPECT_EQ(all[0].peers[0].net.timeout, 2s);
}

TEST(DrbdShow, Drbd9ConnectionsQuorumFencing) {
    const auto all = load("show-9.txt");
    ASSERT_EQ(all.size(), 1u);
    const auto& r = all[0];
    EXPECT_EQ(r.name, "r0");
    EXPECT_EQ(r.quorum, "majority");
    EXPECT_EQ(r.on_no_quorum, "suspend-io");
    EXPECT_EQ(r.fencing, "resource-and-stonith");
    ASSERT_EQ(r.volumes.size(), 1u);
    EXPECT_EQ(r.volumes[0].minor, 1000);
    EXPECT_EQ(r.volumes[0].disk, "/dev/vg/r0");
    ASSERT_EQ(r.peers.size(), 2u);
    EXPECT_EQ(r.peers[0].peer_node_id, 1);
    EXPECT_EQ(r.peers[0].address, "10.0.0.2:7789");
    EXPECT_EQ(r.peers[0].net.ko_count, 7);
    EXPECT_EQ(r.peers[1].peer_node_id, 2);
    EXPECT_EQ(r.peers[1].net.ko_count, 2);
    EXPECT_EQ(r.peers[1].net.timeout, 2s);
    EXPECT_EQ(r.peers[1].net.ping_int, 5s);
    EXPECT_EQ(r.peers[1].net.ping_timeout, 1s);
}

TEST(DrbdShow, BadValuesAreReportedAndKeepTheirDefaults) {
    std::vector<std::string> errors;
    const auto all = parse_drbd_show(
        "resource r0 {\n net { timeout soon; ko-count 3; }\n"
        " _remote_host { address ipv4 10.0.0.2:7789; }\n}\n",
        errors);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].peers[0].net.timeout, 6s);
    EXPECT_EQ(all[0].peers[0].net.ko_count, 3);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "resource r0: timeout 'soon' is not a number");
}

// Found by drbd_show_fuzz: a timeout of 2e18 tenths overflowed the conversion (UBSan).
TEST(DrbdShow, TimeoutsLongerThanAWeekAreRefusedNotOverflowed) {
    std::vector<std::string> errors;
    const auto all = parse_drbd_show(
        "resource r0 {\n net { timeout 2049638230412172400; ping-int 9223372036854775807; }\n"
        " _remote_host { address ipv4 10.0.0.2:7789; }\n}\n",
        errors);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].peers[0].net.timeout, 6s);
    EXPECT_EQ(all[0].peers[0].net.ping_int, 10s);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0], "resource r0: timeout '2049638230412172400' is longer than 604800s");
}

TEST(DrbdShow, UnbalancedBracesAreReported) {
    std::vector<std::string> errors;
    parse_drbd_show("resource r0 {\n options {\n", errors);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0], "unexpected end of text inside { }");
    errors.clear();
    parse_drbd_show("}\n", errors);
    EXPECT_EQ(errors, std::vector<std::string>{"unbalanced '}'"});
}

TEST(DrbdShow, NoResources) {
    std::vector<std::string> errors;
    EXPECT_TRUE(parse_drbd_show("", errors).empty());
    EXPECT_TRUE(errors.empty());
}

}  // namespace
}  // namespace iohealth
