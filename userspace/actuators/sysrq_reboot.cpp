#include "actuators/sysrq_reboot.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <system_error>
#include <thread>

#include "os/process.h"

namespace iohealth {
namespace {

// SYSRQ_ENABLE_BOOT in include/linux/sysrq.h.
constexpr int kSysrqEnableBoot = 0x80;

std::optional<std::string> check_sysctl(const std::string& path) {
    std::ifstream in(path);
    int value = 0;
    if (!(in >> value))
        return fmt::format(
            "cannot read '{}'; the reboot via the trigger file does not depend on it", path);
    if (value == 1 || (value & kSysrqEnableBoot)) return std::nullopt;
    return fmt::format(
        "kernel.sysrq={} does not enable reboot (needs 1 or bit 128); this gates the keyboard "
        "only, the trigger file still works for root",
        value);
}

}  // namespace

SysrqRebootExecutor::SysrqRebootExecutor(SysrqRebootOptions options)
    : options_(std::move(options)) {
    trigger_fd_ = open(options_.trigger_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (trigger_fd_ < 0)
        open_error_ =
            fmt::format("Failed to open '{}': {}", options_.trigger_path, strerror(errno));
    sysctl_warning_ = check_sysctl(options_.sysctl_path);
    if (!options_.kmsg_path.empty())
        kmsg_fd_ = open(options_.kmsg_path.c_str(), O_WRONLY | O_CLOEXEC);  // best effort
}

SysrqRebootExecutor::~SysrqRebootExecutor() {
    if (trigger_fd_ >= 0) close(trigger_fd_);
    if (kmsg_fd_ >= 0) close(kmsg_fd_);
    if (sync_pid_ > 0) waitpid(sync_pid_, nullptr, WNOHANG);
}

void SysrqRebootExecutor::start_sync() {
    // Reap the one from an earlier attempt if it finished; a stuck one stays a child.
    if (sync_pid_ > 0 && waitpid(sync_pid_, nullptr, WNOHANG) == sync_pid_) sync_pid_ = -1;
    if (options_.sync_program.empty() || sync_pid_ > 0) return;
    try {
        sync_pid_ = spawn_process({options_.sync_program}, {}, /* output_fd= */ -1);
    } catch (const std::system_error&) {
        // Best effort by design: the reboot must not wait for, or depend on, a sync.
        sync_pid_ = -1;
    }
}

void SysrqRebootExecutor::execute(const ActionRequest& request, Done done) {
    ActionResult result{request.id, request.path, request.action, false, ""};
    if (trigger_fd_ < 0) {
        result.detail = "Failed to reboot via sysrq: " + open_error_;
        done(std::move(result));
        return;
    }
    start_sync();
    if (options_.record_first) options_.record_first(request);
    if (kmsg_fd_ >= 0) {
        // <2>: crit, above every console loglevel but "silent". One record of at most 976
        // bytes (the kernel's limit for a /dev/kmsg write is 1024 with the prefix).
        const std::string line =
            fmt::format("<2>iohealthd: rebooting now through sysrq: path {} step {}: {}",
                        request.path, request.step, request.reason)
                .substr(0, 976);
        [[maybe_unused]] const ssize_t ignored = write(kmsg_fd_, line.data(), line.size());
    }
    if (options_.journal_grace > Duration{0}) std::this_thread::sleep_for(options_.journal_grace);
    const ssize_t n = write(trigger_fd_, "b", 1);
    if (n == 1) {
        // Reached only when the trigger is not the kernel's (tests) or the kernel ignored it.
        result.ok = true;
        result.detail = fmt::format("wrote 'b' to '{}'", options_.trigger_path);
    } else {
        result.detail = fmt::format("Failed to write 'b' to '{}': {}", options_.trigger_path,
                                    n < 0 ? strerror(errno) : "short write");
    }
    done(std::move(result));
}

}  // namespace iohealth
