#pragma once
// The paths the daemon watches: configured or discovered, the device behind each (looked for
// again while missing), its heartbeat prober, and once per tick its Sample from the sources.
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/source.h"
#include "sources/block/device_identity.h"
#include "sources/block/heartbeat_prober.h"

namespace iohealth {

using StorageSources = std::vector<std::unique_ptr<StorageSource>>;

struct Watched {
    PathConfig config;
    std::optional<dev_t> dev;
    std::unique_ptr<HeartbeatProber> prober;
    TimePoint next_resolve{};
    std::string last_error;
    StorageSource* storage = nullptr;  // the DRBD/NFS source that owns the path, if any
    // Block paths: the device as resolved, and what became of it (logged when it changes).
    std::optional<DeviceIdentity> identity;
    DeviceCheck device;
    std::optional<TimePoint> failure_logged;  // failing_since of the heartbeat failure logged
};

class WatchedPaths {
  public:
    // `storage` (DRBD, NFS) is offered every path first; the block source has the rest.
    WatchedPaths(const StorageSources& storage, const Clock& clock)
        : storage_(storage), clock_(clock) {}
    ~WatchedPaths() { stop(); }
    WatchedPaths(const WatchedPaths&) = delete;
    WatchedPaths& operator=(const WatchedPaths&) = delete;

    // The paths of `config` (or, without [path] sections, the discovered ones), in order. A
    // path whose name and settings are unchanged keeps its device and prober.
    std::vector<PathConfig> set(const DaemonConfig& config);
    // Resolves the devices still missing, reads every source once, and gives each path's
    // sample stamped `now`. `block` has the kernel evidence of the paths no storage source
    // measures itself.
    std::map<std::string, Sample> sample(TimePoint now, KernelSource& block);
    // Stops the heartbeat probers.
    void stop();

    const std::vector<Watched>& paths() const { return watched_; }

  private:
    KernelSource* kernel_of(const Watched& w, KernelSource& block) const;

    const StorageSources& storage_;
    const Clock& clock_;
    std::vector<Watched> watched_;  // in configuration order, as the engine's monitors
    std::map<KernelSource*, std::vector<dev_t>> devices_;  // as last given to each source
};

}  // namespace iohealth
