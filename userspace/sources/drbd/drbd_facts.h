#pragma once
// DRBD state turned into StorageFacts, one resource per path, once per tick. Pure: the DRBD
// source gathers the inputs (events2 state, statistics refreshes, `drbdsetup show`,
// /proc/diskstats) and the clock is passed in, so this is tested in virtual time.
//
// Which wait is whose:
// - lower-pending > 0 on a device: DRBD waits for its backing disk (disk-timeout 0 by
//   default: DRBD never gives up on it). Nothing DRBD-specific to add; the backing disk's
//   numbers go in the note.
// - writes in flight on /dev/drbdN that do not complete while the backing disk has nothing
//   outstanding and the peer owes answers (pending/unacked) or the link is down: the writes
//   wait on the replication link (protocol C acks). DRBD ends that wait itself, dropping the
//   peer after ko-count x timeout (a silent peer after ping-int + ping-timeout), so the facts
//   name the link and that deadline.
// - an advancing resync (out-of-sync falling or done% rising between two statistics
//   refreshes) is proof of life: DRBD moves data through this host's disks.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/evidence.h"
#include "core/time.h"
#include "sources/drbd/drbd_events.h"
#include "sources/drbd/drbd_show.h"

namespace iohealth {

// Resync progress of one resource as of one statistics refresh.
struct DrbdProgress {
    TimePoint at;
    bool resyncing = false;         // a peer-device is SyncSource or SyncTarget
    std::uint64_t out_of_sync = 0;  // KiB, summed over the resyncing peer-devices
    std::optional<double> done;     // percent, the highest (DRBD 9 only)
};

DrbdProgress progress_of(const DrbdResource& r, TimePoint at);

// A disk's activity during one tick, from /proc/diskstats.
struct DiskTick {
    std::uint64_t completed = 0;  // reads + writes + discards + flushes completed
    std::uint64_t writes = 0;     // writes completed
    std::uint64_t in_flight = 0;  // at the end of the tick
};

// Everything known about one resource at the end of a tick.
struct DrbdTick {
    const DrbdResource* state = nullptr;           // nullptr: no such resource (now)
    const DrbdResourceConfig* config = nullptr;    // nullptr: `drbdsetup show` not read yet
    std::optional<TimePoint> state_at;             // when the statistics in `state` were read
    std::optional<DrbdProgress> previous, latest;  // the last two statistics refreshes
    std::optional<DiskTick> device;                // /dev/drbdN
    std::optional<DiskTick> backing;               // its backing disk
    std::string backing_name;                      // "dm-0"
    std::string unavailable;  // why there is no DRBD state at all ("drbdsetup not found")
};

// By when DRBD gives up on a peer that owes write acks, counted from the oldest write it
// owes: ko-count x timeout (DRBD's request timer; a silent peer may go sooner, when a ping
// sent after ping-int of silence gets no answer within ping-timeout). With ko-count 0 only
// the ping rule is left, and a peer that answers pings but not writes is never dropped.
Duration drbd_peer_give_up(const DrbdNetTimeouts& net);
// "ko-count 7 x timeout 6s (a silent peer sooner: ping-int 10s + ping-timeout 500ms)".
std::string drbd_peer_give_up_rule(const DrbdNetTimeouts& net);

class DrbdFacts {
  public:
    // Statistics older than `stale_after` prove nothing (no resync progress, no wait).
    explicit DrbdFacts(Duration stale_after) : stale_after_(stale_after) {}

    StorageFacts update(const std::string& resource, const DrbdTick& tick, TimePoint now);

  private:
    Duration stale_after_;
    // By resource: the first tick of the current run without a write completion on
    // /dev/drbdN while writes are in flight.
    std::map<std::string, TimePoint> writes_stuck_since_;
};

}  // namespace iohealth
