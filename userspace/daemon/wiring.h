#pragma once
// The parts the daemon is built from, chosen from its configuration and this machine: the
// block kernel source (eBPF or /proc/diskstats), the fence executors, the bus admin group.
#include <memory>
#include <string>

#include "actuators/graceful_reboot.h"
#include "core/executor.h"
#include "core/source.h"
#include "dbus/admin_group.h"
#include "journal/event_sink.h"

namespace iohealth {

// The eBPF block probes, or /proc/diskstats when they cannot load (`no_bpf`: never tried).
std::unique_ptr<KernelSource> make_kernel_source(bool no_bpf);

// Every fence action behind the dry-run router. The sysrq reboot records its reason to `sink`,
// stamped by `clock`, before it writes to `sysrq_path`.
// `graceful` configures the graceful reboot (its hardware watchdog backstop).
std::unique_ptr<Executor> make_executor(const std::string& sysrq_path,
                                        const GracefulRebootOptions& graceful, EventSink& sink,
                                        const Clock& clock);

// Looked up once here: the bus thread checks callers against the gid, never through NSS.
AdminGroup admin_group(const std::string& name);

}  // namespace iohealth
