#pragma once
// One O_DIRECT 4 KiB read or write on a device, as the tests' own witness of what the block
// layer answers (independent of the prober under test).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace iohealth::testing {

struct DirectIoResult {
    ssize_t bytes = -1;
    int error = 0;  // errno when bytes < 0
    std::chrono::milliseconds took{0};
};

inline DirectIoResult direct_io(const std::string& device, off_t offset, bool write,
                                char fill = 0) {
    constexpr std::size_t kBytes = 4096;
    std::unique_ptr<char, decltype(&std::free)> buf(
        static_cast<char*>(std::aligned_alloc(kBytes, kBytes)), &std::free);
    std::memset(buf.get(), fill, kBytes);
    const auto start = std::chrono::steady_clock::now();
    DirectIoResult r;
    const int fd = ::open(device.c_str(), (write ? O_WRONLY : O_RDONLY) | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        r.error = errno;
        return r;
    }
    r.bytes =
        write ? ::pwrite(fd, buf.get(), kBytes, offset) : ::pread(fd, buf.get(), kBytes, offset);
    r.error = r.bytes < 0 ? errno : 0;
    ::close(fd);
    r.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return r;
}

}  // namespace iohealth::testing
