#pragma once
// What the peer decided in one scenario, relative to the fault's start, whether it came from
// real storage (peer_runner.h) or from the model in virtual time (simulate_peer).
#include <optional>
#include <string>
#include <vector>

#include "sidebyside/fault_timeline.h"
#include "sidebyside/peer_model.h"

namespace iohealth::peer {

struct PeerOutcome {
    std::optional<Duration> fence_at;         // `kvmheartbeat.sh -c` ran
    std::optional<Duration> neighbours_dead;  // a neighbour's `-r` first read DEAD
    std::vector<std::string> log;             // the agent's log lines (model time)
};

// Tracks the neighbours' view: their check runs every `every` (one whole second by default,
// the resolution of `date +%s`) and the first DEAD reading is kept. A neighbour that cannot
// read the file (the shared storage itself hangs or fails) gets no DEAD line: its `cat`
// hangs until the checker's timeout, or reads nothing, and the stock check says ALIVE.
class NeighbourWatch {
  public:
    explicit NeighbourWatch(TimePoint origin) : origin_(origin) {}
    void check(const PeerModel& model, TimePoint now, bool neighbour_reads = true) {
        if (!first_dead_ && now >= origin_ && neighbour_reads && model.reader_says_dead(now))
            first_dead_ = now - origin_;
    }
    std::optional<Duration> first_dead() const { return first_dead_; }

  private:
    TimePoint origin_;
    std::optional<Duration> first_dead_;
};

// The peer on storage that follows `steps` (from `origin`), started `warmup` before it, for
// `length` after it: the KVMHAMonitor loop against the faultfs semantics, in virtual time.
// `shared`: the fault is on the storage the neighbours read too (a shared-storage outage),
// not only on this host's path to it.
PeerOutcome simulate_peer(const std::vector<FaultStep>& steps, const PeerTimings& timings,
                          Duration warmup, Duration length, unsigned seed = 1, bool shared = false);

}  // namespace iohealth::peer
