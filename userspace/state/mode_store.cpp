#include "state/mode_store.h"

#include <fmt/format.h>

namespace iohealth::state {

nlohmann::json to_json(const ModeRecord& r) {
    nlohmann::json j = {{"version", 1}, {"configured", std::string(to_string(r.configured))}};
    if (r.runtime) j["runtime"] = std::string(to_string(*r.runtime));
    if (r.maintenance_until_us) j["maintenance_until_realtime_usec"] = *r.maintenance_until_us;
    return j;
}

Expected<ModeRecord> mode_record_from_json(const nlohmann::json& j) {
    try {
        if (j.at("version").get<int>() != 1)
            return Expected<ModeRecord>::failure(
                fmt::format("unknown version {}", j.at("version").dump()));
        const auto mode = [](const nlohmann::json& v) {
            const auto m = mode_from_string(v.get<std::string>());
            if (!m) throw std::invalid_argument("unknown mode " + v.dump());
            return *m;
        };
        ModeRecord r;
        r.configured = mode(j.at("configured"));
        if (j.contains("runtime")) r.runtime = mode(j.at("runtime"));
        if (j.contains("maintenance_until_realtime_usec"))
            r.maintenance_until_us = j.at("maintenance_until_realtime_usec").get<std::int64_t>();
        return r;
    } catch (const std::exception& e) {
        return Expected<ModeRecord>::failure(fmt::format("malformed mode record: {}", e.what()));
    }
}

std::optional<ModeRecord> mode_record(const ModeState& mode, Mode configured,
                                      std::optional<std::int64_t> maintenance_until_us) {
    if (mode.source() == ModeSource::kConfig && !maintenance_until_us) return std::nullopt;
    ModeRecord r;
    r.configured = configured;
    if (mode.source() == ModeSource::kRuntime) r.runtime = mode.base();
    r.maintenance_until_us = maintenance_until_us;
    return r;
}

RestoredMode restore_mode(const ModeRecord& r, Mode configured, TimePoint now,
                          std::int64_t now_realtime_us) {
    RestoredMode out{ModeState(configured), ""};
    std::string base_note;
    Mode base = configured;
    ModeSource source = ModeSource::kConfig;
    if (r.runtime && r.configured != configured) {
        base_note = fmt::format(
            "runtime mode {} discarded: the configured mode changed from {} to {} since",
            to_string(*r.runtime), to_string(r.configured), to_string(configured));
    } else if (r.runtime) {
        base = *r.runtime;
        source = ModeSource::kRuntime;
        base_note = fmt::format("runtime mode {} kept", to_string(base));
    }
    std::optional<TimePoint> until;
    std::string window_note;
    if (r.maintenance_until_us) {
        const Duration left{*r.maintenance_until_us - now_realtime_us};
        if (left > Duration{0}) {
            until = now + left;
            window_note = fmt::format("maintenance kept, {} left", format_duration(left));
        } else {
            window_note = fmt::format("maintenance ended {} ago, re-armed", format_duration(-left));
        }
    }
    out.mode = ModeState(base, source, until);
    out.note = base_note;
    if (!window_note.empty()) out.note += (out.note.empty() ? "" : "; ") + window_note;
    return out;
}

}  // namespace iohealth::state
