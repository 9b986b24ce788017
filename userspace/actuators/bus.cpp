#include "actuators/bus.h"

#include <poll.h>

#include <algorithm>

namespace iohealth {

std::unique_ptr<sdbus::IConnection> connect_bus(const std::string& address) {
    if (address.empty()) return sdbus::createSystemBusConnection();
    return sdbus::createSessionBusConnectionWithAddress(address);
}

std::string error_text(const sdbus::Error& e) {
    if (e.getMessage().empty()) return e.getName();
    return e.getName() + ": " + e.getMessage();
}

bool process_until(sdbus::IConnection& connection, const std::function<bool()>& done,
                   std::chrono::steady_clock::time_point deadline, std::stop_token stop) {
    using namespace std::chrono;
    // Wake at least this often to notice a stop request.
    constexpr milliseconds kStopCheck{100};
    for (;;) {
        while (!done() && connection.processPendingRequest()) {
        }
        if (done()) return true;
        const auto now = steady_clock::now();
        if (now >= deadline || stop.stop_requested()) return false;
        const auto pd = connection.getEventLoopPollData();
        auto wait = std::min(ceil<milliseconds>(deadline - now), kStopCheck);
        if (const auto bus_wait = pd.getRelativeTimeout())
            wait = std::min(wait, ceil<milliseconds>(*bus_wait));
        pollfd pfd{pd.fd, pd.events, 0};
        poll(&pfd, 1, int(wait.count()));
    }
}

}  // namespace iohealth
