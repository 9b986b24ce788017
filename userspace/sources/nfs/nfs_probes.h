#pragma once
// The NFS eBPF probes (bpf/nfs.bpf.c): per mount, the data RPCs (READ, WRITE, COMMIT) with
// their latency; per transport to an NFS server, every NFS RPC in flight, replies, major and
// minor timeouts and retransmits. Readings are cumulative since load; the caller takes deltas.
//
// nfs.ko and sunrpc.ko are modules: their tracepoints and types exist only once NFS is in use,
// so make() refuses (with the reason) until /sys/kernel/btf/{nfs,sunrpc} are there. Attaching
// pins both modules (`rmmod nfs` fails with EBUSY while the daemon runs).
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/expected.h"
#include "core/histogram.h"
#include "sources/bpf/dev_stats.h"

namespace iohealth {

// Sums over CPUs for one mount (kernel dev_t of its superblock); latency: read, write, commit.
using NfsMountCounters = DevStatsTotals;

// Sums over CPUs for one transport.
struct NfsTransportCounters {
    std::string server;  // the server's address as inet_ntop prints it ("127.0.0.1", "fd00::1")
    std::uint64_t replies = 0;
    std::uint64_t last_reply_ns = 0;  // CLOCK_MONOTONIC, 0: none since the transport was seen
    std::uint64_t major_timeouts = 0;
    std::uint64_t minor_timeouts = 0;
    std::uint64_t retransmits = 0;
};

struct NfsInFlight {
    std::uint32_t count = 0;
    std::uint64_t oldest_start_ns = 0;  // CLOCK_MONOTONIC
};

struct NfsReading {
    std::map<std::uint32_t, NfsMountCounters> mounts;          // by kernel dev_t
    std::map<std::uint32_t, NfsInFlight> data_in_flight;       // by kernel dev_t
    std::map<std::uint64_t, NfsTransportCounters> transports;  // by transport id
    // By transport id: RPCs that started before the reading's `rpcs_started_before_ns`.
    std::map<std::uint64_t, NfsInFlight> rpcs_in_flight;
};

// What the probes could not account for, summed since load (bpf/iohealth.h enum ioh_diag).
struct NfsDiagnostics {
    std::uint64_t inflight_update_failed = 0;  // an in-flight table was full: no age for those
    std::uint64_t device_update_failed = 0;    // the per-mount table was full
};

class NfsProbes {
  public:
    // Loaded and attached probes, or why not. `btf_dir` is where the kernel publishes module
    // BTF (tests point it elsewhere).
    static Expected<std::unique_ptr<NfsProbes>> make(
        const std::string& btf_dir = "/sys/kernel/btf");

    ~NfsProbes();
    NfsProbes(const NfsProbes&) = delete;
    NfsProbes& operator=(const NfsProbes&) = delete;

    // `rpcs_started_before_ns` (CLOCK_MONOTONIC): only RPCs older than that count as in
    // flight on their transport (the caller passes its previous reading's time: an RPC
    // outstanding at two readings in a row is waiting, not merely in progress).
    NfsReading read(std::uint64_t rpcs_started_before_ns) const;
    // A mount went away: drop its counters and in-flight entries (the probes would otherwise
    // keep them until the table is full).
    void forget_mount(std::uint32_t kdev);
    NfsDiagnostics diagnostics() const;

  private:
    struct Skeleton;
    explicit NfsProbes(std::unique_ptr<Skeleton> skel, int ncpus);

    std::unique_ptr<Skeleton> skel_;
    int ncpus_ = 0;
};

}  // namespace iohealth
