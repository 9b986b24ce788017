#include "daemon/wiring.h"

#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actuators/custom_command.h"
#include "actuators/dry_run.h"
#include "actuators/graceful_reboot.h"
#include "actuators/restart_agent.h"
#include "actuators/router.h"
#include "actuators/sysrq_reboot.h"
#include "sources/block/diskstats_source.h"
#include "sources/bpf/bpf_block_source.h"

namespace iohealth {

std::unique_ptr<KernelSource> make_kernel_source(bool no_bpf) {
    auto bpf = BpfBlockSource::make({.disabled = no_bpf});
    if (bpf) {
        spdlog::info("Kernel evidence: eBPF block probes");
        for (const auto& note : (*bpf)->notes()) spdlog::info("eBPF: {}", note);
        return std::move(*bpf);
    }
    spdlog::warn(
        "DEGRADED MODE: eBPF block probes unavailable ({}); kernel evidence comes from "
        "/proc/diskstats (no per-I/O latency, no error counts) plus the heartbeat",
        bpf.error());
    return std::make_unique<DiskstatsSource>();
}

std::unique_ptr<Executor> make_executor(const std::string& sysrq_path,
                                        const GracefulRebootOptions& graceful, EventSink& sink,
                                        const Clock& clock) {
    std::map<Action, std::unique_ptr<Executor>> real;
    real[Action::kLogOnly] = std::make_unique<LogOnlyExecutor>();
    real[Action::kRestartAgent] = std::make_unique<RestartAgentExecutor>();
    real[Action::kGracefulReboot] = std::make_unique<GracefulRebootExecutor>(graceful);
    real[Action::kCustom] = std::make_unique<CustomCommandExecutor>();
    SysrqRebootOptions sysrq;
    sysrq.trigger_path = sysrq_path;
    // The reason reaches the journal before the write: nothing after it is ever logged.
    sysrq.record_first = [&sink, &clock](const ActionRequest& r) {
        sink.emit(reboot_record(r, clock.now()));
    };
    auto reboot = std::make_unique<SysrqRebootExecutor>(sysrq);
    if (!reboot->open_error().empty())
        spdlog::warn("The reboot step cannot run: {}", reboot->open_error());
    if (reboot->sysctl_warning()) spdlog::warn("{}", *reboot->sysctl_warning());
    real[Action::kReboot] = std::move(reboot);
    return std::make_unique<ActionRouter>(std::make_unique<DryRunExecutor>(sysrq_path),
                                          std::move(real));
}

AdminGroup admin_group(const std::string& name) {
    std::string problem;
    AdminGroup group = resolve_admin_group(name, problem);
    if (group.gid)
        spdlog::info("Root and members of group '{}' (gid {}) may change mode, fence and reload",
                     name, *group.gid);
    else if (!name.empty())
        spdlog::warn("admin_group '{}': {}; only root may change mode, fence and reload", name,
                     problem);
    return group;
}

}  // namespace iohealth
