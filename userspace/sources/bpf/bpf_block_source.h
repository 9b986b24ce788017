#pragma once
// Block-layer evidence from the eBPF probes in bpf/: per device, per CPU counters and log2
// latency histograms aggregated in the kernel, read once per tick. No per-I/O event crosses
// into userspace. Request-based disks are measured at block_rq_complete, bio-based ones (DRBD,
// dm, md, zram) between block_bio_queue and block_bio_complete.
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/histogram.h"
#include "core/source.h"
#include "sources/bpf/bpf_features.h"
#include "sources/bpf/dev_stats.h"
#include "sources/bpf/device_slots.h"
#include "sources/bpf/request_ages.h"

namespace iohealth {

struct BpfOptions {
    // --no-bpf: make() refuses with a reason and the daemon runs degraded
    // (/proc/diskstats and the heartbeat).
    bool disabled = false;
    // Request-based disks: keep every request in an in-flight hash so collect() can report
    // the exact oldest in-flight age. Costs a shared hash update + delete per I/O (measured
    // 360-1000 ns), so off by default: the age ring (bpf/iohealth.h) reports it to 1.07 s.
    bool per_request = false;
    // false: every disk that completes I/O is tracked (up to 256 per family), not only the
    // ones given to set_devices().
    bool filter_devices = true;
    // Load the bio-based family. Skipped (with a note) when the kernel lacks it.
    bool bio_devices = true;
};

// Latency per operation, in the order of bpf/iohealth.h enum ioh_op.
enum class BlockOp { kRead = 0, kWrite = 1, kFlush = 2 };
using PerOpLatency = std::array<LatencyHistogram, 3>;

// What the probes could not account for, summed since load.
struct BpfDiagnostics {
    std::uint64_t inflight_update_failed = 0;  // in-flight table full: those I/Os had no age
    std::uint64_t device_update_failed = 0;    // unfiltered mode: stats table full
    std::uint64_t no_start_time = 0;           // rq completions without rq->start_time_ns
    std::uint64_t stale_purged = 0;            // in-flight entries the kernel said were gone
};

class BpfBlockSource final : public KernelSource {
  public:
    // Either a loaded and attached source, or the reason BPF cannot be used.
    static Expected<std::unique_ptr<BpfBlockSource>> make(const BpfOptions& options = {});

    ~BpfBlockSource() override;
    BpfBlockSource(const BpfBlockSource&) = delete;
    BpfBlockSource& operator=(const BpfBlockSource&) = delete;

    std::string_view name() const override { return "bpf"; }
    // Whole disks are tracked; a partition is measured as its disk. Unknown devices and
    // bio-based ones without the bio family are logged and ignored.
    void set_devices(const std::vector<dev_t>& devices) override;
    std::map<dev_t, KernelEvidence> collect(TimePoint now) override;

    // The per-operation split of the last collect()'s latency for `dev`.
    std::optional<PerOpLatency> per_op_latency(dev_t dev) const;
    BpfDiagnostics diagnostics() const;
    const BpfFeatures& features() const { return features_; }
    // Optional programs that were skipped, each with its reason, for the caller to log.
    const std::vector<std::string>& notes() const { return notes_; }
    // Whether bio-based devices can be measured (the bio probes loaded). Their programs are
    // attached only while a bio-based device is tracked (or in unfiltered mode).
    bool tracks_bio_devices() const;

    // Attached programs, for run-time statistics (tests/bench): name -> fd.
    std::map<std::string, int> program_fds() const;

  private:
    struct Probes;  // the libbpf skeletons, kept out of this header
    using Totals = DevStatsTotals;
    struct Device {
        dev_t disk = 0;
        bool bio_based = false;
        std::optional<std::uint32_t> slot;  // request-based: in the probes' arrays
        std::vector<dev_t> requested;       // the device numbers set_devices() was given
    };
    struct InFlightView {
        std::uint32_t count = 0;
        std::uint64_t oldest_start_ns = 0;
        IoDirection oldest_direction = IoDirection::kRead;
    };

    BpfBlockSource(BpfOptions options, BpfFeatures features, std::unique_ptr<Probes> probes,
                   std::vector<std::string> notes);

    void attach_bio_probes(bool wanted);
    bool age_ring_attached() const;
    std::optional<std::uint32_t> take_rq_slot(std::uint32_t kdev, std::string& failure);
    void free_rq_slot(std::uint32_t slot);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> tracked(int stats_fd,
                                                                 bool bio_based) const;
    void oldest_from_ages(std::uint32_t kdev, std::uint32_t slot, std::uint32_t kernel_in_flight,
                          std::uint64_t read_at_ns, KernelEvidence& ev);
    Totals read_totals(int map_fd, std::uint32_t key) const;
    // `accounted`: the kernel's in-flight count of the devices that do I/O accounting.
    void scan_in_flight(int map_fd, const std::map<std::uint32_t, std::uint32_t>& accounted,
                        std::uint64_t read_at_ns, std::map<std::uint32_t, InFlightView>& out);

    BpfOptions options_;
    BpfFeatures features_;
    std::unique_ptr<Probes> probes_;
    std::vector<std::string> notes_;
    std::map<std::uint32_t, Device> devices_;  // by kernel dev of the whole disk
    DeviceSlots rq_slots_;                     // where request-based disks are in the probes
    // Previous reading per device; a device seen for the first time starts from zero, which
    // is exact because its stats entry was created empty after set_devices() or by the probe.
    std::map<std::uint32_t, Totals> baseline_;
    std::map<std::uint32_t, std::uint32_t> prev_kernel_in_flight_;
    std::map<std::uint32_t, RequestAges> ages_;  // request-based disks, from the age ring
    std::map<dev_t, PerOpLatency> per_op_;
    std::uint64_t stale_purged_ = 0;
    // Reused buffers for the in-flight batch scan.
    std::vector<std::uint64_t> scan_keys_;
    std::vector<std::uint8_t> scan_values_;
};

}  // namespace iohealth
