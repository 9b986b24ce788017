#include "sidebyside/chained.h"

#include <sys/mount.h>

#include <fmt/format.h>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <regex>
#include <thread>

#include "dbus/bus_names.h"
#include "e2e/daemon_process.h"
#include "e2e/direct_io_load.h"
#include "e2e/event_log.h"
#include "harness/faultfs_fixture.h"
#include "integration/run_command.h"
#include "integration/scoped_mount.h"
#include "integration/syslog_socket.h"
#include "integration/system_bus.h"
#include "integration/temp_dir.h"
#include "sidebyside/dropin_agent.h"
#include "sidebyside/host_tier.h"
#include "sidebyside/peer_runner.h"

namespace iohealth::sidebyside {
namespace {

using testing::monotonic_seconds;

// The mock logind on the system-like bus: root may own login1 and call it (iohealthd's
// graceful-reboot), as on a host.
constexpr const char* kLogindPolicy = R"(<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root">
    <allow own="org.freedesktop.login1"/>
    <allow send_destination="org.freedesktop.login1"/>
  </policy>
</busconfig>
)";

// The pool as the agent names it to the script (an NFS pool: server, export, mount point).
constexpr const char* kServer = "192.0.2.10";
constexpr const char* kExport = "/export/primary";
constexpr const char* kHostIp = "10.1.1.1";

// Heals the storage on the way out, before the agent's writes, the load and the daemon are
// joined (each waits for its hung I/O), whatever ended the run.
struct HealFirst {
    testing::FaultFsFixture& fs;
    ~HealFirst() {
        try {
            fs.heal();
        } catch (...) {
            // the fixture's teardown kills the server, which fails what is parked
        }
    }
};

// The drop-in's record of each -c, in order: one of these per request.
std::vector<AgentFence> agent_fences(const std::vector<FenceCall>& calls,
                                     const std::vector<std::string>& syslog, double origin) {
    static const std::regex kReply(
        "kvmheartbeat\\.sh: (?:unable to write the heartbeat to the storage; (fence handed to "
        "iohealthd|iohealthd declined the reboot) \\(request [0-9]+\\): |(iohealthd will not "
        "act on the fence) )(.*)");
    std::vector<std::pair<std::string, std::string>> replies;
    for (const auto& line : syslog) {
        std::smatch m;
        if (!std::regex_search(line, m, kReply)) continue;
        const std::string what = m[1].matched ? m[1].str() : m[2].str();
        replies.emplace_back(what == "fence handed to iohealthd"       ? "fencing"
                             : what == "iohealthd declined the reboot" ? "declined"
                                                                       : "fallback",
                             m[3].str());
    }
    std::vector<AgentFence> out;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        AgentFence f;
        f.at_s = calls[i].at - origin;
        f.took_s = calls[i].ended - calls[i].at;
        f.exit = calls[i].exit;
        f.out = calls[i].out;
        f.reply = i < replies.size() ? replies[i].first : "none";
        f.detail = i < replies.size() ? replies[i].second : "";
        out.push_back(std::move(f));
    }
    return out;
}

std::optional<LadderStep> step_of(const testing::LoggedEvent& e, double origin) {
    static const std::regex kStep("^step [0-9]+ ([a-z-]+) started");
    std::smatch m;
    if (e.type != "step-started" || !std::regex_search(e.message, m, kStep)) return std::nullopt;
    return LadderStep{e.at - origin, e.path, m[1].str()};
}

}  // namespace

std::vector<ChainedScenario> chained_scenarios(double scale) {
    auto at = [scale](double unscaled_s) {
        return scaled(
            std::chrono::duration_cast<Duration>(std::chrono::duration<double>(unscaled_s)), scale);
    };
    const Duration stock_timeout = peer::PeerTimings{}.scaled(scale).write_timeout;
    return {
        {"contention",
         "contention",
         "every I/O delayed 0.5-3 s; the agent's write timeout (≙ 5 s) is below what one "
         "heartbeat write takes then (17 requests at the device on this sync mount)",
         {{at(0), "delay 500 3000"}},
         at(5),
         false,
         false,
         at(200)},
        {"hang",
         "dead",
         "every I/O of this host's path hangs",
         {{at(0), "hang"}},
         stock_timeout,
         false,
         false,
         at(150)},
        {"eio-storm",
         "dead",
         "every I/O fails with EIO; the run goes on until the agent's -c was answered",
         {{at(0), "eio"}},
         stock_timeout,
         false,
         true,
         at(200)},
        {"shared-outage",
         "dead",
         "the shared storage hangs for every host (the neighbours' reads hang too, so they "
         "never read this host DEAD)",
         {{at(0), "hang"}},
         stock_timeout,
         true,
         false,
         at(150)},
    };
}

