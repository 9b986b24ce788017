#pragma once
// Optional backstop: a hardware watchdog (/dev/watchdog) the daemon keeps alive while its
// pipeline makes progress. If the daemon hangs (for example stuck in D state on dead storage)
// the watchdog resets the host, which is the last fence when nothing else can run.
// Linux watchdog API (Documentation/watchdog/watchdog-api.rst): opening arms it,
// WDIOC_KEEPALIVE pings it, writing 'V' before close ("magic close") disarms it.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/expected.h"

namespace iohealth {

class HardwareWatchdog {
  public:
    // Opens (and so arms) the device, or says why it cannot.
    static Expected<std::unique_ptr<HardwareWatchdog>> open(const std::string& path);
    // Disarms (magic close), so a clean daemon stop never resets the host.
    ~HardwareWatchdog();
    HardwareWatchdog(const HardwareWatchdog&) = delete;
    HardwareWatchdog& operator=(const HardwareWatchdog&) = delete;

    // The error text, or nullopt on success.
    std::optional<std::string> set_timeout(std::chrono::seconds timeout);
    std::optional<std::string> keepalive();
    // Magic close now; later calls do nothing. Returns the error text if 'V' was not written
    // (the watchdog then stays armed, as drivers with nowayout do anyway).
    std::optional<std::string> disarm();
    // Closes without the magic character: the watchdog keeps counting and resets the host
    // when its timeout passes, whatever happens to this process (the graceful reboot's
    // backstop). Later calls do nothing.
    void leave_armed();

  private:
    HardwareWatchdog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

    std::string path_;
    int fd_;
};

}  // namespace iohealth
