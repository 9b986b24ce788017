// DrbdSource against a stand-in drbdsetup (a shell script printing captured fixtures): the
// worker thread, the long-running child and its restart, the statistics refresh, discovery,
// and the host without DRBD.
#include "sources/drbd/drbd_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fixture_text.h"
#include "integration/temp_dir.h"
#include "log_capture.h"

namespace iohealth {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Polls `done` every 20 ms for at most `limit`.
template <typename F>
bool eventually(F done, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (done()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

class DrbdSourceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        write("drbdsetup",
              "#!/bin/sh\n"
              "D=" +
                  dir_.path() +
                  "\n"
                  "case \"$1 $2\" in\n"
                  "  'events2 --now') cat $D/now.txt ;;\n"
                  "  'events2 --statistics') echo run >> $D/stream-runs; cat $D/stream.txt\n"
                  "    if [ -e $D/stream-exit ]; then echo 'boom: stream gone' >&2; exit 3; fi\n"
                  "    exec sleep 1000 ;;\n"
                  "  'show --show-defaults') cat $D/show.txt ;;\n"
                  "  *) echo \"unexpected $*\" >&2; exit 20 ;;\n"
                  "esac\n");
        fs::permissions(file("drbdsetup"), fs::perms::owner_all);
        write("diskstats", "");
        write("stream.txt", fixture_text("drbd", "now-84-uptodate.txt"));
        write("now.txt", fixture_text("drbd", "now-84-resync-1.txt"));
        write("show.txt", fixture_text("drbd", "show-84-defaults.txt"));
        write("proc-drbd", "version: 8.4.11 (api:1/proto:86-101)\n");
        options_.drbdsetup = file("drbdsetup");
        options_.proc_drbd = file("proc-drbd");
        options_.diskstats = file("diskstats");
        options_.refresh = 100ms;
        options_.restart_min = 50ms;
        options_.restart_max = 200ms;
    }

    std::string file(const std::string& name) const { return dir_.path() + "/" + name; }
    void write(const std::string& name, const std::string& text) {
        std::ofstream out(file(name) + ".new");
        out << text;
        out.close();
        fs::rename(file(name) + ".new", file(name));  // the script never sees half a file
    }
    int stream_runs() const {
        std::ifstream in(file("stream-runs"));
        return int(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
    }
    static PathConfig path(const std::string& resource) {
        PathConfig p;
        p.name = "drbd-" + resource;
        p.kind = PathKind::kDrbd;
        p.target = resource;
        return p;
    }
    static int count(const std::vector<std::string>& lines, const std::string& text) {
        return int(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
            return l.find(text) != std::string::npos;
        }));
    }

    testing::TempDir dir_{"iohealth-drbd"};
    DrbdSource::Options options_;
    SteadyClock clock_;
};

TEST_F(DrbdSourceTest, WithoutTheModuleItSaysSoOnceAndRunsNoDrbdsetup) {
    fs::remove(file("proc-drbd"));
    LogCapture log;
    {
        DrbdSource source(options_, clock_);
        EXPECT_TRUE(source.discover({}).empty());
        for (int i = 0; i < 10; ++i) {
            const auto facts = source.collect({path("r0")}, clock_.now());
            EXPECT_EQ(facts.at("drbd-r0").note,
                      "no DRBD state: the drbd kernel module is not loaded (" + file("proc-drbd") +
                          " is missing)");
            std::this_thread::sleep_for(50ms);
        }
        try {
            source.device_of(path("r0"));
            ADD_FAILURE() << "resolved without DRBD";
        } catch (const std::runtime_error& e) {
            EXPECT_EQ(std::string(e.what()),
                      "no DRBD state: the drbd kernel module is not "
                      "loaded (" +
                          file("proc-drbd") + " is missing)");
        }
    }
    EXPECT_EQ(count(log.lines(), "no DRBD state"), 1);
    EXPECT_FALSE(fs::exists(file("stream-runs")));  // drbdsetup would load the module
}

