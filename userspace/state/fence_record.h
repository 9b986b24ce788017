#pragma once
// The last fence step that rebooted (or was about to reboot) the host, written to
// /var/lib/iohealth before the step runs, so the next boot knows which path it fenced for.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/expected.h"
#include "core/policy.h"

namespace iohealth::state {

struct FenceRecord {
    std::string path;    // the path's configured name
    std::string device;  // "major:minor", empty when unresolved
    Action action = Action::kReboot;
    int step = 0;          // 1-based ladder step
    std::string evidence;  // the verdict's reason when the step started
    std::int64_t at_realtime_us = 0;
    std::string boot_id;  // the boot that fenced
    bool operator==(const FenceRecord&) const = default;
};

nlohmann::json to_json(const FenceRecord& r);
Expected<FenceRecord> fence_record_from_json(const nlohmann::json& j);

}  // namespace iohealth::state
