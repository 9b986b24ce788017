#pragma once
// iohealthd's bus service: the manager object (with ObjectManager) and one object per path.
// It publishes what the daemon hands it and forwards requests to a ControlHandler.
//
// Threads: bus calls run on the connection's event-loop thread (enterEventLoopAsync()); the
// daemon calls update()/set_manager()/emit_*() from its own loop thread, one thread at a
// time (sdbus-c++ 1.2 allows emitting and creating/destroying objects from another thread).
// The service holds its own locks only around copies of plain values, never across a bus
// call, so neither side can deadlock the other.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dbus/admin_group.h"
#include "dbus/control_handler.h"
#include "dbus/path_status.h"

namespace sdbus {
class IConnection;
}

namespace iohealth {

// The longest reason SetMode and RequestFence take: a sentence for the journal, not a file.
inline constexpr std::size_t kMaxReasonBytes = 1024;
// RequestHeartbeatFence's pool: a few entries, keys as short as names, values up to PATH_MAX.
inline constexpr std::size_t kMaxPoolEntries = 16;
inline constexpr std::size_t kMaxNameBytes = 64;
inline constexpr std::size_t kMaxPoolValueBytes = 4096;

class BusService {
  public:
    // Exports the manager object. The caller then takes the name
    // (connection.requestName(kBusName): objects first, so no client sees an empty service) and
    // runs the connection's event loop. The changing methods are for root and for the
    // members of `admin` (its gid; none: root only).
    BusService(sdbus::IConnection& connection, ControlHandler& handler, std::string version,
               AdminGroup admin = {});
    ~BusService();
    BusService(const BusService&) = delete;
    BusService& operator=(const BusService&) = delete;

    // The whole set of paths, once per tick: a new name gets an object (InterfacesAdded), a
    // missing one loses it (InterfacesRemoved), and each object emits one PropertiesChanged
    // naming the properties whose value changed (nothing when none did).
    void update(const std::vector<PathStatus>& paths);
    void set_manager(const ManagerStatus& status);

    void emit_verdict_changed(const std::string& path, const std::string& old_verdict,
                              const std::string& verdict, const std::string& reason);
    void emit_escalation_started(const std::string& path, const std::string& reason);
    void emit_step_started(const std::string& path, std::uint64_t id, int step,
                           const std::string& action, bool dry_run);
    void emit_step_finished(const std::string& path, std::uint64_t id, int step,
                            const std::string& action, bool success, const std::string& detail);
    void emit_escalation_averted(const std::string& path, const std::string& reason);

    class Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace iohealth