TEST_F(DrbdSourceTest, ResolvesDiscoversAndSeesTheResyncAdvance) {
    LogCapture log;
    DrbdSource source(options_, clock_);
    ResolvedDevice dev;
    ASSERT_TRUE(eventually([&] {
        try {
            dev = source.device_of(path("r0"));
            return true;
        } catch (const std::runtime_error&) {
            return false;
        }
    }));
    EXPECT_EQ(dev.dev, makedev(147, 0));
    EXPECT_EQ(dev.node, "/dev/drbd0");
    EXPECT_EQ(source.device_of(path("r1")).node, "/dev/drbd1");
    EXPECT_THROW(source.device_of(path("r9")), std::runtime_error);

    const auto found = source.discover({});
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].name, "drbd-r0");
    EXPECT_EQ(found[0].kind, PathKind::kDrbd);
    EXPECT_EQ(found[0].target, "r0");
    EXPECT_EQ(found[1].target, "r1");

    PathConfig p = path("r0");
    p.policy.timings.dead_after = 25s;
    ASSERT_EQ(source.check(p).size(), 1u);  // ko-count 7 x timeout 6s = 42s > 25s
    EXPECT_NE(source.check(p)[0].find("127.0.0.1:7790"), std::string::npos);

    // resync-1 stands still: a resync, but no proof of life.
    EXPECT_TRUE(eventually([&] {
        const auto f = source.collect({p}, clock_.now()).at("drbd-r0");
        return f.resync_active && !f.resync_advancing;
    }));
    write("now.txt", fixture_text("drbd", "now-84-resync-2.txt"));  // out-of-sync fell
    EXPECT_TRUE(eventually(
        [&] { return source.collect({p}, clock_.now()).at("drbd-r0").resync_advancing; }));
    write("now.txt", fixture_text("drbd", "now-84-uptodate.txt"));
    EXPECT_TRUE(eventually([&] {
        const auto f = source.collect({p}, clock_.now()).at("drbd-r0");
        return !f.resync_active && !f.resync_advancing;
    }));
    EXPECT_EQ(count(log.lines(), "[warning]"), 0) << log.lines().front();
}

TEST_F(DrbdSourceTest, RestartsTheEventsChildAndSaysWhyOnce) {
    write("stream-exit", "");
    LogCapture log;
    DrbdSource source(options_, clock_);
    source.collect({path("r0")}, clock_.now());  // starts the worker
    EXPECT_TRUE(eventually([&] { return stream_runs() >= 4; }));
    EXPECT_EQ(count(log.lines(), "events2 --statistics' exited with status 3: boom: stream gone"),
              1);
    // The refresh still gives the state meanwhile.
    EXPECT_TRUE(eventually(
        [&] { return source.collect({path("r0")}, clock_.now()).at("drbd-r0").resync_active; }));
}

TEST_F(DrbdSourceTest, StopsPromptlyWhileTheChildRuns) {
    auto source = std::make_unique<DrbdSource>(options_, clock_);
    source->collect({path("r0")}, clock_.now());
    ASSERT_TRUE(eventually([&] { return stream_runs() == 1; }));
    const auto start = std::chrono::steady_clock::now();
    source.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

// Issue 15: a paused resync prints resync-suspended:user with statistics that change on every
// line; it is state, not a warning.
TEST_F(DrbdSourceTest, PausedResyncLinesAreNotWarnings) {
    std::string stream = fixture_text("drbd", "now-84-uptodate.txt");
    for (int i = 0; i < 100; ++i)
        stream +=
            "change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 "
            "replication:PausedSyncS resync-suspended:user,dependency out-of-sync:" +
            std::to_string(31164 - i) + "\n";
    write("stream.txt", stream);
    LogCapture log;
    DrbdSource source(options_, clock_);
    source.collect({path("r0")}, clock_.now());
    ASSERT_TRUE(eventually([&] { return stream_runs() == 1; }));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(count(log.lines(), "[warning]"), 0) << log.lines().front();
}

// Issue 15: warnings were deduplicated by their text (which quotes changing statistics) and
// capped at 32 for the daemon's lifetime. Now each kind is logged at most once per
// warn_every, the ones held back are counted, and a kind is never silenced for good.
TEST_F(DrbdSourceTest, OddLinesAreWarnedByKindRateLimitedAndNeverSilencedForGood) {
    options_.warn_every = 400ms;
    std::string stream = fixture_text("drbd", "now-84-uptodate.txt");
    for (int i = 0; i < 40; ++i)
        stream +=
            "change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 "
            "out-of-sync:" +
            std::to_string(i) + "x\n";
    write("stream.txt", stream);
    write("stream-exit", "");  // each run of the child prints the 40 lines again
    LogCapture log;
    const auto start = std::chrono::steady_clock::now();
    DrbdSource source(options_, clock_);
    source.collect({path("r0")}, clock_.now());
    ASSERT_TRUE(eventually([&] { return count(log.lines(), "more like it since the last") > 0; }))
        << count(log.lines(), "events2 line");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const int fields = count(log.lines(), "DRBD: events2 line");
    EXPECT_GE(fields, 2);  // the first at once, the next after warn_every
    EXPECT_LE(fields, 1 + int(elapsed / options_.warn_every) + 1);
    EXPECT_GE(stream_runs() * 40, 80);  // far more odd lines than warnings
}

}  // namespace
}  // namespace iohealth
