#pragma once
// RAII loop device for integration tests: attach a backing file to a free /dev/loopN with
// LOOP_CONFIGURE (one ioctl, no shell, no losetup parsing) and always detach it again.
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace iohealth::testing {

// Creates (or truncates) a sparse file of `bytes` bytes.
inline void make_sparse_file(const std::string& path, off_t bytes) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error("Failed to create '" + path + "': " + std::strerror(errno));
    const int rc = ::ftruncate(fd, bytes);
    const int err = errno;
    ::close(fd);
    if (rc != 0) throw std::runtime_error("Failed to size '" + path + "': " + std::strerror(err));
}

class LoopDevice {
  public:
    struct Options {
        // Loop's own O_DIRECT on the backing file (LO_FLAGS_DIRECT_IO). Off: the loop worker
        // does buffered reads/writes of the backing file.
        bool direct_io = false;
        bool read_only = false;
        // Scan the partition table (LO_FLAGS_PARTSCAN): /dev/loopNp1, ... appear.
        bool partscan = false;
    };

    explicit LoopDevice(const std::string& backing) : LoopDevice(backing, Options{}) {}
    LoopDevice(const std::string& backing, Options options) {
        const int backing_fd =
            ::open(backing.c_str(), (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (backing_fd < 0) fail("open backing file '" + backing + "'");
        const int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control < 0) {
            ::close(backing_fd);
            fail("open /dev/loop-control");
        }
        // Another process may grab the free device between GET_FREE and CONFIGURE: retry.
        for (int attempt = 0; attempt < 20 && fd_ < 0; ++attempt) {
            const int n = ::ioctl(control, LOOP_CTL_GET_FREE);
            if (n < 0) break;
            const std::string path = "/dev/loop" + std::to_string(n);
            const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
            if (fd < 0) continue;
            loop_config config{};
            config.fd = static_cast<__u32>(backing_fd);
            config.info.lo_flags = (options.direct_io ? LO_FLAGS_DIRECT_IO : 0) |
                                   (options.read_only ? LO_FLAGS_READ_ONLY : 0) |
                                   (options.partscan ? LO_FLAGS_PARTSCAN : 0);
            if (::ioctl(fd, LOOP_CONFIGURE, &config) == 0) {
                fd_ = fd;
                number_ = n;
                path_ = path;
            } else {
                const int err = errno;
                ::close(fd);
                if (err != EBUSY) {
                    ::close(control);
                    ::close(backing_fd);
                    errno = err;
                    fail("configure " + path + " over '" + backing + "'");
                }
            }
        }
        ::close(control);
        ::close(backing_fd);  // the loop device holds its own reference
        if (fd_ < 0) fail("find a free loop device for '" + backing + "'");
        struct stat st {};
        ::fstat(fd_, &st);
        dev_ = st.st_rdev;
    }

    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
    ~LoopDevice() { detach(); }

    // LOOP_CLR_FD. Waits for the queue to drain, so a request stuck below the loop device
    // (a hung FUSE server) must be released first. Idempotent.
    void detach() {
        if (fd_ < 0) return;
        for (int attempt = 0; attempt < 50; ++attempt) {
            if (::ioctl(fd_, LOOP_CLR_FD) == 0 || errno == ENXIO) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // EBUSY: udev probing
        }
        ::close(fd_);
        fd_ = -1;
    }

    const std::string& path() const { return path_; }
    int number() const { return number_; }
    dev_t dev() const { return dev_; }
    std::string name() const { return "loop" + std::to_string(number_); }
    std::string sysfs() const { return "/sys/block/" + name(); }
    // Whether the kernel actually uses direct I/O on the backing file (it may refuse).
    bool direct_io_active() const { return read_sysfs("loop/dio") == "1"; }
    // /sys/block/loopN/inflight: requests in the driver, reads + writes.
    unsigned inflight() const {
        std::ifstream in(sysfs() + "/inflight");
        unsigned reads = 0, writes = 0;
        in >> reads >> writes;
        return reads + writes;
    }

  private:
    [[noreturn]] static void fail(const std::string& what) {
        throw std::runtime_error("Failed to " + what + ": " + std::strerror(errno));
    }
    std::string read_sysfs(const std::string& attr) const {
        std::ifstream in(sysfs() + "/" + attr);
        std::string value;
        in >> value;
        return value;
    }

    int fd_ = -1;
    int number_ = -1;
    std::string path_;
    dev_t dev_ = 0;
};

}  // namespace iohealth::testing
