#include "sidebyside/peer_runner.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace iohealth::peer {
namespace {
constexpr std::size_t kBlock = 4096;
}

BlockDeviceHeartbeat::BlockDeviceHeartbeat(const std::string& device) {
    fd_ = ::open(device.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (fd_ < 0)
        throw std::runtime_error("Failed to open '" + device + "': " + std::strerror(errno));
    std::uint64_t bytes = 0;
    if (::ioctl(fd_, BLKGETSIZE64, &bytes) != 0 || bytes < kBlock) {
        ::close(fd_);
        throw std::runtime_error("Failed to read the size of '" + device + "'");
    }
    offset_ = static_cast<off_t>(bytes - kBlock);
}

BlockDeviceHeartbeat::~BlockDeviceHeartbeat() {
    ::close(fd_);
}

bool BlockDeviceHeartbeat::write() {
    void* buf = nullptr;
    if (::posix_memalign(&buf, kBlock, kBlock) != 0) return false;
    std::memset(buf, 0, kBlock);
    std::snprintf(static_cast<char*>(buf), kBlock, "%lld\n",
                  static_cast<long long>(std::time(nullptr)));
    const bool ok = ::pwrite(fd_, buf, kBlock, offset_) == static_cast<ssize_t>(kBlock);
    std::free(buf);
    return ok;
}

PeerRunner::PeerRunner(PeerTimings timings, PeerStorage& storage)
    : timings_(timings), storage_(storage) {}

PeerRunner::~PeerRunner() {
    if (thread_.joinable()) stop();
}

void PeerRunner::start(TimePoint origin) {
    origin_ = origin;
    model_ = std::make_unique<PeerModel>(timings_, clock_.now());
    neighbours_ = std::make_unique<NeighbourWatch>(origin);
    thread_ = std::thread([this] { loop(); });
}

void PeerRunner::write_attempt(int write) {
    const bool ok = storage_.write();
    std::lock_guard lock(mutex_);
    done_.push_back({clock_.now(), ok, write});
    wake_.notify_all();
}

void PeerRunner::loop() {
    std::unique_lock lock(mutex_);
    TimePoint next_check = origin_;
    bool reset = false;  // a -c reset the host: its agent writes no more
    while (!stopping_) {
        const TimePoint now = clock_.now();
        for (const Done& d : done_) model_->write_done(d.at, d.ok, d.write);
        done_.clear();
        while (next_check <= now) {
            neighbours_->check(*model_, next_check);
            next_check += std::chrono::seconds(1);
        }
        const PeerStep step = reset ? PeerStep::kNone : model_->advance(now);
        if (step == PeerStep::kStartWrite) {
            const int write = model_->writes_started();
            writes_.emplace_back([this, write] { write_attempt(write); });
            continue;
        }
        if (step == PeerStep::kFence) {  // recorded by the model
            // The agent runs -c in its loop and waits for it (the drop-in's call returns in
            // about a second); the writes' results wait meanwhile.
            lock.unlock();
            const bool resets = storage_.fence();
            lock.lock();
            reset = resets;
            continue;
        }
        TimePoint until = next_check;
        if (const auto wake = model_->next_wakeup(); wake && !reset) until = std::min(until, *wake);
        const auto wait = until - clock_.now();
        if (wait > Duration{0})
            wake_.wait_for(lock, wait, [this] { return stopping_ || !done_.empty(); });
    }
}

PeerOutcome PeerRunner::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    for (auto& t : writes_) t.join();
    writes_.clear();
    PeerOutcome out;
    if (const auto f = model_->fenced_at()) out.fence_at = *f - origin_;
    out.neighbours_dead = neighbours_->first_dead();
    out.log = model_->log();
    return out;
}

}  // namespace iohealth::peer
