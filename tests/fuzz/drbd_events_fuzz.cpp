// libFuzzer target for `drbdsetup events2` output (sources/drbd/drbd_events.h): any text, line
// by line as the DRBD source applies it, never throws, crashes or trips a sanitizer; every odd
// line is reported, at most one error per line.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "sources/drbd/drbd_events.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    iohealth::DrbdState state;
    const auto errors = state.apply_text(text);
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    if (errors.size() > lines) {
        std::fprintf(stderr, "drbd_events_fuzz: %zu errors for %zu lines\n", errors.size(), lines);
        std::abort();
    }
    for (const auto& [name, r] : state.resources()) (void)r.io_suspended();
    return 0;
}
