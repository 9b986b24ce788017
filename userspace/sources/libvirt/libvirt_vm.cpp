#include "sources/libvirt/libvirt_vm.h"

#include <libvirt/libvirt.h>

#include <array>
#include <string_view>

namespace iohealth {

std::string vm_state_text(int state, int reason) {
    static constexpr std::array<std::string_view, 8> kStates{"no state", "running",     "idle",
                                                             "paused",   "in shutdown", "shut off",
                                                             "crashed",  "pmsuspended"};
    static constexpr std::array<std::string_view, 14> kPausedReasons{
        "unknown",   "user",        "migrating",     "saving",          "dumping",
        "I/O error", "watchdog",    "from snapshot", "shutting down",   "creating snapshot",
        "crashed",   "starting up", "post-copy",     "post-copy failed"};
    if (state < 0 || std::size_t(state) >= kStates.size()) return "unknown";
    std::string text(kStates[std::size_t(state)]);
    if (state == VIR_DOMAIN_PAUSED && reason >= 0 && std::size_t(reason) < kPausedReasons.size())
        text += " (" + std::string(kPausedReasons[std::size_t(reason)]) + ")";
    return text;
}

bool paused_on_io_error(const Vm& vm) {
    return vm.state == VIR_DOMAIN_PAUSED && vm.reason == VIR_DOMAIN_PAUSED_IOERROR;
}

std::string io_error_reason_text(std::string_view reason) {
    if (reason.empty()) return "I/O error (no reason given by the hypervisor)";
    return std::string(reason);
}

}  // namespace iohealth
