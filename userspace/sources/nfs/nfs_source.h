#pragma once
// NFS mounts as paths: a StorageSource (which paths are NFS mounts, their superblock device,
// discovery, the start-up timeout check, facts about the server) that is also the KernelSource
// of those paths: an NFS mount has no block device, its RPCs are its kernel evidence.
//
// Each tick reads /proc/self/mountinfo (libmount, strings only), /proc/self/mountstats and,
// when nfs.ko and sunrpc.ko are loaded with BTF, the NFS probes (bpf/nfs.bpf.c). None of them
// touches a mount, so a hung server never blocks the main loop. Without the probes mountstats
// is the evidence (data ops completed, their mean latency, an estimate of RPCs outstanding).
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/source.h"
#include "sources/nfs/nfs_evidence.h"
#include "sources/nfs/nfs_mounts.h"
#include "sources/nfs/nfs_mountstats.h"

namespace iohealth {

class NfsProbes;

class NfsSource final : public StorageSource, public KernelSource {
  public:
    struct Options {
        std::string mountinfo = "/proc/self/mountinfo";
        std::string mountstats = "/proc/self/mountstats";
        std::string btf_dir = "/sys/kernel/btf";
        bool probes = true;  // false (--no-bpf): mountstats only
    };
    explicit NfsSource(Options options);
    NfsSource() : NfsSource(Options{}) {}
    ~NfsSource() override;

    std::string_view name() const override { return "nfs"; }
    std::string_view preset() const override { return "nfs"; }
    // A `mount` path whose target is an NFS mount now, or is not mounted at all and has the
    // nfs preset (it is resolved once it is mounted). A mount of another filesystem is not.
    bool handles(const PathConfig& path) const override;
    // The superblock's device (mountinfo field 3); no heartbeat node (the filesystem heartbeat
    // writes below the mount point).
    ResolvedDevice device_of(const PathConfig& path) override;
    // Every NFS mount, named "nfs" + its mount point ("/mnt/a b" -> "nfs-mnt-a_b").
    std::vector<PathConfig> discover(const PathPolicy& defaults) override;
    // The client's timeo/retrans/hard against the path's dead_after (nfs_mounts.h).
    std::vector<std::string> check(const PathConfig& path) override;
    std::map<std::string, StorageFacts> collect(const std::vector<PathConfig>& paths,
                                                TimePoint now) override;
    KernelSource* kernel_source() override { return this; }

    void set_devices(const std::vector<dev_t>& devices) override;
    std::map<dev_t, KernelEvidence> collect(TimePoint now) override;

    // Whether the probes are loaded (else: why not, from the last attempt).
    bool probes_loaded() const { return probes_ != nullptr; }
    const std::string& probes_unavailable_reason() const { return probes_reason_; }

  private:
    struct MountState {
        bool seen = false;  // a reading exists: the next one has deltas
        NfsMountCounters probe_counters;
        std::optional<NfsMountStats> stats;
        UnansweredEstimate unanswered;
        std::optional<TimePoint> last_reply;  // mountstats only: the tick recvs advanced
        KernelEvidence evidence;
        StorageFacts facts;
    };

    // Reads everything once per tick (both collect() calls use it).
    void refresh(TimePoint now);
    void try_load_probes(TimePoint now);
    std::vector<NfsMount> read_mounts() const;
    void warn_once(const std::string& message);

    Options options_;
    std::unique_ptr<NfsProbes> probes_;
    std::string probes_reason_;
    std::optional<TimePoint> next_probe_attempt_;
    std::optional<TimePoint> refreshed_at_;
    std::optional<std::uint64_t> previous_reading_ns_;  // CLOCK_MONOTONIC
    std::vector<NfsMount> mounts_;
    std::set<dev_t> devices_;
    std::map<dev_t, MountState> state_;                         // by superblock device
    std::map<std::uint64_t, NfsTransportCounters> transports_;  // the last probe reading
    bool first_transport_reading_ = true;
    std::set<std::string> warned_;
};

}  // namespace iohealth
