#include "config/duration.h"

#include <fmt/format.h>
#include <array>
#include <cstdint>
#include <utility>

namespace iohealth {
namespace {

constexpr std::array<std::pair<std::string_view, std::int64_t>, 5> kUnits{{
    {"us", 1},
    {"ms", 1'000},
    {"s", 1'000'000},
    {"m", 60'000'000},
    {"h", 3'600'000'000},
}};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

DurationParse malformed(std::string_view text) {
    return {std::nullopt,
            fmt::format("malformed duration '{}' (expected a number and a unit: us, ms, s, m, h; "
                        "e.g. 500ms or 10s)",
                        text)};
}

DurationParse too_long(std::string_view text) {
    return {std::nullopt,
            fmt::format("duration '{}' exceeds the maximum of {}h", text,
                        std::chrono::duration_cast<std::chrono::hours>(kMaxDuration).count())};
}

}  // namespace

DurationParse parse_duration(std::string_view text) {
    std::size_t i = 0;
    // Integer part, then an optional fraction; digits are accumulated with an overflow guard
    // (anything past 12 integer digits is beyond kMaxDuration in every unit anyway).
    std::int64_t whole = 0;
    std::size_t whole_digits = 0;
    for (; i < text.size() && is_digit(text[i]); ++i, ++whole_digits) {
        if (whole_digits >= 12) return malformed(text);
        whole = whole * 10 + (text[i] - '0');
    }
    std::int64_t frac = 0;
    std::int64_t frac_scale = 1;
    std::size_t frac_digits = 0;
    if (i < text.size() && text[i] == '.') {
        for (++i; i < text.size() && is_digit(text[i]); ++i, ++frac_digits) {
            if (frac_digits >= 9) return malformed(text);
            frac = frac * 10 + (text[i] - '0');
            frac_scale *= 10;
        }
        if (frac_digits == 0) return malformed(text);
    }
    if (whole_digits == 0) return malformed(text);
    const std::string_view unit = text.substr(i);
    if (unit.empty())
        return {std::nullopt,
                fmt::format("duration '{}' has no unit (write {}s or {}ms)", text, text, text)};
    for (const auto& [name, usec] : kUnits) {
        if (unit != name) continue;
        const std::int64_t frac_usec = frac * usec;  // < 1e9 * 3.6e9: fits in int64
        if (frac_usec % frac_scale != 0)
            return {std::nullopt, fmt::format("duration '{}' is finer than a microsecond", text)};
        const std::int64_t max_whole = to_usec(kMaxDuration) / usec;
        const Duration d{whole > max_whole ? to_usec(kMaxDuration) + 1
                                           : whole * usec + frac_usec / frac_scale};
        if (d > kMaxDuration) return too_long(text);
        return {d, {}};
    }
    return malformed(text);
}

}  // namespace iohealth
