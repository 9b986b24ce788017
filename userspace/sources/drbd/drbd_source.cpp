#include "sources/drbd/drbd_source.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/rate_limit.h"
#include "os/process.h"
#include "sources/drbd/drbd_startup_check.h"

namespace iohealth {
namespace {

constexpr unsigned kDrbdMajor = 147;  // include/uapi/linux/major.h
// A --now dump of many resources is a few hundred bytes each; more than this is not DRBD.
constexpr std::size_t kMaxDumpBytes = 4 << 20;
// What the worker warns about: deduplicated by kind, not by text (a line quotes changing
// statistics), each kind at most once per Options::warn_every; the ones held back are counted
// in the next, so no kind is silenced for good.
enum class Warning {
    kEventsLine,   // a line of the events2 child that is not an event
    kEventsField,  // an event with a field that does not parse
    kNowOutput,    // the same in `events2 --now`
    kShowFailed,   // `drbdsetup show` failed
    kShowOutput,   // `drbdsetup show` printed what the parser does not know
    kChildExit,    // the events2 child ended
    kUnavailable,  // no DRBD state at all
};
constexpr int kCountBits = std::numeric_limits<unsigned long>::digits;

using Steady = std::chrono::steady_clock;

std::string last_line(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    const auto nl = text.rfind('\n');
    return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

std::string outcome_text(const ProcessOutcome& o, const Duration timeout) {
    switch (o.end) {
        case ProcessOutcome::End::kExited:
            return fmt::format("exited with status {}: {}", o.status, last_line(o.output));
        case ProcessOutcome::End::kSignaled:
            return fmt::format("killed by signal {}", o.status);
        case ProcessOutcome::End::kTimedOut:
            return fmt::format("gave no answer within {}", format_duration(timeout));
        case ProcessOutcome::End::kCancelled:
            return "cancelled";
    }
    return "ended";
}

DiskTick disk_tick(const DiskstatsRecord& prev, const DiskstatsRecord& cur) {
    DiskTick t;
    t.writes = counter_delta(prev.writes, cur.writes, kCountBits);
    t.completed = counter_delta(prev.reads, cur.reads, kCountBits) + t.writes +
                  counter_delta(prev.discards, cur.discards, kCountBits) +
                  counter_delta(prev.flushes, cur.flushes, kCountBits);
    t.in_flight = cur.in_flight;
    return t;
}

std::optional<int> lowest_minor(const DrbdResource& r) {
    for (const auto& [volume, d] : r.devices)
        if (d.minor >= 0) return d.minor;
    return std::nullopt;
}

}  // namespace

struct DrbdSource::Shared {
    std::mutex mutex;
    std::condition_variable refreshed_cv;
    DrbdState state;
    std::optional<TimePoint> state_at;  // the last statistics refresh
    bool refreshed = false;             // a refresh succeeded at least once
    std::map<std::string, std::pair<std::optional<DrbdProgress>, std::optional<DrbdProgress>>>
        progress;  // by resource: the previous and the latest refresh
    std::map<std::string, DrbdResourceConfig> configs;
    std::map<std::string, dev_t> backing;  // by resource: the lowest volume's backing disk
    std::string unavailable;               // why there is no DRBD state, empty when there is
};

// The worker thread: the events2 child, the statistics refresh and `drbdsetup show`.
class DrbdSource::Worker {
  public:
    Worker(const Options& options, const Clock& clock, std::shared_ptr<Shared> shared)
        : options_(options),
          clock_(clock),
          shared_(std::move(shared)),
          backoff_(options.restart_min) {
        wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
    }
    ~Worker() {
        thread_.request_stop();
        const std::uint64_t one = 1;
        if (wake_fd_ >= 0 && ::write(wake_fd_, &one, sizeof one) < 0) {
            // The thread still notices the stop request at its next timeout.
        }
        thread_.join();
        if (wake_fd_ >= 0) ::close(wake_fd_);
    }

  private:
    void run(std::stop_token stop) {
        auto next_child = Steady::now();
        auto next_refresh = Steady::now();
        while (!stop.stop_requested()) {
            if (child_ < 0 && Steady::now() >= next_child && !start_child())
                next_child = Steady::now() + next_backoff();
            if (Steady::now() >= next_refresh) {
                refresh(stop);
                next_refresh = Steady::now() + options_.refresh;
            }
            auto until = next_refresh;
            if (child_ < 0) until = std::min(until, next_child);
            const auto wait = std::max(
                0L,
                long(std::chrono::ceil<std::chrono::milliseconds>(until - Steady::now()).count()));
            pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {pipe_fd_, POLLIN, 0}};
            if (::poll(fds, child_ >= 0 ? 2 : 1, int(wait)) < 0 && errno != EINTR) {
                spdlog::error("DRBD: failed to wait for drbdsetup: {}", std::strerror(errno));
                break;
            }
            if (child_ >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && !read_child()) {
                end_child();
                next_child = Steady::now() + next_backoff();
            }
        }
        if (child_ >= 0) end_child();
    }

