#pragma once
// The status projection: what the bus and `explain`/`histogram` publish of each path, from its
// monitor and what the daemon knows of the path besides (matched by path name).
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/path_monitor.h"
#include "daemon/control.h"

namespace iohealth {

// What the daemon knows of a path outside its monitor.
struct PathContext {
    std::optional<dev_t> dev;   // the device behind it, once resolved
    std::vector<VmStatus> vms;  // the guests with a disk on it, this tick
};

// Each monitor's snapshot at `now`, in the monitors' (configuration) order.
std::vector<PathSnapshot> project_status(const std::vector<std::unique_ptr<PathMonitor>>& monitors,
                                         const std::map<std::string, PathContext>& context,
                                         TimePoint now);

// The one line systemd shows for the unit (sd_notify STATUS=, `systemctl status`): the mode
// and how many paths have each verdict, "mode armed, 3 paths: 2 HEALTHY, 1 DEAD".
std::string status_line(const std::string& mode, const std::vector<PathStatus>& paths);

// Fence-by times move with the realtime/monotonic offset by a microsecond or so from tick
// to tick; milliseconds keep the property from changing when the deadline did not.
std::uint64_t realtime_ms_usec(TimePoint t);

}  // namespace iohealth
