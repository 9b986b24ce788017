#include "ctl/render.h"

#include <time.h>

#include <algorithm>

#include <fmt/format.h>

namespace iohealth::ctl {
namespace {

// "1.50" -> "1.5", "2.00" -> "2".
std::string trimmed(double value, int decimals) {
    std::string s = fmt::format("{:.{}f}", value, decimals);
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    return s;
}

// A slot bound (a power of two in us) in the largest unit that divides it reasonably.
std::string bound(std::uint64_t usec) {
    if (usec < 1000) return fmt::format("{}us", usec);
    if (usec < 1'000'000) return fmt::format("{}ms", trimmed(usec / 1e3, 1));
    if (usec < 60'000'000) return fmt::format("{}s", trimmed(usec / 1e6, 1));
    return fmt::format("{}m", trimmed(usec / 60e6, 0));
}

}  // namespace

std::string human_usec(std::uint64_t usec) {
    if (usec == 0) return "0";
    if (usec < 1000) return fmt::format("{}us", usec);
    if (usec < 1'000'000) return fmt::format("{}ms", trimmed(usec / 1e3, 1));
    if (usec < 60'000'000) return fmt::format("{}s", trimmed(usec / 1e6, 2));
    const std::uint64_t s = usec / 1'000'000;
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string slot_label(int slot, int slots) {
    if (slot == 0) return "0-2us";
    const std::uint64_t lo = std::uint64_t{1} << slot;
    if (slot == slots - 1) return ">=" + bound(lo);
    return bound(lo) + "-" + bound(lo * 2);
}

std::vector<std::string> histogram_bars(const std::vector<std::uint64_t>& slots, int width) {
    const auto nonzero = [](std::uint64_t n) { return n != 0; };
    const auto first = std::find_if(slots.begin(), slots.end(), nonzero);
    if (first == slots.end()) return {"(no completions)"};
    const auto last = std::find_if(slots.rbegin(), slots.rend(), nonzero).base();
    const std::uint64_t peak = *std::max_element(first, last);
    const int n = static_cast<int>(slots.size());
    std::size_t label_width = 0;
    for (auto it = first; it != last; ++it)
        label_width = std::max(label_width, slot_label(int(it - slots.begin()), n).size());
    std::vector<std::string> lines;
    for (auto it = first; it != last; ++it) {
        // Round up: a slot with any completion shows at least one mark.
        const auto len = static_cast<int>((*it * std::uint64_t(width) + peak - 1) / peak);
        lines.push_back(fmt::format("{:>{}} |{:<{}}| {}", slot_label(int(it - slots.begin()), n),
                                    label_width, std::string(std::size_t(len), '#'), width, *it));
    }
    return lines;
}

std::string when(std::uint64_t realtime_usec, std::uint64_t now_usec) {
    if (realtime_usec == 0) return "-";
    const time_t secs = static_cast<time_t>(realtime_usec / 1'000'000);
    tm local{};
    localtime_r(&secs, &local);
    char text[32];
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    const std::string relative = realtime_usec >= now_usec
                                     ? "in " + human_usec(realtime_usec - now_usec)
                                     : human_usec(now_usec - realtime_usec) + " ago";
    return fmt::format("{} ({})", text, relative);
}

}  // namespace iohealth::ctl
