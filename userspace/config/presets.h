#pragma once
// The storage-type presets shipped in policy/presets/*.conf, compiled into the binary so that
// `iohealthd --check-config` gives the same answer from the build tree as when installed.
#include <optional>
#include <string_view>

#include "core/policy.h"

namespace iohealth {

// The INI text of preset `name` ("block", "drbd", "nfs"), or nullopt.
std::optional<std::string_view> preset_text(std::string_view name);

// The preset a path gets when it names none: its storage type.
std::string_view default_preset(PathKind kind);

}  // namespace iohealth
