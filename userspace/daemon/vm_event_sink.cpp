#include "daemon/vm_event_sink.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace iohealth {
namespace {

bool is_step(EventType t) {
    return t == EventType::kStepStarted || t == EventType::kStepSucceeded ||
           t == EventType::kStepFailed;
}

// Actions that take the whole host down, and with it every guest on it.
bool host_wide(std::string_view action) {
    return action == to_string(Action::kReboot) || action == to_string(Action::kGracefulReboot);
}

std::string listing(const std::vector<VmOnPath>& vms) {
    std::string out;
    for (const auto& vm : vms)
        out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", vm.name, vm.state);
    return out;
}

}  // namespace

void VmEventSink::set_vms(std::optional<VmSnapshot> host,
                          std::map<std::string, std::vector<VmOnPath>> by_path) {
    std::lock_guard lock(mutex_);
    host_ = std::move(host);
    by_path_ = std::move(by_path);
}

void VmEventSink::emit(const Event& e) {
    const std::string* action = e.field("ACTION");
    const bool fence = is_step(e.type) && action && *action != to_string(Action::kLogOnly);
    const bool verdict =
        (e.type == EventType::kVerdictChanged || e.type == EventType::kFenceImminent) &&
        !e.path.empty();
    std::unique_lock lock(mutex_);
    if (!(fence || verdict) || !host_) {
        lock.unlock();
        out_.emit(e);
        return;
    }
    const VmSnapshot s = *host_;
    const bool host = fence && (e.path.empty() || host_wide(*action));
    std::vector<VmOnPath> vms;
    if (host)
        for (const Vm& vm : s.vms) vms.push_back({vm.name, vm_state_text(vm.state, vm.reason)});
    else if (const auto it = by_path_.find(e.path); it != by_path_.end())
        vms = it->second;
    lock.unlock();

    std::string known = "live";
    if (!s.connected)
        known = s.as_of ? fmt::format("last known {} ago ({})",
                                      format_duration(clock_.now() - *s.as_of), s.error)
                        : fmt::format("never known ({})", s.error);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& vm : vms) list.push_back({{"name", vm.name}, {"state", vm.state}});

    Event annotated = e;
    annotated.fields.emplace_back("VMS", list.dump());
    annotated.fields.emplace_back("VMS_SCOPE", host ? "host" : "path");
    annotated.fields.emplace_back("VMS_KNOWN", known);
    const std::string where = host ? "this host" : "this path";
    const std::string stale = s.connected ? "" : fmt::format(", {}", known);
    if (!vms.empty())
        annotated.message +=
            fmt::format("; VMs on {} (last known state{}): {}", where, stale, listing(vms));
    else if (fence)  // a fence record says so even when it left no VM behind
        annotated.message += fmt::format("; no VMs on {}{}", where, stale);
    if (fence && e.type == EventType::kStepStarted && *action == to_string(Action::kGracefulReboot))
        spdlog::warn("Graceful reboot{}: {} VM(s) on this host, state {}: {}",
                     e.field("DRY_RUN") && *e.field("DRY_RUN") == "1" ? " (dry-run)" : "",
                     vms.size(), known, vms.empty() ? "none" : listing(vms));
    out_.emit(annotated);
}

}  // namespace iohealth
