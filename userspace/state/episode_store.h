#pragma once
// The no-progress episodes under way, kept in memory-backed /run across daemon restarts (never
// on the monitored storage, which may be the very thing that hangs): each path's episode start,
// the ladder step it reached and when the next is due, in CLOCK_MONOTONIC microseconds, valid
// only within the boot that wrote them (hence the boot id).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/escalation.h"
#include "core/expected.h"
#include "core/time.h"

namespace iohealth::state {

struct EpisodeRecord {
    std::string path;    // the path's configured name
    std::string device;  // "major:minor" when the record was written
    TimePoint since;     // the episode's start (no progress since)
    std::optional<LadderPosition> ladder;
    TimePoint updated;  // last tick the daemon saw the episode still under way
    bool operator==(const EpisodeRecord&) const = default;
};

struct EpisodeFile {
    std::string boot_id;  // /proc/sys/kernel/random/boot_id of the writer
    std::vector<EpisodeRecord> episodes;
    bool operator==(const EpisodeFile&) const = default;
};

nlohmann::json to_json(const EpisodeFile& f);
Expected<EpisodeFile> episode_file_from_json(const nlohmann::json& j);

// Why `r` cannot be resumed by this daemon, or nullopt when it can: written in another boot,
// the path's device is another one now, a time in the future, or a gap since its last update
// longer than `dead_after` (the path may have served I/O while no daemon watched it).
std::optional<std::string> stale_reason(const EpisodeRecord& r, const std::string& written_boot,
                                        const std::string& boot_id, const std::string& device,
                                        TimePoint now, Duration dead_after);

}  // namespace iohealth::state
