// Loads and attaches the iohealth block probes on one device and waits, for
// probe_overhead.sh. With --stats it also attaches empty calibration programs on
// block_rq_issue, _requeue and _complete, turns on BPF run-time statistics for the window and
// prints the net BPF cost per I/O: the sum over our programs of run_time - runs x floor, over
// the I/Os, where floor is the calibration program's time per run on the same tracepoint (the
// cost of measuring itself, and what lands inside a program's time from outside it).
// --foreign does the same for other tools' programs (biolatency) running at the same time.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "calibration.skel.h"
#include "core/time.h"
#include "sources/bpf/bpf_block_source.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

// Loaded programs (anyone's) whose name is in `names`, by "name#id".
std::map<std::string, int> find_programs(const std::vector<std::string>& names) {
    std::map<std::string, int> found;
    __u32 id = 0;
    while (bpf_prog_get_next_id(id, &id) == 0) {
        const int fd = bpf_prog_get_fd_by_id(id);
        if (fd < 0) continue;
        bpf_prog_info info{};
        __u32 len = sizeof(info);
        // The kernel keeps BPF_OBJ_NAME_LEN - 1 characters of a program's name.
        const auto matches = [&](const std::string& n) {
            return n.compare(0, BPF_OBJ_NAME_LEN - 1, info.name) == 0;
        };
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
            std::any_of(names.begin(), names.end(), matches)) {
            found[std::string(info.name) + "#" + std::to_string(id)] = fd;
            continue;
        }
        ::close(fd);
    }
    return found;
}

struct RunStats {
    std::uint64_t run_cnt = 0;
    std::uint64_t run_time_ns = 0;
};

RunStats read_stats(int prog_fd) {
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) return {};
    return {info.run_cnt, info.run_time_ns};
}

}  // namespace

