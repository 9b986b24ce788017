#pragma once
// A small JSON state file: written atomically (a temporary file in the same directory, fsync,
// rename over the old one, fsync of the directory), so a crash or a power cut leaves either the
// old file or the new one, never a mix; read back as a value or the reason it cannot be.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/expected.h"

namespace iohealth::state {

// Writes `value` to `file`; the reason on failure (empty on success). Creates the directory.
std::string write_json_file(const std::filesystem::path& file, const nlohmann::json& value);

// The file's JSON object; nullopt when it does not exist, a failure when it cannot be read or
// is not a JSON object (truncated, corrupt).
Expected<std::optional<nlohmann::json>> read_json_file(const std::filesystem::path& file);

// Removes the file if present; the reason on failure (empty on success or when absent).
std::string remove_file(const std::filesystem::path& file);

}  // namespace iohealth::state
