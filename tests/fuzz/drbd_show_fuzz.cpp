// libFuzzer target for `drbdsetup show --show-defaults` output (sources/drbd/drbd_show.h):
// any text parses without a throw, crash or sanitizer report.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sources/drbd/drbd_show.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> errors;
    const auto configs = iohealth::parse_drbd_show(text, errors);
    for (const auto& c : configs) (void)c.name.size();
    return 0;
}
