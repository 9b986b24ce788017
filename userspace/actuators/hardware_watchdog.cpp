#include "actuators/hardware_watchdog.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/watchdog.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace iohealth {

Expected<std::unique_ptr<HardwareWatchdog>> HardwareWatchdog::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return Expected<std::unique_ptr<HardwareWatchdog>>::failure(
            fmt::format("Failed to open '{}': {}", path, strerror(errno)));
    return std::unique_ptr<HardwareWatchdog>(new HardwareWatchdog(path, fd));
}

HardwareWatchdog::~HardwareWatchdog() {
    disarm();
}

std::optional<std::string> HardwareWatchdog::set_timeout(std::chrono::seconds timeout) {
    int seconds = int(timeout.count());
    if (ioctl(fd_, WDIOC_SETTIMEOUT, &seconds) != 0)
        return fmt::format("Failed to set the timeout of '{}' to {}s: {}", path_, timeout.count(),
                           strerror(errno));
    return std::nullopt;
}

std::optional<std::string> HardwareWatchdog::keepalive() {
    if (fd_ < 0) return fmt::format("Failed to ping '{}': already disarmed", path_);
    if (ioctl(fd_, WDIOC_KEEPALIVE, 0) != 0)
        return fmt::format("Failed to ping '{}': {}", path_, strerror(errno));
    return std::nullopt;
}

std::optional<std::string> HardwareWatchdog::disarm() {
    if (fd_ < 0) return std::nullopt;
    std::optional<std::string> error;
    if (write(fd_, "V", 1) != 1)
        error = fmt::format("Failed to disarm '{}': {}", path_, strerror(errno));
    close(fd_);
    fd_ = -1;
    return error;
}

void HardwareWatchdog::leave_armed() {
    if (fd_ < 0) return;
    close(fd_);
    fd_ = -1;
}

}  // namespace iohealth
