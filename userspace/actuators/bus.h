#pragma once
// What the executors that talk to systemd over D-Bus share: the connection, the waiting and
// the error text. Each action opens its own connection on the executor's worker thread and
// uses it only there, so no sdbus-c++ 1.2 event-loop thread and no cross-thread bus use.
#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

namespace iohealth {

inline constexpr const char* kSystemdService = "org.freedesktop.systemd1";
inline constexpr const char* kSystemdPath = "/org/freedesktop/systemd1";
inline constexpr const char* kSystemdManager = "org.freedesktop.systemd1.Manager";
inline constexpr const char* kLogindService = "org.freedesktop.login1";
inline constexpr const char* kLogindPath = "/org/freedesktop/login1";
inline constexpr const char* kLogindManager = "org.freedesktop.login1.Manager";

// Empty address: the system bus (sd-bus honours $DBUS_SYSTEM_BUS_ADDRESS); otherwise the bus
// at that address (tests: a private dbus-daemon).
std::unique_ptr<sdbus::IConnection> connect_bus(const std::string& address);

// "org.freedesktop.systemd1.NoSuchUnit: Unit x.service not found."
std::string error_text(const sdbus::Error& e);

// Dispatches incoming messages (signal callbacks run here) until `done()` holds, the deadline
// passes or a stop is requested. Returns done().
bool process_until(sdbus::IConnection& connection, const std::function<bool()>& done,
                   std::chrono::steady_clock::time_point deadline, std::stop_token stop);

}  // namespace iohealth
