#pragma once
// Reading the kernel's text files (/proc/diskstats, mountstats): columns and numbers.
#include <cstdint>
#include <string_view>
#include <vector>

namespace iohealth {

// The fields of `line` separated by runs of spaces and tabs (views into `line`).
std::vector<std::string_view> split_ws(std::string_view line);

// `s` as a whole decimal number; false when it is empty, has anything else or overflows.
bool to_u64(std::string_view s, std::uint64_t& out);

}  // namespace iohealth
