#include "sidebyside/host_tier.h"

#include <fmt/format.h>
#include <csignal>
#include <fstream>
#include <ostream>
#include <thread>

#include "e2e/daemon_process.h"
#include "e2e/direct_io_load.h"
#include "e2e/event_log.h"
#include "harness/faultfs_fixture.h"
#include "integration/temp_dir.h"
#include "sidebyside/peer_runner.h"

namespace iohealth::sidebyside {
namespace {

using namespace std::chrono_literals;
using testing::monotonic_seconds;

std::string ms_text(Duration d) {
    return fmt::format("{}ms", std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

Duration scaled(Duration d, double scale) {
    return Duration(static_cast<Duration::rep>(static_cast<double>(d.count()) * scale));
}
double secs(Duration d) {
    return std::chrono::duration<double>(d).count();
}

void apply_fault(testing::FaultFsFixture& fs, const std::string& command) {
    std::istringstream in(command);
    std::string verb;
    in >> verb;
    if (verb == "delay") {
        long min = 0, max = 0;
        in >> min;
        if (!(in >> max)) max = min;
        fs.delay(std::chrono::milliseconds(min), std::chrono::milliseconds(max));
    } else if (verb == "hang") {
        fs.hang();
    } else if (verb == "eio") {
        fs.fail_eio();
    } else if (verb == "release") {
        fs.release();
    } else if (verb == "heal") {
        fs.heal();
    }
}

void sleep_until_mono(double at) {
    const double left = at - testing::monotonic_seconds();
    if (left > 0) std::this_thread::sleep_for(std::chrono::duration<double>(left));
}

std::string iohealthd_config(double scale, const std::string& mode, const std::string& path) {
    return fmt::format(
        "[daemon]\nmode = {}\ndiscover = no\ntick = {}\n[policy]\nio_timeout = {}\n\n{}", mode,
        ms_text(scaled(kTick, scale)), ms_text(scaled(kIoTimeout, scale)), path);
}

std::string timings_text(double scale) {
    const peer::PeerTimings p = peer::PeerTimings{}.scaled(scale);
    return fmt::format(
        "iohealth io_timeout {:g} s, tick {:g} s (DEAD after {:g} s without progress); peer "
        "update frequency {:g} s, write timeout {:g} s, {} tries, retry sleep {:g} s, fence "
        "delay {:g} s, reader -t {:g}",
        secs(scaled(kIoTimeout, scale)), secs(scaled(kTick, scale)),
        kDeadAfterOverT * secs(scaled(kIoTimeout, scale)), secs(p.update_frequency),
        secs(p.write_timeout), p.max_tries, secs(p.retry_sleep), secs(p.fence_delay),
        secs(p.update_frequency));
}

std::vector<HostScenario> host_scenarios(double scale) {
    auto at = [scale](double unscaled_s) {
        return scaled(
            std::chrono::duration_cast<Duration>(std::chrono::duration<double>(unscaled_s)), scale);
    };
    const double dead_after = kDeadAfterOverT * secs(kIoTimeout);  // unscaled, 25 s
    return {
        {"contention",
         "contention",
         "every I/O delayed 0.5-3 s (uniform), then healed",
         {{at(0), "delay 500 3000"}},
         at(300)},
        {"release-before-deadline",
         "contention",
         "every I/O hangs, released (healed) at 80 % of iohealth's dead_after",
         {{at(0), "hang"}, {at(0.8 * dead_after), "heal"}},
         at(150)},
        {"eio-storm", "dead", "every I/O fails with EIO", {{at(0), "eio"}}, at(150)},
        {"hang", "dead", "every I/O hangs (dead path)", {{at(0), "hang"}}, at(420)},
    };
}

ScenarioResult run_host_scenario(const HostScenario& s, const HostRunOptions& o,
                                 std::ostream& log) {
    const peer::PeerTimings peer_timings = peer::PeerTimings{}.scaled(o.scale);
    // The peer starts 1.5 rounds early: the fault lands mid-way through its sleep between two
    // successful writes (the middle of B.6's 0..60 s "u").
    const Duration warmup = peer_timings.update_frequency * 3 / 2;

    testing::TempDir dir("iohealth-sidebyside");
    testing::FaultFsFixture fs(testing::FaultFsFixture::Options{.loop_direct_io = true});
    const std::string config = dir.path() + "/iohealthd.conf";
    const std::string events_path = dir.path() + "/events.log";
    const std::string output = dir.path() + "/iohealthd.out";
    const std::string sysrq = dir.path() + "/sysrq-trigger";
    std::ofstream(sysrq).flush();
    std::ofstream(config) << iohealthd_config(o.scale, "dry-run",
                                              "[path test]\ndevice = " + fs.device() + "\n");
    const double budget = secs(warmup + s.length) + 60;
    testing::DaemonProcess daemon(
        o.iohealthd,
        {"--config", config, "--mode", "dry-run", "--no-bus", "--event-log", events_path,
         "--sysrq-trigger", sysrq, "--duration", fmt::format("{:.0f}", budget)},
        output);
    if (!testing::wait_for_text(output, "Path 'test'", monotonic_seconds() + 15))
        throw std::runtime_error("iohealthd did not resolve the loop device:\n" +
                                 testing::read_text(output));
    auto load = std::make_unique<testing::DirectIoLoad>(
        fs.device(), testing::DirectIoLoad::Options{.threads = 2});

    peer::BlockDeviceHeartbeat storage(fs.device());
    peer::PeerRunner peer(peer_timings, storage);
    const double origin_mono = monotonic_seconds() + secs(warmup);
    const TimePoint origin =
        TimePoint(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(origin_mono)));
    peer.start(origin);
    log << fmt::format("[{}] peer started; fault in {:.0f} s, scenario {:.0f} s\n", s.name,
                       secs(warmup), secs(s.length))
        << std::flush;
    for (const auto& step : s.timeline) {
        sleep_until_mono(origin_mono + secs(step.at));
        apply_fault(fs, step.command);
        log << fmt::format("[{}] +{:.1f} s: {}\n", s.name, monotonic_seconds() - origin_mono,
                           step.command)
            << std::flush;
    }
    sleep_until_mono(origin_mono + secs(s.length));

    // Stop in the order that cannot hang: the storage answers again, then everyone stops.
    ::kill(daemon.pid(), SIGTERM);
    fs.heal();
    daemon.stop();
    const peer::PeerOutcome p = peer.stop();
    load.reset();

    ScenarioResult r;
    r.scenario = s.name;
    r.tier = "host";
    r.kind = s.kind;
    r.scale = o.scale;
    r.length_s = secs(s.length);
    r.warmup_s = secs(warmup);
    r.timeline = s.timeline;
    r.peer_source = "real storage";
    if (p.fence_at) r.peer_fence_at_s = secs(*p.fence_at);
    if (p.neighbours_dead) r.peer_neighbours_dead_at_s = secs(*p.neighbours_dead);
    for (const auto& e : testing::EventLog(events_path).read()) {
        if (e.path != "test") continue;
        const double at = e.at - origin_mono;
        if (!e.verdict().empty()) r.iohealth_verdicts.push_back({at, e.verdict()});
        if (e.type == "escalation-started" && !r.iohealth_fence_at_s && at >= 0)
            r.iohealth_fence_at_s = at;
    }
    const std::string out = testing::read_text(output);
    r.iohealth_note = out.find("DEGRADED MODE") != std::string::npos
                          ? "kernel evidence from /proc/diskstats"
                          : "kernel evidence from eBPF";
    for (const auto& line : p.log)
        log << fmt::format("[{}] peer (s since it started, the fault at {:.1f}): {}\n", s.name,
                           secs(warmup), line);
    log << std::flush;
    return r;
}

}  // namespace iohealth::sidebyside
