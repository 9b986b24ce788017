#pragma once
// The one-line status systemd shows for the unit (sd_notify STATUS=, `systemctl status`):
// the mode and how many paths are in each verdict, e.g.
// "mode armed, 3 paths: 2 HEALTHY, 1 DEAD".
#include <string>
#include <vector>

#include "dbus/path_status.h"

namespace iohealth {

std::string status_line(const std::string& mode, const std::vector<PathStatus>& paths);

}  // namespace iohealth
