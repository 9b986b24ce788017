#pragma once
// enum <-> string through one constexpr table per enum (systemd's string-table idea).
#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace iohealth {

template <typename E, std::size_t N>
using EnumTable = std::array<std::pair<E, std::string_view>, N>;

template <typename E, std::size_t N>
constexpr std::string_view enum_name(const EnumTable<E, N>& table, E value) {
    for (const auto& [v, name] : table)
        if (v == value) return name;
    return "invalid";
}

template <typename E, std::size_t N>
constexpr std::optional<E> enum_value(const EnumTable<E, N>& table, std::string_view s) {
    for (const auto& [v, name] : table)
        if (name == s) return v;
    return std::nullopt;
}

}  // namespace iohealth
