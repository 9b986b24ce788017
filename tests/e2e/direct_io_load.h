#pragma once
// Background O_DIRECT 4 KiB reads on a block device, from a few threads: the VM I/O of a
// scenario. Records when its last read succeeded (CLOCK_MONOTONIC), so a test knows the last
// completion before a hang to within one read. A read hung by a fault blocks its thread
// until the fault is healed: callers heal before the destructor joins.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "e2e/event_log.h"

namespace iohealth::testing {

class DirectIoLoad {
  public:
    struct Options {
        int threads = 1;
        // Pause after each successful read: keeps a 2-core machine responsive while one read
        // is almost always outstanding (a FUSE round trip takes ~0.1 ms).
        std::chrono::microseconds pace{500};
        // Pause after a failed read, so an EIO storm does not spin.
        std::chrono::milliseconds pace_after_error{10};
    };

    DirectIoLoad(const std::string& device, Options options) : options_(options) {
        const int fd = ::open(device.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0)
            throw std::runtime_error("Failed to open '" + device + "': " + std::strerror(errno));
        std::uint64_t bytes = 0;
        if (::ioctl(fd, BLKGETSIZE64, &bytes) != 0 || bytes < kBytes) {
            ::close(fd);
            throw std::runtime_error("Failed to size '" + device + "'");
        }
        fd_ = fd;
        blocks_ = bytes / kBytes;
        for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { run(i); });
    }

    DirectIoLoad(const DirectIoLoad&) = delete;
    DirectIoLoad& operator=(const DirectIoLoad&) = delete;
    ~DirectIoLoad() {
        stop_ = true;
        for (auto& t : threads_) t.join();
        ::close(fd_);
    }

    std::uint64_t succeeded() const { return succeeded_; }
    std::uint64_t failed() const { return failed_; }
    // Monotonic seconds of the latest successful read (0 before the first).
    double last_success() const { return last_success_us_ / 1e6; }

  private:
    static constexpr std::size_t kBytes = 4096;

    void run(int seed) {
        std::unique_ptr<char, decltype(&std::free)> buf(
            static_cast<char*>(std::aligned_alloc(kBytes, kBytes)), &std::free);
        std::mt19937_64 rng(static_cast<std::uint64_t>(seed) + 1);
        std::uniform_int_distribution<std::uint64_t> pick(0, blocks_ - 1);
        while (!stop_) {
            const auto offset = static_cast<off_t>(pick(rng) * kBytes);
            if (::pread(fd_, buf.get(), kBytes, offset) == static_cast<ssize_t>(kBytes)) {
                const auto us = static_cast<std::int64_t>(monotonic_seconds() * 1e6);
                for (auto seen = last_success_us_.load();
                     us > seen && !last_success_us_.compare_exchange_weak(seen, us);) {
                }
                ++succeeded_;
                std::this_thread::sleep_for(options_.pace);
            } else {
                ++failed_;
                std::this_thread::sleep_for(options_.pace_after_error);
            }
        }
    }

    Options options_;
    int fd_ = -1;
    std::uint64_t blocks_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> succeeded_{0}, failed_{0};
    std::atomic<std::int64_t> last_success_us_{0};
    std::vector<std::thread> threads_;
};

}  // namespace iohealth::testing
