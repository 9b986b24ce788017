#pragma once
// Sources only observe. They are polled once per tick from the main loop and must never
// block on storage (a prober thread does the I/O; a source only reads counters).
#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/evidence.h"
#include "core/policy.h"

namespace iohealth {

// Block-layer evidence keyed by device number (major:minor of the whole disk or partition).
class KernelSource {
  public:
    virtual ~KernelSource() = default;
    virtual std::string_view name() const = 0;
    // The devices of interest; a source may ignore the rest (BPF allow-list) or not.
    virtual void set_devices(const std::vector<dev_t>& devices) = 0;
    // Evidence for the tick that ends at `now`: deltas since the previous call. The first
    // call only establishes the baseline and may return zero deltas. A device that vanished
    // is absent from the result.
    virtual std::map<dev_t, KernelEvidence> collect(TimePoint now) = 0;
};

// The device behind a path a storage source handles.
struct ResolvedDevice {
    dev_t dev = 0;     // whose kernel evidence stands for the path
    std::string node;  // "/dev/drbd0" for the block heartbeat; empty when there is none (NFS)
};

// A storage-specific source (DRBD, NFS): knows which configured paths are its own, the
// device whose kernel evidence stands for such a path, and facts per path each tick.
class StorageSource {
  public:
    virtual ~StorageSource() = default;
    virtual std::string_view name() const = 0;
    // The preset its discovered paths get ("drbd", "nfs").
    virtual std::string_view preset() const = 0;
    // Whether this source is responsible for the path (a DRBD resource, a mount on NFS).
    virtual bool handles(const PathConfig& path) const = 0;
    // /dev/drbdN for a DRBD resource, the superblock's anonymous device of an NFS mount.
    // Throws std::runtime_error naming what is missing while it cannot be resolved yet (the
    // daemon retries). Never blocks on storage.
    virtual ResolvedDevice device_of(const PathConfig& path) = 0;
    // Paths this source finds by itself (discovery), with `defaults` as their policy.
    virtual std::vector<PathConfig> discover(const PathPolicy& defaults) = 0;
    // Warnings about the path's policy against the lower layer's own timeouts (DRBD
    // ko-count x timeout, NFS timeo x retrans), logged once when the path resolves.
    virtual std::vector<std::string> check(const PathConfig&) { return {}; }
    // Facts for the tick that ends at `now`, keyed by path name; paths it knows nothing
    // about this tick are absent. Never blocks on storage.
    virtual std::map<std::string, StorageFacts> collect(const std::vector<PathConfig>& paths,
                                                        TimePoint now) = 0;
    // A source with evidence of its own (NFS RPCs) replaces the block evidence of its paths.
    virtual KernelSource* kernel_source() { return nullptr; }
};

}  // namespace iohealth
