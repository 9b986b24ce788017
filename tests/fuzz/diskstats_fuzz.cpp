// libFuzzer target for /proc/diskstats (sources/block/diskstats_source.h): any text parses
// without a throw, crash or sanitizer report, and the delta between any two records of it
// (a device's counters going up, wrapping or restarting) is computed without overflow traps.
#include <cstdint>
#include <string_view>

#include "sources/block/diskstats_source.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const iohealth::DiskstatsParse parsed = iohealth::parse_diskstats(text);
    for (std::size_t i = 0; i + 1 < parsed.records.size(); ++i)
        (void)iohealth::diskstats_delta(parsed.records[i], parsed.records[i + 1]);
    return 0;
}
