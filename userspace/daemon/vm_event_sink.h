#pragma once
// Names the guests in fence step and verdict events. A verdict change (and a fence-imminent
// warning) of a path lists the VMs with a disk on it. A step that acts (anything but log-only,
// dry-run included) is recorded with the VMs it affects and their last known state:
// IOHEALTH_VMS (JSON [{"name", "state"}]), IOHEALTH_VMS_SCOPE ("path" or "host": a reboot
// takes every guest on the host down) and IOHEALTH_VMS_KNOWN ("live", or how old the list is
// while libvirt is unreachable), and the message says it too. So whoever reads "succeeded"
// also reads which VMs were still running. Before a graceful reboot the log names them.
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "journal/event_sink.h"
#include "sources/libvirt/libvirt_path_vms.h"
#include "sources/libvirt/libvirt_vm.h"

namespace iohealth {

class VmEventSink final : public EventSink {
  public:
    // `snapshot` is called from whichever thread emits (the sysrq step records from its
    // worker) and gives nullopt while VMs are not tracked (no [libvirt] uri): events then pass
    // unchanged. `clock` ages a stale list.
    using Snapshot = std::function<std::optional<VmSnapshot>()>;
    VmEventSink(EventSink& out, Snapshot snapshot, const Clock& clock)
        : out_(out), snapshot_(std::move(snapshot)), clock_(clock) {}

    // Each path's guests, from this tick (main loop).
    void set_path_vms(std::map<std::string, std::vector<VmOnPath>> by_path);
    std::vector<VmOnPath> path_vms(const std::string& path) const;

    void emit(const Event& e) override;

  private:
    EventSink& out_;
    const Snapshot snapshot_;
    const Clock& clock_;
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<VmOnPath>> by_path_;
};

}  // namespace iohealth
