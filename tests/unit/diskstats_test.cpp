#include "sources/block/diskstats_source.h"

#include "fixture_text.h"
#include "log_capture.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace iohealth {
namespace {

namespace fs = std::filesystem;

std::string fixture_path(const std::string& name) {
    return iohealth::fixture_path("diskstats", name);
}

std::string fixture(const std::string& name) {
    return fixture_text("diskstats", name);
}

const DiskstatsRecord* find(const DiskstatsParse& p, const std::string& name) {
    for (const auto& r : p.records)
        if (r.name == name) return &r;
    return nullptr;
}

// A stand-in for /proc/diskstats that the test rewrites between ticks.
class DiskstatsFile {
  public:
    DiskstatsFile()
        : path_(fs::temp_directory_path() /
                ("diskstats-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name())) {}
    ~DiskstatsFile() { fs::remove(path_); }
    void load(const std::string& fixture_name) {
        fs::copy_file(fixture_path(fixture_name), path_, fs::copy_options::overwrite_existing);
    }
    std::string path() const { return path_.string(); }

  private:
    fs::path path_;
};

const dev_t kVda = makedev(254, 0);
const dev_t kVda1 = makedev(254, 1);
const dev_t kLoop3 = makedev(7, 3);

TEST(DiskstatsParse, ModernLayoutHasEveryField) {
    const auto p = parse_diskstats(fixture("kernel6-t0.txt"));
    EXPECT_TRUE(p.skipped.empty());
    ASSERT_EQ(p.records.size(), 5u);
    const auto* vda = find(p, "vda");
    ASSERT_NE(vda, nullptr);
    EXPECT_EQ(vda->dev, kVda);
    EXPECT_EQ(vda->reads, 27767u);
    EXPECT_EQ(vda->sectors_read, 2156682u);
    EXPECT_EQ(vda->ms_reading, 7624u);
    EXPECT_EQ(vda->writes, 11220u);
    EXPECT_EQ(vda->sectors_written, 777768u);
    EXPECT_EQ(vda->ms_writing, 4304u);
    EXPECT_EQ(vda->in_flight, 0u);
    EXPECT_EQ(vda->discards, 6292u);
    EXPECT_EQ(vda->ms_discarding, 346u);
    EXPECT_EQ(vda->flushes, 1612u);
    EXPECT_EQ(vda->ms_flushing, 45u);
}

TEST(DiskstatsParse, OlderLayoutsLeaveMissingFieldsZero) {
    const auto old = parse_diskstats(fixture("kernel4.14.txt"));
    ASSERT_EQ(old.records.size(), 1u);
    EXPECT_EQ(old.records[0].reads, 9000u);
    EXPECT_EQ(old.records[0].in_flight, 2u);
    EXPECT_EQ(old.records[0].discards, 0u);
    EXPECT_EQ(old.records[0].flushes, 0u);

    const auto mid = parse_diskstats(fixture("kernel5.4.txt"));
    ASSERT_EQ(mid.records.size(), 1u);
    EXPECT_EQ(mid.records[0].discards, 7u);
    EXPECT_EQ(mid.records[0].ms_discarding, 9u);
    EXPECT_EQ(mid.records[0].flushes, 0u);
}

TEST(DiskstatsParse, OddLinesAreSetAsideVerbatimAndTheRestParsed) {
    const auto p = parse_diskstats(fixture("odd.txt"));
    ASSERT_EQ(p.records.size(), 2u);
    EXPECT_EQ(p.records[0].name, "sda");
    EXPECT_EQ(p.records[1].name, "sdg");
    ASSERT_EQ(p.skipped.size(), 6u);  // the blank line is not "odd", just empty
    EXPECT_EQ(p.skipped[0], "   8      16 sdb 1 2 3");
    EXPECT_NE(p.skipped[1].find("x       1 sdc"), std::string::npos);
    EXPECT_NE(p.skipped[2].find("zero"), std::string::npos);
    EXPECT_NE(p.skipped[4].find("-1"), std::string::npos);
    EXPECT_NE(p.skipped[5].find("99999999999999999999999"), std::string::npos);
}

TEST(DiskstatsParse, GarbageNeverThrows) {
    EXPECT_TRUE(parse_diskstats("").records.empty());
    EXPECT_TRUE(parse_diskstats("\n\n  \t\n").skipped.empty());
    EXPECT_EQ(parse_diskstats(std::string("\0\xff\n1 2", 6)).skipped.size(), 2u);
    // No trailing newline on the last line is fine.
    EXPECT_EQ(parse_diskstats("8 0 sda 1 0 0 0 0 0 0 0 0 0 0").records.size(), 1u);
}

struct DeltaRow {
    const char* name;
    std::uint64_t prev, cur;
    int bits;
    std::uint64_t want;
};

class CounterDelta : public ::testing::TestWithParam<DeltaRow> {};

TEST_P(CounterDelta, Computes) {
    const auto& r = GetParam();
    EXPECT_EQ(counter_delta(r.prev, r.cur, r.bits), r.want);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CounterDelta,
    ::testing::Values(DeltaRow{"forward", 10, 25, 64, 15}, DeltaRow{"unchanged", 7, 7, 32, 0},
                      DeltaRow{"wrap32", 4294967290u, 10, 32, 16},
                      DeltaRow{"wrap32_from_top", 4294967295u, 0, 32, 1},
                      // Went down from low in its range: a new device, all of cur is new.
                      DeltaRow{"reset32", 5000, 12, 32, 12},
                      DeltaRow{"reset64", 1ull << 40, 3, 64, 3},
                      // Above the 32-bit range it cannot have wrapped at 32 bits.
                      DeltaRow{"too_big_for_width", 1ull << 33, 5, 32, 5}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DiskstatsDelta, SumsCompletionsBytesAndAveragesLatency) {
    const auto t0 = parse_diskstats(fixture("kernel6-t0.txt"));
    const auto t1 = parse_diskstats(fixture("kernel6-t1.txt"));
    const auto ev = diskstats_delta(*find(t0, "vda"), *find(t1, "vda"));
    EXPECT_TRUE(ev.available);
    EXPECT_EQ(ev.completed, 200u);             // 100 reads + 50 writes + 10 discards + 40 flushes
    EXPECT_EQ(ev.bytes, (800u + 400u) * 512);  // discarded sectors are not bytes moved
    EXPECT_EQ(ev.in_flight, 3u);
    EXPECT_EQ(ev.issued, 203u);  // completed + growth of in-flight
    EXPECT_EQ(ev.errors.total(), 0u);
    // 500 ms over 200 completions = 2.5 ms each, all in the slot of 2500 us.
    EXPECT_EQ(ev.latency.count(), 200u);
    EXPECT_EQ(ev.latency.slots()[LatencyHistogram::slot_for(std::chrono::microseconds(2500))],
              200u);
    EXPECT_FALSE(ev.last_completion.has_value());
    EXPECT_FALSE(ev.oldest_in_flight_age.has_value());
}

TEST(DiskstatsDelta, HungDeviceHasInFlightAndNoCompletions) {
    const auto t0 = parse_diskstats(fixture("kernel6-t0.txt"));
    const auto t1 = parse_diskstats(fixture("kernel6-t1.txt"));
    const auto ev = diskstats_delta(*find(t0, "loop3"), *find(t1, "loop3"));
    EXPECT_EQ(ev.completed, 0u);
    EXPECT_EQ(ev.in_flight, 1u);
    EXPECT_EQ(ev.issued, 1u);
    EXPECT_TRUE(ev.latency.empty());
}

TEST(DiskstatsDelta, MillisecondCounterWrapKeepsLatencySane) {
    const auto t0 = parse_diskstats(fixture("wrap-t0.txt"));
    const auto t1 = parse_diskstats(fixture("wrap-t1.txt"));
    const auto ev = diskstats_delta(t0.records.at(0), t1.records.at(0));
    EXPECT_EQ(ev.completed, 4u);
    EXPECT_EQ(ev.bytes, 32u * 512);
    // 16 ms over 4 reads: 4 ms each, not the 4294967280 ms a naive subtraction would give.
    EXPECT_EQ(ev.latency.slots()[LatencyHistogram::slot_for(std::chrono::milliseconds(4))], 4u);
}

TEST(DiskstatsSource, FirstCollectIsTheBaselineThenDeltas) {
    DiskstatsFile file;
    DiskstatsSource source(file.path());
    EXPECT_EQ(source.name(), "diskstats");
    file.load("kernel6-t0.txt");
    const auto first = source.collect(TimePoint{});
    ASSERT_EQ(first.size(), 5u);
    EXPECT_EQ(first.at(kVda).completed, 0u);
    EXPECT_TRUE(first.at(kVda).available);

    file.load("kernel6-t1.txt");
    const auto second = source.collect(TimePoint{} + std::chrono::seconds(1));
    EXPECT_EQ(second.at(kVda).completed, 200u);
    EXPECT_EQ(second.at(kVda1).completed, 160u);  // partitions are reported too
    EXPECT_EQ(second.at(kLoop3).completed, 0u);
    EXPECT_EQ(second.at(kLoop3).in_flight, 1u);
}

TEST(DiskstatsSource, OnlyTheSelectedDevicesAndVanishedOnesDropOut) {
    DiskstatsFile file;
    DiskstatsSource source(file.path());
    source.set_devices({kVda, kLoop3, makedev(8, 0)});
    file.load("kernel6-t0.txt");
    const auto first = source.collect(TimePoint{});
    EXPECT_EQ(first.size(), 2u);  // sda is not in this file
    EXPECT_TRUE(first.contains(kVda));
    EXPECT_TRUE(first.contains(kLoop3));

    file.load("kernel4.14.txt");  // vda and loop3 gone, sda appears
    const auto second = source.collect(TimePoint{});
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second.at(makedev(8, 0)).completed, 0u);  // new device: its own baseline

    file.load("kernel6-t1.txt");  // vda is back: a new baseline, not a delta from t0
    EXPECT_EQ(source.collect(TimePoint{}).at(kVda).completed, 0u);
}

TEST(DiskstatsSource, OddLinesAreLoggedOnceByContentAndLeftOut) {
    LogCapture log;
    DiskstatsFile file;
    DiskstatsSource source(file.path());
    file.load("odd.txt");
    const auto first = source.collect(TimePoint{});
    EXPECT_EQ(first.size(), 2u);
    const auto after_first = log.lines();
    ASSERT_EQ(after_first.size(), 6u);
    EXPECT_NE(after_first[0].find("8      16 sdb 1 2 3"), std::string::npos) << after_first[0];
    EXPECT_NE(after_first[0].find(file.path()), std::string::npos);
    source.collect(TimePoint{});
    EXPECT_EQ(log.lines().size(), 6u);  // the same lines again: no new warnings
}

TEST(DiskstatsSource, MissingFileYieldsNothingAndAWarning) {
    LogCapture log;
    DiskstatsSource source("/nonexistent/diskstats");
    EXPECT_TRUE(source.collect(TimePoint{}).empty());
    ASSERT_EQ(log.lines().size(), 1u);
    EXPECT_NE(log.lines()[0].find("/nonexistent/diskstats"), std::string::npos);
}

TEST(DiskstatsSource, ReadsTheRealProcFile) {
    DiskstatsSource source;
    const auto first = source.collect(TimePoint{});
    ASSERT_FALSE(first.empty()) << "/proc/diskstats lists no device";
    for (const auto& [dev, ev] : first)
        EXPECT_TRUE(ev.available) << major(dev) << ":" << minor(dev);
}

}  // namespace
}  // namespace iohealth
