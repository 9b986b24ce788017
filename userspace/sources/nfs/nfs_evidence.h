#pragma once
// What one NFS mount's counters mean for one tick, as pure functions of two readings, so the
// derivation is tested without NFS: the kernel evidence (data RPCs) and the facts that tell
// "the server does not answer at all" from "the server answers, but this mount's I/O waits".
#include <cstdint>
#include <optional>
#include <string>

#include "core/evidence.h"
#include "sources/nfs/nfs_mountstats.h"
#include "sources/nfs/nfs_probes.h"

namespace iohealth {

// The transport to a mount's server during one tick, from the probes or from mountstats.
struct NfsTransportTick {
    bool baseline = false;      // first reading: no deltas yet, nothing is claimed
    std::uint64_t replies = 0;  // RPC replies received during the tick
    std::uint32_t waiting = 0;  // RPCs outstanding at the end of the tick (or an estimate)
    std::optional<Duration> oldest_wait;  // age of the oldest of them, when known
    std::optional<TimePoint> last_reply;  // of the server, when known
    std::uint64_t major_timeouts = 0;     // during the tick
    std::uint64_t retransmits = 0;        // during the tick
};

// How recent a reply must be for the server to count as answering: replies come when
// something asks (lease renewals, metadata), not every tick, least of all under load.
inline constexpr Duration kNfsAnswerWindow = std::chrono::seconds(5);

// `server`: the mount's addr= ("127.0.0.1"). server_answering: the server replied during the
// tick, or within kNfsAnswerWindow and after the oldest waiting RPC was sent (a reply from
// before this wait says nothing about it). Set only when something was asked or answered: an
// idle mount says nothing about its server. waiting_on names the server while RPCs are
// outstanding.
StorageFacts nfs_facts(const std::string& server, const NfsTransportTick& t, TimePoint now);

// Kernel evidence of a mount from two readings of the probes. `in_flight`: its data RPCs
// outstanding; `waiting`: every RPC on its transports that has waited longer than a tick
// (a heartbeat hung in OPEN starts no data RPC). `now_ns`: CLOCK_MONOTONIC of the reading.
KernelEvidence nfs_evidence_from_probes(const NfsMountCounters& prev, const NfsMountCounters& cur,
                                        const NfsInFlight& in_flight, const NfsInFlight& waiting,
                                        std::uint64_t now_ns);

// Kernel evidence of a mount from two readings of mountstats (no probes): the data ops' counts
// and errors (soft-mount timeouts as timeouts), their mean latency in one slot (as diskstats),
// and `waiting` (the caller's estimate of RPCs outstanding) as in-flight count.
KernelEvidence nfs_evidence_from_mountstats(const NfsMountStats& prev, const NfsMountStats& cur,
                                            std::uint32_t waiting);

// Without probes, RPCs outstanding are estimated from the transport line: requests sent and
// connection attempts (a request waiting for a connection to a stopped server is not sent at
// all) since the last reply. One reading after another.
class UnansweredEstimate {
  public:
    // Returns the estimate after this tick.
    std::uint32_t update(const NfsXprtStats& prev, const NfsXprtStats& cur);
    std::uint32_t value() const;

  private:
    std::uint64_t sends_ = 0;
    std::uint64_t connects_ = 0;
};

}  // namespace iohealth
