#include "state/fence_record.h"

#include <fmt/format.h>

namespace iohealth::state {

nlohmann::json to_json(const FenceRecord& r) {
    return {{"version", 1},
            {"path", r.path},
            {"device", r.device},
            {"action", std::string(to_string(r.action))},
            {"step", r.step},
            {"evidence", r.evidence},
            {"at_realtime_usec", r.at_realtime_us},
            {"boot_id", r.boot_id}};
}

Expected<FenceRecord> fence_record_from_json(const nlohmann::json& j) {
    try {
        if (j.at("version").get<int>() != 1)
            return Expected<FenceRecord>::failure(
                fmt::format("unknown version {}", j.at("version").dump()));
        FenceRecord r;
        r.path = j.at("path").get<std::string>();
        r.device = j.at("device").get<std::string>();
        const auto action = action_from_string(j.at("action").get<std::string>());
        if (!action)
            return Expected<FenceRecord>::failure("unknown action " + j.at("action").dump());
        r.action = *action;
        r.step = j.at("step").get<int>();
        r.evidence = j.at("evidence").get<std::string>();
        r.at_realtime_us = j.at("at_realtime_usec").get<std::int64_t>();
        r.boot_id = j.at("boot_id").get<std::string>();
        return r;
    } catch (const nlohmann::json::exception& e) {
        return Expected<FenceRecord>::failure(fmt::format("malformed fence record: {}", e.what()));
    }
}

}  // namespace iohealth::state
