#pragma once
// RAII fixture for tests: mounts faultfs (tests/harness/faultfs.cpp) over an image in a
// temporary directory, attaches a loop device to the image and drives the faults. The
// destructor always cleans up, even after a failed assertion or with requests still hung:
// heal (or kill the server, which aborts the FUSE connection and fails what is parked), detach
// the loop device (LOOP_CLR_FD, as `losetup -d`), lazily unmount (umount2 MNT_DETACH, as root's
// `fusermount3 -u -z`), reap the server, remove the directory.
//
// Root only (mount, loop). The loop device is attached with loop's own direct I/O off by
// default; faultfs opens the image with FUSE direct_io, so each loop request reaches the server
// without a page cache in between. Loop direct I/O on works over FUSE as well on 6.18
// (FaultFsTest.LoopDirectIoOverFuse: loop/dio reads 1 and hangs still reach the server).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "integration/loop_device.h"

extern char** environ;

namespace iohealth::testing {

class FaultFsFixture {
  public:
    struct Options {
        off_t image_bytes = 64 << 20;
        bool loop_direct_io = false;
    };

    FaultFsFixture() : FaultFsFixture(Options{}) {}
    explicit FaultFsFixture(Options options) {
        char tmpl[] = "/tmp/faultfs-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("Failed to create a temporary directory");
        dir_ = tmpl;
        backing_ = dir_ + "/backing.img";
        mountpoint_ = dir_ + "/mnt";
        std::filesystem::create_directory(mountpoint_);
        make_sparse_file(backing_, options.image_bytes);
        try {
            spawn_server();
            loop_ = std::make_unique<LoopDevice>(
                image(), LoopDevice::Options{.direct_io = options.loop_direct_io});
        } catch (...) {
            teardown();
            throw;
        }
    }

    FaultFsFixture(const FaultFsFixture&) = delete;
    FaultFsFixture& operator=(const FaultFsFixture&) = delete;
    ~FaultFsFixture() { teardown(); }

    // --- faults: each returns once the server applies it to new requests ---
    void delay(std::chrono::milliseconds fixed) { delay(fixed, fixed); }
    void delay(std::chrono::milliseconds min, std::chrono::milliseconds max) {
        control("delay " + std::to_string(min.count()) + " " + std::to_string(max.count()));
    }
    void hang() { control("hang"); }
    // The next `n` requests are held until release()/heal(), the others served as before.
    void lose(int n = 1) { control("lose " + std::to_string(n)); }
    void release() { control("release"); }
    void fail_eio() { control("eio"); }
    void heal() { control("heal"); }
    // The server dies (SIGKILL): the kernel aborts the FUSE connection and fails every
    // request, parked or new (ENOTCONN below, EIO at the loop device).
    void crash() {
        if (server_ > 0) ::kill(server_, SIGKILL);
    }

    // "mode=hang delay_ms=0-0 held=1 served=12 failed=0"
    std::string status() const {
        std::ifstream in(mountpoint_ + "/ctl");
        std::string line;
        std::getline(in, line);
        if (line.empty()) throw std::runtime_error("Failed to read faultfs status");
        return line;
    }
    unsigned long held() const { return field("held"); }
    unsigned long served() const { return field("served"); }
    unsigned long failed() const { return field("failed"); }
    // Polls held() until it reaches `n`; false after `timeout`.
    bool wait_held(unsigned long n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (held() < n) {
            if (std::chrono::steady_clock::now() > end) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return true;
    }

    LoopDevice& loop() { return *loop_; }
    const std::string& device() const { return loop_->path(); }
    std::string image() const { return mountpoint_ + "/image"; }
    const std::string& backing_file() const { return backing_; }
    const std::string& mountpoint() const { return mountpoint_; }

    // For tests that check root and FUSE before building the fixture.
    static std::optional<std::string> unavailable_reason() {
        if (::geteuid() != 0) return "needs root (mount, loop devices)";
        if (::access("/dev/fuse", R_OK | W_OK) != 0) return "no usable /dev/fuse";
        if (::access("/dev/loop-control", R_OK | W_OK) != 0) return "no /dev/loop-control";
        return std::nullopt;
    }

  private:
    void control(const std::string& command) {
        const int fd = ::open((mountpoint_ + "/ctl").c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            throw std::runtime_error("Failed to open faultfs ctl: " +
                                     std::string(std::strerror(errno)));
        const ssize_t n = ::write(fd, command.data(), command.size());
        const int err = errno;
        ::close(fd);
        if (n != static_cast<ssize_t>(command.size()))
            throw std::runtime_error("faultfs refused '" + command + "': " + std::strerror(err));
    }

    unsigned long field(const std::string& name) const {
        const std::string s = " " + status() + " ";
        const auto at = s.find(" " + name + "=");
        if (at == std::string::npos) throw std::runtime_error("faultfs status lacks " + name);
        return std::stoul(s.substr(at + name.size() + 2));
    }

    void spawn_server() {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("Failed to create a pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        const char* argv[] = {IOHEALTH_FAULTFS, backing_.c_str(), mountpoint_.c_str(), nullptr};
        const int rc = ::posix_spawn(&server_, IOHEALTH_FAULTFS, &actions, nullptr,
                                     const_cast<char**>(argv), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        if (rc != 0) {
            ::close(out[0]);
            server_ = -1;
            throw std::runtime_error(std::string("Failed to start " IOHEALTH_FAULTFS ": ") +
                                     std::strerror(rc));
        }
        // "ready\n" comes after the mount syscall returned: no polling of mountinfo.
        pollfd p{out[0], POLLIN, 0};
        char buf[16] = {};
        const bool ready = ::poll(&p, 1, /*timeout_ms=*/10000) == 1 &&
                           ::read(out[0], buf, sizeof buf - 1) > 0 &&
                           std::string(buf).starts_with("ready");
        ::close(out[0]);
        if (!ready) throw std::runtime_error("faultfs did not mount on " + mountpoint_);
        mounted_ = true;
    }

    // Never throws; every step runs whatever the state the test left behind.
    void teardown() noexcept {
        if (mounted_) {
            try {
                heal();
            } catch (...) {
                // The server is gone or stuck: killing it aborts the FUSE connection, which
                // fails every parked request, so the loop queue can drain.
                if (server_ > 0) ::kill(server_, SIGKILL);
            }
        }
        loop_.reset();
        if (mounted_) ::umount2(mountpoint_.c_str(), MNT_DETACH);
        mounted_ = false;
        reap_server();
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }

    void reap_server() noexcept {
        if (server_ <= 0) return;
        // The unmount ends its session loop; give it a moment, then insist.
        for (int i = 0; i < 200; ++i) {
            if (::waitpid(server_, nullptr, WNOHANG) == server_) {
                server_ = -1;
                return;
            }
            if (i == 100) ::kill(server_, SIGTERM);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(server_, SIGKILL);
        ::waitpid(server_, nullptr, 0);
        server_ = -1;
    }

    std::string dir_, backing_, mountpoint_;
    pid_t server_ = -1;
    bool mounted_ = false;
    std::unique_ptr<LoopDevice> loop_;
};

}  // namespace iohealth::testing
