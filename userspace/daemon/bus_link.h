#pragma once
// iohealthd's link to the bus: it owns the connection and the BusService on it, runs the
// event loop on a thread of its own, and outlives the bus. When the connection drops
// (dbus-daemon stopped or restarted, or the bus disconnected the daemon) the thread logs it,
// tears the service down and reconnects with backoff; a new connection gets the last
// published state before it takes the name (objects first, so no client sees an empty
// service). Monitoring and fencing never wait for it: while the link is down, publishing and
// signals are skipped, and no exception leaves any of its methods or its thread.
//
// Threads: the daemon loop calls update() and with_service(); the link's thread dispatches
// bus calls (on the connection, never holding the link's lock) and is the only one that
// creates or destroys a connection, under the lock.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dbus/admin_group.h"
#include "dbus/control_handler.h"
#include "dbus/path_status.h"

namespace sdbus {
class IConnection;
}

namespace iohealth {

class BusService;

class BusLink {
  public:
    // Reconnect attempts wait kFirstRetry, doubling up to kMaxRetry.
    static constexpr std::chrono::milliseconds kFirstRetry{250};
    static constexpr std::chrono::milliseconds kMaxRetry{5000};

    BusLink(ControlHandler& handler, std::string version, AdminGroup admin);
    ~BusLink();  // stop(), then the service and the connection go
    BusLink(const BusLink&) = delete;
    BusLink& operator=(const BusLink&) = delete;

    // The first connection, on the calling thread: connects to the system bus
    // ($DBUS_SYSTEM_BUS_ADDRESS), exports the objects and takes the name.
    struct Attempt {
        bool connected = false;  // the bus answered (false: no bus at that address)
        bool published = false;  // objects exported and the name is ours
        std::string error;       // why not, when !published
    };
    Attempt connect();
    // Starts the thread: it serves the connection and reconnects whenever it is lost (also
    // when connect() failed: a bus that appears later is joined).
    void start();
    // Stops the thread; the connection stays, so replies still waiting can go out.
    void stop();

    // Daemon loop: the state to publish; kept for the next connection.
    void update(const std::vector<PathStatus>& paths, const ManagerStatus& manager);
    // Daemon loop: `send` on the service while connected; a failure is logged, never thrown.
    void with_service(const char* what, const std::function<void(BusService&)>& send);

  private:
    struct Connection;  // a connection and the service on it
    std::unique_ptr<Connection> open(Attempt& attempt);
    void run(std::stop_token stop);
    // Dispatches until the connection is lost (returns why) or a stop (returns "").
    std::string serve(sdbus::IConnection& connection, std::stop_token stop);
    bool sleep(std::chrono::milliseconds wait, std::stop_token stop);
    void wake();

    ControlHandler& handler_;
    const std::string version_;
    const AdminGroup admin_;
    const int wake_fd_;  // eventfd: stop, or output queued by another thread

    std::mutex mutex_;  // everything below
    std::unique_ptr<Connection> current_;
    std::vector<PathStatus> paths_;
    ManagerStatus manager_;
    bool failing_ = false;  // a send failed on the current connection (logged once)

    std::jthread thread_;  // last: stopped before the rest goes
};

}  // namespace iohealth
