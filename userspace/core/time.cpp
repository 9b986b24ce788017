#include "core/time.h"

#include <fmt/format.h>
#include <ctime>

namespace iohealth {

TimePoint SteadyClock::now() const {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return from_usec(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
}

std::string format_duration(Duration d) {
    const auto us = d.count();
    if (us % 1'000'000 == 0) return fmt::format("{}s", us / 1'000'000);
    if (us >= 1'000'000 || us <= -1'000'000) return fmt::format("{:.3f}s", us / 1e6);
    if (us % 1000 == 0) return fmt::format("{}ms", us / 1000);
    if (us >= 1000 || us <= -1000) return fmt::format("{:.3f}ms", us / 1e3);
    return fmt::format("{}us", us);
}

std::string format_seconds(TimePoint t) {
    return fmt::format("{:.3f}", to_usec(t) / 1e6);
}

}  // namespace iohealth
