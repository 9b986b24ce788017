#pragma once
// Names the guests in fence step and verdict events. A verdict change (and a fence-imminent
// warning) of a path lists the VMs with a disk on it. A step that acts (anything but log-only,
// dry-run included) is recorded with the VMs it affects and their last known state:
// IOHEALTH_VMS (JSON [{"name", "state"}]), IOHEALTH_VMS_SCOPE ("path" or "host": a reboot
// takes every guest on the host down) and IOHEALTH_VMS_KNOWN ("live", or how old the list is
// while libvirt is unreachable), and the message says it too. So whoever reads "succeeded"
// also reads which VMs were still running. Before a graceful reboot the log names them.
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
    // `clock` ages a stale list.
    VmEventSink(EventSink& out, const Clock& clock) : out_(out), clock_(clock) {}

    // The guests as of this tick (main loop): the host's and each path's. nullopt while VMs
    // are not tracked (no [libvirt] uri): events then pass unchanged. Emitting never asks
    // libvirt; a step recorded from an executor's worker sees the last tick's list.
    void set_vms(std::optional<VmSnapshot> host,
                 std::map<std::string, std::vector<VmOnPath>> by_path);

    void emit(const Event& e) override;

  private:
    EventSink& out_;
    const Clock& clock_;
    std::mutex mutex_;  // the lists below: emit() runs on any thread
    std::optional<VmSnapshot> host_;
    std::map<std::string, std::vector<VmOnPath>> by_path_;
};

}  // namespace iohealth
