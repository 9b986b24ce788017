#include "state/episode_store.h"

#include <fmt/format.h>

namespace iohealth::state {

nlohmann::json to_json(const EpisodeFile& f) {
    nlohmann::json episodes = nlohmann::json::array();
    for (const auto& e : f.episodes) {
        nlohmann::json j = {{"path", e.path},
                            {"device", e.device},
                            {"since_usec", to_usec(e.since)},
                            {"updated_usec", to_usec(e.updated)}};
        if (e.ladder) {
            j["ladder_step"] = e.ladder->step;
            j["next_step_usec"] = to_usec(e.ladder->next_at);
        }
        episodes.push_back(std::move(j));
    }
    return {{"version", 1}, {"boot_id", f.boot_id}, {"episodes", std::move(episodes)}};
}

Expected<EpisodeFile> episode_file_from_json(const nlohmann::json& j) {
    try {
        if (j.at("version").get<int>() != 1)
            return Expected<EpisodeFile>::failure(
                fmt::format("unknown version {}", j.at("version").dump()));
        EpisodeFile f;
        f.boot_id = j.at("boot_id").get<std::string>();
        for (const auto& e : j.at("episodes")) {
            EpisodeRecord r;
            r.path = e.at("path").get<std::string>();
            r.device = e.at("device").get<std::string>();
            r.since = from_usec(e.at("since_usec").get<std::int64_t>());
            r.updated = from_usec(e.at("updated_usec").get<std::int64_t>());
            if (e.contains("ladder_step"))
                r.ladder = LadderPosition{e.at("ladder_step").get<int>(),
                                          from_usec(e.at("next_step_usec").get<std::int64_t>())};
            f.episodes.push_back(std::move(r));
        }
        return f;
    } catch (const nlohmann::json::exception& e) {
        return Expected<EpisodeFile>::failure(
            fmt::format("malformed episode record: {}", e.what()));
    }
}

std::optional<std::string> stale_reason(const EpisodeRecord& r, const std::string& written_boot,
                                        const std::string& boot_id, const std::string& device,
                                        TimePoint now, Duration dead_after) {
    if (written_boot != boot_id)
        return fmt::format("written before a reboot (boot {}, now {})", written_boot, boot_id);
    if (r.device != device)
        return fmt::format("the path's device changed (was {}, now {})", r.device,
                           device.empty() ? "unresolved" : device);
    if (r.since > now || r.updated > now || r.since > r.updated)
        return "its times are later than now (not this boot's clock)";
    if (now - r.updated > dead_after)
        return fmt::format(
            "last seen {} ago, longer than dead_after {}: the path may have served "
            "I/O unwatched",
            format_duration(now - r.updated), format_duration(dead_after));
    return std::nullopt;
}

}  // namespace iohealth::state