    bool module_loaded() {
        if (::access(options_.proc_drbd.c_str(), F_OK) == 0) return true;
        report(fmt::format("the drbd kernel module is not loaded ({} is missing)",
                           options_.proc_drbd));
        return false;
    }

    Duration next_backoff() {
        const Duration d = backoff_;
        backoff_ = std::min(backoff_ * 2, options_.restart_max);
        return d;
    }

    bool start_child() {
        if (!module_loaded()) return false;
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            report(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
            return false;
        }
        try {
            child_ = spawn_process({options_.drbdsetup, "events2", "--statistics"}, {}, fds[1]);
        } catch (const std::exception& e) {
            ::close(fds[0]);
            ::close(fds[1]);
            report(e.what());
            return false;
        }
        ::close(fds[1]);
        pipe_fd_ = fds[0];
        child_started_ = Steady::now();
        partial_.clear();
        last_odd_line_.clear();
        spdlog::debug("DRBD: following '{} events2 --statistics' (pid {})", options_.drbdsetup,
                      child_);
        return true;
    }

    // Reads what the child wrote and applies the complete lines; false at end of file.
    bool read_child() {
        char buf[4096];
        const ssize_t n = ::read(pipe_fd_, buf, sizeof buf);
        if (n < 0) return errno == EINTR || errno == EAGAIN;
        if (n == 0) return false;
        partial_.append(buf, std::size_t(n));
        std::size_t start = 0;
        for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
            apply_line(std::string_view(partial_).substr(start, nl - start));
        partial_.erase(0, start);
        return true;
    }

    void apply_line(std::string_view line) {
        std::string error;
        auto event = parse_drbd_event(line, error);
        if (!event) {
            // drbdsetup's own messages (stderr shares the pipe) explain an exit.
            last_odd_line_ = std::string(line);
            warn(Warning::kEventsLine,
                 fmt::format("DRBD: ignoring a line of drbdsetup events2: {} ('{}')", error, line));
            return;
        }
        std::lock_guard lock(shared_->mutex);
        shared_->state.apply(*event, error);
        if (!error.empty())
            warn(Warning::kEventsField, fmt::format("DRBD: events2 line '{}': {}", line, error));
    }

    void end_child() {
        ::kill(-child_, SIGKILL);  // its process group: drbdsetup may have started drbdsetup-84
        int status = 0;
        while (::waitpid(child_, &status, 0) < 0 && errno == EINTR) {
        }
        ::close(pipe_fd_);
        pipe_fd_ = -1;
        child_ = -1;
        if (Steady::now() - child_started_ > options_.restart_max) {
            backoff_ = options_.restart_min;  // it ran well: a new problem is news again
            warnings_.erase(Warning::kChildExit);
        }
        if (thread_.get_stop_token().stop_requested()) return;
        const std::string how = WIFEXITED(status)
                                    ? fmt::format("exited with status {}", WEXITSTATUS(status))
                                    : fmt::format("was killed by signal {}", WTERMSIG(status));
        const std::string why =
            fmt::format("'{} events2 --statistics' {}{}{}", options_.drbdsetup, how,
                        last_odd_line_.empty() ? "" : ": ", last_odd_line_);
        // The refresh still gives the state, only later: a warning, not an outage.
        warn(Warning::kChildExit,
             fmt::format("DRBD: {}; restarting it (state changes are seen at the next refresh "
                         "meanwhile)",
                         why));
    }

