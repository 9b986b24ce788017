#include "sources/block/diskstats_source.h"

#include <sys/sysmacros.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "os/text.h"

namespace iohealth {
namespace {

// Columns: major minor name F1..F11 [F12..F15 since 4.18] [F16 F17 since 5.5].
constexpr std::size_t kMinColumns = 3 + 11;
constexpr std::size_t kDiscardColumns = 3 + 15;
constexpr std::size_t kFlushColumns = 3 + 17;
constexpr std::uint64_t kSectorBytes = 512;
// Counts are `unsigned long` in the kernel: the daemon runs on the kernel's own ABI.
constexpr int kCountBits = std::numeric_limits<unsigned long>::digits;
constexpr int kMsBits = 32;  // printed with %u, see DiskstatsRecord
// Bounded so that a file full of junk cannot grow memory without limit.
constexpr std::size_t kMaxWarnedLines = 64;

bool parse_line(std::string_view line, DiskstatsRecord& rec) {
    const auto cols = split_ws(line);
    if (cols.size() < kMinColumns) return false;
    std::uint64_t major_no = 0, minor_no = 0;
    if (!to_u64(cols[0], major_no) || !to_u64(cols[1], minor_no)) return false;
    std::vector<std::uint64_t> f(cols.size() - 2);  // f[1] is F1: iostats numbering
    for (std::size_t c = 3; c < cols.size(); ++c)
        if (!to_u64(cols[c], f[c - 2])) return false;
    rec.dev = makedev(static_cast<unsigned>(major_no), static_cast<unsigned>(minor_no));
    rec.name = std::string(cols[2]);
    rec.reads = f[1];
    rec.sectors_read = f[3];
    rec.ms_reading = f[4];
    rec.writes = f[5];
    rec.sectors_written = f[7];
    rec.ms_writing = f[8];
    rec.in_flight = f[9];
    if (cols.size() >= kDiscardColumns) {
        rec.discards = f[12];
        rec.ms_discarding = f[15];
    }
    if (cols.size() >= kFlushColumns) {
        rec.flushes = f[16];
        rec.ms_flushing = f[17];
    }
    return true;
}

}  // namespace

DiskstatsParse parse_diskstats(std::string_view text) {
    DiskstatsParse out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        DiskstatsRecord rec;
        if (parse_line(line, rec))
            out.records.push_back(std::move(rec));
        else
            out.skipped.emplace_back(line);
    }
    return out;
}

std::uint64_t counter_delta(std::uint64_t prev, std::uint64_t cur, int bits) {
    if (cur >= prev) return cur - prev;
    if (bits < 64) {
        const std::uint64_t range = std::uint64_t{1} << bits;
        if (prev < range && prev >= range / 2) return range - prev + cur;  // wrapped
    }
    return cur;  // reset: a new device behind the same number
}

KernelEvidence diskstats_delta(const DiskstatsRecord& prev, const DiskstatsRecord& cur) {
    const auto count = [](std::uint64_t p, std::uint64_t c) {
        return counter_delta(p, c, kCountBits);
    };
    const auto ms = [](std::uint64_t p, std::uint64_t c) { return counter_delta(p, c, kMsBits); };

    KernelEvidence ev;
    ev.available = true;
    ev.completed = count(prev.reads, cur.reads) + count(prev.writes, cur.writes) +
                   count(prev.discards, cur.discards) + count(prev.flushes, cur.flushes);
    // Discarded sectors are not data moved, so they are not bytes.
    ev.bytes = (count(prev.sectors_read, cur.sectors_read) +
                count(prev.sectors_written, cur.sectors_written)) *
               kSectorBytes;
    ev.in_flight = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(cur.in_flight, std::numeric_limits<std::uint32_t>::max()));
    // No "issued" counter exists; every request started is either completed or still in
    // flight, so started = completed + growth of in-flight (merges aside).
    const auto started = static_cast<std::int64_t>(ev.completed) +
                         static_cast<std::int64_t>(cur.in_flight) -
                         static_cast<std::int64_t>(prev.in_flight);
    ev.issued = started > 0 ? static_cast<std::uint64_t>(started) : 0;
    // APPROXIMATION: diskstats has only the total time the completed requests spent, so
    // every completion of the tick is put in the slot of their average latency. The shape of
    // the real distribution (a slow tail among fast requests) is lost; only the mean survives.
    if (ev.completed > 0) {
        const std::uint64_t spent_ms =
            ms(prev.ms_reading, cur.ms_reading) + ms(prev.ms_writing, cur.ms_writing) +
            ms(prev.ms_discarding, cur.ms_discarding) + ms(prev.ms_flushing, cur.ms_flushing);
        const auto avg_us = static_cast<std::int64_t>(spent_ms * 1000 / ev.completed);
        ev.latency.add(Duration{avg_us}, ev.completed);
    }
    // Errors: /proc/diskstats has no error counters at all; they stay zero.
    return ev;
}

DiskstatsSource::DiskstatsSource(std::string path) : path_(std::move(path)) {}

void DiskstatsSource::set_devices(const std::vector<dev_t>& devices) {
    devices_ = std::set<dev_t>(devices.begin(), devices.end());
}

void DiskstatsSource::warn_once(const std::string& line) {
    if (warned_.size() >= kMaxWarnedLines || !warned_.insert(line).second) return;
    spdlog::warn("Failed to parse a line of '{}': \"{}\", ignoring", path_, line);
}

std::map<dev_t, KernelEvidence> DiskstatsSource::collect(TimePoint /*now*/) {
    std::ifstream in(path_);
    if (!in) {
        spdlog::warn("Failed to open '{}', no diskstats evidence this tick", path_);
        return {};
    }
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = parse_diskstats(text.str());
    for (const auto& line : parsed.skipped) warn_once(line);

    std::map<dev_t, KernelEvidence> out;
    std::map<dev_t, DiskstatsRecord> current;
    for (auto& rec : parsed.records) {
        if (!wanted(rec.dev)) continue;
        const auto prev = previous_.find(rec.dev);
        // First sight: the record is its own baseline, so every delta is zero.
        out[rec.dev] = diskstats_delta(prev != previous_.end() ? prev->second : rec, rec);
        current[rec.dev] = std::move(rec);
    }
    previous_ = std::move(current);  // a vanished device drops out of both
    return out;
}

}  // namespace iohealth