int main(int argc, char** argv) {
    using namespace iohealth;
    CLI::App app{"Attach the iohealth block probes to one device and wait"};
    std::string device;
    double seconds = 0;
    bool stats = false;
    BpfOptions options;
    app.add_option("--device", device, "block device to track (e.g. /dev/loop3)")->required();
    app.add_option("--seconds", seconds, "stop after this long (default: at SIGINT/SIGTERM)");
    app.add_flag("--stats", stats, "measure BPF run time per I/O over the window");
    app.add_flag("--per-request", options.per_request, "track every request in flight");
    std::vector<std::string> foreign_names;
    app.add_option("--foreign", foreign_names,
                   "with --stats: also measure other loaded programs of this name (e.g. "
                   "biolatency's block_rq_complete_btf)");
    CLI11_PARSE(app, argc, argv);

    struct stat st {};
    if (::stat(device.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) {
        std::fprintf(stderr, "Failed to use '%s': not a block device\n", device.c_str());
        return 2;
    }
    auto made = BpfBlockSource::make(options);
    if (!made) {
        std::fprintf(stderr, "%s\n", made.error().c_str());
        return 1;
    }
    auto& source = **made;
    for (const auto& note : source.notes()) std::fprintf(stderr, "note: %s\n", note.c_str());
    source.set_devices({st.st_rdev});

    calibration* calib = nullptr;
    int stats_fd = -1;
    if (stats) {
        calib = calibration__open_and_load();
        if (calib == nullptr || calibration__attach(calib) != 0) {
            std::fprintf(stderr, "Failed to attach BPF calibration program: %s\n",
                         std::strerror(errno));
            return 1;
        }
        stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
        if (stats_fd < 0) {
            std::fprintf(stderr, "Failed to enable BPF stats: %s\n", std::strerror(errno));
            return 1;
        }
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    SteadyClock clock;
    source.collect(clock.now());
    const auto progs = source.program_fds();
    const auto foreign = find_programs(foreign_names);
    if (stats && foreign.size() < foreign_names.size())
        std::fprintf(stderr, "note: found %zu of %zu --foreign programs\n", foreign.size(),
                     foreign_names.size());
    std::map<std::string, RunStats> before;
    for (const auto& [name, fd] : progs) before[name] = read_stats(fd);
    for (const auto& [name, fd] : foreign) before[name] = read_stats(fd);
    // The floor of each tracepoint: an empty program on it.
    const auto calib_fds = [&] {
        std::map<std::string, int> fds;
        if (!calib) return fds;
        fds["complete"] = bpf_program__fd(calib->progs.calib_rq_complete);
        fds["issue"] = bpf_program__fd(calib->progs.calib_rq_issue);
        fds["requeue"] = bpf_program__fd(calib->progs.calib_rq_requeue);
        return fds;
    }();
    std::map<std::string, RunStats> calib_before;
    for (const auto& [point, fd] : calib_fds) calib_before[point] = read_stats(fd);
    std::printf("ready\n");
    std::fflush(stdout);

    // The daemon's tick: read the maps once per second.
    const auto deadline = clock.now() + Duration{static_cast<std::int64_t>(seconds * 1e6)};
    std::uint64_t completed = 0;
    while (!g_stop && (seconds <= 0 || clock.now() < deadline)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(seconds > 0 ? 100 : 1000));
        for (const auto& [dev, ev] : source.collect(clock.now())) completed += ev.completed;
    }
    for (const auto& [dev, ev] : source.collect(clock.now())) completed += ev.completed;

    if (stats) {
        std::map<std::string, double> floors;
        for (const auto& [point, fd] : calib_fds) {
            const auto c1 = read_stats(fd);
            const auto& c0 = calib_before[point];
            floors[point] = c1.run_cnt > c0.run_cnt ? double(c1.run_time_ns - c0.run_time_ns) /
                                                          double(c1.run_cnt - c0.run_cnt)
                                                    : 0.0;
            std::printf("calibration_floor_ns %s=%.1f\n", point.c_str(), floors[point]);
        }
        // A program's floor is that of its tracepoint (biolatency's insert program: issue's).
        const auto floor_of = [&](const std::string& name) {
            if (name.find("requeue") != std::string::npos && floors["requeue"] > 0)
                return floors["requeue"];
            if (name.find("issue") != std::string::npos || name.find("insert") != std::string::npos)
                return floors["issue"];
            return floors["complete"];
        };
        // Net cost per I/O of a set of programs: their time net of the measurement floor per
        // run, over the I/Os, counted as the runs of the program that runs most (once per I/O;
        // a requeue program runs rarely). Per run rather than per completed I/O of our device:
        // biolatency also runs for other disks' I/O.
        auto net_per_io = [&](const std::map<std::string, int>& set, const char* tag) {
            double net_ns = 0;
            std::uint64_t ios = 0;
            for (const auto& [name, fd] : set) {
                const auto s = read_stats(fd);
                const auto runs = s.run_cnt - before[name].run_cnt;
                const auto time = s.run_time_ns - before[name].run_time_ns;
                const double avg = runs ? double(time) / double(runs) : 0.0;
                std::printf("%s prog %s runs=%llu avg_ns=%.1f\n", tag, name.c_str(),
                            static_cast<unsigned long long>(runs), avg);
                net_ns += double(time) - double(runs) * floor_of(name);
                ios = std::max(ios, runs);
            }
            return ios ? net_ns / double(ios) : 0.0;
        };
        const double ours = net_per_io(progs, "iohealth");
        const double theirs = net_per_io(foreign, "foreign");
        std::printf("completed_ios=%llu\n", static_cast<unsigned long long>(completed));
        std::printf("net_bpf_ns_per_io=%.1f\n", ours);
        if (!foreign.empty()) std::printf("foreign_net_bpf_ns_per_io=%.1f\n", theirs);
        ::close(stats_fd);
        for (const auto& [name, fd] : foreign) ::close(fd);
        calibration__destroy(calib);
    }
    return 0;
}