    // The statistics (and, when due, the options) of every resource.
    void refresh(std::stop_token stop) {
        if (!module_loaded()) return;
        ProcessOutcome o;
        try {
            o = run_process({options_.drbdsetup, "events2", "--now", "--statistics"}, {},
                            options_.command_timeout, stop, kMaxDumpBytes);
        } catch (const std::exception& e) {
            report(e.what());
            return;
        }
        if (o.end != ProcessOutcome::End::kExited || o.status != 0) {
            if (o.end != ProcessOutcome::End::kCancelled)
                report(fmt::format("'{} events2 --now --statistics' {}", options_.drbdsetup,
                                   outcome_text(o, options_.command_timeout)));
            return;
        }
        DrbdState fresh;
        for (const auto& e : fresh.apply_text(o.output))
            warn(Warning::kNowOutput, "DRBD: events2 --now: " + e);
        bool new_resource = false;
        {
            std::lock_guard lock(shared_->mutex);
            for (const auto& [name, r] : fresh.resources())
                if (!shared_->configs.contains(name)) new_resource = true;
        }
        // Options first: a resource is published with them (check() runs once it resolves).
        if (new_resource || Steady::now() >= next_show_) read_options(stop);
        const TimePoint at = clock_.now();
        {
            std::lock_guard lock(shared_->mutex);
            std::erase_if(shared_->progress,
                          [&](const auto& p) { return !fresh.resources().contains(p.first); });
            for (const auto& [name, r] : fresh.resources()) {
                auto& [previous, latest] = shared_->progress[name];
                previous = latest;
                latest = progress_of(r, at);
            }
            shared_->state = std::move(fresh);
            shared_->state_at = at;
            shared_->refreshed = true;
        }
        shared_->refreshed_cv.notify_all();
        available();
    }

    void read_options(std::stop_token stop) {
        next_show_ = Steady::now() + options_.show_every;
        ProcessOutcome o;
        try {
            o = run_process({options_.drbdsetup, "show", "--show-defaults"}, {},
                            options_.command_timeout, stop, kMaxDumpBytes);
        } catch (const std::exception& e) {
            report(e.what());
            return;
        }
        if (o.end != ProcessOutcome::End::kExited || o.status != 0) {
            if (o.end != ProcessOutcome::End::kCancelled)
                warn(Warning::kShowFailed,
                     fmt::format("DRBD: '{} show --show-defaults' {}; DRBD's timeouts are "
                                 "taken to be its defaults",
                                 options_.drbdsetup, outcome_text(o, options_.command_timeout)));
            return;
        }
        std::vector<std::string> errors;
        const auto configs = parse_drbd_show(o.output, errors);
        for (const auto& e : errors) warn(Warning::kShowOutput, "DRBD: drbdsetup show: " + e);
        std::map<std::string, dev_t> backing;
        for (const auto& c : configs) {
            for (const auto& v : c.volumes) {
                struct stat st {};
                if (v.disk.empty() || v.disk == "none") continue;
                if (::stat(v.disk.c_str(), &st) == 0 && S_ISBLK(st.st_mode))
                    backing.emplace(c.name, st.st_rdev);
                break;  // the lowest volume, as device_of()
            }
        }
        std::lock_guard lock(shared_->mutex);
        shared_->configs.clear();
        for (const auto& c : configs) shared_->configs.emplace(c.name, c);
        shared_->backing = std::move(backing);
    }

    // Once when the outage starts, then as any other warning kind (the same outage seen by
    // the child and the refresh would otherwise alternate), until DRBD state is back.
    void report(const std::string& why) {
        {
            std::lock_guard lock(shared_->mutex);
            shared_->unavailable = why;
        }
        shared_->refreshed_cv.notify_all();  // discover() need not wait any longer
        unavailable_ = true;
        warn(Warning::kUnavailable,
             fmt::format("DRBD: no DRBD state: {}; DRBD paths get no DRBD facts until it is back "
                         "(retrying)",
                         why));
    }

    void available() {
        {
            std::lock_guard lock(shared_->mutex);
            shared_->unavailable.clear();
        }
        if (unavailable_) spdlog::info("DRBD: DRBD state available again");
        unavailable_ = false;
        warnings_.erase(Warning::kUnavailable);  // a new outage is news at once
    }

    void warn(Warning kind, const std::string& message) {
        auto it = warnings_.try_emplace(kind, 1, options_.warn_every).first;
        std::uint64_t held_back = 0;
        if (!it->second.allow(clock_.now(), held_back)) return;
        if (held_back == 0)
            spdlog::warn("{}", message);
        else
            spdlog::warn("{} ({} more like it since the last of these)", message, held_back);
    }

