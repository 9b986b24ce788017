#include "sources/block/heartbeat_prober.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "os/errno_text.h"

namespace iohealth {

struct HeartbeatProber::State {
    mutable std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    bool exited = false;  // the thread left its loop: join() returns at once
    bool direct_io = true;
    HeartbeatEvidence evidence;
};

namespace {

struct Outcome {
    bool ok = true;
    std::string error;
};
Outcome failed(std::string error) {
    return {false, std::move(error)};
}

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

// O_DIRECT needs a buffer aligned to the logical block size; 4096 covers every device.
struct AlignedBuffer {
    AlignedBuffer()
        : data(static_cast<char*>(
              std::aligned_alloc(HeartbeatProber::kProbeBytes, HeartbeatProber::kProbeBytes))) {
        if (!data) throw std::bad_alloc();
    }
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    ~AlignedBuffer() { std::free(data); }
    char* data;
};

Outcome read_sector(const HeartbeatProber::Options& o, AlignedBuffer& buf) {
    Fd fd(::open(o.target.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
    if (fd.get() < 0) return failed("open: " + errno_name_text(errno));
    const ssize_t n = ::pread(fd.get(), buf.data, HeartbeatProber::kProbeBytes, o.read_offset);
    if (n < 0) return failed(errno_name_text(errno));
    if (static_cast<std::size_t>(n) != HeartbeatProber::kProbeBytes)
        return failed(fmt::format("short read: {} of {} bytes", n, HeartbeatProber::kProbeBytes));
    return {};
}

Outcome write_heartbeat(const HeartbeatProber::Options& o, AlignedBuffer& buf, bool& direct_io) {
    const std::filesystem::path file = std::filesystem::path(o.target) / o.heartbeat_file;
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return failed("mkdir: " + errno_name_text(ec.value()));

    constexpr int kFlags = O_WRONLY | O_CREAT | O_DSYNC | O_CLOEXEC;
    int raw = ::open(file.c_str(), kFlags | (direct_io ? O_DIRECT : 0), 0644);
    if (raw < 0 && errno == EINVAL && direct_io) {
        direct_io = false;  // remembered: the filesystem will not change its mind
        spdlog::warn("Failed to open '{}' with O_DIRECT: {}; probing with O_DSYNC alone",
                     file.string(), errno_name_text(EINVAL));
        raw = ::open(file.c_str(), kFlags, 0644);
    }
    Fd fd(raw);
    if (fd.get() < 0) return failed("open: " + errno_name_text(errno));

    // One whole block (O_DIRECT needs it), cut back to "<epoch>\n" by the truncate so that
    // CloudStack's readers (`hb=$(cat file)`, 11 bytes) see exactly what they expect.
    const std::string content = fmt::format("{}\n", static_cast<long long>(std::time(nullptr)));
    std::memset(buf.data, '\n', HeartbeatProber::kProbeBytes);
    std::memcpy(buf.data, content.data(), content.size());
    const ssize_t n = ::pwrite(fd.get(), buf.data, HeartbeatProber::kProbeBytes, 0);
    if (n < 0) return failed(errno_name_text(errno));
    if (static_cast<std::size_t>(n) != HeartbeatProber::kProbeBytes)
        return failed(fmt::format("short write: {} of {} bytes", n, HeartbeatProber::kProbeBytes));
    if (::ftruncate(fd.get(), static_cast<off_t>(content.size())) != 0)
        return failed("truncate: " + errno_name_text(errno));
    if (::fdatasync(fd.get()) != 0) return failed(errno_name_text(errno));
    return {};
}

// The probe thread. It shares only `state` (reference counted) with the prober; `clock` is
// read only while `stopping` is false, under the mutex, so stop() may return and the clock
// die while this thread is still stuck in the kernel.
void probe_loop(std::shared_ptr<HeartbeatProber::State> state, HeartbeatProber::Options o,
                const Clock* clock) {
    AlignedBuffer buf;  // outlives any I/O it is used for, even an abandoned one
    bool direct_io = true;
    auto next = std::chrono::steady_clock::now();
    for (;;) {
        // --- start: publish the attempt before touching storage ---
        TimePoint started;
        {
            std::lock_guard lock(state->mutex);
            if (state->stopping) break;
            started = clock->now();
            state->evidence.state = ProbeState::kPending;
            state->evidence.pending_since = started;
        }
        // --- probe: may block for ever; nothing is held meanwhile ---
        const Outcome outcome = o.kind == HeartbeatProber::Kind::kBlockDevice
                                    ? read_sector(o, buf)
                                    : write_heartbeat(o, buf, direct_io);
        // --- publish the result ---
        {
            std::lock_guard lock(state->mutex);
            if (state->stopping) break;
            const TimePoint ended = clock->now();
            HeartbeatEvidence& ev = state->evidence;
            ev.state = ProbeState::kIdle;
            ev.pending_since.reset();
            ev.last_latency = ended - started;
            ev.last_failed = !outcome.ok;
            ev.last_error = outcome.error;
            state->direct_io = direct_io;
            if (outcome.ok) {
                ev.last_success = ended;
                ev.failing_since.reset();
                ev.failures = 0;
            } else {
                if (!ev.failing_since) ev.failing_since = started;
                ++ev.failures;
            }
        }
        // --- wait: start to start, and at once if the probe took longer than that ---
        next = std::max(next + o.interval, std::chrono::steady_clock::now());
        std::unique_lock lock(state->mutex);
        if (state->wake.wait_until(lock, next, [&] { return state->stopping; })) break;
    }
    std::lock_guard lock(state->mutex);
    state->exited = true;
    state->wake.notify_all();
}

}  // namespace

HeartbeatProber::HeartbeatProber(Options options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), state_(std::make_shared<State>()) {
    state_->evidence.state = ProbeState::kIdle;
}

HeartbeatProber::~HeartbeatProber() {
    stop();
}

void HeartbeatProber::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread(probe_loop, state_, options_, &clock_);
}

void HeartbeatProber::stop() {
    if (!thread_.joinable()) return;
    std::unique_lock lock(state_->mutex);
    state_->stopping = true;
    state_->wake.notify_all();
    const bool exited =
        state_->wake.wait_for(lock, options_.stop_grace, [&] { return state_->exited; });
    const auto pending_since = state_->evidence.pending_since;
    lock.unlock();
    if (exited) {
        thread_.join();
        return;
    }
    spdlog::warn("Heartbeat probe of '{}' still outstanding{}; leaving its thread behind",
                 options_.target,
                 pending_since ? " after " + format_duration(clock_.now() - *pending_since) : "");
    thread_.detach();
}

HeartbeatEvidence HeartbeatProber::snapshot() const {
    std::lock_guard lock(state_->mutex);
    return state_->evidence;
}

bool HeartbeatProber::direct_io() const {
    std::lock_guard lock(state_->mutex);
    return state_->direct_io;
}

}  // namespace iohealth
