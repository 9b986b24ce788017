#pragma once
// /proc/diskstats as a KernelSource: the witness that works everywhere (no BPF needed), and
// the whole of the kernel evidence in degraded mode. Field numbers follow
// Documentation/admin-guide/iostats.rst (F1 = the first value after the device name).
//
// What it cannot give: errors (diskstats has no error counters, so ErrorCounts stay zero),
// per-request latency (only an average per tick, see collect()), the age of the oldest
// request, and the exact time of the last completion.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/source.h"

namespace iohealth {

// The fields of one /proc/diskstats line that the source uses.
struct DiskstatsRecord {
    dev_t dev = 0;
    std::string name;
    // F1, F5, F12, F16: reads, writes, discards, flushes completed. Discards (4.18+) and
    // flushes (5.5+) are zero on kernels that do not print them.
    std::uint64_t reads = 0, writes = 0, discards = 0, flushes = 0;
    // F3, F7: 512-byte sectors read and written (always 512, whatever the block size).
    std::uint64_t sectors_read = 0, sectors_written = 0;
    // F4, F8, F15, F17: milliseconds spent, summed over requests. The kernel prints these as
    // 32-bit unsigned (block/genhd.c diskstats_show(): "(unsigned int)div_u64(...)"), so they
    // wrap after 2^32 ms of accumulated request time, which a busy disk reaches in weeks.
    std::uint64_t ms_reading = 0, ms_writing = 0, ms_discarding = 0, ms_flushing = 0;
    std::uint64_t in_flight = 0;  // F9: a gauge, not a counter
};

struct DiskstatsParse {
    std::vector<DiskstatsRecord> records;
    std::vector<std::string> skipped;  // lines that did not parse, verbatim
};

// Parses the text of /proc/diskstats. A line with fewer than 14 columns (11 values, the
// pre-4.18 layout), a non-numeric major/minor or value, is skipped and returned in
// `skipped`; nothing throws.
DiskstatsParse parse_diskstats(std::string_view text);

// `cur - prev` for a kernel counter printed with `bits` bits, telling a wrap from a reset:
// a counter that went down from the top half of its range wrapped; one that went down from
// lower is a new device under the same major:minor (counters restart at zero), and the
// whole of `cur` is new. 64-bit counters do not wrap in practice.
std::uint64_t counter_delta(std::uint64_t prev, std::uint64_t cur, int bits);

// The evidence for one device between two readings (see collect() for the approximations).
KernelEvidence diskstats_delta(const DiskstatsRecord& prev, const DiskstatsRecord& cur);

class DiskstatsSource final : public KernelSource {
  public:
    explicit DiskstatsSource(std::string path = "/proc/diskstats");

    std::string_view name() const override { return "diskstats"; }
    // An empty list means every device in the file (partitions included).
    void set_devices(const std::vector<dev_t>& devices) override;
    // One read of the file. A device seen for the first time gets zero deltas (its
    // baseline); an unreadable file yields an empty map and a warning.
    std::map<dev_t, KernelEvidence> collect(TimePoint now) override;

  private:
    bool wanted(dev_t dev) const { return devices_.empty() || devices_.contains(dev); }
    void warn_once(const std::string& line);

    std::string path_;
    std::set<dev_t> devices_;
    std::map<dev_t, DiskstatsRecord> previous_;
    std::set<std::string> warned_;  // odd lines already logged: one warning each, not per tick
};

}  // namespace iohealth
