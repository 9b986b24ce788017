#pragma once
// The evidence model: what the sources saw on one path during one tick. Sources fill it,
// nobody else writes it; the classifier only reads it. Counts are deltas for the tick,
// gauges are values at the end of the tick.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.h"
#include "core/time.h"

namespace iohealth {

struct ErrorCounts {
    std::uint64_t io = 0;  // EIO and other media/transport errors
    std::uint64_t timeout =
        0;  // the lower layer gave up on a request (BLK_STS_TIMEOUT, NFS major timeout)
    std::uint64_t other = 0;  // anything else the source could not classify

    std::uint64_t total() const { return io + timeout + other; }
    bool operator==(const ErrorCounts&) const = default;
};

enum class IoDirection { kRead, kWrite };
std::string_view to_string(IoDirection d);

// Block layer (BPF or /proc/diskstats) or the NFS client (RPCs), whichever the path has.
struct KernelEvidence {
    bool available = false;       // false: no kernel source for this path this tick
    std::uint64_t issued = 0;     // requests started during the tick
    std::uint64_t completed = 0;  // requests finished during the tick, errors included
    ErrorCounts errors;           // of `completed`, how many failed
    std::uint64_t bytes = 0;
    LatencyHistogram latency;     // completions during the tick
    std::uint32_t in_flight = 0;  // outstanding at the end of the tick
    // When the source knows them exactly (BPF); otherwise the tick time is used.
    std::optional<TimePoint> last_completion;
    std::optional<Duration> oldest_in_flight_age;
    std::optional<IoDirection> oldest_in_flight_direction;  // of that request

    std::uint64_t succeeded() const {
        return completed > errors.total() ? completed - errors.total() : 0;
    }
    bool operator==(const KernelEvidence&) const = default;
};

enum class ProbeState { kAbsent, kIdle, kPending };

// The active heartbeat: one O_DIRECT 4 KiB probe at a time, never cancelled.
struct HeartbeatEvidence {
    ProbeState state = ProbeState::kAbsent;  // kAbsent: no prober on this path
    std::optional<TimePoint> last_success;   // end of the last probe that succeeded
    std::optional<TimePoint> pending_since;  // start of the probe now outstanding
    std::optional<TimePoint>
        failing_since;           // start of the first failed probe since the last success
    bool last_failed = false;    // the last finished probe failed
    std::string last_error;      // its error text ("EIO", "short write", ...)
    Duration last_latency{0};    // of the last finished probe
    std::uint64_t failures = 0;  // consecutive failed probes

    bool operator==(const HeartbeatEvidence&) const = default;
};

// What became of the block device behind a path since it was resolved
// (sources/block/device_identity.h).
enum class DeviceFate {
    kPresent,             // the device it was resolved to (or nothing known)
    kLost,                // gone: removed, or a loop device detached from its file
    kReplaced,            // another device at the same node: number, backing file or serial
    kBackingFileDeleted,  // a loop device's file was deleted: it reads on until detached
};
std::string_view to_string(DeviceFate f);
std::optional<DeviceFate> device_fate_from_string(std::string_view s);
// "device lost: loop3 was detached from /srv/a.img", or "" for kPresent.
std::string describe_device(DeviceFate fate, std::string_view detail);

// Facts only a storage-specific source knows (DRBD, NFS, libvirt). Defaults mean "nothing
// known", so a path without such a source classifies exactly as before.
struct StorageFacts {
    bool resync_active = false;     // DRBD SyncSource/SyncTarget
    bool resync_advancing = false;  // out-of-sync fell / done% rose since the last tick
    bool io_suspended = false;      // DRBD suspended (user, quorum, no-data, fencing)
    std::string suspended_reason;
    bool quorum_lost = false;
    // The component outstanding I/O is waiting on, when the source can tell ("replication
    // link r0 to 127.0.0.2:7790", "NFS server 10.0.0.5"). Names it in the verdict.
    std::string waiting_on;
    // The lower layer ends that wait by itself at this time (DRBD drops a silent peer after
    // ko-count x timeout and continues locally): DEAD is not declared before it.
    std::optional<TimePoint> lower_layer_deadline;
    std::string lower_layer_rule;  // how the deadline was derived ("ko-count 7 x timeout 6s")
    // NFS: did the server answer anything (any RPC reply on the mount's transport) during the
    // tick. Unknown when no source can tell. Tells "server down" from "this host is stuck".
    std::optional<bool> server_answering;
    std::optional<TimePoint> server_last_reply;
    std::string note;  // free text for explain ("peer r0:node2 silent 12s")
    // libvirt: guests with a disk image on this path (sources/libvirt/libvirt_path_vms.h).
    std::uint64_t vm_io_errors = 0;  // their disks' I/O-error events during the tick
    std::string vm_io_error;         // the latest of them: "vm1 vda: enospc"
    std::vector<std::string> vms_paused_on_io_error;  // those paused by an I/O error
    DeviceFate device_fate = DeviceFate::kPresent;
    std::string device_detail;  // what changed: "loop3 was detached from /srv/a.img"

    bool operator==(const StorageFacts&) const = default;
};
// "3 VM I/O errors (latest vm1 vda: eio); paused on I/O error: vm1", or "" when none.
std::string describe_vm_facts(const StorageFacts& facts);

struct Sample {
    TimePoint at;
    KernelEvidence kernel;
    HeartbeatEvidence heartbeat;
    StorageFacts facts;
    bool operator==(const Sample&) const = default;
};

// Per path, the last `capacity` ticks, oldest first.
class EvidenceWindow {
  public:
    explicit EvidenceWindow(std::size_t capacity = 64) : capacity_(capacity) {}

    void push(Sample s);
    bool empty() const { return ticks_.empty(); }
    std::size_t size() const { return ticks_.size(); }
    const Sample& latest() const { return ticks_.back(); }
    const std::deque<Sample>& ticks() const { return ticks_; }

    // Sum over the last `n` ticks (fewer if the window is shorter).
    LatencyHistogram latency_over(std::size_t n) const;
    std::uint64_t completed_over(std::size_t n) const;
    std::uint64_t errors_over(std::size_t n) const;

  private:
    std::size_t capacity_;
    std::deque<Sample> ticks_;
};

}  // namespace iohealth
