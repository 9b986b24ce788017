#pragma once
// iohealthd as a child process: its stdout and stderr (spdlog diagnostics, sanitizer reports)
// go to one file the test reads. The child dies with the test (PR_SET_PDEATHSIG), and a
// daemon stuck in a hung read is only reaped after the storage answers, so callers heal the
// faults before stop() (a task in D state ignores even SIGKILL until its I/O returns).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace iohealth::testing {

class DaemonProcess {
  public:
    DaemonProcess(const std::string& binary, std::vector<std::string> args,
                  const std::string& output_path) {
        const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0)
            throw std::runtime_error("Failed to create '" + output_path +
                                     "': " + std::strerror(errno));
        args.insert(args.begin(), binary);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            // Only async-signal-safe calls between fork and exec (the test has threads).
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);  // the test died before the prctl
            ::dup2(out, STDOUT_FILENO);
            ::dup2(out, STDERR_FILENO);
            ::execv(binary.c_str(), argv.data());
            ::_exit(127);
        }
        const int err = errno;
        ::close(out);
        if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(err));
    }

    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;
    ~DaemonProcess() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }

    pid_t pid() const { return pid_; }

    // True while the child has not exited (it is not reaped here, only looked at).
    bool running() const {
        if (pid_ <= 0) return false;
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == 0;
    }

    // SIGTERM, then SIGKILL after `grace`; returns the wait status, or nullopt when the child
    // did not end even then (stuck in the kernel on storage that never answered).
    std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(5)) {
        if (pid_ <= 0) return status_;
        ::kill(pid_, SIGTERM);
        if (auto s = wait_for(grace)) return s;
        ::kill(pid_, SIGKILL);
        return wait_for(grace);
    }

  private:
    std::optional<int> wait_for(std::chrono::milliseconds timeout) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                status_ = status;
                return status_;
            }
            if (std::chrono::steady_clock::now() > end) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace iohealth::testing
