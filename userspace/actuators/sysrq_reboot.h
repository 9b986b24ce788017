#pragma once
// reboot: the last rung. Writes 'b' to /proc/sysrq-trigger, an immediate reboot without sync
// or unmount, so it works when storage is dead. The trigger is opened at start-up: at fence
// time there is no path lookup and no allocation that could fail.
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "core/executor.h"
#include "core/time.h"

namespace iohealth {

struct SysrqRebootOptions {
    std::string trigger_path = "/proc/sysrq-trigger";
    std::string sysctl_path = "/proc/sys/kernel/sysrq";
    // Started in the background and never waited for: it flushes what healthy devices can take
    // in the moment before the reboot; a sync on dead storage would block forever
    // (CloudStack PR #140). "" = do not start one.
    std::string sync_program = "/bin/sync";
    // Runs first, in the caller's thread: the journal entry that says why the host is about to
    // reboot (nothing after the write is ever logged).
    std::function<void(const ActionRequest&)> record_first;
    // The same reason goes to the kernel log, which reaches the console (and netconsole,
    // pstore) at once: journald may not get to store an entry before the reset. "" = none.
    std::string kmsg_path = "/dev/kmsg";
    // Then the write waits this long: journald syncs to disk as soon as it has read an entry
    // of priority crit, which the record is. A fence that took dead_after can spare it.
    Duration journal_grace = std::chrono::milliseconds(300);
};

class SysrqRebootExecutor final : public Executor {
  public:
    explicit SysrqRebootExecutor(SysrqRebootOptions options = {});
    ~SysrqRebootExecutor() override;
    SysrqRebootExecutor(const SysrqRebootExecutor&) = delete;
    SysrqRebootExecutor& operator=(const SysrqRebootExecutor&) = delete;

    // Empty when the trigger is open; otherwise why it is not ("Failed to open ...").
    const std::string& open_error() const { return open_error_; }
    // Set when kernel.sysrq does not enable reboot (neither 1 nor bit 128) or cannot be read.
    // A warning only: that sysctl gates the keyboard, not the trigger file, which root may
    // always use (Documentation/admin-guide/sysrq.rst, write_sysrq_trigger() passes
    // check_mask=false).
    const std::optional<std::string>& sysctl_warning() const { return sysctl_warning_; }

    // Synchronous and short (a spawn and a one-byte write): when it works nothing runs after it.
    void execute(const ActionRequest& request, Done done) override;

  private:
    void start_sync();

    SysrqRebootOptions options_;
    int trigger_fd_ = -1;
    int kmsg_fd_ = -1;
    std::string open_error_;
    std::optional<std::string> sysctl_warning_;
    pid_t sync_pid_ = -1;
};

}  // namespace iohealth
