#pragma once
// The fence mode an operator set at run time, and a maintenance window with its end, kept in
// /var/lib/iohealth across restarts and reboots. Wall-clock (CLOCK_REALTIME) times, since a
// window must end at the same moment after a reboot.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/expected.h"
#include "core/mode.h"

namespace iohealth::state {

struct ModeRecord {
    // The configured mode when the record was written: a runtime change outlives restarts,
    // not a change of the configuration made after it.
    Mode configured = Mode::kDryRun;
    std::optional<Mode> runtime;                       // the mode set at run time, if any
    std::optional<std::int64_t> maintenance_until_us;  // CLOCK_REALTIME microseconds
    bool operator==(const ModeRecord&) const = default;
};

nlohmann::json to_json(const ModeRecord& r);
Expected<ModeRecord> mode_record_from_json(const nlohmann::json& j);

// What to keep of the running mode (nullopt: nothing, the configuration applies).
std::optional<ModeRecord> mode_record(const ModeState& mode, Mode configured,
                                      std::optional<std::int64_t> maintenance_until_us);

struct RestoredMode {
    ModeState mode;
    std::string note;  // what was restored or discarded, for the log; empty: nothing kept
};

// The mode to start in from a kept record, the configured mode and the clocks now: a runtime
// change stays unless the configuration changed since; a maintenance window stays until its
// end (converted to the monotonic clock), an ended one is dropped.
RestoredMode restore_mode(const ModeRecord& r, Mode configured, TimePoint now,
                          std::int64_t now_realtime_us);

}  // namespace iohealth::state
