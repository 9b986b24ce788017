#include "sidebyside/dropin_agent.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "e2e/event_log.h"
#include "sidebyside/host_tier.h"

extern char** environ;

namespace iohealth::sidebyside {
namespace {

using testing::monotonic_seconds;

// The script with `args`, `env` over the inherited environment, stdout to `out` (stderr
// dropped); -1 when it could not start.
pid_t spawn(const std::string& script, const std::vector<std::string>& args,
            const std::vector<std::string>& env, const std::string& out) {
    std::vector<std::string> argv_s{script};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    for (char** e = environ; *e; ++e) {
        const std::string_view inherited(*e);
        const auto name = inherited.substr(0, inherited.find('=') + 1);
        bool replaced = false;
        for (const auto& mine : env) replaced = replaced || mine.starts_with(name);
        if (!replaced) envp.push_back(*e);
    }
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    if (::posix_spawn(&pid, script.c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

int exit_code(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

DropinAgent::DropinAgent(DropinAgentOptions options) : o_(std::move(options)) {}

bool DropinAgent::write() {
    {
        std::lock_guard lock(mutex_);
        ++writes_;
    }
    const pid_t pid = spawn(o_.script, o_.pool_args, o_.env, "/dev/null");
    if (pid < 0) return false;
    const double deadline = monotonic_seconds() + secs(o_.write_timeout);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (monotonic_seconds() >= deadline) {
            // Script's timeout: the process is destroyed and the attempt failed. A script in
            // a hung write dies only when its I/O returns: wait for it (after the heal).
            ::kill(pid, SIGTERM);
            ::waitpid(pid, &status, 0);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exit_code(status) == 0;
}

bool DropinAgent::fence() {
    FenceCall call;
    call.at = monotonic_seconds();
    char tmpl[] = "/tmp/iohealth-dropin-out-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd >= 0) ::close(fd);
    std::vector<std::string> args = o_.pool_args;
    args.push_back("-c");
    const pid_t pid = spawn(o_.script, args, o_.env, tmpl);
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid) call.exit = exit_code(status);
    call.ended = monotonic_seconds();
    call.out = testing::read_text(tmpl);
    ::unlink(tmpl);
    std::lock_guard lock(mutex_);
    fences_.push_back(std::move(call));
    return false;
}

std::vector<FenceCall> DropinAgent::fences() const {
    std::lock_guard lock(mutex_);
    return fences_;
}

int DropinAgent::writes() const {
    std::lock_guard lock(mutex_);
    return writes_;
}

}  // namespace iohealth::sidebyside