std::optional<std::string> chained_unavailable_reason() {
    if (auto why = testing::FaultFsFixture::unavailable_reason()) return why;
    if (!testing::run_quiet({"mkfs.ext4", "-V"})) return "no mkfs.ext4";
    if (!testing::run_quiet({testing::kDebianPython, "-c", "import dbusmock"}))
        return "no python3-dbusmock for /usr/bin/python3";
    if (::access(testing::kDbusDaemon, X_OK) != 0) return "no dbus-daemon";
    return std::nullopt;
}

ChainedResult run_chained_scenario(const ChainedScenario& s, const ChainedRunOptions& o,
                                   std::ostream& log) {
    peer::PeerTimings timings = peer::PeerTimings{}.scaled(o.scale);
    timings.write_timeout = s.write_timeout;
    // The fault lands half-way through the agent's sleep after its first successful write.
    const Duration warmup = timings.update_frequency / 2;

    testing::TempDir dir("iohealth-chained");
    testing::FaultFsFixture fs(testing::FaultFsFixture::Options{.loop_direct_io = true});
    HealFirst heal_first_on_throw{fs};
    if (!testing::run_quiet(
            {"mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", fs.device()}))
        throw std::runtime_error("mkfs.ext4 failed on " + fs.device());
    const std::string pool = dir.path() + "/pool";
    std::filesystem::create_directory(pool);
    testing::ScopedMount mount(fs.device(), pool, "ext4", "", MS_SYNCHRONOUS | MS_DIRSYNC);
    testing::SystemLikeBus bus(kLogindPolicy);
    if (!bus.ok()) throw std::runtime_error("dbus-daemon did not start");
    testing::DbusMock logind(bus.address(), dir.path(), "logind", "org.freedesktop.login1",
                             "/org/freedesktop/login1");
    if (!logind.ready()) throw std::runtime_error("python-dbusmock's logind did not start");
    // Through AddMethod so that the mock records the call.
    logind.add_method("org.freedesktop.login1.Manager", "RebootWithFlags", "t", "", "");

    const std::string config = dir.path() + "/iohealthd.conf";
    const std::string events_path = dir.path() + "/events.log";
    const std::string output = dir.path() + "/iohealthd.out";
    const std::string sysrq = dir.path() + "/sysrq-trigger";
    const std::string dropin_sysrq = dir.path() + "/dropin-sysrq-trigger";
    std::ofstream(sysrq).flush();
    std::ofstream(dropin_sysrq).flush();
    std::ofstream(config) << iohealthd_config(
        o.scale, "armed", "[path pool]\nmount = " + pool + "\npreset = block\n");
    testing::DaemonProcess daemon(
        o.iohealthd,
        {"--config", config, "--bus-address", bus.address(), "--event-log", events_path,
         "--sysrq-trigger", sysrq, "--runtime-dir", dir.path() + "/run", "--state-dir",
         dir.path() + "/state", "--duration", fmt::format("{:.0f}", secs(warmup + s.length) + 60)},
        output);
    {
        auto connection = sdbus::createSessionBusConnectionWithAddress(bus.address());
        if (!testing::wait_for_text(output, "Path 'pool'", monotonic_seconds() + 15) ||
            !testing::wait_for_name(*connection, kBusName))
            throw std::runtime_error("iohealthd did not watch the pool or take its bus name:\n" +
                                     testing::read_text(output));
    }
    testing::DirectIoLoad load(fs.device(), testing::DirectIoLoad::Options{.threads = 2});
    testing::SyslogSocket syslog(dir.path() + "/log");
    if (!syslog.ok()) throw std::runtime_error("Failed to bind the test syslog socket");
    DropinAgent agent(
        {o.dropins + "/kvmheartbeat.sh",
         {"-i", kServer, "-p", kExport, "-m", pool, "-h", kHostIp},
         {"DBUS_SYSTEM_BUS_ADDRESS=" + bus.address(), "IOHEALTH_SYSRQ_TRIGGER=" + dropin_sysrq,
          "IOHEALTH_CLOUDSTACK_DEFAULTS=" + dir.path() + "/iohealth-cloudstack",
          "IOHEALTH_LOG_SOCKET=" + syslog.path()},
         timings.write_timeout});
    peer::PeerRunner peer(timings, agent);
    HealFirst heal_first{fs};

    const double origin = monotonic_seconds() + secs(warmup);
    peer.start(
        TimePoint(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(origin))));
    log << fmt::format("[{}] agent started; fault in {:.1f} s, at most {:.0f} s\n", s.name,
                       secs(warmup), secs(s.length))
        << std::flush;

    const testing::EventLog events(events_path);
    const double observe = 2 * secs(scaled(kIoTimeout, o.scale));
    std::size_t next_step = 0;
    double now = monotonic_seconds();
    for (;; now = monotonic_seconds()) {
        for (; next_step < s.timeline.size() && now >= origin + secs(s.timeline[next_step].at);
             ++next_step) {
            apply_fault(fs, s.timeline[next_step].command);
            log << fmt::format("[{}] +{:.1f} s: {}\n", s.name, monotonic_seconds() - origin,
                               s.timeline[next_step].command)
                << std::flush;
        }
        if (now >= origin + secs(s.length)) break;
        const auto fences = agent.fences();
        const double answered = fences.empty() ? 0 : fences.front().ended;
        if (s.kind == "contention") {
            if (answered > 0 && now >= answered + observe) break;
        } else {
            std::optional<double> rung;
            for (const auto& e : events.read())
                if (const auto step = step_of(e, origin);
                    step && step->at_s >= 0 && is_reboot_rung(step->action)) {
                    rung = e.at;
                    break;
                }
            if (rung && (!s.await_agent_fence || answered > 0) &&
                now >= std::max(*rung, answered) + 1.0)
                break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    ChainedResult r;
    r.scenario = s.name;
    r.kind = s.kind;
    r.what = s.what;
    r.scale = o.scale;
    r.warmup_s = secs(warmup);
    r.write_timeout_s = secs(s.write_timeout);
    r.timeline = s.timeline;
    r.ran_s = now - origin;
    for (const auto& c : logind.calls()) r.logind_calls.push_back(c.method);

    // Stop in the order that cannot hang: the storage answers again, then everyone stops.
    ::kill(daemon.pid(), SIGTERM);
    fs.heal();
    daemon.stop();
    const peer::PeerOutcome p = peer.stop();

    r.agent_writes = agent.writes();
    const auto lines = syslog.lines();
    for (const auto& line : lines)
        if (line.starts_with(testing::user_priority(2))) r.dropin_crit.push_back(line);
    r.agent_fences = agent_fences(agent.fences(), lines, origin);
    for (const auto& e : events.read()) {
        if (e.path == "pool" && !e.verdict().empty())
            r.verdicts.push_back({e.at - origin, e.verdict()});
        if (e.type == "fence-declined") r.declined.push_back({e.at - origin, e.message});
        if (const auto step = step_of(e, origin)) r.steps.push_back(*step);
    }
    r.sysrq = testing::read_text(sysrq);
    r.dropin_sysrq = testing::read_text(dropin_sysrq);
    r.stock_fence_delay_s = secs(timings.fence_delay);
    if (!r.agent_fences.empty()) {
        // The same loop with the stock script: its first -c resets the host.
        r.stock_source = "this run's agent";
        r.stock_fence_at_s = r.agent_fences.front().at_s;
    } else {
        r.stock_source = "model, virtual time";
        const auto m =
            peer::simulate_peer(s.timeline, timings, warmup, std::chrono::hours(1), 1, s.shared);
        if (m.fence_at) r.stock_fence_at_s = secs(*m.fence_at);
    }
    for (const auto& line : p.log)
        log << fmt::format("[{}] agent (s since it started, the fault at {:.1f}): {}\n", s.name,
                           secs(warmup), line);
    log << std::flush;
    return r;
}

}  // namespace iohealth::sidebyside
