#pragma once
// This host's guests, from libvirt: which domains run, their state, where their disks live,
// and the I/O errors their disks report. A thread of its own runs libvirt's event loop, holds
// the connection (read-only, with keepalive) and reconnects with backoff when it drops; the
// main loop only copies the snapshot, so a libvirtd that hangs never delays a tick.
//
// One LibvirtSource per process: libvirt's default event loop is process-wide and run by one
// thread.
#include <libvirt/libvirt.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "sources/libvirt/libvirt_vm.h"

namespace iohealth {

using namespace std::chrono_literals;

class LibvirtSource {
  public:
    struct Options {
        std::string uri = "qemu:///system";
        Duration retry_min = 1s;  // reconnect backoff: doubles per failure up to retry_max
        Duration retry_max = 30s;
        // A connect attempt that has not returned by then (a libvirtd stopped with SIGSTOP,
        // a socket nobody answers) is given up: the source says so and retries after the
        // backoff. The attempt's thread is left to return by itself, one at a time.
        Duration connect_timeout = 10s;
        Duration resync = 60s;         // full re-read of the guest list (events cover the rest)
        int keepalive_interval_s = 5;  // libvirt closes the connection after
        unsigned keepalive_count = 3;  // interval x count without an answer
        std::size_t io_error_history = 256;  // events kept for the main loop to collect
    };

    LibvirtSource(Options options, const Clock& clock);
    ~LibvirtSource();
    LibvirtSource(const LibvirtSource&) = delete;
    LibvirtSource& operator=(const LibvirtSource&) = delete;

    void start();
    void stop();  // idempotent; joins the thread and closes the connection

    // A copy, with the I/O-error events after `io_errors_after` only (the main loop copies
    // what it has not counted yet; pass kNoIoErrors for the guests alone).
    static constexpr std::uint64_t kNoIoErrors = UINT64_MAX;
    VmSnapshot snapshot(std::uint64_t io_errors_after = 0) const;

    // libvirt's event callbacks; `opaque` is the source. Public so that tests can drive them
    // with a domain of the test:/// driver, which never raises I/O errors by itself.
    static void on_io_error(virConnectPtr conn, virDomainPtr dom, const char* src_path,
                            const char* dev_alias, int action, const char* reason, void* opaque);
    static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                            void* opaque);

  private:
    static void on_device_changed(virConnectPtr conn, virDomainPtr dom, const char* alias,
                                  void* opaque);
    static void on_close(virConnectPtr conn, int reason, void* opaque);

    struct ConnectAttempt;  // shared with the thread that calls virConnectOpenReadOnly

    void run();
    // Starts an attempt, or takes the result of the one under way; false while there is no
    // connection (yet).
    bool connect(TimePoint now);
    bool connected(virConnectPtr conn);
    // Why there is no VM list now, once per distinct reason: one message for every outage.
    void outage(const std::string& why);
    void disconnect(const std::string& why);
    void refresh_all();
    void refresh_pending();
    bool read_vm(virDomainPtr dom, Vm& vm, std::string& error);
    void mark_changed(virDomainPtr dom);
    void set_error(const std::string& error);

    const Options options_;
    const Clock& clock_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> closed_{false};  // libvirt reported the connection closed
    int wake_fd_ = -1;                 // eventfd: stop() wakes the event loop

    // The thread's own: the connection and its callback registrations.
    virConnectPtr conn_ = nullptr;
    std::vector<int> callbacks_;
    bool close_callback_ = false;
    TimePoint next_attempt_{};
    std::shared_ptr<ConnectAttempt> attempt_;  // the connect under way, if any
    std::string outage_logged_;                // the outage last logged
    Duration backoff_{0};
    TimePoint next_resync_{};

    mutable std::mutex mutex_;  // everything below
    VmSnapshot snapshot_;
    std::set<std::string> changed_;  // uuids whose state or disks must be re-read
    std::uint64_t seq_ = 0;
    // When each guest/disk/reason's I/O error was last logged (qemu may report thousands).
    std::map<std::string, TimePoint> io_error_logged_;
};

}  // namespace iohealth
