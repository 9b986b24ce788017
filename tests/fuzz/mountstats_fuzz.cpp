// libFuzzer target for /proc/self/mountstats (sources/nfs/nfs_mountstats.h): any text parses
// without a throw, crash or sanitizer report, and the data-op totals of every mount add up.
#include <cstdint>
#include <string_view>

#include "sources/nfs/nfs_mountstats.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const iohealth::MountstatsParse parsed = iohealth::parse_mountstats(text);
    for (const auto& m : parsed.mounts) (void)iohealth::data_op_totals(m);
    (void)iohealth::unescape_mount_field(text.substr(0, 256));
    return 0;
}
