#pragma once
// iohealthctl's connection to iohealthd: the generated proxy (dbus/iohealth_proxy.h) on the
// system bus (or --bus-address), property reads as JSON, and one mapping from bus errors to
// messages and exit codes.
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <variant>

#include <sdbus-c++/sdbus-c++.h>
#include <nlohmann/json.hpp>

#include "dbus/iohealth_proxy.h"

namespace iohealth::ctl {

// Documented in docs/iohealthctl.1 (EXIT STATUS).
enum ExitCode : int {
    kExitOk = 0,
    kExitFailed = 1,       // the daemon refused or failed the request, or the action failed
    kExitUsage = 2,        // bad command line
    kExitNotRunning = 3,   // iohealthd is not on the bus, or the bus cannot be reached
    kExitAccessDenied = 4  // the request needs root or the admin group
};

// Ends the command: the message for stderr and the exit code.
class Failure : public std::runtime_error {
  public:
    Failure(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    int code() const { return code_; }

  private:
    int code_;
};

// A bus error as a Failure: "Could not <what>: <message>" with the exit code its name implies.
Failure bus_failure(const std::string& what, const sdbus::Error& e, const std::string& bus);

// iohealthd's signals (docs/dbus-api.md), typed as they arrive.
struct VerdictChangedSignal {
    std::string path, old_verdict, verdict, reason;
};
struct EscalationStartedSignal {
    std::string path, reason;
};
struct StepStartedSignal {
    std::string path;
    std::uint64_t id = 0;
    std::int32_t step = 0;  // 0: a RequestFence
    std::string action;
    bool dry_run = false;
};
struct StepFinishedSignal {
    std::string path;
    std::uint64_t id = 0;
    std::int32_t step = 0;
    std::string action;
    bool success = false;
    std::string detail;
};
struct EscalationAvertedSignal {
    std::string path, reason;
};
struct ManagerChangedSignal {  // the Manager's changed properties
    nlohmann::json properties;
};
struct PathAddedSignal {
    std::string path;
};
struct PathRemovedSignal {
    std::string path;
};
using Signal = std::variant<VerdictChangedSignal, EscalationStartedSignal, StepStartedSignal,
                            StepFinishedSignal, EscalationAvertedSignal, ManagerChangedSignal,
                            PathAddedSignal, PathRemovedSignal>;

// One JSON object for `monitor --json`: {"signal": "StepStarted", "path": "disk0", "id": 3, ...}.
nlohmann::json signal_json(const Signal& s);

// Every iohealthd signal (and Manager property change), typed.
class ManagerProxy final
    : public sdbus::ProxyInterfaces<org::iohealth::IoHealth1::Manager_proxy,
                                    sdbus::Properties_proxy, sdbus::ObjectManager_proxy> {
  public:
    using Listener = std::function<void(const Signal&)>;
    explicit ManagerProxy(sdbus::IConnection& connection);
    ~ManagerProxy();
    void listen(Listener listener);

  private:
    void deliver(const Signal& signal);
    void onVerdictChanged(const std::string& path, const std::string& old_verdict,
                          const std::string& verdict, const std::string& reason) override;
    void onEscalationStarted(const std::string& path, const std::string& reason) override;
    void onStepStarted(const std::string& path, const uint64_t& id, const int32_t& step,
                       const std::string& action, const bool& dry_run) override;
    void onStepFinished(const std::string& path, const uint64_t& id, const int32_t& step,
                        const std::string& action, const bool& success,
                        const std::string& detail) override;
    void onEscalationAverted(const std::string& path, const std::string& reason) override;
    void onPropertiesChanged(const std::string& interface,
                             const std::map<std::string, sdbus::Variant>& changed,
                             const std::vector<std::string>& invalidated) override;
    void onInterfacesAdded(
        const sdbus::ObjectPath& object,
        const std::map<std::string, std::map<std::string, sdbus::Variant>>& interfaces) override;
    void onInterfacesRemoved(const sdbus::ObjectPath& object,
                             const std::vector<std::string>& interfaces) override;

    std::mutex mutex_;
    Listener listener_;
};

class Client {
  public:
    // Connects and checks that iohealthd owns its name; Failure(kExitNotRunning) otherwise.
    explicit Client(const std::string& bus_address);

    ManagerProxy& manager() { return *manager_; }
    // Starts the connection's thread, needed only to receive signals.
    void receive_signals() { connection_->enterEventLoopAsync(); }
    const std::string& bus() const { return bus_; }

    // Manager properties: {"version", "mode", "maintenance_until_usec", "mode_source"}.
    nlohmann::json manager_properties();
    // Every path's properties, sorted by name (one GetManagedObjects call).
    nlohmann::json paths();
    // One path's properties; Failure(kExitFailed) naming it when it is not monitored.
    nlohmann::json path(const std::string& name);

  private:
    std::string bus_;  // for messages: "the system bus" or "the bus at ADDR"
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<ManagerProxy> manager_;
};

// Property values (s, t, u, i, b) as JSON, keys in snake case ("LatencyP99USec" ->
// "latency_p99_usec").
nlohmann::json properties_json(const std::map<std::string, sdbus::Variant>& properties);
std::string snake_case(const std::string& property);

}  // namespace iohealth::ctl
