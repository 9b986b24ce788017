#pragma once
// Reading one configuration file whole, or saying why not: only a regular file (or a symbolic
// link to one) of at most kMaxConfigFileBytes is read. A FIFO would block the daemon's start,
// /dev/zero would be read until memory runs out, a directory or a dangling link would be
// skipped without a word.
#include <cstddef>
#include <filesystem>
#include <string>

#include "core/expected.h"

namespace iohealth {

// Far above any real configuration (the shipped default with every comment is ~10 KiB).
inline constexpr std::size_t kMaxConfigFileBytes = 1024 * 1024;

// The file's text, or why it cannot be read ("not a regular file (a FIFO)", ...).
Expected<std::string> read_config_file(const std::filesystem::path& file);

}  // namespace iohealth
