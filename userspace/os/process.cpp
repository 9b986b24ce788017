#include "os/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <system_error>

extern char** environ;

namespace iohealth {
namespace {

class Fd {
  public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
    }

  private:
    int fd_;
};

// glibc 2.36's <sys/pidfd.h> lacks extern "C", so its pidfd_open() does not link from C++.
int open_pidfd(pid_t pid) {
    return int(syscall(SYS_pidfd_open, pid, 0));
}

std::system_error spawn_error(int err, const std::string& what) {
    return std::system_error(err, std::generic_category(), "Failed to run '" + what + "'");
}

}  // namespace

pid_t spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                    int output_fd) {
    if (argv.empty()) throw std::system_error(EINVAL, std::generic_category(), "Empty command");
    if (argv[0].empty() || argv[0][0] != '/')
        throw std::system_error(EINVAL, std::generic_category(),
                                "Failed to run '" + argv[0] + "': not an absolute path");

    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (char** e = environ; *e; ++e) env.push_back(*e);
    for (const auto& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (output_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, output_fd, 1);
        posix_spawn_file_actions_adddup2(&actions, output_fd, 2);
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    pid_t pid = -1;
    const int err = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), env.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) throw spawn_error(err, argv[0]);
    return pid;
}

ProcessOutcome run_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& extra_env, Duration timeout,
                           std::stop_token stop, std::size_t keep_output) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw spawn_error(errno, argv.empty() ? "" : argv[0]);
    Fd read_end(pipe_fds[0]);
    Fd write_end(pipe_fds[1]);
    // Our end only: a background grandchild holding the pipe must not block the final drain.
    fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    const pid_t pid = spawn_process(argv, extra_env, write_end.get());
    write_end.reset();  // EOF on read_end once the child (and its children) are done writing
    Fd pidfd(open_pidfd(pid));
    if (pidfd.get() < 0) {
        const int err = errno;
        kill(-pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        throw std::system_error(err, std::generic_category(), "Failed to watch '" + argv[0] + "'");
    }

    ProcessOutcome outcome;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool exited = false;
    while (!exited) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline || stop.stop_requested()) {
            outcome.end = stop.stop_requested() ? ProcessOutcome::End::kCancelled
                                                : ProcessOutcome::End::kTimedOut;
            kill(-pid, SIGKILL);
            break;
        }
        // Wake at least every 100 ms to notice a stop request.
        const auto wait = std::min(std::chrono::ceil<std::chrono::milliseconds>(deadline - now),
                                   std::chrono::milliseconds(100));
        pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {read_end.get(), POLLIN, 0}};
        const nfds_t nfds = read_end.get() >= 0 ? 2 : 1;
        if (poll(fds, nfds, int(wait.count())) < 0 && errno != EINTR)
            throw std::system_error(errno, std::generic_category(), "Failed to poll the child");
        if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP))) {
            char buf[256];
            const ssize_t n = read(read_end.get(), buf, sizeof buf);
            if (n > 0) {
                outcome.output.append(buf, std::size_t(n));
                if (outcome.output.size() > keep_output)
                    outcome.output.erase(0, outcome.output.size() - keep_output);
            } else if (n == 0) {
                read_end.reset();
            }
        }
        exited = fds[0].revents & POLLIN;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (exited) {
        // Drain what the child wrote just before it exited.
        char buf[256];
        ssize_t n;
        while (read_end.get() >= 0 && (n = read(read_end.get(), buf, sizeof buf)) > 0) {
            outcome.output.append(buf, std::size_t(n));
            if (outcome.output.size() > keep_output)
                outcome.output.erase(0, outcome.output.size() - keep_output);
        }
        if (WIFEXITED(status)) {
            outcome.end = ProcessOutcome::End::kExited;
            outcome.status = WEXITSTATUS(status);
        } else {
            outcome.end = ProcessOutcome::End::kSignaled;
            outcome.status = WTERMSIG(status);
        }
    }
    return outcome;
}

}  // namespace iohealth