    const Options& options_;
    const Clock& clock_;
    std::shared_ptr<Shared> shared_;
    Duration backoff_;
    int wake_fd_ = -1;
    pid_t child_ = -1;
    int pipe_fd_ = -1;
    Steady::time_point child_started_{};
    Steady::time_point next_show_{};
    std::string partial_;        // an incomplete line from the child
    std::string last_odd_line_;  // the child's last line that was not an event
    bool unavailable_ = false;   // an outage was reported, not yet its end
    std::map<Warning, RateLimit> warnings_;
    std::jthread thread_;  // last: started after everything it uses
};

DrbdSource::DrbdSource(Options options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      shared_(std::make_shared<Shared>()),
      facts_(3 * options_.refresh) {}

DrbdSource::~DrbdSource() = default;

void DrbdSource::start() {
    std::call_once(started_,
                   [this] { worker_ = std::make_unique<Worker>(options_, clock_, shared_); });
}

ResolvedDevice DrbdSource::device_of(const PathConfig& path) {
    start();
    std::lock_guard lock(shared_->mutex);
    const auto& resources = shared_->state.resources();
    if (const auto r = resources.find(path.target); r != resources.end())
        if (const auto minor = lowest_minor(r->second))
            return {makedev(kDrbdMajor, unsigned(*minor)), fmt::format("/dev/drbd{}", *minor)};
    if (!shared_->unavailable.empty())
        throw std::runtime_error("no DRBD state: " + shared_->unavailable);
    if (!shared_->refreshed) throw std::runtime_error("DRBD state not read yet");
    std::string names;
    for (const auto& [name, r] : resources) names += (names.empty() ? "" : ", ") + name;
    throw std::runtime_error(
        fmt::format("DRBD resource '{}' {} (resources: {})", path.target,
                    resources.contains(path.target) ? "has no device" : "not found",
                    names.empty() ? "none" : names));
}

std::vector<PathConfig> DrbdSource::discover(const PathPolicy& defaults) {
    start();
    std::unique_lock lock(shared_->mutex);
    shared_->refreshed_cv.wait_for(lock, options_.command_timeout, [&] {
        return shared_->refreshed || !shared_->unavailable.empty();
    });
    std::vector<PathConfig> out;
    for (const auto& [name, r] : shared_->state.resources()) {
        PathConfig p;
        p.name = "drbd-" + name;
        p.kind = PathKind::kDrbd;
        p.target = name;
        p.preset = "drbd";
        p.policy = defaults;
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<std::string> DrbdSource::check(const PathConfig& path) {
    std::lock_guard lock(shared_->mutex);
    const auto c = shared_->configs.find(path.target);
    return c == shared_->configs.end() ? std::vector<std::string>{}
                                       : drbd_startup_warnings(path, c->second);
}

std::map<std::string, StorageFacts> DrbdSource::collect(const std::vector<PathConfig>& paths,
                                                        TimePoint now) {
    std::map<std::string, StorageFacts> out;
    if (paths.empty()) return out;
    start();

    std::map<dev_t, DiskstatsRecord> disks;
    {
        std::ifstream in(options_.diskstats);
        std::stringstream text;
        text << in.rdbuf();
        for (auto& rec : parse_diskstats(text.str()).records)
            disks.emplace(rec.dev, std::move(rec));
    }
    auto tick_of = [&](dev_t dev) -> std::optional<DiskTick> {
        const auto cur = disks.find(dev);
        const auto prev = disks_.find(dev);
        if (cur == disks.end() || prev == disks_.end()) return std::nullopt;
        return disk_tick(prev->second, cur->second);
    };

    {
        std::lock_guard lock(shared_->mutex);
        for (const auto& path : paths) {
            if (!handles(path)) continue;
            const std::string& res = path.target;
            DrbdTick tick;
            tick.unavailable = shared_->unavailable;
            tick.state_at = shared_->state_at;
            const auto r = shared_->state.resources().find(res);
            if (r != shared_->state.resources().end()) {
                tick.state = &r->second;
                if (const auto minor = lowest_minor(r->second))
                    tick.device = tick_of(makedev(kDrbdMajor, unsigned(*minor)));
            }
            if (const auto c = shared_->configs.find(res); c != shared_->configs.end())
                tick.config = &c->second;
            if (const auto p = shared_->progress.find(res); p != shared_->progress.end()) {
                tick.previous = p->second.first;
                tick.latest = p->second.second;
            }
            if (const auto b = shared_->backing.find(res); b != shared_->backing.end()) {
                tick.backing = tick_of(b->second);
                if (const auto rec = disks.find(b->second); rec != disks.end())
                    tick.backing_name = rec->second.name;
            }
            out[path.name] = facts_.update(res, tick, now);
        }
    }
    disks_ = std::move(disks);
    return out;
}

}  // namespace iohealth
