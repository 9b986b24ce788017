#pragma once
// What the service publishes: plain values the daemon fills once per tick. No daemon types,
// so the bus layer never reaches into the classifier or the escalation engine.
#include <cstdint>
#include <string>
#include <vector>

namespace iohealth {

// A guest with a disk on the path.
struct VmStatus {
    std::string name;
    std::string state;  // "running", "paused (I/O error)", ...
    bool operator==(const VmStatus&) const = default;
};

struct PathStatus {
    std::string name;     // the path's id (config/discovery name)
    std::string kind;     // device | mount | drbd
    std::string target;   // /dev/sdX, a mount point, a DRBD resource
    std::string verdict;  // HEALTHY ... DEAD (core/verdict.h names)
    std::string reason;   // the verdict's one-line reason
    std::uint64_t latency_p50_usec = 0;
    std::uint64_t latency_p99_usec = 0;
    std::uint32_t in_flight = 0;
    std::uint64_t oldest_age_usec = 0;     // oldest outstanding request
    std::uint64_t heartbeat_age_usec = 0;  // since the last successful probe
    std::uint64_t errors = 0;              // failed I/Os over the explain window
    std::int32_t escalation_step = 0;      // 1-based ladder step; 0 = not escalating
    std::uint64_t fence_by_usec = 0;       // CLOCK_REALTIME us of the next step; 0 = none
    std::vector<VmStatus> vms;             // by name

    bool operator==(const PathStatus&) const = default;
};

struct ManagerStatus {
    std::string mode = "dry-run";              // dry-run | armed | disarmed | maintenance
    std::uint64_t maintenance_until_usec = 0;  // CLOCK_REALTIME us; 0 = not in maintenance
    // config (the configuration or --mode), runtime (a change kept across restarts), or
    // maintenance (a window, until maintenance_until_usec)
    std::string mode_source = "config";
    // The VM lists' source: off (no [libvirt] uri), connected, or unreachable (the lists are
    // the last known ones); and when the lists were last known current (CLOCK_REALTIME us; 0 =
    // never).
    std::string libvirt_state = "off";
    std::uint64_t vms_updated_usec = 0;

    bool operator==(const ManagerStatus&) const = default;
};

}  // namespace iohealth
