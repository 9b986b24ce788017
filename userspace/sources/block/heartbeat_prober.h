#pragma once
// The active heartbeat of one path: a thread that does one small O_DIRECT I/O every
// `interval` and publishes what happened. It measures and never decides (sanlock's renewal
// thread publishes last attempt/success/result; check_our_lease decides elsewhere).
//
// A probe that hangs is never cancelled, timed out or re-spawned: there is at most one
// outstanding probe per path, and its age (now - pending_since) is the evidence. The main
// loop only calls snapshot(), which never blocks on storage.
#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "core/evidence.h"
#include "core/time.h"

namespace iohealth {

class HeartbeatProber {
  public:
    enum class Kind {
        // pread of 4 KiB at `read_offset` of the device node (O_DIRECT: never the page cache).
        kBlockDevice,
        // write of `heartbeat_file` below the `target` directory (a mount point), then
        // fdatasync. Opened O_DIRECT|O_DSYNC, or O_DSYNC alone where the filesystem refuses
        // O_DIRECT (tmpfs); the fdatasync then does the work.
        kFilesystem,
    };

    struct Options {
        Kind kind = Kind::kBlockDevice;
        std::string target;  // "/dev/drbd1000", or a mount point for kFilesystem
        // kFilesystem: relative to `target`; missing directories are created. Its content is
        // the wall-clock epoch seconds and "\n", the CloudStack KVMHA/hb-<ip> format.
        std::string heartbeat_file = ".iohealth-heartbeat";
        off_t read_offset = 0;                        // kBlockDevice; a multiple of 4096
        Duration interval = std::chrono::seconds(2);  // start to start
        // How long stop() waits for an outstanding probe before it leaves the thread behind.
        Duration stop_grace = std::chrono::milliseconds(200);
    };

    static constexpr std::size_t kProbeBytes = 4096;

    // `clock` stamps the evidence (SteadyClock in the daemon) and must outlive stop().
    HeartbeatProber(Options options, const Clock& clock);
    HeartbeatProber(const HeartbeatProber&) = delete;
    HeartbeatProber& operator=(const HeartbeatProber&) = delete;
    ~HeartbeatProber();

    // Starts the probe thread; the first probe starts at once. Once only.
    void start();
    // Stops probing. Never hangs: a thread stuck in a probe (a read in D state cannot be
    // interrupted) is detached after `stop_grace` and left to finish on its own, as sanlock
    // keeps a timed-out aio and its buffer until the kernel returns them. That thread owns
    // its buffer and file descriptor and touches only state shared with it by reference
    // count, never `this` or the clock, so it outlives the prober safely. A process exiting
    // with such a thread still stuck waits in the kernel for that I/O like any other task.
    void stop();

    // The evidence now: state, last success, pending-since, the last error. Copied under a
    // mutex that the probe thread never holds across I/O.
    HeartbeatEvidence snapshot() const;
    // False when the filesystem refused O_DIRECT and probes use O_DSYNC alone.
    bool direct_io() const;
    const Options& options() const { return options_; }

    struct State;  // shared with the probe thread

  private:
    Options options_;
    const Clock& clock_;
    std::shared_ptr<State> state_;
    std::thread thread_;
};

}  // namespace iohealth
